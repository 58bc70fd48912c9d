"""Experiment page: runs in the background with a Stop button, honest errors and stale results."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import re
import time

import pandas as pd

from simulation.store import RunStore
from ui.fmt import WORD_JOINER
from ui.forms import WorldSettings
from ui.runner import served_only


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


SMALL_WORLD_2 = WorldSettings(seed=4, n_users=2_000, n_segments=3)
LONG = {
    "ex-impressions": 20_000_000, "ex-batch": 1_000, "ex-seeds": 2, "ex-variants": 3,
    "ex-levels": ["generic", "segment"], "ex-policies": ["uniform", "ucb1"],
}  # fmt: skip


def test_run_then_stop_ends_the_run_and_saves_nothing(
    app, open_page, run_small_experiment, adlab_home, monkeypatch
):
    monkeypatch.setenv("ADLAB_RUN_WAIT", "1")
    at = open_page(app, "experiment")
    assert any("Estimated run time" in c.value for c in at.caption)
    run_small_experiment(at, **LONG)
    assert not at.exception
    job = at.session_state["ex-job"]
    assert job.status == "running"  # 80 M impressions take minutes: still going after 1 s
    texts = [c.value for c in at.caption]
    assert any("run goes on in the background" in t for t in texts), texts
    stop = at.button(key="ex-stop")
    stop.click().run()
    assert not at.exception
    assert job.status == "stopped"
    assert any("Stopped after" in w.value and "nothing was saved" in w.value for w in at.warning)
    assert "ex-current" not in at.session_state
    assert "ex-job" not in at.session_state
    deadline = time.monotonic() + 1.0
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mp.active_children() == []
    assert RunStore.open(adlab_home).list().empty


def test_a_new_run_stops_the_previous_one(app, open_page, run_small_experiment, monkeypatch):
    monkeypatch.setenv("ADLAB_RUN_WAIT", "0.5")
    at = open_page(app, "experiment")
    run_small_experiment(at, **LONG)
    first = at.session_state["ex-job"]
    next(b for b in at.button if b.label == "Run experiment").click().run()
    assert first.wait(2.0) and first.status == "stopped"
    at.session_state["ex-job"].stop()


def test_the_runner_stops_its_run_when_garbage_collected(small_world):
    import gc

    from ui.forms import experiment_config
    from ui.runner import BackgroundRun

    config = experiment_config(
        small_world, levels=["generic"], policies=["uniform"], n_impressions=20_000_000,
        batch_size=1_000, n_seeds=1, objective="ctr", n_variants=3,
    )  # fmt: skip
    job = BackgroundRun(config)
    shared = job._shared
    del job
    gc.collect()
    assert shared.finished.wait(5.0)
    assert shared.status == "stopped"


def test_an_invalid_number_is_explained_beside_the_button(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-impressions": 30_000_000})
    assert not at.exception
    assert any("between 1 and 20,000,000" in _shown(e.value) for e in at.error), at.error
    assert "ex-job" not in at.session_state and "ex-current" not in at.session_state


def test_results_from_other_settings_are_marked_out_of_date(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    shown = at.session_state["ex-current"]
    assert not any("out of date" in w.value for w in at.warning)
    # Submitted settings that cannot run leave the old results on screen, marked as such.
    run_small_experiment(at, **{"ex-impressions": 30_000_000})
    assert at.session_state["ex-current"] is shown
    assert at.error
    assert any("out of date:** the settings above have changed" in w.value for w in at.warning)
    # So does a new audience from the Audience page, which the warning names (the form
    # above has not changed).
    run_small_experiment(at)
    assert not any("out of date" in w.value for w in at.warning)
    at.session_state["world"] = SMALL_WORLD_2
    at.run()
    (stale,) = [w.value for w in at.warning if "out of date" in w.value]
    assert "the audience (Audience page) has changed since this run" in stale
    # And a new hidden world from the World page, named as such.
    at.session_state["world"] = dataclasses.replace(SMALL_WORLD_2, personalization_scale=0.0)
    at.run()
    (stale,) = [w.value for w in at.warning if "out of date" in w.value]
    assert (
        "the audience (Audience page) and the world's personalization scale (World page) "
        "have changed since this run" in stale
    ), stale
    assert "settings above" not in stale


def test_the_results_page_says_a_run_is_going_on(app, open_page, run_small_experiment, monkeypatch):
    monkeypatch.setenv("ADLAB_RUN_WAIT", "0.5")
    at = open_page(app, "experiment")
    run_small_experiment(at, **LONG)
    job = at.session_state["ex-job"]
    try:
        at.switch_page("ui/pages/results.py").run()
        assert not at.exception
        infos = [i.value for i in at.info]
        assert any("An experiment is running on the Experiment page" in t for t in infos)
        assert not any("No experiment run in this tab yet" in t for t in infos)
    finally:
        job.stop()


def test_a_budget_stop_is_said_and_the_charts_end_there(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-cap": True, "ex-budget": 5.0, "ex-levels": ["segment"]})
    assert not at.exception
    notes = [_shown(w.value) for w in at.warning if "spend cap" in _shown(w.value)]
    assert notes and "stopped 6 of 6 runs" in _shown(notes[0]), notes
    result = at.session_state["ex-current"]["result"]
    served = result.summary_frame()["impressions"].max()
    for chart in at.get("vega_lite_chart")[:3]:
        steps = [row["step"] for row in _chart_rows(chart) if "step" in row]
        assert steps and max(steps) <= served < result.config.n_impressions
    # Reloaded on the Results page: the same note, the chart cut the same way.
    at.switch_page("ui/pages/results.py").run()
    assert not at.exception
    again = [_shown(w.value) for w in at.warning if "spend cap" in _shown(w.value)]
    assert again == notes
    # An Altair chart: its rows come as named Arrow datasets.
    (chart,) = at.get("vega_lite_chart")
    rows = [r for d in chart.proto.datasets for r in _arrow_rows(d.data.data)]
    steps = [r["step"] for r in rows if "step" in r]
    assert steps and max(steps) <= served


def _chart_rows(chart):
    """The rows of a band chart's data (an Arrow table in the element)."""
    return _arrow_rows(chart.proto.data.data)


