"""The creative component space: axes, levels, validity masks and composition.

A composition is one level index per axis (an int vector); :func:`compose`
turns it into a :class:`~creative.record.Creative` for an audience, and
:func:`component_axes` gives the simulator everything it needs as arrays:
the level names of each axis and the validity constraints as a unary mask
over all levels and a pairwise mask over pairs of levels, so the simulation
never enumerates strings.

The constraints, each a pairwise (or unary) rule:

- the offer fits the product (no free shipping on products that are never
  shipped, no discount on a product that is not discountable);
- the headline style's slot has a value (an offer headline needs an offer, a
  keyword headline a keyword, a greeting headline a greeting) and the tone
  has a headline of that style in every language;
- what is switched on is printed: a greeting only with a greeting headline or the
  ``greet_search`` style (a plain headline over a body that greets and quotes the
  search), a search keyword only with a keyword headline or that style, and that
  style always with both (the copy of the other styles carries neither, and the
  simulator's response reads both as seen);
- the call to action exists for the tone in every language;
- the guardrails: a palette below WCAG AA contrast is never used, a copy
  template whose literal text holds a banned claim is never used, and a
  (product, headline style) pair whose longest possible copy exceeds the
  placement's limits is never used. These are worst cases over every slot
  value, so any valid composition passes :func:`creative.guardrails.check_creative`
  (a test composes thousands to hold that).

Offers follow the catalogue's rule (``creative.catalogue.offer_fits``: no free shipping on a
product that is never shipped, no discount on one that is not discountable); the keyword
rules mirror ``creative.vocabulary.localize_keyword`` (a search is printed in the copy's
language: the vocabulary holds every search in English and in Korean).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from creative.audience import Audience
from creative.brand import DEFAULT_KIT, FACT_FORMATS, BrandKit, contrast_ratio
from creative.catalogue import (
    CATALOGUE,
    GREETINGS,
    INTEREST_LABELS,
    OFFER_LABELS,
    Product,
    motif_for,
    offer_fits,
    product_search,
)
from creative.fonts import normalize_text
from creative.guardrails import (
    LENGTH_LIMITS,
    MIN_CONTRAST,
    check_creative,
    display_width,
    find_banned_claims,
)
from creative.record import Creative
from creative.templates import (
    CopyTemplate,
    TemplateSet,
    cta_fits,
    default_templates,
    fitting_bodies,
    pair_fits,
    search_names_product,
)
from creative.vocabulary import (
    INTEREST_KEYWORDS,
    INTEREST_KEYWORDS_KO,
    INTERESTS,
    LANGUAGES,
    LAYOUTS,
    OFFERS,
    PLACEMENTS,
    TONES,
    localize_keyword,
)

__all__ = [
    "AXES",
    "HEADLINE_STYLES",
    "ComponentAxes",
    "call_to_action",
    "component_axes",
    "compose",
    "products",
    "served_copy_components",
]

#: Axis names, in the order of a composition vector.
AXES: tuple[str, ...] = (
    "product",
    "tone",
    "offer",
    "headline",
    "cta",
    "layout",
    "palette",
    "greeting",
    "keyword",
    "language",
)

#: Headline styles: which personal slot the headline carries ("plain" uses only
#: the product and the interest). ``greet_search`` is a plain headline over a body that
#: greets the viewer and quotes their search ("Good evening! Into “cat tree”? This one's
#: for you."), for tones whose copy has such a body and a greeting headline in every
#: language: a viewer without a search naming the product is greeted by the tone's
#: greeting headline instead, so the greeting is always printed.
HEADLINE_STYLES: tuple[str, ...] = ("plain", "greeting", "keyword", "offer", "greet_search")

#: Greeting levels: none, or the user's own active time of day.
GREETING_LEVELS: tuple[str, ...] = ("none", "timely")

#: Keyword levels: none, or the viewer's own search that names the product
#: (:func:`creative.catalogue.product_search`). A viewer who made no such search sees
#: the copy of the no-keyword level: the search is never one they did not make.
KEYWORD_LEVELS: tuple[str, ...] = ("none", "search")

_STYLE_SLOTS = {"greeting": "greeting", "keyword": "keyword", "offer": "offer"}


def products(catalogue: dict[str, tuple[Product, ...]] | None = None) -> tuple[Product, ...]:
    """A catalogue flattened in ``INTERESTS`` order: the levels of the product axis.

    Parameters
    ----------
    catalogue : dict of str to tuple of Product, optional
        Category -> products (``creative.catalogue.read_catalogue``'s shape);
        defaults to the bundled :data:`~creative.catalogue.CATALOGUE`.
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    return tuple(p for c in INTERESTS for p in catalogue.get(c, ()))


def _style(template: CopyTemplate) -> str:
    for style in ("greeting", "keyword", "offer"):
        if _STYLE_SLOTS[style] in template.slots:
            return style
    return "plain"


#: The slots of a ``greet_search`` body.
_GREET_SEARCH: frozenset[str] = frozenset({"greeting", "keyword"})


def _head_style(style: str) -> str:
    # The headline's own style: a greet_search composition prints a plain headline.
    return "plain" if style == "greet_search" else style


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ComponentAxes:
    """The component space as arrays.

    Parameters
    ----------
    names : tuple of str
        Axis names (:data:`AXES`).
    levels : tuple of tuple of str
        Level names per axis.
    level_mask : ndarray of shape (n_levels_total,), bool
        False for a level that is never valid (levels of all axes laid end to end).
    pair_mask : ndarray of shape (n_levels_total, n_levels_total), bool
        Symmetric; False for two levels of different axes that may not appear
        together. Entries within one axis are True and unused.
    """

    names: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    level_mask: np.ndarray
    pair_mask: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        """Start of each axis in the flat level index, ndarray of shape (n_axes + 1,)."""
        return np.concatenate([[0], np.cumsum([len(x) for x in self.levels])]).astype(np.int64)


def _cta_counts(templates: TemplateSet, tone: str) -> int:
    return min(len(templates.options(lang, tone, "cta", frozenset())) for lang in LANGUAGES)


def _slot_widths(language: str, kit: BrandKit) -> dict[str, int]:
    # The widest value each slot can take, over every product, offer, greeting and keyword.
    return {
        "interest": max(display_width(v) for v in INTEREST_LABELS[language].values()),
        "offer": max(display_width(v) for v in OFFER_LABELS[language].values()),
        "greeting": max(display_width(v) for v in GREETINGS[language].values()),
        "keyword": max(
            display_width(k)
            for ks in (INTEREST_KEYWORDS_KO if language == "ko" else INTEREST_KEYWORDS).values()
            for k in ks
        ),
    }


def _worst_width(template: CopyTemplate, product_width: int, widths: dict[str, int]) -> int:
    total = 0
    for is_slot, value in template.pieces:
        if not is_slot:
            total += display_width(value)
        else:
            total += product_width if value == "product" else widths[value]
    return total


def component_axes(
    *,
    kit: BrandKit = DEFAULT_KIT,
    templates: TemplateSet | None = None,
    placement: str = "feed",
    catalogue: dict[str, tuple[Product, ...]] | None = None,
) -> ComponentAxes:
    """The component space of a kit, a template set and a product catalogue.

    Parameters
    ----------
    kit : BrandKit, default DEFAULT_KIT
        Gives the palettes, the banned claims and the disclosure rule.
    templates : TemplateSet, optional
        Defaults to the bundled templates.
    placement : str, default "feed"
        Whose length limits the guardrail constraints use.
    catalogue : dict of str to tuple of Product, optional
        The products of the product axis (:func:`products`); defaults to the
        bundled catalogue.

    Returns
    -------
    axes : ComponentAxes

    Examples
    --------
    >>> axes = component_axes()
    >>> axes.names[:3], [len(x) for x in axes.levels]
    (('product', 'tone', 'offer'), [42, 5, 5, 5, 3, 4, 5, 2, 2, 2])
    """
    if not isinstance(kit, BrandKit):
        raise TypeError(f"`kit` must be a BrandKit; got {type(kit).__name__}.")
    if placement not in PLACEMENTS:
        raise ValueError(f"`placement` must be one of {list(PLACEMENTS)}; got {placement!r}.")
    templates = templates if templates is not None else default_templates()
    if kit.requires_ai_disclosure and not all(kit.disclosure_label(x) for x in LANGUAGES):
        raise ValueError("`kit` requires a disclosure label it does not give.")
    prods = products(catalogue)
    if not prods:
        raise ValueError("`catalogue` has no products.")
    n_cta = max(
        len(templates.options(lang, t, "cta", frozenset())) for lang in LANGUAGES for t in TONES
    )
    levels = (
        tuple(f"{p.category}:{p.name}" for p in prods),
        TONES,
        OFFERS,
        HEADLINE_STYLES,
        tuple(f"cta{i}" for i in range(n_cta)),
        LAYOUTS,
        tuple(p.name for p in kit.palettes),
        GREETING_LEVELS,
        KEYWORD_LEVELS,
        LANGUAGES,
    )
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in levels])])
    n_total = int(offsets[-1])
    ax = {name: i for i, name in enumerate(AXES)}
    level_mask = np.ones(n_total, dtype=bool)
    pair = np.ones((n_total, n_total), dtype=bool)

    def g(axis: str, level: int) -> int:
        return int(offsets[ax[axis]] + level)

    def forbid(a: str, i: int, b: str, j: int) -> None:
        pair[g(a, i), g(b, j)] = pair[g(b, j), g(a, i)] = False

    # Guardrail: contrast of every palette.
    for i, p in enumerate(kit.palettes):
        if any(contrast_ratio(fg, bg) < MIN_CONTRAST for _, fg, bg in p.text_pairs()):
            level_mask[g("palette", i)] = False
    # Offer fits the product.
    for i, p in enumerate(prods):
        for j, offer in enumerate(OFFERS):
            if not offer_fits(p, offer):  # no free shipping on an app, no discount on an account
                forbid("product", i, "offer", j)
    # Headline style needs its slot.
    forbid("headline", HEADLINE_STYLES.index("offer"), "offer", OFFERS.index("none"))
    forbid("headline", HEADLINE_STYLES.index("keyword"), "keyword", 0)
    forbid("headline", HEADLINE_STYLES.index("greeting"), "greeting", 0)
    gs_style = HEADLINE_STYLES.index("greet_search")
    forbid("headline", gs_style, "greeting", 0)
    forbid("headline", gs_style, "keyword", 0)
    # A greeting or a search that is switched on is printed: the copy of any other headline
    # style carries neither (its body follows its style), and the response model reads the
    # greeting and the search as seen.
    for s, style in enumerate(HEADLINE_STYLES):
        if style not in ("greeting", "greet_search"):
            forbid("headline", s, "greeting", 1)
        if style not in ("keyword", "greet_search"):
            forbid("headline", s, "keyword", 1)
    limits = LENGTH_LIMITS[placement]
    for t, tone in enumerate(TONES):
        for s, style in enumerate(HEADLINE_STYLES):
            usable = [
                [
                    h
                    for h in templates.options(lang, tone, "headline", frozenset(_ALL_SLOTS))
                    if _style(h) == _head_style(style)
                    and not find_banned_claims(h.text, kit.banned_claims)
                ]
                for lang in LANGUAGES
            ]
            if style == "greet_search" and not all(
                _greet_search_bodies(templates, lang, tone) for lang in LANGUAGES
            ):
                usable = [[] for _ in LANGUAGES]
            if not all(usable):
                forbid("tone", t, "headline", s)
                continue
            # Guardrail: length, worst case over every slot value, per product.
            for i, p in enumerate(prods):
                for lang, hs in zip(LANGUAGES, usable, strict=True):
                    widths = _slot_widths(lang, kit)
                    pw = display_width(p.display_name(lang))
                    head = max(_worst_width(x, pw, widths) for x in hs)
                    if (
                        head > limits.headline
                        or _worst_body(templates, lang, tone, style, pw, widths, kit) > limits.body
                    ):
                        forbid("product", i, "headline", s)
        # A keyword composition for a viewer without the product's search is written in
        # the plain style, so it is forbidden wherever the plain style is.
        k_style, p_style = HEADLINE_STYLES.index("keyword"), HEADLINE_STYLES.index("plain")
        for i in range(len(prods)):
            if (
                not pair[g("product", i), g("headline", p_style)]
                or not pair[g("tone", t), g("headline", p_style)]
            ):
                forbid("product", i, "headline", k_style)
        # So is a greet_search composition in the greeting style (no search to quote: the
        # greeting headline greets).
        g_style = HEADLINE_STYLES.index("greeting")
        if not pair[g("tone", t), g("headline", g_style)]:
            forbid("tone", t, "headline", gs_style)
        for i in range(len(prods)):
            if not pair[g("product", i), g("headline", g_style)]:
                forbid("product", i, "headline", gs_style)
        for c in range(_cta_counts(templates, tone), n_cta):
            forbid("tone", t, "cta", c)
        for c in range(_cta_counts(templates, tone)):
            for lang in LANGUAGES:
                cta = templates.options(lang, tone, "cta", frozenset())[c]
                if find_banned_claims(cta.text, kit.banned_claims) or (
                    display_width(cta.text) > limits.cta
                ):
                    forbid("tone", t, "cta", c)
    return ComponentAxes(names=AXES, levels=levels, level_mask=level_mask, pair_mask=pair)


