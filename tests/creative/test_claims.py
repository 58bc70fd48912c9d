"""The ``unsupported_claim`` guardrail, declared brand facts, NFC phrase matching and the
AI disclosure in image metadata (issue #13)."""

from __future__ import annotations

import dataclasses
import io
import unicodedata
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from creative.brand import DEFAULT_KIT
from creative.encode import DIGITAL_SOURCE_TYPE, FORMATS, encode_image
from creative.generate import generate_for_segment, generate_for_user, generate_generic
from creative.guardrails import check_creative, find_banned_claims, find_unsupported_claims
from creative.render import render

KIT = dataclasses.replace(
    DEFAULT_KIT,
    facts=(("rating", "4.8/5"), ("customers", "12,000")),
    claims=(
        "best-selling", "#1 in Korea", "베스트셀러", "누적 판매 10만 개 돌파",
        "ends at midnight", "only 3 left", "오늘 자정까지", "한정 수량",
        "dermatologist-tested", "KC 인증 완료",
    ),
)  # fmt: skip

#: (text, kind found with the default kit); KIT declares each of them.
INVENTED = [
    ("Rated 4.8/5 by shoppers like you.", "rating"),
    ("Loved by 12,000 kids fans", "customers"),
    ("Join 12k happy customers", "customers"),
    ("구매자 평점 4.8/5, 지금 만나보세요", "rating"),
    ("키즈 팬 12,000명의 선택", "customers"),
    ("The best-selling mat", "superlative"),
    ("#1 in Korea for travel", "rank"),
    ("이번 주 베스트셀러", "superlative"),
    ("누적 판매 10만 개 돌파", "count"),
    ("★ 4.8/5", "rating"),
    ("The sale ends at midnight.", "deadline"),
    ("Only 3 left in your size", "scarcity"),
    ("혜택은 오늘 자정까지.", "deadline"),
    ("한정 수량 특가", "scarcity"),
    ("Dermatologist-tested sunscreen", "endorsement"),
    ("KC 인증 완료 블록", "endorsement"),
]

#: (text, kind): claims no declaration in KIT backs either.
NEVER_BACKED = [
    ("Rated 4.9/5 by shoppers", "rating"),
    ("4.8/10 from critics", "rating"),
    ("Five-star comfort", "rating"),
    ("Loved by 13,000 fans", "customers"),
    ("1만 명이 선택한", "customers"),
    ("3,000 reviews and counting", "count"),
    ("리뷰 3,000건", "count"),
    ("Join 500+ others", "count"),
    ("Thousands of happy campers", "count"),
    ("No. 1 in Europe", "rank"),
    ("이번 주 캣타워 인기 1위", "rank"),
    ("Top-rated by editors", "superlative"),
    ("The most popular pick", "superlative"),
    ("이번 달 최다 저장 상품", "superlative"),
    ("98% of users agree", "percent"),
    ("30% off today", "percent"),  # the creative's offer is 10 % off
    # Stock and time: facts a simulated brand cannot back.
    ("Ends tonight: Trail Runners", "deadline"),
    ("Last chance to save", "deadline"),
    ("Today only: free gift", "deadline"),
    ("A limited-time treat", "deadline"),
    ("Stock is running low.", "scarcity"),
    ("Your pick is almost sold out.", "scarcity"),
    ("Hiking boots, selling fast", "scarcity"),
    ("Buy before it's gone", "scarcity"),
    ("Only 2 left!", "scarcity"),
    ("오늘만! 캣타워", "deadline"),
    ("마감 임박: 요가 매트", "deadline"),
    ("캣타워 곧 품절돼요", "scarcity"),
    ("재고가 얼마 남지 않았어요.", "scarcity"),
    # Someone else's approval: the template that said "Fun, fresh, finance-approved."
    ("Fun, fresh, finance-approved.", "endorsement"),
    ("FDA-approved formula", "endorsement"),
    ("Certified organic cotton", "endorsement"),
    ("Clinically proven to hydrate", "endorsement"),
    ("Recommended by vets", "endorsement"),
    ("Your loan, approved in minutes", "endorsement"),
    ("의사 추천 선크림", "endorsement"),
    ("임상 완료 세럼", "endorsement"),
]

