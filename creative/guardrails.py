"""Guardrails: every creative is checked before use.

Five rules, each giving ``"rule: detail"`` reasons: ``empty`` (a copy part
with no visible character, e.g. only spaces or zero-width characters),
``banned_claim`` (a phrase of the kit's list in the copy), ``length`` (copy
longer than the placement allows), ``contrast`` (a text colour below WCAG AA
against its background) and ``disclosure`` (no visible "AI-generated" label
although the kit requires one).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from creative.brand import DEFAULT_KIT, BrandKit, contrast_ratio
from creative.record import Creative, GuardrailVerdict
from creative.vocabulary import PLACEMENTS

__all__ = [
    "LENGTH_LIMITS",
    "MIN_CONTRAST",
    "RULES",
    "LengthLimits",
    "check_creative",
    "display_width",
    "find_banned_claims",
    "has_visible_text",
]

#: WCAG 2.x level AA for normal-size text.
MIN_CONTRAST: float = 4.5

#: Rule names, in the order they are checked.
RULES: tuple[str, ...] = ("empty", "banned_claim", "length", "contrast", "disclosure")

# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern): they
# are not in the separator, control or format categories, so they are named here.
_BLANK_CHARS: frozenset[str] = frozenset("\u115f\u1160\u3164\uffa0\u2800")


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthLimits:
    """Maximum display width of each copy part (a wide Hangul character counts 2).

    Parameters
    ----------
    headline, body, cta : int
        Each >= 1.
    """

    headline: int
    body: int
    cta: int

    def __post_init__(self) -> None:
        for name in ("headline", "body", "cta"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")


#: Placement -> limits. Small and wide placements hold less copy at a readable size.
LENGTH_LIMITS: dict[str, LengthLimits] = {
    "feed": LengthLimits(headline=64, body=120, cta=24),
    "story": LengthLimits(headline=64, body=120, cta=24),
    "link": LengthLimits(headline=56, body=100, cta=22),
    "preview": LengthLimits(headline=56, body=100, cta=22),
}


def display_width(text: str) -> int:
    """Columns ``text`` takes: East Asian wide and fullwidth characters count 2.

    Parameters
    ----------
    text : str

    Returns
    -------
    width : int
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def has_visible_text(text: str) -> bool:
    """Whether ``text`` has a character that draws something.

    Separators (category Z: spaces, line breaks), control, format and other C
    characters (zero-width space, joiners, BOM, bidi marks), combining marks with
    no base (M) and a few blank letters do not count.

    Parameters
    ----------
    text : str

    Returns
    -------
    visible : bool
    """
    return any(unicodedata.category(c)[0] not in "ZCM" and c not in _BLANK_CHARS for c in text)


@lru_cache(maxsize=64)
def _claim_patterns(claims: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for claim in claims:
        # Word boundaries only where the claim starts or ends with a Latin letter or
        # digit, so "cure" does not fire on "secure" while "보장" still fires on "보장합니다".
        head = r"(?<![A-Za-z0-9])" if claim[0].isascii() and claim[0].isalnum() else ""
        tail = r"(?![A-Za-z0-9])" if claim[-1].isascii() and claim[-1].isalnum() else ""
        out.append((claim, re.compile(head + re.escape(claim) + tail, re.IGNORECASE)))
    return tuple(out)


def find_banned_claims(text: str, claims: tuple[str, ...]) -> tuple[str, ...]:
    """The banned claims that occur in ``text`` (case-insensitive, whole words).

    Parameters
    ----------
    text : str
    claims : tuple of str

    Returns
    -------
    found : tuple of str
    """
    return tuple(c for c, pattern in _claim_patterns(claims) if pattern.search(text))


def check_creative(
    creative: Creative, *, kit: BrandKit = DEFAULT_KIT, placement: str = "feed"
) -> GuardrailVerdict:
    """Run every guardrail rule on a creative.

    Parameters
    ----------
    creative : Creative
    kit : BrandKit, default DEFAULT_KIT
        Gives the banned claims and whether disclosure is required.
    placement : str, default "feed"
        One of ``PLACEMENTS``; selects the length limits.

    Returns
    -------
    verdict : GuardrailVerdict
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"`placement` must be one of {list(PLACEMENTS)}; got {placement!r}.")
    reasons: list[str] = []
    for part in ("headline", "body", "cta"):
        if not has_visible_text(getattr(creative, part)):
            reasons.append(
                f"empty: {part} has no visible characters (only spaces, zero-width or "
                "format characters)"
            )
    for part in ("headline", "body", "cta"):
        for claim in find_banned_claims(getattr(creative, part), kit.banned_claims):
            reasons.append(f"banned_claim: {claim!r} in {part}")
    limits = LENGTH_LIMITS[placement]
    for part in ("headline", "body", "cta"):
        width, limit = display_width(getattr(creative, part)), getattr(limits, part)
        if width > limit:
            reasons.append(f"length: {part} is {width} wide, over {limit} for {placement}")
    for role, fg, bg in creative.palette.text_pairs():
        ratio = contrast_ratio(fg, bg)
        if ratio < MIN_CONTRAST:
            reasons.append(
                f"contrast: {role} text {fg} on {bg} is {ratio:.2f}:1, under {MIN_CONTRAST}:1 "
                f"(palette {creative.palette.name!r})"
            )
    if kit.requires_ai_disclosure and not has_visible_text(creative.disclosure or ""):
        reasons.append("disclosure: the kit requires an AI-generated label and there is none")
    return GuardrailVerdict(passed=not reasons, reasons=tuple(reasons))
