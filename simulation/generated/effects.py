"""Per-component effects: what a model says a component level does, over what can be served.

The effect of level ``m`` of axis ``j`` for a user ``x`` is the model's mean
expected reward over the *valid* compositions with ``j = m``, minus its mean over
all valid compositions (uniform over the valid ones: the ``uniform`` policy's
distribution). It is the functional the ground truth of the engine's generated
level uses (:func:`simulation.engine.generated.true_component_effects`), applied
to the learner's model instead of the world, so an estimate and the truth beside
it are the same quantity. A level no valid composition uses has no effect (NaN).
Each valid composition counts once, so an axis's effects add up to zero weighted
by the share of valid compositions with each level.

For a linear model (main effects, user x component, pairwise and tied
interactions; the layout of :mod:`simulation.generated.model`) it is ``a @ theta``
with ``a`` the mean feature vector over the valid compositions with the level minus
that over all valid ones. The features are linear in ``x``, so ``a`` at the mean
context of a group of users is the mean of its users' rows. The means come from
exact counts of the valid compositions by level and pairs of levels
(:func:`simulation.generated.valid_mix.valid_feature_means`), and a Gaussian
posterior's mean ``a @ mu`` and variance ``a @ Sigma @ a`` of every effect are
exact (:func:`posterior_effects`). On a space without constraints the definition
is the older one (the other axes uniform and independent, centred on the plain
mean over the axis's levels), which every estimate used before 2026-12-05.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from simulation.generated.model import n_params
from simulation.generated.space import ComponentSpace

__all__ = ["center_by_axis", "contrast_matrix", "posterior_effects", "valid_contrasts"]


def center_by_axis(space: ComponentSpace, values: np.ndarray) -> np.ndarray:
    """``values`` (..., n_levels_total) minus their mean within each axis."""
    v = np.asarray(values, dtype=np.float64)
    sums = np.add.reduceat(v, space.offsets[:-1], axis=-1)
    means = sums / np.asarray(space.n_levels, dtype=np.float64)
    return v - means[..., space.axis_of]


def valid_contrasts(space: ComponentSpace) -> tuple[np.ndarray, np.ndarray]:
    """Mean one-hot and pairwise features of each level's valid compositions minus all's.

    Parameters
    ----------
    space : ComponentSpace

    Returns
    -------
    levels : ndarray of shape (n_levels_total, n_levels_total)
        Row ``m``: the share of the valid compositions with level ``m`` using each
        level, minus the share of all valid compositions using it (NaN for a level
        no valid composition uses).
    pairs : ndarray of shape (n_levels_total, n_pair_features)
        The same for the pairwise features.
    """
    levels, pairs = space.valid_feature_means  # counted once per space
    return levels[:-1] - levels[-1], pairs[:-1] - pairs[-1]


def contrast_matrix(
    space: ComponentSpace,
    n_user_features: int,
    x: np.ndarray,
    contrasts: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Rows that map ``theta`` to the per-level effects for user (or mean user) ``x``.

    Parameters
    ----------
    space : ComponentSpace
    n_user_features : int
    x : ndarray of shape (n_user_features,)
    contrasts : tuple of ndarray, optional
        :func:`valid_contrasts` of ``space`` (computed when None; pass it to reuse).

    Returns
    -------
    a : ndarray of shape (n_levels_total, n_params)
        ``a @ theta`` is the effect of every flat level over the valid
        compositions; rows of levels no valid composition uses are NaN.
    """
    total, d = space.n_levels_total, n_user_features
    x = np.asarray(x, dtype=np.float64).reshape(d)
    levels, pairs = valid_contrasts(space) if contrasts is None else contrasts
    a = np.empty((total, n_params(space, d)))
    a[:, :total] = levels
    for f in range(d):
        a[:, total * (1 + f) : total * (2 + f)] = x[f] * levels
    a[:, total * (1 + d) :] = pairs
    return a


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
    contrasts: tuple[np.ndarray, np.ndarray] | None = None,
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
    contrasts : tuple of ndarray, optional
        :func:`valid_contrasts` of ``space`` (computed when None).

    Returns
    -------
    estimate, sd : ndarray of shape (n_levels_total,)
        NaN for a level no valid composition uses.
    """
    if (chol_precision is None) == (var is None):
        raise ValueError("give exactly one of `chol_precision` and `var`.")
    contrasts = valid_contrasts(space) if contrasts is None else contrasts
    a = contrast_matrix(space, n_user_features, x, contrasts)
    if extra is not None and extra.shape[1]:
        # A tied weight's value is linear in the one-hot features: its mean follows them.
        a = np.concatenate([a, contrasts[0] @ np.asarray(extra, float)], axis=1)
    # A level no valid composition uses has NaN rows: computed as zeros, reported NaN.
    served = np.isfinite(a).all(axis=1)
    a = np.where(served[:, None], a, 0.0)
    estimate = a @ mean
    if var is not None:
        variance = (a * a) @ np.asarray(var, dtype=np.float64)
    else:
        cols = a if active is None else a[:, active]
        w = scipy.linalg.solve_triangular(chol_precision, cols.T, lower=True)
        variance = (w * w).sum(axis=0)
    sd = np.sqrt(np.maximum(variance, 0.0))
    estimate[~served] = sd[~served] = np.nan
    return estimate, sd