#: Copy with numbers that are not claims.
HONEST = [
    "Daily Sunscreen SPF 50, now 10% off",
    "65W USB-C Charger for tech",
    "Smartwatch S2: what you need to know",
    "2인용 텐트, 지금 10% 할인",
    "Free returns within 30 days",
    "LP 정기구독 한눈에 보기",
    "데일리 선크림 SPF 50 구매 후기를 확인하세요",
    # Urgency without a claim about stock or time.
    "Why wait? Trail Runners is one click away.",
    "Today: 10% off on Trail Runners",
    "Get yours today",
    "Last year's favourite, refreshed",  # "last" and "year" are not a deadline
    "지금! 캣타워",
    "10% 할인 혜택을 지금 누리세요.",
    # Words near an endorsement that claim none.
    "Recommended for you",
    "Approve your budget in seconds",
    "Tested on real trails",
    "오늘의 추천 상품",
    "본인 인증 후 이용하세요",
]


@pytest.fixture
def good(gamers):
    c = generate_for_user(gamers, np.random.default_rng(0), offer="discount_10", tone="premium")
    assert c.guardrail.passed, c.guardrail
    return c


@pytest.mark.parametrize(("text", "kind"), INVENTED + NEVER_BACKED)
def test_invented_claims_are_rejected(good, text, kind):
    found = find_unsupported_claims(text, offer="discount_10")
    assert found and found[0][0] == kind, found
    verdict = check_creative(dataclasses.replace(good, body=text))
    assert set(verdict.rules) == {"unsupported_claim"}
    assert "body" in verdict.reasons[0] and "not declared in the brand kit" in verdict.reasons[0]


@pytest.mark.parametrize(("text", "kind"), INVENTED)
def test_declared_claims_are_accepted(good, text, kind):
    assert find_unsupported_claims(text, kit=KIT, offer="discount_10") == ()
    assert check_creative(dataclasses.replace(good, body=text), kit=KIT).passed


@pytest.mark.parametrize(("text", "kind"), NEVER_BACKED)
def test_declaring_other_facts_backs_nothing_else(good, text, kind):
    assert find_unsupported_claims(text, kit=KIT, offer="discount_10"), text
    assert set(check_creative(dataclasses.replace(good, body=text), kit=KIT).rules) == {
        "unsupported_claim"
    }


@pytest.mark.parametrize("text", HONEST)
def test_numbers_that_are_not_claims_pass(good, text):
    assert find_unsupported_claims(text, offer="discount_10") == ()
    assert check_creative(dataclasses.replace(good, headline=text)).passed


def test_the_offer_percentage_is_backed_only_by_that_offer():
    assert find_unsupported_claims("20% off", offer="discount_20") == ()
    assert find_unsupported_claims("20% off", offer="discount_10") == (("percent", "20%"),)
    assert find_unsupported_claims("20% off", offer="none") == (("percent", "20%"),)
    with pytest.raises(ValueError, match="`offer` must be one of"):
        find_unsupported_claims("x", offer="bogo")


def test_decomposed_text_is_checked_like_composed(good):
    nfd = unicodedata.normalize("NFD", "키즈 팬 12,000명의 선택, 베스트셀러")
    assert [k for k, _ in find_unsupported_claims(nfd)] == ["customers", "superlative"]
    assert find_unsupported_claims(nfd, kit=KIT) == ()
    # Banned phrases too: an NFD "보장" in the copy, an NFD phrase in the kit.
    assert find_banned_claims(unicodedata.normalize("NFD", "효과 보장"), ("보장",)) == ("보장",)
    assert find_banned_claims("효과 보장", (unicodedata.normalize("NFD", "보장"),))
    verdict = check_creative(
        dataclasses.replace(good, body=unicodedata.normalize("NFD", "효과 보장합니다"))
    )
    assert verdict.rules == ("banned_claim",)


def test_bundled_templates_invent_no_claims():
    # Every creative the default kit and templates make, accepted or not, over many draws:
    # none is stopped for a claim, because none prints one.
    audiences = [
        dataclasses.replace(a, language=lang) for a in _profiles() for lang in ("en", "ko")
    ]
    seen = 0
    for seed in range(15):
        rng = np.random.default_rng(seed)
        for a in audiences:
            for c in generate_for_segment(a, 6, rng).creatives:
                assert "unsupported_claim" not in c.guardrail.rules, c.guardrail
                seen += 1
        for c in generate_generic(6, rng).creatives:
            assert "unsupported_claim" not in c.guardrail.rules
    assert seen > 300


