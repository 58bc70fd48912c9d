"""Every script in bench/ imports, and the cheap ones run in their quickest mode.

The benchmarks are not part of CI's other tests, so an API change that breaks one would
only show at the next ``make bench``. Here every script is imported (a renamed function or
module fails at once), and each script not run by another test runs small in a fresh
interpreter; the others name the test that runs them, or why nothing does. A script added
to bench/ without an entry in :data:`RUNS` fails :func:`test_every_bench_script_has_an_entry`.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.engine.core import run_experiment
from simulation.sweep import parse_grid
from simulation.sweep.table import build_table

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SMOKE = "tests/bench/test_bench_smoke.py"

#: Script -> (arguments of its quickest run, texts its output must hold), or why this test
#: does not run it (run by another test, or too slow for one).
RUNS: dict[str, tuple[list[str], list[str]] | str] = {
    "app.py": "drives Chromium: tests/browser/test_app_bench.py runs it with --quick",
    "chapelle_li.py": f"run with --quick by {SMOKE}",
    "creatives.py": "run with --quick by tests/creative/test_bench.py",
    "engine.py": "run with --quick by tests/bench/test_engine_bench.py",
    "founders_space.py": (
        ["--users", "20", "--oracle-users", "200"],
        [
            "per-user creatives by language:",
            "oracle, as is (",
            "oracle, search in Korean (",
            "oracle, + ... informative never greets (",
        ],
    ),
    "generated_ceiling.py": f"run small with --knockout --informed by {SMOKE}",
    "generated_gap.py": (
        [
            "--impressions",
            "2000",
            "--seeds",
            "1",
            "--objectives",
            "ctr",
            "--checkpoints",
            "2",
            "--floor-draws",
            "2",
        ],
        [
            "generated: uniform mvt_ts oracle share",
            "ctr             2,000 |",
            "from the localized floor: random (true) localized random (true) lang share",
        ],
    ),
    "generated_run_time.py": (
        ["--quick"],
        ["small + generated + mvt_ts     run_experiment:", "composed expectations"],
    ),
    "hill48.py": (
        ["--reps", "1", "--horizon", "1000"],
        ["hill48: 1 replications", "mvt_ts ", "thompson_48 ", "ratio thompson_48 / mvt_ts"],
    ),
    "mvt_speed.py": f"run with --net-value --batches 3 by {SMOKE}",
    "ope.py": "run with --quick by tests/simulation/ope/test_ope_bench.py",
    "ope_coverage.py": (
        ["--objective", "ctr", "--seeds", "1"],
        ["ctr: 2 logs of 5,000 rows", "coverage", "one_more_event", "percentile"],
    ),
    "peers.py": "helpers only (imported by the W1/W2/Chapelle-Li scripts)",
    "regeneration.py": (
        ["--impressions", "2000", "--seeds", "2", "--every", "1000"],
        ["true_clicks / 1k", "true_net_value / 1k", "observed_clicks / 1k", "founders"],
    ),
    "run_all.py": f"run with --quick --only w2_contextual by {SMOKE}",
    "separation.py": (
        ["--seeds", "2", "--impressions", "100000", "--objectives", "ctr"],
        ["## objective ctr", "generic  separate at", "user     separate at", "100,000: "],
    ),
    "store.py": "run with --quick by tests/simulation/store/test_store_bench.py",
    "sweep.py": (
        ["--runs", "1", "--workers", "1", "--skip-dask"],
        ["worker start-up", "local "],
    ),
    "sweep_figure.py": "needs a sweep table: the test_sweep_figure_* tests below draw one",
    "textfit.py": (["--quick"], ["100,000-word text", "x ordinary"]),
    "uplift_lean.py": (
        ["--seeds", "3", "--worlds", "2", "--impressions", "4000", "--policies", "uniform"],
        ["per-user vs generic ROAS, 2 worlds x 3 seeds", "uniform ", "paired", "predicted"],
    ),
    "w1_context_free.py": f"run small (with or without the peers) by {SMOKE}",
    "w2_contextual.py": f"run small (with or without the peers) by {SMOKE}",
}
SCRIPTS = sorted(path.name for path in BENCH.glob("*.py"))


def load(name: str, monkeypatch):
    """Import bench/``name`` as its own module (the scripts import ``peers`` by name)."""
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name[:-3]}", BENCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_bench_script_has_an_entry():
    # A new script needs an entry (its quick run, or why none); a removed one loses its own.
    assert sorted(RUNS) == SCRIPTS, set(RUNS) ^ set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_imports(name, monkeypatch):
    if name == "app.py":
        pytest.importorskip("playwright", reason="bench/app.py needs Playwright")
    module = load(name, monkeypatch)
    if name != "peers.py":
        assert callable(module.main)


@pytest.mark.slow
@pytest.mark.parametrize(
    "note, shown",
    [
        ("too few conversions for an interval: 1 vs 2 (generic vs user) in one replication; "
         "it needs at least 10 a side", "too few conversions"),
        ("too few clicks for an interval: 3 vs 9 (generic vs segment) in one replication; "
         "it needs at least 10 a side", "too few clicks"),
        ("every replication gave the same ratio: no spread to measure an interval from",
         "no spread"),
        ("", "no interval"),  # one usable replication: no reason beyond that
        (None, "no interval"),  # a table from before the notes: no column
        (float("nan"), "no interval"),  # a CSV read back: an empty note is NaN
    ],
)  # fmt: skip
def test_sweep_figure_says_why_a_cell_has_no_interval(note, shown, monkeypatch):
    figure = load("sweep_figure.py", monkeypatch)
    assert figure._no_interval(note) == shown


@pytest.mark.slow
def test_sweep_figure_reasons_match_the_notes_the_sweep_writes(sweep_table, monkeypatch):
    # The figure shortens the notes the sweep table holds: a reworded note in
    # simulation.metrics must not silently fall back to the bare "no interval".
    figure = load("sweep_figure.py", monkeypatch)
    notes = sweep_table.filter(like="_note").stack()
    notes = notes[notes != ""]
    assert len(notes), "1,000 impressions of 300 users leave some cell too few events"
    shown = {figure._no_interval(note) for note in notes}
    assert shown <= {"too few clicks", "too few conversions", "no spread"}


@pytest.mark.parametrize("name", [n for n in SCRIPTS if not isinstance(RUNS.get(n), str)])
def test_cheap_bench_script_runs(name, tmp_path, monkeypatch, capsys):
    # In this process, as ``python bench/NAME ARGS`` would run it: no interpreter start-up
    # and imports per script, and compiled kernels already loaded by other tests are reused.
    args, expected = RUNS[name]
    module = load(name, monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [name, *args])
    assert module.main() in (None, 0)
    out = capsys.readouterr().out
    for text in expected:
        assert text in out, f"{text!r} not in:\n{out[-3000:]}"
    # A NaN printed where a figure belongs means a column the script reads went missing.
    assert not re.search(r"\bnan\b", out, re.IGNORECASE), out[-3000:]
    assert list(tmp_path.iterdir()) == []  # writes nothing where it is run


@pytest.fixture(scope="module")
def sweep_table():
    """A real sweep table: the sweep's own code on four tiny runs (2 x 2 grid)."""
    plan = parse_grid(
        {
            "n_users": 300,
            "n_segments": 2,
            "n_impressions": 1_000,
            "batch_size": 500,
            "n_seeds": 2,
            "n_checkpoints": 2,
            "policies": ["thompson"],
            "grid": {"world.personalization_scale": [0.0, 2.0], "seed": [0, 1]},
        }
    )
    summaries = {
        run.run_key: run_experiment(run.config, n_jobs=1).summary_frame() for run in plan.runs
    }
    return build_table(plan, summaries)


