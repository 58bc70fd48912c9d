"""numpy references of the linear policies' compiled kernels (:mod:`simulation.policies.linear`).

Each function computes what the kernel of the same name computes, with
vectorized numpy and ``np.linalg.inv`` instead of loops and Cholesky; the
tests hold the compiled kernels to these, and can run a policy on them
(``policy._backend = reference.linear.KERNELS``) to compare whole runs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulation.policies.linear import _refresh_general, _ties

__all__ = ["KERNELS", "accumulate", "alias", "refresh", "score"]


def score(x, packed, theta, alias, scale, noise, u, arms, mean, quad):
    """Means, quadratic forms and/or picks of the rows of ``x`` (see ``linear._score_loop``)."""
    n, d = x.shape
    xt = np.ascontiguousarray(x.T)
    low = xt.astype(packed.dtype)
    products = np.empty((packed.shape[1], n), dtype=packed.dtype)
    p = 0
    for j in range(d):  # over features: rows p.. of the packed products are x_j x_j..x_d
        np.multiply(low[j], low[j:], out=products[p : p + d - j])
        p += d - j
    q = (packed @ products)[alias]
    mu = (theta @ xt)[alias]
    if mean.shape == mu.shape:
        mean[:], quad[:] = mu, q
    if arms.shape[0] == x.shape[0]:
        width = scale * np.sqrt(np.maximum(q, 0.0))
        if noise.shape[0]:
            width *= noise
        top = _ties(mu + width)
        n_ties = top.sum(axis=0)
        rank = np.minimum((u * n_ties).astype(np.int64), n_ties - 1)
        arms[:] = (np.cumsum(top, axis=0) > rank).argmax(axis=0)


def alias(packed, theta, out):
    """First arm whose packed inverse and coefficients equal each arm's, written to ``out`` (K,)."""
    key = np.concatenate([packed.astype(np.float64), theta], axis=1)
    out[:] = (key[:, None, :] == key[None, :, :]).all(axis=2).argmax(axis=1)


def accumulate(x, arms, rewards, A, b, touched):
    """Add each row's x x^T and r x to its arm; mark the arms that changed."""
    order = np.argsort(arms, kind="stable")
    bounds = np.searchsorted(arms[order], np.arange(A.shape[0] + 1))
    for k in np.flatnonzero(np.diff(bounds)):
        rows = order[bounds[k] : bounds[k + 1]]
        xa = x[rows]
        A[k] += xa.T @ xa
        b[k] += rewards[rows] @ xa
        touched[k] = True


def refresh(A, b, touched, A_inv, theta, packed, failed):
    """Re-invert the touched arms with ``np.linalg.inv`` (the package's general fallback)."""
    _refresh_general(A, b, touched, A_inv, theta, packed, failed)


#: The reference kernels, in the shape of ``simulation.policies.linear._kernels()``.
KERNELS = SimpleNamespace(
    name="numpy", score=score, accumulate=accumulate, refresh=refresh, alias=alias
)
