"""Policies that compose each user's creative: uniform, oracle and mvt_ts.

The array contract (like ``simulation.policies``, with compositions for arms)::

    policy.reset(space, n_user_features)
    combos = policy.select(user_contexts, rng)     # (n, d) -> (n, n_axes) int64, always valid
    policy.update(user_contexts, combos, rewards)  # rewards (n,) float

``select`` on a batch uses one state for the whole batch (one posterior draw
per batch for ``mvt_ts``); ``update`` learns from it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.linalg

from simulation.generated import search
from simulation.generated.effects import posterior_effects, valid_contrasts
from simulation.generated.model import (
    PairwiseModel,
    design,
    diagonal_draw,
    diagonal_update,
    free_blocks,
    free_runs,
    main_moments,
    n_params,
    pair_table,
    relevance_scales,
    reprior,
    tied_sparse,
    tied_values,
    unary_scores_mean,
)
from simulation.generated.space import ComponentSpace

__all__ = ["GENERATED_POLICIES", "GeneratedPolicy", "MvtThompson", "Oracle", "Uniform"]


class GeneratedPolicy:
    """Base of the composing policies: validation and the fitted state."""

    name: ClassVar[str] = ""
    uses_ground_truth: ClassVar[bool] = False
    #: Learns from rewards (False for the uniform draw and the oracle), as ``Policy.learns``.
    learns: ClassVar[bool] = True

    space_: ComponentSpace
    n_user_features_: int

    def reset(self, space: ComponentSpace, n_user_features: int = 0) -> GeneratedPolicy:
        """Forget everything and prepare for ``space`` and ``n_user_features`` user features."""
        if not isinstance(space, ComponentSpace):
            raise TypeError(f"`space` must be a ComponentSpace; got {type(space).__name__}.")
        if (
            isinstance(n_user_features, bool)
            or not isinstance(n_user_features, int | np.integer)
            or n_user_features < 0
        ):
            raise ValueError(f"`n_user_features` must be an int >= 0; got {n_user_features!r}.")
        self.space_ = space
        self.n_user_features_ = int(n_user_features)
        self._reset_state()
        return self

    def _reset_state(self) -> None:
        pass

    def _contexts(self, contexts: np.ndarray) -> np.ndarray:
        if not hasattr(self, "space_"):
            raise RuntimeError(
                f"{type(self).__name__} must be reset(space, n_user_features) first."
            )
        x = np.asarray(contexts, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_user_features_:
            raise ValueError(
                f"`user_contexts` must have shape (n, {self.n_user_features_}); got {x.shape}."
            )
        return x

    def _check_update(self, contexts, combos, rewards):
        x = self._contexts(contexts)
        c = np.asarray(combos)
        r = np.asarray(rewards, dtype=np.float64)
        if c.shape != (x.shape[0], self.space_.n_axes) or r.shape != (x.shape[0],):
            raise ValueError(
                f"`combos` must have shape ({x.shape[0]}, {self.space_.n_axes}) and `rewards` "
                f"({x.shape[0]},); got {c.shape} and {r.shape}."
            )
        if not np.isfinite(r).all():
            raise ValueError("`rewards` must be finite.")
        return x, c, r

    def select(self, user_contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A valid composition per row, ndarray of shape (n, n_axes), int64."""
        raise NotImplementedError

    def update(self, user_contexts: np.ndarray, combos: np.ndarray, rewards: np.ndarray) -> None:
        """Learn from a batch (nothing, for policies that do not learn)."""
        self._check_update(user_contexts, combos, rewards)


