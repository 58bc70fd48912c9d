"""Compiled search over a component space: sampling, counting, hill-climbing, exact argmax.

A score over compositions is given as a per-row unary table ``u`` of shape
(n, n_levels_total) and a shared symmetric pairwise table ``pt`` of shape
(n_levels_total, n_levels_total), zero within an axis: the score of a
composition with flat levels ``g`` is ``sum_j u[g_j] + sum_{j<k} pt[g_j, g_k]``.
Every kernel keeps to valid compositions (the space's unary and pairwise masks).

Randomness: each kernel takes one 64-bit seed drawn from the caller's
generator and runs its own splitmix64 stream per row (seed and row index),
so the result does not depend on the order rows are processed in. The kernels are serial on
purpose: numba's parallel (OpenMP) layer makes a process unsafe to fork, and the engine
forks its workers; the engine already spreads units over the cores.

numba is used directly (``njit(cache=True, nogil=True)``, as the engine's
kernels); move to ``simulation.compiled`` when it lands.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.generated.space import ComponentSpace

__all__ = [
    "count_valid",
    "exact_argmax",
    "hill_climb",
    "mean_start",
    "sample_valid",
    "score",
    "warm_climb",
]

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_MAX_TRIES = 10_000_000


@njit(cache=True, nogil=True)
def _splitmix(state: np.ndarray) -> float:
    # state is a length-1 uint64 array; returns a uniform in [0, 1).
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _sample_one(state, offsets, level_mask, pair_mask, out) -> bool:
    # Rejection from the raw product: exactly uniform over the valid compositions.
    n_axes = offsets.shape[0] - 1
    for _ in range(_MAX_TRIES):
        ok = True
        for j in range(n_axes):
            n_j = offsets[j + 1] - offsets[j]
            level = offsets[j] + min(int(_splitmix(state) * n_j), n_j - 1)
            if not level_mask[level]:
                ok = False
                break
            for k in range(j):
                if not pair_mask[level, out[k]]:
                    ok = False
                    break
            if not ok:
                break
            out[j] = level
        if ok:
            return True
    return False


@njit(cache=True, nogil=True)
def _sample_kernel(n, seed, offsets, level_mask, pair_mask):
    n_axes = offsets.shape[0] - 1
    out = np.empty((n, n_axes), dtype=np.int64)
    found = np.ones(n, dtype=np.bool_)
    for i in range(n):
        state = np.empty(1, dtype=np.uint64)
        state[0] = np.uint64(seed) + np.uint64(i) * np.uint64(0x632BE59BD9B4E019)
        g = np.empty(n_axes, dtype=np.int64)
        found[i] = _sample_one(state, offsets, level_mask, pair_mask, g)
        for j in range(n_axes):
            out[i, j] = g[j] - offsets[j]
    return out, found


def _seed(rng: np.random.Generator) -> int:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy.random.Generator; got {type(rng).__name__}.")
    return int(rng.integers(0, 2**63 - 1))


def sample_valid(space: ComponentSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """Compositions drawn uniformly from the valid ones.

    Parameters
    ----------
    space : ComponentSpace
    n : int
    rng : numpy.random.Generator

    Returns
    -------
    combos : ndarray of shape (n, n_axes), int64
    """
    out, found = _sample_kernel(
        int(n), _seed(rng), space.offsets, space.level_mask, space.pair_mask
    )
    if not found.all():
        raise ValueError("the space has no valid composition (or almost none): sampling failed.")
    return out


@njit(cache=True, nogil=True)
def _count(offsets, level_mask, pair_mask) -> int:
    n_axes = offsets.shape[0] - 1
    g = np.zeros(n_axes, dtype=np.int64)
    lev = np.full(n_axes, -1, dtype=np.int64)
    total = 0
    j = 0
    while j >= 0:
        lev[j] += 1
        if lev[j] >= offsets[j + 1] - offsets[j]:
            lev[j] = -1
            j -= 1
            continue
        level = offsets[j] + lev[j]
        if not level_mask[level]:
            continue
        ok = True
        for k in range(j):
            if not pair_mask[level, g[k]]:
                ok = False
                break
        if not ok:
            continue
        g[j] = level
        if j == n_axes - 1:
            total += 1
        else:
            j += 1
    return total


def count_valid(space: ComponentSpace) -> int:
    """Number of valid compositions, by a compiled depth-first count."""
    return int(_count(space.offsets, space.level_mask, space.pair_mask))


@njit(cache=True, nogil=True)
def _move(acc, viol, g, j, pick, pt, pair_mask, n_total) -> None:
    # Set axis j to level pick, keeping acc and viol those of the new composition.
    cur = g[j]
    for m in range(n_total):
        acc[m] += pt[pick, m] - pt[cur, m]
        viol[m] += (0 if pair_mask[pick, m] else 1) - (0 if pair_mask[cur, m] else 1)
    g[j] = pick


@njit(cache=True, nogil=True)
def _repair(acc, viol, g, pt, offsets, pair_mask) -> bool:
    # The best improving two-axis move out of a constraint's trap, applied; False when
    # none improves. A level a of axis j forbidden by one set level only (axis k's) is
    # tried with k's best level valid beside a and the others. Coordinate ascent cannot
    # make that move, as each half alone is invalid or worse: with English-only search
    # keywords, a Korean speaker's climb from "English copy with their search" never
    # reaches "Korean copy without it" (Korean copy with the keyword is invalid, and
    # dropping the keyword from English copy loses), however much better that is.
    n_axes = offsets.shape[0] - 1
    best_gain = 1e-12
    bj, bk, ba, bb = 0, 0, 0, 0
    for j in range(n_axes):
        gj = g[j]
        for a in range(offsets[j], offsets[j + 1]):
            if viol[a] != 1:
                continue
            k = n_axes
            for t in range(n_axes):
                if t != j and not pair_mask[g[t], a]:
                    k = t
                    break
            if k == n_axes:
                continue  # forbidden by the unary mask, not by a set level
            gk = g[k]
            # Score change of (j, k) -> (a, b): the terms of a and b given the other
            # axes, plus their own pair, minus those of gj and gk.
            base = acc[a] - pt[gk, a] - (acc[gj] + acc[gk] - pt[gj, gk])
            for b in range(offsets[k], offsets[k + 1]):
                if not pair_mask[a, b] or viol[b] - (0 if pair_mask[gj, b] else 1) != 0:
                    continue
                gain = base + acc[b] - pt[gj, b] + pt[a, b]
                if gain > best_gain:
                    best_gain = gain
                    bj, bk, ba, bb = j, k, np.int64(a), np.int64(b)
    if best_gain <= 1e-12:
        return False
    n_total = offsets[n_axes]
    _move(acc, viol, g, bj, ba, pt, pair_mask, n_total)
    _move(acc, viol, g, bk, bb, pt, pair_mask, n_total)
    return True


@njit(cache=True, nogil=True)
def _ascend(acc, viol, g, u, pt, offsets, pair_mask, max_sweeps) -> float:
    # Coordinate ascent from the valid composition g (flat levels): acc[m] is the score
    # of level m given the others (unary + pairwise with every set level), viol[m] how
    # many set levels forbid m. Each axis takes its best valid level in turn until a
    # sweep changes nothing; then the best two-axis move out of a constraint's trap
    # (_repair) is made, if one improves, and the ascent goes on (at most max_sweeps
    # such rounds). Returns the composition's score.
    n_axes = offsets.shape[0] - 1
    for _round in range(max_sweeps):
        _sweeps(acc, viol, g, pt, offsets, pair_mask, max_sweeps)
        if not _repair(acc, viol, g, pt, offsets, pair_mask):
            break
    total = 0.0
    for j in range(n_axes):
        m = np.uint64(g[j])
        total += 0.5 * (acc[m] + u[m])
    return total


@njit(cache=True, nogil=True)
def _sweeps(acc, viol, g, pt, offsets, pair_mask, max_sweeps) -> None:
    # Single-axis coordinate ascent of g until no axis changes (or max_sweeps sweeps).
    # Indices are unsigned (offsets too): numba then skips the negative-index
    # wraparound on every access (about 15 % of the climb).
    n_axes = offsets.shape[0] - 1
    n_total = offsets[n_axes]
    # Axes in a row (cyclically) known to be at their best given the others: once all
    # are, no later scan can change anything, so the climb stops there instead of at
    # the end of a full sweep without change (the same composition, fewer scans).
    # An axis that just moved is at its best: its own levels' acc do not change (pt is
    # zero within an axis) and no level beat its pick by more than the tolerance.
    stable = 0
    for _sweep in range(max_sweeps):
        for j in range(n_axes):
            cur = np.uint64(g[j])
            pick = cur
            value = acc[cur]
            # Most scans change nothing: first count, without a branch per level, the
            # valid levels that beat the current one; only if some do, pick the best
            # (the first to beat the running best by the tolerance, as always).
            threshold = value + 1e-12
            better = 0
            for m in range(offsets[j], offsets[j + 1]):
                better += (viol[m] == 0) & (acc[m] > threshold)
            if better:
                for m in range(offsets[j], offsets[j + 1]):
                    if viol[m] == 0 and acc[m] > value + 1e-12:
                        pick = m
                        value = acc[m]
            if pick != cur:
                for m in range(n_total):
                    acc[m] += pt[pick, m] - pt[cur, m]
                    viol[m] += (0 if pair_mask[pick, m] else 1) - (0 if pair_mask[cur, m] else 1)
                g[j] = pick
                stable = 1
            else:
                stable += 1
            if stable >= n_axes:
                break
        if stable >= n_axes:
            break


@njit(cache=True, nogil=True)
def _start_tables(g, pt, offsets, level_mask, pair_mask):
    # The pairwise part of acc and the violation counts of composition g (flat levels).
    n_axes = offsets.shape[0] - 1
    n_total = offsets[n_axes]
    acc = np.zeros(n_total)
    viol = np.empty(n_total, dtype=np.int64)
    for m in range(n_total):
        viol[m] = 0 if level_mask[m] else 1
    for k in range(n_axes):
        gk = g[k]
        # Rows, not columns: both tables are symmetric and rows are contiguous.
        for m in range(n_total):
            acc[m] += pt[gk, m]
            if not pair_mask[gk, m]:
                viol[m] += 1
    return acc, viol


@njit(cache=True, nogil=True)
def _climb_one(u, pt, offsets, level_mask, pair_mask, n_restarts, max_sweeps, state, best_g):
    n_axes = offsets.shape[0] - 1
    n_total = offsets[n_axes]
    g = np.empty(n_axes, dtype=np.int64)
    uoffsets = offsets.astype(np.uint64)
    best = -np.inf
    for _ in range(n_restarts):
        if not _sample_one(state, offsets, level_mask, pair_mask, g):
            return -np.inf
        acc, viol = _start_tables(g, pt, offsets, level_mask, pair_mask)
        for m in range(n_total):
            acc[m] += u[m]
        total = _ascend(acc, viol, g, u, pt, uoffsets, pair_mask, max_sweeps)
        if total > best:
            best = total
            for j in range(n_axes):
                best_g[j] = g[j]
    return best


@njit(cache=True, nogil=True)
def _climb_kernel(u, pt, offsets, level_mask, pair_mask, n_restarts, max_sweeps, seed):
    n = u.shape[0]
    n_axes = offsets.shape[0] - 1
    out = np.empty((n, n_axes), dtype=np.int64)
    scores = np.empty(n)
    for i in range(n):
        state = np.empty(1, dtype=np.uint64)
        state[0] = np.uint64(seed) + np.uint64(i) * np.uint64(0x632BE59BD9B4E019)
        g = np.zeros(n_axes, dtype=np.int64)
        scores[i] = _climb_one(
            u[i], pt, offsets, level_mask, pair_mask, n_restarts, max_sweeps, state, g
        )
        for j in range(n_axes):
            out[i, j] = g[j] - offsets[j]
    return out, scores


@njit(cache=True, nogil=True)
def _warm_kernel(u, pt, offsets, level_mask, pair_mask, start, max_sweeps):
    # Every row climbs from the same valid start: its pairwise sums and violation
    # counts are computed once and copied, so a row costs its sweeps only.
    n = u.shape[0]
    n_axes = offsets.shape[0] - 1
    n_total = offsets[n_axes]
    acc0, viol0 = _start_tables(start, pt, offsets, level_mask, pair_mask)
    uoffsets = offsets.astype(np.uint64)
    out = np.empty((n, n_axes), dtype=np.int64)
    scores = np.empty(n)
    acc = np.empty(n_total)
    viol = np.empty(n_total, dtype=np.int64)
    g = np.empty(n_axes, dtype=np.uint64)
    for i in range(n):
        for m in range(n_total):
            acc[m] = acc0[m] + u[i, m]
            viol[m] = viol0[m]
        for j in range(n_axes):
            g[j] = start[j]
        scores[i] = _ascend(acc, viol, g, u[i], pt, uoffsets, pair_mask, max_sweeps)
        for j in range(n_axes):
            out[i, j] = g[j] - uoffsets[j]
    return out, scores


@njit(cache=True, nogil=True)
def _flat_if_valid(combo, offsets, level_mask, pair_mask):
    # The flat levels of one composition (level per axis), or None when a level is
    # out of range or the composition breaks a constraint.
    n_axes = offsets.shape[0] - 1
    g = np.empty(n_axes, dtype=np.int64)
    for j in range(n_axes):
        if combo[j] < 0 or combo[j] >= offsets[j + 1] - offsets[j]:
            return None
        g[j] = offsets[j] + combo[j]
        if not level_mask[g[j]]:
            return None
        for k in range(j):
            if not pair_mask[g[j], g[k]]:
                return None
    return g


def _check_tables(space: ComponentSpace, u: np.ndarray, pt: np.ndarray):
    u = np.ascontiguousarray(u, dtype=np.float64)
    pt = np.ascontiguousarray(pt, dtype=np.float64)
    total = space.n_levels_total
    if u.ndim != 2 or u.shape[1] != total:
        raise ValueError(f"`u` must have shape (n, {total}); got {u.shape}.")
    if pt.shape != (total, total):
        raise ValueError(f"`pt` must have shape ({total}, {total}); got {pt.shape}.")
    return u, pt


def hill_climb(
    space: ComponentSpace,
    u: np.ndarray,
    pt: np.ndarray,
    rng: np.random.Generator,
    *,
    n_restarts: int = 2,
    max_sweeps: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate ascent from random valid starts, the best of the restarts per row.

    Each sweep sets every axis in turn to its best level given the others,
    among the levels valid with them, until a sweep changes nothing; then the
    best improving two-axis move out of a constraint's trap is made (a level of
    one axis forbidden only by another axis's current level, taken together with
    that axis's best level valid beside it), and the sweeps go on.

    Parameters
    ----------
    space : ComponentSpace
    u : ndarray of shape (n, n_levels_total)
    pt : ndarray of shape (n_levels_total, n_levels_total)
        Symmetric, zero within an axis.
    rng : numpy.random.Generator
    n_restarts : int, default 2
    max_sweeps : int, default 10

    Returns
    -------
    combos : ndarray of shape (n, n_axes), int64
    scores : ndarray of shape (n,)
    """
    u, pt = _check_tables(space, u, pt)
    if n_restarts < 1 or max_sweeps < 1:
        raise ValueError("`n_restarts` and `max_sweeps` must be ints >= 1.")
    return _climb_kernel(
        u, pt, space.offsets, space.level_mask, space.pair_mask, n_restarts, max_sweeps, _seed(rng)
    )


