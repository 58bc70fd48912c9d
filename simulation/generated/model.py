"""The pairwise reward model over compositions, its feature layout and its kernels.

Parameters ``theta`` are laid out as ``[main | user | pairs]``: the main effects
(``n_levels_total``), the user-feature x component interactions
(``n_user_features * n_levels_total``, feature ``f`` of level ``m`` at
``f * n_levels_total + m``) and the pairwise component interactions
(``space.n_pair_features``). For a user ``x`` (d,) and a composition with flat
levels ``g``::

    reward = sum_j (main[g_j] + x @ user[:, g_j]) + sum_{j<k} pairs[pair_index[g_j, g_k]]

The same layout is the ground truth of the tests and benches
(:class:`PairwiseModel`) and the learner's posterior (``MvtThompson``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numba import njit

from simulation.generated.space import ComponentSpace

__all__ = ["PairwiseModel", "design"]


@dataclass(frozen=True, kw_only=True, eq=False)
class PairwiseModel:
    """Expected reward of any composition for any user, linear in the features.

    Parameters
    ----------
    space : ComponentSpace
    theta : ndarray of shape (n_params,)
        ``[main | user | pairs]`` as in the module docstring.
    n_user_features : int
    """

    space: ComponentSpace
    theta: np.ndarray
    n_user_features: int = 0

    def __post_init__(self) -> None:
        p = n_params(self.space, self.n_user_features)
        theta = np.asarray(self.theta, dtype=np.float64)
        if theta.shape != (p,):
            raise ValueError(f"`theta` must have shape ({p},); got {theta.shape}.")
        object.__setattr__(self, "theta", theta)

    def unary(self, contexts: np.ndarray) -> np.ndarray:
        """Per-user level scores, ndarray of shape (n, n_levels_total)."""
        return unary_table(self.space, self.theta, contexts, self.n_user_features)

    def pair_table(self) -> np.ndarray:
        """Pairwise scores of flat levels, ndarray of shape (n_levels_total, n_levels_total)."""
        return pair_table(self.space, self.theta, self.n_user_features)

    def expected(self, contexts: np.ndarray, combos: np.ndarray) -> np.ndarray:
        """Expected reward of each row's composition, ndarray of shape (n,)."""
        from simulation.generated.search import score

        return score(self.space, self.unary(contexts), self.pair_table(), combos)


def n_params(space: ComponentSpace, n_user_features: int) -> int:
    """Length of ``theta``: main + user interactions + pairwise interactions."""
    total = space.n_levels_total
    return total + n_user_features * total + space.n_pair_features


def unary_table(
    space: ComponentSpace, theta: np.ndarray, contexts: np.ndarray, d: int
) -> np.ndarray:
    """``main + contexts @ user``, ndarray of shape (n, n_levels_total)."""
    total = space.n_levels_total
    x = np.asarray(contexts, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"`contexts` must have shape (n, {d}); got {x.shape}.")
    u = np.broadcast_to(theta[:total], (x.shape[0], total))
    if d:
        u = u + x @ theta[total : total + d * total].reshape(d, total)
    return np.ascontiguousarray(u)


def pair_table(space: ComponentSpace, theta: np.ndarray, d: int) -> np.ndarray:
    """Pairwise table of flat levels, zero within an axis."""
    start = space.n_levels_total * (1 + d)
    return _pair_table(np.ascontiguousarray(theta[start:], dtype=np.float64), space.pair_index)


@njit(cache=True, nogil=True)
def _pair_table(pairs, pair_index):
    # Compiled: mvt_ts builds it every batch, and numpy's where/take cost 0.02 ms.
    n = pair_index.shape[0]
    out = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            k = pair_index[a, b]
            if k >= 0:
                out[a, b] = pairs[k]
    return out


def design(space: ComponentSpace, contexts: np.ndarray, combos: np.ndarray) -> np.ndarray:
    """The dense design matrix of the model (the tests' and the full posterior's).

    Parameters
    ----------
    space : ComponentSpace
    contexts : ndarray of shape (n, d)
    combos : ndarray of shape (n, n_axes)

    Returns
    -------
    x : ndarray of shape (n, n_params)
    """
    x = np.asarray(contexts, dtype=np.float64)
    main = space.encode(combos)
    user = (x[:, :, None] * main[:, None, :]).reshape(x.shape[0], -1)
    return np.concatenate([main, user, space.encode_pairs(combos)], axis=1)


