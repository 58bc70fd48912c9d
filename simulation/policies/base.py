"""The policy contract shared by every bandit policy.

A policy works on numpy arrays, batch-first::

    policy = POLICIES["thompson"]()                 # hyperparameters as keyword arguments
    policy.reset(n_arms=K, n_features=d)            # d may be 0 for context-free policies
    arms = policy.select(contexts, rng)             # (n, d) float -> (n,) int
    policy.update(contexts, arms, rewards)          # rewards (n,) float (in [0, 1] if unit_rewards)
    probs = policy.action_probabilities(contexts, rng)   # (n, K), rows sum to 1
    pscore = policy.logged_propensity(contexts, arms, rng)  # (n,) in (0, 1], for a log
    policy.forget(arms)                             # drop what was learned about these arms

Every method checks its inputs alike (:func:`check_contexts`: shape (n, d) with
the ``d`` given to ``reset``, every value finite; :func:`check_rng`: a numpy
Generator), and the engine checks what ``select`` returns (an int array of
shape (n,) in ``[0, K)``).

``select`` on a batch of ``n`` draws ``n`` decisions from the current state
without updating inside the batch: that is how delayed and batched feedback
work; ``n = 1`` is exact sequential play. Hyperparameters are dataclass fields
stored as given; learned state is set in :meth:`Policy.reset` and ends in ``_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

__all__ = [
    "MAX_ARMS",
    "MAX_FEATURES",
    "Policy",
    "check_contexts",
    "check_fraction",
    "check_rng",
    "learning_scale",
    "sample_from_probabilities",
]


def check_fraction(name: str, value: object, *, low: float = 0.0, high: float = 1.0) -> None:
    """Raise a uniform error unless ``value`` is a real number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"`{name}` must be a float in [{low}, {high}]; got {value!r}.")


def check_contexts(contexts: np.ndarray, n_features: int) -> np.ndarray:
    """Validate a batch of contexts and return it as a float array of shape (n, d).

    Parameters
    ----------
    contexts : array-like of shape (n, n_features)
        Numbers, all finite: one NaN or infinity in a linear policy's regression
        would poison every later decision, for good.
    n_features : int

    Returns
    -------
    x : ndarray of shape (n, n_features), float64

    Raises
    ------
    ValueError
        For another shape, or a non-finite value (naming its row and column).
    TypeError
        For contexts that are not numbers (e.g. strings, or ragged lists).
    """
    try:
        x = np.asarray(contexts, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`contexts` must be a 2-D array of numbers of shape (n, {n_features}); "
            f"got {type(contexts).__name__}."
        ) from None
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(f"`contexts` must have shape (n, {n_features}); got {x.shape}.")
    if x.size and not np.isfinite(x).all():
        row, col = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"`contexts` must be finite; got {x[row, col]!r} at row {row}, column {col}."
        )
    return x


def check_rng(rng: object) -> np.random.Generator:
    """Return ``rng`` if it is a numpy Generator, else raise a TypeError saying what to pass.

    An int is not taken as a seed: a policy called with the same int on every
    batch would draw the same numbers every batch (one seeded generator drives a
    whole run; see :mod:`simulation.rng`).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy Generator, e.g. np.random.default_rng(0); got {rng!r}."
        )
    return rng


def learning_scale(policy: object, low: float, high: float) -> tuple[float, float]:
    """``(offset, span)``: ``policy`` learns a value objective on ``(net - offset) / span``.

    Policies that need rewards in [0, 1] (``unit_rewards``: a Beta posterior)
    get net value mapped affinely onto [0, 1] (argmax-preserving), from the range
    ``[low, high]`` it can take. The others learn on net value itself, in
    dollars, ``(0, 1)``: their indices are scale-equivariant, and the [0, 1] map
    (a span of a few hundred dollars) would shrink the value differences far
    below what a linear policy's ridge prior and the engine's tie tolerance can
    resolve. The engine (``simulation.engine.core._reward_scale``, with the
    response's range) and off-policy evaluation
    (:func:`simulation.ope.evaluate.evaluate_policy`, with the log's) both map
    through here, so a policy learns on one scale wherever it is trained.

    Parameters
    ----------
    policy : Policy
    low, high : float
        The smallest and largest net value (USD) of one impression, ``low < high``.

    Returns
    -------
    (offset, span) : tuple of float
    """
    if not getattr(policy, "unit_rewards", False):
        return 0.0, 1.0
    if not high > low:
        raise ValueError(f"the value range must have `low` < `high`; got [{low!r}, {high!r}].")
    return float(low), float(high - low)


def sample_from_probabilities(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row.

    Parameters
    ----------
    probs : ndarray of shape (n, n_arms)
        Probabilities (rows need not be exactly normalized). For one distribution
        shared by ``n`` rows, pass ``np.broadcast_to(p, (n, n_arms))``.
    rng : numpy.random.Generator
        Draws one uniform per row.

    Returns
    -------
    arms : ndarray of shape (n,), int64
    """
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ValueError(
            f"`probs` must have shape (n, n_arms) (np.broadcast_to a single row); "
            f"got shape {probs.shape}."
        )
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(cdf.shape[0]) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=1), probs.shape[-1] - 1)


