"""The ground-truth ad funnel: click, conversion, order value and cost.

For a viewer ``u`` and an arm's content ``a`` (its attribute vector, product
price, search keyword and layout; see :class:`ArmContent`) the model is

    logit P(click)            = ctr_bias + sum of the click terms m(u, a)
    logit P(convert | click)  = cvr_bias + sum of the conversion terms m(u, a)
    order value               = price(a) * (1 - discount(a) - shipping cost(a)) * basket,
                                basket ~ U(0.5, 1.5)
    cost per impression       = CPM(device) / 1000   (or CPC * click under CPC pricing)

The terms are the mechanisms of :data:`MECHANISMS`, each named and exposed by
:meth:`ResponseModel.terms`, so ``python -m simulation world`` can say what each
one contributes. *Content* terms hold for everyone (category appeal, tone,
layout, the tone x offer interaction that makes the space non-additive, the
cost of a greeting); *user-dependent* terms (interests, recent searches, tone
taste, offers by price sensitivity, greeting by active hours, layout by device)
are multiplied by ``WorldConfig.personalization_scale``; the language term is
locale and is not. Discounts raise clicks and conversions of price-sensitive
users but cut the order value, so the best creative for CTR is not always the
best for ROAS.

Hidden parameters (:class:`ResponseParams`) are drawn once per seed from a
:class:`~simulation.world.WorldConfig`, whose defaults and sources are in
``docs/calibration.md``. Every expectation is exposed, so the oracle and regret
are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creative.attributes import N_ATTRIBUTES, attribute_slices
from creative.catalogue import CATALOGUE
from creative.vocabulary import INTERESTS, LAYOUTS, OFFERS, TONES
from simulation.population import AGE_BANDS, KEYWORDS_PER_INTEREST, REGIONS, Population
from simulation.world import WorldConfig

__all__ = [
    "MECHANISMS",
    "USER_DEPENDENT",
    "ArmContent",
    "Expectations",
    "ResponseModel",
    "ResponseParams",
    "category_mean_price",
    "sample_response_params",
]

_S = attribute_slices()
#: Order value multiplier range: bounded so that revenue has a known maximum.
BASKET_LOW, BASKET_HIGH = 0.5, 1.5
#: Price sensitivity at which the user-dependent part of an offer's effect is zero.
_PS_REFERENCE = 0.5
#: Price (USD) at which the price term of the conversion logit is zero.
PRICE_REFERENCE = 50.0

#: Mechanism name -> what it is; the click and conversion logits are their sums.
MECHANISMS: dict[str, str] = {
    "category_appeal": "global appeal of the product's category",
    "interest": "product category among the viewer's interests",
    "keyword": "copy mentions one of the viewer's own recent searches",
    "tone": "global effect of the copy's tone",
    "tone_taste": "tone vs. the taste of the viewer's age band and region",
    "offer": "global effect of the offer (money off, free shipping)",
    "offer_taste": "offer vs. the viewer's price sensitivity",
    "tone_x_offer": "interaction of tone and offer (e.g. urgent copy with money off)",
    "greeting": "a time-of-day greeting takes room from the message",
    "greeting_match": "greeting vs. the viewer's active hours",
    "layout": "global effect of the image layout",
    "layout_device": "mobile-first layout vs. the viewer's device",
    "language": "copy not in the viewer's language (locale)",
    "price": "dearer products convert fewer clicks",
    "personalized": "built-in bonus for personalized copy (0 by default)",
}
#: Mechanisms multiplied by ``personalization_scale``.
USER_DEPENDENT: frozenset[str] = frozenset(
    {"interest", "keyword", "tone_taste", "offer_taste", "greeting_match", "layout_device"}
)


def category_mean_price() -> np.ndarray:
    """Mean catalogue price of each category, ndarray of shape (n_interests,) (USD)."""
    return np.array([np.mean([p.price for p in CATALOGUE[c]]) for c in INTERESTS])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ArmContent:
    """What the viewer of each arm sees, as arrays.

    The leading shape ``lead`` is ``(n_arms,)`` when every viewer sees the same
    arms and ``(n, n_arms)`` when the arms depend on the viewer.

    Attributes
    ----------
    attributes : ndarray of shape (*lead, N_ATTRIBUTES)
        See ``creative.attributes.ATTRIBUTE_NAMES``.
    price : ndarray of shape lead
        List price (USD) of the product shown.
    keyword : ndarray of shape lead, int
        Code into ``simulation.population.KEYWORDS`` of the search keyword in the
        copy, -1 for none.
    layout : ndarray of shape lead, int
        Index into ``LAYOUTS``.
    """

    attributes: np.ndarray
    price: np.ndarray
    keyword: np.ndarray
    layout: np.ndarray

    def __post_init__(self) -> None:
        a = self.attributes
        if a.ndim not in (2, 3) or a.shape[-1] != N_ATTRIBUTES:
            raise ValueError(
                f"`arm_attributes` must have shape (n_arms, {N_ATTRIBUTES}) or "
                f"(n, n_arms, {N_ATTRIBUTES}); got {a.shape}."
            )
        for name in ("price", "keyword", "layout"):
            if getattr(self, name).shape != a.shape[:-1]:
                raise ValueError(
                    f"`{name}` must have shape {a.shape[:-1]}; got {getattr(self, name).shape}."
                )

    @classmethod
    def from_attributes(cls, attributes: np.ndarray) -> ArmContent:
        """Content known only by its attribute vectors (older callers).

        The price is the category's mean catalogue price, there is no keyword,
        and the layout is ``hero`` for mobile-first vectors and ``split`` otherwise.
        """
        attrs = np.asarray(attributes, dtype=np.float64)
        if attrs.ndim not in (2, 3) or attrs.shape[-1] != N_ATTRIBUTES:
            raise ValueError(
                f"`arm_attributes` must have shape (n_arms, {N_ATTRIBUTES}) or "
                f"(n, n_arms, {N_ATTRIBUTES}); got {attrs.shape}."
            )
        lead = attrs.shape[:-1]
        mobile_first = attrs[..., _S["mobile_first"].start] > 0.5
        return cls(
            attributes=attrs,
            price=attrs[..., _S["category"]] @ category_mean_price(),
            keyword=np.full(lead, -1, dtype=np.int64),
            layout=np.where(mobile_first, LAYOUTS.index("hero"), LAYOUTS.index("split")),
        )

    @property
    def offer(self) -> np.ndarray:
        """Index into ``OFFERS`` of each arm's offer, ndarray of shape lead."""
        a = self.attributes
        discount = a[..., _S["discount"].start]
        shipping = a[..., _S["free_shipping"].start] > 0.5
        money_off = 1 + np.rint(discount * 10).astype(np.int64)  # 10 % -> discount_10
        return np.where(
            shipping, OFFERS.index("free_shipping"), np.where(discount > 0, money_off, 0)
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResponseParams:
    """Hidden parameters of the funnel, drawn once per seed from a WorldConfig.

    Scalars are the config's effect sizes times the world's jitter; the user-dependent
    ones are already multiplied by ``scale``.

    Attributes
    ----------
    scale : float
        ``personalization_scale``.
    ctr_bias, cvr_bias : float
        Logit intercepts.
    category_appeal : ndarray of shape (n_interests,)
    tone_main : ndarray of shape (n_tones,)
    layout_main : ndarray of shape (n_layouts,)
    tone_offer : ndarray of shape (n_tones, n_offers)
        Global content effects (logit).
    interest_click, top_interest_click, interest_conv, keyword_click, keyword_conv : float
    tone_by_age : ndarray of shape (n_age_bands, n_tones)
    tone_by_region : ndarray of shape (n_regions, n_tones)
    discount_click, discount_conv, price_pivot : float
    free_shipping_click, free_shipping_conv : float
    greeting_match, greeting_cost, layout_device, language_mismatch : float
    price_conv : float
        Conversion-logit slope in log price (relative to ``PRICE_REFERENCE``).
    personalized_segment, personalized_user : float
    free_shipping_cost : float
        Share of the order value free shipping costs.
    cpm_mobile, cpm_desktop, cpc : float
        Costs (USD).
    """

    scale: float
    ctr_bias: float
    cvr_bias: float
    category_appeal: np.ndarray
    tone_main: np.ndarray
    layout_main: np.ndarray
    tone_offer: np.ndarray
    interest_click: float
    top_interest_click: float
    interest_conv: float
    keyword_click: float
    keyword_conv: float
    tone_by_age: np.ndarray
    tone_by_region: np.ndarray
    discount_click: float
    discount_conv: float
    price_pivot: float
    free_shipping_click: float
    free_shipping_conv: float
    greeting_match: float
    greeting_cost: float
    layout_device: float
    language_mismatch: float
    price_conv: float
    personalized_segment: float
    personalized_user: float
    free_shipping_cost: float
    cpm_mobile: float
    cpm_desktop: float
    cpc: float


# Structured tone tastes (why: younger audiences answer playful and social
# proof copy, older ones informative and premium); seeded noise is added.
_TONE_AGE_PRIOR = np.array(
    [
        [0.20, 0.05, -0.10, -0.10, 0.15],
        [0.10, 0.05, 0.00, -0.05, 0.10],
        [0.00, 0.00, 0.05, 0.05, 0.00],
        [-0.10, -0.05, 0.10, 0.10, -0.05],
        [-0.15, -0.10, 0.10, 0.15, -0.05],
    ]
)


def _tone_offer_prior() -> np.ndarray:
    # Why: urgency sells money off, a premium voice clashes with it, and
    # informative copy explains free shipping (Hill et al. 2017 found such
    # pairwise interactions among page components).
    prior = np.zeros((len(TONES), len(OFFERS)))
    money_off = [OFFERS.index(o) for o in OFFERS if o.startswith("discount")]
    prior[TONES.index("urgent"), money_off] = 1.0
    prior[TONES.index("premium"), money_off] = -1.0
    prior[TONES.index("informative"), OFFERS.index("free_shipping")] = 0.5
    return prior


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def sample_response_params(
    rng: np.random.Generator, world: WorldConfig | None = None
) -> ResponseParams:
    """Draw the hidden funnel parameters of one world.

    Parameters
    ----------
    rng : numpy.random.Generator
    world : WorldConfig, optional
        Effect sizes (default: the documented defaults).

    Returns
    -------
    params : ResponseParams
    """
    w = WorldConfig() if world is None else world
    n_int, n_tone, n_lay, n_off = len(INTERESTS), len(TONES), len(LAYOUTS), len(OFFERS)
    k = w.personalization_scale

    def j(value: float) -> float:
        return float(value * rng.uniform(1.0 - w.jitter, 1.0 + w.jitter))

    tone_offer = w.tone_offer_strength * _tone_offer_prior()
    return ResponseParams(
        scale=float(k),
        ctr_bias=_logit(w.base_ctr) + float(rng.normal(0.0, 0.25 * w.jitter)),
        cvr_bias=_logit(w.base_cvr) + float(rng.normal(0.0, 0.25 * w.jitter)),
        category_appeal=rng.normal(0.0, w.category_appeal_sd, size=n_int),
        tone_main=rng.normal(0.0, w.tone_sd, size=n_tone),
        layout_main=rng.normal(0.0, w.layout_sd, size=n_lay),
        tone_offer=tone_offer + rng.normal(0.0, w.tone_offer_sd, size=(n_tone, n_off)),
        interest_click=k * j(w.interest_click),
        top_interest_click=k * j(w.top_interest_click),
        interest_conv=k * j(w.interest_conv),
        keyword_click=k * j(w.keyword_click),
        keyword_conv=k * j(w.keyword_conv),
        tone_by_age=k
        * (
            w.tone_taste * _TONE_AGE_PRIOR
            + rng.normal(0.0, w.tone_taste_sd, size=(len(AGE_BANDS), n_tone))
        ),
        tone_by_region=k * rng.normal(0.0, w.tone_taste_sd, size=(len(REGIONS), n_tone)),
        discount_click=j(w.discount_click),
        discount_conv=j(w.discount_conv),
        price_pivot=j(w.price_pivot),
        free_shipping_click=j(w.free_shipping_click),
        free_shipping_conv=j(w.free_shipping_conv),
        greeting_match=k * j(w.greeting_match),
        greeting_cost=j(w.greeting_cost),
        layout_device=k * j(w.layout_device),
        language_mismatch=j(w.language_mismatch),
        price_conv=j(w.price_conv),
        personalized_segment=w.personalized_segment_lift,
        personalized_user=w.personalized_user_lift,
        free_shipping_cost=j(w.free_shipping_cost),
        cpm_mobile=j(w.cpm_mobile),
        cpm_desktop=j(w.cpm_desktop),
        cpc=j(w.cpc),
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Expectations:
    """Expected outcomes of showing each arm to each user.

    Attributes
    ----------
    ctr : ndarray of shape (n, n_arms)
        P(click).
    cvr : ndarray of shape (n, n_arms)
        P(convert | click).
    order_value : ndarray of shape (n, n_arms)
        Expected revenue per conversion (USD, net of discount).
    cost : ndarray of shape (n, n_arms)
        Expected cost of the impression (USD).
    """

    ctr: np.ndarray
    cvr: np.ndarray
    order_value: np.ndarray
    cost: np.ndarray

    @property
    def revenue(self) -> np.ndarray:
        """Expected revenue per impression, ndarray of shape (n, n_arms)."""
        return self.ctr * self.cvr * self.order_value

    def reward(self, objective: str) -> np.ndarray:
        """Expected reward per impression for ``objective`` (``ctr`` or ``roas``).

        For ``roas`` the reward is the net value, revenue minus cost: with a
        fixed number of impressions, the arm with the highest net value per
        impression is the one that maximizes return on the ad spend.
        """
        if objective == "ctr":
            return self.ctr
        if objective == "roas":
            return self.revenue - self.cost
        raise ValueError(f"`objective` must be 'ctr' or 'roas'; got {objective!r}.")


class ResponseModel:
    """Ground truth for (user, creative) pairs, with samplers.

    Parameters
    ----------
    params : ResponseParams
        Hidden parameters.
    pricing : {"cpm", "cpc"}, default="cpm"
        How impressions are paid for.
    max_price : float, optional
        Highest list price (USD) a creative can show; default the bundled catalogue's
        (a user's catalogue sets its own, which bounds the revenue of an impression).
    """

    def __init__(
        self, params: ResponseParams, *, pricing: str = "cpm", max_price: float | None = None
    ) -> None:
        if pricing not in ("cpm", "cpc"):
            raise ValueError(f"`pricing` must be 'cpm' or 'cpc'; got {pricing!r}.")
        if max_price is not None and not 0 < max_price < float("inf"):
            raise ValueError(f"`max_price` must be None or a float > 0; got {max_price!r}.")
        self.params = params
        self.pricing = pricing
        self.max_price = max_price

    @property
    def max_revenue(self) -> float:
        """Largest possible revenue of one impression (USD)."""
        top = self.max_price or max(p.price for ps in CATALOGUE.values() for p in ps)
        return float(top * BASKET_HIGH)

    @property
    def max_cost(self) -> float:
        """Largest possible cost of one impression (USD)."""
        if self.pricing == "cpc":
            return self.params.cpc
        return max(self.params.cpm_mobile, self.params.cpm_desktop) / 1000.0

    def linear_weights(self, users: Population) -> tuple[np.ndarray, np.ndarray]:
        """Per-user weights of every attribute column: the terms linear in it.

        Row ``i`` depends on user ``i`` alone (elementwise arithmetic), so the rows
        of a subset of users are bit for bit the rows of the whole audience.

        Returns
        -------
        w_click, w_conv : ndarray of shape (n, N_ATTRIBUTES)
        """
        p = self.params
        n = users.n_users
        wc = np.zeros((n, N_ATTRIBUTES))
        wv = np.zeros((n, N_ATTRIBUTES))
        interests = users.interests.astype(np.float64)
        rows = np.arange(n)
        wc[:, _S["category"]] = p.category_appeal + p.interest_click * interests
        wc[rows, _S["category"].start + users.top_interest] += p.top_interest_click
        wv[:, _S["category"]] = p.interest_conv * interests
        wc[:, _S["tone"]] = (
            p.tone_main + p.tone_by_age[users.age_band] + p.tone_by_region[users.region]
        )
        ps = users.price_sensitivity.astype(np.float64)
        lean = _PS_REFERENCE + p.scale * (ps - _PS_REFERENCE)
        wc[:, _S["discount"].start] = p.discount_click * (lean - p.price_pivot)
        wv[:, _S["discount"].start] = p.discount_conv * (lean - p.price_pivot)
        wc[:, _S["free_shipping"].start] = p.free_shipping_click * lean
        wv[:, _S["free_shipping"].start] = p.free_shipping_conv * lean
        wc[:, _S["greeting"]] = p.greeting_match * users.hours - p.greeting_cost
        wc[:, _S["mobile_first"].start] = np.where(users.mobile, p.layout_device, -p.layout_device)
        other = np.ones((n, _S["language"].stop - _S["language"].start))
        other[rows, users.language] = 0.0
        wc[:, _S["language"]] = -p.language_mismatch * other
        wv[:, _S["language"]] = -0.5 * p.language_mismatch * other
        wc[:, _S["personalized"]] = (p.personalized_segment, p.personalized_user)
        return wc, wv

    def _keyword_match(self, users: Population, arms: ArmContent) -> tuple[np.ndarray, np.ndarray]:
        """Whether each arm's keyword is one of the viewer's searches, and also on topic.

        Returns
        -------
        searched, on_topic : ndarray of shape (n, n_arms), bool
        """
        n = users.n_users
        keyword = np.broadcast_to(arms.keyword, (n, arms.keyword.shape[-1])).astype(np.int64)
        codes = users.keywords.astype(np.int64)
        searched = (keyword[:, :, None] == codes[:, None, :]).any(-1) & (keyword >= 0)
        category = arms.attributes[..., _S["category"]].argmax(axis=-1)
        on_topic = searched & (keyword // KEYWORDS_PER_INTEREST == category)
        return searched, on_topic

    def terms(
        self, users: Population, arms: ArmContent | np.ndarray
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each mechanism's contribution to the click and conversion logits.

        Parameters
        ----------
        users : Population
            ``n`` viewers.
        arms : ArmContent or ndarray of shape (n_arms, A) or (n, n_arms, A)
            What each viewer could be shown (bare attribute vectors are read with
            :meth:`ArmContent.from_attributes`).

        Returns
        -------
        terms : dict of str to (click, conversion)
            Keys of :data:`MECHANISMS`; both arrays of shape (n, n_arms). The
            logits are ``ctr_bias`` / ``cvr_bias`` plus the sums over mechanisms.
        """
        arms = arms if isinstance(arms, ArmContent) else ArmContent.from_attributes(arms)
        p = self.params
        a = np.asarray(arms.attributes, dtype=np.float64)
        n = users.n_users
        k = a.shape[-2]
        shape = (n, k)

        def user_dot(block: str, weights: np.ndarray) -> np.ndarray:
            # weights (n, width) against the arms' columns of ``block``.
            cols = a[..., _S[block]]
            if cols.ndim == 2:
                return weights @ cols.T
            return np.einsum("nkb,nb->nk", cols, weights)

        def full(x: np.ndarray | float) -> np.ndarray:
            return np.broadcast_to(np.asarray(x, dtype=np.float64), shape)

        zero = full(0.0)
        interests = users.interests.astype(np.float64)
        top = np.zeros_like(interests)
        top[np.arange(n), users.top_interest] = 1.0
        category = a[..., _S["category"]]
        tone = a[..., _S["tone"]]
        tone_index = tone.argmax(axis=-1)
        discount = a[..., _S["discount"].start]
        shipping = a[..., _S["free_shipping"].start]
        greeting = a[..., _S["greeting"]]
        mobile_first = a[..., _S["mobile_first"].start]
        language = a[..., _S["language"]]
        personalized = a[..., _S["personalized"]]

        searched, on_topic = self._keyword_match(users, arms)

        ps = users.price_sensitivity.astype(np.float64)[:, None] - _PS_REFERENCE
        ref = _PS_REFERENCE
        offer_click = p.discount_click * (ref - p.price_pivot) * discount
        offer_click = offer_click + p.free_shipping_click * ref * shipping
        offer_conv = p.discount_conv * (ref - p.price_pivot) * discount
        offer_conv = offer_conv + p.free_shipping_conv * ref * shipping
        taste_click = p.discount_click * discount + p.free_shipping_click * shipping
        taste_conv = p.discount_conv * discount + p.free_shipping_conv * shipping

        viewer_language = np.zeros((n, language.shape[-1]))
        viewer_language[np.arange(n), users.language] = 1.0
        mismatch = 1.0 - user_dot("language", viewer_language)
        device = np.where(users.mobile, 1.0, -1.0)[:, None]
        tone_taste = p.tone_by_age[users.age_band] + p.tone_by_region[users.region]
        bonus = personalized @ np.array([p.personalized_segment, p.personalized_user])
        return {
            "category_appeal": (full(category @ p.category_appeal), zero),
            "interest": (
                user_dot("category", p.interest_click * interests + p.top_interest_click * top),
                user_dot("category", p.interest_conv * interests),
            ),
            "keyword": (p.keyword_click * searched, p.keyword_conv * on_topic),
            "tone": (full(tone @ p.tone_main), zero),
            "tone_taste": (user_dot("tone", tone_taste), zero),
            "offer": (full(offer_click), full(offer_conv)),
            "offer_taste": (
                p.scale * ps * full(taste_click),
                p.scale * ps * full(taste_conv),
            ),
            "tone_x_offer": (full(p.tone_offer[tone_index, arms.offer]), zero),
            "greeting": (full(-p.greeting_cost * greeting.sum(axis=-1)), zero),
            "greeting_match": (user_dot("greeting", p.greeting_match * users.hours), zero),
            "layout": (full(p.layout_main[arms.layout]), zero),
            "layout_device": (p.layout_device * device * full(mobile_first), zero),
            "language": (-p.language_mismatch * mismatch, -0.5 * p.language_mismatch * mismatch),
            "price": (zero, full(-p.price_conv * np.log(arms.price / PRICE_REFERENCE))),
            "personalized": (full(bonus), zero),
        }

    def order_value(self, arms: ArmContent | np.ndarray) -> np.ndarray:
        """Expected revenue per conversion (USD, net of the offer), ndarray of shape lead."""
        arms = arms if isinstance(arms, ArmContent) else ArmContent.from_attributes(arms)
        a = arms.attributes
        kept = (
            1.0
            - a[..., _S["discount"].start]
            - self.params.free_shipping_cost * a[..., _S["free_shipping"].start]
        )
        return arms.price * kept * 0.5 * (BASKET_LOW + BASKET_HIGH)

    def expectations(self, users: Population, arms: ArmContent | np.ndarray) -> Expectations:
        """Expected click, conversion, order value and cost for every (user, arm).

        Parameters
        ----------
        users : Population
            ``n`` users.
        arms : ArmContent or ndarray of shape (n_arms, A) or (n, n_arms, A)
            The creatives each user could be shown (what
            :meth:`simulation.scenario.Level.arm_attributes` returns; bare
            attribute vectors are read with :meth:`ArmContent.from_attributes`).

        Returns
        -------
        expectations : Expectations
            Arrays of shape (n, n_arms).
        """
        # The sum of :meth:`terms`, computed the fast way: every term linear in
        # the attribute vector folds into one per-user weight row (one einsum),
        # the rest are added on the arms' own shape. A test holds the two equal.
        arms = arms if isinstance(arms, ArmContent) else ArmContent.from_attributes(arms)
        w_click, w_conv = self.linear_weights(users)
        tone = np.asarray(arms.attributes, dtype=np.float64)[..., _S["tone"]].argmax(axis=-1)
        match = self._keyword_match(users, arms) if (arms.keyword >= 0).any() else None
        return self.expectations_of(w_click, w_conv, arms, tone, arms.offer, users.mobile, match)

    def expectations_of(
        self,
        w_click: np.ndarray,
        w_conv: np.ndarray,
        arms: ArmContent,
        tone: np.ndarray,
        offer: np.ndarray,
        mobile: np.ndarray,
        keyword_match: tuple[np.ndarray, np.ndarray] | None,
    ) -> Expectations:
        """:meth:`expectations` from the viewers' parts, already computed.

        The one place the logits are summed (the generated level feeds it from
        tables kept for the whole audience, :mod:`simulation.engine.generated`),
        so both callers get the same numbers bit for bit.

        Parameters
        ----------
        w_click, w_conv : ndarray of shape (n, N_ATTRIBUTES)
            The viewers' rows of :meth:`linear_weights`.
        arms : ArmContent
            Leading shape (n_arms,) or (n, n_arms).
        tone, offer : ndarray of shape lead, int
            Index into ``TONES`` (the tone one-hot's argmax) and ``OFFERS``
            (:attr:`ArmContent.offer`) of every arm.
        mobile : ndarray of shape (n,), bool
        keyword_match : tuple of ndarray of shape (n, n_arms), bool, or None
            :meth:`_keyword_match` (searched, on topic); None when no arm has a keyword.
        """
        p = self.params
        a = np.asarray(arms.attributes, dtype=np.float64)
        if a.ndim == 2:
            click_logit = w_click @ a.T
            conv_logit = w_conv @ a.T
        else:
            click_logit = np.einsum("nka,na->nk", a, w_click)
            conv_logit = np.einsum("nka,na->nk", a, w_conv)
        click_logit += p.ctr_bias + p.tone_offer[tone, offer]
        click_logit += p.layout_main[arms.layout]
        conv_logit += p.cvr_bias - p.price_conv * np.log(arms.price / PRICE_REFERENCE)
        if keyword_match is not None:
            searched, on_topic = keyword_match
            click_logit += p.keyword_click * searched
            conv_logit += p.keyword_conv * on_topic
        ctr = 1.0 / (1.0 + np.exp(-click_logit))
        cvr = 1.0 / (1.0 + np.exp(-conv_logit))
        value = np.broadcast_to(self.order_value(arms), ctr.shape)
        if self.pricing == "cpm":
            cpm = np.where(mobile, p.cpm_mobile, p.cpm_desktop) / 1000.0
            cost = np.broadcast_to(cpm[:, None], ctr.shape)
        else:
            cost = ctr * p.cpc
        return Expectations(ctr=ctr, cvr=cvr, order_value=value, cost=cost)

    def draw_uniforms(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Common random numbers for ``n`` impressions, ndarray of shape (3, n).

        Rows are the click, conversion and basket uniforms. Every policy facing
        the same impression uses the same row, so outcome differences between
        policies come from their choices alone.
        """
        return rng.random((3, n))

    def realize(
        self,
        expectations: Expectations,
        arms: np.ndarray,
        uniforms: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Realized outcomes of showing ``arms`` to the batch's users.

        Parameters
        ----------
        expectations : Expectations
            Arrays of shape (n, n_arms).
        arms : ndarray of shape (m,), int
            Arm shown at each impression.
        uniforms : ndarray of shape (3, m)
            From :meth:`draw_uniforms`.
        rows : ndarray of shape (m,), optional
            Row of ``expectations`` for each impression (default ``arange(m)``).

        Returns
        -------
        click, conversion : ndarray of shape (m,), bool
        revenue, cost : ndarray of shape (m,), float
        """
        rows = np.arange(arms.shape[0]) if rows is None else rows
        return self.outcomes(
            expectations.ctr[rows, arms],
            expectations.cvr[rows, arms],
            expectations.order_value[rows, arms],
            expectations.cost[rows, arms],
            uniforms,
        )

    def outcomes(
        self,
        ctr: np.ndarray,
        cvr: np.ndarray,
        order_value: np.ndarray,
        expected_cost: np.ndarray,
        uniforms: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Realized outcomes from the expectations of the arms actually shown.

        Parameters
        ----------
        ctr, cvr, order_value, expected_cost : ndarray of shape (m,)
            Expectations of the shown (user, arm) pairs.
        uniforms : ndarray of shape (3, m)
            From :meth:`draw_uniforms`.

        Returns
        -------
        click, conversion : ndarray of shape (m,), bool
        revenue, cost : ndarray of shape (m,), float
        """
        click = uniforms[0] < ctr
        conversion = click & (uniforms[1] < cvr)
        # order_value is the mean over the basket multiplier: scale it by the
        # draw relative to that mean.
        basket = (BASKET_LOW + (BASKET_HIGH - BASKET_LOW) * uniforms[2]) / (
            0.5 * (BASKET_LOW + BASKET_HIGH)
        )
        revenue = np.where(conversion, order_value * basket, 0.0)
        cost = expected_cost if self.pricing == "cpm" else np.where(click, self.params.cpc, 0.0)
        return click, conversion, revenue, cost
