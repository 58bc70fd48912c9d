"""Claim families a marketer's audit found let through (prices, ranks, deadlines, deals,
free shipping...), spacing variants of banned phrases, and product names masked out of the
claim checks (a name the brand wrote is not a claim of the ad)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from creative import Audience
from creative.brand import DEFAULT_KIT
from creative.catalogue import read_catalogue
from creative.components import AXES, component_axes, compose
from creative.generate import generate_for_user
from creative.guardrails import (
    check_creative,
    find_banned_claims,
    find_unsupported_claims,
    mask_name,
)
from creative.templates import load_templates
from creative.vocabulary import INTEREST_KEYWORDS, LANGUAGES

#: (text, kind) each family must find with no offer and an empty kit.
FAMILIES = [
    ("The best price online", "price"),
    ("Lowest price ever", "price"),
    ("Cheapest in town", "price"),
    ("Unbeatable prices on tents", "price"),
    ("최저가 보장 없이도 좋은 가격", "price"),
    ("역대 최저 캣타워", "price"),
    ("Number 1 for runners", "rank"),
    ("The number-one pick", "rank"),
    ("#1 in Seoul", "rank"),
    ("1등 세럼", "rank"),
    ("인기 1위", "rank"),
    ("Sale ends Sunday", "deadline"),
    ("Last day!", "deadline"),
    ("Offer ends this weekend", "deadline"),
    ("마지막 기회", "deadline"),
    ("오늘 자정 마감", "deadline"),
    ("3일 남았어요", "deadline"),
    ("Only a few left", "scarcity"),
    ("Just 4 pairs left", "scarcity"),
    ("품절 임박", "scarcity"),
    ("Loved by thousands", "popularity"),
    ("Over a million sold", "popularity"),
    ("A fan favourite", "popularity"),
    ("완판 세럼", "popularity"),
    ("인기 폭발 텐트", "popularity"),
    ("Risk free trial", "guarantee"),
    ("Money-back promise", "guarantee"),
    ("Save $10 today", "deal"),
    ("Save 15 on boots", "deal"),
    ("Half price", "deal"),
    ("Buy one, get one free", "deal"),
    ("BOGO on socks", "deal"),
    ("5,000원 할인", "deal"),
    ("반값 세일", "deal"),
    ("1+1 이벤트", "deal"),
    ("Free shipping on every order", "shipping"),
    ("Ships free", "shipping"),
    ("무료 배송", "shipping"),
    ("배송비 무료", "shipping"),
]

#: Copy near each family that claims nothing.
NEAR_MISSES = [
    "Prices and terms on our site",
    "Save time on meal prep",
    "Save on Trail Runners with 10% off",
    "Ships in two days",
    "Last year's favourite, refreshed",
    "Lowest heel in the range",
    "Best for beginners",
    "Free returns within 30 days",
    "Number of pockets: 4",
    "Free app for budgeting",
    "콜드브루 원액 한눈에 보기",
    "1인용 텐트, 지금 10% 할인",
    "배송 조건은 사이트에서 확인하세요",
    "인기 있는 이유를 확인하세요",
    "오늘은 10% 할인, 일주일 내내 기분 좋게.",
]


@pytest.fixture
def good(gamers):
    c = generate_for_user(gamers, np.random.default_rng(0), offer="discount_10", tone="premium")
    assert c.guardrail.passed, c.guardrail
    return c


@pytest.mark.parametrize(("text", "kind"), FAMILIES)
def test_each_family_is_found_and_rejected(good, text, kind):
    found = find_unsupported_claims(text, offer="none")
    assert kind in [k for k, _ in found], found
    verdict = check_creative(dataclasses.replace(good, body=text))
    assert "unsupported_claim" in verdict.rules, verdict


@pytest.mark.parametrize(("text", "kind"), [f for f in FAMILIES if f[1] != "shipping"])
def test_a_declared_phrase_backs_each_family(text, kind):
    kit = dataclasses.replace(DEFAULT_KIT, claims=(text,))
    assert find_unsupported_claims(text, kit=kit) == ()


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_pass(text):
    assert find_unsupported_claims(text, offer="discount_10") == ()


@pytest.mark.parametrize("text", ["Free shipping on Trail Runners", "트레일 러너 무료 배송"])
def test_free_shipping_is_the_offer_s_on_a_product_that_ships(good, text):
    assert find_unsupported_claims(text, offer="free_shipping", category="outdoors") == ()
    assert find_unsupported_claims(text, offer="free_shipping", category="finance")
    assert find_unsupported_claims(text, offer="discount_10", category="outdoors")
    # Through the creative: its own offer and category decide.
    ships = dataclasses.replace(good, body=text, offer="free_shipping", category="outdoors")
    assert check_creative(ships).passed, check_creative(ships)
    app = dataclasses.replace(
        good,
        product="Budget Planner App",
        category="finance",
        offer="free_shipping",
        headline="Budget Planner App: free shipping on every order",
    )
    assert "shipping 'free shipping'" in " ".join(check_creative(app).reasons)


@pytest.mark.parametrize("text", ["Risk free", "RISK  free", "riskfree", "Risk\u2011free"])
def test_banned_phrases_match_across_spaces_and_hyphens(text):
    assert find_banned_claims(f"Try it {text} today", DEFAULT_KIT.banned_claims) == ("risk-free",)


def test_banned_phrases_keep_their_word_boundaries():
    assert find_banned_claims("A secure checkout", DEFAULT_KIT.banned_claims) == ()
    assert find_banned_claims("1+1 deal", ("1+1",)) == ("1+1",)
    assert find_banned_claims("11 deal", ("1+1",)) == ()


def test_claims_in_a_user_template_file_are_rejected(tmp_path, gamers):
    # The audit's file: load_templates reads it (it checks form, not claims); every creative
    # made from it is rejected by the guardrails, naming each claim.
    path = tmp_path / "t.toml"
    path.write_text(
        "[en.informative]\n"
        'headline = ["{product}: the best price online"]\n'
        'body = ["Save $10 on {product}. Last day!"]\n'
        'cta = ["Learn more"]\n',
        encoding="utf-8",
    )
    templates = load_templates(path)
    c = generate_for_user(
        gamers, np.random.default_rng(0), tone="informative", offer="none", templates=templates
    )
    assert not c.guardrail.passed
    text = " ".join(c.guardrail.reasons)
    for kind, claim in (("price", "best price"), ("deal", "$10"), ("deadline", "Last day")):
        assert f"{kind} {claim!r}" in text, text


NAMES = ("Daily Sunscreen SPF 50+", "4K Webcam", "Puzzle for Ages 3+", "100% Cotton Tee")


def test_mask_name_masks_every_occurrence_in_any_case():
    assert mask_name("4k webcam or 4K Webcam?", "4K Webcam").count("\ue000") == 2
    assert mask_name("Meet 4K Webcam", None) == "Meet 4K Webcam"
    assert mask_name("Meet 4K Webcam", " ") == "Meet 4K Webcam"


@pytest.mark.parametrize("name", NAMES)
def test_a_product_s_own_name_is_not_a_claim(good, name):
    c = dataclasses.replace(good, product=name, headline=f"{name}: what you need to know")
    assert check_creative(c).passed, check_creative(c)
    # The copy around the name is still checked: masking is of the name, not the copy.
    bad = dataclasses.replace(c, body=f"Save $10 on {name}. 100% guaranteed.")
    assert {"banned_claim", "unsupported_claim"} <= set(check_creative(bad).rules)
    # And the name is masked only for that creative's own product.
    other = dataclasses.replace(c, product="Canvas Sneakers")
    assert not check_creative(other).passed


def test_every_valid_composition_passes_with_numbered_names(tmp_path, rng, random_valid):
    # The documented promise, with a catalogue whose names hold numbers, "+" and "100%".
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "name,category,price,name_ko\n"
        "Daily Sunscreen SPF 50+,beauty,18,데일리 선크림 SPF 50+\n"
        "4K Webcam,tech,89,4K 웹캠\n"
        "Puzzle for Ages 3+,kids,15,3세 이상 퍼즐\n"
        "100% Cotton Tee,fashion,25,면 100% 티셔츠\n",
        encoding="utf-8",
    )
    catalogue = read_catalogue(path)
    axes = component_axes(catalogue=catalogue)
    combos = random_valid(axes, 300, rng)
    for i, combo in enumerate(combos):
        lang = LANGUAGES[i % 2]
        user = Audience(
            kind="user",
            audience_id=f"u{i}",
            name=f"u{i}",
            top_interests=("tech",),
            keywords=(INTEREST_KEYWORDS["tech"][0],),
            active_hours="evening",
            language=lang,
        )
        creative = compose(combo, user, catalogue=catalogue)
        assert creative.guardrail.passed, (combo, creative.guardrail.reasons)
    # The audit's own composition: the second product with the fourth tone.
    assert AXES[:2] == ("product", "tone")
