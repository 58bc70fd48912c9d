"""Compiled inner loop of :mod:`simulation.replication` (needs numba).

One call plays every repetition of one Bernoulli bandit problem from start to
finish, repetitions spread over the cores with ``prange``. Each repetition owns
a xoshiro256** generator whose 256-bit state is drawn by the caller from its
``np.random.Generator``, so results do not depend on the number of threads or
on which thread ran which repetition (numba's own per-thread ``np.random``
state would). Samplers: Beta by Cheng's algorithm BB (both parameters > 1) or
closed forms / Marsaglia-Tsang gamma ratios otherwise; rewards by comparing a
uniform with the click probability.

The policies are the integer codes of :data:`simulation.replication.KERNEL_POLICIES`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["beta_draws", "play"]

_U = np.uint64
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

UNIFORM, THOMPSON, UCB1, CHERNOFF_UCB, EPSILON_GREEDY = 0, 1, 2, 3, 4


@njit(inline="always")
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@njit(inline="always")
def _next(s):
    """xoshiro256** step on the 4-word state ``s`` (modified in place)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    out = _rotl(s1 * _U(5), 7) * _U(9)
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return out


@njit(inline="always")
def _uniform(s):
    """Uniform on the open interval (0, 1) (safe to take logs of)."""
    return (float(_next(s) >> _U(11)) + 0.5) * _TO_UNIT


@njit
def _normal(s):
    return math.sqrt(-2.0 * math.log(_uniform(s))) * math.cos(2.0 * math.pi * _uniform(s))


