import dataclasses

import numpy as np
import pytest

from creative.brand import DEFAULT_KIT, BrandKit, Palette, contrast_ratio
from creative.generate import generate_for_user, generate_generic
from creative.guardrails import (
    LENGTH_LIMITS,
    RULES,
    check_creative,
    display_width,
    find_banned_claims,
    has_visible_text,
)
from creative.record import GuardrailVerdict
from creative.vocabulary import OFFER_DISCOUNT


@pytest.fixture
def good(gamers):
    creative = generate_for_user(gamers, np.random.default_rng(0))
    assert creative.guardrail.passed, creative.guardrail
    return creative


def test_contrast_ratio_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#123456", "#123456") == pytest.approx(1.0)


def test_default_kit_palettes_pass_wcag_aa():
    for palette in DEFAULT_KIT.palettes:
        for role, fg, bg in palette.text_pairs():
            assert contrast_ratio(fg, bg) >= 4.5, (palette.name, role)


@pytest.mark.parametrize("claim", ["guaranteed", "100%", "cure", "risk-free", "GUARANTEED", "보장"])
def test_banned_claim_rejects(good, claim):
    bad = dataclasses.replace(good, headline=f"Results {claim} today")
    verdict = check_creative(bad)
    assert not verdict.passed
    # "100%" is also a percentage no offer backs, "risk-free" a guarantee the kit must back.
    assert verdict.rules[0] == "banned_claim"
    assert set(verdict.rules) == {"banned_claim"} | (
        {"unsupported_claim"} if "%" in claim or claim == "risk-free" else set()
    )
    assert "headline" in verdict.reasons[0]


@pytest.mark.parametrize("text", ["A secure, curated pick", "Save {pct}% now", "Obscure gems"])
def test_banned_claim_needs_whole_words(good, text):
    # The percentage is the creative's own discount, so no rule fires.
    pct = round(OFFER_DISCOUNT[good.offer] * 100)
    assert pct > 0
    assert check_creative(dataclasses.replace(good, body=text.format(pct=pct))).passed


def test_banned_claims_are_configurable(good):
    kit = dataclasses.replace(DEFAULT_KIT, banned_claims=("zebra",))
    verdict = check_creative(dataclasses.replace(good, cta="Buy the zebra"), kit=kit)
    assert verdict.rules == ("banned_claim",)
    assert find_banned_claims("nothing here", ("zebra",)) == ()


@pytest.mark.parametrize("placement", ["feed", "story", "link", "preview"])
def test_length_limits_per_placement(good, placement):
    limit = LENGTH_LIMITS[placement].headline
    assert check_creative(
        dataclasses.replace(good, headline="x" * limit), placement=placement
    ).passed
    verdict = check_creative(
        dataclasses.replace(good, headline="x" * (limit + 1)), placement=placement
    )
    assert verdict.rules == ("length",)
    assert placement in verdict.reasons[0]


def test_display_width_counts_hangul_double():
    assert display_width("ab") == 2
    assert display_width("한글") == 4


def test_low_contrast_palette_rejected(good):
    grey = Palette(
        name="grey",
        background="#ffffff",
        text="#999999",
        accent="#0b6e4f",
        accent_text="#ffffff",
        badge="#1d3557",
        badge_text="#ffffff",
        motif="#999999",
    )
    verdict = check_creative(dataclasses.replace(good, palette=grey))
    assert verdict.rules == ("contrast",)
    assert "'grey'" in verdict.reasons[0]
    passing = dataclasses.replace(grey, text="#595959")  # 7.0:1 on white
    assert check_creative(dataclasses.replace(good, palette=passing)).passed


def test_missing_disclosure_rejected_only_when_required(good):
    unlabelled = dataclasses.replace(good, disclosure=None)
    assert check_creative(unlabelled).rules == ("disclosure",)
    relaxed = dataclasses.replace(DEFAULT_KIT, requires_ai_disclosure=False)
    assert check_creative(unlabelled, kit=relaxed).passed


def test_kit_without_disclosure_makes_unlabelled_creatives():
    kit = dataclasses.replace(DEFAULT_KIT, requires_ai_disclosure=False)
    report = generate_generic(3, np.random.default_rng(0), kit=kit)
    assert all(c.disclosure is None for c in report.accepted)


def test_rejected_creatives_never_accepted(gamers):
    # A kit whose only palette fails contrast: every variant must be rejected, with reasons.
    bad_palette = dataclasses.replace(DEFAULT_KIT.palettes[0], name="dim", text="#333355")
    kit = dataclasses.replace(DEFAULT_KIT, palettes=(bad_palette,))
    from creative.generate import generate_for_segment

    report = generate_for_segment(gamers, 4, np.random.default_rng(0), kit=kit)
    assert report.accepted == ()
    assert report.rejected
    assert report.rejection_counts == {"contrast": len(report.rejected)}


def test_verdict_consistency():
    with pytest.raises(ValueError, match="`passed` must be True exactly when"):
        GuardrailVerdict(passed=True, reasons=("x: y",))
    with pytest.raises(ValueError, match="`passed` must be True exactly when"):
        GuardrailVerdict(passed=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(name=""), "`name` must be"),
        (dict(palettes=()), "`palettes` must be"),
        (dict(banned_claims=("",)), "`banned_claims` must be"),
        (dict(disclosure=(("en", "AI"),)), "`disclosure` must"),
    ],
)
def test_brand_kit_validation(kwargs, match):
    base = dict(palettes=DEFAULT_KIT.palettes)
    with pytest.raises(ValueError, match=match):
        BrandKit(**{**base, **kwargs})


def test_palette_validation():
    with pytest.raises(ValueError, match="`text` must be a '#rrggbb'"):
        dataclasses.replace(DEFAULT_KIT.palettes[0], text="white")


INVISIBLE = {
    "zero-width space": "\u200b\u200b",
    "joiners and BOM": "\u200d\u200c\ufeff\u2060",
    "bidi marks": "\u200e\u202e\u2066",
    # Whitespace alone never gets here (the record refuses it); with a zero-width
    # character between, str.strip() leaves something and only this rule sees it.
    "spaces around a zero-width space": " \u3000\u200b\u00a0 \u2003",
    "line separators around a word joiner": "\u2028\u2060\u2029\n\t",
    "hangul filler": "\u3164\u115f",
    "a lone combining accent": "\u0301\u0308",
    "braille blank": "\u2800",
}


@pytest.mark.parametrize("text", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("part", ["headline", "body", "cta"])
def test_copy_without_visible_characters_is_rejected(good, part, text):
    verdict = check_creative(dataclasses.replace(good, **{part: text}))
    assert not verdict.passed
    assert verdict.rules == ("empty",)
    assert verdict.reasons[0].startswith(f"empty: {part} has no visible characters")


@pytest.mark.parametrize("text", ["A", "20%", "한글", "\u200bHi\u200b", "e\u0301", "→"])
def test_visible_text_passes(text):
    assert has_visible_text(text)


@pytest.mark.parametrize("text", ["", " \u3000\u00a0", "\u2028\u2029\n\t", *INVISIBLE.values()])
def test_invisible_text(text):
    assert not has_visible_text(text)


def test_an_invisible_disclosure_is_no_disclosure(good):
    verdict = check_creative(dataclasses.replace(good, disclosure="\u200b \u200b"))
    assert verdict.rules == ("disclosure",)


def test_rules_list_every_rule_in_check_order():
    assert RULES == (
        "empty",
        "banned_claim",
        "unsupported_claim",
        "length",
        "contrast",
        "disclosure",
    )
