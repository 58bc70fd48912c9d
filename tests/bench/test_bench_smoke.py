"""The benchmark scripts run with tiny sizes, with or without the peers installed."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HAS_MABWISER = importlib.util.find_spec("mabwiser") is not None


def run(*args: str, timeout: int = 180) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


@pytest.mark.parametrize(
    ("script", "extra", "expected"),
    [
        (
            "w1_context_free.py",
            ["--steps", "1500", "--batch1-steps", "300"],
            ["thompson", "ucb1", "epsilon_greedy", "Exact sequential Thompson sampling"],
        ),
        (
            "w2_contextual.py",
            ["--steps", "1200", "--batch1-steps", "100", "--vw-steps", "100"],
            ["lin_ucb", "lin_ts", "Targets at batch 1,000"],
        ),
        (
            "chapelle_li.py",
            [
                "--reps",
                "4",
                "--steps",
                "800",
                "--delays",
                "1",
                "10",
                "--check-reps",
                "3",
                "--check-steps",
                "300",
                "--precise-reps",
                "5",
            ],
            [
                "paper TS",
                "9,105",
                "Cross-check",
                "UCB worse than TS",
                "Other readings",
                "TS lagged",
                "TS lagged-b44",
                "Chernoff-UCB aligned-age",
                "Precise TS",
                "adlab TS (5 reps)",
            ],
        ),
    ],
)
def test_script_quick_runs_and_prints_its_tables(script, extra, expected, tmp_path):
    md = tmp_path / "out.md"
    out = run(str(ROOT / "bench" / script), "--quick", *extra, "--markdown", str(md))
    for text in expected:
        assert text in out
    if not HAS_MABWISER and script != "chapelle_li.py":
        assert "MABWiser not installed: skipped" in out
    assert md.read_text().startswith("## ")
    assert "|---|" in md.read_text()


def test_mvt_speed_times_the_funnel_under_net_value():
    out = run(str(ROOT / "bench" / "mvt_speed.py"), "--net-value", "--batches", "3")
    assert "under net value (the funnel" in out and "ratio mvt_ts / thompson" in out


def test_generated_ceiling_runs_small_and_prints_the_knockout_and_the_informed_learner():
    # The diagnostic that found the climb's constraint trap: every axis gets a line.
    out = run(
        str(ROOT / "bench" / "generated_ceiling.py"),
        *("--impressions", "2000", "--seeds", "1", "--fit-rows", "2000"),
        *("--eval-users", "300", "--objectives", "ctr", "--knockout", "--informed"),
    )
    assert "ceiling" in out and "a uniform experiment of 2,000 teaches" in out
    assert "knock-out, ctr, 2,000 impressions" in out
    for axis in ("product", "tone", "offer", "keyword", "language"):
        assert f"    {axis} " in out
    assert "user cells by axis (log10 of scale / automatic): tone " in out
    assert "pair blocks above the floor: " in out
    assert "told the structure, ctr, 2,000 impressions, 1 seed:" in out
    for learner in ("engine's learner, drawn", "informed learner, drawn", "informed learner, exp"):
        assert f"    {learner}" in out


def test_run_all_writes_results_with_machine_facts(tmp_path):
    results = tmp_path / "RESULTS.md"
    run(
        str(ROOT / "bench" / "run_all.py"),
        "--quick",
        "--only",
        "w2_contextual",
        "--output",
        str(results),
    )
    text = results.read_text()
    for fact in ("cores", "CPU", "Python", "numpy", "date (UTC)", "## W2", "decisions/s"):
        assert fact in text
