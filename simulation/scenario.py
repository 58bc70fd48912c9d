"""Segments -> audiences -> creatives -> arm features.

This is the one module of ``simulation/`` that imports the creative studio.
It builds the world of an experiment from a config: the synthetic audience and
its segments, the hidden response model, and for each personalization level the
arms a policy chooses among:

- ``generic``: ``n_variants`` control creatives shown to everyone (each viewer
  sees them in their own language unless ``world.localized_control`` is off);
- ``segment``: arm ``k`` is the ``k``-th variant written for the viewer's segment;
- ``user``: arm ``k`` is a *strategy* (tone, offer, layout); the creative is
  generated for the viewer from their top interest, active hours and language.

The engine and the policies then see arrays only: attribute tensors of shape
(n, n_arms, n_attributes) and contexts of shape (n, n_features).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from creative.attributes import N_ATTRIBUTES, attribute_slices, encode_attributes
from creative.audience import Audience
from creative.catalogue import CATALOGUE, fitting_offers, product_search
from creative.components import AXES, HEADLINE_STYLES, compose, products
from creative.generate import (
    generate_for_segment,
    generate_generic,
    products_for_search,
    shortfall_message,
    user_personal_slots,
)
from creative.record import Creative
from creative.vocabulary import (
    INTEREST_KEYWORDS_KO,
    INTERESTS,
    LANGUAGES,
    LAYOUTS,
    OFFER_DISCOUNT,
    OFFERS,
    TIMES_OF_DAY,
    TONES,
)
from simulation.config import ExperimentConfig
from simulation.inputs import Inputs, InputsRejected, read_inputs
from simulation.population import (
    KEYWORDS,
    KEYWORDS_PER_INTEREST,
    N_USER_FEATURES,
    Population,
    Segmentation,
    generate_population,
    population_from_segments,
    segment_population,
)
from simulation.response import (
    ArmContent,
    ResponseModel,
    category_mean_price,
    sample_response_params,
)
from simulation.rng import stream
from simulation.winners import creative_labels

__all__ = [
    "ATTRIBUTE_SLICES",
    "FACTORS",
    "LAYOUT_ATTRIBUTES",
    "N_ATTRIBUTES",
    "OFFER_ATTRIBUTES",
    "OFFER_KEPT",
    "POOL_FROZEN_AXES",
    "USER_STRATEGIES",
    "GeneratedLevel",
    "Level",
    "PoolComposer",
    "Scenario",
    "audience_of",
    "build_scenario",
    "composition_image",
    "creative_space",
    "english_product_names",
    "generated_level",
    "keyword_code",
    "most_served_sheet",
    "pool_composer",
    "product_space",
    "too_few_ads",
]

_S = attribute_slices()

#: Per-user strategies (tone, offer, layout); the rest of the creative is the user's.
USER_STRATEGIES: tuple[tuple[str, str, str], ...] = (
    ("playful", "discount_10", "hero"),
    ("urgent", "discount_20", "minimal"),
    ("premium", "none", "split"),
    ("informative", "free_shipping", "badge"),
    ("social_proof", "none", "hero"),
    ("urgent", "discount_30", "minimal"),
    ("premium", "free_shipping", "split"),
    ("playful", "none", "badge"),
    ("informative", "discount_10", "hero"),
    ("social_proof", "discount_20", "minimal"),
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Level:
    """The arms of one personalization level.

    Attributes
    ----------
    name : str
        ``generic``, ``segment`` or ``user``.
    n_arms : int
    arm_labels : tuple of str
        Short readable label per arm.
    creatives : tuple of tuple of Creative
        ``generic``: one row of ``n_arms`` creatives, or one per language of
        ``LANGUAGES`` when ``localized`` (row ``l`` is the same arms written in
        language ``l``); ``segment``: one row per segment; ``user``: empty
        (creatives are made per viewer).
    table : ndarray
        Attribute vectors: ``generic``: (n_arms, A), or (n_languages, n_arms, A)
        when localized; ``segment``: (n_segments, n_arms, A); ``user``:
        (n_arms, A) strategy part, the viewer adds the rest.
    price : ndarray of shape table.shape[:-1]
        List price (USD) of each creative's product (``user``: unused, see
        ``category_price`` and ``search_price``).
    keyword : ndarray of shape table.shape[:-1], int
        Code into ``KEYWORDS`` of each creative's search keyword, -1 for none.
    layout : ndarray of shape table.shape[:-1], int
        Index into ``LAYOUTS``.
    localized : bool, default=False
        ``generic`` only: rows of ``table`` are languages; viewers see their own.
    category_price : ndarray of shape (n_interests,) or None, default=None
        ``user`` only: the price shown for each top interest to a viewer without a
        search naming a product (the catalogue's mean price of the category: the ad
        shows any of its products); None for the bundled catalogue's.
    personal : ndarray of shape (n_arms, n_languages, 2, 2), bool, or None
        ``user`` only: whether strategy ``k``'s creative, in language ``l``, for a viewer
        with (1) or without (0) a search in the category, prints the greeting (last index
        0) and the search (1) (:func:`creative.generate.user_personal_slots`): the
        viewer's greeting and search are credited only where printed.
    offer_fits : ndarray of shape (n_arms, n_interests), bool, or None
        ``user`` only: whether strategy ``k``'s offer fits a product of each category
        (:func:`creative.catalogue.fitting_offers`: no free shipping on what is not
        shipped). Where it does not, the viewer's creative carries no offer, as the
        generator would write it, and ``personal_plain`` says what it prints.
    personal_plain : ndarray of shape (n_arms, n_languages, 2, 2), bool, or None
        ``user`` only: ``personal`` for the strategy's creative without its offer.
    answered : ndarray of shape (n_keywords,), bool, or None
        ``user`` only: whether the catalogue has a product each search of ``KEYWORDS``
        names (:func:`creative.generate.products_for_search`): the generator quotes only
        such a search, with the product it names. None: every search counts.
    search_price : ndarray of shape (n_keywords,) or None, default=None
        ``user`` only: the mean list price (USD) of the products each search of
        ``KEYWORDS`` names, NaN where it names none. A viewer with such a search is
        shown one of those products (whether or not the copy quotes the search), so
        that is the price shown; None: the category's mean price for every viewer.
    """

    name: str
    n_arms: int
    arm_labels: tuple[str, ...]
    creatives: tuple[tuple[Creative, ...], ...]
    table: np.ndarray
    price: np.ndarray
    keyword: np.ndarray
    layout: np.ndarray
    localized: bool = False
    category_price: np.ndarray | None = None
    personal: np.ndarray | None = None
    offer_fits: np.ndarray | None = None
    personal_plain: np.ndarray | None = None
    answered: np.ndarray | None = None
    search_price: np.ndarray | None = None

    def arm_attributes(self, users: Population, segments: np.ndarray) -> ArmContent:
        """What each viewer could see: the content of every arm.

        Parameters
        ----------
        users : Population
            ``n`` viewers.
        segments : ndarray of shape (n,)
            Their segments.

        Returns
        -------
        arms : ArmContent
            Leading shape (n_arms,) when every viewer sees the same arms, else
            (n, n_arms); what :meth:`ResponseModel.expectations` takes.
        """
        if self.name == "generic" and not self.localized:
            return ArmContent(
                attributes=self.table, price=self.price, keyword=self.keyword, layout=self.layout
            )
        if self.name in ("generic", "segment"):
            rows = users.language if self.name == "generic" else segments
            return ArmContent(
                attributes=self.table[rows],
                price=self.price[rows],
                keyword=self.keyword[rows],
                layout=self.layout[rows],
            )
        n = users.n_users
        own = np.zeros((n, N_ATTRIBUTES))
        rows = np.arange(n)
        own[rows, _S["category"].start + users.top_interest] = 1.0
        own[rows, _S["language"].start + users.language] = 1.0
        # The creative's keyword is the viewer's most recent search in the product's
        # category that names a product of the catalogue (none when they searched other
        # categories only, or nothing the catalogue sells: the copy then quotes none).
        codes = users.keywords.astype(np.int64)
        on_topic = codes // KEYWORDS_PER_INTEREST == users.top_interest[:, None]
        if self.answered is not None:
            on_topic &= self.answered[codes]
        first = np.where(on_topic.any(axis=1), codes[rows, on_topic.argmax(axis=1)], -1)
        # Each strategy's copy greets and names the search only where its templates can
        # (the informative tone has no greeting): what it does not print is not credited.
        searched = (first >= 0).astype(np.int64)
        printed = self.personal[:, users.language, searched]  # (k, n, 2)
        attributes = self.table[None, :, :] + own[:, None, :]
        if self.offer_fits is not None:
            # An offer the viewer's category cannot carry (free shipping on a finance
            # product) is not written, so it is not credited, and the copy without it
            # may print other slots.
            misfit = ~self.offer_fits[:, users.top_interest].T  # (n, k)
            if misfit.any():
                plain = self.personal_plain[:, users.language, searched]
                printed = np.where(misfit.T[..., None], plain, printed)
                ii, jj = np.nonzero(misfit)
                attributes[ii, jj, _S["discount"]] = 0.0
                attributes[ii, jj, _S["free_shipping"]] = 0.0
        greets, searches = printed[..., 0].T, printed[..., 1].T  # (n, k)
        hour = _S["greeting"].start + users.hours.argmax(axis=1)
        ii, jj = np.nonzero(greets)
        attributes[ii, jj, hour[ii]] = 1.0
        by_category = category_mean_price() if self.category_price is None else self.category_price
        price = by_category[users.top_interest]
        if self.search_price is not None:
            # The generator shows a product the viewer's search names (the cat tree to
            # whoever searched "cat tree"), so its price, not the category's average,
            # is what the viewer is asked to pay.
            price = np.where(first >= 0, self.search_price[np.maximum(first, 0)], price)
        return ArmContent(
            attributes=attributes,
            price=np.repeat(price[:, None], self.n_arms, axis=1),
            keyword=np.where(searches, first[:, None], -1),
            layout=np.broadcast_to(self.layout, (n, self.n_arms)),
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Scenario:
    """The world of an experiment: users, segments, response model and arms.

    ``memo`` holds tables derived from the world (the engine's audience-wide
    contexts and ground truth), so they live exactly as long as the world does.
    """

    config: ExperimentConfig
    population: Population
    segmentation: Segmentation
    response: ResponseModel
    levels: dict[str, Level | GeneratedLevel]
    memo: dict = field(default_factory=dict, init=False, repr=False)

    @property
    def n_features(self) -> int:
        """Context width: segment one-hot plus user features."""
        return self.segmentation.n_segments + N_USER_FEATURES

    def contexts(self, users: np.ndarray) -> np.ndarray:
        """Contexts of the users at indices ``users`` (n,), ndarray of shape (n, n_features).

        The first ``n_segments`` columns are the one-hot segment (what
        per-segment policies read); the rest are
        :meth:`~simulation.population.Population.features`.
        """
        s = self.segmentation.n_segments
        out = np.zeros((users.shape[0], s + N_USER_FEATURES))
        out[np.arange(users.shape[0]), self.segmentation.labels[users]] = 1.0
        out[:, s:] = self.population.take(users).features()
        return out


def _strategy_table(n: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    table = np.zeros((n, N_ATTRIBUTES))
    layouts = np.array([LAYOUTS.index(layout) for _, _, layout in USER_STRATEGIES[:n]])
    labels = []
    for k, (tone, offer, layout) in enumerate(USER_STRATEGIES[:n]):
        vec = encode_attributes(
            category="fashion",
            tone=tone,
            offer=offer,
            greeting=None,
            layout=layout,
            language="en",
            audience_kind="user",
        )
        # Keep only the strategy's own columns; the viewer supplies category,
        # greeting and language.
        vec[_S["category"]] = 0.0
        vec[_S["language"]] = 0.0
        table[k] = vec
        labels.append(f"{tone} · {offer} · {layout}")
    return table, layouts, tuple(labels)


def generic_labels(creatives) -> tuple[str, ...]:
    """The generic arms' labels: the segment creatives' labeller's, without its number.

    ``product · tone · offer`` was not unique: two generic creatives can share all three
    and differ in layout or palette, and the allocation chart then named two series the
    same. :func:`simulation.winners.creative_labels` adds the components that tell such
    creatives apart; the chart and the tables number the arms themselves.

    Parameters
    ----------
    creatives : sequence of Creative
        The generic level's arms (n_arms), in arm order.

    Returns
    -------
    labels : tuple of str
        n_arms distinct labels, ``"product · tone"`` plus what tells alike ones apart.
    """
    return tuple(label.split(". ", 1)[1] for label in creative_labels(creatives))


#: Code of every search keyword, in English and in Korean (the same search, the same code).
_KEYWORD_CODE = {k: i for i, k in enumerate(KEYWORDS)} | {
    k: i
    for i, k in enumerate(kw for interest in INTERESTS for kw in INTEREST_KEYWORDS_KO[interest])
}


def keyword_code(c: Creative) -> int:
    """Code into ``KEYWORDS`` of the search keyword in ``c``'s copy, -1 for none.

    Read from ``c.keyword`` where the studio records it; otherwise found in the
    copy among the audience's own keywords (the only ones the generator
    inserts), after removing the product name, which often contains a keyword.
    """
    recorded = getattr(c, "keyword", None)
    if recorded is not None:
        return _KEYWORD_CODE.get(recorded, -1)
    text = " ".join((c.headline, c.body, c.cta)).replace(c.product, " ").lower()
    found = [k for k in c.audience.keywords if k in _KEYWORD_CODE and k.lower() in text]
    return _KEYWORD_CODE[max(found, key=len)] if found else -1


def _arrays(rows: list[tuple[Creative, ...]]) -> dict[str, np.ndarray]:
    """Attribute table, price, keyword and layout arrays of rows of creatives."""
    return {
        "table": np.stack([np.stack([c.attributes for c in row]) for row in rows]),
        "price": np.array([[c.price for c in row] for row in rows], dtype=np.float64),
        "keyword": np.array([[keyword_code(c) for c in row] for row in rows], dtype=np.int64),
        "layout": np.array([[LAYOUTS.index(c.layout) for c in row] for row in rows]),
    }


def audience_of(
    config: ExperimentConfig, *, inputs: Inputs | None = None
) -> tuple[Population, Segmentation]:
    """The simulated users of ``config`` and their segments (the scenario's streams).

    Parameters
    ----------
    config : ExperimentConfig
        Only ``seed``, ``n_users``, ``n_segments`` and ``segments_file`` matter.
    inputs : Inputs, optional
        ``config``'s input files, if already read (:func:`simulation.inputs.read_inputs`).

    Returns
    -------
    population : Population
    segmentation : Segmentation
        Clustered with k-means; with a segments file, the file's segments, each
        user drawn around one of them (:func:`population_from_segments`).
    """
    if config.segments_file is not None:
        inputs = inputs if inputs is not None else read_inputs(config)
        return population_from_segments(
            inputs.segments, config.n_users, stream(config.seed, "population")
        )
    population = generate_population(config.n_users, stream(config.seed, "population"))
    segmentation = segment_population(
        population, config.n_segments, stream(config.seed, "segmentation")
    )
    return population, segmentation


def too_few_ads(
    report, k: int, whose: str, config: ExperimentConfig, inputs: Inputs
) -> InputsRejected:
    """The error for a pool the guardrails left short: which inputs wrote the copy, and why.

    Parameters
    ----------
    report : creative.generate.GenerationReport
        The pool's generation, with fewer than ``k`` accepted creatives.
    k : int
        ``n_variants``: the creatives the pool needs.
    whose : str
        The pool, e.g. ``"generic en"`` or ``"segment 3"``.
    config : ExperimentConfig
    inputs : Inputs
        ``config``'s input files as read.

    Returns
    -------
    error : InputsRejected
        One line: the count, the rules that rejected the rest (with how many each), the
        user's files that wrote the copy and what to change. With the bundled catalogue
        and templates only lowering ``n_variants`` is left to suggest.
    """
    # The studio's words, which ``creative render`` also stops with (``--per-segment``).
    files = [
        (kind, path)
        for kind, path in (
            ("catalogue", config.catalogue_file),
            ("templates", config.templates_file),
        )
        if path is not None
    ]
    return InputsRejected(
        shortfall_message(
            report,
            k,
            whose,
            needs="the experiment needs (n_variants)",
            knob="n_variants",
            files=files,
            catalogue=inputs.catalogue,
        )
    )


def build_scenario(
    config: ExperimentConfig, *, world: tuple[Population, Segmentation] | None = None
) -> Scenario:
    """Build the world of ``config`` (deterministic in ``config.seed``).

    Parameters
    ----------
    config : ExperimentConfig
    world : (Population, Segmentation), optional
        The audience of ``config`` if already built (by :func:`audience_of`, e.g.
        cached by the app), so it is not generated and clustered again.

    Returns
    -------
    scenario : Scenario

    Raises
    ------
    InputsRejected
        A generic or segment pool has fewer than ``n_variants`` creatives that pass the
        guardrails (:func:`too_few_ads` says which inputs wrote their copy).
    ValueError
        A bad input file (:func:`simulation.inputs.read_inputs`) or a ``world`` of
        another size.

    Notes
    -----
    The config's input files (:mod:`simulation.inputs`) are read here: the
    segments file draws the audience, the catalogue supplies the products of the
    generic and per-segment creatives and the per-user level's prices (so the
    order values), and the templates file the copy; the generated level composes
    from the same catalogue and templates.
    """
    seed = config.seed
    inputs = read_inputs(config)
    population, segmentation = world if world is not None else audience_of(config, inputs=inputs)
    if population.n_users != config.n_users or segmentation.n_segments != config.n_segments:
        raise ValueError(
            f"the given world has {population.n_users:,} users in {segmentation.n_segments} "
            f"segments; the config asks for {config.n_users:,} in {config.n_segments}."
        )
    max_price = inputs.max_price
    response = ResponseModel(
        sample_response_params(stream(seed, "response"), config.world),
        pricing=config.pricing,
        max_price=max_price,
    )
    own = {"templates": inputs.templates, "catalogue": inputs.catalogue}
    k = config.n_variants
    levels: dict[str, Level] = {}
    if "generic" in config.levels:
        # Language is locale, not personalization: the localized control is the
        # same arms written in each language (the same stream, so the same
        # draws of product, tone, offer and layout), and each viewer sees their
        # own language. Unlocalized, it is the brand's English set.
        localized = config.world.localized_control
        rows = []
        for language in LANGUAGES if localized else LANGUAGES[:1]:
            rng = stream(seed, "creatives", "generic")
            report = generate_generic(k, rng, language=language, **own)
            if len(report.accepted) < k:
                raise too_few_ads(report, k, f"generic {language}", config, inputs)
            rows.append(report.accepted[:k])
        arrays = _arrays(rows)
        if not localized:
            arrays = {name: a[0] for name, a in arrays.items()}
        levels["generic"] = Level(
            name="generic",
            n_arms=k,
            arm_labels=generic_labels(rows[0]),
            creatives=tuple(rows),
            localized=localized,
            **arrays,
        )
    if "segment" in config.levels:
        rows = []
        for profile in segmentation.profiles:
            rng = stream(seed, "creatives", "segment", profile.segment_id)
            report = generate_for_segment(profile.to_audience(), k, rng, **own)
            if len(report.accepted) < k:
                raise too_few_ads(report, k, f"segment {profile.segment_id}", config, inputs)
            rows.append(report.accepted[:k])
        levels["segment"] = Level(
            name="segment",
            n_arms=k,
            arm_labels=tuple(f"variant {j + 1}" for j in range(k)),
            creatives=tuple(rows),
            **_arrays(rows),
        )
    if "user" in config.levels:
        if k > len(USER_STRATEGIES):
            raise ValueError(
                f"the user level has {len(USER_STRATEGIES)} strategies; `n_variants` is {k}."
            )
        table, layouts, labels = _strategy_table(k)
        personal = np.zeros((2, k, len(LANGUAGES), 2, 2), dtype=bool)
        for j, (tone, offer, _) in enumerate(USER_STRATEGIES[:k]):
            for li, language in enumerate(LANGUAGES):
                for has_keyword in (0, 1):
                    for plain, written in enumerate((offer, "none")):
                        printed = user_personal_slots(
                            tone, written, language, has_keyword=bool(has_keyword),
                            templates=inputs.templates,
                        )  # fmt: skip
                        personal[plain, j, li, has_keyword] = (
                            "greeting" in printed,
                            "keyword" in printed,
                        )
        personal.flags.writeable = False
        offer_fits = np.array(
            [[offer in fitting_offers(c, (offer,)) for c in INTERESTS]
             for _, offer, _ in USER_STRATEGIES[:k]]
        )  # fmt: skip
        offer_fits.flags.writeable = False
        named = [products_for_search(k, inputs.catalogue) for k in KEYWORDS]
        answered = np.array([bool(products) for products in named])
        answered.flags.writeable = False
        search_price = np.array(
            [np.mean([p.price for p in products]) if products else np.nan for products in named]
        )
        search_price.flags.writeable = False
        levels["user"] = Level(
            name="user",
            n_arms=k,
            arm_labels=labels,
            creatives=(),
            table=table,
            price=np.zeros(k),
            keyword=np.full(k, -1, dtype=np.int64),
            layout=layouts,
            category_price=_category_price(inputs.catalogue),
            personal=personal[0],
            offer_fits=offer_fits,
            personal_plain=personal[1],
            answered=answered,
            search_price=search_price,
        )
    if "generated" in config.levels:
        levels["generated"] = generated_level(
            config.space, catalogue=inputs.catalogue, templates=inputs.templates
        )
    return Scenario(
        config=config,
        population=population,
        segmentation=segmentation,
        response=response,
        levels=levels,
    )


def english_product_names(catalogue: dict | None = None) -> dict[str, str]:
    """Korean product name -> English name, for labels a marketer who reads no Korean follows.

    Parameters
    ----------
    catalogue : dict of str to sequence of Product, optional
        Default: the bundled catalogue (:data:`creative.catalogue.CATALOGUE`).

    Returns
    -------
    names : dict of str to str
    """
    products = (CATALOGUE if catalogue is None else catalogue).values()
    return {p.name_ko: p.name for ps in products for p in ps if p.name_ko != p.name}


def _category_price(catalogue: dict | None) -> np.ndarray | None:
    """Price shown to a per-user viewer by top interest: the catalogue's category mean.

    A category the catalogue does not sell takes the mean of its first category (the
    viewer is shown another product). None for the bundled catalogue
    (:func:`category_mean_price`).
    """
    if catalogue is None:
        return None
    means = {c: float(np.mean([p.price for p in ps])) for c, ps in catalogue.items() if ps}
    fallback = means[next(iter(means))]
    return np.array([means.get(c, fallback) for c in INTERESTS], dtype=np.float64)


def _viewer_arms(users: Population, specs: list[tuple], prices: np.ndarray) -> ArmContent:
    """Generic content ``specs`` (category, tone, offer, greeting, layout), viewer's language."""
    base = np.stack(
        [
            encode_attributes(
                category=cat,
                tone=tone,
                offer=offer,
                greeting=greeting,
                layout=layout,
                language=LANGUAGES[0],
                audience_kind="generic",
            )
            for cat, tone, offer, greeting, layout in specs
        ]
    )
    n, k = users.n_users, len(specs)
    attrs = np.repeat(base[None], n, axis=0)
    attrs[..., _S["language"]] = 0.0
    attrs[np.arange(n), :, _S["language"].start + users.language] = 1.0
    return ArmContent(
        attributes=attrs,
        price=np.tile(prices, (n, 1)),
        keyword=np.full((n, k), -1, dtype=np.int64),
        layout=np.tile([LAYOUTS.index(s[4]) for s in specs], (n, 1)),
    )


