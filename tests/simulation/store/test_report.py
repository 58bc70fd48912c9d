"""The HTML report: self-contained (nothing fetched), holds the run's numbers, escapes text.

Its headline and uplift table are the like-for-like uplift (stored, or computed for runs
saved before the table existed), observed-only in the headline, the true uplift labelled.
"""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest
from scipy import special

import simulation.__main__ as cli
from creative.vocabulary import OFFERS, TONES
from simulation.config import ExperimentConfig
from simulation.display import PALETTE, policy_name
from simulation.engine.core import run_experiment
from simulation.metrics import UPLIFT_COLUMNS
from simulation.store.report import (
    VERDICT_NAMES,
    best_intervals,
    best_rivals,
    best_row,
    build_report,
    metric_bands,
    run_uplift,
    svg_chart,
    write_report,
)
from simulation.store.run_store import RunStore
from simulation.uplift_text import (
    LEVEL_NAMES,
    ONE_WORLD_CAVEAT,
    TRUE_COLUMN,
    uplift_headline,
    uplift_table,
)

CONFIG = ExperimentConfig(
    n_users=1_000, n_segments=2, n_impressions=2_000, batch_size=500, n_seeds=2,
    policies=("uniform", "thompson"), n_variants=2, n_checkpoints=6,
)  # fmt: skip
NAME = '<script>alert("x")</script> launch'


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small real run in a fresh store: (store, run_id, result)."""
    result = run_experiment(CONFIG)
    store = RunStore.open(tmp_path_factory.mktemp("store"))
    run_id = store.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli", name=NAME,
        tables={"allocation": result.allocation_frame(), "segments": result.segment_frame(),
                "uplift": result.uplift_frame()},
    )  # fmt: skip
    return store, run_id, result


@pytest.fixture(scope="module")
def page(saved) -> str:
    store, run_id, _ = saved
    return build_report(store.load(run_id))


def test_nothing_is_fetched(page):
    # No attribute that loads anything points outside the file: no http(s), no
    # protocol-relative URLs, no external scripts or style sheets.
    targets = re.findall(r"""\b(?:src|href|xlink:href|data)\s*=\s*["']([^"']*)""", page)
    assert targets, "the report embeds its images"
    assert all(t.startswith("data:") for t in targets), targets
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "<link" not in page.lower()
    assert "url(" not in page.lower()


def test_the_report_holds_the_runs_numbers(saved, page):
    _, _, result = saved
    summary = result.summary_frame()
    best = best_row(summary, "ctr")
    assert f"{100 * best['ctr']:.2f} %" in page
    means = summary.groupby(["level", "policy"])["ctr"].mean()
    for value in means:  # every (level, policy) row of the final metrics table
        assert f"{100 * value:.2f} %" in page
    assert page.count('<svg class="chart"') == 2  # CTR and ROAS
    # One line per (level, policy) in each chart.
    assert page.count('class="line"') == 2 * len(means)
    # A winner card with its image per segment.
    assert page.count("data:image/png;base64,") == CONFIG.n_segments
    assert "Runner-up" in page and "What differs" in page


def test_configuration_and_provenance_are_shown(saved, page):
    store, run_id, _ = saved
    meta = store.load(run_id).meta
    assert run_id in page
    assert f"<td>n_impressions</td><td>{CONFIG.n_impressions}</td>" in page
    assert meta["python"] in page
    assert "Data provenance" in page
    # Nothing reads "None" or a raw file listing: an unset setting is "–", files by rows.
    assert "<td>budget</td><td>–</td>" in page
    assert "<td>None</td>" not in page
    rows = meta["files"]["summary.parquet"]["rows"]
    assert f"summary.parquet ({rows:,} rows)" in page
    assert meta["created_at"][:10] + " " + meta["created_at"][11:19] in page


def test_chart_ticks_are_round_numbers(page):
    # The y ticks of the CTR chart are multiples of one round step (0.5 %, 1.0 %, ...).
    chart = page.split('<svg class="chart"', 2)[1]
    ticks = [float(t.rstrip(" %")) for t in re.findall(r'text-anchor="end">([^<]*)<', chart)]
    steps = np.diff(sorted(set(ticks)))
    assert len(ticks) >= 2 and np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 5)), ticks


def test_user_text_is_escaped(page):
    assert NAME not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; launch" in page


def test_the_chart_colours_are_the_apps_palette(page):
    from ui.charts import PALETTE as APP_PALETTE

    assert APP_PALETTE is PALETTE
    strokes = re.findall(r'class="line"[^>]*stroke="(#[0-9A-Fa-f]{6})"', page)
    assert set(strokes) == set(PALETTE[:2])


