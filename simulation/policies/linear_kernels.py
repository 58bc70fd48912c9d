"""The compiled loops of the linear policies, and LinUCB/LinTS over a chunk in one call.

Every loop the linear policies compile lives in this one file on purpose:
numba's disk cache is invalidated by a change to the compiled function's own
source file only, and the whole-chunk loop below calls the others. Split over
two files, a change to a kernel left the chunk loop's cached machine code (with
the old kernel inlined) in use; an upgrade in place then ran the old arithmetic.

``_score_loop``, ``_alias_loop``, ``_accumulate_loop`` and ``_refresh_loop`` are
what :class:`~simulation.policies.linear.LinUCB` and
:class:`~simulation.policies.linear.LinTS` call per batch (see
:mod:`simulation.policies.linear` for the math); each is compiled by numba and
never run uncompiled, and the numpy references in tests/reference/linear.py
hold them to the math.

The chunk loop (the engine's plain case):

For each batch the loop does what ``select`` then ``update`` of
:class:`~simulation.policies.linear.LinUCB` or
:class:`~simulation.policies.linear.LinTS` do with the compiled kernels of
:mod:`simulation.policies.linear`: gather the batch's contexts, score and pick
(LinTS with one standard normal per arm and row; ties broken by one uniform per
row), learn the click of the shown arm, add the batch to the touched arms and
re-invert them. The caller draws the chunk's normals and uniforms from the
policy's generator in the order ``select`` would. What the loop saves is the
Python around those kernels: about 60 us a batch, which in the app's default
experiment is 2,700 batches.

:func:`build` compiles the loop against the compiled kernels it is given (numba
resolves them as this module's globals, so the result is cached on disk like
the kernels themselves).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

__all__ = ["TIE_TOLERANCE", "build"]

#: Scores within this of a row's best are ties, broken uniformly at random.
TIE_TOLERANCE = 1e-12

# The compiled kernels, set by build() before the loop is compiled.
SCORE = None
ACCUMULATE = None
REFRESH = None
ALIAS = None


def build(kernels: SimpleNamespace, njit):
    """Compile :func:`_play_linear_loop` against ``kernels`` (the numba ones).

    Parameters
    ----------
    kernels : SimpleNamespace
        ``score``, ``accumulate`` and ``refresh`` dispatchers.
    njit : callable
        ``numba.njit`` with the caller's options.

    Returns
    -------
    play_linear : numba dispatcher
    """
    global SCORE, ACCUMULATE, REFRESH, ALIAS
    SCORE, ACCUMULATE, REFRESH = kernels.score, kernels.accumulate, kernels.refresh
    ALIAS = kernels.alias
    return njit(_play_linear_loop)


def _play_linear_loop(
    ctx_table, ctx_rows, offsets, keys, ctr, click_u, policy_u, noise, scale, A, b, A_inv,
    theta, packed, moments, shown,
):  # fmt: skip  # pragma: no cover - compiled; tested against select/update
    """Play the batches ``offsets[j]:offsets[j + 1]`` of a chunk.

    Parameters
    ----------
    ctx_table : ndarray of shape (n_table, d)
        Contexts; row ``ctx_rows[i]`` is impression ``i``'s.
    ctx_rows, keys : ndarray of shape (n_rows,), int64
        Context row and truth row of each impression.
    offsets : ndarray of shape (n_batches + 1,), int64
    ctr : ndarray of shape (n_truth_rows * n_arms,)
        Expected click probabilities, raveled.
    click_u, policy_u : ndarray of shape (n_rows,)
        The response's click uniforms and the policy generator's uniforms.
    noise : ndarray of shape (n_arms, n_rows) or (0, 0)
        LinTS's standard normals, column ``i`` for impression ``i``; (0, 0) for LinUCB.
    scale : float
        LinUCB's ``alpha`` or LinTS's ``v``; each batch multiplies it by the
        pooled standard deviation of the rewards seen
        (:func:`simulation.policies.linear.noise_sd` of ``moments``).
    A, b, A_inv, theta, packed : ndarray
        The policy's state (see :class:`simulation.policies.linear._Linear`), updated in place.
    moments : ndarray of shape (3,)
        (n, sum, sum of squares) of the rewards seen, updated in place.
    shown : ndarray of shape (n_rows,), int64
        Output: the arm shown at each impression.
    """
    k, d = b.shape
    largest = 0
    for j in range(offsets.shape[0] - 1):
        largest = max(largest, offsets[j + 1] - offsets[j])
    x_buf = np.empty((largest, d))
    r_buf = np.empty(largest)
    a_buf = np.empty(largest, dtype=np.int64)
    touched = np.zeros(k, dtype=np.bool_)
    failed = np.zeros(k, dtype=np.bool_)
    none = np.empty((0, 0))
    alias = np.empty(k, dtype=np.int64)
    ALIAS(packed, theta, alias)
    for j in range(offsets.shape[0] - 1):
        lo, hi = offsets[j], offsets[j + 1]
        n = hi - lo
        x = x_buf[:n]
        for i in range(n):
            row = ctx_rows[lo + i]
            for f in range(d):
                x[i, f] = ctx_table[row, f]
        arms = a_buf[:n]
        # A (0, 0) noise slices to (0, 0): the kernel then scores without noise.
        sd = 1.0
        if moments[0] >= 2.0:
            mean = moments[1] / moments[0]
            sd = math.sqrt(max(moments[2] / moments[0] - mean * mean, 0.0))
        width = scale * sd
        SCORE(x, packed, theta, alias, width, noise[:, lo:hi], policy_u[lo:hi], arms, none, none)
        rewards = r_buf[:n]
        for i in range(n):
            a = arms[i]
            shown[lo + i] = a
            rewards[i] = 1.0 if click_u[lo + i] < ctr[keys[lo + i] * k + a] else 0.0
        total = 0.0
        for i in range(n):
            total += rewards[i]
        moments[0] += n
        moments[1] += total
        moments[2] += total  # 0/1 rewards: the squares sum to the same
        touched[:] = False
        ACCUMULATE(x, arms, rewards, A, b, touched)
        failed[:] = False
        REFRESH(A, b, touched, A_inv, theta, packed, failed)
        for a in range(k):
            if failed[a]:
                # Cholesky met a non-positive pivot (a tiny ridge): a general inverse,
                # as LinUCB._refresh falls back to.
                inv = np.linalg.inv(A[a])
                p = 0
                for i in range(d):
                    s = 0.0
                    for f in range(d):
                        A_inv[a, i, f] = inv[i, f]
                        s += inv[i, f] * b[a, f]
                    theta[a, i] = s
                    packed[a, p] = inv[i, i]
                    for f in range(i + 1, d):
                        packed[a, p + f - i] = 2.0 * inv[i, f]
                    p += d - i
        ALIAS(packed, theta, alias)


def _score_loop(x, packed, theta, alias, scale, noise, u, arms, mean, quad):
    """Score the rows of ``x`` (n, d); pick an arm per row and/or keep the parts.

    For each row and arm: ``mean = x.theta_k``, ``quad = x^T A_k^-1 x`` (from
    ``packed``, (K, m) float32) and score ``mean + scale sqrt(quad) z``, with
    ``z = noise[k, i]``, or 1 when ``noise`` is (0, 0). When ``arms`` has n
    entries it receives each row's best arm, ties (scores within
    TIE_TOLERANCE of the best) going to the ``floor(u[i] * n_ties)``-th tied
    arm. When ``mean`` and ``quad`` are (K, n) they receive the parts;
    arguments not wanted are empty. Arm ``k`` takes the mean and quadratic
    form of arm ``alias[k]`` (an arm in the same state, see :func:`_alias_loop`).

    Rows go in blocks of 64 so that a block's products, GEMM results and
    scores stay in cache from being written to being read.
    """
    n, d = x.shape
    n_arms, m = packed.shape
    noisy = noise.shape[0] > 0
    xt = np.zeros((d, 64))
    products = np.empty((m, 64), dtype=packed.dtype)
    q = np.empty((n_arms, 64), dtype=packed.dtype)
    mu = np.empty((n_arms, 64))
    score = np.empty((n_arms, 64))
    best = np.empty(64)
    ties = np.empty(64, dtype=np.int64)
    for i0 in range(0, n, 64):
        nb = min(64, n - i0)
        for i in range(nb):
            for j in range(d):
                xt[j, i] = x[i0 + i, j]
        p = 0
        for j in range(d):
            for jj in range(j, d):
                for i in range(64):
                    products[p, i] = xt[j, i] * xt[jj, i]
                p += 1
        # Written out rather than np.dot (a BLAS call): each entry sums in one
        # fixed order, so a seed gives the same decisions on every CPU (a BLAS
        # picks its kernel, and so its summation order, per processor). The
        # innermost loop runs along the block's rows and vectorizes.
        q[:, :] = 0.0
        mu[:, :] = 0.0
        # Term by term across all arms: each row of products is read once per
        # block, while every (arm, row) entry still sums its terms in order.
        for p in range(m):
            for k in range(n_arms):
                c = packed[k, p]
                for i in range(64):
                    q[k, i] += c * products[p, i]
        for k in range(n_arms):
            for j in range(d):
                c = theta[k, j]
                for i in range(64):
                    mu[k, i] += c * xt[j, i]
        # Arms in one state copy one arm's results, so they tie exactly.
        for k in range(n_arms):
            a = alias[k]
            if a != k:
                for i in range(nb):
                    q[k, i] = q[a, i]
                    mu[k, i] = mu[a, i]
        if mean.shape[0] == n_arms and mean.shape[1] == n:
            for k in range(n_arms):
                for i in range(nb):
                    quad[k, i0 + i] = q[k, i]
                    mean[k, i0 + i] = mu[k, i]
        if arms.shape[0] != n:
            continue
        # The loops run along rows so that they vectorize; only rows with a
        # tie take the slow path.
        best[:] = -np.inf
        for k in range(n_arms):
            for i in range(nb):
                w = scale * math.sqrt(max(q[k, i], 0.0))
                if noisy:
                    w *= noise[k, i0 + i]
                s = mu[k, i] + w
                score[k, i] = s
                if s > best[i]:
                    best[i] = s
                    arms[i0 + i] = k
        ties[:] = 0
        for k in range(n_arms):
            for i in range(nb):
                if score[k, i] >= best[i] - TIE_TOLERANCE:
                    ties[i] += 1
        for i in range(nb):
            if ties[i] > 1:
                rank = min(int(u[i0 + i] * ties[i]), ties[i] - 1)
                for k in range(n_arms):
                    if score[k, i] >= best[i] - TIE_TOLERANCE:
                        if rank == 0:
                            arms[i0 + i] = k
                            break
                        rank -= 1


def _alias_loop(packed, theta, alias):
    """Write to ``alias`` (K,) the first arm whose ``packed`` and ``theta`` rows equal each arm's.

    Arms in identical states (every arm before any data, arms forgotten back to
    the prior) then score identically bit for bit, whatever the BLAS does with
    their positions, so their exact ties stay exact. Comparisons stop at the
    first differing entry: O(K^2) for distinct arms.
    """
    n_arms, m = packed.shape
    d = theta.shape[1]
    for k in range(n_arms):
        alias[k] = k
        for j in range(k):
            if alias[j] != j:
                continue
            same = True
            for p in range(m):
                if packed[k, p] != packed[j, p]:
                    same = False
                    break
            if same:
                for p in range(d):
                    if theta[k, p] != theta[j, p]:
                        same = False
                        break
            if same:
                alias[k] = j
                break


def _accumulate_loop(x, arms, rewards, A, b, touched):
    """Add each row's x x^T and r x to its arm; mark the arms that changed.

    Rows are counting-sorted by arm so that each arm's sum is one GEMM,
    ``X_k^T X_k``, rather than a rank-one update per row. This one product stays
    with the BLAS (written out it ran 13 times slower): its rounding can differ
    by processor in the last bit of the regression state, far below any gap
    between two arms' scores; the scores themselves, where a near-tie is
    decided, are summed in one fixed order (:func:`_score_loop`).
    """
    n, d = x.shape
    n_arms = A.shape[0]
    starts = np.zeros(n_arms + 1, dtype=np.int64)
    for i in range(n):
        starts[arms[i] + 1] += 1
    for k in range(n_arms):
        starts[k + 1] += starts[k]
    fill = starts[:n_arms].copy()
    xs = np.empty((n, d))
    for i in range(n):
        k = arms[i]
        f = fill[k]
        r = rewards[i]
        for j in range(d):
            xs[f, j] = x[i, j]
            b[k, j] += r * x[i, j]
        fill[k] = f + 1
    for k in range(n_arms):
        lo, hi = starts[k], starts[k + 1]
        if hi > lo:
            touched[k] = True
            xk = xs[lo:hi]
            gram = np.dot(xk.T, xk)
            for j in range(d):
                for jj in range(d):
                    A[k, j, jj] += gram[j, jj]


def _refresh_loop(A, b, touched, A_inv, theta, packed, failed):
    """Re-invert the touched arms by Cholesky: A^-1 = L^-T L^-1.

    An arm whose pivot is not positive (rounding with a tiny ridge) is marked
    in ``failed`` and left for the caller's general inverse.
    """
    n_arms, d = b.shape
    L = np.zeros((d, d))
    U = np.zeros((d, d))
    # 1 / L[j, j]: multiplying by it is much cheaper than the ~d^2 divisions.
    recip = np.empty(d)
    for k in range(n_arms):
        if not touched[k]:
            continue
        ok = True
        for j in range(d):
            s = A[k, j, j]
            for p in range(j):
                s -= L[j, p] * L[j, p]
            if not s > 0.0:
                ok = False
                break
            L[j, j] = math.sqrt(s)
            recip[j] = 1.0 / L[j, j]
            for i in range(j + 1, d):
                s = A[k, i, j]
                for p in range(j):
                    s -= L[i, p] * L[j, p]
                L[i, j] = s * recip[j]
        if not ok:
            failed[k] = True
            continue
        # U = L^-T (upper triangular), row c of U being column c of L^-1, by
        # forward substitution; every inner sum then runs along contiguous rows.
        for c in range(d):
            U[c, c] = recip[c]
            for i in range(c + 1, d):
                s = 0.0
                for p in range(c, i):
                    s -= L[i, p] * U[c, p]
                U[c, i] = s * recip[i]
        # A^-1 = L^-T L^-1 = U U^T.
        for i in range(d):
            for j in range(i, d):
                s = 0.0
                for p in range(j, d):
                    s += U[i, p] * U[j, p]
                A_inv[k, i, j] = s
                A_inv[k, j, i] = s
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += A_inv[k, i, j] * b[k, j]
            theta[k, i] = s
        p = 0
        for i in range(d):
            packed[k, p] = A_inv[k, i, i]
            for j in range(i + 1, d):
                packed[k, p + j - i] = 2.0 * A_inv[k, i, j]
            p += d - i
