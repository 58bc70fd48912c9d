"""Results page: session runs, saved runs (also from outside the app), reload, compare, export."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from simulation.display import component_name
from simulation.store.run_store import RunStore
from ui.fmt import WORD_JOINER


def test_default_render_with_an_empty_store(app, open_page):
    at = open_page(app, "results")
    assert at.title[0].value == "Results"
    assert any("No experiment run in this tab yet" in i.value for i in at.info)
    assert any("The run store is empty" in i.value for i in at.info)


def test_runs_of_this_session_are_listed_reloaded_and_compared(
    app, open_page, run_small_experiment, shown_tables
):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    run_small_experiment(at, **{"ex-objective": "roas", "ex-seeds": 3})
    assert len(at.session_state["session_runs"]) == 2
    at.switch_page("ui/pages/results.py").run()
    assert not at.exception
    session, saved = at.dataframe[0].value, at.dataframe[1].value
    assert len(session) == 2 and len(saved) == 2
    # Never a mean over personalization levels: each run's best (level, policy), labelled.
    assert "Mean CTR" not in saved and saved["Its CTR"].str.endswith("%").all()
    assert saved["Best policy and level"].str.contains(", ").all()
    # A best that is not clearly best is marked, as `runs list` marks it (the catalogue's
    # verdict), and only such a best.
    from ui import cache

    verdict = cache.run_store().list().set_index("run_id")["best_clear"]
    marked = saved.set_index("Run id")["Best policy and level"].str.endswith(" (not clear)")
    assert verdict.reindex(marked.index).notna().all()
    assert (marked == ~verdict.reindex(marked.index).astype(bool)).all()
    # Newest first; the compare section shows both runs' headline metrics side by side.
    assert "ROAS" in at.selectbox(key="rs-run").format_func(at.selectbox(key="rs-run").value)
    # The run shown and run A are the ROAS run (its best ROAS first), run B the CTR one.
    roas, ctr = (
        ["Best ROAS (observed)", "Its CTR (observed)"],
        ["Best CTR (observed)", "Its ROAS (observed)"],
    )
    assert [m.label for m in at.metric] == roas + roas + ctr
    # 3 seeds against 2: not paired, and the heading does not say it is.
    assert any("differences of independent runs" in m.value for m in at.markdown)
    assert not any("paired differences" in m.value for m in at.markdown)
    # The reloaded run leads with its like-for-like uplift, the session run's own table.
    current = at.session_state["session_runs"][-1]["result"].uplift_frame()
    shown = next(t for t in shown_tables(at) if "True (expected)" in t.columns)
    assert len(shown) == len(current)
    assert shown["Observed (95 % interval)"].str.contains("%").all()
    lines = [m.value for m in at.markdown if m.value.startswith("**Observed**")]
    assert len(lines) == 3  # the reloaded run, then A and B
    assert all("interval" in line or "no detectable" in line for line in lines)
    assert len(at.get("vega_lite_chart")) == 3  # the reloaded run + two comparison charts
    # Choosing the same run twice is a warning, not a crash.
    at.selectbox(key="rs-b").set_value(at.selectbox(key="rs-a").value).run()
    assert any("two different runs" in w.value for w in at.warning)


def _cli_runs(home, names: tuple[str, ...], **settings) -> tuple[object, list[str]]:
    """Small engine runs saved in the store at ``home`` as the command line saves them."""
    from simulation.config import ExperimentConfig
    from simulation.engine.core import run_experiment

    config = ExperimentConfig(
        n_users=1_000, n_segments=2, batch_size=500, n_variants=2,
        **{"policies": ("uniform", "ucb1"), **settings},
    )  # fmt: skip
    result = run_experiment(config)
    store = RunStore.open(home)
    ids = [
        store.save(config=config.to_dict(), seed=0, summary=result.summary_frame(),
                   timeseries=result.timeseries_frame(), source="cli", name=name)
        for name in names
    ]  # fmt: skip
    return result, ids


def test_a_run_saved_elsewhere_is_listed_and_reloadable(app, open_page, adlab_home, shown_tables):
    result, (run_id,) = _cli_runs(
        adlab_home, ("from the command line",), n_impressions=2_000, n_seeds=2, n_checkpoints=4
    )
    at = open_page(app, "results")
    assert not at.exception
    assert at.selectbox(key="rs-run").value == run_id
    # Saved list, the uplift table and the metrics table. Saved without an uplift table
    # (as before it existed): the page computes it from the stored summary.
    assert len(at.dataframe) == 1 and len(at.table) == 2
    assert at.metric[0].label == "Best CTR (observed)"
    # The tiles carry their 95 % interval, short enough to fit a tile; the caption under
    # them says what it covers.
    assert at.metric[0].proto.delta.startswith("95 %: ")
    assert at.metric[0].proto.delta.endswith("%") and "seed" not in at.metric[0].proto.delta
    # 2,000 impressions give a handful of sales: the ROAS tile refuses its interval, in the
    # uplift cells' words (simulation.interval_words.tile_interval_notes), or shows it when
    # there are enough.
    roas = at.metric[1].proto.delta
    assert roas.endswith("×") or roas == "no interval: few sales"
    assert any("the 95 % intervals under the tiles are over 2 seeds × 1 world"
               in c.value.replace("\\", "") for c in at.caption)  # fmt: skip
    shown = shown_tables(at)[0]
    assert len(shown) == len(result.uplift_frame())
    assert list(shown["True (expected)"]) == [
        f"{100 * v:+.1f} %" for v in result.uplift_frame()["expected"]
    ]
    assert any(m.value.startswith("**Observed**") for m in at.markdown)


def test_the_saved_list_reads_each_run_s_summary_not_the_whole_run(
    app, open_page, adlab_home, monkeypatch
):
    _cli_runs(adlab_home, ("a", "b", "c"), n_impressions=1_000, n_seeds=1, n_checkpoints=2)
    loaded = []
    whole = RunStore.load
    monkeypatch.setattr(RunStore, "load", lambda self, run_id: loaded.append(run_id) or whole(
        self, run_id))  # fmt: skip
    at = open_page(app, "results")
    assert not at.exception, at.exception
    saved = at.dataframe[0].value
    assert list(saved["Name"]) == ["c", "b", "a"]
    assert saved["Best policy and level"].str.contains(", ").all()
    # Read in full: only the run shown below the list and the comparison's other run.
    assert len(set(loaded)) == 2


def test_a_foreign_run_is_offered_for_download_only(app, open_page, adlab_home):
    RunStore.open(adlab_home).save(
        config={"policy": "ucb1"}, seed=1, summary=pd.DataFrame({"ctr": [0.1]}),
        timeseries=pd.DataFrame({"round": [0]}),
    )  # fmt: skip
    at = open_page(app, "results")
    assert not at.exception
    assert any("only its download" in w.value for w in at.warning)


def test_export_zip_uses_the_stores_exporter(app, open_page, run_small_experiment):
    from ui.pages.results import export_zip

    at = open_page(app, "experiment")
    run_small_experiment(at)
    run_id = at.session_state["ex-current"]["run_id"]
    for fmt in ("csv", "parquet"):
        names = zipfile.ZipFile(io.BytesIO(export_zip(run_id, fmt))).namelist()
        assert f"{run_id}/summary.{fmt}" in names
        assert f"{run_id}/tables/allocation.{fmt}" in names


def test_a_saved_generated_run_shows_what_the_learner_believed(app, open_page, adlab_home):
    """Saved from the command line, reloaded: the effects chart and the most-served table."""
    import simulation.__main__ as cli

    out = str(Path(adlab_home).parent / "out")  # outside the store: --out inside it is refused
    code = cli.main(
        [
            "run", "--levels", "generated", "--policies", "uniform,mvt_ts", "--impressions",
            "1000", "--batch-size", "250", "--seeds", "1", "--users", "300", "--segments", "3",
            "--out", out, "--store", str(adlab_home), "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    at = open_page(app, "results")
    assert not at.exception
    assert any(m.value.startswith("**What the learner believes") for m in at.markdown)
    # The gap closed, from the saved table: from uniform and from the localized floor.
    (gap,) = [m.value for m in at.markdown if m.value.startswith("**How close to the best")]
    gap = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", gap).replace(WORD_JOINER, "")
    saved = pd.read_csv(f"{out}/gap_closed.csv").iloc[0]
    assert f"closed {100 * saved['share']:.1f} % of the uniform" in gap
    assert f"{100 * saved['share_from_local']:.1f} % of the gap from random ads in the" in gap
    assert at.selectbox(key="rs-effects-segment").value == "all"
    specs = [el.proto.spec for el in at.get("vega_lite_chart")]
    assert sum('"facet"' in s and '"true"' in s for s in specs) == 1
    # What each policy served, component by component, kept with the run.
    assert any(m.value.startswith("**What each policy served") for m in at.markdown)
    assert sum('"yOffset"' in s for s in specs) == 1
    # Without the world at hand the compositions are listed by their components' names.
    table = next(d.value for d in at.dataframe if "share of its impressions" in d.value.columns)
    written = pd.read_csv(f"{out}/top_creatives.csv")
    mine = written[written["policy"] == "mvt_ts"]
    # Named as in the charts: products "Name (category)", calls to action by their place.
    assert list(table["Product"]) == [component_name("product", p) for p in mine["product"]]
    assert list(table["Segment"]) == list(mine["segment"])
    assert table["Call to action"].str.startswith("call to action ").all()


def test_a_saved_run_with_policy_settings_shows_them_readably(
    app, open_page, adlab_home, shown_tables
):
    # The app's form offers registry names only; a run from the command line may set a
    # policy's settings, and the page names each variant with them.
    variants = ("epsilon_greedy(epsilon=0.05)", "epsilon_greedy(epsilon=0.2)")
    result, (run_id,) = _cli_runs(
        adlab_home, ("variants",), n_impressions=2_000, n_seeds=2, n_checkpoints=4,
        policies=("uniform", *variants),
    )  # fmt: skip
    at = open_page(app, "results")
    assert not at.exception
    assert at.selectbox(key="rs-run").value == run_id
    shown = shown_tables(at)[0]
    assert len(shown) == len(result.uplift_frame())
    # The like-for-like rows (the "best (...)" rows keep the spec, as before settings).
    names = {n for n in shown["Policy"] if not n.startswith("best (")}
    assert names == {"Uniform (A/B/n split)", "ε-greedy (epsilon=0.05)", "ε-greedy (epsilon=0.2)"}
    greedy = shown[shown["Policy"].str.startswith("ε-greedy")]
    assert (greedy["Compared with"] == "Generic · " + greedy["Policy"]).all()  # each with itself


def test_the_saved_runs_and_uplift_tables_are_narrow_enough_for_the_page(
    app, open_page, adlab_home, shown_tables
):
    # At 1280 px the saved runs ran 1,200 px wide (the best past the right edge) and at
    # 1400 px the uplift table cut off Interval over: five columns, the name a fixed width,
    # and the uplift's two long headers shortened on the page (checked in Chromium).
    import json

    from simulation.uplift_text import OBSERVED_COLUMN, TRUE_COLUMN

    _cli_runs(adlab_home, ("a long name " * 8,), n_impressions=2_000, n_seeds=1,
              n_checkpoints=4)  # fmt: skip
    at = open_page(app, "results")
    assert not at.exception
    saved = at.dataframe[0]
    assert list(saved.value.columns) == [
        "Run id", "Name", "Best policy and level", "Its CTR", "Its ROAS",
    ]  # fmt: skip
    config = json.loads(saved.proto.columns)
    assert 0 < config["Name"]["width"] <= 300  # ui.pages.results.SAVED_NAME_PX
    uplift = next(t for t in shown_tables(at) if "Interval over" in t.columns)
    # One seed: its cells say "no interval"; both long headers shortened on the page.
    assert "Observed" in uplift.columns and OBSERVED_COLUMN not in uplift.columns
    assert "True (expected)" in uplift.columns and TRUE_COLUMN not in uplift.columns
    # One replication: the captions describe no interval (the tiles' note says there is
    # none, once).
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert "intervals under the tiles" not in captions and "95 % interval covers" not in captions
    assert captions.count("one replication gives no interval") == 1


def test_a_saved_run_without_a_language_axis_shows_one_share_and_why(app, open_page, adlab_home):
    """hill48 has no language axis: no share from random ads in the viewer's language."""
    import simulation.__main__ as cli
    from simulation.gap_closed import NO_LANGUAGE_NOTE

    out = str(Path(adlab_home).parent / "out-hill")
    code = cli.main(
        [
            "run", "--preset", "hill48", "--policies", "uniform,mvt_ts", "--impressions", "1000",
            "--batch-size", "250", "--seeds", "1", "--out", out, "--store", str(adlab_home),
            "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    at = open_page(app, "results")
    assert not at.exception
    (gap,) = [m.value for m in at.markdown if m.value.startswith("**How close to the best")]
    gap = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", gap).replace(WORD_JOINER, "")
    assert "closed " in gap and NO_LANGUAGE_NOTE in gap
    assert "leaves that part out" not in gap and "language alone is" not in gap
