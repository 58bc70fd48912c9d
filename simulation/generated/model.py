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
    pairs = theta[start:]
    idx = space.pair_index
    return np.where(idx >= 0, pairs[np.maximum(idx, 0)], 0.0) if pairs.size else np.zeros(idx.shape)


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
def diagonal_update(mu, var, flat, pair_cols, x, y, noise_var, n_total):
    """Assumed-density (diagonal Kalman) update of a factorized Gaussian posterior.

    Row by row: the exact Gaussian update given the row, with the posterior
    covariance then projected back onto its diagonal (Graepel et al. 2010's
    factorized model with a Gaussian likelihood). Exact when each row touches
    one parameter. ``mu`` and ``var`` (n_params,) are updated in place.
    """
    n, n_axes = flat.shape
    d = x.shape[1]
    n_pairs = pair_cols.shape[1]
    base = n_total * (1 + d)
    k = n_axes * (1 + d) + n_pairs
    idx = np.empty(k, dtype=np.int64)
    val = np.empty(k)
    for i in range(n):
        c = 0
        for j in range(n_axes):
            idx[c] = flat[i, j]
            val[c] = 1.0
            c += 1
            for f in range(d):
                idx[c] = n_total + f * n_total + flat[i, j]
                val[c] = x[i, f]
                c += 1
        for q in range(n_pairs):
            idx[c] = base + pair_cols[i, q]
            val[c] = 1.0
            c += 1
        pred = 0.0
        s = noise_var
        for c in range(k):
            pred += mu[idx[c]] * val[c]
            s += var[idx[c]] * val[c] * val[c]
        r = y[i] - pred
        for c in range(k):
            gain = var[idx[c]] * val[c] / s
            mu[idx[c]] += gain * r
            var[idx[c]] -= gain * val[c] * var[idx[c]]
