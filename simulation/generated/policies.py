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
from simulation.generated.effects import posterior_effects
from simulation.generated.model import (
    PairwiseModel,
    design,
    diagonal_update,
    n_params,
    pair_table,
    unary_table,
)
from simulation.generated.space import ComponentSpace

__all__ = ["GENERATED_POLICIES", "GeneratedPolicy", "MvtThompson", "Oracle", "Uniform"]


class GeneratedPolicy:
    """Base of the composing policies: validation and the fitted state."""

    name: ClassVar[str] = ""
    uses_ground_truth: ClassVar[bool] = False

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


@dataclass(kw_only=True)
class MvtThompson(GeneratedPolicy):
    """Multivariate Thompson sampling over compositions (Hill et al., KDD 2017).

    A Bayesian linear model over main effects, user-feature x component
    interactions and pairwise component interactions (the layout of
    :mod:`simulation.generated.model`); one posterior draw per batch; each
    user's best composition under the draw, exactly by enumeration when the
    space has at most ``exact_max`` valid compositions, else by hill-climbing
    with restarts.

    Parameters
    ----------
    prior_var, prior_var_user, prior_var_pair : float, default 1.0, 0.25, 0.25
        Prior variances of the main, user-interaction and pairwise weights
        (zero prior means): interactions are shrunk harder than main effects.
    noise_var : float, default 0.25
        Reward noise variance (0.25 bounds any reward in [0, 1]).
    covariance : {"auto", "full", "diagonal"}, default "auto"
        ``full`` is the exact conjugate posterior; ``diagonal`` a factorized
        one updated row by row (assumed-density filtering), O(features) per
        impression. ``auto`` is full up to ``full_max`` parameters.
    full_max : int, default 1024
    exact_max : int, default 4096
    n_restarts, max_sweeps : int, default 2, 10
        Of the hill-climb.
    user_interactions, pair_interactions : bool, default True
    """

    name: ClassVar[str] = "mvt_ts"
    prior_var: float = 1.0
    prior_var_user: float = 0.25
    prior_var_pair: float = 0.25
    noise_var: float = 0.25
    covariance: str = "auto"
    full_max: int = 1024
    exact_max: int = 4096
    n_restarts: int = 2
    max_sweeps: int = 10
    user_interactions: bool = True
    pair_interactions: bool = True
    _d: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("prior_var", "prior_var_user", "prior_var_pair", "noise_var"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"`{name}` must be a float > 0; got {value!r}.")
        if self.covariance not in ("auto", "full", "diagonal"):
            raise ValueError(
                f"`covariance` must be 'auto', 'full' or 'diagonal'; got {self.covariance!r}."
            )
        for name in ("full_max", "exact_max", "n_restarts", "max_sweeps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")

    def _reset_state(self) -> None:
        space, d = self.space_, self.n_user_features_
        total = space.n_levels_total
        p = n_params(space, d)
        prior = np.empty(p)
        prior[:total] = self.prior_var
        prior[total : total * (1 + d)] = self.prior_var_user if self.user_interactions else 1e-12
        prior[total * (1 + d) :] = self.prior_var_pair if self.pair_interactions else 1e-12
        self.prior_var_vector_ = prior
        self.full_ = self.covariance == "full" or (self.covariance == "auto" and p <= self.full_max)
        if self.full_:
            self.precision_ = np.diag(1.0 / prior)
            self.b_ = np.zeros(p)
            self.mean_ = np.zeros(p)
            self.chol_ = np.diag(1.0 / np.sqrt(prior))  # lower Cholesky factor of the precision
            self._stale = False
        else:
            self.mean_ = np.zeros(p)
            self.var_ = prior.copy()
        self.valid_ = None
        if space.n_raw <= 1_000_000:
            valid = space.enumerate_valid()
            if len(valid) <= self.exact_max:
                self.valid_ = valid
                self.valid_flat_ = space.flat(valid)
        self.n_seen_ = 0

    def _refresh(self) -> None:
        if self.full_ and self._stale:
            self.chol_ = np.linalg.cholesky(self.precision_)
            self.mean_ = scipy.linalg.cho_solve((self.chol_, True), self.b_)
            self._stale = False

    @property
    def covariance_(self) -> np.ndarray:
        """The posterior covariance, ndarray of shape (n_params, n_params)."""
        if self.full_:
            self._refresh()
            return scipy.linalg.cho_solve((self.chol_, True), np.eye(len(self.b_)))
        return np.diag(self.var_)

    @property
    def posterior_mean_(self) -> np.ndarray:
        """The posterior mean of ``theta``, ndarray of shape (n_params,)."""
        self._refresh()
        return self.mean_

    def component_effects(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of every component level's effect for user (or mean user) ``x``.

        The effect of a level is the change in the model's expected reward from
        switching to it, against the mean over its axis's levels, with the other
        axes uniform (:mod:`simulation.generated.effects`).

        Parameters
        ----------
        x : ndarray of shape (n_user_features,)

        Returns
        -------
        estimate, sd : ndarray of shape (n_levels_total,)
            In reward units (clicks, or the run's scaled net value).
        """
        self._contexts(np.asarray(x, dtype=np.float64).reshape(1, -1))
        self._refresh()
        if self.full_:
            return posterior_effects(
                self.space_, self.n_user_features_, x, self.mean_, chol_precision=self.chol_
            )
        return posterior_effects(self.space_, self.n_user_features_, x, self.mean_, var=self.var_)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of ``theta`` from the posterior, ndarray of shape (n_params,)."""
        self._refresh()
        z = rng.standard_normal(self.mean_.shape[0])
        if self.full_:
            # precision = L L^T, so L^-T z has covariance precision^-1.
            return self.mean_ + scipy.linalg.solve_triangular(self.chol_, z, lower=True, trans="T")
        return self.mean_ + np.sqrt(self.var_) * z

    def best(self, theta: np.ndarray, user_contexts: np.ndarray, rng: np.random.Generator):
        """The best composition per row under ``theta``: (combos (n, n_axes), scores (n,))."""
        x = self._contexts(user_contexts)
        u = unary_table(self.space_, theta, x, self.n_user_features_)
        pt = pair_table(self.space_, theta, self.n_user_features_)
        if self.valid_ is not None:
            g = self.valid_flat_
            pair_sum = np.zeros(len(g))
            for j in range(g.shape[1]):
                for k in range(j + 1, g.shape[1]):
                    pair_sum += pt[g[:, j], g[:, k]]
            scores = u[:, g].sum(axis=2) + pair_sum
            pick = scores.argmax(axis=1)
            return self.valid_[pick], scores[np.arange(len(pick)), pick]
        return search.hill_climb(
            self.space_, u, pt, rng, n_restarts=self.n_restarts, max_sweeps=self.max_sweeps
        )

    def select(self, user_contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each row's best composition under one posterior draw, shape (n, n_axes)."""
        combos, _ = self.best(self.draw(rng), user_contexts, rng)
        return combos

    def update(self, user_contexts: np.ndarray, combos: np.ndarray, rewards: np.ndarray) -> None:
        """Add a batch (contexts (n, d), combos (n, n_axes), rewards (n,)) to the posterior."""
        x, c, r = self._check_update(user_contexts, combos, rewards)
        self.n_seen_ += x.shape[0]
        if self.full_:
            z = design(self.space_, x, c)
            self.precision_ += z.T @ z / self.noise_var
            self.b_ += z.T @ r / self.noise_var
            self._stale = True
            return
        diagonal_update(
            self.mean_,
            self.var_,
            self.space_.flat(c),
            self.space_.pair_columns(c),
            np.ascontiguousarray(x),
            r,
            float(self.noise_var),
            self.space_.n_levels_total,
        )


#: Name -> policy class of the generated level.
GENERATED_POLICIES: dict[str, type[GeneratedPolicy]] = {
    cls.name: cls for cls in (Uniform, Oracle, MvtThompson)
}
