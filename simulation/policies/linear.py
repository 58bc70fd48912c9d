"""Contextual linear policies: LinUCB and linear Thompson sampling.

Each arm ``k`` keeps a ridge regression of reward on context,
``A_k = lambda I + sum x x^T`` and ``b_k = sum r x``, stacked on a leading arm
axis: ``A_inv_`` has shape (n_arms, d, d). A batch update adds the batch's
outer products per arm with one ``einsum`` and re-inverts the K small matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.policies.base import Policy, check_contexts, check_fraction

__all__ = ["LinTS", "LinUCB"]


@dataclass(kw_only=True, eq=False)
class _Linear(Policy):
    """Shared ridge-regression state of the linear policies."""

    ridge: float = 1.0

    A_: np.ndarray = field(init=False, repr=False)
    A_inv_: np.ndarray = field(init=False, repr=False)
    b_: np.ndarray = field(init=False, repr=False)
    theta_: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        value = self.ridge
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:
            raise ValueError(f"`ridge` must be a float in (0, 1e6]; got {value!r}.")

    def _reset_state(self) -> None:
        if self.n_features_ < 1:
            raise ValueError(
                f"{type(self).__name__} needs n_features >= 1; got {self.n_features_}."
            )
        k, d = self.n_arms_, self.n_features_
        self.A_ = np.broadcast_to(self.ridge * np.eye(d), (k, d, d)).copy()
        self.A_inv_ = np.broadcast_to(np.eye(d) / self.ridge, (k, d, d)).copy()
        self.b_ = np.zeros((k, d))
        self.theta_ = np.zeros((k, d))

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Add the batch's observations to each arm's regression."""
        x, a, r = self._check_update(contexts, arms, rewards)
        # One small GEMM per arm on that arm's rows: n x d^2 flops in all, K
        # times fewer than a one-hot routed product over every arm. The loop
        # runs over arms (tens), never over impressions.
        order = np.argsort(a, kind="stable")
        bounds = np.searchsorted(a[order], np.arange(self.n_arms_ + 1))
        touched = np.flatnonzero(np.diff(bounds))
        for arm in touched:
            rows = order[bounds[arm] : bounds[arm + 1]]
            xa = x[rows]
            self.A_[arm] += xa.T @ xa
            self.b_[arm] += r[rows] @ xa
        self._refresh(touched)

    def _refresh(self, arms: np.ndarray | None = None) -> None:
        """Re-invert the regressions of ``arms`` (all when None): the others did not change."""
        if arms is None:
            self.A_inv_ = np.linalg.inv(self.A_)
            self.theta_ = np.einsum("kde,ke->kd", self.A_inv_, self.b_)
            return
        if arms.size:
            self.A_inv_[arms] = np.linalg.inv(self.A_[arms])
            self.theta_[arms] = np.einsum("kde,ke->kd", self.A_inv_[arms], self.b_[arms])

    def forget(self, arms: np.ndarray) -> None:
        """Reset the regressions of ``arms`` to the ridge prior."""
        a = self._check_forget(arms)
        d = self.n_features_
        self.A_[a] = self.ridge * np.eye(d)
        self.b_[a] = 0.0
        self._refresh()

    def _mean_and_width(self, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted reward and its standard error, each of shape (n, n_arms)."""
        self._check_fitted()
        x = check_contexts(contexts, self.n_features_)
        mean = x @ self.theta_.T
        k, d = self.n_arms_, self.n_features_
        # x^T A_k^-1 x for every (row, arm) with one GEMM against the stacked
        # inverses (d, K*d), instead of K broadcast matmuls.
        stacked = self.A_inv_.transpose(1, 0, 2).reshape(d, k * d)
        xa = (x @ stacked).reshape(x.shape[0], k, d)
        quad = np.einsum("nkd,nd->nk", xa, x)
        return mean, np.sqrt(np.maximum(quad, 0.0))


@dataclass(kw_only=True, eq=False)
class LinUCB(_Linear):
    """Disjoint LinUCB (Li et al., 2010): x.theta_k + alpha * sqrt(x^T A_k^-1 x).

    Parameters
    ----------
    alpha : float, default=1.0
        Width of the confidence bonus, in [0, 100].
    ridge : float, default=1.0
        Ridge penalty lambda, in (0, 1e6].
    """

    name = "lin_ucb"
    alpha: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_fraction("alpha", self.alpha, high=100.0)

    def _scores(self, contexts: np.ndarray) -> np.ndarray:
        mean, width = self._mean_and_width(contexts)
        return mean + self.alpha * width

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Arm with the highest upper bound per row; ties broken at random."""
        score = self._scores(contexts)
        # A tiny random jitter breaks exact ties (e.g. before any data) uniformly.
        jitter = rng.random(score.shape) * 1e-12
        return (score + jitter).argmax(axis=1)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Uniform over the arms tied at the top score in each row."""
        score = self._scores(contexts)
        top = score >= score.max(axis=1, keepdims=True) - 1e-12
        return top / top.sum(axis=1, keepdims=True)


@dataclass(kw_only=True, eq=False)
class LinTS(_Linear):
    """Linear Thompson sampling (Agrawal & Goyal, 2013).

    Each decision draws theta_k ~ N(theta_hat_k, v^2 A_k^-1) for every arm
    independently. The score x.theta_k is then exactly
    N(x.theta_hat_k, v^2 x^T A_k^-1 x), so one standard normal per (decision,
    arm) replaces a d-dimensional draw.

    Parameters
    ----------
    v : float, default=0.25
        Posterior scale, in (0, 100].
    ridge : float, default=1.0
    propensity_draws : int, default=1000
        Monte Carlo draws per context used by :meth:`action_probabilities`
        (the probability that each arm wins has no closed form here).
    """

    name = "lin_ts"
    v: float = 0.25
    propensity_draws: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        check_fraction("v", self.v, low=1e-9, high=100.0)
        draws = self.propensity_draws
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
            raise ValueError(f"`propensity_draws` must be an int >= 1; got {draws!r}.")

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One posterior draw per (row, arm); the arm with the highest draw."""
        mean, width = self._mean_and_width(contexts)
        return (mean + self.v * width * rng.standard_normal(mean.shape)).argmax(axis=1)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo estimate with ``propensity_draws`` draws per row (chunked)."""
        mean, width = self._mean_and_width(contexts)
        n, k = mean.shape
        out = np.empty((n, k))
        chunk = max(1, 2_000_000 // (self.propensity_draws * k))
        for start in range(0, n, chunk):
            m = mean[start : start + chunk, None, :]
            w = width[start : start + chunk, None, :]
            z = rng.standard_normal((m.shape[0], self.propensity_draws, k))
            wins = (m + self.v * w * z).argmax(axis=2)
            counts = (wins[:, :, None] == np.arange(k)).sum(axis=1)
            out[start : start + chunk] = counts / self.propensity_draws
        return out
