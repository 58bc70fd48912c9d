"""Worlds, not only seeds: the hidden parameters redrawn, and intervals that say so."""

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment, world_seed

SMALL = ExperimentConfig(
    n_users=1_000,
    n_segments=3,
    n_variants=3,
    levels=("generic", "user"),
    policies=("uniform", "thompson"),
    n_impressions=2_000,
    batch_size=500,
    n_seeds=2,
    n_checkpoints=4,
)


@pytest.fixture(scope="module")
def one():
    return run_experiment(SMALL)


@pytest.fixture(scope="module")
def two():
    return run_experiment(SMALL.replace(n_worlds=2))


def test_world_zero_is_the_single_world_run_exactly(one, two):
    assert world_seed(SMALL.seed, 0) == SMALL.seed
    n = SMALL.n_seeds
    np.testing.assert_array_equal(two.series[:n], one.series)
    np.testing.assert_array_equal(two.allocation[:n], one.allocation)
    np.testing.assert_array_equal(two.segment_stats[:n], one.segment_stats)
    # One world: the published columns, no world column.
    assert "world" not in one.summary_frame() and "world" not in one.timeseries_frame()
    assert one.n_seeds == 2 and two.n_seeds == 2 and two.n_replications == 4


def test_several_worlds_carry_a_world_column_and_world_one_differs(one, two):
    summary = two.summary_frame()
    assert list(summary.columns[:4]) == ["policy", "level", "world", "seed"]
    assert sorted(summary["world"].unique()) == [0, 1]
    for frame in (two.timeseries_frame(), two.allocation_frame(), two.segment_frame()):
        assert sorted(frame["world"].unique()) == [0, 1]
        assert sorted(frame["seed"].unique()) == [0, 1]
    w0 = summary[summary["world"] == 0].drop(columns="world").reset_index(drop=True)
    w1 = summary[summary["world"] == 1].drop(columns="world").reset_index(drop=True)
    # Redrawn response parameters: every (level, policy, seed)'s true CTR moves.
    assert (w0["expected_ctr"] != w1["expected_ctr"]).all()
    # The audience stays: the same segments in both worlds.
    assert two.segment_names == one.segment_names


def test_uplift_intervals_say_they_cover_seeds_and_worlds(two):
    table = two.uplift_frame()
    assert not table.empty
    assert (table["interval_over"] == "2 worlds (2 seeds each)").all()
    # Every (world, seed) is a pair (rarer metrics drop pairs with no conversion).
    assert (table.loc[table["metric"] == "ctr", "n_pairs"] == 4).all()
    assert (table["n_pairs"] <= 4).all()


def test_worlds_and_logging_do_not_mix(tmp_path):
    with pytest.raises(ValueError, match="`n_worlds` must be 1 when logging"):
        run_experiment(SMALL.replace(n_worlds=2), log_path=tmp_path / "log.parquet")


@pytest.mark.parametrize("bad", [0, 21, 1.5, True])
def test_bad_n_worlds(bad):
    with pytest.raises(ValueError, match="`n_worlds` must be an int in"):
        SMALL.replace(n_worlds=bad)


def test_stopped_at_has_one_row_per_replication_as_its_docstring_says(two):
    # 2 worlds x 2 seeds: the leading axis is the replications, world-major, as in series.
    assert two.stopped_at().shape == (4, len(SMALL.levels), len(SMALL.policies))
    assert two.stopped_at().shape[0] == two.series.shape[0] == two.n_replications