#: Most arms a policy is reset for: an Open Bandit Dataset or CSV log's (its reader's
#: ``MAX_ARMS``); the engine's levels have at most 20. A larger count was a MemoryError
#: (``reset(10**12)``: 7.28 TiB) rather than a refusal.
MAX_ARMS = 1_000
#: Most context features: a log's encoded columns (its reader's ``MAX_CONTEXT_FEATURES``,
#: 256) plus the segment column a rule reads, with room to spare.
MAX_FEATURES = 1_024


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
        """Forget everything and prepare for ``n_arms`` arms and ``n_features`` features.

        Parameters
        ----------
        n_arms : int
            In [1, :data:`MAX_ARMS`].
        n_features : int, default=0
            Width of the contexts, in [0, :data:`MAX_FEATURES`]; 0 for context-free play.

        Returns
        -------
        self : Policy
        """
        if (
            isinstance(n_arms, bool)
            or not isinstance(n_arms, int | np.integer)
            or not 1 <= n_arms <= MAX_ARMS
        ):
            raise ValueError(f"`n_arms` must be an int in [1, {MAX_ARMS:,}]; got {n_arms!r}.")
        if (
            isinstance(n_features, bool)
            or not isinstance(n_features, int | np.integer)
            or not 0 <= n_features <= MAX_FEATURES
        ):
            raise ValueError(
                f"`n_features` must be an int in [0, {MAX_FEATURES:,}]; got {n_features!r}."
            )
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

    def logged_propensity(
        self, contexts: np.ndarray, arms: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """The probability with which :meth:`select` chose each of ``arms``, for a bandit log.

        Parameters
        ----------
        contexts : ndarray of shape (n, n_features)
            The contexts :meth:`select` was given, in the state it chose in.
        arms : ndarray of shape (n,), int
            The arms it chose.
        rng : numpy.random.Generator
            A generator of the log's own: drawing from the policy's would change
            its later decisions, so a logged run would differ from an unlogged one.

        Returns
        -------
        pscore : ndarray of shape (n,)
            In (0, 1] for every chosen arm. By default the entry of
            :meth:`action_probabilities` of each chosen arm; a policy whose
            probabilities are estimates that can miss an arm it chose
            (:class:`~simulation.policies.linear.LinTS`) overrides it.
        """
        probs = self.action_probabilities(contexts, rng)
        return probs[np.arange(probs.shape[0]), np.asarray(arms, dtype=np.int64)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_arms_"):
            raise RuntimeError(f"{type(self).__name__} must be reset(n_arms, n_features) first.")

    def _check_batch(self, contexts: np.ndarray, rng: object) -> np.ndarray:
        """Checks of ``select`` and ``action_probabilities``: the contexts as (n, n_features)."""
        self._check_fitted()
        check_rng(rng)
        return check_contexts(contexts, self.n_features_)

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
