"""The numeric attribute vector of a creative.

The simulator's response model and the contextual policies read creatives only
through this vector, so its layout is a contract: :data:`ATTRIBUTE_NAMES` names
every column and :func:`encode_attributes` is the one place that fills it.
"""

from __future__ import annotations

import numpy as np

from creative.vocabulary import (
    AUDIENCE_KINDS,
    INTERESTS,
    LANGUAGES,
    LAYOUTS,
    MOBILE_FIRST_LAYOUTS,
    OFFER_DISCOUNT,
    OFFERS,
    TIMES_OF_DAY,
    TONES,
)

__all__ = ["ATTRIBUTE_NAMES", "N_ATTRIBUTES", "attribute_slices", "encode_attributes"]

ATTRIBUTE_NAMES: tuple[str, ...] = (
    *(f"category:{name}" for name in INTERESTS),
    *(f"tone:{name}" for name in TONES),
    "discount",
    "free_shipping",
    *(f"greeting:{name}" for name in TIMES_OF_DAY),
    "mobile_first",
    *(f"language:{name}" for name in LANGUAGES),
    "personalized:segment",
    "personalized:user",
)
N_ATTRIBUTES: int = len(ATTRIBUTE_NAMES)


def attribute_slices() -> dict[str, slice]:
    """Column ranges of each attribute block.

    Returns
    -------
    slices : dict of str to slice
        Keys ``category``, ``tone``, ``discount``, ``free_shipping``,
        ``greeting``, ``mobile_first``, ``language``, ``personalized``.
    """
    blocks = (
        ("category", len(INTERESTS)),
        ("tone", len(TONES)),
        ("discount", 1),
        ("free_shipping", 1),
        ("greeting", len(TIMES_OF_DAY)),
        ("mobile_first", 1),
        ("language", len(LANGUAGES)),
        ("personalized", 2),
    )
    out: dict[str, slice] = {}
    start = 0
    for name, width in blocks:
        out[name] = slice(start, start + width)
        start += width
    return out


def encode_attributes(
    *,
    category: str,
    tone: str,
    offer: str,
    greeting: str | None,
    layout: str,
    language: str,
    audience_kind: str,
) -> np.ndarray:
    """Encode a creative's components as its attribute vector.

    Parameters
    ----------
    category : str
        Product category, one of ``INTERESTS``.
    tone : str
        One of ``TONES``.
    offer : str
        One of ``OFFERS``.
    greeting : str or None
        Time-of-day greeting (one of ``TIMES_OF_DAY``) or None for no greeting.
    layout : str
        One of ``LAYOUTS``.
    language : str
        One of ``LANGUAGES``.
    audience_kind : str
        ``generic``, ``segment`` or ``user``: whom the copy was personalized for.

    Returns
    -------
    attributes : ndarray of shape (N_ATTRIBUTES,)
        Float vector laid out as :data:`ATTRIBUTE_NAMES`.
    """
    checks = (
        ("category", category, INTERESTS),
        ("tone", tone, TONES),
        ("offer", offer, OFFERS),
        ("layout", layout, LAYOUTS),
        ("language", language, LANGUAGES),
        ("audience_kind", audience_kind, AUDIENCE_KINDS),
    )
    for name, value, allowed in checks:
        if value not in allowed:
            raise ValueError(f"`{name}` must be one of {list(allowed)}; got {value!r}.")
    if greeting is not None and greeting not in TIMES_OF_DAY:
        raise ValueError(
            f"`greeting` must be None or one of {list(TIMES_OF_DAY)}; got {greeting!r}."
        )
    s = attribute_slices()
    vec = np.zeros(N_ATTRIBUTES, dtype=np.float64)
    vec[s["category"].start + INTERESTS.index(category)] = 1.0
    vec[s["tone"].start + TONES.index(tone)] = 1.0
    vec[s["discount"].start] = OFFER_DISCOUNT[offer] if offer.startswith("discount") else 0.0
    vec[s["free_shipping"].start] = 1.0 if offer == "free_shipping" else 0.0
    if greeting is not None:
        vec[s["greeting"].start + TIMES_OF_DAY.index(greeting)] = 1.0
    vec[s["mobile_first"].start] = 1.0 if layout in MOBILE_FIRST_LAYOUTS else 0.0
    vec[s["language"].start + LANGUAGES.index(language)] = 1.0
    if audience_kind == "segment":
        vec[s["personalized"].start] = 1.0
    elif audience_kind == "user":
        vec[s["personalized"].start + 1] = 1.0
    return vec