@njit
def _gamma(s, a):
    """Gamma(a, 1) by Marsaglia & Tsang (2000), boosted for a < 1."""
    boost = 1.0
    if a < 1.0:
        boost = math.exp(math.log(_uniform(s)) / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = _normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = _uniform(s)
        if u < 1.0 - 0.0331 * x * x * x * x:
            return boost * d * v
        if math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return boost * d * v


@njit(inline="always")
def _setup(aa, bb, c, i):
    """Store the constants of Cheng's algorithm BB for Beta(aa, bb) in row ``i`` of ``c``."""
    a = min(aa, bb)
    b = max(aa, bb)
    c[i, 0] = aa
    c[i, 1] = bb
    c[i, 2] = a
    c[i, 3] = b
    if a > 1.0:
        alpha = a + b
        beta = math.sqrt((alpha - 2.0) / (2.0 * a * b - alpha))
        c[i, 4] = alpha
        c[i, 5] = beta
        c[i, 6] = a + 1.0 / beta


@njit(inline="always")
def _beta(s, c, i):
    """One Beta draw with the parameters set up in row ``i`` of ``c`` by :func:`_setup`."""
    aa, bb, a, b = c[i, 0], c[i, 1], c[i, 2], c[i, 3]
    if a > 1.0:
        # Cheng (1978), algorithm BB.
        alpha, beta, gamma = c[i, 4], c[i, 5], c[i, 6]
        while True:
            u1 = _uniform(s)
            u2 = _uniform(s)
            v = beta * math.log(u1 / (1.0 - u1))
            w = a * math.exp(v) if v < 700.0 else 1e300
            z = u1 * u1 * u2
            r = gamma * v - 1.3862943611198906
            q = a + r - w
            if q + 2.6094379124341003 >= 5.0 * z:
                break
            t = math.log(z)
            if q > t:
                break
            if r + alpha * math.log(alpha / (b + w)) >= t:
                break
        return w / (b + w) if aa == a else b / (b + w)
    return _beta_small(s, aa, bb)


@njit
def _beta_small(s, aa, bb):
    """Beta(aa, bb) when a parameter is <= 1: closed forms, else a gamma ratio."""
    if aa == 1.0 and bb == 1.0:
        return _uniform(s)
    if aa == 1.0:
        return -math.expm1(math.log(_uniform(s)) / bb)
    if bb == 1.0:
        return math.exp(math.log(_uniform(s)) / aa)
    g1 = _gamma(s, aa)
    g2 = _gamma(s, bb)
    return g1 / (g1 + g2)


@njit
def beta_draws(state, aa, bb, n):
    """``n`` Beta(aa, bb) draws from the xoshiro256** ``state`` (for tests)."""
    c = np.zeros((1, 7))
    _setup(aa, bb, c, 0)
    out = np.empty(n)
    for j in range(n):
        out[j] = _beta(state, c, 0)
    return out


@njit(parallel=True, cache=True)
def play(
    policy,
    n_steps,
    delay,
    ctr0,
    ev_offset,
    ev_step,
    ev_arm,
    ev_ctr,
    state,
    prior_a,
    prior_b,
    param,
    regret_out,
    feedback_out,
    observed_out,
):
    """Play ``n_steps`` decisions in every repetition (see the module docstring).

    Parameters
    ----------
    policy : int
        Policy code.
    n_steps, delay : int
        Decisions per repetition; feedback is applied after every ``delay`` decisions.
    ctr0 : ndarray of shape (n_reps, n_arms)
        Click probabilities at step 0.
    ev_offset : ndarray of shape (n_reps + 1,)
        Repetition ``r``'s replacements are ``ev_offset[r]:ev_offset[r + 1]`` in:
    ev_step, ev_arm, ev_ctr : ndarray of shape (n_events,)
        Step (sorted within a repetition), slot and new click probability.
    state : ndarray of shape (n_reps, 4), uint64
        xoshiro256** states (advanced in place).
    prior_a, prior_b : float
        Beta prior of Thompson sampling.
    param : float
        ``alpha`` of UCB1 or ``epsilon`` of epsilon-greedy.
    regret_out : ndarray of shape (n_reps,)
        Cumulative expected regret (written).
    feedback_out, observed_out : ndarray of shape (n_reps,), int64
        Number of feedback rounds applied and of decisions they carried (written).
    """
    n_reps, k = ctr0.shape
    for r in prange(n_reps):
        s = state[r]
        ctr = ctr0[r].copy()
        succ = np.zeros(k)
        pulls = np.zeros(k)
        p_succ = np.zeros(k)
        p_pulls = np.zeros(k)
        mean = np.zeros(k)
        bonus = np.zeros(k)
        extra = np.zeros(k)
        tied = np.zeros(k, dtype=np.int64)
        cheng = np.zeros((k, 7))
        for i in range(k):
            _setup(prior_a, prior_b, cheng, i)
        n_tied = 0
        e = ev_offset[r]
        e_end = ev_offset[r + 1]
        best = ctr.max()
        regret = 0.0
        n_feedback = 0
        observed = 0
        total_pulls = 0.0
        dirty = True
        next_feedback = delay
        for t in range(n_steps):
            while e < e_end and ev_step[e] == t:
                j = ev_arm[e]
                ctr[j] = ev_ctr[e]
                total_pulls -= pulls[j]
                succ[j] = 0.0
                pulls[j] = 0.0
                p_succ[j] = 0.0
                p_pulls[j] = 0.0
                mean[j] = 0.0
                _setup(prior_a, prior_b, cheng, j)
                best = ctr.max()
                dirty = True
                e += 1
            if policy == THOMPSON:
                a = 0
                top = -1.0
                for i in range(k):
                    x = _beta(s, cheng, i)
                    if x > top:
                        top = x
                        a = i
            elif policy == UNIFORM:
                a = min(int(_uniform(s) * k), k - 1)
            else:
                if dirty or policy == CHERNOFF_UCB:
                    n_tied = 0
                    for i in range(k):
                        if pulls[i] == 0.0 and policy != EPSILON_GREEDY:
                            tied[n_tied] = i
                            n_tied += 1
                    if n_tied == 0:
                        if policy == UCB1:
                            scale = param * math.sqrt(math.log(total_pulls))
                        elif policy == CHERNOFF_UCB:
                            # log(1 / delta) with delta = t ** -1/2 (t counted from 1).
                            scale = 0.5 * math.log(t + 1.0)
                        else:
                            scale = 0.0
                        top = -1e300
                        for i in range(k):
                            if policy == CHERNOFF_UCB:
                                index = mean[i] + math.sqrt(scale) * bonus[i] + scale * extra[i]
                            else:
                                index = mean[i] + scale * bonus[i]
                            if index > top:
                                top = index
                                n_tied = 0
                            if index == top:
                                tied[n_tied] = i
                                n_tied += 1
                    dirty = False
                if policy == EPSILON_GREEDY and _uniform(s) < param:
                    a = min(int(_uniform(s) * k), k - 1)
                elif n_tied == 1:
                    a = tied[0]
                else:
                    a = tied[min(int(_uniform(s) * n_tied), n_tied - 1)]
            regret += best - ctr[a]
            p_pulls[a] += 1.0
            if _uniform(s) < ctr[a]:
                p_succ[a] += 1.0
            if t + 1 == next_feedback:
                next_feedback += delay
                n_feedback += 1
                for i in range(k):
                    if p_pulls[i] > 0.0:
                        observed += int(p_pulls[i])
                        succ[i] += p_succ[i]
                        pulls[i] += p_pulls[i]
                        total_pulls += p_pulls[i]
                        p_succ[i] = 0.0
                        p_pulls[i] = 0.0
                        mean[i] = succ[i] / pulls[i]
                        if policy == THOMPSON:
                            _setup(prior_a + succ[i], prior_b + pulls[i] - succ[i], cheng, i)
                        if policy == CHERNOFF_UCB:
                            bonus[i] = math.sqrt(2.0 * mean[i] / pulls[i])
                            extra[i] = 2.0 / pulls[i]
                        else:
                            bonus[i] = math.sqrt(2.0 / pulls[i])
                dirty = True
        regret_out[r] = regret
        feedback_out[r] = n_feedback
        observed_out[r] = observed