def _colours(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    return len(np.unique(pixels.reshape(-1, 3), axis=0))


@pytest.mark.slow
def test_sweep_figure_draws_a_real_sweep_table(sweep_table, tmp_path, monkeypatch, capsys):
    # Built by the sweep's code, so a renamed column of the sweep table (uplift_ctr_low,
    # uplift_ctr_expected, ...) breaks this test as it breaks the figure.
    figure = load("sweep_figure.py", monkeypatch)
    path, out = tmp_path / "sweep.parquet", tmp_path / "heatmap.png"
    sweep_table.to_parquet(path, index=False)
    argv = ["sweep_figure.py", str(path), "seed", "world.personalization_scale", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    figure.main()
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert _colours(out) > 10  # cells coloured by their uplifts, text anti-aliased


@pytest.mark.slow
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_sweep_figure_says_when_a_cell_has_no_uplift(sweep_table, monkeypatch):
    # A metric without any pair (tiny runs, rare sales) has NaN uplifts everywhere: the
    # panel is drawn, grey, with no "nan" and no all-NaN warning.
    figure = load("sweep_figure.py", monkeypatch)
    table = sweep_table.copy()
    table.loc[:, [c for c in table if c.startswith("uplift_roas") and "pairs" not in c]] = np.nan
    image = figure.draw_heatmaps(table, "seed", "world.personalization_scale", "user", "best")
    assert image.width > 2 * 2 * figure.CELL_W
    roas = np.asarray(image.convert("RGB"))[figure.MARGIN_T + 5, -60]
    assert tuple(roas) == (220, 220, 220)  # the grey of a cell without an uplift


@pytest.mark.parametrize("name", [n for n in SCRIPTS if not isinstance(RUNS.get(n), str)])
def test_quick_run_options_are_the_scripts_own(name, monkeypatch, capsys):
    # An option a script no longer has would otherwise fail only in the slow test; the
    # script's own --help (argparse stops there, before any work) names every option.
    module = load(name, monkeypatch)
    monkeypatch.setattr(sys, "argv", [name, "--help"])
    with pytest.raises(SystemExit) as stop:
        module.main()
    assert stop.value.code == 0
    usage = capsys.readouterr().out
    for option in (a for a in RUNS[name][0] if a.startswith("--")):
        assert option in usage, f"{name} has no {option}"
