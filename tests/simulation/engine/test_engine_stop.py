"""Stopping a run (its workers end within a second) and budget stops recorded per run."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time

import numpy as np
import pytest

from simulation.config import PRESETS
from simulation.engine import RunCancelled, run_experiment

#: Long enough that a run has many chunks (about 65,000 impressions each) left to stop.
LONG = PRESETS["quick"].replace(
    n_impressions=2_000_000, n_seeds=2, levels=("generic", "segment"), policies=("uniform", "ucb1")
)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_run_stopped_after_its_first_progress_report_raises_and_leaves_no_workers(n_jobs):
    stop = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        stop.set()

    started = time.perf_counter()
    with pytest.raises(RunCancelled):
        run_experiment(LONG, progress=progress, stop=stop, n_jobs=n_jobs)
    # The whole run would take well over 10 s on this machine; stopped, it ends at once.
    assert time.perf_counter() - started < 10.0
    assert len(calls) >= 1
    # The first report is one chunk's impressions, far from the total (8 million).
    assert calls[0] < LONG.n_seeds * 2 * 2 * LONG.n_impressions
    deadline = time.monotonic() + 1.0
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mp.active_children() == []


def test_a_stop_set_before_the_run_starts_runs_nothing():
    stop = threading.Event()
    stop.set()
    calls = []
    with pytest.raises(RunCancelled):
        run_experiment(LONG, progress=lambda d, t: calls.append(d), stop=stop, n_jobs=1)
    assert calls == []


def test_an_unset_stop_changes_nothing():
    cfg = PRESETS["quick"].replace(n_impressions=5_000, batch_size=500, n_seeds=1)
    plain = run_experiment(cfg, n_jobs=1).summary_frame()
    with_stop = run_experiment(cfg, n_jobs=1, stop=threading.Event()).summary_frame()
    assert plain.equals(with_stop)


@pytest.mark.parametrize("pricing", ["cpm", "cpc"])
def test_budget_stop_is_recorded_and_matches_the_impressions_served(pricing):
    cfg = PRESETS["quick"].replace(
        n_impressions=100_000, budget=15.0, pricing=pricing, policies=("uniform", "thompson")
    )
    result = run_experiment(cfg, n_jobs=1)
    summary = result.summary_frame()
    stopped = summary["stopped_at_impression"]
    assert stopped.notna().all()  # $15 buys far fewer than 100,000 impressions here
    assert (stopped < cfg.n_impressions).all()
    np.testing.assert_array_equal(stopped.to_numpy(), summary["impressions"].to_numpy())
    # Serving stopped once the budget was spent: within one impression's cost of it.
    assert (summary["spend"] >= cfg.budget - 5.0).all()
    assert (summary["spend"] <= cfg.budget + 5.0).all()
    # The time series stops growing at the stop.
    ts = result.timeseries_frame()
    last = ts.groupby(["seed", "level", "policy"])["impressions"].max()
    assert (last < cfg.n_impressions).all()


def test_no_budget_no_stop():
    cfg = PRESETS["quick"].replace(n_impressions=5_000, batch_size=500, n_seeds=1)
    summary = run_experiment(cfg, n_jobs=1).summary_frame()
    assert summary["stopped_at_impression"].isna().all()
    assert (summary["impressions"] == cfg.n_impressions).all()
