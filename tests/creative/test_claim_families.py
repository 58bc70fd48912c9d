"""Claim families a marketer's audit found let through (prices, ranks, deadlines, deals,
free shipping...), spacing variants of banned phrases, and product names masked out of the
claim checks (a name the brand wrote is not a claim of the ad)."""

from __future__ import annotations

import dataclasses
import itertools

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
    # The second audit: word orders, scopes and families that got through.
    ("65W USB-C Charger: only today", "deadline"),
    ("Just for tonight", "deadline"),
    ("오늘 하루만, 무게조절 덤벨", "deadline"),
    # 오늘만 whatever follows it but 큼 (오늘만큼은 is a near miss below).
    ("오늘만 특가", "deadline"),
    ("오늘만이에요, 캣타워", "deadline"),
    ("오늘 하루만", "deadline"),
    ("기간 한정 혜택", "deadline"),
    ("Limited edition", "scarcity"),
    ("A limited-release colour", "scarcity"),
    ("스마트워치 S2 한정판", "scarcity"),
    ("The world's best Denim Jacket", "superlative"),
    ("The world\u2019s first smart scale", "superlative"),
    ("Best in class comfort", "superlative"),
    ("국내 최고의 벨벳 립 틴트", "superlative"),
    ("업계 최초 기술", "superlative"),
    ("Canvas Sneakers, trusted by millions", "popularity"),
    ("Worn by millions", "popularity"),
    ("많은 분들이 선택한 텐트", "popularity"),
    ("No side effects", "health"),
    ("Clears up acne in days", "health"),
    ("Relieves back pain", "health"),
    ("캔버스 스니커즈 부작용 없음", "health"),
    ("주름 개선 크림", "health"),
    ("FDA cleared", "endorsement"),
    ("UL listed charger", "endorsement"),
    ("Patented design", "endorsement"),
    ("식약처 인증 세럼", "endorsement"),
    ("Sold 10,000", "count"),
    ("Sold over 2k", "count"),
    ("Get it for free", "free"),
    ("Start a free trial", "free"),
    ("Free of charge", "free"),
    ("At no extra cost", "free"),
    ("No hidden fees", "free"),
    ("무료로 받아 가세요", "free"),
    ("사은품 증정", "free"),
    # The third audit: delivery speed, which no offer makes and a brand declares only if
    # its carrier keeps it. "Ships in two days" was a near miss before (decided 2026-12-05).
    ("Arrives tomorrow", "delivery"),
    ("Next-day delivery", "delivery"),
    ("Same-day shipping", "delivery"),
    ("Delivered in 24 hours", "delivery"),
    ("24-hour delivery", "delivery"),
    ("3-day shipping", "delivery"),
    ("Ships in two days", "delivery"),
    ("Express shipping on every order", "delivery"),
    ("At your door by tomorrow", "delivery"),
    ("Delivery within 2 business days", "delivery"),
    ("내일 도착", "delivery"),
    ("당일 배송", "delivery"),
    ("익일 배송", "delivery"),
    ("새벽 배송으로 받아 보세요", "delivery"),
    ("오늘 주문하면 내일 받아보세요", "delivery"),
    ("3일 이내 배송", "delivery"),
    ("빠른 배송", "delivery"),
]

#: Copy near each family that claims nothing.
NEAR_MISSES = [
    "Prices and terms on our site",
    "Save time on meal prep",
    "Save on Trail Runners with 10% off",
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
    # Near the second audit's families, claiming nothing (decided, see
    # docs/claims-and-disclosure.md): a bare "best" is not a superlative over a field, "free"
    # inside a compound or an idiom is not a price, 최대 is "up to", 하루만에 is speed.
    "Your best self, every morning",
    "Feel free to explore",
    "Sugar-free and hands-free",
    "Free time, well spent",
    "Limited colours this season? Not here.",
    "A curated pick for your desk",
    "Treats your dog will love",
    "Cleared for take-off: travel essentials",
    "Sold separately: the charging case",
    "Fights stains, not your schedule",
    "No charge? No problem.",
    "Delivered 2 days early",
    "최대 10% 할인",
    "하루만에 익숙해지는 앱",
    # 만큼 is "as much as": 오늘만큼은 is "today, at least", no deadline.
    "오늘만큼은 나를 위해 쉬어 가세요",
    "오늘 하루만큼은 푹 쉬세요",
    "오늘만큼 편한 날",
    "제일 좋아하는 색으로",
    "부담 없이 시작해 보세요",
    # Near delivery speed: delivery without a time, a time without delivery.
    "Delivery details at checkout",
    "Tomorrow's look, today",
    "Ready for tomorrow",
    "Arrives in style",
    "Shipping to 30 countries",
    "Deliver results, not excuses",
    "Fast charging, all day",
    "Your next day off, sorted",
    "내일의 나를 위한 선택",
    "오늘 받은 칭찬, 내일도",
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


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Packing Cube Set cures breakouts", "cure"),
        ("Cured in a week", "cure"),
        ("Curing dry skin", "cure"),
        ("Miracles happen", "miracle"),
        ("Results guaranteed", "guaranteed"),
        ("We guarantees it", "guarantee"),
        ("Guaranteeing comfort", "guarantee"),
        ("효과를 보장합니다", "보장"),
        ("완치됩니다", "완치"),
    ],
)
def test_banned_words_match_their_inflections(text, claim):
    # The audit: "cures" and "cured" got past a kit that bans "cure" (whole words only).
    assert claim in find_banned_claims(text, DEFAULT_KIT.banned_claims)


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("cure", "A curated pick"),
        ("cure", "Secure checkout"),
        ("cure", "Obscure gems"),
        ("cure", "Ask the curator"),
        ("ban", "A band tee"),  # "ban" inflects to bans, banned, banning; not "band"
        ("cry", "A crystal vase"),
    ],
)
def test_inflections_are_not_other_words(word, text):
    assert find_banned_claims(text, (word,)) == ()
    # The rule itself fires on the word's forms (so the check above can fail).
    assert find_banned_claims(f"{word}s" if word != "cry" else "cries", (word,)) == (word,)


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


