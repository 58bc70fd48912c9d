"""``mvt_ts`` for net value: clicks, conversions per click and order value learned apart.

Under the net value objective the expected reward of a composition ``c`` for a user
is (CPM pricing, where the cost does not depend on the creative)::

    P(click | c) * P(convert | click, c) * list price(product) * kept share(offer) - cost

A single linear model of the net value per impression learns all of it from the
sales alone: rare (about one impression in a few thousand) and large, so its noise
drowns the click effects, and it has to learn that a $300 product's sale is worth
more than a $20 one's. :class:`FunnelThompson` spends every signal where it is
informative instead:

- a click learner (:class:`~simulation.generated.policies.MvtThompson`) on every
  impression, reward = clicked;
- a conversion learner of the same layout on the clicked impressions only,
  reward = converted;
- the order value as the product's list price (the catalogue's, known to the
  advertiser) times the share the offer keeps, learned from the revenue of the
  sales (prior: the offer's nominal discount, ``OFFER_DISCOUNT``; the world's
  shipping cost and basket sizes are not known to it).

The decision multiplies the three, so it is a sum in logs. Each learner is linear
in the probability; with one posterior draw of each, a row's score of level ``m``
of axis ``j`` is the log of the learner's rate with that level and the other axes
at their mean (:func:`level_rates`; floored, below), and a pairwise term adds ``delta / p`` (a
change ``delta`` of a probability near its mean rate ``p`` is a change ``delta / p``
of its log)::

    log rate_click[m] + log rate_conversion[m] + log price + log kept share
        + pairs_click / p_click + pairs_conversion / p_conversion

which the click learner's climb (:meth:`~simulation.generated.policies.MvtThompson.
best_of_tables`) maximizes per user. Why logs of the levels' rates, not their linear
expansion: conversion rates differ several-fold between products (dearer ones sell
less often), and ``delta / p`` around the mean rate then misjudges the trade of
price against conversions (in a throwaway test world a product converting 50 times
less looked only twice as bad); the prices, which vary a hundredfold, enter exactly.

Component effects (:meth:`FunnelThompson.component_effects`) follow the definition
of :mod:`simulation.generated.effects` (over the valid compositions, as the true
effects), in net value (USD per impression) from the product of the three models,
by Monte Carlo over valid reference compositions and posterior draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from numba import njit

from simulation.generated.policies import MvtThompson
from simulation.generated.space import ComponentSpace
from simulation.generated.valid_mix import valid_level_counts

__all__ = ["FunnelThompson", "level_rates"]

#: Rates below this are clipped when the effects multiply the models' predictions:
#: a linear model's draw can go negative, a probability cannot.
_MIN_RATE = 1e-6
#: The lowest rate a draw can give a level, as a share of the smoothed mean rate. Why
#: not ~0: sales are rare, so the conversion learner's draws are wide, and a level
#: drawn at or below zero got a log rate near minus infinity: every batch some levels
#: were thrown out at random (default world, net value, 1 million impressions,
#: replications 0-11: 52.5 % of the gap over the run with a floor of 0.001, 58.8 % at
#: 0.1, 61.4 % at 0.2; a floor of 0.2 x the level's own rate under the posterior mean
#: 55.0 %, with one replication at 10 %). The price: no level is believed to convert
#: (or be clicked) below a fifth of the mean rate, so a product that sells more than
#: five times less often than the average is misjudged as selling a fifth as often.
_FLOOR_SHARE = 0.2
#: At most this many batches of ``n_effect_refs`` raw references are drawn to find each
#: level's valid ones (:meth:`FunnelThompson.component_effects`). On the studio's space the
#: rarest level is valid in 1.7 % of the raw references, so 256 valid ones take about 60
#: batches; a level rarer still keeps the fewer it found.
_MAX_REF_BATCHES = 256


@dataclass(kw_only=True, eq=False)
class FunnelThompson:
    """Thompson sampling of net value through the funnel (see the module docstring).

    Parameters
    ----------
    clicks, conversions : MvtThompson
        Two learners of the same layout (tied patterns, masks, scales): the first
        learns clicks per impression, the second conversions per click. Both are
        reset by :meth:`reset`.
    product_axis : int
        The axis choosing the product, -1 when the space has none.
    price : ndarray of shape (n_products,)
        List price (USD) of each level of ``product_axis`` (one price without it).
    offer_axis : int
        The axis choosing the offer, -1 when the space has none.
    kept_prior : ndarray of shape (n_offers,)
        Prior mean of the share of the price each level of ``offer_axis`` keeps
        (one share without it): 1 minus the offer's nominal discount.
    kept_prior_n : float, default 20
        Pseudo-sales behind ``kept_prior``; observed sales move it after that.
    n_effect_draws, n_effect_refs : int, default 64, 256
        Posterior draws, and valid reference compositions per level, of
        :meth:`component_effects`.
    """

    name: ClassVar[str] = "mvt_ts"
    clicks: MvtThompson
    conversions: MvtThompson
    product_axis: int
    price: np.ndarray = field(repr=False)
    offer_axis: int
    kept_prior: np.ndarray = field(repr=False)
    kept_prior_n: float = 20.0
    n_effect_draws: int = 64
    n_effect_refs: int = 256

    def __post_init__(self) -> None:
        self.price = np.asarray(self.price, dtype=np.float64).ravel()
        self.kept_prior = np.asarray(self.kept_prior, dtype=np.float64).ravel()
        if not self.price.size or not (self.price > 0).all():
            raise ValueError("`price` must hold at least one price > 0.")
        if not self.kept_prior.size or not ((self.kept_prior > 0) & (self.kept_prior <= 1)).all():
            raise ValueError("`kept_prior` must hold shares in (0, 1].")
        n0 = self.kept_prior_n
        if isinstance(n0, bool) or not isinstance(n0, int | float) or not n0 > 0:
            raise ValueError(f"`kept_prior_n` must be a float > 0; got {n0!r}.")
        for name in ("n_effect_draws", "n_effect_refs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 100_000:
                raise ValueError(f"`{name}` must be an int in [2, 100000]; got {value!r}.")

    # -- state ----------------------------------------------------------------------------

    def reset(self, space: ComponentSpace, n_user_features: int = 0) -> FunnelThompson:
        """Reset both learners and the order value for ``space``; returns self."""
        for axis, values, name in (
            (self.product_axis, self.price, "price"),
            (self.offer_axis, self.kept_prior, "kept_prior"),
        ):
            want = 1 if axis < 0 else int(space.n_levels[axis])
            if not -1 <= axis < space.n_axes or values.size != want:
                raise ValueError(f"`{name}` must have {want} values for axis {axis}.")
        self.clicks.reset(space, n_user_features)
        self.conversions.reset(space, n_user_features)
        a, b = self.clicks, self.conversions
        same = (
            np.array_equal(a.tied_, b.tied_)
            and np.array_equal(a.user_mask_, b.user_mask_)
            and np.array_equal(a.pair_free_, b.pair_free_)
        )
        if not same:
            # The decision adds the two draws weight by weight.
            raise ValueError("`clicks` and `conversions` must share one layout.")
        self.space_, self.n_user_features_ = space, n_user_features
        # The valid compositions using each level (component_effects), counted on first use.
        self.level_counts_ = None
        self.kept_sum_ = self.kept_prior * self.kept_prior_n
        self.kept_n_ = np.full(self.kept_prior.size, float(self.kept_prior_n))
        self.n_clicks_, self.n_conversions_, self.n_seen_ = 0, 0, 0
        return self

    def _slot(self, combos: np.ndarray, axis: int) -> np.ndarray:
        """Each row's level of ``axis`` (0 for every row without it), shape (n,)."""
        return combos[:, axis] if axis >= 0 else np.zeros(len(combos), dtype=np.int64)

    def rates(self) -> tuple[float, float]:
        """The smoothed click and conversion-per-click rates, (1 + k) / (2 + n) each."""
        p_click = (self.n_clicks_ + 1.0) / (self.n_seen_ + 2.0)
        p_conversion = (self.n_conversions_ + 1.0) / (self.n_clicks_ + 2.0)
        return p_click, p_conversion

    @property
    def kept_(self) -> np.ndarray:
        """Posterior mean of the share each offer keeps, shape (n_offers,)."""
        return self.kept_sum_ / self.kept_n_

    def _log_value(self) -> np.ndarray:
        """The known log order value (price, kept share) as main effects, (n_levels_total,)."""
        space = self.space_
        out = np.zeros(space.n_levels_total)
        for axis, values in ((self.product_axis, self.price), (self.offer_axis, self.kept_)):
            if axis >= 0:
                out[space.offsets[axis] : space.offsets[axis + 1]] += np.log(values)
        return out

    # -- decisions ------------------------------------------------------------------------

    def decision_tables(
        self, theta_click: np.ndarray, theta_conversion: np.ndarray, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The log-scale score's tables under one draw of each learner.

        Parameters
        ----------
        theta_click, theta_conversion : ndarray of shape (n_params,)
        x : ndarray of shape (n, n_user_features)

        Returns
        -------
        u : ndarray of shape (n, n_levels_total)
            Each level's log click rate + log conversion rate (:func:`level_rates`,
            floored at ``_FLOOR_SHARE`` x the mean rate) + its log order value.
        pt : ndarray of shape (n_levels_total, n_levels_total)
            The two pairwise tables over their smoothed mean rates (:meth:`rates`).
        """
        x = self.clicks._contexts(x)
        p_click, p_conversion = self.rates()
        unary_click, pairs_click = self.clicks.tables(theta_click, x)
        unary_conversion, pairs_conversion = self.conversions.tables(theta_conversion, x)
        # A drawn rate at or below the floor would be log 0 or near it: see _FLOOR_SHARE.
        u = _log_scores(
            unary_click, unary_conversion, self.space_.offsets,
            _pair_mean(self.space_, pairs_click), _pair_mean(self.space_, pairs_conversion),
            _FLOOR_SHARE * p_click, _FLOOR_SHARE * p_conversion, self._log_value(),
        )  # fmt: skip
        return u, pairs_click / p_click + pairs_conversion / p_conversion

    def select(self, user_contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each row's best composition under one draw of each learner, (n, n_axes)."""
        # Both draws anneal with the impressions seen: the conversions learner counts
        # only the clicks it was taught (about 1 % of the impressions).
        theta_click = self.clicks.draw(rng, self.clicks.current_draw_scale(self.n_seen_))
        theta_conversion = self.conversions.draw(
            rng, self.conversions.current_draw_scale(self.n_seen_)
        )
        u, pt = self.decision_tables(theta_click, theta_conversion, user_contexts)
        combos, _ = self.clicks.best_of_tables(u, pt, rng)
        return combos

    def update(
        self,
        user_contexts: np.ndarray,
        combos: np.ndarray,
        click: np.ndarray,
        conversion: np.ndarray,
        revenue: np.ndarray,
    ) -> None:
        """Learn from a batch: contexts (n, d), combos (n, n_axes), outcomes (n,) each.

        ``click`` and ``conversion`` are bool (a conversion implies a click),
        ``revenue`` the sale's value in USD (0 without one).
        """
        click = np.asarray(click, dtype=bool)
        conversion = np.asarray(conversion, dtype=bool)
        revenue = np.asarray(revenue, dtype=np.float64)
        n = click.size
        if conversion.shape != (n,) or revenue.shape != (n,) or (conversion & ~click).any():
            raise ValueError("`click`, `conversion`, `revenue` must be (n,), conversions clicked.")
        combos = np.asarray(combos, dtype=np.int64)
        self.clicks.update(user_contexts, combos, click.astype(np.float64))
        if click.any():
            x = np.asarray(user_contexts, dtype=np.float64)
            # Conversions per click: the clicks alone teach it.
            self.conversions.update(x[click], combos[click], conversion[click].astype(np.float64))
        if conversion.any():
            sold = combos[conversion]
            price = self.price[self._slot(sold, self.product_axis)]
            offer = self._slot(sold, self.offer_axis)
            np.add.at(self.kept_sum_, offer, revenue[conversion] / price)
            np.add.at(self.kept_n_, offer, 1.0)
        self.n_seen_ += n
        self.n_clicks_ += int(click.sum())
        self.n_conversions_ += int(conversion.sum())

    # -- beliefs --------------------------------------------------------------------------

    def component_effects(
        self, x: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of every level's effect on net value for user ``x``.

        The definition of :mod:`simulation.generated.effects` (the mean over the
        valid compositions with the level minus the mean over all valid ones, as
        the true effects) applied to the funnel's expected revenue per impression,
        ``click rate x conversion rate x price x kept share`` (the cost does not
        depend on the creative): the mean and sd over ``n_effect_draws`` posterior
        draws of both learners (Thompson's own, untempered).

        Within a draw, a level's mean is over ``n_effect_refs`` valid compositions
        with it, drawn uniformly: uniform raw references with the level swapped in,
        the invalid ones rejected (the first ``n_effect_refs`` valid of one stream
        of references shared by every level and draw); the mean over all valid
        compositions is the levels' means weighted by the exact share of valid
        compositions with each (:func:`~simulation.generated.valid_mix.valid_level_counts`),
        per axis. The references' Monte Carlo error is shared by every draw, so it
        is not in the sd: with 256 references it is about a sixteenth of the sd of
        the revenue over the level's valid compositions. On a space without
        constraints every reference is valid, and the estimate is the earlier
        one (every axis uniform and independent, centred on the plain mean).
        The model is not linear in ``x``: the effects are at the group's mean
        context, where the truth averages its users' effects.

        Parameters
        ----------
        x : ndarray of shape (n_user_features,)
        rng : numpy.random.Generator

        Returns
        -------
        estimate, sd : ndarray of shape (n_levels_total,)
            USD per impression; NaN for a level no valid composition uses.
        """
        space = self.space_
        if self.level_counts_ is None:
            self.level_counts_ = valid_level_counts(space)
        counts = self.level_counts_
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        level, combos = self._valid_refs(rng, counts > 0)
        value = self._value(combos)
        g = np.ascontiguousarray(space.flat(combos))
        n_refs = np.bincount(level, minlength=space.n_levels_total).astype(np.float64)
        found = n_refs > 0
        # Each axis's mean over all valid compositions: its levels' means by their shares
        # (over the levels found, should a level valid in almost no reference be missed).
        kept = np.where(found, counts, 0.0)
        with np.errstate(invalid="ignore"):  # an axis with no level found: all NaN
            share = kept / np.add.reduceat(kept, space.offsets[:-1])[space.axis_of]
        draws = np.empty((self.n_effect_draws, space.n_levels_total))
        for k in range(self.n_effect_draws):
            click, conversion = (
                np.maximum(_scores(learner, learner.draw(rng, 1.0), x, g), _MIN_RATE)
                for learner in (self.clicks, self.conversions)
            )
            revenue = click * conversion * value
            per_level = np.bincount(level, revenue, minlength=space.n_levels_total)
            per_level = np.divide(per_level, n_refs, out=np.zeros_like(per_level), where=found)
            overall = np.add.reduceat(share * per_level, space.offsets[:-1])
            draws[k] = per_level - overall[space.axis_of]
        draws[:, ~found] = np.nan
        return draws.mean(axis=0), draws.std(axis=0, ddof=1)

    def _valid_refs(
        self, rng: np.random.Generator, used: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``n_effect_refs`` valid compositions with each used level.

        Batches of ``n_effect_refs`` uniform raw references, each level swapped in,
        until every used level has ``n_effect_refs`` valid ones (or
        ``_MAX_REF_BATCHES`` batches). On a space without constraints the first
        batch serves every level, the references the unconstrained estimate drew.

        Returns
        -------
        level : ndarray of shape (n_pairs,), int64
            The flat level of each kept (level, reference) pair.
        combos : ndarray of shape (n_pairs, n_axes), int64
            The reference with the level swapped in (valid).
        """
        space, n = self.space_, self.n_effect_refs
        need = np.where(used, n, 0)
        levels, combos = [], []
        for _ in range(_MAX_REF_BATCHES):
            refs = rng.integers(0, np.asarray(space.n_levels), size=(n, space.n_axes))
            ok = _swap_valid(space.flat(refs), space.offsets, space.level_mask, space.pair_mask)
            # Keep each level's first valid references, up to what it still needs.
            ok &= np.cumsum(ok, axis=1) <= need[:, None]
            m_idx, r_idx = np.nonzero(ok)
            swapped = refs[r_idx]
            swapped[np.arange(m_idx.size), space.axis_of[m_idx]] = (
                m_idx - space.offsets[space.axis_of[m_idx]]
            )
            levels.append(m_idx)
            combos.append(swapped)
            need = need - ok.sum(axis=1)
            if not need.any():
                break
        return np.concatenate(levels), np.concatenate(combos)

    def _value(self, combos: np.ndarray) -> np.ndarray:
        """Order value (list price x kept share) of each composition, shape (n,)."""
        out = np.ones(len(combos))
        for axis, values in ((self.product_axis, self.price), (self.offer_axis, self.kept_)):
            out *= values[self._slot(combos, axis)] if axis >= 0 else values[0]
        return out


def _scores(learner: MvtThompson, theta: np.ndarray, x: np.ndarray, g: np.ndarray):
    """The learner's score of each composition for user ``x`` (1, d) under ``theta``, (n,).

    ``g`` (n, n_axes) holds the compositions' flat levels.
    """
    u, pt = learner.tables(theta, learner._contexts(x))
    return _composition_scores(np.ascontiguousarray(u[0]), np.ascontiguousarray(pt), g)


@njit(cache=True, nogil=True)
def _swap_valid(g, offsets, level_mask, pair_mask):
    """Whether each reference (rows of flat levels ``g``) is valid with each level swapped in.

    Returns
    -------
    ok : ndarray of shape (n_levels_total, n_refs), bool
    """
    n, n_axes = g.shape
    n_total = offsets[n_axes]
    ok = np.zeros((n_total, n), dtype=np.bool_)
    for r in range(n):
        for j in range(n_axes):
            # The reference's other axes must be valid among themselves...
            rest = True
            for a in range(n_axes):
                if a == j:
                    continue
                if not level_mask[g[r, a]]:
                    rest = False
                    break
                for b in range(a + 1, n_axes):
                    if b != j and not pair_mask[g[r, a], g[r, b]]:
                        rest = False
                        break
                if not rest:
                    break
            if not rest:
                continue
            # ... and with the level swapped in.
            for m in range(offsets[j], offsets[j + 1]):
                if not level_mask[m]:
                    continue
                good = True
                for a in range(n_axes):
                    if a != j and not pair_mask[m, g[r, a]]:
                        good = False
                        break
                ok[m, r] = good
    return ok


@njit(cache=True, nogil=True)
def _composition_scores(u, pt, g):
    # Compiled: 19,000 compositions x 45 pairs, twice per posterior draw.
    n, n_axes = g.shape
    out = np.empty(n)
    for r in range(n):
        s = 0.0
        for a in range(n_axes):
            s += u[g[r, a]]
            for b in range(a + 1, n_axes):
                s += pt[g[r, a], g[r, b]]
        out[r] = s
    return out


def level_rates(space: ComponentSpace, u: np.ndarray, pt: np.ndarray) -> np.ndarray:
    """Each row's rate with one level set and the other axes at their mean.

    For row ``i`` and level ``m`` of axis ``j``: ``rate_i + u[i, m] - mean of u[i]
    over axis j``, where ``rate_i`` is the model's mean over compositions with every
    axis uniform and independent (unary means plus the pairwise mean).

    Parameters
    ----------
    space : ComponentSpace
    u : ndarray of shape (n, n_levels_total)
        A linear rate model's unary scores.
    pt : ndarray of shape (n_levels_total, n_levels_total)
        Its pairwise table (zero within an axis).

    Returns
    -------
    rates : ndarray of shape (n, n_levels_total)
    """
    u = np.ascontiguousarray(u, dtype=np.float64)
    return _level_rates(u, space.offsets, _pair_mean(space, pt))


def _pair_mean(space: ComponentSpace, pt: np.ndarray) -> float:
    """The pairwise table's mean over compositions with every axis uniform and independent."""
    w = 1.0 / np.asarray(space.n_levels, dtype=np.float64)[space.axis_of]
    return 0.5 * float(w @ pt @ w)


@njit(cache=True, nogil=True, inline="always")
def _row_rate(u, i, offsets, pair_mean, means):
    # Row i's mean rate (unary means plus the pairwise mean); each axis's mean in `means`.
    rate = pair_mean
    for a in range(offsets.size - 1):
        s = 0.0
        for m in range(offsets[a], offsets[a + 1]):
            s += u[i, m]
        means[a] = s / (offsets[a + 1] - offsets[a])
        rate += means[a]
    return rate


@njit(cache=True, nogil=True)
def _level_rates(u, offsets, pair_mean):
    n, total = u.shape
    n_axes = offsets.size - 1
    out = np.empty((n, total))
    means = np.empty(n_axes)
    for i in range(n):
        rate = _row_rate(u, i, offsets, pair_mean, means)
        for a in range(n_axes):
            for m in range(offsets[a], offsets[a + 1]):
                out[i, m] = rate + u[i, m] - means[a]
    return out


@njit(cache=True, nogil=True)
def _log_scores(uc, uv, offsets, pair_c, pair_v, floor_c, floor_v, log_value):
    # The decision's unary table in one pass (a thousand rows x every level, every
    # batch): log(floored click rate x floored conversion rate) + log order value,
    # one log per cell instead of two.
    n, total = uc.shape
    n_axes = offsets.size - 1
    out = np.empty((n, total))
    mc, mv = np.empty(n_axes), np.empty(n_axes)
    for i in range(n):
        rc = _row_rate(uc, i, offsets, pair_c, mc)
        rv = _row_rate(uv, i, offsets, pair_v, mv)
        for a in range(n_axes):
            for m in range(offsets[a], offsets[a + 1]):
                click = max(rc + uc[i, m] - mc[a], floor_c)
                conversion = max(rv + uv[i, m] - mv[a], floor_v)
                out[i, m] = np.log(click * conversion) + log_value[m]
    return out
