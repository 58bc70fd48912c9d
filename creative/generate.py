"""Variant generation: generic controls, per-segment variants and per-user creatives.

Every draw goes through the ``rng`` argument, so the same inputs and seed give
the same creatives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from creative.audience import Audience
from creative.brand import DEFAULT_KIT, FACT_FORMATS, BrandKit
from creative.catalogue import (
    CATALOGUE,
    GREETINGS,
    INTEREST_LABELS,
    OFFER_LABELS,
    Product,
    fitting_offers,
    motif_for,
    offer_fits,
    product_search,
)
from creative.fonts import normalize_text
from creative.guardrails import check_creative, display_width
from creative.limits import LIMITS
from creative.record import Creative
from creative.templates import (
    TemplateSet,
    default_templates,
    fitting_bodies,
    fitting_ctas,
    search_names_product,
)
from creative.vocabulary import (
    DEAL_SEEKER_MIN,
    DESKTOP_MAX,
    LANGUAGES,
    LAYOUTS,
    MOBILE_FIRST_LAYOUTS,
    MOBILE_HEAVY_MIN,
    OFFERS,
    PLACEMENTS,
    PREMIUM_BUYER_MAX,
    TONES,
    keyword_interest,
    localize_keyword,
)

__all__ = [
    "PERSONAL_SLOTS",
    "POPULAR_CATEGORIES",
    "GenerationReport",
    "generate_for_segment",
    "generate_for_user",
    "generate_generic",
    "personal_slots",
    "products_for_search",
    "recommended_placement",
    "shortfall_message",
    "user_personal_slots",
]

#: Categories generic control creatives rotate through: broad appeal, no targeting.
POPULAR_CATEGORIES: tuple[str, ...] = ("fashion", "beauty", "tech", "food", "home", "travel")

#: Offers a control creative may carry, drawn uniformly (no personalization).
_GENERIC_OFFERS: tuple[str, ...] = ("none", "free_shipping", "discount_10")

#: Attempts per requested variant before giving up on finding new distinct ones.
_ATTEMPTS_PER_VARIANT = 25


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationReport:
    """What a generation call produced.

    Parameters
    ----------
    accepted : tuple of Creative
        Distinct creatives that passed every guardrail; the only ones to use.
    rejected : tuple of Creative
        Distinct creatives a guardrail rejected, with their reasons.
    n_requested : int
        How many accepted creatives were asked for.
    n_duplicates : int
        Draws dropped because an identical creative was already made.
    """

    accepted: tuple[Creative, ...]
    rejected: tuple[Creative, ...] = ()
    n_requested: int = 0
    n_duplicates: int = 0

    def __post_init__(self) -> None:
        if any(not c.guardrail.passed for c in self.accepted):
            raise ValueError("`accepted` must hold only creatives that passed the guardrails.")
        if any(c.guardrail.passed for c in self.rejected):
            raise ValueError("`rejected` must hold only creatives the guardrails rejected.")

    @property
    def rejection_counts(self) -> dict[str, int]:
        """Rule name -> number of rejected creatives it fired on."""
        counts: Counter[str] = Counter()
        for c in self.rejected:
            counts.update(set(c.guardrail.rules))
        return dict(sorted(counts.items()))

    @property
    def creatives(self) -> tuple[Creative, ...]:
        """Accepted then rejected creatives."""
        return self.accepted + self.rejected


def shortfall_message(
    report: GenerationReport,
    n: int,
    whose: str,
    *,
    needs: str,
    knob: str,
    files: Sequence[tuple[str, str]] = (),
    catalogue: Catalogue | None = None,
) -> str:
    """Why a pool is short of ads, in one line: the count, the rules, the files, the fix.

    The words of every command that stops when fewer than ``n`` ads pass the guardrails
    (``simulation run``'s ``n_variants``, ``creative render``'s ``--per-segment``), so a
    user reads the same sentence whichever command found it.

    Parameters
    ----------
    report : GenerationReport
        The pool's generation, with fewer than ``n`` accepted creatives.
    n : int
        The creatives the pool needs.
    whose : str
        The pool, e.g. ``"generic en"`` or ``"segment 3"``.
    needs : str
        Who needs them, after "ads": ``"the experiment needs (n_variants)"``.
    knob : str
        What to lower: ``"n_variants"``, ``"--per-segment"``.
    files : sequence of (str, str)
        ``(kind, path)`` of the user's files that wrote the copy (``"catalogue"``,
        ``"templates"``); empty with the bundled ones, when only lowering ``knob`` is left.
    catalogue : mapping of str to tuple of Product, optional
        The user's catalogue: with a ``length`` rejection its longest name is named.

    Returns
    -------
    message : str

    Examples
    --------
    >>> shortfall_message(GenerationReport(accepted=()), 3, "generic", needs="asked for",
    ...                   knob="--per-segment")
    'only 0 of the 3 generic ads asked for passed the guardrails; lower --per-segment (3).'
    """
    counts = sorted(report.rejection_counts.items(), key=lambda item: (-item[1], item[0]))
    text = f"only {len(report.accepted)} of the {n} {whose} ads {needs} passed the guardrails"
    if counts:
        text += " (rejected: " + ", ".join(f"{rule} {k}" for rule, k in counts) + ")"
    if not files:
        return f"{text}; lower {knob} ({n})."
    text += "; the copy came from your " + " and ".join(f"{k} file {p}" for k, p in files)
    if dict(counts).get("length") and catalogue is not None:
        names = [p.name for products in catalogue.values() for p in products]
        longest = max(names, key=display_width)
        text += (
            f" (its longest product name, {longest[:60]!r}, is {display_width(longest)} columns)"
        )
    fix = "shorten the product names or the templates' lines"
    if "length" not in dict(counts):
        fix = "change the catalogue or templates as the rejections say"
    return f"{text}: {fix}, or lower {knob} ({n})."


def recommended_placement(audience: Audience) -> str:
    """The placement that suits an audience: story for mobile-heavy ones, else feed.

    Parameters
    ----------
    audience : Audience

    Returns
    -------
    placement : str
        A key of ``PLACEMENTS``.
    """
    return "story" if audience.mobile_share >= MOBILE_HEAVY_MIN else "feed"


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy.random.Generator; got {type(rng).__name__}.")


def _check_common(kit: object, templates: object, placement: str) -> TemplateSet:
    if not isinstance(kit, BrandKit):
        raise TypeError(f"`kit` must be a BrandKit; got {type(kit).__name__}.")
    if templates is not None and not isinstance(templates, TemplateSet):
        raise TypeError(f"`templates` must be a TemplateSet or None; got {type(templates)}.")
    if placement not in PLACEMENTS:
        raise ValueError(f"`placement` must be one of {list(PLACEMENTS)}; got {placement!r}.")
    return templates if templates is not None else default_templates()


#: A product catalogue: category -> its products (the shape of ``CATALOGUE``).
Catalogue = Mapping[str, tuple[Product, ...]]


def _check_catalogue(catalogue: object) -> Catalogue:
    if catalogue is None:
        return CATALOGUE
    if not isinstance(catalogue, Mapping) or not catalogue:
        raise TypeError("`catalogue` must be None or a non-empty mapping of category -> products.")
    return catalogue


def _sold(categories: tuple[str, ...], catalogue: Catalogue) -> tuple[str, ...]:
    """``categories`` the catalogue sells, in order; all it sells when it sells none of them."""
    return tuple(c for c in categories if catalogue.get(c)) or tuple(
        c for c, products in catalogue.items() if products
    )


def _check_n(n: object) -> None:
    # At most the command's --per-segment: each creative is written and checked one by
    # one (about 3 ms), so n = 10**7 was eight hours of silence, not an error.
    top = LIMITS.per_segment
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or not 1 <= n <= top:
        raise ValueError(f"`n` must be an int in [1, {top}]; got {n!r}.")


def _pick(rng: np.random.Generator, options: tuple, p: np.ndarray | None = None):
    # Draw an index, not an element: rng.choice would turn tuples of records into arrays.
    if p is None:
        return options[int(rng.integers(len(options)))]
    return options[int(rng.choice(len(options), p=p))]


#: The slots that make a creative personal: the viewer's time of day and their search.
PERSONAL_SLOTS: frozenset[str] = frozenset({"greeting", "keyword"})


def _best_pairs(
    templates: TemplateSet, language: str, tone: str, available: frozenset[str]
) -> tuple[frozenset[str], dict]:
    # Every fitting (headline, body) pair printing the most personal slots between them.
    heads = templates.options(language, tone, "headline", available)
    bodies = templates.options(language, tone, "body", available)
    # Ranked by how many they print, then by printing the search (the viewer's own
    # intent): every best pair then prints the same set.
    best, printed, pairs = (-1, False), frozenset(), {}
    for h in heads:
        for b in fitting_bodies(h, bodies):
            shown = (h.slots | b.slots) & PERSONAL_SLOTS
            rank = (len(shown), "keyword" in shown)
            if rank > best:
                best, printed, pairs = rank, shown, {}
            if rank == best:
                pairs.setdefault(h, []).append(b)
    return frozenset(printed), pairs


def personal_slots(
    templates: TemplateSet, language: str, tone: str, available: frozenset[str] | set[str]
) -> frozenset[str]:
    """Which of the viewer's greeting and search a per-user creative prints.

    :func:`generate_for_user` writes its headline and body with a pair of templates that
    prints the most of :data:`PERSONAL_SLOTS` that ``available`` offers; this is that set
    (the simulator's user level reads it, so it credits only what the ad shows).

    Parameters
    ----------
    templates : TemplateSet
    language, tone : str
    available : set of str
        The slots with a value (``product`` and ``interest`` always; ``greeting``,
        ``keyword``, ``offer`` and the brand's facts when they have one).

    Returns
    -------
    printed : frozenset of str
        A subset of ``{"greeting", "keyword"}``.

    Examples
    --------
    >>> from creative.templates import default_templates
    >>> every = {"product", "interest", "greeting", "keyword", "offer"}
    >>> sorted(personal_slots(default_templates(), "en", "playful", every))
    ['greeting', 'keyword']
    >>> sorted(personal_slots(default_templates(), "en", "informative", every))
    ['keyword']
    """
    return _best_pairs(templates, language, tone, frozenset(available))[0]


def user_personal_slots(
    tone: str,
    offer: str,
    language: str,
    *,
    has_keyword: bool,
    templates: TemplateSet | None = None,
    kit: BrandKit = DEFAULT_KIT,
) -> frozenset[str]:
    """What :func:`generate_for_user` prints of a viewer's greeting and search.

    For a viewer with active hours (the simulator's always have them) under the strategy
    ``(tone, offer)``: :func:`personal_slots` with the slots the creative has a value for.
    An offer the product cannot carry (a discount on an account) is dropped by the
    generator; this assumes it can. With the bundled templates that never matters (a test
    holds every tone and language to the same answer with and without ``{offer}``).

    Parameters
    ----------
    tone, offer, language : str
    has_keyword : bool
        Whether the viewer made a search of the category that names one of its products
        (:func:`products_for_search`): only such a search is quoted.
    templates : TemplateSet, optional
        Defaults to the bundled templates.
    kit : BrandKit, default DEFAULT_KIT
        Its declared facts fill ``{rating}`` and ``{customers}``.

    Returns
    -------
    printed : frozenset of str
    """
    templates = templates if templates is not None else default_templates()
    available = {"product", "interest", "greeting"} | {f for f in FACT_FORMATS if kit.fact(f)}
    if has_keyword:
        available.add("keyword")
    if offer != "none":
        available.add("offer")
    return personal_slots(templates, language, tone, available)


def _compose(
    *,
    audience: Audience,
    rng: np.random.Generator,
    kit: BrandKit,
    templates: TemplateSet,
    placement: str,
    language: str,
    category: str,
    tone: str,
    offer: str,
    layout: str,
    greeting: str | None,
    keyword: str | None,
    catalogue: Catalogue = CATALOGUE,
    personal: bool = False,
    choices: tuple[Product, ...] | None = None,
) -> Creative:
    # ``choices``: the products a quoted search names (an ad quoting "cat tree" shows
    # the cat tree); otherwise any product of the category.
    product = _pick(rng, choices or catalogue[category])
    if not offer_fits(product, offer):
        # The offer was drawn for the category; a product that cannot carry it (no
        # discount on an account) gets none. No draw is spent: every other creative
        # comes out as before.
        offer = "none"
    name = product.display_name(language)
    values = {
        "product": name,
        "interest": INTEREST_LABELS[language][category],
        "keyword": keyword or "",
        "offer": OFFER_LABELS[language][offer],
        "greeting": GREETINGS[language][greeting] if greeting else "",
        # Facts the brand declared; a template that names an undeclared one is never used.
        **{fact: kit.fact(fact) or "" for fact in FACT_FORMATS},
    }
    available = frozenset(k for k, v in values.items() if v)
    copy: dict[str, str] = {}
    keyword_used = greeting_used = False
    # A user's headline is drawn among the best pairs' headlines, then its body among
    # that headline's partners (generate_for_user; see personal_slots).
    pairs = _best_pairs(templates, language, tone, available)[1] if personal else {}
    drawn = {}
    for part in ("headline", "body", "cta"):
        options = templates.options(language, tone, part, available)
        if pairs and part != "cta":
            options = tuple(pairs) if part == "headline" else tuple(pairs[drawn["headline"]])
        elif part == "body" and options:
            options = fitting_bodies(drawn["headline"], options)
        elif part == "cta" and options:
            # The button says what the copy above it does not ("Take a closer look." above
            # [Take a look]); the bundled templates never clash, so their draws are unchanged.
            options = fitting_ctas((drawn["headline"], drawn["body"]), options)
        if not options:
            raise ValueError(
                f"templates from {templates.source}: no {language}.{tone}.{part} template can be "
                f"filled with the slots {sorted(available)}; add one that uses only these."
            )
        # Templates and keywords come from files people edit: NFC here means the
        # guardrails, the manifest and the renderer all see composed Hangul.
        template = drawn[part] = _pick(rng, options)
        keyword_used |= "keyword" in template.slots
        greeting_used |= "greeting" in template.slots
    # A quoted search that is the product's own name ("무선 이어폰") names it already: the
    # lines that name it again print their variant without it (no draw depends on this).
    named = keyword_used and search_names_product(keyword, name)
    for part, template in drawn.items():
        copy[part] = normalize_text(template.for_search(named).fill(values))
    creative = Creative(
        audience=audience,
        brand=kit.name,
        product=name,
        category=category,
        price=product.price,
        show_price=product.price_shown,
        headline=copy["headline"],
        body=copy["body"],
        cta=copy["cta"],
        tone=tone,
        offer=offer,
        palette=_pick(rng, kit.palettes),
        layout=layout,
        motif=motif_for(product),
        language=language,
        # Recorded only when printed: the response model reads the greeting and the
        # search as what the viewer sees.
        greeting=greeting if greeting_used else None,
        disclosure=kit.disclosure_label(language) if kit.requires_ai_disclosure else None,
        keyword=normalize_text(keyword) if keyword_used else None,
    )
    return replace(creative, guardrail=check_creative(creative, kit=kit, placement=placement))


def _profile_offers(audience: Audience) -> tuple[str, ...]:
    # Deal-seekers respond to money off; premium buyers to a plain product.
    ps = audience.price_sensitivity
    if ps >= DEAL_SEEKER_MIN:
        return ("discount_20", "discount_30")
    if ps >= PREMIUM_BUYER_MAX:
        return ("free_shipping", "discount_10")
    return ("none", "free_shipping")


def _profile_layouts(audience: Audience) -> tuple[str, ...]:
    if audience.mobile_share >= MOBILE_HEAVY_MIN:
        return tuple(x for x in LAYOUTS if x in MOBILE_FIRST_LAYOUTS)
    if audience.mobile_share < DESKTOP_MAX:
        return tuple(x for x in LAYOUTS if x not in MOBILE_FIRST_LAYOUTS)
    return LAYOUTS


def _profile_tone_p(audience: Audience) -> np.ndarray:
    weights = np.ones(len(TONES))
    if audience.price_sensitivity >= DEAL_SEEKER_MIN:
        weights[TONES.index("urgent")] = 3.0
    elif audience.price_sensitivity < PREMIUM_BUYER_MAX:
        weights[TONES.index("premium")] = 3.0
    return weights / weights.sum()


def _interest_p(interests: tuple[str, ...]) -> np.ndarray:
    # The first interest leads; later ones add variety with decreasing weight.
    weights = 1.0 / np.arange(1, len(interests) + 1)
    return weights / weights.sum()


def products_for_search(keyword: str, catalogue: Catalogue | None = None) -> tuple[Product, ...]:
    """The products a search is about: those it names.

    A product's search is :func:`creative.catalogue.product_search` (the vocabulary search
    sharing the most words with its name), the matching the simulated world's keyword
    relevance uses, so the copy quotes a search exactly where the world credits one.

    Parameters
    ----------
    keyword : str
        A search, in English or Korean, any case.
    catalogue : mapping of str to tuple of Product, optional
        Defaults to :data:`~creative.catalogue.CATALOGUE`.

    Returns
    -------
    products : tuple of Product
        In catalogue order; empty for a search no product answers ("litter") or one
        outside the vocabulary.

    Examples
    --------
    >>> [p.name for p in products_for_search("Cat Tree")], products_for_search("litter")
    (['Cat Tree Tower'], ())
    """
    catalogue = _check_catalogue(catalogue)
    english, category = localize_keyword(keyword, "en"), keyword_interest(keyword)
    if english is None:
        return ()
    return tuple(p for p in catalogue.get(category, ()) if product_search(p) == english)


def _searches_for(
    audience: Audience, category: str, language: str, catalogue: Catalogue
) -> tuple[tuple[str, tuple[Product, ...]], ...]:
    # The audience's searches of the product's category that name a product, most recent
    # first, each in the copy's language with the products it names: a quoted search always
    # comes with its product ("cat tree" above the cat tree), a lip-tint search never
    # introduces a yoga mat, and Korean copy never prints an English search. A search no
    # product answers ("litter"), or outside the vocabulary, is not quoted at all.
    found: dict[str, tuple[Product, ...]] = {}
    for k in audience.keywords:
        if keyword_interest(k) != category:
            continue
        named = products_for_search(k, catalogue)
        local = localize_keyword(k, language)
        if named and local is not None:
            found.setdefault(local, named)
    return tuple(found.items())


def _collect(n: int, draw) -> GenerationReport:
    accepted: list[Creative] = []
    rejected: list[Creative] = []
    seen: set[str] = set()
    duplicates = 0
    for _ in range(n * _ATTEMPTS_PER_VARIANT):
        creative = draw()
        if creative.creative_id in seen:
            duplicates += 1
            continue
        seen.add(creative.creative_id)
        (accepted if creative.guardrail.passed else rejected).append(creative)
        if len(accepted) == n:
            break
    return GenerationReport(
        accepted=tuple(accepted),
        rejected=tuple(rejected),
        n_requested=n,
        n_duplicates=duplicates,
    )


def generate_generic(
    n: int,
    rng: np.random.Generator,
    *,
    language: str = "en",
    kit: BrandKit = DEFAULT_KIT,
    templates: TemplateSet | None = None,
    placement: str = "feed",
    catalogue: Catalogue | None = None,
) -> GenerationReport:
    """Control creatives that use no audience data.

    No greeting, no keyword, products spread over :data:`POPULAR_CATEGORIES`,
    tone, layout and a small offer drawn uniformly.

    Parameters
    ----------
    n : int
        Accepted creatives wanted, in [1, 500] (``creative.limits.LIMITS.per_segment``;
        fewer come back when the templates cannot make ``n`` distinct ones that pass).
    rng : numpy.random.Generator
    language : str, default "en"
    kit : BrandKit, default DEFAULT_KIT
    templates : TemplateSet, optional
        Defaults to the bundled templates.
    placement : str, default "feed"
        Placement whose length limits the guardrails apply.
    catalogue : mapping of str to tuple of Product, optional
        Products to advertise (default :data:`~creative.catalogue.CATALOGUE`); the
        categories rotate over those of :data:`POPULAR_CATEGORIES` it sells (all
        it sells when none).

    Returns
    -------
    report : GenerationReport
    """
    _check_n(n)
    _check_rng(rng)
    templates = _check_common(kit, templates, placement)
    if language not in LANGUAGES:
        raise ValueError(f"`language` must be one of {list(LANGUAGES)}; got {language!r}.")
    audience = Audience.generic(language)
    catalogue = _check_catalogue(catalogue)
    categories = _sold(POPULAR_CATEGORIES, catalogue)

    def draw() -> Creative:
        category = _pick(rng, categories)
        return _compose(
            audience=audience,
            rng=rng,
            kit=kit,
            templates=templates,
            placement=placement,
            language=language,
            category=category,
            tone=_pick(rng, TONES),
            offer=_pick(rng, fitting_offers(category, _GENERIC_OFFERS)),
            layout=_pick(rng, LAYOUTS),
            greeting=None,
            keyword=None,
            catalogue=catalogue,
        )

    return _collect(n, draw)


def generate_for_segment(
    audience: Audience,
    n: int,
    rng: np.random.Generator,
    *,
    kit: BrandKit = DEFAULT_KIT,
    templates: TemplateSet | None = None,
    placement: str = "feed",
    catalogue: Catalogue | None = None,
) -> GenerationReport:
    """Distinct variants that follow a segment's profile.

    The product comes from the top interests (the first most often), the
    product from that category, the ``{keyword}`` slot from the segment's
    searches that name that product (:func:`products_for_search`; in the copy's
    language; none when the segment made no such search: the copy then quotes
    no search). The greeting from its active hours, the offer from its price
    sensitivity among the offers that fit the category (no free shipping on
    products that are not shipped; see ``catalogue.NOT_SHIPPED``; deal-seekers,
    ``>= DEAL_SEEKER_MIN``, get 20-30 % off; premium buyers, below
    ``PREMIUM_BUYER_MAX``, no discount), the layout from its mobile share
    (mobile segments, ``>= MOBILE_HEAVY_MIN``, get mobile-first layouts;
    desktop ones, below ``DESKTOP_MAX``, the detailed ones) and the tone leans
    urgent for deal-seekers and premium for premium buyers.

    Parameters
    ----------
    audience : Audience
        A segment (or any non-generic audience).
    n : int
        Accepted variants wanted, in [1, 500] (``creative.limits.LIMITS.per_segment``).
    rng : numpy.random.Generator
    kit : BrandKit, default DEFAULT_KIT
    templates : TemplateSet, optional
    placement : str, default "feed"
    catalogue : mapping of str to tuple of Product, optional
        Products to advertise (default ``CATALOGUE``); the segment's interests it
        does not sell are skipped (all it sells stand in when it sells none of them).

    Returns
    -------
    report : GenerationReport

    Examples
    --------
    >>> import numpy as np
    >>> from creative import Audience
    >>> gamers = Audience(kind="segment", audience_id="s0", name="Night-owl gamers",
    ...                   top_interests=("gaming",), active_hours="night",
    ...                   mobile_share=0.9, price_sensitivity=0.9)
    >>> report = generate_for_segment(gamers, 4, np.random.default_rng(0))
    >>> len(report.accepted), {c.greeting for c in report.accepted} <= {"night", None}
    (4, True)
    >>> {c.layout for c in report.accepted} <= {"hero", "minimal"}
    True
    >>> report.accepted[0].attributes.shape
    (30,)
    """
    _check_n(n)
    _check_rng(rng)
    templates = _check_common(kit, templates, placement)
    if not isinstance(audience, Audience) or audience.kind == "generic":
        raise ValueError("`audience` must be a segment or user Audience; use generate_generic.")
    offers, layouts = _profile_offers(audience), _profile_layouts(audience)
    catalogue = _check_catalogue(catalogue)
    interests = _sold(audience.top_interests, catalogue)
    tone_p, interest_p = _profile_tone_p(audience), _interest_p(interests)

    def draw() -> Creative:
        category = _pick(rng, interests, interest_p)
        # The product first (a segment's ads spread over its category), then the segment's
        # search naming that product, if it made one: the quote always fits the product.
        product = _pick(rng, catalogue[category])
        searches = _searches_for(audience, category, audience.language, catalogue)
        keyword = next((k for k, named in searches if product in named), None)
        return _compose(
            audience=audience,
            rng=rng,
            kit=kit,
            templates=templates,
            placement=placement,
            language=audience.language,
            category=category,
            tone=_pick(rng, TONES, tone_p),
            offer=_pick(rng, fitting_offers(category, offers)),
            layout=_pick(rng, layouts),
            greeting=audience.active_hours,
            keyword=keyword,
            catalogue=catalogue,
            choices=(product,),
        )

    return _collect(n, draw)


def generate_for_user(
    audience: Audience,
    rng: np.random.Generator,
    *,
    tone: str | None = None,
    offer: str | None = None,
    layout: str | None = None,
    kit: BrandKit = DEFAULT_KIT,
    templates: TemplateSet | None = None,
    placement: str = "feed",
    catalogue: Catalogue | None = None,
) -> Creative:
    """One creative for one user.

    Uses the user's top interest, their most recent search of that interest
    that names a product of the catalogue (:func:`products_for_search`; in
    the copy's language) with the product it names (without such a search the
    copy quotes none and the product is any of the category's), active time
    of day as the greeting, and language. ``tone``, ``offer`` and ``layout``
    fix those components (the simulator's "strategy"); left None, they
    follow the profile as in :func:`generate_for_segment`. An ``offer`` that does not fit the top
    interest (free shipping on a product that is not shipped) is an error.

    Parameters
    ----------
    audience : Audience
        Usually ``kind="user"``; any non-generic audience works.
    rng : numpy.random.Generator
    tone, offer, layout : str, optional
        Overrides from ``TONES``, ``OFFERS`` and ``LAYOUTS``.
    kit : BrandKit, default DEFAULT_KIT
    templates : TemplateSet, optional
    placement : str, default "feed"
    catalogue : mapping of str to tuple of Product, optional
        Products to advertise (default ``CATALOGUE``): the first of the user's
        interests it sells (the first category it sells when none).

    Returns
    -------
    creative : Creative
        Check ``creative.guardrail.passed`` before use.

    Examples
    --------
    >>> import numpy as np
    >>> from creative import Audience
    >>> user = Audience(kind="user", audience_id="u1", name="u1", top_interests=("pets",),
    ...                 keywords=("cat tree",), active_hours="evening", language="ko")
    >>> c = generate_for_user(user, np.random.default_rng(0), tone="urgent", offer="discount_20")
    >>> (c.category, c.tone, c.offer, c.greeting, c.language, c.guardrail.passed)
    ('pets', 'urgent', 'discount_20', 'evening', 'ko', True)
    """
    _check_rng(rng)
    templates = _check_common(kit, templates, placement)
    if not isinstance(audience, Audience) or audience.kind == "generic":
        raise ValueError("`audience` must be a user or segment Audience; use generate_generic.")
    for name, value, allowed in (("tone", tone, TONES), ("offer", offer, OFFERS)):
        if value is not None and value not in allowed:
            raise ValueError(f"`{name}` must be None or one of {list(allowed)}; got {value!r}.")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"`layout` must be None or one of {list(LAYOUTS)}; got {layout!r}.")
    catalogue = _check_catalogue(catalogue)
    category = _sold(audience.top_interests, catalogue)[0]
    if offer is not None and offer not in fitting_offers(category, (offer,)):
        raise ValueError(
            f"`offer` must fit the product: {offer!r} is not offered on {category} products "
            "(they are not shipped); choose another offer."
        )
    searches = _searches_for(audience, category, audience.language, catalogue)
    keyword, choices = searches[0] if searches else (None, None)
    return _compose(
        audience=audience,
        rng=rng,
        kit=kit,
        templates=templates,
        placement=placement,
        language=audience.language,
        category=category,
        tone=tone if tone is not None else _pick(rng, TONES, _profile_tone_p(audience)),
        offer=offer
        if offer is not None
        else _pick(rng, fitting_offers(category, _profile_offers(audience))),
        layout=layout if layout is not None else _pick(rng, _profile_layouts(audience)),
        greeting=audience.active_hours,
        keyword=keyword,
        catalogue=catalogue,
        personal=True,
        choices=choices,
    )