def test_write_report_is_atomic_and_refuses_a_missing_folder(saved, tmp_path):
    store, run_id, _ = saved
    out = write_report(store.load(run_id), tmp_path / "r.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temp file left
    with pytest.raises(FileNotFoundError, match="no such directory"):
        write_report(store.load(run_id), tmp_path / "missing" / "r.html")


def test_a_foreign_run_still_gets_a_report(tmp_path):
    store = RunStore.open(tmp_path / "s")
    run_id = store.save(
        config={"policy": "ucb1"}, seed=1, summary=pd.DataFrame({"ctr": [0.123]}),
        timeseries=pd.DataFrame({"round": [0]}),
    )  # fmt: skip
    page = build_report(store.load(run_id))
    assert "not made by the experiment engine" in page and "0.123" in page


def test_cli_runs_report(saved, tmp_path, capsys, monkeypatch):
    store, run_id, _ = saved
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("simulation.cli.runs",))
    out = tmp_path / "report.html"
    code = cli.main(["runs", "--store", str(store.root), "report", run_id[:15], "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert printed.strip() == str(out) and out.stat().st_size > 10_000
    # Bad input: exit 2, one error line, nothing written.
    bad = tmp_path / "nowhere" / "r.html"
    code = cli.main(["runs", "--store", str(store.root), "report", run_id, "--out", str(bad)])
    printed, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: cannot write") and err.count("\n") == 1
    assert not bad.parent.exists()
    code = cli.main(["runs", "--store", str(store.root), "report", "nosuchrun", "--out", str(out)])
    assert code == 2 and capsys.readouterr().err.startswith("error:")


def _cells(table: pd.DataFrame) -> list[str]:
    return [f"<td>{html.escape(str(v))}</td>" for v in table.to_numpy().ravel()]


def test_the_uplift_table_is_the_like_for_like_uplift_with_the_truth_labelled(saved, page):
    _, _, result = saved
    uplift = result.uplift_frame()
    assert len(uplift) > 0 and uplift["expected"].notna().all()
    shown = uplift_table(uplift, level_names=LEVEL_NAMES, policy_name=policy_name)
    body = page.split('<table class="uplift">', 1)[1].split("</table>", 1)[0]
    assert body.count("<tr>") == 1 + len(uplift)  # header + one row per uplift row
    assert all(cell in body for cell in _cells(shown))
    assert f"<th>{TRUE_COLUMN}</th>" in body and "Interval over" in body
    assert "best generic" not in page.lower()


def test_the_headline_says_the_observed_uplift_only(saved, page):
    _, _, result = saved
    uplift = result.uplift_frame()
    lines = uplift_headline(uplift, "ctr", level_names=LEVEL_NAMES)
    assert len(lines) == 2  # per segment and per user against generic
    headline = page.split("<p id='uplift-headline'>", 1)[1].split("</p>", 1)[0]
    assert html.escape(" ".join(lines)) in headline
    assert "2 seeds × 1 world" in headline
    # The sentences come from observed values only: changing the truth changes nothing.
    moved = uplift.assign(expected=uplift["expected"] + 5.0)
    assert uplift_headline(moved, "ctr", level_names=LEVEL_NAMES) == lines


def test_a_stored_uplift_table_is_read_and_an_old_run_gets_it_computed(saved, tmp_path):
    store, run_id, result = saved
    stored = store.load(run_id)
    pd.testing.assert_frame_equal(
        run_uplift(stored).reset_index(drop=True), result.uplift_frame(), check_dtype=False
    )
    # A run saved before the table existed: computed from its stored summary.
    old = RunStore.open(tmp_path / "s")
    old_id = old.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli",
    )  # fmt: skip
    legacy = old.load(old_id)
    assert "uplift" not in legacy.tables
    computed = run_uplift(legacy)
    pd.testing.assert_frame_equal(computed, result.uplift_frame(), check_dtype=False)
    page = build_report(legacy, winners=[])
    shown = uplift_table(computed, level_names=LEVEL_NAMES, policy_name=policy_name)
    assert all(c in page for c in _cells(shown))
    # A stored table wins over recomputing: an altered one shows as stored.
    altered = result.uplift_frame().assign(observed=0.4321, ci_low=0.4, ci_high=0.5)
    alt_id = old.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli", tables={"uplift": altered},
    )  # fmt: skip
    assert "+43.2 % (+40.0 % – +50.0 %)" in build_report(old.load(alt_id), winners=[])


