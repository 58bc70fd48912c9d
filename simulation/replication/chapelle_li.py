"""Many repetitions of a Bernoulli bandit at once: the fast path for reproductions.

A :class:`BernoulliSchedule` fixes the environment of every repetition up
front: the click probabilities at step 0 and the replacement events (at step
``t`` the item in slot ``j`` retires and a new one with click probability
``p`` takes its place). :func:`replicate` then plays a policy on all
repetitions at once, with feedback delayed by ``delay`` decisions, and
returns the cumulative expected regret of each repetition.

The fast path is a compiled loop (:mod:`simulation.replication.kernels`, both
cores; its Thompson sampling draws in full only the arms that may still win,
with the exact law of the argmax). :func:`replicate_with_policy` plays the same
schedule through the public policy contract (``POLICIES[name]``,
``select``/``update``/``forget``), which is slow but is the definition the fast
path is tested against, as is a plain numpy loop kept with the tests
(``tests/reference/replication.py``).

Semantics shared by all of them (decisions are numbered ``t = 0 .. n_steps - 1``):

1. Replacements scheduled at step ``t`` happen before decision ``t``; the
   slot's statistics are forgotten and its pending (not yet delivered)
   feedback is dropped, because it was about the retired item.
2. Feedback is delivered in one of two ways (``feedback=``), the same when
   ``delay`` is 1:

   - ``"periodic"`` (batches): right after every decision ``t`` with ``t + 1``
     a multiple of ``delay``, the feedback of decision ``t`` and of all earlier
     undelivered ones. A decision waits between 0 and ``delay - 1`` further
     decisions, ``(delay - 1) / 2`` on average.
   - ``"lagged"`` (a fixed lag): the feedback of decision ``t`` right after
     decision ``t + delay - 1``, so it is first used by decision ``t + delay``.
     Every decision waits ``delay - 1`` further decisions.
3. Regret is expected regret: ``max_j p_j(t) - p_{a_t}(t)`` summed over steps.

The environment has readings of its own, fixed in the schedule and so shared by
all backends: :func:`chapelle_li_schedule` retires a uniformly chosen or the
oldest item (``retire=``), and :meth:`BernoulliSchedule.aligned` postpones
replacements to the steps right after periodic deliveries.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from simulation.compiled import KernelCode
from simulation.policies import POLICIES

__all__ = [
    "FEEDBACK_MODES",
    "KERNEL_POLICIES",
    "RETIRE_MODES",
    "BernoulliSchedule",
    "ReplicationResult",
    "chapelle_li_schedule",
    "has_numba",
    "replicate",
    "replicate_with_policy",
    "stationary_schedule",
]

#: How feedback is delivered (see the module docstring).
FEEDBACK_MODES = ("periodic", "lagged")
#: Which item a replacement retires in :func:`chapelle_li_schedule`.
RETIRE_MODES = ("random", "oldest")

#: Policies the fast paths implement, with their kernel codes. ``ucb1``,
#: ``thompson``, ``epsilon_greedy`` and ``uniform`` are adlab's registered
#: policies; ``chernoff_ucb`` is the UCB of Chapelle & Li (2011), eq. (1), with its ``t`` the
#: global step (from 1), and ``chernoff_ucb_age`` the same with ``t`` the age of the item
#: (steps since it arrived, from 1; the global step for the items present at step 0). The
#: paper does not define ``t``; with no replacements the two are the same policy.
KERNEL_POLICIES: dict[str, int] = {code.policy_name: int(code) for code in KernelCode}


def has_numba() -> bool:
    """True: numba is a required dependency (kept for callers that tested it)."""
    return True


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BernoulliSchedule:
    """The environment of ``n_reps`` repetitions of a Bernoulli bandit.

    Attributes
    ----------
    ctr : ndarray of shape (n_reps, n_arms)
        Click probability of each slot's item at step 0.
    event_offset : ndarray of shape (n_reps + 1,)
        Repetition ``r``'s replacements are rows ``event_offset[r]:event_offset[r + 1]``
        of the three arrays below, sorted by step.
    event_step, event_arm : ndarray of shape (n_events,), int64
    event_ctr : ndarray of shape (n_events,)
        Click probability of the new item.
    """

    ctr: np.ndarray
    event_offset: np.ndarray
    event_step: np.ndarray
    event_arm: np.ndarray
    event_ctr: np.ndarray

    def __post_init__(self) -> None:
        ctr = self.ctr
        if ctr.ndim != 2 or ctr.shape[0] < 1 or ctr.shape[1] < 1:
            raise ValueError(f"`ctr` must have shape (n_reps, n_arms); got {ctr.shape}.")
        if self.event_offset.shape != (ctr.shape[0] + 1,):
            raise ValueError(
                f"`event_offset` must have shape ({ctr.shape[0] + 1},); "
                f"got {self.event_offset.shape}."
            )
        n = int(self.event_offset[-1])
        for name in ("event_step", "event_arm", "event_ctr"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"`{name}` must have shape ({n},).")

    @property
    def n_reps(self) -> int:
        """Number of repetitions."""
        return int(self.ctr.shape[0])

    @property
    def n_arms(self) -> int:
        """Number of slots (arms)."""
        return int(self.ctr.shape[1])

    def events(self, rep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Steps, slots and new click probabilities of repetition ``rep``."""
        sl = slice(int(self.event_offset[rep]), int(self.event_offset[rep + 1]))
        return self.event_step[sl], self.event_arm[sl], self.event_ctr[sl]

    def subset(self, reps: np.ndarray | range) -> BernoulliSchedule:
        """The schedule of the repetitions ``reps`` only."""
        parts = [self.events(int(r)) for r in reps]
        sizes = np.array([len(p[0]) for p in parts], dtype=np.int64)
        cat = lambda i, dtype: np.concatenate([p[i] for p in parts]).astype(dtype)  # noqa: E731
        return BernoulliSchedule(
            ctr=self.ctr[np.asarray(reps)].copy(),
            event_offset=np.concatenate([[0], np.cumsum(sizes)]),
            event_step=cat(0, np.int64),
            event_arm=cat(1, np.int64),
            event_ctr=cat(2, np.float64),
        )

    def aligned(self, delay: int) -> BernoulliSchedule:
        """The same schedule with each replacement postponed to the next multiple of ``delay``.

        With periodic feedback every ``delay`` steps, replacements then happen only right
        after a delivery, so a new item waits exactly ``delay`` decisions for its first
        feedback (instead of 1 to ``delay``). Slots and new click probabilities are unchanged;
        events pushed past the end of a run never happen.

        Parameters
        ----------
        delay : int
            At least 1 (1 returns an equal schedule).

        Returns
        -------
        schedule : BernoulliSchedule
        """
        if isinstance(delay, bool) or not isinstance(delay, int | np.integer) or delay < 1:
            raise ValueError(f"`delay` must be an int >= 1; got {delay!r}.")
        return BernoulliSchedule(
            ctr=self.ctr.copy(),
            event_offset=self.event_offset.copy(),
            event_step=(-(-self.event_step // delay) * delay).astype(np.int64),
            event_arm=self.event_arm.copy(),
            event_ctr=self.event_ctr.copy(),
        )


def stationary_schedule(ctr: np.ndarray) -> BernoulliSchedule:
    """A schedule without replacements.

    Parameters
    ----------
    ctr : ndarray of shape (n_reps, n_arms)

    Returns
    -------
    schedule : BernoulliSchedule
    """
    ctr = np.asarray(ctr, dtype=np.float64)
    if ctr.ndim != 2:
        raise ValueError(f"`ctr` must have shape (n_reps, n_arms); got {ctr.shape}.")
    empty = np.zeros(0, dtype=np.int64)
    return BernoulliSchedule(
        ctr=ctr.copy(),
        event_offset=np.zeros(ctr.shape[0] + 1, dtype=np.int64),
        event_step=empty,
        event_arm=empty.copy(),
        event_ctr=np.zeros(0),
    )


def chapelle_li_schedule(
    n_reps: int,
    n_steps: int,
    rng: np.random.Generator,
    *,
    n_arms: int = 10,
    replace_rate: float = 1e-3,
    prior: tuple[float, float] = (4.0, 4.0),
    retire: str = "random",
) -> BernoulliSchedule:
    """Chapelle & Li (2011), section 3: a dynamic set of items.

    At every step, with probability ``replace_rate``, one item retires and a
    new one takes its slot; every item's click probability is Beta(``prior``).

    Parameters
    ----------
    n_reps, n_steps : int
    rng : numpy.random.Generator
    n_arms : int, default=10
    replace_rate : float, default=1e-3
        In [0, 1].
    prior : tuple of float, default=(4, 4)
    retire : {"random", "oldest"}, default="random"
        Which item retires: one chosen uniformly (lifetimes are geometric, mean
        ``n_arms / replace_rate`` steps), or the oldest (first in, first out:
        every item but the first ``n_arms`` lives exactly ``n_arms`` replacement
        events; the items present at step 0 retire in a random order). The
        replacement steps and the new click probabilities are the same draws
        for both, so the two readings share their environments.

    Returns
    -------
    schedule : BernoulliSchedule
    """
    if not 0.0 <= replace_rate <= 1.0:
        raise ValueError(f"`replace_rate` must be a float in [0, 1]; got {replace_rate!r}.")
    if retire not in RETIRE_MODES:
        raise ValueError(f"`retire` must be one of {RETIRE_MODES}; got {retire!r}.")
    ctr = rng.beta(*prior, size=(n_reps, n_arms))
    steps = []
    for _ in range(n_reps):
        if replace_rate == 0.0:
            steps.append(np.zeros(0, dtype=np.int64))
            continue
        # Gaps between events are geometric; draw a few more than expected.
        size = int(n_steps * replace_rate + 10 * np.sqrt(n_steps * replace_rate + 1) + 10)
        s = np.cumsum(rng.geometric(replace_rate, size=size)) - 1
        while s[-1] < n_steps:
            s = np.concatenate([s, s[-1] + np.cumsum(rng.geometric(replace_rate, size=size))])
        steps.append(s[s < n_steps].astype(np.int64))
    sizes = np.array([len(s) for s in steps], dtype=np.int64)
    n_events = int(sizes.sum())
    event_arm = rng.integers(0, n_arms, size=n_events).astype(np.int64)
    event_ctr = rng.beta(*prior, size=n_events)
    if retire == "oldest":
        # The slots retire in a fixed cyclic order: the i-th event of a repetition empties
        # the slot filled n_arms events earlier (or, first, the initial items in random order).
        queues = [rng.permutation(n_arms) for _ in range(n_reps)]
        event_arm = np.concatenate(
            [q[np.arange(size) % n_arms] for q, size in zip(queues, sizes)]
        ).astype(np.int64)
    return BernoulliSchedule(
        ctr=ctr,
        event_offset=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        event_step=np.concatenate(steps) if steps else np.zeros(0, dtype=np.int64),
        event_arm=event_arm,
        event_ctr=event_ctr,
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReplicationResult:
    """What :func:`replicate` measured.

    Attributes
    ----------
    regret : ndarray of shape (n_reps,)
        Cumulative expected regret after ``n_steps`` decisions.
    n_feedback : ndarray of shape (n_reps,), int64
        Feedback rounds delivered: ``n_steps // delay`` (periodic) or
        ``max(n_steps - delay + 1, 0)`` (lagged: one decision's feedback a round).
    n_observed : ndarray of shape (n_reps,), int64
        Decisions whose feedback was delivered (dropped feedback of retired
        items excluded).
    backend : str
        ``"numba"`` (:func:`replicate`) or ``"policy"`` (:func:`replicate_with_policy`).
    """

    regret: np.ndarray
    n_feedback: np.ndarray
    n_observed: np.ndarray
    backend: str

    @property
    def mean(self) -> float:
        """Mean regret over repetitions."""
        return float(self.regret.mean())

    @property
    def sem(self) -> float:
        """Standard error of :attr:`mean`."""
        n = self.regret.shape[0]
        return float(self.regret.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")


def _check_run(policy: str, n_steps: int, delay: int, feedback: str) -> None:
    if policy not in KERNEL_POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose from {sorted(KERNEL_POLICIES)}.")
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"`feedback` must be one of {FEEDBACK_MODES}; got {feedback!r}.")
    for name, value in (("n_steps", n_steps), ("delay", delay)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")


def replicate(
    policy: str,
    schedule: BernoulliSchedule,
    *,
    n_steps: int,
    delay: int = 1,
    feedback: str = "periodic",
    rng: np.random.Generator,
    prior: tuple[float, float] = (1.0, 1.0),
    alpha: float = 1.0,
    epsilon: float = 0.1,
    backend: str = "auto",
) -> ReplicationResult:
    """Play ``policy`` on every repetition of ``schedule`` (fast path).

    Parameters
    ----------
    policy : str
        A key of :data:`KERNEL_POLICIES`.
    schedule : BernoulliSchedule
    n_steps : int
        Decisions per repetition.
    delay : int, default=1
        Feedback delay in decisions (1 = sequential).
    feedback : {"periodic", "lagged"}, default="periodic"
        Periodic batches every ``delay`` decisions, or each decision's feedback
        ``delay`` decisions later (module docstring).
    rng : numpy.random.Generator
        Seeds the run: one 256-bit xoshiro256** state is drawn per repetition
        from it, so results do not depend on thread count.
    prior : tuple of float, default=(1, 1)
        Beta prior of ``thompson``.
    alpha : float, default=1.0
        Bonus scale of ``ucb1``.
    epsilon : float, default=0.1
        Exploration rate of ``epsilon_greedy``.
    backend : {"auto", "numba"}, default="auto"
        Both the compiled loop (the only one since numba became required).

    Returns
    -------
    result : ReplicationResult
    """
    _check_run(policy, n_steps, delay, feedback)
    lagged = feedback == "lagged"
    if backend not in ("auto", "numba"):
        raise ValueError(f"`backend` must be 'auto' or 'numba'; got {backend!r}.")
    param = alpha if policy == "ucb1" else epsilon
    from simulation.replication.kernels import play

    n = schedule.n_reps
    state = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64, endpoint=False)
    state[:, 0] |= np.uint64(1)  # xoshiro's all-zero state is forbidden
    regret = np.zeros(n)
    rounds = np.zeros(n, dtype=np.int64)
    observed = np.zeros(n, dtype=np.int64)
    play(
        KERNEL_POLICIES[policy],
        int(n_steps),
        int(delay),
        lagged,
        np.ascontiguousarray(schedule.ctr, dtype=np.float64),
        schedule.event_offset.astype(np.int64),
        schedule.event_step.astype(np.int64),
        schedule.event_arm.astype(np.int64),
        schedule.event_ctr.astype(np.float64),
        state,
        float(prior[0]),
        float(prior[1]),
        float(param),
        regret,
        rounds,
        observed,
    )
    return ReplicationResult(regret=regret, n_feedback=rounds, n_observed=observed, backend="numba")


def replicate_with_policy(
    policy: str,
    schedule: BernoulliSchedule,
    *,
    n_steps: int,
    delay: int = 1,
    feedback: str = "periodic",
    rng: np.random.Generator,
    **hyperparameters: float,
) -> ReplicationResult:
    """Play the registered policy ``POLICIES[policy]`` through its public contract.

    Decisions between two feedback deliveries (or replacements) come from one
    ``select`` call on that many rows: the policy's state does not change in
    between, which is exactly what batched ``select`` assumes. Delivery is one
    ``update`` call; a replacement is ``forget`` of the slot after its
    pending rows were dropped. With ``feedback="lagged"`` a delivery follows
    every decision from ``delay - 1`` on, so ``select`` then takes one row at a
    time (slow: keep such runs small).

    Parameters
    ----------
    policy : str
        A key of :data:`simulation.policies.POLICIES` (context-free).
    schedule : BernoulliSchedule
    n_steps, delay : int
    feedback : {"periodic", "lagged"}, default="periodic"
        As in :func:`replicate`.
    rng : numpy.random.Generator
    **hyperparameters
        Passed to the policy class.

    Returns
    -------
    result : ReplicationResult
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose from {sorted(POLICIES)}.")
    _check_run("uniform", n_steps, delay, feedback)
    lagged = feedback == "lagged"
    n_reps, k = schedule.n_reps, schedule.n_arms
    regret = np.zeros(n_reps)
    rounds = np.zeros(n_reps, dtype=np.int64)
    observed = np.zeros(n_reps, dtype=np.int64)
    # After the decisions before a delivery step, the policy learns: every decision so far
    # (periodic) or those at least `delay` steps old (lagged).
    delivery_steps = np.arange(delay, n_steps + 1, 1 if lagged else delay)
    for r in range(n_reps):
        p = POLICIES[policy](**hyperparameters).reset(n_arms=k, n_features=0)
        ctr = schedule.ctr[r].copy()
        ev_step, ev_arm, ev_ctr = schedule.events(r)
        cuts = np.union1d(np.union1d(delivery_steps, ev_step), [0, n_steps])
        cuts = cuts[(cuts >= 0) & (cuts <= n_steps)]
        # Undelivered decisions: steps, arms and rewards, oldest first.
        pend_t = np.zeros(0, dtype=np.int64)
        pend_a = np.zeros(0, dtype=np.int64)
        pend_w = np.zeros(0)
        e = 0
        for start, stop in itertools.pairwise(cuts):
            while e < len(ev_step) and ev_step[e] == start:
                j = int(ev_arm[e])
                ctr[j] = ev_ctr[e]
                keep = pend_a != j
                pend_t, pend_a, pend_w = pend_t[keep], pend_a[keep], pend_w[keep]
                p.forget(np.array([j]))
                e += 1
            arms = p.select(np.empty((stop - start, 0)), rng)
            regret[r] += float((ctr.max() - ctr[arms]).sum())
            pend_t = np.concatenate([pend_t, np.arange(start, stop)])
            pend_a = np.concatenate([pend_a, arms])
            pend_w = np.concatenate(
                [pend_w, (rng.random(arms.shape[0]) < ctr[arms]).astype(np.float64)]
            )
            if stop >= delay and (lagged or stop % delay == 0):
                due = stop - delay if lagged else stop - 1
                n_due = int(np.searchsorted(pend_t, due, side="right"))
                if n_due:
                    p.update(np.empty((n_due, 0)), pend_a[:n_due], pend_w[:n_due])
                rounds[r] += 1
                observed[r] += n_due
                pend_t, pend_a, pend_w = pend_t[n_due:], pend_a[n_due:], pend_w[n_due:]
    return ReplicationResult(
        regret=regret, n_feedback=rounds, n_observed=observed, backend="policy"
    )