_ALL_SLOTS = ("product", "interest", "keyword", "offer", "greeting")


def _prefer(options: list[CopyTemplate], fits) -> CopyTemplate:
    # The first option that fits among those with the first one's slots, else the first:
    # what the ad prints of the viewer (greeting, search) never changes with the choice.
    return next((o for o in options if o.slots == options[0].slots and fits(o)), options[0])


def _greet_search_bodies(templates: TemplateSet, language: str, tone: str) -> list[CopyTemplate]:
    # The tone's bodies that greet and quote the search, beside at least one plain headline.
    heads = [
        h
        for h in templates.options(language, tone, "headline", frozenset(_ALL_SLOTS))
        if _style(h) == "plain"
    ]
    bodies = templates.options(language, tone, "body", frozenset(_ALL_SLOTS))
    return [b for b in bodies if b.slots >= _GREET_SEARCH and any(pair_fits(h, b) for h in heads)]


def _body_template(
    templates: TemplateSet,
    language: str,
    tone: str,
    style: str,
    available: frozenset[str],
    headline: CopyTemplate | None = None,
    cta: CopyTemplate | None = None,
) -> CopyTemplate:
    # The body follows the headline's style where the tone has such a body, else it is
    # plain; among those, one that complements the headline (names nothing it names) and
    # whose words the call to action does not repeat.
    options = templates.options(language, tone, "body", available)
    if headline is not None:
        options = fitting_bodies(headline, options)
    if style == "greet_search":
        # The body greets and quotes the search; no other body will do.
        both = [b for b in options if b.slots >= _GREET_SEARCH]
        if not both:
            raise ValueError(
                f"templates from {templates.source}: no {language}.{tone}.body template "
                "prints both {greeting} and {keyword}."
            )
        lines = (headline,) if headline is not None else ()
        return _prefer(both, lambda b: cta is None or cta_fits(cta, *lines, b))
    same = [b for b in options if _style(b) == style]
    plain = [b for b in options if _style(b) == "plain"]
    group = same or plain
    if group:
        lines = (headline,) if headline is not None else ()
        return _prefer(group, lambda b: cta is None or cta_fits(cta, *lines, b))
    raise ValueError(
        f"templates from {templates.source}: no plain {language}.{tone}.body template; "
        "add one that uses only {product} and {interest}."
    )