def _arrow_rows(data: bytes) -> list[dict]:
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_all().to_pylist()


def test_served_only_drops_checkpoints_after_the_stop():
    ts = pd.DataFrame(
        {
            "seed": 0,
            "level": "generic",
            "policy": "ucb1",
            "step": [100, 200, 300, 400],
            "impressions": [100.0, 200.0, 250.0, 250.0],
        }
    )
    assert served_only(ts)["step"].tolist() == [100, 200, 250]  # ends at the stop
    alloc = pd.DataFrame(
        {
            "seed": 0,
            "level": "generic",
            "policy": "ucb1",
            "step": [100, 100, 200, 200],
            "arm": [0, 1, 0, 1],
            "impressions": [60.0, 40.0, 90.0, 60.0],
        }
    )
    assert served_only(alloc)["step"].tolist() == [100, 100, 150, 150]
    whole = ts.assign(impressions=ts["step"].astype(float))
    assert served_only(whole).equals(whole)


def test_progress_is_the_engines_count_of_impressions_over_every_world(small_world, monkeypatch):
    # The engine reports impressions over worlds, seeds and the policies each level plays;
    # the page once divided by its own count of batches of one world, so a run of two
    # worlds showed 100 % half-way. A stand-in run reports half its impressions and waits.
    import ui.runner as runner
    from ui.forms import experiment_config

    config = experiment_config(
        small_world, levels=["generic", "segment"], policies=["uniform", "ucb1"],
        n_impressions=100_000, batch_size=1_000, n_seeds=3, objective="ctr", n_variants=3,
        n_worlds=2,
    )  # fmt: skip
    total = 2 * 3 * 2 * 2 * 100_000
    assert runner.run_impressions(config) == total

    def half_then_wait(config, *, progress, stop, **_):
        progress(total // 2, total)
        stop.wait(10.0)
        raise runner.RunCancelled("stopped")

    monkeypatch.setattr(runner, "run_and_save", half_then_wait)
    job = runner.BackgroundRun(config)
    try:
        deadline = time.monotonic() + 5.0
        while job._shared.done == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert job.fraction == 0.5
        assert job.impressions_done == total // 2
    finally:
        job.stop()


def test_a_sessions_run_label_tells_a_capped_run_from_an_uncapped_one():
    from ui.forms import DEFAULT_CONFIG
    from ui.runner import run_label

    plain = run_label(DEFAULT_CONFIG)
    assert run_label(DEFAULT_CONFIG.replace(budget=50.0)) == f"{plain}, $50 spend cap"
    assert run_label(DEFAULT_CONFIG.replace(budget=0.01)) == f"{plain}, $0.01 spend cap"
    assert run_label(DEFAULT_CONFIG.replace(n_worlds=2)) == f"{plain}, 2 worlds"


def test_session_run_labels_tell_audience_sizes_and_own_inputs_apart():
    # The audit found "5 policies × generic/segment/user, 50,000 impressions, 2 seeds, CTR"
    # on two runs of 20,000 and 5,000 users, and on two differing only in own files.
    from ui.forms import DEFAULT_CONFIG
    from ui.runner import run_label

    plain = run_label(DEFAULT_CONFIG)
    assert plain.endswith(f", {DEFAULT_CONFIG.n_users:,} users")
    small = run_label(DEFAULT_CONFIG.replace(n_users=5_000))
    assert small != plain and small.endswith(", 5,000 users")
    own = {
        kinds: run_label(_with_files(DEFAULT_CONFIG, {f"{k}_file": f"/u/{k}.csv" for k in kinds}))
        for kinds in [(), ("segments",), ("catalogue", "templates")]
    }
    assert own[("segments",)].endswith(", own segments")
    assert own[("catalogue", "templates")].endswith(", own catalogue/templates")
    assert len(set(own.values())) == 3
    assert all(len(label) <= 120 for label in own.values())  # still a short name


def _with_files(config, files):
    """``config``'s settings with file fields set (no files to read: the label reads names)."""
    import dataclasses
    from types import SimpleNamespace

    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    return SimpleNamespace(**(fields | files))


def test_a_run_that_ends_within_the_clicks_wait_keeps_the_lines_above_its_results(
    app, open_page, run_small_experiment
):
    # The estimate and the learning-speed note sit between the form and the results. Drawn
    # only from the next rerun on, they pushed a fast run's results down at the reader's
    # first click after it (an audit saw a Level box jump from y=416 to y=1347).
    at = open_page(app, "experiment")
    run_small_experiment(at)
    assert not at.exception
    assert "ex-current" in at.session_state and "ex-job" not in at.session_state  # ended
    before = [c.value for c in at.caption]
    assert any("Estimated run time" in c for c in before)
    at.run()  # the reader's next click
    assert [c.value for c in at.caption][: len(before)] == before