def test_every_bundled_line_passes_the_claim_rules():
    # The bundled copy, every line (and its named variant) filled with every product, the
    # offers it can carry, every greeting and every search: no rule finds a claim, so the
    # wider patterns reject no bundled ad (15,174 fills on 2026-12-05).
    from creative.catalogue import CATALOGUE, GREETINGS, INTEREST_LABELS, OFFER_LABELS, offer_fits
    from creative.templates import default_templates
    from creative.vocabulary import INTEREST_KEYWORDS_KO

    n, found = 0, []
    for t in default_templates().templates:
        if {"rating", "customers"} & t.slots:
            continue  # undeclared by the default kit: never drawn
        for line in filter(None, (t, t.named_template)):
            for category, prods in CATALOGUE.items():
                table = INTEREST_KEYWORDS if t.language == "en" else INTEREST_KEYWORDS_KO
                for p, (offer, label) in itertools.product(prods, OFFER_LABELS[t.language].items()):
                    if not offer_fits(p, offer) or ("offer" in line.slots) != bool(label):
                        continue
                    greetings = GREETINGS[t.language].values() if "greeting" in line.slots else [""]
                    searches = table[category] if "keyword" in line.slots else [""]
                    for greeting, search in itertools.product(greetings, searches):
                        name = p.display_name(t.language)
                        text = line.fill(
                            {"product": name, "interest": INTEREST_LABELS[t.language][category],
                             "offer": label, "greeting": greeting, "keyword": search}
                        )  # fmt: skip
                        n += 1
                        claims = find_banned_claims(
                            text, DEFAULT_KIT.banned_claims, product=name
                        ) + find_unsupported_claims(
                            text, offer=offer, category=category, product=name
                        )
                        if claims:
                            found.append((text, claims))
    assert n > 10_000
    assert found == []


def test_the_free_shipping_offer_backs_its_own_words_only():
    # The offer's words pass on it; "for free" and a free trial are other offers.
    for text in ("Tent: Free shipping. Yes please!", "텐트, 지금 무료 배송!"):
        assert find_unsupported_claims(text, offer="free_shipping", category="outdoors") == ()
    for text, claim in (("Get it for free", "Get it for free"), ("무료로 받아 가세요", "무료로")):
        found = find_unsupported_claims(text, offer="free_shipping", category="outdoors")
        assert found == (("free", claim),)


def test_a_brand_running_a_limited_time_offer_declares_it():
    kit = dataclasses.replace(DEFAULT_KIT, claims=("Limited-time",))
    assert find_unsupported_claims("A limited-time offer") == (("deadline", "limited-time"),)
    assert find_unsupported_claims("A limited-time offer", kit=kit) == ()
    # A declared phrase backs what lies inside it, not a neighbouring claim.
    assert find_unsupported_claims("Limited-time, limited edition", kit=kit) == (
        ("scarcity", "limited edition"),
    )


def test_a_word_the_kit_lists_in_two_forms_is_reported_once():
    # "guarantee" now finds "guaranteed" too; the kit lists both, and one word is one claim.
    assert find_banned_claims("Guaranteed results", DEFAULT_KIT.banned_claims) == ("guaranteed",)
    assert find_banned_claims("We guarantee it", DEFAULT_KIT.banned_claims) == ("guarantee",)
    both = find_banned_claims("Guaranteed, we guarantee it", DEFAULT_KIT.banned_claims)
    assert both == ("guaranteed", "guarantee")


def test_delivery_speed_is_backed_by_a_declared_phrase_only(good):
    # The free-shipping offer says nothing about how fast: its words pass, the speed does not.
    text = "Free shipping, arrives tomorrow"
    found = find_unsupported_claims(text, offer="free_shipping", category="outdoors")
    assert found == (("delivery", "arrives tomorrow"),)
    kit = dataclasses.replace(DEFAULT_KIT, claims=("arrives tomorrow",))
    assert find_unsupported_claims(text, kit=kit, offer="free_shipping", category="outdoors") == ()
    c = dataclasses.replace(good, body="당일 배송으로 만나 보세요.")
    assert "unsupported_claim: delivery '당일 배송'" in " ".join(check_creative(c).reasons)
    kit_ko = dataclasses.replace(DEFAULT_KIT, claims=("당일 배송",))
    assert check_creative(c, kit=kit_ko).passed, check_creative(c, kit=kit_ko)