@njit(cache=True, nogil=True)
def unary_scores(base, x, w):
    """``base + x @ w``, skipping zero features (one-hot contexts are mostly zeros).

    Serial, and faster than a threaded BLAS product at this size (1,000 x 61 x 74)
    on a loaded machine.

    Parameters
    ----------
    base : ndarray of shape (n_levels_total,)
    x : ndarray of shape (n, d)
    w : ndarray of shape (d, n_levels_total)

    Returns
    -------
    u : ndarray of shape (n, n_levels_total)
    """
    return unary_scores_mean(base, x, w)[0]


@njit(cache=True, nogil=True)
def unary_scores_mean(base, x, w):
    """:func:`unary_scores` and its mean over the rows, in one pass.

    The mean is the rows' sum in row order divided by ``n``: bit for bit numpy's
    ``u.mean(axis=0)`` (which sums a C-contiguous array's rows in order), at a
    fraction of its cost on a (1,000, 74) table.

    Parameters
    ----------
    base : ndarray of shape (n_levels_total,)
    x : ndarray of shape (n, d)
    w : ndarray of shape (d, n_levels_total)

    Returns
    -------
    u : ndarray of shape (n, n_levels_total)
    mean : ndarray of shape (n_levels_total,)
    """
    n, d = x.shape
    # Unsigned level index: no negative-index wraparound per access.
    total = np.uint64(base.shape[0])
    u = np.empty((n, base.shape[0]))
    colsum = np.zeros(base.shape[0])
    nonzero = np.empty(d, dtype=np.uint64)
    for i in range(n):
        # The row's nonzero features, listed without a branch (a coin toss on
        # one-hot contexts).
        n_nonzero = 0
        for f in range(d):
            nonzero[n_nonzero] = f
            n_nonzero += x[i, f] != 0.0
        for m in range(total):
            u[i, m] = base[m]
        for q in range(n_nonzero):
            f = nonzero[q]
            xf = x[i, f]
            for m in range(total):
                u[i, m] += xf * w[f, m]
        for m in range(total):
            colsum[m] += u[i, m]
    return u, colsum / n


@njit(cache=True, nogil=True)
def diagonal_draw(mean, var, z):
    """A draw of a diagonal Gaussian, ``mean + sqrt(var) * z``, in one pass.

    numpy's three passes and two temporaries cost twice as much on a few thousand weights.

    Parameters
    ----------
    mean, var, z : ndarray of shape (n_params,)

    Returns
    -------
    theta : ndarray of shape (n_params,)
    """
    theta = np.empty(mean.shape[0])
    for i in range(mean.shape[0]):
        theta[i] = mean[i] + np.sqrt(var[i]) * z[i]
    return theta


