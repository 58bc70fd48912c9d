"""Compiled (numba) loops of the context-free policies.

Two kernels, each the exact counterpart of numpy code elsewhere in the
package, which is the reference the tests hold them to:

- :func:`beta_prob_best` is :func:`simulation.policies.prob_best.prob_best_beta`
  (the same grid, the same trapezoid-carried CDFs, the same leave-one-out
  products) in one compiled pass, with no temporaries;
- :func:`play_counting` plays whole batches of impressions for ``uniform``,
  ``epsilon_greedy``, ``ucb1`` or ``thompson``: each batch's action
  distribution from the per-arm counts, one categorical draw per row from
  uniforms the caller drew from the policy's generator (as
  ``_Counting._select_from`` does), the click against the expectations, and the
  counts updated after the batch. This is what the engine runs for those
  policies in the plain case (CTR objective, no budget, no delay, no log), so a
  batch costs a few microseconds instead of tens of Python-level calls.

The Beta functions come from scipy's ``cython_special`` through symbols
registered with LLVM by :func:`load` (which must run before the first call),
so numba can cache the compiled code on disk. :func:`load` raises ImportError
when scipy does not export the functions.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import types

from simulation.compiled import KernelCode, jit

__all__ = ["CODES", "POLICY_CODES", "beta_prob_best", "load", "play_counting"]

#: The policies :func:`play_counting` implements.
CODES = (KernelCode.UNIFORM, KernelCode.EPSILON_GREEDY, KernelCode.UCB1, KernelCode.THOMPSON)
#: Backward-compatible view of :data:`CODES` by registry name (the engine's routes read it).
POLICY_CODES = {code.policy_name: int(code) for code in CODES}
_UNIFORM, _EPSILON, _UCB1, _THOMPSON = (int(code) for code in CODES)

# Constants of simulation.policies.prob_best (kept equal by a test).
_TAIL = 1e-10
_GRID_BUDGET = 480
_MIN_POINTS = 16
_TAIL_Z = np.array([8.0, 10.0, 12.5, 16.0, 21.0, 28.0, 36.0, 45.0])

# scipy.special.cython_special exports (double precision), by the names the
# kernels link against. The trailing int is Cython's ``__pyx_skip_dispatch``.
_SYMBOLS = {
    "adlab_betainc": "__pyx_fuse_0betainc",
    "adlab_betaincinv": "__pyx_fuse_0betaincinv",
    "adlab_betaln": "betaln",
}
_betainc = types.ExternalFunction(
    "adlab_betainc", types.float64(types.float64, types.float64, types.float64, types.int32)
)
_betaincinv = types.ExternalFunction(
    "adlab_betaincinv", types.float64(types.float64, types.float64, types.float64, types.int32)
)
_betaln = types.ExternalFunction(
    "adlab_betaln", types.float64(types.float64, types.float64, types.int32)
)


@functools.cache
def load() -> bool:
    """Register the Beta functions with LLVM and compile (or load) the kernels, once.

    Returns
    -------
    ok : bool
        Always True (kept for callers that tested it).

    Raises
    ------
    ImportError
        When scipy does not export the Beta functions the kernels link against.
    """
    import llvmlite.binding as llvm
    from numba.extending import get_cython_function_address

    try:
        for ours, theirs in _SYMBOLS.items():
            address = get_cython_function_address("scipy.special.cython_special", theirs)
            llvm.add_symbol(ours, address)
    except (ValueError, ImportError, AttributeError) as exc:
        raise ImportError(
            f"scipy.special.cython_special must export {sorted(_SYMBOLS.values())}; {exc}"
        ) from exc
    _warm_up()
    return True


def _warm_up() -> None:
    """Run both kernels once with the argument types the callers use.

    The truth table is read-only when it is the audience-wide table the engine
    shares with its workers, and numba compiles read-only arrays separately:
    both kinds are loaded here, before the engine forks, or every worker would
    load the missing one again on every run.
    """
    probs = np.empty(2)
    beta_prob_best(np.array([2.0, 3.0]), np.array([3.0, 2.0]), probs)
    frozen = np.full(2, 0.5)
    frozen.flags.writeable = False
    for ctr in (np.full(2, 0.5), frozen):
        play_counting(
            0, 0.1, 1.0, np.zeros(2), np.zeros(2), np.zeros(2), np.array([0, 1], dtype=np.int64),
            np.zeros(1, dtype=np.int64), ctr, np.zeros(1), np.zeros(1),
            np.zeros(1, dtype=np.int64),
        )  # fmt: skip


@jit
def beta_prob_best(a, b, probs):  # pragma: no cover - compiled; tested against prob_best_beta
    """Probability that each Beta(a_k, b_k) draw is the largest, written to ``probs``.

    Parameters
    ----------
    a, b : ndarray of shape (n_arms,)
        Positive posterior parameters.
    probs : ndarray of shape (n_arms,)
        Output; sums to 1.
    """
    k = a.shape[0]
    probs[:] = 0.0
    if k == 1:
        probs[0] = 1.0
        return
    lower = np.empty(k)
    upper = np.empty(k)
    lo = -np.inf
    for i in range(k):
        lower[i] = _betaincinv(a[i], b[i], _TAIL, 0)
        upper[i] = _betaincinv(a[i], b[i], 1.0 - _TAIL, 0)
        lo = max(lo, lower[i])
    # Arms whose upper tail lies below some arm's lower tail cannot win.
    contenders = np.empty(k, dtype=np.int64)
    c = 0
    hi = -np.inf
    for i in range(k):
        if upper[i] >= lo:
            contenders[c] = i
            c += 1
            hi = max(hi, upper[i])
    if c == 1:
        probs[contenders[0]] = 1.0
        return
    n_points = max(_MIN_POINTS, _GRID_BUDGET // c)
    n_tail = _TAIL_Z.shape[0]
    nz = n_points + 2 * n_tail
    z = np.empty(nz)
    # np.linspace's arithmetic: start + i * step, the last point exactly the stop.
    step = 13.0 / (n_points - 1)
    for i in range(n_points):
        z[i] = i * step - 6.5
    z[n_points - 1] = 6.5
    for i in range(n_tail):
        z[n_points + i] = _TAIL_Z[i]
        z[n_points + n_tail + i] = -_TAIL_Z[i]
    pts = np.empty(c * nz + 2)
    for ci in range(c):
        j = contenders[ci]
        ab = a[j] + b[j]
        mean = a[j] / ab
        sd = math.sqrt(a[j] * b[j] / (ab * ab * (ab + 1.0)))
        for i in range(nz):
            pts[ci * nz + i] = min(max(mean + sd * z[i], lo), hi)
    pts[c * nz] = lo
    pts[c * nz + 1] = hi
    pts.sort()
    g = 1
    for i in range(1, pts.shape[0]):
        if pts[i] != pts[g - 1]:
            pts[g] = pts[i]
            g += 1
    x = pts[:g]
    F = np.empty((c, g))
    pdf = np.empty(g)
    # The logs depend on the point only: once per point, not per contender.
    log_x = np.empty(g)
    log_1mx = np.empty(g)
    for i in range(g):
        xi = min(max(x[i], 1e-300), 1.0 - 1e-16)
        log_x[i] = math.log(xi)
        log_1mx[i] = math.log1p(-xi)
    for ci in range(c):
        j = contenders[ci]
        aj, bj = a[j], b[j]
        if aj < 1.0 or bj < 1.0:
            # Unbounded density at an end of [0, 1]: the exact CDF at every point.
            for i in range(g):
                F[ci, i] = min(_betainc(aj, bj, x[i], 0), 1.0)
            continue
        log_norm = _betaln(aj, bj, 0)
        for i in range(g):
            pdf[i] = math.exp((aj - 1.0) * log_x[i] + (bj - 1.0) * log_1mx[i] - log_norm)
        start = _betainc(aj, bj, x[0], 0)
        F[ci, 0] = min(start, 1.0)
        acc = 0.0
        for i in range(1, g):
            acc += 0.5 * (pdf[i] + pdf[i - 1]) * (x[i] - x[i - 1])
            F[ci, i] = min(acc + start, 1.0)
    # Leave-one-out products of the other contenders' CDFs, prefix times suffix.
    total = 0.0
    p = np.empty(c)
    prefix = np.empty(g)
    suffix = np.empty((c, g))
    suffix[c - 1, :] = 1.0
    for ci in range(c - 2, -1, -1):
        for i in range(g):
            suffix[ci, i] = suffix[ci + 1, i] * F[ci + 1, i]
    prefix[:] = 1.0
    for ci in range(c):
        s = 0.0
        prev = prefix[0] * suffix[ci, 0]
        for i in range(1, g):
            cur = prefix[i] * suffix[ci, i]
            s += (F[ci, i] - F[ci, i - 1]) * (0.5 * (cur + prev))
            prev = cur
        p[ci] = max(s, 0.0)
        total += p[ci]
        for i in range(g):
            prefix[i] *= F[ci, i]
    for ci in range(c):
        probs[contenders[ci]] = p[ci] / total if total > 0 else 1.0 / c


@jit
def _tied_max(score, probs):  # pragma: no cover - compiled
    """Uniform probability over the arms tied at the maximum of ``score``."""
    top = score.max()
    n_top = 0
    for i in range(score.shape[0]):
        if score[i] == top:
            n_top += 1
    for i in range(score.shape[0]):
        probs[i] = (1.0 / n_top) if score[i] == top else 0.0


@jit
def play_counting(
    code, param_a, param_b, pulls, reward_sum, reward_sq_sum, offsets, keys, ctr, click_u,
    policy_u, shown,
):  # fmt: skip  # pragma: no cover - compiled; tested against the policies' select/update
    """Play consecutive batches of a context-free policy on the CTR objective.

    Parameters
    ----------
    code : int
        :data:`POLICY_CODES` value.
    param_a, param_b : float
        ``epsilon`` (epsilon-greedy), ``alpha`` (UCB1) or the Beta prior
        ``(prior_alpha, prior_beta)`` (Thompson sampling); unused otherwise.
    pulls, reward_sum : ndarray of shape (n_arms,)
        The policy's counts, updated in place after every batch.
    reward_sq_sum : ndarray of shape (n_arms,)
        UCB1's sums of squared rewards, updated in place (read and written for
        ``ucb1`` only, so other policies may pass ``reward_sum``).
    offsets : ndarray of shape (n_batches + 1,), int64
        Batch ``j`` is rows ``offsets[j]:offsets[j + 1]``.
    keys : ndarray of shape (n_rows,), int64
        Row of the truth table of each impression.
    ctr : ndarray of shape (n_truth_rows * n_arms,)
        Expected click probability of every (truth row, arm), raveled.
    click_u, policy_u : ndarray of shape (n_rows,)
        The response's click uniforms and the policy generator's uniforms.
    shown : ndarray of shape (n_rows,), int64
        Output: the arm shown at each row.
    """
    k = pulls.shape[0]
    probs = np.empty(k)
    score = np.empty(k)
    beta = np.empty(k)
    for j in range(offsets.shape[0] - 1):
        if code == _UNIFORM:
            probs[:] = 1.0 / k
        elif code == _EPSILON:
            for i in range(k):
                score[i] = reward_sum[i] / max(pulls[i], 1.0)
            _tied_max(score, probs)
            for i in range(k):
                probs[i] = param_a / k + (1.0 - param_a) * probs[i]
        elif code == _UCB1:
            n_untried = 0
            t = 0.0
            for i in range(k):
                t += pulls[i]
                if pulls[i] == 0.0:
                    n_untried += 1
            if n_untried:
                for i in range(k):
                    probs[i] = (1.0 / n_untried) if pulls[i] == 0.0 else 0.0
            else:
                # simulation.policies.context_free.ucb_index, in the same order.
                tot_s = 0.0
                tot_q = 0.0
                for i in range(k):
                    tot_s += reward_sum[i]
                    tot_q += reward_sq_sum[i]
                pooled_mean = tot_s / t
                pooled = max(tot_q / t - pooled_mean * pooled_mean, 0.0)
                log_t = math.log(t)
                for i in range(k):
                    mean = reward_sum[i] / pulls[i]
                    ss = max(reward_sq_sum[i] - reward_sum[i] * mean, 0.0)
                    sd = math.sqrt(max(ss / pulls[i], pooled))
                    score[i] = mean + param_a * sd * math.sqrt(8.0 * log_t / pulls[i])
                _tied_max(score, probs)
        else:
            for i in range(k):
                score[i] = param_a + reward_sum[i]
                beta[i] = max(param_b + pulls[i] - reward_sum[i], 1e-12)
            beta_prob_best(score, beta, probs)
        # One shared CDF: the first arm whose cumulative probability exceeds u.
        for i in range(1, k):
            probs[i] += probs[i - 1]
        top = probs[k - 1]
        for r in range(offsets[j], offsets[j + 1]):
            u = policy_u[r] * top
            a = 0
            while a < k - 1 and probs[a] <= u:
                a += 1
            shown[r] = a
        for r in range(offsets[j], offsets[j + 1]):
            a = shown[r]
            pulls[a] += 1.0
            if click_u[r] < ctr[keys[r] * k + a]:
                reward_sum[a] += 1.0
                if code == _UCB1:
                    reward_sq_sum[a] += 1.0
