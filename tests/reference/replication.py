"""numpy reference of :func:`simulation.replication.replicate` (formerly its numpy backend).

A Python loop over steps; every step is vectorized across repetitions
(arrays of shape (n_reps, n_arms)). It recomputes every index at every step,
draws Beta variates for every arm, and so is the plain statement of the
semantics the compiled kernel (:mod:`simulation.replication.kernels`) is tested
against.
"""

from __future__ import annotations

import numpy as np

from simulation.replication.chapelle_li import ReplicationResult, _check_run

__all__ = ["play_numpy", "replicate_numpy"]


def replicate_numpy(
    policy: str,
    schedule,
    *,
    n_steps: int,
    delay: int = 1,
    feedback: str = "periodic",
    rng: np.random.Generator,
    prior: tuple[float, float] = (1.0, 1.0),
    alpha: float = 1.0,
    epsilon: float = 0.1,
) -> ReplicationResult:
    """:func:`simulation.replication.replicate` in numpy; ``backend`` of the result is "numpy"."""
    _check_run(policy, n_steps, delay, feedback)
    regret, rounds, observed = play_numpy(
        policy,
        schedule,
        n_steps=int(n_steps),
        delay=int(delay),
        lagged=feedback == "lagged",
        rng=rng,
        prior=prior,
        param=alpha if policy == "ucb1" else epsilon,
    )
    return ReplicationResult(regret=regret, n_feedback=rounds, n_observed=observed, backend="numpy")


def _pick_tied(score: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row, a uniformly chosen arm among those tied at the row maximum (n, K) -> (n,)."""
    top = score == score.max(axis=1, keepdims=True)
    return np.argmax(top * rng.random(score.shape), axis=1)


def play_numpy(
    policy: str,
    schedule,
    *,
    n_steps: int,
    delay: int,
    lagged: bool = False,
    rng: np.random.Generator,
    prior: tuple[float, float],
    param: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play every repetition of ``schedule``; see :func:`simulation.replication.replicate`.

    Returns
    -------
    regret : ndarray of shape (n_reps,)
    n_feedback, n_observed : ndarray of shape (n_reps,), int64
    """
    n, k = schedule.ctr.shape
    rows = np.arange(n)
    ctr = schedule.ctr.astype(np.float64).copy()
    succ = np.zeros((n, k))
    pulls = np.zeros((n, k))
    p_succ = np.zeros((n, k))
    p_pulls = np.zeros((n, k))
    regret = np.zeros(n)
    observed = np.zeros(n, dtype=np.int64)
    # Lagged feedback: the last `delay` decisions in a ring, with the generation of their slot
    # (bumped at every replacement) so that a retired item's feedback is dropped.
    width = delay if lagged else 1
    ring_arm = np.zeros((n, width), dtype=np.int64)
    ring_click = np.zeros((n, width))
    ring_gen = np.zeros((n, width), dtype=np.int64)
    slot_gen = np.zeros((n, k), dtype=np.int64)
    born = np.zeros((n, k))  # step at which each slot's item arrived
    # Events of all repetitions sorted by step, with the repetition of each.
    ev_rep = np.repeat(rows, np.diff(schedule.event_offset))
    order = np.argsort(schedule.event_step, kind="stable")
    ev_step = schedule.event_step[order]
    ev_rep, ev_arm, ev_ctr = ev_rep[order], schedule.event_arm[order], schedule.event_ctr[order]
    bounds = np.searchsorted(ev_step, np.arange(n_steps + 1))
    for t in range(n_steps):
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo:
            # One event per (rep, slot) and step in practice; apply in order anyway.
            for i in range(lo, hi):
                rr, j = ev_rep[i], ev_arm[i]
                ctr[rr, j] = ev_ctr[i]
                succ[rr, j] = pulls[rr, j] = p_succ[rr, j] = p_pulls[rr, j] = 0.0
                slot_gen[rr, j] += 1
                born[rr, j] = t
        if policy == "thompson":
            arms = rng.beta(prior[0] + succ, prior[1] + pulls - succ).argmax(axis=1)
        elif policy == "uniform":
            arms = rng.integers(0, k, size=n)
        elif policy == "epsilon_greedy":
            mean = succ / np.maximum(pulls, 1.0)
            arms = _pick_tied(mean, rng)
            explore = rng.random(n) < param
            arms = np.where(explore, rng.integers(0, k, size=n), arms)
        else:
            tried = pulls > 0
            safe = np.maximum(pulls, 1.0)
            mean = succ / safe
            if policy == "ucb1":
                total = pulls.sum(axis=1, keepdims=True)
                # The registered Ucb1: the spread of 0/1 rewards, m (1 - m), floored at the
                # spread pooled over all arms, times 2 (0.5 for a fair coin: textbook UCB1).
                pooled = succ.sum(axis=1, keepdims=True) / np.maximum(total, 1.0)
                sd = np.sqrt(np.maximum(mean * (1.0 - mean), pooled * (1.0 - pooled)))
                bonus = np.sqrt(2.0 * np.log(np.maximum(total, 1.0)) / safe)
                index = mean + param * 2.0 * sd * bonus
            else:  # chernoff_ucb: t of eq. (1) is the global step or the item's age
                clock = t + 1.0 if policy == "chernoff_ucb" else t - born + 1.0
                log_inv_delta = 0.5 * np.log(clock)
                index = (
                    mean + np.sqrt(2.0 * mean * log_inv_delta / safe) + 2.0 * log_inv_delta / safe
                )
            index = np.where(tried, index, np.inf)
            arms = _pick_tied(index, rng)
        p = ctr[rows, arms]
        regret += ctr.max(axis=1) - p
        clicks = rng.random(n) < p
        if lagged:
            slot = t % delay
            ring_arm[:, slot] = arms
            ring_click[:, slot] = clicks
            ring_gen[:, slot] = slot_gen[rows, arms]
            if t + 1 >= delay:
                # Decision t - delay + 1 (the ring's next slot) becomes known.
                slot = (t + 1) % delay
                b = ring_arm[:, slot]
                ok = ring_gen[:, slot] == slot_gen[rows, b]
                succ[rows[ok], b[ok]] += ring_click[ok, slot]
                pulls[rows[ok], b[ok]] += 1.0
                observed += ok
        else:
            p_pulls[rows, arms] += 1.0
            p_succ[rows, arms] += clicks
            if (t + 1) % delay == 0:
                succ += p_succ
                pulls += p_pulls
                observed += p_pulls.sum(axis=1).astype(np.int64)
                p_succ[:] = 0.0
                p_pulls[:] = 0.0
    n_rounds = max(n_steps - delay + 1, 0) if lagged else n_steps // delay
    feedback = np.full(n, n_rounds, dtype=np.int64)
    return regret, feedback, observed