def tied_sparse(tied: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The tied patterns' nonzero cells, grouped by level: a CSR layout.

    The engine's patterns are very sparse (about 200 nonzero cells of 6 x 61 x 74:
    one user feature per pattern and level), so :func:`tied_values` visits only them,
    level by level (the served levels' cells of every pattern are contiguous).

    Parameters
    ----------
    tied : ndarray of shape (k, d, n_levels_total)

    Returns
    -------
    indptr : ndarray of shape (n_levels_total + 1,), uint64
        Cells at level ``m`` are ``indptr[m]`` up to ``indptr[m + 1]``, by pattern
        then feature ascending.
    pattern, feature : ndarray of shape (nnz,), uint64
        The pattern and user feature of each cell.
    value : ndarray of shape (nnz,)
    k : int
        Number of patterns.
    """
    tied = np.asarray(tied, dtype=np.float64)
    k, _, total = tied.shape
    pattern, feature, level = np.nonzero(tied)
    order = np.lexsort((feature, pattern, level))
    pattern, feature, level = pattern[order], feature[order], level[order]
    indptr = np.zeros(total + 1, dtype=np.uint64)
    np.cumsum(np.bincount(level, minlength=total), out=indptr[1:])
    value = tied[pattern, feature, level]
    return indptr, pattern.astype(np.uint64), feature.astype(np.uint64), value, k


@njit(cache=True, nogil=True)
def tied_values(x, indptr, pattern, feature, value, k, combos, offsets):
    """Each row's value of each tied pattern: ``sum_j x @ tied[t][:, level_j]``.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    indptr, pattern, feature, value, k
        The patterns' nonzero cells (:func:`tied_sparse`).
    combos : ndarray of shape (n, n_axes), int64
    offsets : ndarray of shape (n_axes + 1,), int64

    Returns
    -------
    z : ndarray of shape (n, k)
        Pattern ``t``'s value summed over the axes in order, each level's cells by
        feature ascending.
    """
    n, n_axes = combos.shape
    z = np.zeros((n, k))
    if k == 0:
        return z
    one = np.uint64(1)
    for i in range(n):
        for j in range(n_axes):
            # Unsigned indices: no negative-index wraparound per access.
            m = np.uint64(offsets[j] + combos[i, j])
            for q in range(indptr[m], indptr[m + one]):
                z[i, pattern[q]] += x[i, feature[q]] * value[q]
    return z


def free_blocks(
    space: ComponentSpace, d: int, prior_var: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (feature, axis) blocks and pairs of axes with a free cell, for :func:`diagonal_update`.

    The engine's learner fixes whole blocks at zero (user features that do not
    interact with an axis, pairs of axes without interactions): its row update
    then visits only the others instead of testing every cell.

    Parameters
    ----------
    space : ComponentSpace
    d : int
        User features.
    prior_var : ndarray of shape (n_params,)
        ``[main | user | pairs | tied]``; a cell is free when its prior variance is > 0.

    Returns
    -------
    user_ptr : ndarray of shape (d + 1,), uint64
        Feature ``f``'s axes with a free cell are ``user_axis[user_ptr[f]:user_ptr[f + 1]]``.
    user_axis : ndarray of shape (n_user_blocks,), uint64
        Ascending within a feature.
    pair_a, pair_b : ndarray of shape (n_pair_blocks,), uint64
        The pairs of axes ``a < b`` with a free pairwise cell, in lexicographic order.
    """
    total, o = space.n_levels_total, space.offsets
    prior_var = np.asarray(prior_var)
    user = prior_var[total : total * (1 + d)].reshape(d, total) > 0
    on = np.logical_or.reduceat(user, o[:-1], axis=1) if d else np.zeros((0, space.n_axes), bool)
    user_ptr = np.concatenate([[0], np.cumsum(on.sum(axis=1))]).astype(np.uint64)
    user_axis = np.nonzero(on)[1].astype(np.uint64)
    pairs = prior_var[total * (1 + d) : total * (1 + d) + space.n_pair_features] > 0
    a, b = [], []
    for i, j in itertools.combinations(range(space.n_axes), 2):
        if pairs[space.pair_index[o[i] : o[i + 1], o[j] : o[j + 1]]].any():
            a.append(i)
            b.append(j)
    return user_ptr, user_axis, np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)