def warm_climb(
    space: ComponentSpace,
    u: np.ndarray,
    pt: np.ndarray,
    start: np.ndarray,
    *,
    max_sweeps: int = 10,
    n_threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate ascent of every row from one shared valid start.

    The cheap search of ``mvt_ts`` on large spaces: the start (the best
    composition for the batch's mean scores) is already good for most rows, so
    each row only moves the axes where its own scores differ.

    Parameters
    ----------
    space : ComponentSpace
    u : ndarray of shape (n, n_levels_total)
    pt : ndarray of shape (n_levels_total, n_levels_total)
        Symmetric, zero within an axis.
    start : ndarray of shape (n_axes,), int
        A valid composition (level index per axis).
    max_sweeps : int, default 10
    n_threads : int, default 1
        Rows are split into this many contiguous blocks, each climbed by the serial
        kernel in its own Python thread (it releases the GIL). Threads are started
        and joined within the call, so no pool outlives it: the engine forks its
        workers, and a forked child inherits no threads. The result does not
        depend on the split (rows are independent).

    Returns
    -------
    combos : ndarray of shape (n, n_axes), int64
        Each a local optimum: no single-axis valid change raises its score, nor
        a two-axis move out of a constraint's trap (see :func:`hill_climb`).
    scores : ndarray of shape (n,)
    """
    u, pt = _check_tables(space, u, pt)
    start = np.asarray(start, dtype=np.int64).reshape(space.n_axes)
    # Compiled: mvt_ts checks two starts per batch, and ComponentSpace.is_valid's
    # numpy pass per pair of axes cost 0.17 ms each (a fifth of a batch).
    flat = _flat_if_valid(start, space.offsets, space.level_mask, space.pair_mask)
    if flat is None:
        raise ValueError("`start` must be a valid composition.")
    if max_sweeps < 1:
        raise ValueError("`max_sweeps` must be an int >= 1.")
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ValueError(f"`n_threads` must be an int >= 1; got {n_threads!r}.")
    args = (pt, space.offsets, space.level_mask, space.pair_mask, flat, max_sweeps)
    n = u.shape[0]
    # Below a few hundred rows per thread, starting a thread costs more than it saves.
    n_threads = min(n_threads, max(1, n // 256))
    if n_threads == 1:
        return _warm_kernel(u, *args)
    import itertools
    import threading

    bounds = np.linspace(0, n, n_threads + 1).astype(np.int64)
    combos = np.empty((n, space.n_axes), dtype=np.int64)
    scores = np.empty(n)

    def run(lo: int, hi: int) -> None:
        combos[lo:hi], scores[lo:hi] = _warm_kernel(u[lo:hi], *args)

    blocks = list(itertools.pairwise(bounds.tolist()))
    threads = [threading.Thread(target=run, args=block) for block in blocks[1:]]
    for t in threads:
        t.start()
    run(0, int(bounds[1]))  # the calling thread takes the first block
    for t in threads:
        t.join()
    return combos, scores


@njit(cache=True, nogil=True)
def _start_kernel(u, pt, offsets, level_mask, pair_mask, n_restarts, max_sweeps, seed, previous):
    # hill_climb of the one row u (n_restarts, max_sweeps, seed), then warm_climb of it
    # from `previous` (flat levels; empty for none, 10 sweeps); the better one's flat
    # levels, or an empty array when no climb found a valid composition.
    n_axes = offsets.shape[0] - 1
    n_total = offsets[n_axes]
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)  # row 0's stream, as in _climb_kernel
    best_g = np.zeros(n_axes, dtype=np.int64)
    value = _climb_one(u, pt, offsets, level_mask, pair_mask, n_restarts, max_sweeps, state, best_g)
    found = value > -np.inf
    if previous.shape[0]:
        acc, viol = _start_tables(previous, pt, offsets, level_mask, pair_mask)
        for m in range(n_total):
            acc[m] += u[m]
        g = previous.astype(np.uint64)
        again = _ascend(acc, viol, g, u, pt, offsets.astype(np.uint64), pair_mask, 10)
        if again > value:
            found = True
            for j in range(n_axes):
                best_g[j] = g[j]
    if not found:
        return np.empty(0, dtype=np.int64)
    return best_g


def mean_start(
    space: ComponentSpace,
    u: np.ndarray,
    pt: np.ndarray,
    rng: np.random.Generator,
    previous: np.ndarray | None = None,
    *,
    n_restarts: int = 8,
    max_sweeps: int = 10,
) -> np.ndarray:
    """The start of ``mvt_ts``'s climbs: the better of a restarted climb and a warm one.

    In one compiled call, what :func:`hill_climb` (``n_restarts``, ``max_sweeps``,
    one seed from ``rng``) and then :func:`warm_climb` from ``previous`` (10 sweeps)
    give for the one row ``u``, the warm one kept only when it scores higher.

    Parameters
    ----------
    space : ComponentSpace
    u : ndarray of shape (1, n_levels_total)
        The batch's mean unary scores.
    pt : ndarray of shape (n_levels_total, n_levels_total)
    rng : numpy.random.Generator
    previous : ndarray of shape (n_axes,), int, or None
        The previous batch's start (a valid composition), if any.
    n_restarts, max_sweeps : int, default 8, 10

    Returns
    -------
    start : ndarray of shape (n_axes,), int64
        A valid composition (level per axis).
    """
    u, pt = _check_tables(space, u, pt)
    if u.shape[0] != 1:
        raise ValueError(f"`u` must have one row; got {u.shape[0]}.")
    if n_restarts < 1 or max_sweeps < 1:
        raise ValueError("`n_restarts` and `max_sweeps` must be ints >= 1.")
    seed = _seed(rng)
    if previous is None:
        flat = np.empty(0, dtype=np.int64)
    else:
        previous = np.asarray(previous, dtype=np.int64).reshape(space.n_axes)
        flat = _flat_if_valid(previous, space.offsets, space.level_mask, space.pair_mask)
        if flat is None:
            raise ValueError("`previous` must be a valid composition.")
    g = _start_kernel(
        u[0], pt, space.offsets, space.level_mask, space.pair_mask, n_restarts, max_sweeps,
        seed, flat,
    )  # fmt: skip
    if not g.size:
        raise ValueError("the space has no valid composition (or almost none): the climb failed.")
    return g - space.offsets[:-1]


@njit(cache=True, nogil=True)
def _exact_one(u, pt, offsets, level_mask, pair_mask, best, best_g):
    n_axes = offsets.shape[0] - 1
    # Upper bound of axis j's contribution: its unary plus, for every pair with an
    # earlier axis, the largest pairwise term (pairs are charged to the later axis).
    suffix = np.zeros(n_axes + 1)
    for j in range(n_axes - 1, -1, -1):
        bound = -np.inf
        for m in range(offsets[j], offsets[j + 1]):
            if not level_mask[m]:
                continue
            v = u[m]
            for k in range(j):
                top = -np.inf
                for q in range(offsets[k], offsets[k + 1]):
                    if level_mask[q] and pair_mask[m, q] and pt[m, q] > top:
                        top = pt[m, q]
                v += top
            if v > bound:
                bound = v
        suffix[j] = suffix[j + 1] + bound
    g = np.zeros(n_axes, dtype=np.int64)
    lev = np.full(n_axes, -1, dtype=np.int64)
    partial = np.zeros(n_axes + 1)
    j = 0
    while j >= 0:
        lev[j] += 1
        if lev[j] >= offsets[j + 1] - offsets[j]:
            lev[j] = -1
            j -= 1
            continue
        m = offsets[j] + lev[j]
        if not level_mask[m]:
            continue
        s = partial[j] + u[m]
        ok = True
        for k in range(j):
            if not pair_mask[m, g[k]]:
                ok = False
                break
            s += pt[m, g[k]]
        if not ok or s + suffix[j + 1] <= best:
            continue
        g[j] = m
        if j == n_axes - 1:
            best = s
            for k in range(n_axes):
                best_g[k] = g[k]
        else:
            partial[j + 1] = s
            j += 1
    return best


@njit(cache=True, nogil=True)
def _exact_kernel(u, pt, offsets, level_mask, pair_mask, init, init_scores):
    n = u.shape[0]
    n_axes = offsets.shape[0] - 1
    out = np.empty((n, n_axes), dtype=np.int64)
    scores = np.empty(n)
    for i in range(n):
        g = np.empty(n_axes, dtype=np.int64)
        for j in range(n_axes):
            g[j] = init[i, j] + offsets[j]
        scores[i] = _exact_one(u[i], pt, offsets, level_mask, pair_mask, init_scores[i], g)
        for j in range(n_axes):
            out[i, j] = g[j] - offsets[j]
    return out, scores


def exact_argmax(
    space: ComponentSpace, u: np.ndarray, pt: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The best valid composition per row, exactly (branch and bound).

    A hill-climb gives the first incumbent; a depth-first search then visits only
    the branches whose optimistic bound beats it, so the answer is exact.

    Parameters
    ----------
    space : ComponentSpace
    u : ndarray of shape (n, n_levels_total)
    pt : ndarray of shape (n_levels_total, n_levels_total)
    rng : numpy.random.Generator
        For the incumbent's restarts only.

    Returns
    -------
    combos : ndarray of shape (n, n_axes), int64
    scores : ndarray of shape (n,)
    """
    init, init_scores = hill_climb(space, u, pt, rng)
    u, pt = _check_tables(space, u, pt)
    # Lower the incumbent a hair so an equal-score composition is still confirmed exactly.
    return _exact_kernel(
        u, pt, space.offsets, space.level_mask, space.pair_mask, init, init_scores - 1e-9
    )


def score(space: ComponentSpace, u: np.ndarray, pt: np.ndarray, combos: np.ndarray) -> np.ndarray:
    """The score of each row's composition.

    Parameters
    ----------
    space : ComponentSpace
    u : ndarray of shape (n, n_levels_total)
    pt : ndarray of shape (n_levels_total, n_levels_total)
    combos : ndarray of shape (n, n_axes)

    Returns
    -------
    scores : ndarray of shape (n,)
    """
    g = space.flat(combos)
    s = np.take_along_axis(np.asarray(u), g, axis=1).sum(axis=1)
    for j in range(space.n_axes):
        for k in range(j + 1, space.n_axes):
            s = s + pt[g[:, j], g[:, k]]
    return s
