import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulation.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--users", "1000", "--segments", "3", "--impressions", "2000", "--batch-size", "500",
        "--seeds", "2", "--no-progress"]  # fmt: skip


def test_outputs_and_columns(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", *TINY, "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == [
        "policy", "level", "seed", "impressions", "clicks", "conversions", "spend", "revenue",
        "ctr", "cvr", "roas", "regret",
    ]  # fmt: skip
    assert set(summary["level"]) == {"generic", "segment", "user"}
    assert {"uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb"} <= set(summary["policy"])
    assert len(summary) == 5 * 3 * 2
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert {"seed", "level", "policy", "step", "ctr", "regret"} <= set(ts.columns)
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["n_impressions"] == 2000 and "numpy" in run["versions"]


def test_same_seed_identical_summary(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", *TINY, "--seed", "5", "--out", str(a)]) == 0
    assert main(["run", *TINY, "--seed", "5", "--out", str(b)]) == 0
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policies", "thompson,nope"], "unknown policy 'nope'"),
        (["--impressions", "-3"], "expected a positive integer"),
        (["--impressions", "10", "--batch-size", "100"], "must not exceed"),
        (["--impressions", "1e13"], "`n_impressions` must be an int"),
        (["--seeds", "0"], "expected a positive integer"),
        (["--objective", "cpa"], "invalid choice"),
        (["--levels", "planet"], "unknown level"),
        (["--budget", "-5"], "`budget` must be None or a float"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_flags(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["run", *TINY, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = [", "malformed TOML"),
        ("colour = 3", "unknown config key"),
        ("n_users = -1", "`n_users`"),
    ],
)
def test_bad_config_file(tmp_path, capsys, text, message):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", *TINY, "--out", str(blocker / "sub")]) == 2
    assert "error: cannot write" in capsys.readouterr().err


def test_subprocess_exit_code_and_single_line():
    proc = subprocess.run(
        [sys.executable, "-m", "simulation", "run", "--policies", "bogus"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: unknown policy")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_every_run_is_saved_in_the_store(tmp_path, capsys):
    from simulation.store.run_store import RunStore

    store_dir = tmp_path / "store"
    assert (
        main(["run", *TINY, "--out", str(tmp_path / "o"), "--store", str(store_dir), "--log"]) == 0
    )
    run_id = json.loads((tmp_path / "o" / "run.json").read_text())["run_id"]
    stored = RunStore.open(store_dir).load(run_id)
    assert stored.config["n_impressions"] == 2000
    assert len(stored.summary) == 30 and "allocation" in stored.tables
    assert stored.log_path is not None and (tmp_path / "o" / "logs.parquet").exists()
