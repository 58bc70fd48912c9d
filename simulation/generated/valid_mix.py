"""How the valid compositions spread over the axes a reward reads.

The true component effects (:func:`simulation.engine.generated.true_component_effects`)
average the expected reward over the valid compositions, uniformly (what the
``uniform`` policy serves). The reward reads only some axes (``read``); the others
matter through the constraints alone (a headline style that prints no greeting
cannot go with the greeting). So the valid compositions are counted once per
setting of the read axes (a *cell*), and per level of every other axis:
averages over the valid compositions with a given level are then weighted sums
over the cells, exactly, without listing the compositions.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from simulation.generated.space import ComponentSpace

__all__ = ["valid_mix"]


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
