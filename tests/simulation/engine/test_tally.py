import numpy as np
import pytest
from reference.tally import batch_totals_numpy

from simulation.engine.tally import (
    SEGMENT_METRICS,
    SERIES_METRICS,
    ServedRows,
    batch_totals,
    fused_totals,
)

numba = pytest.importorskip("numba")


def _rows(rng, n_rows, n_batches, k, n_seg, n_truth, drop_batches=()):
    batch = np.sort(rng.integers(0, n_batches, n_rows))
    keep = ~np.isin(batch, drop_batches)  # batches the budget left empty
    batch = batch[keep]
    m = batch.size
    click = rng.random(m) < 0.3
    conversion = click & (rng.random(m) < 0.2)
    return ServedRows(
        batch=batch,
        arm=rng.integers(0, k, m),
        segment=rng.integers(0, n_seg, m),
        truth_row=rng.integers(0, n_truth, m),
        click=click,
        conversion=conversion,
        cost=rng.random(m) * 0.01,
        revenue=np.where(conversion, rng.random(m) * 80.0, 0.0),
        p_click=rng.random(m) * 0.1,
        p_conversion=rng.random(m) * 0.2,
        order_value=rng.random(m) * 80.0,
        expected_cost=rng.random(m) * 0.01,
    )


@pytest.mark.parametrize("drop", [(), (0, 3, 4, 9)], ids=["all-batches", "empty-batches"])
def test_compiled_totals_equal_the_numpy_reference(drop):
    rng = np.random.default_rng(7)
    k, n_seg, n_truth, n_batches = 4, 3, 50, 10
    rows = _rows(rng, 5_000, n_batches, k, n_seg, n_truth, drop)
    reward = rng.random(n_truth * k)
    best = reward.reshape(n_truth, k).max(axis=1)
    fast = batch_totals(rows, reward, best, n_batches, k, n_seg)
    ref = batch_totals_numpy(rows, reward, best, n_batches, k, n_seg)
    for got, want in zip(fast, ref):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    per_batch, per_arm, per_cell = ref
    # Independent checks of the reference: counts add up, empty batches stay empty.
    assert per_batch[:, 0].sum() == rows.arm.size == per_arm.sum() == per_cell[:, 0].sum()
    assert (per_batch[list(drop), :] == 0).all()
    np.testing.assert_array_equal(per_arm.sum(axis=1), per_batch[:, 0])
    assert per_batch[:, 1].sum() == rows.click.sum() == per_cell[:, 1].sum()
    np.testing.assert_allclose(per_batch[:, 4].sum(), rows.revenue.sum())
    assert (per_batch[:, 5] >= -1e-12).all()  # regret against the best arm


def test_no_rows():
    rng = np.random.default_rng(0)
    rows = _rows(rng, 0, 3, 2, 2, 5)
    per_batch, per_arm, per_cell = batch_totals(rows, np.ones(10), np.ones(5), 3, 2, 2)
    assert per_batch.shape == (3, len(SERIES_METRICS)) and not per_batch.any()
    assert per_arm.shape == (3, 2) and per_cell.shape == (4, 5)


def test_compiled_tallies_write_the_named_metrics_in_order():
    """Each column of the kernels' output is the metric its name in the layout says."""
    rng = np.random.default_rng(5)
    k, n_seg, n_truth, n_batches = 3, 2, 40, 4
    rows = _rows(rng, 2_000, n_batches, k, n_seg, n_truth)
    reward = rng.random(n_truth * k)
    best = reward.reshape(n_truth, k).max(axis=1)
    per_batch, _, per_cell = batch_totals(rows, reward, best, n_batches, k, n_seg)
    assert per_batch.shape[1] == len(SERIES_METRICS)
    assert per_cell.shape[1] == len(SEGMENT_METRICS)
    chosen = reward[rows.truth_row * k + rows.arm]
    by_name = {
        "impressions": rows.arm.size,
        "clicks": rows.click.sum(),
        "conversions": rows.conversion.sum(),
        "spend": rows.cost.sum(),
        "revenue": rows.revenue.sum(),
        "regret": (best[rows.truth_row] - chosen).sum(),
        "expected_reward": chosen.sum(),
        "expected_clicks": rows.p_click.sum(),
        "expected_revenue": (rows.p_click * rows.p_conversion * rows.order_value).sum(),
        "expected_spend": rows.expected_cost.sum(),
        "expected_conversions": (rows.p_click * rows.p_conversion).sum(),
    }
    assert set(by_name) == set(SERIES_METRICS)
    for i, name in enumerate(SERIES_METRICS):
        np.testing.assert_allclose(per_batch[:, i].sum(), by_name[name], rtol=1e-12, err_msg=name)
    for i, name in enumerate(SEGMENT_METRICS):
        np.testing.assert_allclose(per_cell[:, i].sum(), by_name[name], rtol=1e-12, err_msg=name)


def test_fused_tally_width_equals_the_metric_lists():
    rng = np.random.default_rng(1)
    n, k, n_truth = 300, 3, 20
    truth = (*(rng.random(n_truth * k) for _ in range(5)), np.ones(n_truth))
    one = np.zeros(n, dtype=np.int64)
    shown = rng.integers(0, k, n)
    keys = rng.integers(0, n_truth, n)
    per_batch, per_arm, per_cell = fused_totals(
        shown, keys, one, one, rng.random((3, n)), truth, None, 1, k, 1
    )
    assert per_batch.shape == (1, len(SERIES_METRICS))
    assert per_cell.shape == (k, len(SEGMENT_METRICS))
    assert per_arm.shape == (1, k)
