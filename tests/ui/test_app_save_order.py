"""A finished run is handed to the page before it is saved; its entry learns its run id after."""

from __future__ import annotations

import threading

import numpy as np

from simulation.store import RunStore
from ui import runner, state
from ui.forms import experiment_config
from ui.runner import BackgroundRun


def test_the_result_is_there_while_the_run_is_saved(small_world, adlab_home, monkeypatch):
    config = experiment_config(
        small_world, levels=["generic", "segment"], policies=["uniform", "ucb1"],
        n_impressions=20_000, batch_size=1_000, n_seeds=2, objective="ctr", n_variants=3,
    )  # fmt: skip
    saving, release = threading.Event(), threading.Event()
    real_save = runner._save

    def slow_save(*args):
        saving.set()
        release.wait(60)
        return real_save(*args)

    monkeypatch.setattr(runner, "_save", slow_save)
    job = BackgroundRun(config)
    try:
        assert job.wait_ready(120)
        assert saving.wait(60)
        # Computed, not yet saved: the page may draw it; the run is not over.
        assert job.result is not None and job.status == "running" and job.run_id is None
        entry = {"label": job.label, "config": config, "result": job.result,
                 "run_id": None, "warning": None, "saving": job}  # fmt: skip
        release.set()
        state.settle_run(entry)
    finally:
        release.set()
        job.stop()
    assert job.status == "finished"
    assert "saving" not in entry and entry["warning"] is None
    assert entry["run_id"] == job.run_id
    assert list(RunStore.open(adlab_home).list()["run_id"]) == [job.run_id]
    state.settle_run(entry)  # settled once: nothing changes
    assert entry["run_id"] == job.run_id


def test_frames_are_built_once_and_handed_out_as_copies(small_world):
    from simulation.engine.core import run_experiment
    from ui import cache

    config = experiment_config(
        small_world, levels=["generic", "segment"], policies=["uniform", "ucb1"],
        n_impressions=5_000, batch_size=500, n_seeds=2, objective="ctr", n_variants=3,
    )  # fmt: skip
    result = run_experiment(config, scenario=cache.scenario(config), n_jobs=1)
    first = result.summary_frame()
    first.loc[:, "ctr"] = np.nan  # a caller's change stays its own
    again = result.summary_frame()
    assert again["ctr"].notna().all()
    assert again is not result.summary_frame()
    fresh = type(result).summary_frame.__wrapped__(result)  # built anew, unmemoized
    assert again.equals(fresh)