@njit(cache=True, nogil=True)
def diagonal_update(
    mu, var, combos, offsets, pair_index, x, zt, y, noise_var, user_ptr, user_axis, pair_a, pair_b
):
    """Assumed-density (diagonal Kalman) update of a factorized Gaussian posterior.

    Row by row: the exact Gaussian update given the row, with the posterior
    covariance then projected back onto its diagonal (Graepel et al. 2010's
    factorized model with a Gaussian likelihood). Exact when each row touches
    one parameter. ``mu`` and ``var`` (n_params,) are updated in place.

    Parameters
    ----------
    mu, var : ndarray of shape (n_params,)
        ``[main | user | pairs | tied]`` (the tied block may be empty).
    combos : ndarray of shape (n, n_axes), int64
        Level index per axis (not flat).
    offsets : ndarray of shape (n_axes + 1,), int64
    pair_index : ndarray of shape (n_levels_total, n_levels_total), int64
    x : ndarray of shape (n, d)
        User contexts; zero entries, and user or pair cells of variance 0 (fixed
        at zero), are skipped.
    zt : ndarray of shape (n, k)
        Each row's value of each tied pattern (:func:`tied_values`; ``k`` may be 0).
    y : ndarray of shape (n,)
    noise_var : float
    user_ptr, user_axis, pair_a, pair_b : ndarray, uint64
        The blocks to visit (:func:`free_blocks`); cells outside them must have
        variance 0. Inside, a cell of variance 0 is still skipped.
    """
    n, n_axes = combos.shape
    n_total = offsets[n_axes]
    d = x.shape[1]
    k_tied = zt.shape[1]
    base = n_total * (1 + d)
    tied0 = var.shape[0] - k_tied
    n_pairs = n_axes * (n_axes - 1) // 2
    k = n_axes * (1 + d) + n_pairs + k_tied
    # Unsigned indices: numba then skips the negative-index wraparound on every
    # access (0.45 -> 0.25 ms per batch of 1,000 over the default space).
    idx = np.empty(k, dtype=np.uint64)
    val = np.empty(k)
    g = np.empty(n_axes, dtype=np.uint64)
    nonzero = np.empty(d, dtype=np.uint64)
    for i in range(n):
        # The touched weights, with the prediction and its variance summed as they
        # are found (in the order of the update below).
        c = 0
        pred = 0.0
        s = noise_var
        for j in range(n_axes):
            cell = np.uint64(offsets[j] + combos[i, j])
            g[j] = cell
            idx[c] = cell
            val[c] = 1.0
            pred += mu[cell]
            s += var[cell]
            c += 1
        # The row's nonzero features, listed without a branch (one-hot contexts
        # make that branch a coin toss).
        n_nonzero = 0
        for f in range(d):
            nonzero[n_nonzero] = f
            n_nonzero += x[i, f] != 0.0
        for q in range(n_nonzero):
            f = nonzero[q]
            xf = x[i, f]
            for b in range(user_ptr[f], user_ptr[f + 1]):
                cell = np.uint64(n_total * (1 + f)) + g[user_axis[b]]
                v = var[cell]
                if v > 0.0:  # a cell fixed at zero has variance 0: skip it
                    idx[c] = cell
                    val[c] = xf
                    pred += mu[cell] * xf
                    s += v * xf * xf
                    c += 1
        for b in range(pair_a.shape[0]):
            cell = np.uint64(base + pair_index[g[pair_a[b]], g[pair_b[b]]])
            v = var[cell]
            if v > 0.0:  # a cell fixed at zero has variance 0: skip it
                idx[c] = cell
                val[c] = 1.0
                pred += mu[cell]
                s += v
                c += 1
        for t in range(k_tied):
            z = zt[i, t]
            if z != 0.0:
                cell = np.uint64(tied0 + t)
                idx[c] = cell
                val[c] = z
                pred += mu[cell] * z
                s += var[cell] * z * z
                c += 1
        r = y[i] - pred
        inv_s = 1.0 / s  # one division per row, not one per weight
        for q in range(c):
            cell = idx[q]
            v = var[cell]
            gain = v * val[q] * inv_s
            mu[cell] += gain * r
            var[cell] = v - gain * val[q] * v


