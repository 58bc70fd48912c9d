"""Totals of the impressions a policy served, per batch, per arm and per (segment, arm).

The engine's bookkeeping after each chunk of batches: one pass over the served
rows adds their outcomes and expectations into per-batch sums (which become the
time series), per-batch arm counts (the allocation) and per-(segment, arm)
totals. Compiled with numba (:func:`simulation.compiled.jit`): a single loop over
the rows; a vectorized numpy version in ``tests/reference/tally.py`` is the
reference the tests hold it to.

:func:`fused_totals` is the engine's usual case (every row served): the same
pass also gathers the shown pairs' expectations and realizes their outcomes
from the common uniforms, with the arithmetic of
:meth:`simulation.response.ResponseModel.outcomes` (a test holds the two
routes equal), so no per-row temporaries are made.

Columns of the per-batch sums are :data:`SERIES_METRICS`, those of the cell
totals :data:`SEGMENT_METRICS`: the kernels write them in that order (a test
holds every column to its name).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from simulation.compiled import jit

__all__ = [
    "N_CELL_METRICS",
    "N_SERIES_METRICS",
    "SEGMENT_METRICS",
    "SERIES_METRICS",
    "ServedRows",
    "batch_totals",
    "fused_totals",
    "warm_up",
]

#: Columns of the per-batch sums: the totals the engine keeps per (seed, level,
#: policy) and in its time series. Regret and expected reward are of the objective.
SERIES_METRICS: tuple[str, ...] = (
    "impressions",
    "clicks",
    "conversions",
    "spend",
    "revenue",
    "regret",
    "expected_reward",
    "expected_clicks",
    "expected_revenue",
    "expected_spend",
    "expected_conversions",
)
#: Columns of the per-(segment, arm) totals.
SEGMENT_METRICS: tuple[str, ...] = ("impressions", "clicks", "conversions", "spend", "revenue")
N_SERIES_METRICS: int = len(SERIES_METRICS)
N_CELL_METRICS: int = len(SEGMENT_METRICS)


@dataclass(frozen=True, slots=True, eq=False)
class ServedRows:
    """The rows one policy served in a chunk, sorted by batch (arrays of shape (m,)).

    Attributes
    ----------
    batch, arm, segment, truth_row : ndarray of int64
        Batch within the chunk, arm shown, the user's segment, and the row of the
        ground-truth tables (``reward`` and ``best`` in :func:`batch_totals`).
    click, conversion : ndarray of bool
    cost, revenue : ndarray of float64
        Realized outcomes.
    p_click, p_conversion, order_value, expected_cost : ndarray of float64
        Expectations of the shown (user, arm) pairs.
    """

    batch: np.ndarray
    arm: np.ndarray
    segment: np.ndarray
    truth_row: np.ndarray
    click: np.ndarray
    conversion: np.ndarray
    cost: np.ndarray
    revenue: np.ndarray
    p_click: np.ndarray
    p_conversion: np.ndarray
    order_value: np.ndarray
    expected_cost: np.ndarray


def batch_totals(
    rows: ServedRows,
    reward: np.ndarray,
    best: np.ndarray,
    n_batches: int,
    n_arms: int,
    n_segments: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum the served rows per batch, per (batch, arm) and per (segment, arm), compiled.

    ``tests/reference/tally.py`` holds a vectorized numpy reference the tests compare it to.

    Parameters
    ----------
    rows : ServedRows
    reward : ndarray of shape (n_truth_rows * n_arms,)
        Expected reward of each (truth row, arm), raveled.
    best : ndarray of shape (n_truth_rows,)
        The best arm's expected reward per truth row (regret is measured against it).
    n_batches, n_arms, n_segments : int

    Returns
    -------
    per_batch : ndarray of shape (n_batches, N_SERIES_METRICS)
    per_arm : ndarray of shape (n_batches, n_arms), int64
    per_cell : ndarray of shape (n_segments * n_arms, N_CELL_METRICS)
        Cell ``segment * n_arms + arm``.
    """
    kernel = _compiled()
    per_batch = np.zeros((n_batches, N_SERIES_METRICS))
    per_arm = np.zeros((n_batches, n_arms), dtype=np.int64)
    per_cell = np.zeros((n_segments * n_arms, N_CELL_METRICS))
    if rows.arm.size == 0:
        return per_batch, per_arm, per_cell
    kernel(
        rows.batch, rows.arm, rows.segment, rows.truth_row, rows.click, rows.conversion,
        rows.cost, rows.revenue, rows.p_click, rows.p_conversion, rows.order_value,
        rows.expected_cost, reward, best, n_arms, per_batch, per_arm, per_cell,
    )  # fmt: skip
    return per_batch, per_arm, per_cell