def test_a_run_without_a_generic_level_says_so(saved, tmp_path):
    _, _, result = saved
    summary = result.summary_frame()
    store = RunStore.open(tmp_path / "s")
    run_id = store.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=summary[summary["level"] != "generic"],
        timeseries=result.timeseries_frame(), source="cli",
    )  # fmt: skip
    run = store.load(run_id)
    assert run_uplift(run).empty and list(run_uplift(run).columns) == list(UPLIFT_COLUMNS)
    page = build_report(run, winners=[])
    assert "no generic level to compare with" in page and 'class="uplift"' not in page


def test_roas_bands_never_go_below_zero(saved):
    _, _, result = saved
    ts = result.timeseries_frame()
    bands = metric_bands(ts, "roas")
    # The plain t interval (mean - t * sd / sqrt(n)) of the same replications goes below
    # zero somewhere: two seeds give t = 12.7, so the bounded band is what keeps it >= 0.
    t = special.stdtrit(bands["n_seeds"] - 1, 0.975)
    sd = (
        ts[ts["step"].isin(bands["step"].unique())]
        .groupby(["level", "policy", "step"], sort=False)["roas"]
        .std()
        .to_numpy()
    )
    assert (bands["mean"].to_numpy() - t.to_numpy() * sd / np.sqrt(2) < 0).any()
    assert (bands["low"] >= 0).all() and (bands["low"] <= bands["mean"]).all()
    assert (bands["high"] >= bands["mean"]).all()
    ctr = metric_bands(ts, "ctr")
    assert ((ctr["low"] >= 0) & (ctr["high"] <= 1)).all()


def test_a_bounded_chart_axis_has_no_negative_ticks():
    # Flat, zero-width bands at 0: the unbounded axis would pad below zero.
    bands = pd.DataFrame({"level": "generic", "policy": "uniform", "step": [1, 2],
                          "mean": 0.0, "low": 0.0, "high": 0.0})  # fmt: skip
    ticks = lambda svg: re.findall(r'text-anchor="end">([^<]*)<', svg)  # noqa: E731
    assert any(t.startswith("-") for t in ticks(svg_chart(bands, "ROAS", "x")))
    assert not any(
        t.startswith("-") for t in ticks(svg_chart(bands, "ROAS", "x", bounds=(0, None)))
    )


def test_an_uplift_without_an_interval_says_why():
    row = {"level": "user", "policy": "uniform", "baseline": "generic · uniform",
           "metric": "roas", "observed": -0.445, "ci_low": np.nan, "ci_high": np.nan,
           "expected": -0.4, "n_pairs": 1, "interval_over": "2 seeds × 1 world"}  # fmt: skip
    shown = uplift_table(pd.DataFrame([row, {**row, "ci_low": -0.5, "ci_high": -0.4}]))
    observed = shown["Observed uplift (95 % interval)"].tolist()
    assert observed == ["-44.5 % (no interval: 1 usable pair)", "-44.5 % (-50.0 % – -40.0 %)"]
    assert shown[TRUE_COLUMN].tolist() == ["-40.0 %", "-40.0 %"]


def test_one_replication_gives_values_alone_and_several_keep_their_reasons():
    from simulation.uplift_text import WHY_COLUMN

    row = {"level": "user", "policy": "uniform", "baseline": "generic · uniform",
           "metric": "roas", "observed": -0.445, "ci_low": np.nan, "ci_high": np.nan,
           "expected": -0.4, "n_pairs": 1, "interval_over": "1 seed × 1 world"}  # fmt: skip
    few = {**row, "interval_note": "too few conversions for an interval: 2 vs 4 (a vs b)"}
    frame = pd.DataFrame([row, few])
    # One replication: the header and one note say there is no interval, not each cell.
    single = uplift_table(frame, interval_noted=True)
    assert single["Observed uplift (95 % interval)"].tolist() == ["-44.5 %", "-44.5 %"]
    assert WHY_COLUMN not in single
    # Several: a cell without an interval still says why (too few events, too few pairs).
    several = uplift_table(frame)["Observed uplift (95 % interval)"].tolist()
    assert several == ["-44.5 % (no interval: 1 usable pair)",
                       "-44.5 % (no interval: too few conversions)"]  # fmt: skip


