"""The ground-truth ad funnel: click, conversion, order value and cost.

For a user ``u`` and a creative with attribute vector ``a`` (the layout of
:data:`creative.attributes.ATTRIBUTE_NAMES`) the model is

    logit P(click)            = ctr_bias + a . w_click(u)
    logit P(convert | click)  = cvr_bias + a . w_conv(u)
    order value               = price[category(a)] * (1 - discount(a)) * m,  m ~ U(0.5, 1.5)
    cost per impression       = CPM(device) / 1000   (or CPC * click under CPC pricing)

where ``w_click(u)`` is a per-user weight for every attribute column, built
from interpretable matches: interest vs. product category, tone vs. the taste of
the user's age band and region, offer vs. price sensitivity, time-of-day
greeting vs. the user's active hours, layout vs. device, copy language vs. the
user's language, and whether the copy was personalized for the user's segment
or for the user. Discounts raise clicks and conversions of price-sensitive
users but cut the order value, so the best creative for CTR is not always the
best for ROAS.

Hidden parameters (:class:`ResponseParams`) are sampled once from the seed.
Their ranges are calibrated to published social-ad figures (see the README):
CTR about 0.5-3 %, conversion after click 2-10 %, CPM $5-25, ROAS 1-5. Every
expectation is exposed, so the oracle and regret are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creative.attributes import N_ATTRIBUTES, attribute_slices
from creative.vocabulary import INTERESTS, LANGUAGES, TONES
from simulation.population import AGE_BANDS, REGIONS, Population

__all__ = ["Expectations", "ResponseModel", "ResponseParams", "sample_response_params"]

_S = attribute_slices()
#: Order value multiplier range: bounded so that revenue has a known maximum.
BASKET_LOW, BASKET_HIGH = 0.5, 1.5


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResponseParams:
    """Hidden parameters of the funnel, sampled once per seed.

    Attributes
    ----------
    ctr_bias, cvr_bias : float
        Logit intercepts.
    interest_click, top_interest_click, interest_conv : float
        Logit lift when the product category is one of the user's interests
        (and extra when it is their top interest).
    category_appeal : ndarray of shape (n_interests,)
        Small per-category click offsets.
    tone_by_age : ndarray of shape (n_age_bands, n_tones)
        Click-logit taste of each age band for each tone.
    tone_by_region : ndarray of shape (n_regions, n_tones)
    discount_click, discount_conv : float
        Lift per unit discount, scaled by price sensitivity minus ``price_pivot``.
    price_pivot : float
        Below this sensitivity a discount slightly cheapens the brand.
    free_shipping_click, free_shipping_conv : float
        Lift of free shipping per unit price sensitivity.
    greeting_match, greeting_cost : float
        A greeting adds ``greeting_match * share of the user's activity in that
        part of day - greeting_cost``.
    layout_match : float
        +/- this when the layout's mobile-first flag matches / mismatches the device.
    language_mismatch : float
        Logit penalty for copy not in the user's language.
    personalized_segment, personalized_user : float
        Direct lift of copy written for the user's segment / the user.
    price : ndarray of shape (n_interests,)
        Mean order value (USD) per product category.
    cpm_mobile, cpm_desktop : float
        Cost per thousand impressions (USD).
    cpc : float
        Cost per click (USD) under CPC pricing.
    """

    ctr_bias: float
    cvr_bias: float
    interest_click: float
    top_interest_click: float
    interest_conv: float
    category_appeal: np.ndarray
    tone_by_age: np.ndarray
    tone_by_region: np.ndarray
    discount_click: float
    discount_conv: float
    price_pivot: float
    free_shipping_click: float
    free_shipping_conv: float
    greeting_match: float
    greeting_cost: float
    layout_match: float
    language_mismatch: float
    personalized_segment: float
    personalized_user: float
    price: np.ndarray
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


def sample_response_params(rng: np.random.Generator) -> ResponseParams:
    """Draw the hidden funnel parameters.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    params : ResponseParams
    """
    n_int, n_tone = len(INTERESTS), len(TONES)
    return ResponseParams(
        ctr_bias=float(np.log(0.0085 / (1 - 0.0085)) + rng.normal(0, 0.05)),
        cvr_bias=float(np.log(0.035 / (1 - 0.035)) + rng.normal(0, 0.05)),
        interest_click=float(rng.uniform(0.05, 0.07)),
        top_interest_click=float(rng.uniform(0.015, 0.025)),
        interest_conv=float(rng.uniform(0.10, 0.16)),
        category_appeal=rng.normal(0.0, 0.03, size=n_int),
        tone_by_age=0.5 * _TONE_AGE_PRIOR + rng.normal(0.0, 0.02, size=(len(AGE_BANDS), n_tone)),
        tone_by_region=rng.normal(0.0, 0.02, size=(len(REGIONS), n_tone)),
        discount_click=float(rng.uniform(0.6, 0.9)),
        discount_conv=float(rng.uniform(1.2, 1.8)),
        price_pivot=float(rng.uniform(0.25, 0.35)),
        free_shipping_click=float(rng.uniform(0.08, 0.14)),
        free_shipping_conv=float(rng.uniform(0.20, 0.30)),
        greeting_match=float(rng.uniform(0.09, 0.12)),
        greeting_cost=float(rng.uniform(0.015, 0.025)),
        layout_match=float(rng.uniform(0.02, 0.035)),
        language_mismatch=float(rng.uniform(0.08, 0.12)),
        personalized_segment=float(rng.uniform(0.005, 0.015)),
        personalized_user=float(rng.uniform(0.01, 0.025)),
        price=np.exp(rng.normal(np.log(55.0), 0.25, size=n_int)),
        cpm_mobile=float(rng.uniform(7.0, 11.0)),
        cpm_desktop=float(rng.uniform(11.0, 16.0)),
        cpc=float(rng.uniform(0.6, 1.0)),
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
    """

    def __init__(self, params: ResponseParams, *, pricing: str = "cpm") -> None:
        if pricing not in ("cpm", "cpc"):
            raise ValueError(f"`pricing` must be 'cpm' or 'cpc'; got {pricing!r}.")
        self.params = params
        self.pricing = pricing

    @property
    def max_revenue(self) -> float:
        """Largest possible revenue of one impression (USD)."""
        return float(self.params.price.max() * BASKET_HIGH)

    @property
    def max_cost(self) -> float:
        """Largest possible cost of one impression (USD)."""
        if self.pricing == "cpc":
            return self.params.cpc
        return max(self.params.cpm_mobile, self.params.cpm_desktop) / 1000.0

    def user_weights(self, users: Population) -> tuple[np.ndarray, np.ndarray]:
        """Per-user logit weights of every attribute column.

        Parameters
        ----------
        users : Population
            ``n`` users.

        Returns
        -------
        w_click, w_conv : ndarray of shape (n, N_ATTRIBUTES)
        """
        p = self.params
        n = users.n_users
        wc = np.zeros((n, N_ATTRIBUTES))
        wv = np.zeros((n, N_ATTRIBUTES))
        interests = users.interests.astype(np.float64)
        top = np.zeros_like(interests)
        top[np.arange(n), users.top_interest] = 1.0
        wc[:, _S["category"]] = p.interest_click * interests + p.top_interest_click * top
        wc[:, _S["category"]] += p.category_appeal
        wv[:, _S["category"]] = p.interest_conv * interests
        wc[:, _S["tone"]] = p.tone_by_age[users.age_band] + p.tone_by_region[users.region]
        ps = users.price_sensitivity.astype(np.float64)
        wc[:, _S["discount"].start] = p.discount_click * (ps - p.price_pivot)
        wv[:, _S["discount"].start] = p.discount_conv * (ps - p.price_pivot)
        wc[:, _S["free_shipping"].start] = p.free_shipping_click * ps
        wv[:, _S["free_shipping"].start] = p.free_shipping_conv * ps
        wc[:, _S["greeting"]] = p.greeting_match * users.hours - p.greeting_cost
        wc[:, _S["mobile_first"].start] = np.where(users.mobile, p.layout_match, -p.layout_match)
        lang = np.zeros((n, len(LANGUAGES)))
        lang[np.arange(n), users.language] = 1.0
        wc[:, _S["language"]] = -p.language_mismatch * (1.0 - lang)
        wv[:, _S["language"]] = -0.5 * p.language_mismatch * (1.0 - lang)
        wc[:, _S["personalized"]] = (p.personalized_segment, p.personalized_user)
        return wc, wv

    def expectations(self, users: Population, arm_attributes: np.ndarray) -> Expectations:
        """Expected click, conversion, order value and cost for every (user, arm).

        Parameters
        ----------
        users : Population
            ``n`` users.
        arm_attributes : ndarray of shape (n_arms, N_ATTRIBUTES) or (n, n_arms, N_ATTRIBUTES)
            The creatives each user could be shown (the second form when the
            creatives depend on the user, as with per-segment or per-user copy).

        Returns
        -------
        expectations : Expectations
            Arrays of shape (n, n_arms).
        """
        attrs = np.asarray(arm_attributes, dtype=np.float64)
        if attrs.shape[-1] != N_ATTRIBUTES or attrs.ndim not in (2, 3):
            raise ValueError(
                f"`arm_attributes` must have shape (n_arms, {N_ATTRIBUTES}) or "
                f"(n, n_arms, {N_ATTRIBUTES}); got {attrs.shape}."
            )
        wc, wv = self.user_weights(users)
        p = self.params
        if attrs.ndim == 2:
            click_logit = wc @ attrs.T
            conv_logit = wv @ attrs.T
        else:
            click_logit = np.einsum("nka,na->nk", attrs, wc)
            conv_logit = np.einsum("nka,na->nk", attrs, wv)
        ctr = 1.0 / (1.0 + np.exp(-(p.ctr_bias + click_logit)))
        cvr = 1.0 / (1.0 + np.exp(-(p.cvr_bias + conv_logit)))
        category = attrs[..., _S["category"]]
        price = category @ p.price
        kept = 1.0 - attrs[..., _S["discount"].start] - 0.05 * attrs[..., _S["free_shipping"].start]
        value = price * kept * 0.5 * (BASKET_LOW + BASKET_HIGH)
        value = np.broadcast_to(value, ctr.shape)
        if self.pricing == "cpm":
            cpm = np.where(users.mobile, p.cpm_mobile, p.cpm_desktop) / 1000.0
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