def fused_totals(
    shown: np.ndarray,
    truth_row: np.ndarray,
    segment: np.ndarray,
    batch: np.ndarray,
    uniforms: np.ndarray,
    truth: tuple[np.ndarray, ...],
    cpc: float | None,
    n_batches: int,
    n_arms: int,
    n_segments: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`batch_totals` of rows realized on the fly, in one compiled pass.

    Parameters
    ----------
    shown, truth_row, segment, batch : ndarray of shape (n_rows,), int64
        Arm shown (-1: not served, skipped), truth row, the user's segment and batch of each row.
    uniforms : ndarray of shape (3, n_rows)
        Click, conversion and basket uniforms.
    truth : tuple of ndarray
        ``(ctr, cvr, order_value, expected_cost, reward)`` of shape
        (n_truth_rows * n_arms,) and ``best`` of shape (n_truth_rows,).
    cpc : float or None
        Cost per click under CPC pricing; None for CPM (the expected cost).
    n_batches, n_arms, n_segments : int

    Returns
    -------
    (per_batch, per_arm, per_cell) as :func:`batch_totals`.
    """
    kernel = _compiled_fused()
    from simulation.response import BASKET_HIGH, BASKET_LOW

    per_batch = np.zeros((n_batches, N_SERIES_METRICS))
    per_arm = np.zeros((n_batches, n_arms), dtype=np.int64)
    per_cell = np.zeros((n_segments * n_arms, N_CELL_METRICS))
    kernel(
        shown, truth_row, segment, batch, uniforms, *truth, -1.0 if cpc is None else cpc,
        BASKET_LOW, BASKET_HIGH, n_arms, per_batch, per_arm, per_cell,
    )  # fmt: skip
    return per_batch, per_arm, per_cell


def warm_up() -> None:
    """Compile (or load from numba's on-disk cache) the engine's kernel now, for its dtypes.

    The engine calls this before forking its workers, which then inherit the
    compiled kernel instead of each loading it again. (The engine uses
    :func:`fused_totals`; :func:`batch_totals` is its reference and fallback.)
    """
    one_int = np.zeros(1, dtype=np.int64)
    one = np.zeros(1)
    # Read-only truth arrays (the audience-wide tables shared with forked
    # workers) are a separate compilation: load both kinds before the fork.
    frozen = np.zeros(1)
    frozen.flags.writeable = False
    u = np.zeros((3, 1))
    for truth in (one, frozen):
        fused_totals(one_int, one_int, one_int, one_int, u, (truth,) * 6, None, 1, 1, 1)


@functools.cache
def _compiled():
    """The kernel of :func:`batch_totals`, compiled (or loaded from numba's cache) once."""

    @jit
    def totals_kernel(
        batch, arm, segment, truth_row, click, conversion, cost, revenue, p_click,
        p_conversion, order_value, expected_cost, reward, best, k, per_batch, per_arm,
        per_cell,
    ):  # fmt: skip
        for i in range(arm.shape[0]):
            b = batch[i]
            a = arm[i]
            chosen = reward[truth_row[i] * k + a]
            per_batch[b, 0] += 1.0
            per_batch[b, 1] += click[i]
            per_batch[b, 2] += conversion[i]
            per_batch[b, 3] += cost[i]
            per_batch[b, 4] += revenue[i]
            per_batch[b, 5] += best[truth_row[i]] - chosen
            per_batch[b, 6] += chosen
            per_batch[b, 7] += p_click[i]
            per_batch[b, 8] += p_click[i] * p_conversion[i] * order_value[i]
            per_batch[b, 9] += expected_cost[i]
            per_batch[b, 10] += p_click[i] * p_conversion[i]
            per_arm[b, a] += 1
            c = segment[i] * k + a
            per_cell[c, 0] += 1.0
            per_cell[c, 1] += click[i]
            per_cell[c, 2] += conversion[i]
            per_cell[c, 3] += cost[i]
            per_cell[c, 4] += revenue[i]

    return totals_kernel


@functools.cache
def _compiled_fused():
    """The fused kernel of :func:`fused_totals`, compiled (or loaded from numba's cache) once."""

    @jit
    def fused_kernel(
        shown, truth_row, segment, batch, uniforms, ctr, cvr, order_value, expected_cost,
        reward, best, cpc, basket_low, basket_high, k, per_batch, per_arm, per_cell,
    ):  # fmt: skip
        mid = 0.5 * (basket_low + basket_high)
        for i in range(shown.shape[0]):
            a = shown[i]
            if a < 0:
                continue
            b = batch[i]
            fi = truth_row[i] * k + a
            p_click = ctr[fi]
            p_conv = cvr[fi]
            value = order_value[fi]
            click = uniforms[0, i] < p_click
            conversion = click and uniforms[1, i] < p_conv
            revenue = 0.0
            if conversion:
                revenue = value * ((basket_low + (basket_high - basket_low) * uniforms[2, i]) / mid)
            # A negative ``cpc`` means CPM pricing: the impression's expected cost.
            cost = expected_cost[fi] if cpc < 0.0 else (cpc if click else 0.0)
            chosen = reward[fi]
            per_batch[b, 0] += 1.0
            per_batch[b, 1] += click
            per_batch[b, 2] += conversion
            per_batch[b, 3] += cost
            per_batch[b, 4] += revenue
            per_batch[b, 5] += best[truth_row[i]] - chosen
            per_batch[b, 6] += chosen
            per_batch[b, 7] += p_click
            per_batch[b, 8] += p_click * p_conv * value
            per_batch[b, 9] += expected_cost[fi]
            per_batch[b, 10] += p_click * p_conv
            per_arm[b, a] += 1
            c = segment[i] * k + a
            per_cell[c, 0] += 1.0
            per_cell[c, 1] += click
            per_cell[c, 2] += conversion
            per_cell[c, 3] += cost
            per_cell[c, 4] += revenue

    return fused_kernel
