"""The brand kit: name, colour palettes, disclosure rules, banned claims and declared facts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from creative.vocabulary import LANGUAGES

__all__ = [
    "DEFAULT_KIT",
    "FACT_FORMATS",
    "BrandKit",
    "Palette",
    "contrast_ratio",
    "relative_luminance",
]

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

#: Facts a brand kit may declare -> the form of the value, as printed. Templates reach a
#: declared fact through the slot of the same name (``{rating}``, ``{customers}``).
FACT_FORMATS: dict[str, str] = {
    "rating": r"\d(?:\.\d{1,2})?/(?:5|10)",
    "customers": r"\d{1,3}(?:,\d{3})+|\d+",
}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour.

    Parameters
    ----------
    hex_colour : str
        ``"#rrggbb"``.

    Returns
    -------
    luminance : float
        In [0, 1]; 0 is black, 1 is white.
    """
    if not isinstance(hex_colour, str) or not _HEX.match(hex_colour):
        raise ValueError(f"`hex_colour` must be a '#rrggbb' string; got {hex_colour!r}.")
    channels = []
    for c in _rgb(hex_colour):
        s = c / 255.0
        channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white).

    Parameters
    ----------
    foreground, background : str
        ``"#rrggbb"`` colours; the order does not matter.

    Returns
    -------
    ratio : float
    """
    a, b = relative_luminance(foreground), relative_luminance(background)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


@dataclass(frozen=True, slots=True, kw_only=True)
class Palette:
    """Named colours of one creative; every text colour is paired with its background.

    Parameters
    ----------
    name : str
    background : str
        Canvas colour, ``"#rrggbb"``; ``text`` is drawn on it.
    text : str
        Headline and body colour.
    accent : str
        CTA button and decorative shapes.
    accent_text : str
        CTA label colour, drawn on ``accent``.
    badge : str
        Price/offer badge colour.
    badge_text : str
        Badge label colour, drawn on ``badge``.
    motif : str
        Fill of the product motif.
    """

    name: str
    background: str
    text: str
    accent: str
    accent_text: str
    badge: str
    badge_text: str
    motif: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"`name` must be a non-empty str; got {self.name!r}.")
        for field in ("background", "text", "accent", "accent_text", "badge", "badge_text"):
            value = getattr(self, field)
            if not isinstance(value, str) or not _HEX.match(value):
                raise ValueError(f"`{field}` must be a '#rrggbb' string; got {value!r}.")
        if not isinstance(self.motif, str) or not _HEX.match(self.motif):
            raise ValueError(f"`motif` must be a '#rrggbb' string; got {self.motif!r}.")

    def text_pairs(self) -> tuple[tuple[str, str, str], ...]:
        """Every (role, foreground, background) pair that carries text.

        Returns
        -------
        pairs : tuple of (str, str, str)
        """
        return (
            ("text", self.text, self.background),
            ("cta", self.accent_text, self.accent),
            ("badge", self.badge_text, self.badge),
        )

    def rgb(self, field: str) -> tuple[int, int, int]:
        """One colour as an RGB tuple for Pillow."""
        return _rgb(getattr(self, field))


@dataclass(frozen=True, slots=True, kw_only=True)
class BrandKit:
    """A frozen, validated brand kit.

    Parameters
    ----------
    name : str
        Brand name, drawn as the brand mark.
    palettes : tuple of Palette
        Colour schemes a creative may use.
    requires_ai_disclosure : bool, default True
        Whether every creative must carry the "AI-generated" label.
    disclosure : dict of str to str
        The label text per language.
    banned_claims : tuple of str
        Phrases no copy may contain (case-insensitive; an English word also in its
        inflections, "cure" as "cures", "cured", "curing").
    facts : tuple of (str, str)
        Numbers the brand can back, ``(name, value)`` with a name of ``FACT_FORMATS``:
        ``(("rating", "4.8/5"), ("customers", "12,000"))``. Templates may print them with
        ``{rating}`` and ``{customers}``; only declared facts pass the ``unsupported_claim``
        guardrail. Empty by default: the default brand is fictional and can back nothing.
    claims : tuple of str
        Exact phrases the brand can back (``"best-selling"``, ``"#1 in Korea"``): a
        rating, count, rank, superlative or percentage inside one of them passes the
        ``unsupported_claim`` guardrail.
    """

    name: str = "Lumen & Co."
    palettes: tuple[Palette, ...] = ()
    requires_ai_disclosure: bool = True
    disclosure: tuple[tuple[str, str], ...] = (("en", "AI-generated ad"), ("ko", "AI 생성 광고"))
    banned_claims: tuple[str, ...] = (
        "guaranteed",
        "guarantee",
        "100%",
        "cure",
        "risk-free",
        "miracle",
        "보장",
        "완치",
    )
    facts: tuple[tuple[str, str], ...] = ()
    claims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"`name` must be a non-empty str; got {self.name!r}.")
        if not isinstance(self.palettes, tuple) or not self.palettes:
            raise ValueError("`palettes` must be a non-empty tuple of Palette.")
        if not all(isinstance(p, Palette) for p in self.palettes):
            raise TypeError("`palettes` must hold only Palette records.")
        names = [p.name for p in self.palettes]
        if len(set(names)) != len(names):
            raise ValueError(f"`palettes` names must be unique; got {names}.")
        if not isinstance(self.requires_ai_disclosure, bool):
            raise TypeError(
                f"`requires_ai_disclosure` must be a bool; got {self.requires_ai_disclosure!r}."
            )
        labels = dict(self.disclosure)
        if set(labels) != set(LANGUAGES) or not all(labels.values()):
            raise ValueError(
                f"`disclosure` must give a non-empty label for each of {list(LANGUAGES)}."
            )
        if not isinstance(self.banned_claims, tuple) or not all(
            isinstance(c, str) and c.strip() for c in self.banned_claims
        ):
            raise ValueError("`banned_claims` must be a tuple of non-empty str.")
        if not isinstance(self.facts, tuple) or not all(
            isinstance(f, tuple) and len(f) == 2 and all(isinstance(x, str) for x in f)
            for f in self.facts
        ):
            raise TypeError(
                f"`facts` must be a tuple of (name, value) str pairs; got {self.facts!r}."
            )
        names = [name for name, _ in self.facts]
        if len(set(names)) != len(names):
            raise ValueError(f"`facts` names must be unique; got {names}.")
        for name, value in self.facts:
            if name not in FACT_FORMATS:
                raise ValueError(f"`facts` names must be among {list(FACT_FORMATS)}; got {name!r}.")
            if not re.fullmatch(FACT_FORMATS[name], value):
                raise ValueError(
                    f"`facts` {name} must look like {_FACT_EXAMPLES[name]!r}; got {value!r}."
                )
        if not isinstance(self.claims, tuple) or not all(
            isinstance(c, str) and c.strip() for c in self.claims
        ):
            raise ValueError("`claims` must be a tuple of non-empty str.")

    def palette(self, name: str) -> Palette:
        """The palette called ``name``."""
        for p in self.palettes:
            if p.name == name:
                return p
        raise ValueError(f"`name` must be one of {[p.name for p in self.palettes]}; got {name!r}.")

    def disclosure_label(self, language: str) -> str:
        """The AI disclosure label in ``language``."""
        return dict(self.disclosure)[language]

    def fact(self, name: str) -> str | None:
        """The declared value of fact ``name``, None when the kit does not declare it."""
        if name not in FACT_FORMATS:
            raise ValueError(f"`name` must be one of {list(FACT_FORMATS)}; got {name!r}.")
        return dict(self.facts).get(name)


_FACT_EXAMPLES = {"rating": "4.8/5", "customers": "12,000"}


_PALETTES = (
    Palette(
        name="midnight",
        background="#14213d",
        text="#ffffff",
        accent="#fca311",
        accent_text="#14213d",
        badge="#c1121f",
        badge_text="#ffffff",
        motif="#8ecae6",
    ),
    Palette(
        name="coral",
        background="#fff1e6",
        text="#3d1f14",
        accent="#c2410c",
        accent_text="#ffffff",
        badge="#1d3557",
        badge_text="#ffffff",
        motif="#f08a5d",
    ),
    Palette(
        name="mint",
        background="#e8f6ef",
        text="#0b3d2e",
        accent="#0b6e4f",
        accent_text="#ffffff",
        badge="#ffd166",
        badge_text="#1b1b1b",
        motif="#3ab795",
    ),
    Palette(
        name="ink",
        background="#111111",
        text="#f5f5f5",
        accent="#f5f5f5",
        accent_text="#111111",
        badge="#b08d57",
        badge_text="#111111",
        motif="#b08d57",
    ),
    Palette(
        name="violet",
        background="#5b21b6",
        text="#ffffff",
        accent="#fde047",
        accent_text="#2e1065",
        badge="#ffffff",
        badge_text="#5b21b6",
        motif="#c4b5fd",
    ),
)

#: The default kit: five palettes that all pass WCAG AA, AI disclosure required.
DEFAULT_KIT = BrandKit(palettes=_PALETTES)