def test_fact_templates_are_used_only_when_declared(gamers):
    proof = dataclasses.replace(gamers, price_sensitivity=0.5)
    plain, declared = [], []
    for seed in range(40):
        for kit, out in ((DEFAULT_KIT, plain), (KIT, declared)):
            c = generate_for_user(proof, np.random.default_rng(seed), tone="social_proof", kit=kit)
            out.append(f"{c.headline} {c.body}")
            assert c.guardrail.passed, c.guardrail
    assert not any("4.8/5" in t or "12,000" in t for t in plain)
    assert any("4.8/5" in t for t in declared) and any("12,000" in t for t in declared)


@pytest.mark.parametrize(
    ("facts", "error", "match"),
    [
        ((("rating", "4.8"),), ValueError, r"`facts` rating must look like '4\.8/5'; got '4\.8'"),
        ((("customers", "lots"),), ValueError, "`facts` customers must look like"),
        ((("awards", "3"),), ValueError, "`facts` names must be among"),
        ((("rating", "4.8/5"), ("rating", "4.9/5")), ValueError, "`facts` names must be unique"),
        (("rating",), TypeError, "`facts` must be a tuple of"),
        ({"rating": "4.8/5"}, TypeError, "`facts` must be a tuple of"),
    ],
)
def test_bad_facts(facts, error, match):
    with pytest.raises(error, match=match):
        dataclasses.replace(DEFAULT_KIT, facts=facts)


@pytest.mark.parametrize("claims", [("",), ("  ",), "best-selling", (3,)])
def test_bad_claims(claims):
    with pytest.raises(ValueError, match="`claims` must be a tuple of non-empty str"):
        dataclasses.replace(DEFAULT_KIT, claims=claims)


def _digital_source_type(data: bytes) -> str | None:
    image = Image.open(io.BytesIO(data))
    image.load()
    xmp = image.info.get("xmp")
    if xmp is None:
        return None
    root = ET.fromstring(xmp if isinstance(xmp, bytes) else xmp.encode())
    ns = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}DigitalSourceType"
    values = [el.get(ns) for el in root.iter() if el.get(ns)]
    return values[0] if values else None


@pytest.mark.parametrize("fmt", FORMATS)
def test_images_carry_the_ai_disclosure_in_xmp(gamers, fmt):
    c = generate_for_segment(gamers, 1, np.random.default_rng(0)).accepted[0]
    data = encode_image(render(c, "preview"), fmt)
    assert DIGITAL_SOURCE_TYPE.endswith("/digitalsourcetype/trainedAlgorithmicMedia")
    assert _digital_source_type(data) == DIGITAL_SOURCE_TYPE
    # Same pixels, same bytes, metadata included; and the pixels are untouched by it.
    assert encode_image(render(c, "preview"), fmt) == data
    plain = encode_image(render(c, "preview"), fmt, ai_generated=False)
    assert _digital_source_type(plain) is None
    if fmt == "png":
        a = np.asarray(Image.open(io.BytesIO(data)))
        assert np.array_equal(a, np.asarray(Image.open(io.BytesIO(plain))))
        # Readers that stop at the pixels still see it: the chunk comes before IDAT.
        assert data.index(b"iTXt") < data.index(b"IDAT")


def test_ai_generated_must_be_a_bool():
    with pytest.raises(TypeError, match="`ai_generated` must be a bool; got 1"):
        encode_image(Image.new("RGB", (4, 4)), "png", ai_generated=1)


def _profiles():
    from creative.__main__ import DEMO_AUDIENCES

    return DEMO_AUDIENCES


def test_the_urgent_tone_asks_for_action_without_claims(gamers):
    # The bundled urgent copy passes in both languages, so the tone stays in the space.
    for language in ("en", "ko"):
        audience = dataclasses.replace(gamers, language=language)
        for seed in range(20):
            c = generate_for_user(audience, np.random.default_rng(seed), tone="urgent")
            assert c.guardrail.passed, c.guardrail
            text = " ".join((c.headline, c.body, c.cta))
            assert find_unsupported_claims(text, offer=c.offer) == ()
