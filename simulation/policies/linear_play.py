"""LinUCB and LinTS over consecutive batches in one compiled call (the engine's plain case).

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

__all__ = ["build"]

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