def _worst_body(
    templates: TemplateSet,
    language: str,
    tone: str,
    style: str,
    product_width: int,
    widths: dict[str, int],
    kit: BrandKit,
) -> int:
    heads = [
        h
        for h in templates.options(language, tone, "headline", frozenset(_ALL_SLOTS))
        if _style(h) == _head_style(style)
    ] or [None]
    ctas = templates.options(language, tone, "cta", frozenset(_ALL_SLOTS))
    worst = 0
    for head in heads:
        # Any body compose may print: the call to action can steer it (_body_template).
        for cta in (None, *ctas):
            body = _body_template(
                templates, language, tone, style, frozenset(_ALL_SLOTS), head, cta
            )
            if find_banned_claims(body.text, kit.banned_claims):
                return 10**9
            worst = max(worst, _worst_width(body, product_width, widths))
    return worst


def call_to_action(
    tone: int, language: int, index: int, templates: TemplateSet | None = None
) -> str | None:
    """The words of a tone's ``index``-th call to action in a language (the ``cta`` axis).

    The ``cta`` level is an index into the tone's calls to action, so its words change
    with the tone: a composer names them for the tone chosen.

    Parameters
    ----------
    tone, language, index : int
        Levels of the ``tone``, ``language`` and ``cta`` axes.
    templates : TemplateSet, optional
        The copy templates (the bundled ones by default).

    Returns
    -------
    words : str or None
        None when the tone has no such call to action in that language.
    """
    templates = templates if templates is not None else default_templates()
    ctas = templates.options(LANGUAGES[language], TONES[tone], "cta", frozenset())
    return ctas[index].text if 0 <= index < len(ctas) else None


