"""Policies that are not learners: the oracle, and per-segment copies of a learner."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.policies.base import Policy

__all__ = ["Oracle", "PerSegment"]


@dataclass(kw_only=True, eq=False)
class Oracle(Policy):
    """Always shows the arm with the highest *expected* reward for the user.

    It is the benchmark of regret: the engine hands it the true expected rewards
    of the batch through :meth:`set_ground_truth` before each ``select``.
    """

    name = "oracle"
    needs_truth = True
    uses_ground_truth = True
    learns = False
    per_segment_ok = False

    expected_: np.ndarray | None = field(init=False, repr=False, default=None)

    def _reset_state(self) -> None:
        self.expected_ = None

    def set_ground_truth(self, expected: np.ndarray) -> None:
        """Give the true expected rewards of the coming batch, shape (n, n_arms)."""
        self._check_fitted()
        e = np.asarray(expected, dtype=np.float64)
        if e.ndim != 2 or e.shape[1] != self.n_arms_:
            raise ValueError(f"`expected` must have shape (n, {self.n_arms_}); got {e.shape}.")
        self.expected_ = e

    def _checked_truth(self, contexts: np.ndarray, rng: object) -> np.ndarray:
        n = self._check_batch(contexts, rng).shape[0]
        if self.expected_ is None or self.expected_.shape[0] != n:
            raise RuntimeError("Oracle needs set_ground_truth(expected) for this batch first.")
        return self.expected_

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The best arm of each row (first of ties)."""
        return self._checked_truth(contexts, rng).argmax(axis=1)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One-hot on the best arm of each row."""
        e = self._checked_truth(contexts, rng)
        out = np.zeros_like(e)
        out[np.arange(e.shape[0]), e.argmax(axis=1)] = 1.0
        return out

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """The oracle learns nothing."""
        self._check_update(contexts, arms, rewards)

    def forget(self, arms: np.ndarray) -> None:
        """Nothing to forget."""
        self._check_forget(arms)


@dataclass(kw_only=True, eq=False)
class PerSegment(Policy):
    """One independent copy of a base policy per audience segment.

    The segment of each row is read from the first ``n_segments`` context
    columns, which hold a one-hot segment code (the engine's context layout).

    Parameters
    ----------
    base : str, default="thompson"
        Registry name of the policy to copy.
    n_segments : int, default=6
        Number of segments, in [1, 1000].
    base_params : dict, default={}
        Hyperparameters passed to every copy.
    """

    name = "per_segment"
    needs_contexts = True
    per_segment_ok = False
    wraps_policies = True
    base: str = "thompson"
    n_segments: int = 6
    base_params: dict = field(default_factory=dict)

    copies_: list[Policy] = field(init=False, repr=False, default_factory=list)

    @property
    def unit_rewards(self) -> bool:  # type: ignore[override]
        """The base policy's :attr:`Policy.unit_rewards`: its copies learn on its scale."""
        from simulation.policies.registry import POLICIES

        return POLICIES[self.base].unit_rewards

    def __post_init__(self) -> None:
        from simulation.policies.registry import POLICIES

        allowed = sorted(name for name, cls in POLICIES.items() if cls.per_segment_ok)
        if self.base not in allowed:
            raise ValueError(f"`base` must be one of {allowed}; got {self.base!r}.")
        n = self.n_segments
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise ValueError(f"`n_segments` must be an int in [1, 1000]; got {n!r}.")
        self._factory = lambda: POLICIES[self.base](**self.base_params)
        self._factory()  # validate base_params now, not at reset

    def _reset_state(self) -> None:
        if self.n_features_ < self.n_segments:
            raise ValueError(
                f"PerSegment needs n_features >= n_segments ({self.n_segments}) for the "
                f"one-hot segment columns; got {self.n_features_}."
            )
        self.copies_ = [
            self._factory().reset(self.n_arms_, self.n_features_) for _ in range(self.n_segments)
        ]

    def _segments(self, contexts: np.ndarray, rng: object) -> tuple[np.ndarray, np.ndarray]:
        """The checked contexts (n, n_features) and each row's segment (n,)."""
        x = self._check_batch(contexts, rng)
        return x, x[:, : self.n_segments].argmax(axis=1)

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each row's arm from its segment's copy."""
        x, seg = self._segments(contexts, rng)
        arms = np.empty(seg.shape[0], dtype=np.int64)
        for s in np.unique(seg):
            rows = seg == s
            arms[rows] = self.copies_[s].select(x[rows], rng)
        return arms

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Route each row to its segment's copy."""
        x, a, r = self._check_update(contexts, arms, rewards)
        seg = x[:, : self.n_segments].argmax(axis=1)
        for s in np.unique(seg):
            rows = seg == s
            self.copies_[s].update(x[rows], a[rows], r[rows])

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each row's probabilities from its segment's copy."""
        x, seg = self._segments(contexts, rng)
        out = np.empty((seg.shape[0], self.n_arms_))
        for s in np.unique(seg):
            rows = seg == s
            out[rows] = self.copies_[s].action_probabilities(x[rows], rng)
        return out

    def logged_propensity(
        self, contexts: np.ndarray, arms: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Each row's propensity from its segment's copy (see :meth:`Policy.logged_propensity`)."""
        x, seg = self._segments(contexts, rng)
        a = np.asarray(arms, dtype=np.int64)
        out = np.empty(seg.shape[0])
        for s in np.unique(seg):
            rows = seg == s
            out[rows] = self.copies_[s].logged_propensity(x[rows], a[rows], rng)
        return out

    def forget(self, arms: np.ndarray) -> None:
        """Forget ``arms`` in every copy."""
        a = self._check_forget(arms)
        for copy in self.copies_:
            copy.forget(a)
