"""Per-component effects: what a pairwise model says switching one component level does.

The effect of level ``m`` of axis ``j`` for a user ``x`` is the model's expected
reward with axis ``j`` set to ``m``, the other axes drawn uniformly and
independently over their levels, minus the mean of that over the levels of axis
``j`` (a contrast: effects of one axis sum to zero, so they are identified even
though one-hot main effects are not). In the layout of
:mod:`simulation.generated.model` it is linear in ``theta``::

    effect[m] = (e_m - mean_axis) @ (main + x @ user) + sum_{k != j} mean_l pairs[m, l]
                - (the same averaged over the levels of axis j)

so :func:`contrast_matrix` gives one row per flat level and a Gaussian
posterior's mean and standard deviation of every effect are exact
(:func:`posterior_effects`). The ground truth of the engine's generated level
(:func:`simulation.engine.generated.true_component_effects`) averages over the
valid compositions only (what can be served), against their overall mean; on a
space without constraints the two definitions coincide.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from simulation.generated.model import n_params
from simulation.generated.space import ComponentSpace

__all__ = ["center_by_axis", "contrast_matrix", "posterior_effects"]


def center_by_axis(space: ComponentSpace, values: np.ndarray) -> np.ndarray:
    """``values`` (..., n_levels_total) minus their mean within each axis."""
    v = np.asarray(values, dtype=np.float64)
    sums = np.add.reduceat(v, space.offsets[:-1], axis=-1)
    means = sums / np.asarray(space.n_levels, dtype=np.float64)
    return v - means[..., space.axis_of]


def contrast_matrix(space: ComponentSpace, n_user_features: int, x: np.ndarray) -> np.ndarray:
    """Rows that map ``theta`` to the per-level effects for user (or mean user) ``x``.

    Parameters
    ----------
    space : ComponentSpace
    n_user_features : int
    x : ndarray of shape (n_user_features,)

    Returns
    -------
    a : ndarray of shape (n_levels_total, n_params)
        ``a @ theta`` is the effect of every flat level; rows of one axis sum to zero.
    """
    total, d = space.n_levels_total, n_user_features
    x = np.asarray(x, dtype=np.float64).reshape(d)
    raw = np.zeros((total, n_params(space, d)))
    raw[:, :total] = np.eye(total)
    for f in range(d):
        raw[:, total * (1 + f) : total * (2 + f)] = x[f] * np.eye(total)
    # Pairs: level m meets each level l of every other axis with probability 1 / n_levels.
    idx = space.pair_index
    m, l_ = np.nonzero(idx >= 0)
    weight = 1.0 / np.asarray(space.n_levels, dtype=np.float64)[space.axis_of[l_]]
    np.add.at(raw, (m, total * (1 + d) + idx[m, l_]), weight)
    return center_by_axis(space, raw.T).T


def posterior_effects(
    space: ComponentSpace,
    n_user_features: int,
    x: np.ndarray,
    mean: np.ndarray,
    *,
    chol_precision: np.ndarray | None = None,
    var: np.ndarray | None = None,
    extra: np.ndarray | None = None,
    active: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of every level's effect.

    Parameters
    ----------
    space : ComponentSpace
    n_user_features : int
    x : ndarray of shape (n_user_features,)
    mean : ndarray of shape (n_params,)
        Posterior mean of ``theta``.
    chol_precision : ndarray of shape (n_params, n_params), optional
        Lower Cholesky factor ``L`` of the posterior precision (full posterior):
        the variance of ``a @ theta`` is ``||L^-1 a||^2``.
    var : ndarray of shape (n_params,), optional
        Posterior variances (factorized posterior). Exactly one of the two.
    extra : ndarray of shape (n_levels_total, k), optional
        Value of ``k`` further weights (after the pairwise layout's, at the end of
        ``theta``) in each level's unary score for ``x``: the tied interactions.
    active : ndarray of shape (n_active,), int, optional
        The weights ``chol_precision`` covers (the others are fixed): all when None.

    Returns
    -------
    estimate, sd : ndarray of shape (n_levels_total,)
    """
    if (chol_precision is None) == (var is None):
        raise ValueError("give exactly one of `chol_precision` and `var`.")
    a = contrast_matrix(space, n_user_features, x)
    if extra is not None and extra.shape[1]:
        a = np.concatenate([a, center_by_axis(space, np.asarray(extra, float).T).T], axis=1)
    estimate = a @ mean
    if var is not None:
        variance = (a * a) @ np.asarray(var, dtype=np.float64)
    else:
        cols = a if active is None else a[:, active]
        w = scipy.linalg.solve_triangular(chol_precision, cols.T, lower=True)
        variance = (w * w).sum(axis=0)
    return estimate, np.sqrt(np.maximum(variance, 0.0))
