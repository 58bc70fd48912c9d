"""What each policy served at the generated level, component by component."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.config import PRESETS, ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.generated import _ServedCounts, oracle_table
from simulation.scenario import build_scenario


def test_counts_by_level_match_a_direct_count():
    rng = np.random.default_rng(3)
    n_levels, n_segments = (3, 2, 4), 5
    n_raw = int(np.prod(n_levels))
    served = _ServedCounts()
    segments, codes = [], []
    for _ in range(4):  # several chunks, keys repeating across them
        seg = rng.integers(0, n_segments, 300)
        code = rng.integers(0, n_raw, 300)
        served.add(seg * n_raw + code)
        segments.append(seg)
        codes.append(code)
    seg, code = np.concatenate(segments), np.concatenate(codes)
    levels = np.unravel_index(code, n_levels)
    offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]])
    expected = np.zeros((n_segments + 1, sum(n_levels)))
    for i in range(seg.size):
        for j in range(len(n_levels)):
            expected[seg[i], offsets[j] + levels[j][i]] += 1
            expected[-1, offsets[j] + levels[j][i]] += 1
    np.testing.assert_array_equal(served.by_level(n_segments, n_levels), expected)
    assert _ServedCounts().by_level(n_segments, n_levels).sum() == 0


@pytest.fixture(scope="module")
def hill48_run():
    config = PRESETS["hill48"].replace(
        policies=("uniform", "mvt_ts", "oracle"), n_impressions=20_000, n_seeds=2
    )
    scenario = build_scenario(config)
    return scenario, run_experiment(config, scenario=scenario)


def test_uniform_serves_each_component_as_often_as_the_valid_compositions_hold_it(hill48_run):
    # hill48: 48 valid compositions. Uniform over them gives each level the share of the
    # valid compositions that have it; 40,000 impressions hold every share to a binomial
    # standard error below 0.0025, and the bound is five of them.
    scenario, result = hill48_run
    space = scenario.levels["generated"].space
    valid = space.enumerate_valid()
    frame = result.component_allocation_frame()
    rows = frame[(frame["policy"] == "uniform") & (frame["segment"] == "all")]
    for j, axis in enumerate(space.axis_names):
        expected = np.bincount(valid[:, j], minlength=space.n_levels[j]) / len(valid)
        on_axis = rows[rows["axis"] == axis]
        impressions = on_axis.groupby("component", sort=False)["impressions"].sum()
        observed = impressions.to_numpy() / impressions.sum()
        np.testing.assert_allclose(observed, expected, atol=5 * 0.0025)


def test_the_oracle_serves_exactly_its_table(hill48_run):
    scenario, result = hill48_run
    space = scenario.levels["generated"].space
    best = oracle_table(scenario, result.config.objective)
    frame = result.component_allocation_frame()
    rows = frame[(frame["policy"] == "oracle") & (frame["segment"] == "all")]
    # hill48's truth is the same for every user: one composition, each of its levels
    # served every time, every other level never.
    assert (best == best[0]).all()
    for j, axis in enumerate(space.axis_names):
        shares = rows[(rows["axis"] == axis) & (rows["seed"] == 0)]["share"].to_numpy()
        np.testing.assert_array_equal(shares, np.eye(space.n_levels[j])[best[0, j]])


def test_counts_add_up_to_the_level_s_impressions():
    config = ExperimentConfig(
        levels=("generated",), policies=("uniform", "mvt_ts"), n_users=400, n_segments=3,
        n_impressions=3_000, batch_size=500, n_seeds=2,
    )  # fmt: skip
    result = run_experiment(config, scenario=build_scenario(config))
    frame = result.component_allocation_frame()
    summary = result.summary_frame().set_index(["policy", "seed"])
    assert set(frame["policy"]) == {"uniform", "mvt_ts"}
    for (policy, seed, segment, _), rows in frame.groupby(["policy", "seed", "segment", "axis"]):
        assert rows["share"].sum() == pytest.approx(1.0)
        if segment == "all":
            assert rows["impressions"].sum() == summary.loc[(policy, seed), "impressions"]
    # "all" is the segments' sum.
    key = ["policy", "seed", "axis", "component"]  # "none" is a level of several axes
    by_segment = frame[frame["segment"] != "all"].groupby(key)
    everyone = frame[frame["segment"] == "all"].set_index(key)
    summed = by_segment["impressions"].sum()
    np.testing.assert_array_equal(summed.to_numpy(), everyone.loc[summed.index, "impressions"])
    # A segment's most-served composition is served no more often than any of its components.
    top = result.top_creatives_frame()
    space = build_scenario(config).levels["generated"].space
    names = dict(zip(space.axis_names, space.level_names))
    for row in top.to_dict("records"):
        served = frame[
            (frame["policy"] == row["policy"]) & (frame["seed"] == row["seed"])
            & (frame["segment"] == row["segment"])
        ].set_index(["axis", "component"])["share"]  # fmt: skip
        for axis in space.axis_names:
            assert row["share"] <= served[(axis, names[axis][row[axis]])] + 1e-12
