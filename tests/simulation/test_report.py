"""The HTML report: self-contained (nothing fetched), holds the run's numbers, escapes text."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.config import ExperimentConfig
from simulation.display import PALETTE
from simulation.engine.core import run_experiment
from simulation.store.report import best_row, build_report, write_report
from simulation.store.run_store import RunStore

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
        tables={"allocation": result.allocation_frame(), "segments": result.segment_frame()},
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
    for value in means:  # every (level, policy) row of the uplift table
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