def served_copy_components(
    creative: Creative, *, templates: TemplateSet | None = None, kit: BrandKit = DEFAULT_KIT
) -> tuple[int | None, int | None]:
    """The headline style and call to action of a creative as served, read from its copy.

    A creative records its product, tone, offer, layout, palette, greeting and search, but
    not which headline template or call to action it printed: those are read back here
    by filling the tone's templates with the creative's own values and finding its text.

    Parameters
    ----------
    creative : Creative
    templates : TemplateSet, optional
        The templates it was written with (the bundled ones by default).
    kit : BrandKit, default DEFAULT_KIT
        The brand whose declared facts the templates may print.

    Returns
    -------
    headline, cta : int or None
        Levels of the ``headline`` and ``cta`` axes (an index into :data:`HEADLINE_STYLES`;
        an index into the tone's calls to action, as :func:`compose` counts them); None
        where no template of the tone prints the creative's text.

    Examples
    --------
    >>> from creative import Audience
    >>> user = Audience(kind="user", audience_id="u1", name="u1", top_interests=("pets",),
    ...                 keywords=("cat tree",), active_hours="evening")
    >>> served_copy_components(compose((24, 0, 3, 2, 1, 0, 0, 0, 1, 0), user))
    (2, 1)
    """
    templates = templates if templates is not None else default_templates()
    c, language = creative, creative.language
    values = {
        "product": c.product,
        "interest": INTEREST_LABELS[language][c.category],
        "keyword": c.keyword or "",
        "offer": OFFER_LABELS[language][c.offer],
        "greeting": GREETINGS[language][c.greeting] if c.greeting else "",
        **{fact: kit.fact(fact) or "" for fact in FACT_FORMATS},
    }
    available = frozenset(k for k, v in values.items() if v)
    named = search_names_product(c.keyword, c.product) if c.keyword else False

    def printed(t: CopyTemplate) -> set[str]:
        # Either variant: the one without the product's name is printed when the quoted
        # search names it, which only a line with the search slot knows.
        return {normalize_text(v.fill(values)) for v in {t, t.for_search(named)}}

    heads = templates.options(language, c.tone, "headline", available)
    style = next((_style(h) for h in heads if c.headline in printed(h)), None)
    if style == "plain" and c.greeting and c.keyword:
        style = "greet_search"  # a plain headline over a body that greets and quotes
    # Counted as compose counts them: among the calls to action its slots can fill.
    ctas = templates.options(language, c.tone, "cta", available - set(FACT_FORMATS))
    cta = next((i for i, t in enumerate(ctas) if c.cta in printed(t)), None)
    return (None if style is None else HEADLINE_STYLES.index(style)), cta


