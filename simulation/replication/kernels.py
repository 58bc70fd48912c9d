"""Compiled inner loop of :mod:`simulation.replication.chapelle_li` (needs numba).

One call plays every repetition of one Bernoulli bandit problem from start to
finish, repetitions spread over the cores with ``prange``. Each repetition owns
a xoshiro256** generator whose 256-bit state is drawn by the caller from its
``np.random.Generator``, so results do not depend on the number of threads or
on which thread ran which repetition (numba's own per-thread ``np.random``
state would). Samplers: Beta as a ratio of Marsaglia-Tsang gamma draws on a
ziggurat normal (closed forms when a parameter is 1); rewards by comparing a
uniform with the click probability. Thompson sampling draws in full only the
arms that may win (:func:`_ts_pick`, exact).

The generator state travels as a tuple of four ``uint64`` that every sampler
takes and returns (``x, s = _uniform(s)``), never as an array: numba keeps a
tuple in registers, while an array passed through the samplers costs a
reference-count round trip on many branches, about as much as a Beta draw.

The policies are :class:`simulation.compiled.KernelCode` values (the engine's numbering too).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from simulation.compiled import KernelCode, jit

__all__ = ["beta_draws", "play", "thompson_picks"]

_U = np.uint64
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

UNIFORM = int(KernelCode.UNIFORM)
THOMPSON = int(KernelCode.THOMPSON)
UCB1 = int(KernelCode.UCB1)
CHERNOFF_UCB = int(KernelCode.CHERNOFF_UCB)
EPSILON_GREEDY = int(KernelCode.EPSILON_GREEDY)
CHERNOFF_UCB_AGE = int(KernelCode.CHERNOFF_UCB_AGE)


@jit(inline="always")
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@jit(inline="always")
def _next(s):
    """xoshiro256** step: 64 random bits and the next state."""
    s0, s1, s2, s3 = s
    out = _rotl(s1 * _U(5), 7) * _U(9)
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return out, (s0, s1, s2, s3)


@jit(inline="always")
def _uniform(s):
    """Uniform on the open interval (0, 1) (safe to take logs of), and the next state."""
    bits, s = _next(s)
    return (float(bits >> _U(11)) + 0.5) * _TO_UNIT, s


@jit(inline="always")
def _load(state, r):
    return (state[r, 0], state[r, 1], state[r, 2], state[r, 3])


@jit(inline="always")
def _store(state, r, s):
    state[r, 0], state[r, 1], state[r, 2], state[r, 3] = s


def _ziggurat_tables():
    """Marsaglia & Tsang's (2000) ziggurat for the standard normal: 256 layers, 52-bit uniforms.

    The same construction and constants as numpy's ``standard_normal``. Layer ``i`` is picked
    with probability 1/256; a point inside the part of the layer under the curve (``rabs <
    k[i]``) is accepted at once, otherwise it is tested against the density, and layer 0 hands
    its tail beyond ``r`` to Marsaglia's exponential rejection, so the law is exact.
    """
    r, v, scale = 3.6541528853610088, 4.92867323399e-3, 2.0**52
    k = np.zeros(256, dtype=np.uint64)
    w = np.zeros(256)
    f = np.zeros(256)
    dn = tn = r
    q = v / math.exp(-0.5 * dn * dn)
    k[0] = np.uint64(dn / q * scale)
    w[0], w[255] = q / scale, dn / scale
    f[0], f[255] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = np.uint64(dn / tn * scale)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / scale
    return r, k, w, f


# Small (6 KB) constant tables, frozen into the compiled code.
_ZIG_R, _ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()


@jit(inline="always")
def _normal(s):
    """Standard normal by the ziggurat: one 64-bit word and no transcendental 99 % of the time."""
    while True:
        bits, s = _next(s)
        idx = int(bits & _U(0xFF))
        negative = (bits >> _U(8)) & _U(1)
        rabs = (bits >> _U(9)) & _U(0x000FFFFFFFFFFFFF)
        x = float(rabs) * _ZIG_W[idx]
        if negative:
            x = -x
        if rabs < _ZIG_K[idx]:
            return x, s
        if idx == 0:
            while True:
                u1, s = _uniform(s)
                u2, s = _uniform(s)
                xx = -math.log(u1) / _ZIG_R
                if -2.0 * math.log(u2) > xx * xx:
                    return (-(_ZIG_R + xx) if negative else _ZIG_R + xx), s
        else:
            u, s = _uniform(s)
            if (_ZIG_F[idx - 1] - _ZIG_F[idx]) * u + _ZIG_F[idx] < math.exp(-0.5 * x * x):
                return x, s


@jit(inline="always")
def _gamma_mt(s, d, c):
    """Gamma(a, 1) for a >= 1 by Marsaglia & Tsang (2000), ``d = a - 1/3``, ``c = 1/sqrt(9d)``."""
    while True:
        x, s = _normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u, s = _uniform(s)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:  # the squeeze: no log about 9 times in 10
            return d * v, s
        if math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v, s


#: Columns of the per-arm table ``c`` of Thompson sampling: the two parameters, the constants of
#: the two Marsaglia-Tsang gamma draws, the posterior mean, the two gates (see :func:`_ts_pick`;
#: 2 = not known yet), then the mode (2 when a parameter is <= 1, so that no draw is ever pruned)
#: and log B(a, b), filled lazily (flag ``_READY``) for the arms that get pruned.
_N_COLS = 12
_MEAN, _GATE_FINE, _GATE_COARSE, _MODE, _LOG_B, _READY = 6, 7, 8, 9, 10, 11
#: Gates: above ``_GATE_FINE`` an arm's envelope mass is known to be <= 2**-_FINE_BITS, above
#: ``_GATE_COARSE`` <= 2**-_COARSE_BITS, so that many random bits, not all zero, settle a loss
#: without any exp or log (one 64-bit word serves ten fine gates).
_FINE_BITS, _COARSE_BITS = 6, 3
#: Envelope masses at least this large get a full draw instead (cheaper than the envelope).
_P_FULL = 0.5
#: Gates are learnt only from masses below the bound by this relative margin (rounding in pbar).
_MARGIN = 1.0 - 1e-9


@jit(inline="always")
def _setup(aa, bb, c, i):
    """Store Beta(aa, bb) and its sampling constants in row ``i`` of ``c``."""
    c[i, 0] = aa
    c[i, 1] = bb
    c[i, _MEAN] = aa / (aa + bb)
    c[i, _GATE_FINE] = 2.0
    c[i, _GATE_COARSE] = 2.0
    if aa > 1.0 and bb > 1.0:
        da = aa - 1.0 / 3.0
        db = bb - 1.0 / 3.0
        c[i, 2] = da
        c[i, 3] = 1.0 / math.sqrt(9.0 * da)
        c[i, 4] = db
        c[i, 5] = 1.0 / math.sqrt(9.0 * db)
    c[i, _READY] = 0.0


@jit(inline="always")
def _prepare(c, i):
    """Fill the pruning columns of row ``i`` (only for arms that get pruned, so lazily)."""
    aa, bb = c[i, 0], c[i, 1]
    if aa > 1.0 and bb > 1.0:
        c[i, _MODE] = (aa - 1.0) / (aa + bb - 2.0)
        c[i, _LOG_B] = math.lgamma(aa) + math.lgamma(bb) - math.lgamma(aa + bb)
    else:
        c[i, _MODE] = 2.0
    c[i, _READY] = 1.0


@jit(inline="always")
def _beta(s, c, i):
    """One Beta draw with the parameters set up in row ``i`` of ``c`` by :func:`_setup`."""
    aa, bb = c[i, 0], c[i, 1]
    if aa > 1.0 and bb > 1.0:
        # Two gamma draws cost about a third of Cheng's algorithm BB: mostly no log or exp.
        ga, s = _gamma_mt(s, c[i, 2], c[i, 3])
        gb, s = _gamma_mt(s, c[i, 4], c[i, 5])
        return ga / (ga + gb), s
    if aa == 1.0 or bb == 1.0:
        u, s = _uniform(s)
        if aa == 1.0 and bb == 1.0:
            return u, s
        if aa == 1.0:
            return -math.expm1(math.log(u) / bb), s
        return math.exp(math.log(u) / aa), s
    # A parameter below 1: Gamma(p) = Gamma(p + 1) U^(1/p).
    ga = gb = 1.0
    pa, pb = aa, bb
    if aa < 1.0:
        u, s = _uniform(s)
        ga = math.exp(math.log(u) / aa)
        pa = aa + 1.0
    if bb < 1.0:
        u, s = _uniform(s)
        gb = math.exp(math.log(u) / bb)
        pb = bb + 1.0
    x, s = _gamma_mt(s, pa - 1.0 / 3.0, 1.0 / math.sqrt(9.0 * pa - 3.0))
    ga *= x
    x, s = _gamma_mt(s, pb - 1.0 / 3.0, 1.0 / math.sqrt(9.0 * pb - 3.0))
    gb *= x
    return ga / (ga + gb), s


@jit(inline="always")
def _ts_pick(s, c, order, k):
    """Thompson sampling's arm: argmax of one Beta draw per arm, drawing few of them in full.

    Arms are visited in ``order`` (decreasing posterior mean). The first gets a full draw and
    ``m`` is the running maximum. A later arm with parameters ``a, b > 1`` and its mode below
    ``m`` has a log-concave density ``f`` that is decreasing on ``(m, 1)``, so it lies under the
    tangent envelope ``h(x) = f(m) exp(-lam (x - m))`` with
    ``lam = -(log f)'(m) = (b - 1) / (1 - m) - (a - 1) / m > 0``. With ``pbar = f(m) / lam``
    (the envelope's mass on ``(m, inf)``, an upper bound on ``P(X > m)``) the arm is played as:

    1. with probability ``1 - pbar`` it loses (its draw is below ``m``, never needed);
    2. otherwise ``Y = m + Exp(lam)``; it loses if ``Y >= 1``, else wins with value ``Y`` with
       probability ``f(Y) / h(Y)``.

    Exactness: for ``y`` in ``(m, 1)``, P(win with value in dy) = ``pbar * lam exp(-lam (y - m))
    * f(y) / h(y) dy = f(y) dy``, the law of a full draw above ``m``; every other outcome is a
    loss, whose value is irrelevant to the argmax. So ``(max, argmax)`` after each arm has the
    law it would have with full draws, and by induction the chosen arm has exactly Thompson
    sampling's law. Only ``pbar <= 1`` is needed; larger masses, arms whose mode is above ``m``
    and arms with a parameter <= 1 (density not log-concave or not decreasing) get a full draw.
    The order only changes how often arms are pruned, never the law.

    The gates: ``pbar`` decreases in ``m`` above the mode (``log pbar`` has derivative
    ``-lam - lam' / lam < 0``, ``lam' > 0`` by concavity), so once ``pbar(m') <= eps`` was seen,
    any ``m >= m'`` has ``pbar(m) <= eps``. Step 1 then draws its uniform ``u`` in two parts:
    ``u >= eps`` (a loss, without computing ``pbar``) is ``log2(1 / eps)`` random bits not all
    zero, and given ``u < eps``, ``u`` is uniform on ``(0, eps)`` and is compared with the exact
    ``pbar``, so step 1 is unchanged. Each arm keeps the lowest such ``m'`` for
    ``eps = 2**-6`` and ``2**-3``, learnt from the ``pbar`` evaluated along the way and
    forgotten when its posterior changes.

    Parameters
    ----------
    s : tuple of 4 uint64
        Generator state.
    c : ndarray of shape (n_arms, _N_COLS)
        Per-arm table from :func:`_setup` (the pruning columns are updated).
    order : ndarray of shape (n_arms,), int64
        Arms by decreasing posterior mean (:func:`_sort_by_mean`).
    k : int
        Number of arms.

    Returns
    -------
    arm : int
    s : tuple
        The generator's next state.
    """
    a = order[0]
    m, s = _beta(s, c, a)
    lm = 1.0  # log(m) and log(1 - m), computed once per value of m (1 = not yet)
    l1m = 0.0
    # The fine gates of up to ten arms at once, from one word: position j's 6 bits settle
    # "loses" unless they are all zero. Branch-free, as most arms are settled here.
    word, s = _next(s)
    skip = 0
    passed = 0
    for j in range(1, min(k, 11)):
        gated = m >= c[order[j], _GATE_FINE]
        zero = (word >> _U(_FINE_BITS * (j - 1))) & _U((1 << _FINE_BITS) - 1) == _U(0)
        skip |= int(gated and not zero) << j
        passed |= int(gated and zero) << j
    pool = _U(0)  # random bits for the gates met later
    n_pool = 0
    for j in range(1, k):
        if (skip >> j) & 1:
            continue
        i = order[j]
        if (passed >> j) & 1:
            n_bits = -_FINE_BITS  # gate already passed: only u remains to draw
        elif m >= c[i, _GATE_FINE]:
            n_bits = _FINE_BITS
        elif m >= c[i, _GATE_COARSE]:
            n_bits = _COARSE_BITS
        else:
            n_bits = 0
        full = False
        if n_bits < 0:
            u, s = _uniform(s)
            n_bits = _FINE_BITS
            u = math.ldexp(u, -n_bits)
        elif n_bits > 0:
            if n_pool < n_bits:
                pool, s = _next(s)
                n_pool = 64
            bits = pool & ((_U(1) << _U(n_bits)) - _U(1))
            pool >>= _U(n_bits)
            n_pool -= n_bits
            if bits != _U(0):
                continue
            u, s = _uniform(s)
            u = math.ldexp(u, -n_bits)
        else:
            if c[i, _READY] == 0.0:
                _prepare(c, i)
            full = m <= c[i, _MODE]
        if not full:
            am1 = c[i, 0] - 1.0
            bm1 = c[i, 1] - 1.0
            if lm > 0.0:
                lm = math.log(m)
                l1m = math.log1p(-m)
            lam = bm1 / (1.0 - m) - am1 / m
            pbar = math.exp(am1 * lm + bm1 * l1m - c[i, _LOG_B]) / lam
            if n_bits == 0:
                # At the mode (rounding), or a mass so large that pruning would rarely pay.
                full = lam <= 0.0 or pbar >= _P_FULL
                if not full:
                    u, s = _uniform(s)
            if not full:
                if pbar <= math.ldexp(_MARGIN, -_FINE_BITS):
                    c[i, _GATE_FINE] = min(c[i, _GATE_FINE], m)
                    c[i, _GATE_COARSE] = min(c[i, _GATE_COARSE], m)
                elif pbar <= math.ldexp(_MARGIN, -_COARSE_BITS):
                    c[i, _GATE_COARSE] = min(c[i, _GATE_COARSE], m)
                if u >= pbar:
                    continue
                e, s = _uniform(s)
                d = -math.log(e) / lam
                if m + d >= 1.0:
                    continue
                log_ratio = am1 * math.log1p(d / m) + bm1 * math.log1p(-d / (1.0 - m)) + lam * d
                e, s = _uniform(s)
                if math.log(e) < log_ratio:
                    m += d
                    a = i
                    lm = 1.0
                continue
        x, s = _beta(s, c, i)
        if x > m:
            m = x
            a = i
            lm = 1.0
    return a, s


@jit(inline="always")
def _sort_by_mean(c, order, k):
    """Insertion sort of ``order`` by decreasing posterior mean (nearly sorted already)."""
    for j in range(1, k):
        i = order[j]
        key = c[i, _MEAN]
        h = j - 1
        while h >= 0 and c[order[h], _MEAN] < key:
            order[h + 1] = order[h]
            h -= 1
        order[h + 1] = i


@jit
def thompson_picks(state, aa, bb, n):
    """``n`` Thompson sampling decisions for fixed posteriors Beta(aa[i], bb[i]) (for tests).

    Runs the pruned draw of :func:`play`, so the arm frequencies must follow the exact law
    ``P(argmax_i X_i = j)``.

    Parameters
    ----------
    state : ndarray of shape (4,), uint64
        xoshiro256** state (advanced in place).
    aa, bb : ndarray of shape (n_arms,)
    n : int

    Returns
    -------
    arms : ndarray of shape (n,), int64
    """
    k = aa.shape[0]
    c = np.zeros((k, _N_COLS))
    order = np.arange(k)
    for i in range(k):
        _setup(aa[i], bb[i], c, i)
    _sort_by_mean(c, order, k)
    s = (state[0], state[1], state[2], state[3])
    out = np.empty(n, dtype=np.int64)
    for j in range(n):
        out[j], s = _ts_pick(s, c, order, k)
    state[0], state[1], state[2], state[3] = s
    return out


@jit
def beta_draws(state, aa, bb, n):
    """``n`` Beta(aa, bb) draws from the xoshiro256** ``state`` (for tests; advanced in place)."""
    c = np.zeros((1, _N_COLS))
    _setup(aa, bb, c, 0)
    s = (state[0], state[1], state[2], state[3])
    out = np.empty(n)
    for j in range(n):
        out[j], s = _beta(s, c, 0)
    state[0], state[1], state[2], state[3] = s
    return out


@jit(inline="always")
def _chernoff_hold(t, a, mean, bonus, extra, k, n_steps):
    """First step after ``t`` at which an arm's Chernoff-UCB index may reach arm ``a``'s.

    Between deliveries only ``log(1/d) = log(t + 1) / 2 = r^2`` moves, and arm ``j``'s index is
    ``mean_j + r bonus_j + r^2 extra_j``: arm ``a`` (the unique maximum at ``t``) stays the
    unique maximum while every ``D_j(r) = I_a(r) - I_j(r)``, a quadratic in ``r`` positive now,
    has no root in between. Returned conservatively (roots taken from just below the current
    ``r``, the step rounded down by a relative 1e-6 and one more): recomputing from there on
    gives the same decisions as recomputing at every step.
    """
    r0 = math.sqrt(0.5 * math.log(t + 1.0))
    floor = r0 * (1.0 - 1e-9)
    cross = math.inf
    for j in range(k):
        if j == a:
            continue
        dm = mean[a] - mean[j]
        db = bonus[a] - bonus[j]
        de = extra[a] - extra[j]
        if de == 0.0:
            if db < 0.0 and -dm / db >= floor:
                cross = min(cross, -dm / db)
            continue
        disc = db * db - 4.0 * de * dm
        if disc < 0.0:
            continue
        # Numerically stable roots q / de and dm / q.
        q = -0.5 * (db + math.copysign(math.sqrt(disc), db))
        for root in (q / de, dm / q if q != 0.0 else math.inf):
            if root >= floor:
                cross = min(cross, root)
    if 2.0 * cross * cross > 40.0:  # exp(40) steps: never within a run
        return n_steps
    return max(t + 1, int(math.expm1(2.0 * cross * cross) * (1.0 - 1e-6)) - 1)


@jit
def _play_rep(
    r,
    policy,
    n_steps,
    delay,
    lagged,
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
    """Repetition ``r`` of :func:`play` (a plain function: parfors would not help inside)."""
    k = ctr0.shape[1]
    s = _load(state, r)
    ctr = ctr0[r].copy()
    succ = np.zeros(k)
    pulls = np.zeros(k)
    p_succ = np.zeros(k)
    p_pulls = np.zeros(k)
    mean = np.zeros(k)
    bonus = np.zeros(k)
    extra = np.zeros(k)
    tied = np.zeros(k, dtype=np.int64)
    cheng = np.zeros((k, _N_COLS))
    order = np.arange(k)
    for i in range(k):
        _setup(prior_a, prior_b, cheng, i)
    # Lagged feedback: the last ``delay`` decisions in a ring, with the generation of their slot
    # (bumped at every replacement) so that a retired item's feedback is recognised and dropped.
    ring_arm = np.zeros(delay if lagged else 1, dtype=np.int64)
    ring_click = np.zeros(delay if lagged else 1)
    ring_gen = np.zeros(delay if lagged else 1, dtype=np.int64)
    slot_gen = np.zeros(k, dtype=np.int64)
    born = np.zeros(k, dtype=np.int64)  # step at which each slot's item arrived
    chernoff = policy in (CHERNOFF_UCB, CHERNOFF_UCB_AGE)
    n_tied = 0
    e = ev_offset[r]
    e_end = ev_offset[r + 1]
    best = ctr.max()
    regret = 0.0
    n_feedback = 0
    observed = 0
    total_pulls = 0.0
    dirty = True
    hold_until = 0
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
            slot_gen[j] += 1
            born[j] = t
            best = ctr.max()
            dirty = True
            e += 1
        if policy == THOMPSON:
            if dirty:
                _sort_by_mean(cheng, order, k)
                dirty = False
            a, s = _ts_pick(s, cheng, order, k)
        elif policy == UNIFORM:
            u, s = _uniform(s)
            a = min(int(u * k), k - 1)
        else:
            # The item-age clock moves every arm's index differently: recompute every step.
            if dirty or (policy == CHERNOFF_UCB and t >= hold_until) or policy == CHERNOFF_UCB_AGE:
                n_tied = 0
                untried = False
                for i in range(k):
                    if pulls[i] == 0.0 and policy != EPSILON_GREEDY:
                        tied[n_tied] = i
                        n_tied += 1
                        untried = True
                if n_tied == 0:
                    pooled_var = 0.0
                    if policy == UCB1:
                        scale = param * math.sqrt(math.log(total_pulls))
                        # The registered Ucb1's spread (0/1 rewards: m (1 - m)), floored at
                        # the spread pooled over all arms.
                        tot = 0.0
                        for i in range(k):
                            tot += succ[i]
                        pooled = tot / total_pulls
                        pooled_var = pooled * (1.0 - pooled)
                    elif policy == CHERNOFF_UCB:
                        # log(1 / delta) with delta = t ** -1/2 (t counted from 1).
                        scale = 0.5 * math.log(t + 1.0)
                    else:
                        scale = 0.0
                    top = -1e300
                    for i in range(k):
                        if policy == CHERNOFF_UCB_AGE:
                            # t of eq. (1) read as the item's age, counted from 1.
                            scale = 0.5 * math.log(t - born[i] + 1.0)
                        if chernoff:
                            index = mean[i] + math.sqrt(scale) * bonus[i] + scale * extra[i]
                        elif policy == UCB1:
                            var = max(mean[i] * (1.0 - mean[i]), pooled_var)
                            index = mean[i] + scale * bonus[i] * 2.0 * math.sqrt(var)
                        else:
                            index = mean[i] + scale * bonus[i]
                        if index > top:
                            top = index
                            n_tied = 0
                        if index == top:
                            tied[n_tied] = i
                            n_tied += 1
                dirty = False
                hold_until = t + 1
                # Far from the next delivery, find when another index can catch up.
                if policy == CHERNOFF_UCB and n_tied == 1 and not untried and next_feedback > t + 8:
                    hold_until = _chernoff_hold(t, tied[0], mean, bonus, extra, k, n_steps)
            explore = False
            if policy == EPSILON_GREEDY:
                u, s = _uniform(s)
                explore = u < param
            if explore:
                u, s = _uniform(s)
                a = min(int(u * k), k - 1)
            elif n_tied == 1:
                a = tied[0]
            else:
                u, s = _uniform(s)
                a = tied[min(int(u * n_tied), n_tied - 1)]
        regret += best - ctr[a]
        u, s = _uniform(s)
        click = 1.0 if u < ctr[a] else 0.0
        deliver = t + 1 == next_feedback
        if lagged:
            slot = t % delay
            ring_arm[slot] = a
            ring_click[slot] = click
            ring_gen[slot] = slot_gen[a]
            if deliver:
                # Decision t - delay + 1 (now the ring's next slot) becomes known.
                next_feedback += 1
                slot = (t + 1) % delay
                b = ring_arm[slot]
                if ring_gen[slot] == slot_gen[b]:
                    p_pulls[b] += 1.0
                    p_succ[b] += ring_click[slot]
        else:
            p_pulls[a] += 1.0
            p_succ[a] += click
            if deliver:
                next_feedback += delay
        if deliver:
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
                    if chernoff:
                        bonus[i] = math.sqrt(2.0 * mean[i] / pulls[i])
                        extra[i] = 2.0 / pulls[i]
                    elif policy == UCB1:
                        bonus[i] = math.sqrt(2.0 / pulls[i])
            dirty = True
    regret_out[r] = regret
    feedback_out[r] = n_feedback
    observed_out[r] = observed
    _store(state, r, s)


@jit(parallel=True)
def play(
    policy,
    n_steps,
    delay,
    lagged,
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
        Decisions per repetition and the feedback delay.
    lagged : bool
        False: the feedback of all undelivered decisions is applied after every ``delay``
        decisions (periodic batches). True: the feedback of decision ``t`` is applied right after
        decision ``t + delay - 1`` (a fixed lag), unless its slot got a new item meanwhile.
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
    n_reps = ctr0.shape[0]
    for r in prange(n_reps):
        _play_rep(
            r,
            policy,
            n_steps,
            delay,
            lagged,
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
        )