def free_runs(
    prior_var: np.ndarray, block: np.ndarray, block_free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The runs of consecutive weights :func:`reprior` re-bases: prior variance > 0, block free.

    Parameters
    ----------
    prior_var : ndarray of shape (n_params,)
    block : ndarray of shape (n_params,), int64
    block_free : ndarray of shape (n_blocks,), bool

    Returns
    -------
    starts, ends : ndarray of shape (n_runs,), uint64
        Run ``r`` is the weights ``starts[r]`` up to (not including) ``ends[r]``.
    """
    on = (np.asarray(prior_var) > 0) & np.asarray(block_free)[block]
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return starts.astype(np.uint64), ends.astype(np.uint64)


# error_model="numpy": a division by zero gives inf instead of raising, so numba checks
# no divisor and the loop vectorizes (0.029 -> 0.012 ms over the default space's 2,162
# weights). Weights re-based here have var > 0 and prior variance > 0; the others'
# results are computed but not kept.
@njit(cache=True, nogil=True, error_model="numpy")
def reprior(mu, var, prior_var, prior_mean, mult, block, starts, ends, tau):
    """Re-base a factorized Gaussian posterior on new block prior variances, in place.

    Each weight's posterior is its prior times one Gaussian factor (precision
    ``1 / var - 1 / prior_var``, shift ``mu / var - prior_mean / prior_var``); the
    factor is kept and combined with the new prior ``tau[block] * mult``. Weights
    outside the runs (fixed at zero, or of blocks not free: :func:`free_runs`), of
    prior variance 0, or whose new prior variance is 0 are left alone. ``mu``,
    ``var`` and ``prior_var`` are updated.

    Parameters
    ----------
    mu, var, prior_var, prior_mean, mult : ndarray of shape (n_params,)
    block : ndarray of shape (n_params,), int64
        Each weight's block (index into ``tau``).
    starts, ends : ndarray of shape (n_runs,), uint64
        The runs of weights to re-base (:func:`free_runs`).
    tau : ndarray of shape (n_blocks,)
    """
    new_var = np.empty(mu.shape[0])
    for r in range(starts.shape[0]):
        # The new prior variances first: the gather from tau would keep the
        # arithmetic below from vectorizing.
        for i in range(starts[r], ends[r]):
            new_var[i] = tau[np.uint64(block[i])] * mult[i]
        for i in range(starts[r], ends[r]):
            v0 = prior_var[i]
            v1 = new_var[i]
            keep = v0 <= 0.0 or v1 <= 0.0
            v = var[i]
            m = mu[i]
            lam = 1.0 / v - 1.0 / v0
            eta = m / v - prior_mean[i] / v0
            prec = lam + 1.0 / v1
            var[i] = v if keep else 1.0 / prec
            mu[i] = m if keep else (eta + prior_mean[i] / v1) / prec
            prior_var[i] = v0 if keep else v1


@njit(cache=True, nogil=True)
def main_moments(mu, var, prior_mean, prior_var, mult, total):
    """``((mu - prior_mean)^2 + var) / mult`` of the first ``total`` weights of prior variance > 0.

    The main effects' second moments about their prior mean, per unit of
    multiplier: their mean is the EM step of the main block's prior variance.

    Parameters
    ----------
    mu, var, prior_mean, prior_var, mult : ndarray of shape (n_params,)
    total : int
        The main block is the first ``total`` weights.

    Returns
    -------
    second : ndarray of shape (n_free,)
        In weight order.
    """
    out = np.empty(total)
    c = 0
    for i in range(total):
        if prior_var[i] > 0.0:
            d = mu[i] - prior_mean[i]
            out[c] = (d * d + var[i]) / mult[i]
            c += 1
    return out[:c]


@njit(cache=True, nogil=True)
def relevance_scales(mu, var, prior_var, prior_mean, mult, block, block_free, tau, floor):
    """MacKay's fixed point of the prior variance of every relevance block, in place on ``tau``.

    For block ``b`` (``b >= 4``; blocks 0-3 are set elsewhere), over its weights of
    prior variance > 0: ``tau[b] = sum((mu - prior_mean)^2 / mult) / gamma`` with
    ``gamma = sum(1 - var / prior_var)``, the number of weights the data determine
    (MacKay 1992; faster than EM when most weights are barely informed, as here).
    The result is kept at or above ``floor`` times the block's incoming ``tau[b]``
    (its parent block's automatic scale). Blocks not free, or without weights, keep it.
    ``gamma`` is clamped at 1e-3, which also keeps a block at the floor (``gamma``
    near 1e-4) from climbing back: without the clamp the blocks that revive are mostly
    those of no mechanism, and the learner earned as much or less (docs/generated-research.md,
    *Why a dead block stays dead*).

    Parameters
    ----------
    mu, var, prior_var, prior_mean, mult : ndarray of shape (n,)
    block : ndarray of shape (n,), int64
    block_free : ndarray of shape (n_blocks,), bool
    tau : ndarray of shape (n_blocks,)
    floor : float
    """
    n_blocks = tau.shape[0]
    num = np.zeros(n_blocks)
    gamma = np.zeros(n_blocks)
    seen = np.zeros(n_blocks, dtype=np.bool_)
    for i in range(mu.shape[0]):
        b = block[i]
        v0 = prior_var[i]
        if b < 4 or v0 <= 0.0:
            continue
        m = mu[i] - prior_mean[i]
        num[b] += m * m / mult[i]
        gamma[b] += 1.0 - var[i] / v0
        seen[b] = True
    for b in range(4, n_blocks):
        if seen[b] and block_free[b]:
            tau[b] = max(num[b] / max(gamma[b], 1e-3), floor * tau[b])
