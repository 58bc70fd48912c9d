"""Experiment page: the generated level is offered and a tiny run with it shows its rows."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from ui.fmt import WORD_JOINER


def test_generated_level_is_offered_and_runs(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    assert "generated" in at.multiselect(key="ex-levels").options or any(
        "Generated" in o for o in at.multiselect(key="ex-levels").options
    )
    run_small_experiment(
        at,
        **{
            "ex-levels": ["user", "generated"],
            "ex-policies": ["uniform", "thompson", "mvt_ts"],
            "ex-impressions": 1_000,
            "ex-seeds": 1,
        },
    )
    assert not at.exception
    assert not at.error
    (table,) = _metrics_tables(at)  # no generic level: no uplift table above it
    # user: uniform and thompson; generated: uniform and mvt_ts (thompson and mvt_ts skipped).
    assert len(table) == 4
    # The allocation chart offers the pools only (the generated level composes per
    # impression), and per level the policies that play it (mvt_ts does not play "user").
    assert at.selectbox(key="ex-alloc-level").options == ["Per user"]
    assert at.selectbox(key="ex-alloc-policy").options == [
        "Uniform (A/B/n split)",
        "Thompson sampling",
    ]
    # The skipped pairs are said, with why, above the results.
    notes = [c.value for c in at.caption if c.value.startswith("Not run")]
    assert notes == [
        "Not run, as they do not apply: Thompson sampling at the generated level (it chooses "
        "among a fixed pool of creatives; this level composes each one); Multivariate Thompson "
        "(mvt_ts) at the user level (it composes creatives: the generated level only)."
    ]


def test_the_estimate_counts_only_the_pairs_that_play():
    from simulation.config import ExperimentConfig
    from ui.fmt import skipped_text
    from ui.runner import run_impressions

    config = ExperimentConfig(
        levels=("generic", "segment", "generated"),
        policies=("uniform", "thompson", "lin_ucb", "mvt_ts"),
        n_impressions=10_000, n_seeds=2, n_worlds=3,
    )  # fmt: skip
    # generic and segment play uniform, thompson, lin_ucb; generated plays uniform, mvt_ts.
    assert run_impressions(config) == 2 * 3 * (3 + 3 + 2) * 10_000
    assert skipped_text(config) == (
        "Not run, as they do not apply: Thompson sampling and LinUCB (contextual) at the "
        "generated level (they choose among a fixed pool of creatives; this level composes "
        "each one); Multivariate Thompson (mvt_ts) at the generic and segment levels (it "
        "composes creatives: the generated level only)."
    )
    # Without the generated level or mvt_ts every pair plays and nothing is said.
    plain = config.replace(levels=("generic", "segment"), policies=("uniform", "thompson"))
    assert run_impressions(plain) == 2 * 3 * 4 * 10_000
    assert skipped_text(plain) is None


def test_the_estimate_weighs_the_generated_levels_impressions():
    from simulation.config import ExperimentConfig
    from ui.runner import GENERATED_COST, estimate_seconds, run_impressions, run_work, work_rate

    pool = ExperimentConfig(n_impressions=10_000, n_seeds=2)  # 3 levels x 5 policies
    both = pool.replace(levels=(*pool.levels, "generated"), policies=(*pool.policies, "mvt_ts"))
    # The generated level plays uniform and mvt_ts: 2 pairs at GENERATED_COST each.
    assert run_work(pool) == run_impressions(pool) == 2 * 15 * 10_000
    assert run_work(both) == 2 * (15 + 2 * GENERATED_COST) * 10_000
    # A run measured at r impressions/s is estimated at its own duration again, and a
    # pool-only run's rate predicts the generated level's share as GENERATED_COST times slower.
    measured = 3.0e6
    rate = work_rate(both, measured)
    assert estimate_seconds(both, rate) == pytest.approx(run_impressions(both) / measured)
    pool_rate = work_rate(pool, measured)
    assert estimate_seconds(both, pool_rate) == pytest.approx(run_work(both) / measured)
    assert estimate_seconds(both, pool_rate) > 2 * run_impressions(both) / measured


def test_generated_run_shows_the_component_effects_chart(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(
        at,
        **{
            "ex-levels": ["generated"],
            "ex-policies": ["uniform", "mvt_ts"],
            "ex-impressions": 1_000,
            "ex-seeds": 1,
        },
    )
    assert not at.exception
    charts = [el for el in at.get("vega_lite_chart") if '"true"' in el.proto.spec]
    effects = [el.proto.spec for el in charts if '"facet"' in el.proto.spec]
    assert len(effects) == 1
    assert "estimate" in effects[0] and "low" in effects[0]
    # The chart's data has the fields its spec draws (a dict of rows once reached the
    # browser as a table of one column, and the chart drew nothing).
    (chart,) = charts
    rows = pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()
    assert rows and {"axis", "component", "estimate", "low", "high", "true"} <= set(rows[0])
    assert {r["axis"] for r in rows} >= {"Product", "Tone", "Offer", "Call to action"}
    # Components as a marketer reads them: products by name with their category, calls to
    # action by their place in the tone's list; the effects per 1,000 impressions.
    named = {r["axis"]: r["component"] for r in rows}
    assert re.fullmatch(r"[^:]+ \([a-z]+\)", named["Product"]), named["Product"]
    assert named["Call to action"].startswith("call to action ")
    assert '"change in clicks per 1,000 impressions"' in effects[0]
    # Its data: every level of the studio's ten axes, for the whole audience by default.
    assert at.selectbox(key="ex-effects-segment").value == "all"
    # What each policy served, component by component, for the same group: the two
    # policies' shares of every axis add up to 1 each.
    (served,) = [el for el in at.get("vega_lite_chart") if '"yOffset"' in el.proto.spec]
    shares = pa.ipc.open_stream(served.proto.data.data).read_all().to_pandas()
    assert set(shares["policy"]) == {"Uniform (A/B/n split)", "Multivariate Thompson (mvt_ts)"}
    assert shares["axis"].nunique() == 10
    sums = shares.groupby(["policy", "axis"])["share"].sum()
    assert ((sums - 1.0).abs() < 1e-9).all()
    at.selectbox(key="ex-effects-segment").select_index(0).run()
    (served,) = [el for el in at.get("vega_lite_chart") if '"yOffset"' in el.proto.spec]
    segment = pa.ipc.open_stream(served.proto.data.data).read_all().to_pandas()
    assert not segment["share"].equals(shares["share"])  # the segment's own, not everyone's
    # The most-served composition of each segment, rendered.
    assert any("of its impressions" in c.value for c in at.caption)
    # How much of the uniform -> oracle gap mvt_ts closed, with what the interval covers.
    (gap,) = [m.value for m in at.markdown if m.value.startswith("**How close to the best")]
    shown = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", gap).replace(WORD_JOINER, "")
    assert "Multivariate Thompson (mvt_ts) closed " in shown
    assert "(true, expected rewards; one replication" in shown
    # ...and from random ads in the viewer's language (the world's true floor), with why.
    assert re.search(
        r"; -?\d+\.\d % of the gap from random ads in the viewer's language, the part that "
        r"is not just the language \(true(, ± \d+\.\d points from the floor's Monte Carlo "
        r"error)?\)",
        shown,
    ), shown
    assert shown.count("no interval") == 1, shown  # said once, in the first clause
    assert re.search(r"the viewer's language alone is -?\d+\.\d % of the uniform → oracle", shown)
    assert "leaves that part out" in shown


def test_a_run_where_no_policy_plays_is_refused_beside_the_button(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-levels": ["generated"], "ex-policies": ["thompson"]})
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "no chosen policy plays a chosen level" in errors[0], errors
    assert "ex-job" not in at.session_state  # nothing started, nothing saved


def test_the_pool_levels_show_while_the_generated_level_runs(
    app, open_page, run_small_experiment, monkeypatch
):
    # The generic unit ends long before the generated one (which composes every impression,
    # several times a pool level's work at a million impressions: about 3 s here against
    # 0.2 s); the page shows it at once, says the generated level is still running, then
    # shows the whole run.
    from tests.ui.conftest import _until_run_ends

    monkeypatch.setenv("ADLAB_LIVE_CHARTS_AFTER", "0")  # the live charts too, at once
    at = _run_to_the_early_results(app, open_page, run_small_experiment, monkeypatch, 1_000_000)
    assert not at.exception and not at.error
    # The live charts show only what is still under way: the generated level.
    assert "Live: the generated level so far" in [h.value for h in at.subheader]
    # (Its first chart point may not be in yet; when it is, the generic level is not drawn.)
    covered = [c.value for c in at.caption if c.value.startswith("Each line is the mean")]
    assert all("Generic" not in c and "Generated" in c for c in covered)
    assert "ex-job" in at.session_state  # still running
    notes = [i.value for i in at.info if "still running" in i.value]
    assert len(notes) == 1 and "generated level is still running" in notes[0]
    assert [len(t) for t in _metrics_tables(at)] == [1]  # generic · uniform (mvt_ts skips it)
    _until_run_ends(at)
    assert not at.exception and not at.error
    assert not [i.value for i in at.info if "still running" in i.value]
    # generic · uniform, generated · uniform and mvt_ts
    assert [len(t) for t in _metrics_tables(at)] == [3]


def _run_to_the_early_results(app, open_page, run_small_experiment, monkeypatch, impressions):
    """The Experiment page just after a generic + generated run showed its generic level."""
    monkeypatch.setenv("ADLAB_RUN_WAIT", "5")  # returns at the early results, not the end
    at = open_page(app, "experiment")
    levels = {"ex-levels": ["generic", "generated"], "ex-policies": ["uniform", "mvt_ts"]}
    run_small_experiment(
        at, **levels, **{"ex-impressions": impressions, "ex-batch": 1_000, "ex-seeds": 1}
    )
    return at


def _metrics_tables(at):
    # The final metrics are an st.table (its cells wrap); these headers need no escaping.
    return [t.value for t in at.table if {"Level", "Policy", "CTR"} <= set(t.value.columns)]


def test_time_left_after_the_early_results_is_the_generated_levels(small_world):
    # Once the pool levels are in, the rest goes at the generated level's rate: measured
    # since then, not over the whole run (its pool batches went several times faster).
    from simulation.config import ExperimentConfig
    from ui.runner import BackgroundRun

    config = ExperimentConfig(
        n_users=small_world.n_users, n_segments=small_world.n_segments, seed=small_world.seed,
        levels=("generic", "generated"), policies=("uniform", "mvt_ts"), n_impressions=20_000,
        batch_size=1_000, n_seeds=1,
    )  # fmt: skip
    job = BackgroundRun(config)
    assert job.wait(300)
    assert job.status == "finished" and job.early is not None
    assert job.early.levels == ("generic",)
    sh = job._shared
    # 100 batches; 40 done in the first 10 s (mostly pool ones), 10 more in the next second.
    sh.total, sh.done = 100, 50
    sh.first_tick, sh.early_tick, sh.last_tick = (0.0, 0), (10.0, 40), (11.0, 50)
    assert job.eta_seconds() == pytest.approx(50 / 10)  # 10 batches/s since the early ones
    # Nothing of the generated level measured yet: unknown, not the pool levels' rate.
    sh.last_tick = (10.1, 40)
    assert job.eta_seconds() is None
    sh.last_tick = (11.0, 40)  # a second on, still no progress: none yet
    assert job.eta_seconds() is None
    sh.last_tick = (11.0, 50)
    sh.early_tick = None
    assert job.eta_seconds() == pytest.approx(50 / (50 / 11))  # over the whole run


def test_expected_length_after_the_early_results_weighs_the_generated_level(
    small_world, monkeypatch
):
    # Whether to draw live charts: after the early results, the rest at the pool levels'
    # rate with each generated impression weighted, never the rate measured since then
    # (slowed while the page draws those results).
    from simulation.config import ExperimentConfig
    from ui import runner

    config = ExperimentConfig(
        n_users=small_world.n_users, n_segments=small_world.n_segments, seed=small_world.seed,
        levels=("generic", "generated"), policies=("uniform", "mvt_ts"), n_impressions=20_000,
        batch_size=1_000, n_seeds=1,
    )  # fmt: skip
    job = runner.BackgroundRun(config)
    assert job.wait(300)
    sh = job._shared
    total = runner.run_impressions(config)  # 60,000: three pairs play (mvt_ts not at generic)
    sh.total = total  # engine counts as the page does here: one report per impression
    sh.started = 100.0
    # 20,000 impressions by 102.0 (10,000/s); then only 1,000 in the next 2 s.
    sh.first_tick, sh.early_tick, sh.last_tick = (100.5, 5_000), (102.0, 20_000), (104.0, 21_000)
    sh.done = 21_000
    monkeypatch.setattr(job, "elapsed", lambda: 4.0)
    left = total - 21_000
    expected = 4.0 + left * runner.GENERATED_COST / 10_000
    assert job.expected_seconds() == pytest.approx(expected)
    assert job.eta_seconds() == pytest.approx(left / 500)  # the measured rate: far longer
    # The live charts' rule (ui/pages/experiment.py) reads the expected length: not long
    # by it, though the time elapsed plus the time left would say so.
    assert 4.0 + job.eta_seconds() > expected + 1
    assert not job.lasts(expected + 1)
    assert job.lasts(expected - 1)
    assert job.lasts(3.9)  # lasted that long already
    # Without early results: the time elapsed plus the time left, as measured.
    sh.early_tick = None
    assert job.expected_seconds() == pytest.approx(4.0 + job.eta_seconds())
    sh.last_tick = None
    assert job.expected_seconds() is None


@pytest.mark.parametrize("due, waits", [(1.0, True), (100.0, False)])
def test_the_click_waits_for_pool_levels_due_soon_after_its_wait(
    app, open_page, run_small_experiment, monkeypatch, due, waits
):
    # Only the click's page load draws the pool levels' results: when they are due by
    # runner.early_wait() it waits on for them; when later, it shows the progress at once.
    from tests.ui.conftest import _until_run_ends
    from ui.runner import BackgroundRun

    monkeypatch.setenv("ADLAB_RUN_WAIT", "0")
    monkeypatch.setenv("ADLAB_EARLY_WAIT", "60")
    monkeypatch.setattr(
        BackgroundRun, "early_due", lambda self: 0.0 if self._shared.early is not None else due
    )
    waited = []
    wait_ready = BackgroundRun.wait_ready

    def recorded(self, timeout=None, *, early=False):
        waited.append((timeout, early))
        return wait_ready(self, timeout, early=early)

    monkeypatch.setattr(BackgroundRun, "wait_ready", recorded)
    at = open_page(app, "experiment")
    levels = {"ex-levels": ["generic", "generated"], "ex-policies": ["uniform", "mvt_ts"]}
    impressions = 1_002_000 if waits else 1_003_000  # no other test's run (cached)
    run_small_experiment(
        at, **levels, **{"ex-impressions": impressions, "ex-batch": 1_000, "ex-seeds": 1}
    )
    assert not at.exception and not at.error
    assert waited[0] == (0.0, True)
    notes = [i.value for i in at.info if "still running" in i.value]
    if waits:
        assert len(waited) == 2 and waited[1][1] and 59 < waited[1][0] <= 60
        assert len(notes) == 1 and [len(t) for t in _metrics_tables(at)] == [1]
    else:
        assert len(waited) == 1
        assert not notes and not _metrics_tables(at)
    _until_run_ends(at)
    assert not at.exception and not at.error


def test_the_pool_levels_are_due_at_their_measured_rate(small_world):
    from simulation.config import ExperimentConfig
    from ui import runner

    config = ExperimentConfig(
        n_users=small_world.n_users, n_segments=small_world.n_segments, seed=small_world.seed,
        levels=("generic", "segment", "generated"), policies=("uniform", "mvt_ts"),
        n_impressions=20_000, batch_size=1_000, n_seeds=1,
    )  # fmt: skip
    job = runner.BackgroundRun(config)
    assert job.wait(300)
    assert job.early_due() == 0.0  # they came (the run has ended since)
    sh = job._shared
    sh.status, sh.result, sh.early = "running", None, None
    total = runner.run_impressions(config)  # 80,000: mvt_ts plays the generated level only
    sh.total = total
    sh.first_tick, sh.last_tick, sh.done = (0.0, 0), (1.0, 10_000), 10_000
    # 40,000 pool impressions (generic and segment, uniform), 10,000 of them in 1 s.
    assert job.early_due() == pytest.approx(3.0)
    sh.done, sh.last_tick = 45_000, (1.0, 45_000)  # beyond: the generated level under way
    assert job.early_due() == 0.0
    sh.last_tick = None  # not measured yet
    assert job.early_due() is None
    sh.status = "finished"
    assert job.early_due() is None  # ended without them
    sh.status, sh.early = "running", object()
    assert job.early_due() == 0.0
    plain = runner.BackgroundRun(config.replace(levels=("generic", "segment")))
    assert plain.wait(300) and plain.early_due() is None


def test_a_stop_keeps_and_saves_the_pool_levels_already_shown(
    app, open_page, run_small_experiment, monkeypatch, adlab_home
):
    # Stopped while the generated level runs: its part is dropped, the pool levels' results
    # (complete) stay on the page and are saved as the run without the generated level.
    from simulation.store import RunStore

    at = _run_to_the_early_results(app, open_page, run_small_experiment, monkeypatch, 3_000_000)
    assert "ex-job" in at.session_state and at.session_state["ex-job"].early is not None
    at.button(key="ex-stop").click().run()
    assert not at.exception and not at.error
    stopped = [w.value for w in at.warning]
    assert any("before the generated level finished" in w for w in stopped), stopped
    assert not any("out of date" in w for w in stopped)
    assert [len(t) for t in _metrics_tables(at)] == [1]
    runs = RunStore.open(adlab_home).list()
    assert len(runs) == 1
    saved = RunStore.open(adlab_home).load(runs["run_id"].iloc[0])
    assert set(saved.summary["level"]) == {"generic"}
