"""The policy contract shared by every bandit policy.

A policy works on numpy arrays, batch-first::

    policy = POLICIES["thompson"]()                 # hyperparameters as keyword arguments
    policy.reset(n_arms=K, n_features=d)            # d may be 0 for context-free policies
    arms = policy.select(contexts, rng)             # (n, d) float -> (n,) int
    policy.update(contexts, arms, rewards)          # rewards (n,) float (in [0, 1] if unit_rewards)
    probs = policy.action_probabilities(contexts, rng)   # (n, K), rows sum to 1
    policy.forget(arms)                             # drop what was learned about these arms

``select`` on a batch of ``n`` draws ``n`` decisions from the current state
without updating inside the batch: that is how delayed and batched feedback
work; ``n = 1`` is exact sequential play. Hyperparameters are dataclass fields
stored as given; learned state is set in :meth:`Policy.reset` and ends in ``_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

__all__ = ["Policy", "check_contexts", "check_fraction", "sample_from_probabilities"]


def check_fraction(name: str, value: object, *, low: float = 0.0, high: float = 1.0) -> None:
    """Raise a uniform error unless ``value`` is a real number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"`{name}` must be a float in [{low}, {high}]; got {value!r}.")


def check_contexts(contexts: np.ndarray, n_features: int) -> np.ndarray:
    """Validate a batch of contexts and return it as a float array of shape (n, d)."""
    x = np.asarray(contexts, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(f"`contexts` must have shape (n, {n_features}); got {x.shape}.")
    return x


def sample_from_probabilities(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row.

    Parameters
    ----------
    probs : ndarray of shape (n_arms,) or (n, n_arms)
        Probabilities (rows need not be exactly normalized).
    rng : numpy.random.Generator

    Returns
    -------
    arms : ndarray of shape (n,), int64
        For a 1-D ``probs``, ``n`` is given by the caller through ``probs`` being
        broadcast: use :func:`numpy.broadcast_to` first.
    """
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(cdf.shape[0]) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=1), probs.shape[-1] - 1)


class Policy(ABC):
    """Base class of all bandit policies (see the module docstring for the contract)."""

    #: Registry name.
    name: ClassVar[str] = ""
    # What a policy needs and can do, declared on its class (read by the specs,
    # the config's validation, the engine and the UI instead of name lists).
    #: Reads the contexts; the others see zero-width contexts and only count rows.
    needs_contexts: ClassVar[bool] = False
    #: Reads the true expected rewards (``set_ground_truth`` before each ``select``).
    needs_truth: ClassVar[bool] = False
    #: Learns from rewards (False for the A/B split and the oracle).
    learns: ClassVar[bool] = True
    #: Can run as one copy per audience segment (``segment:NAME``).
    per_segment_ok: ClassVar[bool] = True
    #: Wraps other policies (the per-segment copies); never named on its own in a spec.
    wraps_policies: ClassVar[bool] = False
    #: Needs rewards in [0, 1] (a Beta posterior, priors set for that range): the engine
    #: maps value objectives onto [0, 1] for it. The others learn on the reward as it
    #: comes (net value in dollars), which their scale-equivariant indices can use.
    unit_rewards: ClassVar[bool] = False
    #: Old name of :attr:`needs_truth`, kept for callers that read it.
    uses_ground_truth: ClassVar[bool] = False
    #: ``(name, range)`` of each hyperparameter a spec may set, in words; what an error
    #: about a bad setting lists (a contract test keeps it equal to the init fields).
    param_ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    n_arms_: int
    n_features_: int

    def reset(self, n_arms: int, n_features: int = 0) -> Policy:
        """Forget everything and prepare for ``n_arms`` arms and ``n_features`` features."""
        if isinstance(n_arms, bool) or not isinstance(n_arms, int | np.integer) or n_arms < 1:
            raise ValueError(f"`n_arms` must be an int >= 1; got {n_arms!r}.")
        if (
            isinstance(n_features, bool)
            or not isinstance(n_features, int | np.integer)
            or n_features < 0
        ):
            raise ValueError(f"`n_features` must be an int >= 0; got {n_features!r}.")
        self.n_arms_ = int(n_arms)
        self.n_features_ = int(n_features)
        self._reset_state()
        return self

    @abstractmethod
    def _reset_state(self) -> None:
        """Set the learned state for ``n_arms_`` and ``n_features_``."""

    @abstractmethod
    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Choose an arm for every row of ``contexts`` (n, d); returns (n,) int."""

    @abstractmethod
    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Learn from a batch: contexts (n, d), arms (n,) int, rewards (n,) float."""

    @abstractmethod
    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Probability that :meth:`select` picks each arm, ndarray of shape (n, n_arms)."""

    @abstractmethod
    def forget(self, arms: np.ndarray) -> None:
        """Reset what was learned about ``arms`` (the creatives in those slots changed)."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_arms_"):
            raise RuntimeError(f"{type(self).__name__} must be reset(n_arms, n_features) first.")

    def _check_update(
        self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        x = check_contexts(contexts, self.n_features_)
        a = np.asarray(arms)
        r = np.asarray(rewards, dtype=np.float64)
        if a.shape != (x.shape[0],) or r.shape != (x.shape[0],):
            raise ValueError(
                f"`arms` and `rewards` must have shape ({x.shape[0]},); "
                f"got {a.shape} and {r.shape}."
            )
        if a.size and not np.issubdtype(a.dtype, np.integer):
            # 1.7 would silently become arm 1.
            raise ValueError(f"`arms` must be whole numbers; got dtype {a.dtype}.")
        if a.size and (a.min() < 0 or a.max() >= self.n_arms_):
            raise ValueError(f"`arms` must be in [0, {self.n_arms_}); got {a.min()}..{a.max()}.")
        if not np.isfinite(r).all():  # one NaN would poison every estimate after it
            raise ValueError(f"`rewards` must be finite; got {r[~np.isfinite(r)][0]!r}.")
        if self.unit_rewards and r.size and (r.min() < -1e-9 or r.max() > 1.0 + 1e-9):
            # A Beta posterior on dollars is no posterior (Beta(37.8, -32.8)).
            raise ValueError(
                f"{self.name} learns rewards in [0, 1] (a click, or a value scaled so); got "
                f"{r.min():g}..{r.max():g}. Scale them, or use a policy that learns on value "
                "(lin_ucb, ucb1, epsilon_greedy)."
            )
        return x, a.astype(np.int64), r

    def _check_forget(self, arms: np.ndarray) -> np.ndarray:
        self._check_fitted()
        raw = np.asarray(arms)
        if raw.size and not np.issubdtype(raw.dtype, np.integer):
            raise ValueError(f"`arms` must be whole numbers; got dtype {raw.dtype}.")
        a = np.unique(raw.astype(np.int64).ravel())
        if a.size and (a.min() < 0 or a.max() >= self.n_arms_):
            raise ValueError(f"`arms` must be in [0, {self.n_arms_}); got {a.tolist()}.")
        return a