@dataclass(kw_only=True)
class Uniform(GeneratedPolicy):
    """A valid composition drawn uniformly at random."""

    name: ClassVar[str] = "uniform"
    learns: ClassVar[bool] = False

    def select(self, user_contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniform valid composition per row, ndarray of shape (n, n_axes)."""
        x = self._contexts(user_contexts)
        return search.sample_valid(self.space_, x.shape[0], rng)


@dataclass(kw_only=True)
class Oracle(GeneratedPolicy):
    """The true best composition per user, exactly (branch and bound).

    Parameters
    ----------
    truth : PairwiseModel
        The expected reward the run optimizes (clicks or net value), in the
        pairwise layout; its space must be the one given to :meth:`reset`.
    """

    name: ClassVar[str] = "oracle"
    learns: ClassVar[bool] = False
    uses_ground_truth: ClassVar[bool] = True
    truth: PairwiseModel

    def _reset_state(self) -> None:
        if not isinstance(self.truth, PairwiseModel) or self.truth.space is not self.space_:
            raise ValueError("`truth` must be a PairwiseModel over the space given to reset().")
        if self.truth.n_user_features != self.n_user_features_:
            raise ValueError(
                f"`truth` must have {self.n_user_features_} user features; "
                f"got {self.truth.n_user_features}."
            )
        self.pair_table_ = self.truth.pair_table()

    def select(self, user_contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each row's true best composition, ndarray of shape (n, n_axes)."""
        x = self._contexts(user_contexts)
        combos, _ = search.exact_argmax(self.space_, self.truth.unary(x), self.pair_table_, rng)
        return combos


#: Prior sd of each block in units of the mean reward (rewards in [0, 1]: effects are
#: relative lifts, a few per cent per interaction) or else of the reward's sd.
_AUTO_SCALES = {"prior_var": 0.3, "prior_var_user": 0.15, "prior_var_pair": 0.15}
_AUTO_SCALES_SD = {"prior_var": 0.1, "prior_var_user": 0.03, "prior_var_pair": 0.03}


#: The setting each of the four base blocks (main, user cells, pairs, tied) takes its
#: scale from: the tied patterns are user x component interactions, as the cells are.
_BLOCK_SCALES = ("prior_var", "prior_var_user", "prior_var_pair", "prior_var_user")

#: Rows held back, at most, while every reward is the same (``MvtThompson._hold``): bounds
#: the memory of a run without a click.
_MAX_HELD = 100_000

#: Lowest relevance scale, as a share of its parent block's automatic variance: a
#: block the data do not support is switched off (its cells stay near zero), not removed.
_RELEVANCE_FLOOR = 1e-6


def annealed_scale(anneal_after: float | None, n_seen: int) -> float:
    """The draw scale's annealing factor after ``n_seen`` impressions, in (0, 1].

    ``min(1, sqrt(anneal_after / n_seen))``; 1 when ``anneal_after`` is None. The
    posterior's own spread shrinks about as ``1 / sqrt(n)``; this factor makes the
    draw's deviation shrink about as ``1 / n`` after ``anneal_after`` impressions, so
    exploration that has taught what it can stops costing what it did early on.
    """
    if anneal_after is None or n_seen <= anneal_after:
        return 1.0
    return float(np.sqrt(anneal_after / n_seen))


def _auto_scales(unit: bool, mean_reward: float, noise_var: float) -> dict[str, float]:
    """Prior variances of the blocks from the reward's mean (rewards in [0, 1]) or sd."""
    if unit and mean_reward > 0:
        return {k: (v * mean_reward) ** 2 for k, v in _AUTO_SCALES.items()}
    return {k: v * v * noise_var for k, v in _AUTO_SCALES_SD.items()}


@dataclass(kw_only=True)
class MvtThompson(GeneratedPolicy):
    """Multivariate Thompson sampling over compositions (Hill et al., KDD 2017).

    A Bayesian linear model over main effects, user-feature x component
    interactions and pairwise component interactions (the layout of
    :mod:`simulation.generated.model`), plus optional *tied* interactions: one
    weight shared by a pattern of (user feature, level) cells, e.g. "the user is
    interested in the product's category" over all products. One posterior draw per
    batch; each user's best composition under the draw, exactly by enumeration
    when the space has at most ``exact_max`` valid compositions, else by
    coordinate ascent from the batch's best composition for its mean user.

    Scales (``None``, the default, means "from the rewards"): the noise variance is
    the rewards' running variance, shrunk towards the Bernoulli bound
    ``mean * (1 - mean)`` (a bound for any reward in [0, 1]) with a weight of
    ``noise_prior_n`` pseudo-observations, so rare large rewards (sales) do not make
    it overconfident early. The prior variances are set at the first update: for
    rewards in [0, 1], main effects ``(0.3 mean)^2`` around a prior mean of
    ``mean reward / n_axes`` each (the intercept) and interactions ``(0.15 mean)^2``;
    otherwise ``(0.1 sd)^2`` and ``(0.03 sd)^2`` of the noise.
    With ``track_scale`` (and the diagonal posterior), the scales are then re-set
    after every update, the posterior re-based on them exactly (:meth:`_reprior`):
    the interactions' follow the running reward moments, the main effects' is
    estimated from the posterior by an EM step (:meth:`_scales`).
    A float fixes a scale instead (the tests' closed-form references, hill48).

    Parameters
    ----------
    prior_var, prior_var_user, prior_var_pair : float or None, default None
        Prior variances of the main, user-interaction (and tied) and pairwise weights.
    noise_var : float or None, default None
        Reward noise variance.
    noise_prior_n : float, default 10000
        Pseudo-observations of the Bernoulli bound in the noise estimate.
    covariance : {"auto", "full", "diagonal"}, default "auto"
        ``full`` is the exact conjugate posterior; ``diagonal`` a factorized
        one updated row by row (assumed-density filtering), O(touched weights) per
        impression. ``auto`` is full up to ``full_max`` parameters.
    full_max : int, default 1024
    exact_max : int, default 4096
    n_restarts, max_sweeps : int, default 8, 10
        Random restarts of the batch's mean-user climb (the start of every row's
        climb), and sweeps of every climb.
    user_interactions, pair_interactions : bool, default True
    tied : ndarray of shape (k, n_user_features, n_levels_total) or None
        Tied interaction patterns: pattern ``t`` adds ``beta_t * x @ tied[t][:, m]``
        to the score of level ``m`` for user ``x``; ``beta_t`` is learned.
    user_mask : ndarray of shape (n_user_features, n_levels_total), bool, or None
        Which user-feature x level cells have a free weight (all when None); the
        others are fixed at zero (prior variance 0) and never touched.
    main_scale : ndarray of shape (n_levels_total,) or None
        Multiplier of each level's main-effect prior variance (ones when None):
        below 1 for levels whose effect is mostly carried by a tied pattern (a
        product's deviation from its category's).
    pair_blocks : ndarray of shape (n_axes, n_axes), bool, or None
        Which pairs of axes have free pairwise weights (all when None); the
        others are fixed at zero.
    track_scale : bool, default True
        Re-set the prior variance of each block whose scale is ``None`` after
        every update (diagonal posterior only; :meth:`_scales`).
    relevance : bool, default True
        Automatic relevance determination of the interactions (with ``track_scale``,
        the diagonal posterior and automatic interaction scales): the user cells of
        each axis, and the pairwise cells of each pair of axes, get a prior scale of
        their own, set after every update by MacKay's fixed point
        ``sum(mean^2) / sum(1 - var / prior)`` over the block (:meth:`_scales`). Blocks
        the data do not support shrink towards zero, so their hundreds of cells stop
        adding noise to every draw; the few that matter (tone x offer, say) keep theirs.
    n_threads : int, default 1
        Threads of every row's climb (:func:`~simulation.generated.search.warm_climb`);
        the engine keeps 1 and spreads its units over the cores instead.
    draw_scale : float, default 1.0
        Multiplier of the draw's deviation from the posterior mean: 1 is Thompson
        sampling; below 1 a tempered draw ("posterior reshaping"), which explores
        less. The posterior itself (and :meth:`component_effects`) is unchanged.
    anneal_after : float or None, default None
        Impressions after which the draw's scale falls as ``sqrt(anneal_after / n)``
        with ``n`` impressions taught (:func:`annealed_scale`): exploration that
        shrinks faster than the posterior alone makes it, so late batches serve
        closer to what has been learned. None keeps ``draw_scale`` for the whole run.
    """

    name: ClassVar[str] = "mvt_ts"
    prior_var: float | None = None
    prior_var_user: float | None = None
    prior_var_pair: float | None = None
    noise_var: float | None = None
    noise_prior_n: float = 10_000.0
    covariance: str = "auto"
    full_max: int = 1024
    exact_max: int = 4096
    n_restarts: int = 8
    max_sweeps: int = 10
    user_interactions: bool = True
    pair_interactions: bool = True
    tied: np.ndarray | None = field(default=None, compare=False, repr=False)
    user_mask: np.ndarray | None = field(default=None, compare=False, repr=False)
    main_scale: np.ndarray | None = field(default=None, compare=False, repr=False)
    pair_blocks: np.ndarray | None = field(default=None, compare=False, repr=False)
    track_scale: bool = True
    relevance: bool = True
    n_threads: int = 1
    draw_scale: float = 1.0
    anneal_after: float | None = None

    def __post_init__(self) -> None:
        for name in ("prior_var", "prior_var_user", "prior_var_pair", "noise_var"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"`{name}` must be None or a float > 0; got {value!r}.")
        scale = self.draw_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 4:
            raise ValueError(f"`draw_scale` must be a float in (0, 4]; got {scale!r}.")
        after = self.anneal_after
        if after is not None and (
            isinstance(after, bool) or not isinstance(after, int | float) or not 1 <= after <= 1e12
        ):
            raise ValueError(f"`anneal_after` must be None or a float in [1, 1e12]; got {after!r}.")
        n0 = self.noise_prior_n
        if isinstance(n0, bool) or not isinstance(n0, int | float) or not n0 > 0:
            raise ValueError(f"`noise_prior_n` must be a float > 0; got {n0!r}.")
        if self.covariance not in ("auto", "full", "diagonal"):
            raise ValueError(
                f"`covariance` must be 'auto', 'full' or 'diagonal'; got {self.covariance!r}."
            )
        for name in ("track_scale", "relevance"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` must be a bool; got {getattr(self, name)!r}.")
        for name in ("full_max", "exact_max", "n_restarts", "max_sweeps", "n_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")

    # -- state ----------------------------------------------------------------------------

    def _reset_state(self) -> None:
        space, d = self.space_, self.n_user_features_
        total = space.n_levels_total
        tied = np.zeros((0, d, total)) if self.tied is None else np.asarray(self.tied, float)
        if tied.ndim != 3 or tied.shape[1:] != (d, total):
            raise ValueError(
                f"`tied` must have shape (k, {d}, {total}) for this space; got {tied.shape}."
            )
        self.tied_ = np.ascontiguousarray(tied)
        self.tied_cells_ = tied_sparse(self.tied_)
        mask = np.ones((d, total), bool) if self.user_mask is None else self.user_mask
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (d, total):
            raise ValueError(f"`user_mask` must have shape ({d}, {total}); got {mask.shape}.")
        self.user_mask_ = mask
        scale = np.ones(total) if self.main_scale is None else np.asarray(self.main_scale, float)
        if scale.shape != (total,) or not (scale > 0).all():
            raise ValueError(f"`main_scale` must be {total} floats > 0; got shape {scale.shape}.")
        self.main_scale_ = scale
        blocks = (
            np.ones((space.n_axes, space.n_axes), bool)
            if self.pair_blocks is None
            else np.asarray(self.pair_blocks, bool)
        )
        if blocks.shape != (space.n_axes, space.n_axes):
            raise ValueError(f"`pair_blocks` must have shape ({space.n_axes}, {space.n_axes}).")
        idx = space.pair_index
        free = np.zeros(space.n_pair_features, bool)
        a = space.axis_of
        on = (idx >= 0) & blocks[a[:, None], a[None, :]]
        free[idx[on]] = True
        self.pair_free_ = free
        self.n_base_ = n_params(space, d)
        p = self.n_base_ + tied.shape[0]
        self.full_ = self.covariance == "full" or (self.covariance == "auto" and p <= self.full_max)
        self.auto_prior_ = None in (self.prior_var, self.prior_var_user, self.prior_var_pair)
        self.r_n_, self.r_sum_, self.r_sq_, self.r_unit_ = 0, 0.0, 0.0, True
        # Before any reward: the noise of a [0, 1] reward of unknown mean (0.25).
        self.noise_var_ = 0.25 if self.noise_var is None else float(self.noise_var)
        self._set_prior(self.noise_var_, 0.0)
        self.valid_ = None
        # The valid compositions' feature means of component_effects, counted on first use.
        self.effect_contrasts_ = None
        if space.n_raw <= 1_000_000:
            valid = space.enumerate_valid()
            if len(valid) <= self.exact_max:
                self.valid_ = valid
                self.valid_flat_ = space.flat(valid)
        self.start_ = None  # the last batch's mean-user composition (the next climb's start)
        self.n_seen_ = 0
        self.held_ = []  # first rows, waiting for rewards that vary (:meth:`_hold`)

    def _set_prior(self, noise_var: float, mean_reward: float) -> None:
        space, d = self.space_, self.n_user_features_
        total = space.n_levels_total
        base = self._base_scales(_auto_scales(self.r_unit_, mean_reward, noise_var))
        main, user, pair = base[:3]
        prior = np.empty(self.n_base_ + self.tied_.shape[0])
        prior[:total] = main * self.main_scale_
        cells = np.where(self.user_mask_, user if self.user_interactions else 1e-12, 0.0)
        prior[total : total * (1 + d)] = cells.ravel()
        pairs = pair if self.pair_interactions else 1e-12
        prior[total * (1 + d) : self.n_base_] = np.where(self.pair_free_, pairs, 0.0)
        prior[self.n_base_ :] = user
        prior_mean = np.zeros_like(prior)
        if self.auto_prior_:
            # The intercept, shared by the axes' main effects.
            prior_mean[:total] = mean_reward / space.n_axes
        self.prior_var_vector_ = prior
        self.prior_mean_ = prior_mean
        # Re-priors never free a cell fixed at zero, so these blocks hold for the run.
        self.free_blocks_ = free_blocks(space, d, prior)
        # Blocks of the prior: main, user cells, pairs, tied, then (with `relevance`)
        # the user cells of each axis and the pairwise cells of each pair of axes;
        # the block's variance times each weight's fixed multiplier is its prior variance.
        block, parent = self._blocks()
        tau = base[parent]
        self.block_, self.block_parent_ = block, parent
        # Blocks whose scale was given stay fixed; the others are re-estimated.
        self.block_free_ = np.array([getattr(self, k) is None for k in _BLOCK_SCALES])[parent]
        self.prior_mult_ = np.divide(prior, tau[block], out=np.zeros_like(prior), where=prior > 0)
        # Re-priors keep these weights' prior variance > 0 and the others' fixed.
        self.free_runs_ = free_runs(prior, block, self.block_free_)
        if self.full_:
            # Over the free weights only: cells fixed at zero stay at their prior mean.
            self.active_ = np.flatnonzero(prior > 0)
            pa = prior[self.active_]
            self.precision_ = np.diag(1.0 / pa)
            self.b_ = prior_mean[self.active_] / pa
            self.mean_ = prior_mean.copy()
            self.chol_ = np.diag(1.0 / np.sqrt(pa))  # lower Cholesky factor of the precision
            self._stale = False
        else:
            self.mean_ = prior_mean.copy()
            self.var_ = prior.copy()

    def _base_scales(self, auto: dict[str, float]) -> np.ndarray:
        """The four base blocks' prior variances: each given one, else ``auto``'s, shape (4,)."""
        return np.array(
            [auto[k] if getattr(self, k) is None else getattr(self, k) for k in _BLOCK_SCALES],
            dtype=np.float64,
        )

    def _blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """Each weight's prior block, shape (n_params,), and each block's parent, (n_blocks,).

        Blocks 0-3 are main, user cells, pairs and tied. With ``relevance`` the user
        cells of axis ``a`` form block ``4 + a`` and the pairwise cells of axes
        ``a < b`` block ``4 + n_axes + a * n_axes + b`` (parents 1 and 2): each gets its
        own scale (automatic relevance determination).
        """
        space, d = self.space_, self.n_user_features_
        total, n_axes = space.n_levels_total, space.n_axes
        block = np.empty(self.n_base_ + self.tied_.shape[0], dtype=np.int64)
        block[:total], block[total : total * (1 + d)] = 0, 1
        block[total * (1 + d) : self.n_base_], block[self.n_base_ :] = 2, 3
        parent = np.arange(4)
        if not self.relevance:
            return block, parent
        # User cell (f, m) sits at total * (1 + f) + m.
        block[total : total * (1 + d)] = 4 + np.tile(space.axis_of, d)
        rows, cols = np.nonzero(space.pair_index >= 0)
        a, b = space.axis_of[rows], space.axis_of[cols]
        pair_block = np.empty(space.n_pair_features, dtype=np.int64)
        pair_block[space.pair_index[rows, cols]] = np.minimum(a, b) * n_axes + np.maximum(a, b)
        block[total * (1 + d) : self.n_base_] = 4 + n_axes + pair_block
        parent = np.concatenate([parent, np.full(n_axes, 1), np.full(n_axes * n_axes, 2)]).astype(
            np.int64
        )
        return block, parent

    def _observe(self, r: np.ndarray) -> None:
        """Running reward moments and the noise variance estimated from them."""
        self.r_n_ += r.size
        self.r_sum_ += float(r.sum())
        self.r_sq_ += float(r @ r)
        self.r_unit_ = self.r_unit_ and bool(((r >= 0) & (r <= 1)).all())
        if self.noise_var is not None:
            return
        n = self.r_n_
        mean = self._mean_reward()
        sample = max(self.r_sq_ / n - mean * mean, 0.0)
        # The Bernoulli bound holds for rewards in [0, 1]; otherwise shrink to the sample's.
        bound = min(max(mean * (1.0 - mean), 0.0), 0.25) if self.r_unit_ else sample
        n0 = self.noise_prior_n
        self.noise_var_ = max((n0 * bound + n * sample) / (n0 + n), 1e-12)

    def _refresh(self) -> None:
        if self.full_ and self._stale:
            self.chol_ = np.linalg.cholesky(self.precision_)
            self.mean_[self.active_] = scipy.linalg.cho_solve((self.chol_, True), self.b_)
            self._stale = False

    @property
    def covariance_(self) -> np.ndarray:
        """The posterior covariance, ndarray of shape (n_params, n_params)."""
        if self.full_:
            self._refresh()
            out = np.zeros((self.mean_.size, self.mean_.size))
            a = self.active_
            out[np.ix_(a, a)] = scipy.linalg.cho_solve((self.chol_, True), np.eye(a.size))
            return out
        return np.diag(self.var_)

    @property
    def posterior_mean_(self) -> np.ndarray:
        """The posterior mean of ``theta``, ndarray of shape (n_params,)."""
        self._refresh()
        return self.mean_

    def _design(self, x: np.ndarray, combos: np.ndarray) -> np.ndarray:
        z = design(self.space_, x, combos)
        if self.tied_.shape[0]:
            g = self.space_.flat(combos)
            xb = np.einsum("nd,kdt->nkt", x, self.tied_)
            z = np.concatenate([z, np.take_along_axis(xb, g[:, None, :], axis=2).sum(2)], axis=1)
        return z

    def component_effects(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of every component level's effect for user (or mean user) ``x``.

        The effect of a level is the model's mean expected reward over the valid
        compositions with it minus its mean over all valid compositions (uniform
        over the valid ones), the definition of the true effects
        (:mod:`simulation.generated.effects`). The model is linear in ``x``, so at
        a group's mean context it is the mean of its users' effects.

        Parameters
        ----------
        x : ndarray of shape (n_user_features,)

        Returns
        -------
        estimate, sd : ndarray of shape (n_levels_total,)
            In reward units (clicks, or the run's scaled net value); NaN for a
            level no valid composition uses.
        """
        x = self._contexts(np.asarray(x, dtype=np.float64).reshape(1, -1))[0]
        self._refresh()
        if self.effect_contrasts_ is None:
            self.effect_contrasts_ = valid_contrasts(self.space_)
        tied = np.einsum("d,kdt->tk", x, self.tied_)  # (n_levels_total, k)
        if self.full_:
            return posterior_effects(
                self.space_, self.n_user_features_, x, self.mean_,
                chol_precision=self.chol_, extra=tied, active=self.active_,
                contrasts=self.effect_contrasts_,
            )  # fmt: skip
        return posterior_effects(
            self.space_, self.n_user_features_, x, self.mean_, var=self.var_, extra=tied,
            contrasts=self.effect_contrasts_,
        )  # fmt: skip

    # -- decisions ------------------------------------------------------------------------

    def draw(self, rng: np.random.Generator, scale: float | None = None) -> np.ndarray:
        """One draw of ``theta`` from the posterior, ndarray of shape (n_params,).

        Its deviation from the posterior mean is scaled by ``scale`` (when None,
        ``draw_scale`` annealed by the impressions taught so far:
        :meth:`current_draw_scale`; 1 draws from the posterior itself).
        """
        self._refresh()
        z = rng.standard_normal(self.mean_.shape[0])
        scale = self.current_draw_scale() if scale is None else scale
        if scale != 1.0:
            # Both draws below are linear in z.
            z *= scale
        if self.full_:
            # precision = L L^T, so L^-T z has covariance precision^-1.
            theta = self.mean_.copy()
            theta[self.active_] += scipy.linalg.solve_triangular(
                self.chol_, z[: self.active_.size], lower=True, trans="T"
            )
            return theta
        return diagonal_draw(self.mean_, self.var_, z)

    def current_draw_scale(self, n_seen: int | None = None) -> float:
        """The draw's scale after ``n_seen`` impressions (the learner's own count when None)."""
        n = self.n_seen_ if n_seen is None else n_seen
        return self.draw_scale * annealed_scale(self.anneal_after, n)

    def tables(self, theta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score tables under ``theta``: unary (n, n_levels_total) and pairwise.

        The user block and the tied patterns fold into one (d, n_levels_total)
        weight matrix, so the unary table is one matrix product.
        """
        u, _, pt = self._tables(theta, x)
        return u, pt

    def _tables(self, theta: np.ndarray, x: np.ndarray):
        """:meth:`tables` and the unary table's mean over the rows, (1, n_levels_total)."""
        space, d = self.space_, self.n_user_features_
        total = space.n_levels_total
        w = theta[total : total * (1 + d)].reshape(d, total)
        if self.tied_.shape[0]:
            w = w + np.tensordot(theta[self.n_base_ :], self.tied_, axes=1)
        u, mean_u = unary_scores_mean(
            np.ascontiguousarray(theta[:total]), np.ascontiguousarray(x), np.ascontiguousarray(w)
        )
        return u, mean_u.reshape(1, total), pair_table(space, theta[: self.n_base_], d)

    def best(self, theta: np.ndarray, user_contexts: np.ndarray, rng: np.random.Generator):
        """The best composition per row under ``theta``: (combos (n, n_axes), scores (n,)).

        Exact on enumerable spaces; else coordinate ascent of every row from the
        best of ``n_restarts`` climbs (and the previous batch's start) for the
        batch's mean scores, so each row is a local optimum of its own scores.
        """
        x = self._contexts(user_contexts)
        if not x.shape[0]:
            # An empty batch has no mean user to start the climbs from.
            return np.empty((0, self.space_.n_axes), dtype=np.int64), np.empty(0)
        u, mean_u, pt = self._tables(theta, x)
        return self.best_of_tables(u, pt, rng, mean_u)

    def best_of_tables(
        self,
        u: np.ndarray,
        pt: np.ndarray,
        rng: np.random.Generator,
        mean_u: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`best` for given score tables: unary (n, n_levels_total), pairwise.

        ``mean_u`` (1, n_levels_total), the batch's mean unary scores (the climbs'
        start), is ``u``'s mean when None.
        """
        if not u.shape[0]:
            return np.empty((0, self.space_.n_axes), dtype=np.int64), np.empty(0)
        if mean_u is None:
            mean_u = u.mean(axis=0, keepdims=True)
        if self.valid_ is not None:
            g = self.valid_flat_
            pair_sum = np.zeros(len(g))
            for j in range(g.shape[1]):
                for k in range(j + 1, g.shape[1]):
                    pair_sum += pt[g[:, j], g[:, k]]
            scores = u[:, g].sum(axis=2) + pair_sum
            pick = scores.argmax(axis=1)
            return self.valid_[pick], scores[np.arange(len(pick)), pick]
        self.start_ = search.mean_start(
            self.space_, mean_u, pt, rng, self.start_,
            n_restarts=self.n_restarts, max_sweeps=self.max_sweeps,
        )  # fmt: skip
        return search.warm_climb(
            self.space_, u, pt, self.start_, max_sweeps=self.max_sweeps, n_threads=self.n_threads
        )

    def select(self, user_contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each row's best composition under one posterior draw, shape (n, n_axes)."""
        combos, _ = self.best(self.draw(rng), user_contexts, rng)
        return combos

    def update(self, user_contexts: np.ndarray, combos: np.ndarray, rewards: np.ndarray) -> None:
        """Add a batch (contexts (n, d), combos (n, n_axes), rewards (n,)) to the posterior."""
        x, c, r = self._check_update(user_contexts, combos, rewards)
        if self.n_seen_ == 0 and self.auto_prior_:
            x, c, r = self._hold(x, c, r)
        if not r.size:
            return
        first = self.n_seen_ == 0
        self.n_seen_ += x.shape[0]
        self._observe(r)
        if first and self.auto_prior_:
            # Empirical Bayes: the prior's scale from the first rewards.
            self._set_prior(self.noise_var_, self._mean_reward())
        noise = self.noise_var_
        if self.full_:
            z = self._design(x, c)[:, self.active_]
            self.precision_ += z.T @ z / noise
            self.b_ += z.T @ r / noise
            self._stale = True
            return
        space = self.space_
        c = c.astype(np.int64, copy=False)
        x = np.ascontiguousarray(x)
        # The patterns' values of the served levels only (not x @ B for every level).
        zt = tied_values(x, *self.tied_cells_, c, space.offsets)
        diagonal_update(
            self.mean_, self.var_, c, space.offsets, space.pair_index, x, zt, r, float(noise),
            *self.free_blocks_,
        )  # fmt: skip
        if self.auto_prior_ and self.track_scale:
            self._reprior(self._scales(noise))

    def _hold(self, x: np.ndarray, c: np.ndarray, r: np.ndarray):
        """The rows to teach now: none while every reward so far is the same.

        The automatic prior scales and the noise variance come from the first
        rewards taught. From rewards that do not vary (no click yet: with batches of
        100 at a 1 % click rate, 37 % of first batches) the noise variance was zero,
        and every weight those rows touched froze at its prior. So the rows wait, up
        to ``_MAX_HELD`` of them, and are taught together with the first rewards that
        differ. Nothing is lost meanwhile: the prior is all the learner knows either way.

        Returns
        -------
        x, c, r : ndarray of shape (m, d), (m, n_axes), (m,)
            ``m`` is 0 while held.
        """
        held = self.held_
        held.append((x, c, r))
        rewards = [h[2] for h in held if h[2].size]
        lo = min(float(v.min()) for v in rewards) if rewards else 0.0
        hi = max(float(v.max()) for v in rewards) if rewards else 0.0
        if lo == hi and sum(v.size for v in rewards) < _MAX_HELD:
            return x[:0], c[:0], r[:0]
        self.held_ = []
        return tuple(np.concatenate([h[k] for h in held]) for k in range(3))

    def _mean_reward(self) -> float:
        """The rewards' running mean; the rule of succession's if they are all 0 (or all 1).

        Rewards that do not vary reach the prior only after ``_MAX_HELD`` rows
        (:meth:`_hold`); their plug-in mean 0 would give a zero noise variance.
        Laplace's ``1 / (n + 2)`` is the rate ``n`` rows without a success support.
        """
        n, total = self.r_n_, self.r_sum_
        if self.r_unit_ and total == 0.0:
            return 1.0 / (n + 2)
        if self.r_unit_ and total == float(n):
            return 1.0 - 1.0 / (n + 2)
        return total / n

    def _scales(self, noise: float) -> np.ndarray:
        """Every block's prior variance now, shape (n_blocks,) (:meth:`_blocks`).

        Interactions: the automatic scales of the running reward moments (a given
        float stays), and with ``relevance`` each relevance block's own by MacKay's
        fixed point (:func:`~simulation.generated.model.relevance_scales`). Main
        effects: one EM step (type-II maximum likelihood of their Gaussian prior),
        ``mean((mean - prior_mean)^2 + var) / multiplier`` over the main effects,
        which every row informs (one per axis): the lifts between products (their
        prices) are not a few per cent of the mean reward.
        """
        tau = self._base_scales(_auto_scales(self.r_unit_, self._mean_reward(), noise))
        total = self.space_.n_levels_total  # the main block is theta[:total]
        if self.prior_var is None:
            # Gathered in one compiled pass (a handful of numpy passes over 74 weights
            # cost 0.012 ms); numpy's mean keeps its pairwise sum.
            second = main_moments(
                self.mean_, self.var_, self.prior_mean_, self.prior_var_vector_,
                self.prior_mult_, total,
            )  # fmt: skip
            if second.size:
                tau[0] = float(second.mean())
        tau = tau[self.block_parent_]
        if self.relevance:
            # The relevance blocks (4 on): MacKay's fixed point of each block's scale.
            sl = slice(total, self.n_base_)
            relevance_scales(
                self.mean_[sl], self.var_[sl], self.prior_var_vector_[sl],
                self.prior_mean_[sl], self.prior_mult_[sl], self.block_[sl],
                self.block_free_, tau, _RELEVANCE_FLOOR,
            )  # fmt: skip
        return tau

    def _reprior(self, tau: np.ndarray) -> None:
        """Re-base the diagonal posterior on new block prior variances ``tau`` (n_blocks,).

        The diagonal posterior is the prior times one Gaussian factor per weight
        (what the row updates added), so swapping a block's prior variance for
        another is exact on that representation: the factors' precision
        ``1 / var - 1 / prior`` and shift ``mean / var - prior_mean / prior`` are
        kept and combined with the new prior (``tau[block] * multiplier``). Blocks
        (:meth:`_blocks`) whose scale was given stay. Why: the
        automatic scale was set once from the first batch, and under the net value
        objective that batch's mean (a rare large reward: sales) is several times
        too small and the products' lifts are not a few per cent of it.
        """
        tau = np.asarray(tau, dtype=np.float64)
        # Compiled: a dozen numpy passes over every weight cost more than the row updates.
        reprior(
            self.mean_, self.var_, self.prior_var_vector_, self.prior_mean_, self.prior_mult_,
            self.block_, *self.free_runs_, tau,
        )  # fmt: skip


#: Name -> policy class of the generated level.
GENERATED_POLICIES: dict[str, type[GeneratedPolicy]] = {
    cls.name: cls for cls in (Uniform, Oracle, MvtThompson)
}
