"""The ``Creative`` record and its guardrail verdict."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from creative.attributes import encode_attributes
from creative.audience import Audience
from creative.brand import Palette
from creative.catalogue import MOTIFS, OFFER_LABELS, PRODUCT_MOTIFS, format_price
from creative.vocabulary import INTERESTS, LANGUAGES, LAYOUTS, OFFERS, TIMES_OF_DAY, TONES

__all__ = ["UNCHECKED", "Creative", "GuardrailVerdict"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardrailVerdict:
    """Whether a creative may be used, and why not.

    Parameters
    ----------
    passed : bool
        True when no rule fired.
    reasons : tuple of str
        One ``"rule: detail"`` string per violation; empty when ``passed``.
    """

    passed: bool
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.reasons, tuple) or not all(isinstance(r, str) for r in self.reasons):
            raise TypeError("`reasons` must be a tuple of str.")
        if self.passed == bool(self.reasons):
            raise ValueError(
                f"`passed` must be True exactly when `reasons` is empty; "
                f"got passed={self.passed!r}, reasons={self.reasons!r}."
            )

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule names that fired (the part of each reason before the colon)."""
        return tuple(r.split(":", 1)[0] for r in self.reasons)


#: Every picture a creative may carry: the categories' motifs and the products' own.
MOTIF_NAMES = tuple(dict.fromkeys((*MOTIFS.values(), *PRODUCT_MOTIFS.values())))

#: The verdict of a creative nobody has checked yet.
UNCHECKED = GuardrailVerdict(passed=False, reasons=("unchecked: guardrails not run",))


@dataclass(frozen=True, slots=True, kw_only=True)
class Creative:
    """One ad: its audience, its components and its guardrail verdict.

    Rendering is separate (``creative.render``); this record holds everything
    a rendering needs, so ``render(creative, size)`` is a pure function.

    Parameters
    ----------
    audience : Audience
        Whom it was made for.
    brand : str
        Brand name for the brand mark.
    product : str
        Product name in the creative's language.
    category : str
        Product category, one of ``INTERESTS``.
    price : float
        List price in US dollars.
    headline, body, cta : str
        The copy, slots already filled.
    tone : str
        One of ``TONES``.
    offer : str
        One of ``OFFERS``.
    palette : Palette
    layout : str
        One of ``LAYOUTS``.
    motif : str
        Product motif drawn in the image (see ``creative.motifs``).
    language : str
        ``"en"`` or ``"ko"``.
    greeting : str or None
        Time of day greeted in the copy, None for none.
    disclosure : str or None
        The "AI-generated" label drawn on the image, None for none.
    keyword : str or None
        The search keyword the copy prints (the ``{keyword}`` slot), in the copy's
        language and from ``category``; None when the copy names no keyword. Not part of
        the content hash: it is already in the copy.
    guardrail : GuardrailVerdict
        Not part of the content hash.

    Attributes
    ----------
    creative_id : str
        ``"cr-"`` and 16 hex digits of a SHA-256 of the audience id and the
        components: equal content, equal id, on every machine.
    """

    audience: Audience
    brand: str
    product: str
    category: str
    price: float
    headline: str
    body: str
    cta: str
    tone: str
    offer: str
    palette: Palette
    layout: str
    motif: str
    language: str
    greeting: str | None = None
    disclosure: str | None = None
    keyword: str | None = None
    show_price: bool = True
    guardrail: GuardrailVerdict = UNCHECKED
    creative_id: str = field(init=False)

    def __post_init__(self) -> None:
        checks = (
            ("category", self.category, INTERESTS),
            ("tone", self.tone, TONES),
            ("offer", self.offer, OFFERS),
            ("layout", self.layout, LAYOUTS),
            ("language", self.language, LANGUAGES),
            ("motif", self.motif, MOTIF_NAMES),
        )
        for name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"`{name}` must be one of {list(allowed)}; got {value!r}.")
        if self.greeting is not None and self.greeting not in TIMES_OF_DAY:
            raise ValueError(
                f"`greeting` must be None or one of {list(TIMES_OF_DAY)}; got {self.greeting!r}."
            )
        if self.keyword is not None and (
            not isinstance(self.keyword, str) or not self.keyword.strip()
        ):
            raise ValueError(f"`keyword` must be None or a non-empty str; got {self.keyword!r}.")
        for name in ("brand", "product", "headline", "body", "cta"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"`{name}` must be a non-empty str; got {value!r}.")
        if not isinstance(self.price, int | float) or not self.price > 0:
            raise ValueError(f"`price` must be a float > 0; got {self.price!r}.")
        if not isinstance(self.show_price, bool):
            raise ValueError(f"`show_price` must be a bool; got {self.show_price!r}.")
        if not isinstance(self.audience, Audience):
            raise TypeError(f"`audience` must be an Audience; got {type(self.audience).__name__}.")
        if not isinstance(self.palette, Palette):
            raise TypeError(f"`palette` must be a Palette; got {type(self.palette).__name__}.")
        if not isinstance(self.guardrail, GuardrailVerdict):
            raise TypeError("`guardrail` must be a GuardrailVerdict.")
        object.__setattr__(self, "creative_id", "cr-" + self.content_hash()[:16])

    def content_hash(self) -> str:
        """SHA-256 hex digest of the audience id and every component."""
        content = [
            self.audience.audience_id,
            self.brand,
            self.product,
            self.category,
            repr(float(self.price)),
            self.headline,
            self.body,
            self.cta,
            self.tone,
            self.offer,
            [getattr(self.palette, f) for f in self.palette.__slots__],
            self.layout,
            self.motif,
            self.language,
            self.greeting,
            self.disclosure,
        ]
        if not self.show_price:
            # Appended only when off, so every other creative keeps its id.
            content.append("price not shown")
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()

    @property
    def attributes(self) -> np.ndarray:
        """The attribute vector the simulator reads.

        Returns
        -------
        attributes : ndarray of shape (N_ATTRIBUTES,)
            See ``creative.attributes.ATTRIBUTE_NAMES``.
        """
        return encode_attributes(
            category=self.category,
            tone=self.tone,
            offer=self.offer,
            greeting=self.greeting,
            layout=self.layout,
            language=self.language,
            audience_kind=self.audience.kind,
        )

    @property
    def price_label(self) -> str:
        """The price as printed, e.g. ``"$59.00"`` or ``"₩76,700"``."""
        return format_price(self.price, self.language)

    @property
    def offer_label(self) -> str:
        """The offer as printed, ``""`` for none."""
        return OFFER_LABELS[self.language][self.offer]
