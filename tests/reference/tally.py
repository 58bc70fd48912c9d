"""Vectorized numpy reference of ``simulation.engine.tally.batch_totals``: the tests hold the
compiled kernel to it (sums over runs of rows, bincounts for the cells)."""

import numpy as np

from simulation.engine.tally import N_CELL_METRICS, N_SERIES_METRICS, ServedRows


def batch_totals_numpy(
    rows: ServedRows,
    reward: np.ndarray,
    best: np.ndarray,
    n_batches: int,
    n_arms: int,
    n_segments: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``batch_totals`` in numpy: (per_batch, per_arm, per_cell)."""
    per_batch = np.zeros((n_batches, N_SERIES_METRICS))
    per_arm = np.zeros((n_batches, n_arms), dtype=np.int64)
    per_cell = np.zeros((n_segments * n_arms, N_CELL_METRICS))
    if rows.arm.size:
        _numpy_totals(rows, reward, best, n_arms, per_batch, per_arm, per_cell)
    return per_batch, per_arm, per_cell


def _numpy_totals(
    rows: ServedRows,
    reward: np.ndarray,
    best: np.ndarray,
    k: int,
    per_batch: np.ndarray,
    per_arm: np.ndarray,
    per_cell: np.ndarray,
) -> None:
    """Vectorized reference: sums over runs of rows, bincounts for the cells."""
    chosen = reward[rows.truth_row * k + rows.arm]
    columns = (
        rows.click, rows.conversion, rows.cost, rows.revenue,
        best[rows.truth_row] - chosen, chosen, rows.p_click,
        rows.p_click * rows.p_conversion * rows.order_value, rows.expected_cost,
        rows.p_click * rows.p_conversion,
    )  # fmt: skip
    n_batches = per_batch.shape[0]
    starts = np.searchsorted(rows.batch, np.arange(n_batches + 1))
    lengths = np.diff(starts)
    filled = np.flatnonzero(lengths > 0)
    per_batch[:, 0] = lengths
    first = starts[filled]
    for i, col in enumerate(columns, start=1):
        # int64 sums for the boolean columns (numpy would OR them).
        dtype = np.int64 if col.dtype == np.bool_ else None
        per_batch[filled, i] = np.add.reduceat(col, first, dtype=dtype)
    per_arm += np.bincount(rows.batch * k + rows.arm, minlength=per_arm.size).reshape(per_arm.shape)
    cell = rows.segment * k + rows.arm
    n_cells = per_cell.shape[0]
    per_cell[:, 0] += np.bincount(cell, minlength=n_cells)
    per_cell[:, 1] += np.bincount(cell[rows.click], minlength=n_cells)
    per_cell[:, 2] += np.bincount(cell[rows.conversion], minlength=n_cells)
    per_cell[:, 3] += np.bincount(cell, weights=rows.cost, minlength=n_cells)
    # Revenue is zero unless the impression converted.
    conv = rows.conversion
    per_cell[:, 4] += np.bincount(cell[conv], weights=rows.revenue[conv], minlength=n_cells)