def test_a_run_without_a_language_axis_gives_one_share_and_says_why(tmp_path, monkeypatch, capsys):
    """hill48: no language clause printed, none saved in gap_closed.csv, none reported."""
    from simulation.gap_closed import NO_LANGUAGE_NOTE

    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "store"))
    out = tmp_path / "out"
    code = cli.main(
        [
            "run", "--preset", "hill48", "--policies", "uniform,mvt_ts", "--impressions",
            "2000", "--batch-size", "500", "--seeds", "2", "--out", str(out), "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "mvt_ts closed " in printed and "viewer's language" not in printed
    gap = pd.read_csv(out / "gap_closed.csv", keep_default_na=False, na_values=[""])
    local = ["local_floor", "share_from_local", "local_ci_low", "language_share"]
    assert gap[local].isna().all().all()
    assert (gap["local_note"] == NO_LANGUAGE_NOTE).all()
    store = RunStore.open(str(tmp_path / "store"))
    (run_id,) = store.list()["run_id"]
    page = build_report(store.load(run_id))
    assert html.escape(NO_LANGUAGE_NOTE) in page
    assert "leaves that part out" not in page and "language alone is" not in page


def test_a_generated_run_reports_what_was_served_and_what_the_learner_believes(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "store"))
    out = tmp_path / "out"
    code = cli.main(
        [
            "run", "--levels", "generic,generated", "--policies", "uniform,mvt_ts",
            "--impressions", "1000", "--batch-size", "250", "--seeds", "2", "--users", "300",
            "--segments", "3", "--out", str(out), "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    store = RunStore.open(str(tmp_path / "store"))
    (run_id,) = store.list()["run_id"]
    page = build_report(store.load(run_id))
    assert "<h2>Composed creatives (generated level)</h2>" in page
    assert "Generated (composed per impression)" in page  # the level's name, as in the app
    # How close mvt_ts got to the oracle, from the saved summary (2 seeds: an interval).
    gap = pd.read_csv(out / "gap_closed.csv")
    closed = (
        f"Multivariate Thompson (mvt_ts) closed {100 * gap.loc[0, 'share']:.1f} % of the uniform"
    )
    assert f"{closed} → oracle" in page
    # ...and from random ads in the viewer's language, saved with the run (the report does
    # not rebuild the world), with why it is shown.
    local = f"{100 * gap.loc[0, 'share_from_local']:.1f} % of the gap from random ads in the"
    assert f"; {local} viewer&#x27;s language, the part that is not just the language" in page
    assert f"alone is {100 * gap.loc[0, 'language_share']:.1f} % of the uniform" in page
    assert "leaves that part out" in page
    # A run saved before the table was kept: the share from uniform, from its summary.
    run = store.load(run_id)
    older = dataclasses.replace(
        run, tables={k: v for k, v in run.tables.items() if k != "gap_closed"}
    )
    earlier = build_report(older)
    assert f"{closed} → oracle" in earlier
    assert "from random ads in the viewer" not in earlier and "leaves that part out" not in earlier
    assert "95 % interval" in page.split("How close to the best composition", 1)[1]
    # What was served: a row per component, each policy's share of everyone's impressions
    # as the saved table gives it, averaged over the seeds.
    served = pd.read_csv(out / "component_allocation.csv")
    everyone = served[served["segment"] == "all"]
    body = page.split('<table class="served">', 1)[1].split("</table>", 1)[0]
    assert body.count("<tr>") == 1 + everyone[["axis", "component"]].drop_duplicates().shape[0]
    assert "<th>Multivariate Thompson (mvt_ts)</th>" in body  # display name, spec kept
    assert "<th>Uniform (A/B/n split)</th>" in body
    means = everyone.groupby(["policy", "axis", "component"])["share"].mean()
    assert all(f"<td>{100 * v:.2f} %</td>" in body for v in means)
    # What the learner believes: estimate and interval per 1,000 impressions, and the truth.
    effects = pd.read_csv(out / "component_effects.csv")
    mine = effects[(effects["seed"] == 0) & (effects["segment"] == "all")]
    body = page.split('<table class="effects">', 1)[1].split("</table>", 1)[0]
    assert body.count("<tr>") == 1 + len(mine)
    assert "<td>Call to action</td><td>call to action 1</td>" in body  # named as in the app
    row = mine.iloc[0]
    est, low, high = (f"{1000 * row[c]:+.2f}" for c in ("estimate", "low", "high"))
    assert f"<td>{est} [{low}, {high}]</td><td>{1000 * row['true']:+.2f}</td>" in body


def test_a_run_without_the_generated_level_has_no_such_section(page):
    assert "Composed creatives" not in page


def _with_segments(
    saved,
    tmp_path,
    clicks: dict[int, tuple[int, int]],
    impressions: dict[int, int] | None = None,
    revenue: dict[int, tuple[float, float]] | None = None,
    objective: str = "ctr",
) -> str:
    """The report of the saved run with a segment table where, per seed, creative 0 and 1
    of every segment got these clicks out of ``impressions[seed]`` (1,000) impressions each."""
    result = saved[2]
    impressions = impressions or {}
    rows = [
        {"seed": seed, "level": "segment", "policy": "thompson", "segment": segment,
         "arm": arm, "impressions": impressions.get(seed, 1000), "clicks": clicks[seed][arm],
         "spend": 10.0, "revenue": revenue[seed][arm] if revenue else 20.0}
        for seed in clicks for segment in range(CONFIG.n_segments) for arm in (0, 1)
    ]  # fmt: skip
    other = RunStore.open(tmp_path / "s")
    new_id = other.save(
        config={**CONFIG.to_dict(), "objective": objective}, seed=CONFIG.seed,
        summary=result.summary_frame(), timeseries=result.timeseries_frame(), source="cli",
        tables={"segments": pd.DataFrame(rows), "uplift": result.uplift_frame()},
    )  # fmt: skip
    return build_report(other.load(new_id))


def test_a_winner_whose_margin_covers_zero_is_called_unclear(saved, tmp_path):
    # Creative 0 leads overall (56 vs 54 clicks) but loses in seed 1: the margin's interval
    # across the seeds covers 0, so no card may call it a winner.
    page = _with_segments(saved, tmp_path, {0: (30, 25), 1: (26, 29)})
    assert page.count("Not yet clear (the interval includes 0).") == CONFIG.n_segments
    assert "<b>Winner:</b>" not in page
    assert page.count("<b>Leader (not yet clear):</b>") == CONFIG.n_segments
    assert "CTR 2.80 % (observed)" in page


def test_the_reports_leader_has_the_higher_rate_and_a_non_negative_margin(saved, tmp_path):
    # Seed 0 is ten times seed 1: pooled, creative 1 leads (110 vs 103 clicks per 11,000),
    # but its per-seed differences average -0.1 pp. The card ranks by the mean over seeds of
    # each seed's rate, the statistic its margin averages: creative 2 leads by +0.10 pp.
    page = _with_segments(saved, tmp_path, {0: (100, 90), 1: (10, 13)}, {0: 10_000, 1: 1_000})
    assert page.count("CTR 1.10 % (observed)") == CONFIG.n_segments
    assert page.count("<b>Runner-up:</b> 1. ") == CONFIG.n_segments
    # The runner-up's rate is observed too, and the margin is a difference in percentage
    # points, the app's unit: "0.10 %" read as a relative change.
    assert re.search(r"Runner-up:</b> 1\. [^<]* CTR 1\.00 % \(observed\)", page)
    assert "<b>Margin:</b> +0.100 pp (" in page
    assert "<b>Margin:</b> -" not in page


def test_a_winner_whose_margin_excludes_zero_is_a_winner(saved, tmp_path):
    page = _with_segments(saved, tmp_path, {0: (40, 20), 1: (42, 21)})
    assert page.count("<b>Winner:</b>") == CONFIG.n_segments
    assert "A clear winner." in page and "Not yet clear" not in page


def _two_policies(generic: list[float], user: list[float]) -> pd.DataFrame:
    rows = [
        {"level": level, "policy": policy, "seed": seed, "ctr": ctr, "roas": 2.0,
         "impressions": 1000, "clicks": 1000 * ctr, "conversions": 1.0, "revenue": 20.0,
         "spend": 10.0, "regret": 1.0}
        for level, values in (("generic", generic), ("user", user))
        for policy in ("thompson", "oracle")
        for seed, ctr in enumerate(values if policy == "thompson" else [0.5] * len(values))
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("generic", "clear"),
    [([0.010, 0.011, 0.012], True), ([0.017, 0.020, 0.023], False)],
)
def test_the_best_tile_shows_its_interval_and_says_when_it_is_not_clearly_best(
    tmp_path, generic, clear
):
    summary = _two_policies(generic, [0.020, 0.021, 0.022])
    store = RunStore.open(tmp_path / "s")
    run_id = store.save(config=CONFIG.to_dict(), seed=0, summary=summary, source="cli",
                        timeseries=pd.DataFrame())  # fmt: skip
    page = build_report(store.load(run_id), winners=[])
    best = best_row(summary, "ctr")
    # The oracle (CTR 50 %) is a yardstick, never the best.
    assert (best["level"], best["policy"]) == ("user", "thompson")
    (low, high), rivals = best_rivals(summary, best, "ctr")
    assert low < best["ctr"] < high
    tile = page.split("<div id='best-ctr'>", 1)[1].split("<span>", 1)[0]
    assert tile == html.escape(
        f"{100 * best['ctr']:.2f} % ({100 * low:.2f} % – {100 * high:.2f} %)"
    )
    # Its ROAS tile has the best's own ROAS interval, as the app's tile does.
    (roas_low, roas_high) = best_intervals(summary, best)["roas"]
    roas = page.split("<div id='best-roas'>", 1)[1].split("<span>", 1)[0]
    if roas_low < roas_high:
        assert roas == html.escape(f"{best['roas']:,.2f}× ({roas_low:,.2f}× – {roas_high:,.2f}×)")
    said = page.split("<p id='best-by'>", 1)[1].split("</p>", 1)[0]
    assert said.startswith("Best by CTR: Thompson sampling at the per user level")
    assert (rivals == []) is clear
    assert ("Not clearly best" in said) is not clear
    assert "Oracle" not in said


def test_the_one_world_caveat_follows_the_headline(saved, page, tmp_path):
    result = saved[2]
    caveat = html.escape(ONE_WORLD_CAVEAT)
    assert page.count(caveat) == 1
    assert page.index(caveat) > page.index("<p id='uplift-headline'>")
    summary = pd.concat(
        [result.summary_frame().assign(world=w) for w in range(2)], ignore_index=True
    )
    other = RunStore.open(tmp_path / "s")
    two = other.save(config=CONFIG.to_dict(), seed=0, summary=summary, source="cli",
                     timeseries=result.timeseries_frame())  # fmt: skip
    assert caveat not in build_report(other.load(two), winners=[])


def test_the_not_clearly_best_note_names_its_rivals_or_the_missing_interval():
    from simulation.store.report import best_note

    assert best_note((0.01, 0.02), []) == ""
    one = best_note((float("nan"), float("nan")), [("user", "thompson")])
    assert one == "Not clearly best: one replication gives no interval."
    rivals = [("generic", "thompson"), ("user", "ucb1"), ("segment", "uniform"), ("user", "x")]
    note = best_note((0.01, 0.02), rivals)
    assert note.startswith("Not clearly best: its interval overlaps that of Thompson sampling")
    assert "UCB1 at the per user level" in note and note.endswith("and 1 more.")


def test_a_fixed_pool_run_has_winner_cards_and_no_generations_section(page):
    assert "Generations" not in page and "<h2>Leading creative per segment</h2>" in page
    assert page.count('alt="leading creative"') == CONFIG.n_segments


@pytest.mark.parametrize("verdict", ["clear", "unclear", "no interval", "no events"])
def test_what_differs_names_no_leader_and_reads_in_words(saved, monkeypatch, verdict):
    # Every margin given one verdict (the rule is the app's, tested in
    # tests/simulation/test_winners.py). "What differs" used to say "(leader)" on every
    # line, beside "No leader yet" and "Leader (not yet clear)": only the verdict may say
    # whether the creative leads. Its two columns are the card's creative and the
    # runner-up, each component in words, never the studio's codes ("discount_10").
    import simulation.winners

    monkeypatch.setattr(simulation.winners, "winner_verdict", lambda n, low, *_: verdict)
    store, run_id, _ = saved
    page = build_report(store.load(run_id))
    cards = page.split('<div class="card">')[1:]
    assert len(cards) == CONFIG.n_segments
    rows = []
    for card in cards:
        assert f"<b>{VERDICT_NAMES[verdict]}:</b>" in card
        differs = card.split("<b>What differs:</b></p>", 1)[1]
        if "<table class='differs'>" not in differs:
            continue
        table = differs.split("</table>", 1)[0]
        assert "<th>This creative</th><th>Runner-up</th>" in table
        rows += re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", table)
    assert rows, "the two creatives of some segment differ in something"
    assert "(leader)" not in page and "(winner)" not in page
    # The codes that are not words: an offer's, a tone with "_", a language's.
    codes = {"offer": set(OFFERS), "tone": {t for t in TONES if "_" in t}, "language": {"en", "ko"}}
    for label, a, b in rows:
        assert a != b
        assert not {a, b} & codes.get(label, set()), (label, a, b)
    assert {label for label, _, _ in rows} & {"offer", "tone"}, "the run shows no coded column"


def test_a_segment_without_a_sale_or_click_gets_no_leader_on_its_card(saved, monkeypatch):
    # Every segment made one where neither creative had an event (the rule is tested in
    # tests/simulation/test_winners.py): no card names a leader by a margin of 0.
    import simulation.winners

    monkeypatch.setattr(simulation.winners, "winner_verdict", lambda n, low, *_: "no events")
    store, run_id, _ = saved
    page = build_report(store.load(run_id))
    cards = page.split('<div class="card">')[1:]
    assert len(cards) == CONFIG.n_segments
    events = "sales" if CONFIG.objective == "roas" else "clicks"
    for card in cards:
        assert "<b>No leader yet:</b>" in card and "Leader (" not in card
        assert f"No {events} yet for either creative, so nothing to choose" in card


def _one_seed_report(saved, tmp_path) -> str:
    """The saved run cut to its seed 0: one replication, so no interval anywhere."""
    store, run_id, result = saved
    run = store.load(run_id)
    keep = {n: f[f["seed"] == 0] for n, f in run.tables.items() if "seed" in f and n != "uplift"}
    one = RunStore.open(tmp_path / "one")
    new_id = one.save(
        config={**CONFIG.to_dict(), "n_seeds": 1}, seed=0, source="cli",
        summary=result.summary_frame().query("seed == 0"),
        timeseries=result.timeseries_frame().query("seed == 0"),
        tables=keep,
    )  # fmt: skip
    return build_report(one.load(new_id))


def test_a_one_seed_report_describes_no_interval_it_does_not_draw(saved, tmp_path):
    page = _one_seed_report(saved, tmp_path)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    # What the page says about intervals: each sentence that mentions one says there is
    # none; none describes a band, a bracket or what an interval covers.
    for claim in ("shaded: 95 %", "95 % interval over 1 seed", "interval covers the seeds",
                  "in brackets", "its 95 % interval over the replications"):  # fmt: skip
        assert claim not in text, claim
    assert html.unescape(ONE_WORLD_CAVEAT) not in text
    assert "Lines: 1 seed × 1 world, one replication: no interval, no shading" in text
    assert "<th>Observed uplift</th>" in page and "<th>Observed uplift (95 % interval)" not in page
    uplift = page.split("<h2>Like-for-like uplift</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<td>" in uplift and "(no interval:" not in uplift  # one note, not every cell
    assert "Final metrics, observed 1 seed × 1 world: no interval." in " ".join(text.split())
    best = page.split("<p id='best-by'>", 1)[1].split("</p>", 1)[0]
    assert "(1 seed × 1 world)." in best and best.count("no interval") == 1


def test_the_uplift_policy_column_names_each_levels_best_readably(page):
    # "best (thompson)" was the raw spec beside "Generic · best (Thompson sampling)".
    body = page.split('<table class="uplift">', 1)[1].split("</table>", 1)[0]
    bests = set(re.findall(r"<td>(best \([^<]*\))</td>", body))
    assert bests and bests <= {html.escape(f"best ({policy_name(p)})") for p in CONFIG.policies}
    assert "best (thompson)" not in body and "best (uniform)" not in body


def test_a_roas_margin_reads_in_roas_not_as_a_multiple(saved, tmp_path):
    # Creative 0 earns $30 and $32 per $10 against $20 and $21: ROAS 3.0/3.2 vs 2.0/2.1,
    # a margin of +1.05 ROAS ("1.05×" would read as a multiple).
    page = _with_segments(
        saved, tmp_path, {0: (30, 20), 1: (31, 21)},
        revenue={0: (30.0, 20.0), 1: (32.0, 21.0)}, objective="roas",
    )  # fmt: skip
    margins = re.findall(r"<b>Margin:</b> ([^<]*)</p>", page)
    assert len(margins) == CONFIG.n_segments
    assert all(m.startswith("+1.050 ROAS (") for m in margins), margins
    assert not any("×" in m.split(";")[0] for m in margins)
    assert page.count("ROAS 2.05× (observed)") == CONFIG.n_segments  # the runner-up's


FEW_SALES = [(0.002, 0.9, 400, 3), (0.040, 5.0, 420, 40)]


def _few_sales(tmp_path, user=FEW_SALES) -> tuple[str, pd.DataFrame]:
    """A ROAS run whose best (Thompson, per user) has 3 sales in one seed and wild CTRs."""
    rows = [
        {"level": level, "policy": "thompson", "seed": seed, "ctr": ctr, "roas": roas,
         "impressions": 20_000, "clicks": clicks, "conversions": sales, "revenue": 10 * roas,
         "spend": 10.0, "regret": 1.0}
        for level, values in (
            ("generic", [(0.010, 1.0, 400, 40), (0.011, 1.1, 420, 40)]),
            ("user", user),
        )
        for seed, (ctr, roas, clicks, sales) in enumerate(values)
    ]  # fmt: skip
    summary = pd.DataFrame(rows)
    store = RunStore.open(tmp_path / "s")
    run_id = store.save(config={**CONFIG.to_dict(), "objective": "roas"}, seed=0,
                        summary=summary, source="cli", timeseries=pd.DataFrame())  # fmt: skip
    return build_report(store.load(run_id), winners=[]), summary


def test_tiles_and_final_metrics_refuse_an_interval_on_a_handful_of_events(tmp_path):
    from simulation.metrics import summarize

    page, summary = _few_sales(tmp_path)
    s = summarize(summary, ("ctr", "roas")).set_index("level")
    # The Student-t interval over two seeds exists, and is absurd: the report must not print it.
    assert s.loc["user", "roas_high"] > 10 * s.loc["user", "roas"]
    assert f"{s.loc['user', 'roas_high']:,.2f}×" not in page
    best = best_row(summary, "roas")
    assert best["level"] == "user"
    roas = page.split("<div id='best-roas'>", 1)[1].split("<span>", 1)[0]
    ctr = page.split("<div id='best-ctr'>", 1)[1].split("<span>", 1)[0]
    # The observed value stays; the interval gives way to the uplift cells' words.
    assert roas == html.escape(f"{best['roas']:,.2f}× (no interval: too few conversions)")
    assert ctr == html.escape(f"{100 * best['ctr']:.2f} % (no interval: too wide)")
    said = html.unescape(page.split("<p id='best-by'>", 1)[1].split("</p>", 1)[0])
    # No interval is shown, so none is described and none compared with the rivals'.
    assert "(mean over 2 seeds × 1 world)." in said and "95 %" not in said
    assert said.endswith("Not clearly best: too few conversions for an interval.")
    # The final metrics table: the same rule per row, and its intervals where they stand.
    table = page.split('<table class="metrics">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td>(.*?)</td>", table)
    generic, user = cells[:5], cells[5:10]
    assert user[2:4] == [
        html.escape(f"{100 * s.loc['user', 'ctr']:.2f} % (no interval: too wide)"),
        html.escape(f"{s.loc['user', 'roas']:,.2f}× (no interval: too few conversions)"),
    ]
    assert generic[3] == html.escape(
        f"{s.loc['generic', 'roas']:,.2f}× ({s.loc['generic', 'roas_low']:,.2f}× – "
        f"{s.loc['generic', 'roas_high']:,.2f}×)"
    )
    assert "(no interval" not in generic[2]
    rule = html.unescape(page.split("<p id='metrics-over'>", 1)[1].split("</p>", 1)[0])
    assert "fewer than 10 clicks (CTR) or conversions (ROAS)" in rule
    assert "more than 100-fold apart" in rule


def test_with_enough_events_the_intervals_stand_and_no_rule_is_stated(tmp_path):
    page, summary = _few_sales(tmp_path, [(0.020, 2.9, 400, 40), (0.021, 3.0, 420, 40)])
    (low, high) = best_intervals(summary, best_row(summary, "roas"))["roas"]
    roas = page.split("<div id='best-roas'>", 1)[1].split("<span>", 1)[0]
    assert roas.endswith(html.escape(f"({low:,.2f}× – {high:,.2f}×)"))
    tiles = page.split("<div class='headline'>", 1)[1].split("<p id='best-by'>", 1)[0]
    table = page.split('<table class="metrics">', 1)[1].split("</table>", 1)[0]
    assert "(no interval" not in tiles + table
    assert table.count(" – ") == 4  # CTR and ROAS of both rows carry their interval
    rule = page.split("<p id='metrics-over'>", 1)[1].split("</p>", 1)[0]
    assert "fewer than" not in rule


def test_a_one_seed_headline_says_once_that_there_is_no_interval(saved, tmp_path):
    page = _one_seed_report(saved, tmp_path)
    headline = html.unescape(page.split("<p id='uplift-headline'>", 1)[1].split("</p>", 1)[0])
    sentences = [s for s in headline.split(": ", 1)[1].split(". ") if s]
    assert len(sentences) >= 1
    # Each sentence gives its observed value alone ...
    assert "one usable replication" not in page
    assert all(re.search(r"[+-]\d+\.\d % observed", s) for s in sentences), sentences
    # ... and one note under them says why there is no interval.
    note = "1 seed × 1 world: one replication, so no intervals (add seeds or worlds for them)."
    assert html.unescape(page).count(note) == 1
    assert page.index("<p id='headline-note'>") > page.index("<p id='uplift-headline'>")
    # Two seeds: intervals are drawn, so no such note.
    store, run_id, _ = saved
    assert "<p id='headline-note'>" not in build_report(store.load(run_id), winners=[])