def compose(
    combo: np.ndarray | tuple[int, ...],
    audience: Audience,
    *,
    kit: BrandKit = DEFAULT_KIT,
    templates: TemplateSet | None = None,
    placement: str = "feed",
    catalogue: dict[str, tuple[Product, ...]] | None = None,
) -> Creative:
    """The creative of one composition for one audience.

    Deterministic: the same composition and audience give the same creative.

    Parameters
    ----------
    combo : array-like of int, shape (n_axes,)
        One level index per axis of :data:`AXES`.
    audience : Audience
        Whom it is for: gives the greeting's time of day and the user's own search.
    kit : BrandKit, default DEFAULT_KIT
    templates : TemplateSet, optional
    placement : str, default "feed"
    catalogue : dict of str to tuple of Product, optional
        The catalogue the composition's product index refers to (that of the
        :func:`component_axes` it was drawn from); defaults to the bundled one.

    Returns
    -------
    creative : Creative
        With its guardrail verdict; a valid composition always passes.

    Examples
    --------
    >>> from creative import Audience
    >>> user = Audience(kind="user", audience_id="u1", name="u1", top_interests=("pets",),
    ...                 keywords=("cat tree",), active_hours="evening")
    >>> c = compose((24, 0, 3, 2, 0, 0, 0, 0, 1, 0), user)
    >>> c.product, c.offer, c.greeting, c.guardrail.passed
    ('Cat Tree Tower', 'discount_20', None, True)
    >>> c.headline
    'Into “cat tree”? Meet the Cat Tree Tower'
    """
    templates = templates if templates is not None else default_templates()
    combo = tuple(int(x) for x in np.asarray(combo).ravel())
    prods = products(catalogue)
    if len(combo) != len(AXES):
        raise ValueError(f"`combo` must have {len(AXES)} entries; got {len(combo)}.")
    p, t, o, h, c, lay, pal, gr, kw, lang = combo
    sizes = (len(prods), len(TONES), len(OFFERS), len(HEADLINE_STYLES), None, len(LAYOUTS))
    for name, value, size in zip(AXES, combo, sizes, strict=False):
        if size is not None and not 0 <= value < size:
            raise ValueError(f"`combo` {name} level must be in [0, {size}); got {value}.")
    product = prods[p]
    language = LANGUAGES[lang]
    tone = TONES[t]
    offer = OFFERS[o]
    style = HEADLINE_STYLES[h]
    category = product.category
    greeting = (audience.active_hours or "daytime") if gr == 1 else None
    keyword = None
    if kw == 1:
        # Only the viewer's own search that names the product: a quoted search always
        # matches the product shown, and no ad quotes a search its viewer did not make.
        # Without one the copy is the no-keyword copy (a keyword headline is written in
        # the plain style): the keyword level then changes nothing, in the copy as in the
        # world (simulation.scenario.GeneratedLevel.content credits no search either).
        named = product_search(product)
        own = {localize_keyword(k, "en") for k in audience.keywords}
        if named is not None and named in own:
            keyword = localize_keyword(named, language)
    if style == "keyword" and keyword is None:
        style = "plain"
    if style == "greet_search" and keyword is None:
        # No search to quote: the tone's greeting headline greets (the space allows
        # greet_search only where the greeting style is valid).
        style = "greeting"
    values = {
        "product": product.display_name(language),
        "interest": INTEREST_LABELS[language][category],
        "keyword": keyword or "",
        "offer": OFFER_LABELS[language][offer],
        "greeting": GREETINGS[language][greeting] if greeting else "",
    }
    available = frozenset(k for k, v in values.items() if v)
    heads = [
        x
        for x in templates.options(language, tone, "headline", available)
        if _style(x) == _head_style(style) and not find_banned_claims(x.text, kit.banned_claims)
    ]
    if not heads:
        raise ValueError(f"`combo` is not valid: no {language}.{tone} headline of style {style!r}.")
    ctas = templates.options(language, tone, "cta", available)
    if c >= len(ctas):
        raise ValueError(
            f"`combo` is not valid: {language}.{tone} has {len(ctas)} calls to action."
        )
    # The call to action is the composition's; the headline and body are chosen so that it
    # repeats neither (the bundled ones never clash: the first headline and its body).
    head = _prefer(
        heads,
        lambda h: cta_fits(
            ctas[c], h, _body_template(templates, language, tone, style, available, h, ctas[c])
        ),
    )
    body = _body_template(templates, language, tone, style, available, head, ctas[c])
    # A quoted search that is the product's own name names it already: the headline prints
    # its variant without the name.
    named = "keyword" in head.slots | body.slots and search_names_product(
        keyword, values["product"]
    )
    creative = Creative(
        audience=audience,
        brand=kit.name,
        product=product.display_name(language),
        category=category,
        price=product.price,
        show_price=product.price_shown,
        headline=normalize_text(head.for_search(named).fill(values)),
        body=normalize_text(body.for_search(named).fill(values)),
        cta=normalize_text(ctas[c].for_search(named).fill(values)),
        tone=tone,
        offer=offer,
        palette=kit.palettes[pal],
        layout=LAYOUTS[lay],
        motif=motif_for(product),
        language=language,
        # Recorded only when printed (what the response model reads as seen): a valid
        # composition greets and prints its search whenever they are on; an invalid one
        # may not.
        greeting=greeting if "greeting" in head.slots | body.slots else None,
        keyword=keyword if "keyword" in head.slots | body.slots else None,
        disclosure=kit.disclosure_label(language) if kit.requires_ai_disclosure else None,
    )
    return replace(creative, guardrail=check_creative(creative, kit=kit, placement=placement))
