"""How the valid compositions spread over the axes a reward reads.

The true component effects (:func:`simulation.engine.generated.true_component_effects`)
average the expected reward over the valid compositions, uniformly (what the
``uniform`` policy serves). The reward reads only some axes (``read``); the others
matter through the constraints alone (a headline style that prints no greeting
cannot go with the greeting). So the valid compositions are counted once per
setting of the read axes (a *cell*), and per level of every other axis:
averages over the valid compositions with a given level are then weighted sums
over the cells, exactly, without listing the compositions.

The learner's estimates of the same effects (:mod:`simulation.generated.effects`)
need, for a linear model, the mean feature vector over the valid compositions with
a given level: how often each other level and each pair of levels comes with it
(:func:`valid_feature_means`, counted in one compiled depth-first pass over the
valid compositions, none of them kept).
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from simulation.generated.space import ComponentSpace

__all__ = ["valid_feature_means", "valid_level_counts", "valid_mix"]


@njit(cache=True, nogil=True)
def _mix_kernel(cells, rest, level_mask, pair_mask, n_total):
    """Valid completions of every cell, in all and by the flat level they use.

    ``cells`` (n_cells, n_read) and ``rest`` (n_rest, n_unread) are flat levels.
    """
    n_cells, n_read = cells.shape
    n_rest, n_unread = rest.shape
    weights = np.zeros((n_cells, n_total))
    for g in range(n_cells):
        ok = True
        for i in range(n_read):
            a = cells[g, i]
            if not level_mask[a]:
                ok = False
                break
            for k in range(i):
                if not pair_mask[a, cells[g, k]]:
                    ok = False
                    break
            if not ok:
                break
        if not ok:
            continue
        count = 0.0
        for c in range(n_rest):
            good = True
            for i in range(n_unread):
                b = rest[c, i]
                if not level_mask[b]:
                    good = False
                    break
                for k in range(i):
                    if not pair_mask[b, rest[c, k]]:
                        good = False
                        break
                if not good:
                    break
                for k in range(n_read):
                    if not pair_mask[b, cells[g, k]]:
                        good = False
                        break
                if not good:
                    break
            if not good:
                continue
            count += 1.0
            for i in range(n_unread):
                weights[g, rest[c, i]] += 1.0
        if count > 0.0:
            for i in range(n_read):
                weights[g, cells[g, i]] = count
    return weights


def valid_mix(
    space: ComponentSpace, read: list[int] | tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The valid compositions counted by cell of the ``read`` axes and by level.

    Parameters
    ----------
    space : ComponentSpace
    read : sequence of int
        The axes the reward reads (distinct).

    Returns
    -------
    cells : ndarray of shape (n_cells, n_axes), int64
        One composition per cell with at least one valid completion: the read
        axes' levels (every other axis 0, a placeholder the reward does not read).
    weights : ndarray of shape (n_levels_total, n_cells)
        ``weights[m, g]``: the valid compositions of cell ``g`` that use flat level
        ``m``. For a level of a read axis, the cell's whole count or 0; a column's
        entries of one axis add up to the cell's count.
    """
    read = sorted({int(a) for a in read})
    if any(a < 0 or a >= space.n_axes for a in read):
        raise ValueError(f"`read` must hold axes in [0, {space.n_axes}); got {read}.")
    unread = [a for a in range(space.n_axes) if a not in read]

    def grid(axes: list[int]) -> np.ndarray:
        rows = list(itertools.product(*[range(space.n_levels[a]) for a in axes]))
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(axes))

    local = grid(read)
    flat = np.ascontiguousarray(local + space.offsets[read])
    rest = np.ascontiguousarray(grid(unread) + space.offsets[unread])
    weights = _mix_kernel(flat, rest, space.level_mask, space.pair_mask, space.n_levels_total)
    keep = weights.sum(axis=1) > 0
    cells = np.zeros((int(keep.sum()), space.n_axes), dtype=np.int64)
    cells[:, read] = local[keep]
    return cells, np.ascontiguousarray(weights[keep].T)


@njit(cache=True, nogil=True)
def _moments_kernel(offsets, level_mask, pair_mask, pair_index, n_pairs, with_pairs):
    """Valid compositions by level, pair of levels and (level, pair feature).

    Depth-first over the axes, pruning a prefix as soon as it breaks a constraint
    (as :func:`simulation.generated.search.count_valid`), so only the valid
    compositions' leaves are visited (290,160 of 2,520,000 on the studio's space).
    """
    n_axes = offsets.shape[0] - 1
    n_total = offsets[n_axes]
    both = np.zeros((n_total, n_total))
    triples = np.zeros((n_total, n_pairs if with_pairs else 1))
    g = np.zeros(n_axes, dtype=np.int64)
    lev = np.full(n_axes, -1, dtype=np.int64)
    pk = np.zeros(n_axes * (n_axes - 1) // 2, dtype=np.int64)
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
        if j < n_axes - 1:
            j += 1
            continue
        n = 0
        if with_pairs:
            for a in range(n_axes):
                for b in range(a + 1, n_axes):
                    pk[n] = pair_index[g[a], g[b]]
                    n += 1
        for a in range(n_axes):
            ga = g[a]
            for b in range(n_axes):
                both[ga, g[b]] += 1.0
            for q in range(n):
                triples[ga, pk[q]] += 1.0
    return both, triples


def valid_feature_means(space: ComponentSpace) -> tuple[np.ndarray, np.ndarray]:
    """Mean one-hot and pairwise features over the valid compositions with each level.

    What a linear model's effect over the valid compositions needs
    (:func:`simulation.generated.effects.contrast_matrix`): its mean feature vector
    over the valid compositions with level ``m``, and over all of them. Exact
    counts, without listing the compositions (about 0.3 s on the studio's space).

    Parameters
    ----------
    space : ComponentSpace

    Returns
    -------
    levels : ndarray of shape (n_levels_total + 1, n_levels_total)
        Row ``m``: the share of the valid compositions with flat level ``m`` that use
        each flat level (1 at ``m``); the last row: the share of all valid
        compositions using each level. A row of NaN for a level no valid
        composition uses (and the last row when none is valid).
    pairs : ndarray of shape (n_levels_total + 1, n_pair_features)
        The same for the pairwise features (:attr:`ComponentSpace.pair_index`).
    """
    both, triples = _moments_kernel(
        space.offsets, space.level_mask, space.pair_mask, space.pair_index,
        int(space.n_pair_features), True,
    )  # fmt: skip
    per_level = np.diag(both).copy()
    # Every valid composition uses one level of the first axis.
    count = per_level[space.axis_of == 0].sum()
    first = space.axis_of == 0
    all_pairs = triples[first].sum(axis=0)
    counts = np.append(per_level, count)
    with np.errstate(invalid="ignore", divide="ignore"):
        levels = np.vstack([both, per_level[None]]) / counts[:, None]
        pairs = np.vstack([triples, all_pairs[None]]) / counts[:, None]
    levels[counts == 0] = np.nan
    pairs[counts == 0] = np.nan
    return levels, pairs


def valid_level_counts(space: ComponentSpace) -> np.ndarray:
    """The valid compositions using each flat level, counted exactly.

    Returns
    -------
    counts : ndarray of shape (n_levels_total,)
    """
    both, _ = _moments_kernel(
        space.offsets, space.level_mask, space.pair_mask, space.pair_index, 1, False
    )
    return np.diag(both).copy()
