"""A live series while a run is under way: prefixes of the final time series, serial or forked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.config import PRESETS
from simulation.engine import run_experiment
from simulation.engine.live import LiveSeries

#: Several chunks (about 65,000 impressions each) per unit, so partial snapshots exist.
CFG = PRESETS["quick"].replace(
    n_impressions=200_000, n_seeds=2, levels=("generic", "segment"),
    policies=("uniform", "ucb1"), n_checkpoints=20,
)  # fmt: skip
KEYS = ["seed", "level", "policy", "step"]


def _run_with_snapshots(config, n_jobs):
    live = LiveSeries()
    snapshots = []

    def progress(done, total):
        # Sequential runs call this after every chunk, forked ones as reports arrive.
        snapshots.append((live.filled(), live.timeseries_frame()))

    result = run_experiment(config, progress=progress, n_jobs=n_jobs, live=live)
    return result, live, snapshots


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_partial_series_are_prefixes_of_the_final_one(n_jobs):
    result, live, snapshots = _run_with_snapshots(CFG, n_jobs)
    final = result.timeseries_frame()
    n_ckpt = result.checkpoints.size
    partial = [(f, s) for f, s in snapshots if 0 < len(s) < len(final)]
    assert partial, "no snapshot caught the run half-way"
    previous = np.zeros_like(snapshots[-1][0])
    for filled, frame in snapshots:
        if filled.size == 0:
            continue
        # Checkpoints only accumulate, and each unit's are a prefix of its series.
        assert (filled >= previous).all() and (filled <= n_ckpt).all()
        previous = filled
        assert len(frame) == filled.sum() * len(CFG.policies)
        joined = frame.merge(final, on=KEYS, how="left", suffixes=("", "_final"))
        for column in ("impressions", "clicks", "conversions", "spend", "revenue", "ctr"):
            np.testing.assert_array_equal(joined[column], joined[f"{column}_final"])
        per_unit = frame.groupby(["seed", "level", "policy"])["step"]
        for (_, _, _), steps in per_unit:
            np.testing.assert_array_equal(steps.to_numpy(), result.checkpoints[: steps.size])
    # After the run: the whole final series, in its own order and columns.
    pd.testing.assert_frame_equal(live.timeseries_frame(), final)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_live_series_changes_nothing_in_the_result(n_jobs):
    plain = run_experiment(CFG, n_jobs=n_jobs)
    watched = run_experiment(CFG, n_jobs=n_jobs, live=LiveSeries())
    for name in ("series", "allocation", "segment_stats", "checkpoints"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(watched, name))


def test_several_worlds_fill_their_own_replications():
    cfg = PRESETS["quick"].replace(
        n_impressions=20_000, n_seeds=2, n_worlds=2, levels=("generic",),
        policies=("uniform",), n_checkpoints=5,
    )  # fmt: skip
    live = LiveSeries()
    result = run_experiment(cfg, n_jobs=1, live=live)
    assert live.filled().shape == (4, 1)
    pd.testing.assert_frame_equal(live.timeseries_frame(), result.timeseries_frame())


def test_an_unstarted_series_is_empty():
    live = LiveSeries()
    assert live.timeseries_frame().empty
    assert live.filled().size == 0