def creative_space(users: Population, *, chunk: int = 100) -> tuple[str, list[ArmContent]]:
    """Every tone x offer x layout x greeting for one product, in chunks of arms.

    The product is the catalogue's median-priced one; each viewer reads their
    own language. The analogue of the page layouts of Hill et al. (2017).

    Returns
    -------
    title : str
    chunks : list of ArmContent
        Leading shape (n, <= chunk) each; 500 arms in all.
    """
    products = [p for ps in CATALOGUE.values() for p in ps]
    product = sorted(products, key=lambda p: p.price)[len(products) // 2]
    specs = [
        (product.category, tone, offer, greeting, layout)
        for tone, offer, layout, greeting in itertools.product(
            TONES, OFFERS, LAYOUTS, (None, *TIMES_OF_DAY)
        )
    ]
    title = f"content space: tone x offer x layout x greeting, {product.name} (${product.price:g})"
    chunks = [
        _viewer_arms(users, specs[i : i + chunk], np.full(len(specs[i : i + chunk]), product.price))
        for i in range(0, len(specs), chunk)
    ]
    return title, chunks


def product_space(users: Population) -> tuple[str, ArmContent]:
    """Every catalogue product with one plain creative (informative, no offer, hero)."""
    products = [p for ps in CATALOGUE.values() for p in ps]
    specs = [(p.category, "informative", "none", None, "hero") for p in products]
    prices = np.array([p.price for p in products])
    title = "product space: every catalogue product, one plain creative"
    return title, _viewer_arms(users, specs, prices)


#: Inputs of the response model a component axis can set (``None``: no mechanism
#: reads it, e.g. the palette; such axes matter only through validity).
FACTORS: tuple[str, ...] = ("product", "tone", "offer", "greeting", "keyword", "layout", "language")
_FACTOR_VOCAB: dict[str, tuple[str, ...]] = {
    "tone": TONES,
    "offer": OFFERS,
    "greeting": ("none", "timely"),
    "keyword": ("none", "search"),
    "layout": LAYOUTS,
    "language": LANGUAGES,
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GeneratedLevel:
    """The generated level: each impression's creative composed from components.

    A composition (one level per axis of ``space``) reaches the response model
    through the same inputs as every other level's arms (:class:`ArmContent`:
    attribute vector, product price, search keyword, layout). Each axis sets one
    input of :data:`FACTORS` (or none); inputs no axis sets take ``fixed``.

    Attributes
    ----------
    space : ComponentSpace
    factor_values : tuple of ndarray
        Per factor of :data:`FACTORS`, shape (n_values,): the vocabulary index
        (product: index into ``creative.components.products()``; greeting and
        keyword: 0 none, 1 the viewer's own; language: -1 the viewer's own) of
        each of its values. One value when no axis sets the factor.
    factor_axis : ndarray of shape (len(FACTORS),), int64
        The axis setting each factor, -1 for none (its single value applies).
    product_category, product_price : ndarray of shape (n_products,)
        Category index and list price (USD) of every product of the catalogue.
    product_keyword : ndarray of shape (n_products,), int64
        Code into ``KEYWORDS`` of the search naming each product
        (:func:`creative.catalogue.product_search`), -1 for none.
    catalogue : dict of str to tuple of Product or None
        The catalogue the product axis indexes (None: the bundled one).
    templates : TemplateSet or None
        The copy templates compositions are written with (None: the bundled ones).
    """

    space: object  # simulation.generated.ComponentSpace
    factor_values: tuple[np.ndarray, ...]
    factor_axis: np.ndarray
    product_category: np.ndarray
    product_price: np.ndarray
    product_keyword: np.ndarray
    catalogue: dict | None = None
    templates: object | None = None  # creative.templates.TemplateSet
    name: str = "generated"
    n_arms: int = 1
    arm_labels: tuple[str, ...] = ("composed",)

    def compose(self, combo: np.ndarray, audience: Audience) -> Creative:
        """The creative of one composition of this level's space, for ``audience``.

        Only for the studio's own space (``default``), whose axes are
        :data:`creative.components.AXES`; rendered with this level's catalogue
        and templates.

        Parameters
        ----------
        combo : ndarray of shape (n_axes,), int
        audience : Audience
        """
        from creative.components import AXES, compose

        if tuple(self.space.axis_names) != AXES:
            raise ValueError(f"only the studio's own space composes creatives; got {self.space}.")
        return compose(combo, audience, templates=self.templates, catalogue=self.catalogue)

    def call_to_action(self, tone: int, language: int, index: int) -> str | None:
        """The words of ``cta`` level ``index`` for a tone and language, in this level's copy.

        Only for the studio's own space (see :meth:`compose`); None when the tone has no
        such call to action (:func:`creative.components.call_to_action`).
        """
        from creative.components import call_to_action

        return call_to_action(tone, language, index, templates=self.templates)

    def factors(self, combos: np.ndarray) -> np.ndarray:
        """Factor-level indices (into ``factor_values``) of compositions.

        Parameters
        ----------
        combos : ndarray of shape (..., n_axes), int

        Returns
        -------
        levels : ndarray of shape (..., len(FACTORS)), int64
        """
        c = np.asarray(combos, dtype=np.int64)
        out = np.zeros((*c.shape[:-1], len(FACTORS)), dtype=np.int64)
        for f, axis in enumerate(self.factor_axis.tolist()):
            if axis >= 0:
                out[..., f] = c[..., axis]
        return out

    def content(self, users: Population, levels: np.ndarray) -> ArmContent:
        """What each viewer sees of factor levels (from :meth:`factors`).

        Parameters
        ----------
        users : Population
            ``n`` viewers.
        levels : ndarray of shape (n, k, len(FACTORS)), int
            ``k`` candidate creatives per viewer, as factor-level indices.

        Returns
        -------
        arms : ArmContent
            Leading shape (n, k).
        """
        lv = np.asarray(levels, dtype=np.int64)
        n, k = lv.shape[:2]
        v = {name: self.factor_values[f][lv[..., f]] for f, name in enumerate(FACTORS)}
        rows = np.arange(n)[:, None]
        attrs = np.zeros((n, k, N_ATTRIBUTES))
        category = self.product_category[v["product"]]
        attrs[rows, np.arange(k), _S["category"].start + category] = 1.0
        attrs[rows, np.arange(k), _S["tone"].start + v["tone"]] = 1.0
        offers = OFFER_ATTRIBUTES
        attrs[..., _S["discount"].start] = offers[v["offer"], _S["discount"].start]
        attrs[..., _S["free_shipping"].start] = offers[v["offer"], _S["free_shipping"].start]
        # A greeting greets the viewer's own time of day (as the studio's compose does).
        timely = v["greeting"] == 1
        hour = np.broadcast_to(users.hours.argmax(axis=1)[:, None], (n, k))
        ii, jj = np.nonzero(timely)
        attrs[ii, jj, _S["greeting"].start + hour[ii, jj]] = 1.0
        layouts = LAYOUT_ATTRIBUTES
        attrs[..., _S["mobile_first"].start] = layouts[v["layout"], _S["mobile_first"].start]
        language = np.where(v["language"] < 0, users.language[:, None], v["language"])
        attrs[rows, np.arange(k), _S["language"].start + language] = 1.0
        attrs[..., _S["personalized"].start + 1] = 1.0  # composed for this viewer
        # A search keyword is the viewer's own search naming the product, else none (as
        # the studio's compose writes it: no ad quotes a search its viewer did not make).
        codes = users.keywords.astype(np.int64)  # (n, n_kw)
        named = self.product_keyword[v["product"]]  # (n, k)
        own_named = ((codes[:, None, :] == named[..., None]) & (named[..., None] >= 0)).any(-1)
        search = np.where(own_named, named, -1)
        return ArmContent(
            attributes=attrs,
            price=self.product_price[v["product"]],
            keyword=np.where(v["keyword"] == 1, search, -1),
            layout=v["layout"],
        )


_PLAIN = {
    "category": INTERESTS[0],
    "tone": TONES[0],
    "offer": "none",
    "greeting": None,
    "layout": LAYOUTS[0],
    "language": LANGUAGES[0],
    "audience_kind": "user",
}


def _plain_rows(field: str, values: tuple[str, ...]) -> np.ndarray:
    """Attribute vectors of a plain creative with ``field`` set to each of ``values``, read-only."""
    rows = np.array([encode_attributes(**(_PLAIN | {field: x})) for x in values])
    rows.flags.writeable = False
    return rows


#: Column ranges of the creative attribute vector (``creative.attributes``), and its width
#: ``N_ATTRIBUTES`` (re-exported): for the engine, which does not import ``creative``.
ATTRIBUTE_SLICES: Mapping[str, slice] = MappingProxyType(attribute_slices())
#: Attribute vector of a plain creative with each offer of ``OFFERS``,
#: ndarray of shape (len(OFFERS), N_ATTRIBUTES): what :meth:`GeneratedLevel.content`
#: reads an offer's discount and free-shipping columns from.
OFFER_ATTRIBUTES = _plain_rows("offer", OFFERS)
#: Share of the list price each offer of ``OFFERS`` keeps by its nominal terms (1 minus
#: ``OFFER_DISCOUNT``; free shipping's is its usual cost): what the advertiser knows of an
#: order's value before any sale, the funnel learner's prior.
OFFER_KEPT: tuple[float, ...] = tuple(1.0 - OFFER_DISCOUNT[o] for o in OFFERS)
#: As :data:`OFFER_ATTRIBUTES` for each layout of ``LAYOUTS`` (the mobile-first column).
LAYOUT_ATTRIBUTES = _plain_rows("layout", LAYOUTS)


def generated_level(
    space_name: str, *, catalogue: dict | None = None, templates: object | None = None
) -> GeneratedLevel:
    """The generated level of component space ``space_name`` (``default`` or ``hill48``).

    ``default`` is the creative studio's space (:func:`creative.components.component_axes`,
    the guardrails as validity constraints); the headline, call to action and palette
    axes are read by no mechanism of the response model. ``hill48`` is Hill et
    al.'s setting: four tones x three offers x four layouts, all 48 valid, on
    the catalogue's median-priced product in the viewer's language.

    Parameters
    ----------
    space_name : {"default", "hill48"}
    catalogue : dict of str to tuple of Product, optional
        The products of the product axis and their prices (the run's own
        catalogue file); defaults to the bundled catalogue.
    templates : TemplateSet, optional
        The copy templates the guardrail constraints are checked with; defaults
        to the bundled templates.
    """
    from creative.components import component_axes, products
    from simulation.generated.space import ComponentSpace

    prods = products(catalogue)
    by_name = {f"{p.category}:{p.name}": i for i, p in enumerate(prods)}
    vocab = {"product": tuple(by_name), **_FACTOR_VOCAB}
    if space_name == "default":
        space = ComponentSpace.from_axes(component_axes(templates=templates, catalogue=catalogue))
    elif space_name == "hill48":
        space = ComponentSpace(
            axis_names=("tone", "offer", "layout"),
            n_levels=(4, 3, 4),
            level_names=(TONES[:4], ("none", "discount_10", "discount_20"), LAYOUTS),
        )
    else:
        raise ValueError(f"`space` must be 'default' or 'hill48'; got {space_name!r}.")
    median = sorted(range(len(prods)), key=lambda i: prods[i].price)[len(prods) // 2]
    fixed = {"product": median, "tone": 0, "offer": 0, "greeting": 0, "keyword": 0, "layout": 0}
    values, axes = [], []
    for name in FACTORS:
        if name in space.axis_names:
            axis = space.axis_names.index(name)
            names = space.level_names[axis]
            values.append(np.array([vocab[name].index(x) for x in names], dtype=np.int64))
            axes.append(axis)
        else:
            values.append(np.array([fixed.get(name, -1)], dtype=np.int64))
            axes.append(-1)
    return GeneratedLevel(
        space=space,
        factor_values=tuple(values),
        factor_axis=np.array(axes, dtype=np.int64),
        product_category=np.array([INTERESTS.index(p.category) for p in prods], dtype=np.int64),
        product_price=np.array([p.price for p in prods], dtype=np.float64),
        product_keyword=np.array(
            [_KEYWORD_CODE.get(product_search(p), -1) for p in prods], dtype=np.int64
        ),
        catalogue=catalogue,
        templates=templates,
    )


#: Axes a regenerated pool creative may change: every component but the language
#: (locale, not a component: the localized control is written in every language).
POOL_FROZEN_AXES: tuple[str, ...] = ("language",)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PoolComposer:
    """A pool level's creatives as compositions of the component space (regeneration).

    A pool level (``generic`` or ``segment``) has ``n_rows`` lineages of slots:
    the generic level one (its arms are the same compositions in every
    language), the segment level one per segment. Each slot of each row holds
    one composition; :meth:`compose` writes a composition as the row's
    creatives (one per language for the localized control), with their guardrail
    verdicts, and :meth:`arrays` turns them into the inputs the response reads.

    Attributes
    ----------
    level : str
    space : ComponentSpace
        The creative studio's space, over the run's catalogue and templates.
    entries : tuple of tuple of (int, Audience, int)
        Per row: ``(table row or -1, audience, language index)`` of each creative
        the row's composition is written as (-1: the level's table has no row axis).
    founders : ndarray of shape (n_rows, n_arms, n_axes), int64
        Each founding creative's composition as served: its own product, tone, offer,
        layout, palette, greeting, keyword and language, and the headline style and
        call to action read from its copy. It may break the space's rules (the
        generators draw copy apart from them); its children never do.
    founder_valid : ndarray of shape (n_rows, n_arms), bool
        False where the founder's components cannot be read (copy no template of its
        tone prints, a product or palette outside the run's): it is then never a
        parent, and its row of ``founders`` is zeros.
    mutable_axes : ndarray of shape (n_mutable,), int64
        Axes a child may change.
    catalogue : dict of str to tuple of Product or None
        The run's own catalogue (None: the bundled one): the product axis.
    templates : TemplateSet or None
        The run's own copy templates (None: the bundled ones).
    """

    level: str
    space: object  # simulation.generated.ComponentSpace
    entries: tuple[tuple[tuple[int, object, int], ...], ...]
    founders: np.ndarray
    founder_valid: np.ndarray
    mutable_axes: np.ndarray
    catalogue: dict | None = None
    templates: object | None = None  # creative.templates.TemplateSet

    @property
    def n_rows(self) -> int:
        """Lineage rows (1 for generic, the segments for segment)."""
        return len(self.entries)

    def row_names(self, segment_names: tuple[str, ...]) -> tuple[str, ...]:
        """Readable name of every row: ``"all"`` for generic, else the segment's."""
        return ("all",) if self.level == "generic" else tuple(segment_names)

    def is_valid(self, row: int, combos: np.ndarray) -> np.ndarray:
        """Whether compositions (n, n_axes) are valid in every language of ``row`` (n,)."""
        c = np.atleast_2d(np.asarray(combos, dtype=np.int64))
        ok = np.ones(c.shape[0], dtype=bool)
        lang = AXES.index("language")
        for _, _, language in self.entries[row]:
            d = c.copy()
            d[:, lang] = language
            ok &= self.space.is_valid(d)
        return ok

    def compose(self, row: int, combo: np.ndarray) -> tuple[Creative, ...] | None:
        """The row's creatives of ``combo`` (n_axes,), or None unless every one is valid and passes.

        Every creative is checked with :func:`creative.guardrails.check_creative`
        (by :func:`creative.components.compose`); one that fails is never served.
        """
        if not self.is_valid(row, combo)[0]:
            return None
        out = []
        lang = AXES.index("language")
        for _, audience, language in self.entries[row]:
            c = np.asarray(combo, dtype=np.int64).copy()
            c[lang] = language
            creative = compose(c, audience, templates=self.templates, catalogue=self.catalogue)
            if not creative.guardrail.passed:
                return None
            out.append(creative)
        return tuple(out)

    def place(self, level: Level, row: int, slot: int, creatives: tuple[Creative, ...]) -> Level:
        """``level`` with the row's creatives of ``slot`` replaced by ``creatives``."""
        table, price = level.table.copy(), level.price.copy()
        keyword, layout = level.keyword.copy(), level.layout.copy()
        rows = [list(r) for r in level.creatives]
        for (t, _, _), c in zip(self.entries[row], creatives, strict=True):
            at = (slot,) if t < 0 else (t, slot)
            table[at] = c.attributes
            price[at] = c.price
            keyword[at] = keyword_code(c)
            layout[at] = LAYOUTS.index(c.layout)
            rows[max(t, 0)][slot] = c
        return dataclasses.replace(
            level,
            table=table,
            price=price,
            keyword=keyword,
            layout=layout,
            creatives=tuple(tuple(r) for r in rows),
        )

    def label(self, combo: np.ndarray) -> str:
        """Short readable label of a composition: product, tone, offer, layout, extras."""
        names = self.space.level_names
        c = [int(x) for x in combo]
        ax = {name: i for i, name in enumerate(AXES)}
        return _label(
            names[ax["product"]][c[ax["product"]]].split(":", 1)[-1],
            *(names[ax[a]][c[ax[a]]] for a in ("tone", "offer", "layout", "headline")),
            greets=bool(c[ax["greeting"]]),
            quotes=bool(c[ax["keyword"]]),
        )

    def creative_label(self, c: Creative) -> str:
        """:meth:`label`'s form for a creative whose composition cannot be read.

        Its product in English where the catalogue has it (a Korean ad's product is
        named as every other label names it), and its headline style where it is read.
        """
        from creative.components import served_copy_components

        same = [p for p in products(self.catalogue) if p.category == c.category]
        product = next((p.name for p in same if p.display_name(c.language) == c.product), None)
        style = served_copy_components(c, templates=self.templates)[0]
        return _label(
            product or c.product,
            c.tone,
            c.offer,
            c.layout,
            None if style is None else HEADLINE_STYLES[style],
            greets=c.greeting is not None,
            quotes=keyword_code(c) >= 0,
        )


def _label(product, tone, offer, layout, headline, *, greets: bool, quotes: bool) -> str:
    parts = [product, tone, offer, layout]
    # The headline's style is named as one ("greeting headline"), so a greeting
    # headline that greets does not read "greeting · greeting".
    if headline is not None:
        # greet_search prints a plain headline; "greets · quotes a search" say the rest.
        parts.append(f"{'plain' if headline == 'greet_search' else headline} headline")
    if greets:
        parts.append("greets")
    if quotes:
        parts.append("quotes a search")
    return " · ".join(parts)


def pool_composer(scenario: Scenario, level_name: str) -> PoolComposer:
    """The :class:`PoolComposer` of a pool level of ``scenario`` (kept in its memo).

    Parameters
    ----------
    scenario : Scenario
    level_name : {"generic", "segment"}
    """
    if level_name not in ("generic", "segment"):
        raise ValueError(f"only the generic and segment levels regenerate; got {level_name!r}.")
    key = ("pool_composer", level_name)
    if key not in scenario.memo:
        scenario.memo[key] = _pool_composer(scenario, level_name)
    return scenario.memo[key]


def _pool_space(inputs: Inputs):
    from creative.components import component_axes
    from simulation.generated.space import ComponentSpace

    axes = component_axes(templates=inputs.templates, catalogue=inputs.catalogue)
    return ComponentSpace.from_axes(axes)


def _pool_composer(scenario: Scenario, level_name: str) -> PoolComposer:
    level = scenario.levels[level_name]
    # Children are written with the run's own catalogue and templates, as the founders were.
    inputs = read_inputs(scenario.config)
    space = _pool_space(inputs)
    if level_name == "generic":
        langs = LANGUAGES if level.localized else LANGUAGES[:1]
        entries = (
            tuple(
                (i if level.localized else -1, Audience.generic(lang), LANGUAGES.index(lang))
                for i, lang in enumerate(langs)
            ),
        )
        founders_rows = [level.creatives[0]]
    else:
        entries = tuple(
            ((s, p.to_audience(), LANGUAGES.index(level.creatives[s][0].language)),)
            for s, p in enumerate(scenario.segmentation.profiles)
        )
        founders_rows = list(level.creatives)
    composer = PoolComposer(
        level=level_name,
        space=space,
        entries=entries,
        founders=np.zeros((len(entries), level.n_arms, len(AXES)), dtype=np.int64),
        founder_valid=np.zeros((len(entries), level.n_arms), dtype=bool),
        mutable_axes=np.array(
            [i for i, a in enumerate(AXES) if a not in POOL_FROZEN_AXES], dtype=np.int64
        ),
        catalogue=inputs.catalogue,
        templates=inputs.templates,
    )
    for r, row in enumerate(founders_rows):
        for k, c in enumerate(row):
            combo = _served_combo(c, composer)
            if combo is not None:
                composer.founders[r, k] = combo
                composer.founder_valid[r, k] = True
    composer.founders.flags.writeable = False
    composer.founder_valid.flags.writeable = False
    return composer


def _served_combo(c: Creative, composer: PoolComposer) -> np.ndarray | None:
    """``c``'s composition as served: every component read from the creative, or None.

    The headline style and call to action are read from its copy
    (:func:`creative.components.served_copy_components`). The composition need not be
    valid in the space: the generators draw their copy apart from the studio's rules (a
    call to action the other language's tone lacks, a greeting in the body only), and
    a child must be valid, not its founder.
    """
    from creative.brand import DEFAULT_KIT
    from creative.components import served_copy_components

    prods = products(composer.catalogue)
    same = [i for i, p in enumerate(prods) if p.category == c.category]
    named = [i for i in same if prods[i].display_name(c.language) == c.product]
    palettes = [p.name for p in DEFAULT_KIT.palettes]
    headline, cta = served_copy_components(c, templates=composer.templates)
    if not named or c.palette.name not in palettes or headline is None or cta is None:
        return None
    served = {
        "product": named[0],
        "tone": TONES.index(c.tone),
        "offer": OFFERS.index(c.offer),
        "headline": headline,
        "cta": cta,
        "layout": LAYOUTS.index(c.layout),
        "palette": palettes.index(c.palette.name),
        "greeting": int(c.greeting is not None),
        "keyword": int(keyword_code(c) >= 0),
        "language": LANGUAGES.index(c.language),
    }
    return np.array([served[a] for a in AXES], dtype=np.int64)


def composition_image(
    scenario: Scenario, combo: np.ndarray, segment: int, *, size: int = 1080, fmt: str = "png"
) -> tuple[bytes, tuple[bool, tuple[str, ...]], str]:
    """One composition of the generated level, written for a segment and rendered.

    Parameters
    ----------
    scenario : Scenario
        A world with the studio's own generated level (not hill48's three axes).
    combo : ndarray of shape (n_axes,), int
        A valid composition (``ComponentSpace.conflicts`` is empty).
    segment : int
        Whose profile audience (language, interests, active time) it is written for.
    size : int, default 1080
        Side of the square (feed) image in pixels, in the renderer's
        ``[creative.layouts.MIN_SIDE, MAX_SIDE]`` (200 to 4096).
    fmt : {"png", "jpeg", "webp"}, default "png"
        The image's format (``creative.encode.encode_image``, with the AI-generated
        disclosure in every one).

    Returns
    -------
    image : bytes
        In ``fmt``.
    verdict : (bool, tuple of str)
        Whether the creative passes the guardrails, and the reasons when it does not.
    copy : str
        Headline, body and call to action, one a line, as the image prints them (a body
        the size leaves out is not listed).

    Raises
    ------
    ValueError
        When ``size`` is too small for the ad (``creative.render.plan_creative``'s
        refusal, naming a size that works), or when the image at ``size`` would leave out
        the sentence carrying the composition's greeting or search, which its true
        outcomes credit (naming the first size, 5 % steps up, that prints them).
    """
    from creative.encode import encode_image
    from creative.layouts import MAX_SIDE, MIN_SIDE
    from creative.render import draw_plan, plan_creative

    level = scenario.levels.get("generated")
    if level is None or tuple(level.space.axis_names) != AXES:
        raise ValueError("the world has no generated level of the studio's own space.")
    if not MIN_SIDE <= size <= MAX_SIDE:
        raise ValueError(f"`size` must be in [{MIN_SIDE}, {MAX_SIDE}]; got {size!r}.")
    creative = level.compose(
        np.asarray(combo, dtype=np.int64), scenario.segmentation.profiles[segment].to_audience()
    )
    plan = plan_creative(creative, (size, size))
    missing = _unprinted(creative, plan)
    if missing:
        # The true CTR and ROAS printed beside the image credit the composition's greeting
        # and search: an image that leaves them out is not the composition they are for.
        larger = next(
            (
                s
                for step in range(1, 100)
                if (s := round(size * 1.05**step)) <= MAX_SIDE
                and not _unprinted(creative, plan_creative(creative, (s, s)))
            ),
            None,
        )
        raise ValueError(
            f"at {size}x{size} the ad leaves out the sentence with its {' and '.join(missing)}, "
            "which its true CTR and ROAS credit; "
            + (f"use a size of at least {larger}." if larger else "use a larger size.")
        )
    image = encode_image(draw_plan(creative, plan), fmt)
    verdict = (creative.guardrail.passed, tuple(creative.guardrail.reasons))
    copy = "\n".join(x for x in (creative.headline, plan.body, f"[{creative.cta}]") if x)
    return image, verdict, copy


def _unprinted(creative, plan) -> list[str]:
    """The components the creative's record carries but the planned image does not print."""
    return [
        name
        for name, on, shown in (
            ("greeting", creative.greeting, plan.greeting),
            ("search", creative.keyword, plan.keyword),
        )
        if on is not None and shown is None
    ]


def most_served_sheet(
    scenario: Scenario, top: pd.DataFrame, *, policy: str = "mvt_ts", seed: int = 0
) -> bytes | None:
    """PNG contact sheet of each segment's most-served composition at the generated level.

    Each composition is written for its segment's profile audience (language, interests,
    active time) with the level's catalogue and templates and rendered by the studio: the
    creatives the app shows under the results. Captioned with the share of the segment's
    impressions ("2.2 % of its impressions", never a bare percentage that reads as a CTR)
    and the segment's name.

    Parameters
    ----------
    scenario : Scenario
        The run's world.
    top : DataFrame
        ``ExperimentResult.top_creatives_frame()``: columns ``policy``, ``seed``, ``segment``,
        ``share`` and one level index per axis.
    policy, seed : str, int
        Whose compositions (default: mvt_ts's of the first seed).

    Returns
    -------
    png : bytes or None
        None without such rows, or when the level's space is not the studio's own (hill48),
        whose compositions are not whole creatives.
    """
    from creative.contact_sheet import contact_sheet
    from creative.encode import encode_image
    from creative.render import render

    level = scenario.levels.get("generated")
    if level is None or tuple(level.space.axis_names) != AXES or top.empty:
        return None
    rows = top[(top["policy"] == policy) & (top["seed"] == seed)]
    if rows.empty:
        return None
    profiles = {p.name: p for p in scenario.segmentation.profiles}
    images, labels = [], []
    for row in rows.to_dict("records"):
        combo = np.array([row[a] for a in AXES], dtype=np.int64)
        creative = level.compose(combo, profiles[row["segment"]].to_audience())
        images.append(render(creative, (540, 540)))
        # The share first and named: a bare "2.2%" under an ad reads as its CTR.
        labels.append(f"{row['share'] * 100:.1f} % of its impressions · {row['segment']}")
    sheet = contact_sheet(
        images, columns=min(len(images), 3), thumb=360, labels=labels, label_lines=3
    )
    return encode_image(sheet, "png")
