"""Experiment page while a run is under way: live charts of the checkpoints so far; session end."""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from simulation.store import RunStore
from ui import charts
from ui.forms import experiment_config
from ui.runner import BackgroundRun

#: Seconds of work on this machine (compiled routes: about 45 million impressions/s): still
#: running while the test looks at it.
LONG = {
    "ex-impressions": 20_000_000, "ex-batch": 1_000, "ex-seeds": 2, "ex-variants": 3,
    "ex-levels": ["generic", "segment"], "ex-policies": ["uniform", "ucb1"],
    "ex-checkpoints": 200,
}  # fmt: skip


def _rows(chart) -> list[dict]:
    return pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()


def test_a_running_experiment_draws_its_charts_so_far(
    app, open_page, run_small_experiment, adlab_home, monkeypatch
):
    monkeypatch.setenv("ADLAB_RUN_WAIT", "1")
    monkeypatch.setenv("ADLAB_LIVE_CHARTS_AFTER", "0")  # this run lasts seconds here
    at = open_page(app, "experiment")
    run_small_experiment(at, **LONG)
    job = at.session_state["ex-job"]
    try:
        # Rerun the page as its fragments would until the first checkpoints are in.
        deadline = time.monotonic() + 180
        while not at.get("vega_lite_chart") and time.monotonic() < deadline:
            time.sleep(0.5)
            at.run()
        assert not at.exception, at.exception
        assert job.status == "running"
        shown = [m.value for m in at.markdown]
        total = f"of {2 * 2 * 2 * 20_000_000:,} impressions**"  # seeds x levels x policies
        assert any(m.startswith("**In progress — ") and m.endswith(total) for m in shown), shown
        assert any("Cumulative click-through rate** (in progress)" in m for m in shown)
        assert any("Cumulative return on ad spend** (in progress)" in m for m in shown)
        notes = [c.value for c in at.caption]
        assert any("dashed where not all 2 have yet" in n and "So far:" in n for n in notes), notes
        ctr, roas = at.get("vega_lite_chart")[:2]
        for chart in (ctr, roas):
            spec = json.loads(chart.proto.spec)
            assert spec["spec"]["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 20_000_000]
            steps = [row["step"] for row in _rows(chart)]
            # Partial: the lines cover the start of the run only.
            assert steps and max(steps) < 20_000_000
        assert not any("Final metrics" in m for m in shown)  # the finished run's view is not up
    finally:
        at.button(key="ex-stop").click().run()
    assert job.status == "stopped"
    assert RunStore.open(adlab_home).list().empty


def test_a_run_expected_to_be_short_shows_its_progress_without_live_charts(
    app, open_page, run_small_experiment, monkeypatch
):
    monkeypatch.setenv("ADLAB_RUN_WAIT", "0.5")
    monkeypatch.setenv("ADLAB_LIVE_CHARTS_AFTER", "3600")  # no run here lasts an hour
    at = open_page(app, "experiment")
    run_small_experiment(at, **LONG)
    job = at.session_state["ex-job"]
    try:
        deadline = time.monotonic() + 60
        while job.eta_seconds() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        at.run()
        assert not at.exception, at.exception
        assert job.status == "running" and job.eta_seconds() is not None
        # The progress and its Stop button, but no charts redrawn every second.
        assert at.button(key="ex-stop")
        assert not at.get("vega_lite_chart")
        assert not any(m.value.startswith("**In progress") for m in at.markdown)
    finally:
        at.button(key="ex-stop").click().run()
    assert job.status == "stopped"


def test_live_bands_show_intervals_only_where_every_seed_has_the_point():
    grid = np.array([100, 200, 300, 400])
    rows = []
    for seed, last in ((0, 400), (1, 200)):
        for step in grid[grid <= last]:
            rows.append({"seed": seed, "level": "generic", "policy": "ucb1", "step": step,
                         "ctr": 0.01 + 0.001 * seed})  # fmt: skip
    data = charts.live_bands_data(pd.DataFrame(rows), "ctr", n_replications=2, checkpoints=grid)
    every, some = (data[data["Seeds"] == value].set_index("step") for value in charts.LIVE_COVERAGE)
    assert list(every.index) == [100, 200] and every[["low", "high"]].notna().all().all()
    # The dashed part starts at the last complete point, so the two parts join.
    assert list(some.index) == [200, 300, 400] and some[["low", "high"]].isna().all().all()
    assert some.loc[400, "mean"] == 0.01  # the line goes on with the seeds that are there
    assert every.loc[100, "mean"] == some.loc[200, "mean"] == every.loc[200, "mean"]
    assert every.loc[100, "mean"] == pytest.approx((0.01 + 0.011) / 2)


def test_a_run_stops_when_its_browser_session_ends(small_world, adlab_home):
    config = experiment_config(
        small_world, levels=["generic", "segment"], policies=["uniform", "ucb1"],
        n_impressions=20_000_000, batch_size=1_000, n_seeds=2, objective="ctr", n_variants=3,
    )  # fmt: skip
    connected = threading.Event()
    connected.set()
    job = BackgroundRun(config, alive=connected.is_set)
    try:
        assert not job.wait(2.0)  # connected: it runs on
        connected.clear()  # the tab closed
        assert job.wait(10.0)
    finally:
        job.stop()
    assert job.status == "stopped"
    assert job.reason == "the browser session ended"
    deadline = time.monotonic() + 2.0
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mp.active_children() == []
    assert RunStore.open(adlab_home).list().empty


def test_a_failing_session_check_never_stops_a_run(small_world):
    # Long enough not to end while watched: uniform alone at one level, warm, plays
    # 20,000,000 impressions in about a second.
    config = experiment_config(
        small_world, levels=["generic", "segment"], policies=["uniform", "ucb1"],
        n_impressions=20_000_000, batch_size=1_000, n_seeds=3, objective="ctr", n_variants=3,
    )  # fmt: skip

    def broken() -> bool:
        raise RuntimeError("no runtime")

    job = BackgroundRun(config, alive=broken)
    try:
        assert not job.wait(1.5), (job.status, job.error, getattr(job, "reason", None))
        assert job.status == "running"
    finally:
        job.stop()
        assert job.wait(5.0)
