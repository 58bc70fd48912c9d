"""The run store in trouble: a full disk, a catalogue held by another process, a stop mid-save.

``run`` keeps its outputs in ``--out`` when only the store fails; the reading ``runs`` actions
answer within seconds from the run folders; a stopped save leaves no run behind.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation.__main__ import main
from simulation.store import run_store as run_store_module
from simulation.store.run_store import RunStore

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--users", "1000", "--segments", "3", "--impressions", "2000", "--batch-size", "500",
        "--seeds", "1", "--levels", "generic,segment", "--policies", "uniform,thompson",
        "--no-progress"]  # fmt: skip
HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(300)
"""


def _cli(*argv: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simulation", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        text=True,
        **kwargs,
    )


def test_a_full_store_disk_keeps_the_outputs_in_out_and_says_so_in_one_line(
    tmp_path, capsys, monkeypatch
):
    store, out = tmp_path / "store", tmp_path / "out"

    def full(frame, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(run_store_module, "write_parquet", full)
    code = main(["run", *TINY, "--store", str(store), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1, captured.err  # not a usage error (2): the command did its work
    assert captured.err.strip().splitlines() == [
        f"error: the run's outputs are in --out {out}, but it could not be saved to the run "
        f"store ({store}): No space left on device"
    ]
    assert "not saved to the run store" in captured.out and "Traceback" not in captured.err
    assert {"summary.csv", "uplift.csv", "timeseries.parquet", "run.json"} <= {
        p.name for p in out.iterdir()
    }
    assert json.loads((out / "run.json").read_text())["run_id"] is None
    reopened = RunStore.open(store)
    assert reopened.list().empty
    assert list(reopened.runs_dir.iterdir()) == [] and list(reopened.tmp_dir.iterdir()) == []


def test_run_and_runs_list_with_the_catalogue_held_by_another_process(tmp_path):
    store = tmp_path / "store"
    RunStore.open(store)  # the catalogue exists, for the holder to open
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store / "catalog.duckdb")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        run = _cli("run", *TINY, "--store", str(store), "--out", str(tmp_path / "out"),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        (run_id,) = [line.rsplit(" ", 1)[1] for line in out.splitlines() if "saved as run" in line]
        started = time.monotonic()
        listing = _cli("runs", "--store", str(store), "list",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        out, err = listing.communicate(timeout=120)
        took = time.monotonic() - started
        assert listing.returncode == 0, err
        assert run_id in out
        assert err.strip().splitlines() == [
            "note: the catalogue is busy (held by another process): listing from the run folders"
        ]
        # It waited ~36 s before; now about 1 s each to open and list, plus Python's start.
        assert took < 20, took
        show = _cli("runs", "--store", str(store), "show", run_id[:15],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        out, err = show.communicate(timeout=120)
        assert show.returncode == 0 and f"run      {run_id}" in out, err
    finally:
        holder.kill()
        holder.wait()
    assert list(RunStore.open(store).list()["run_id"]) == [run_id]


@pytest.mark.parametrize("step", ["published", "catalogued"])
def test_sigterm_just_after_the_save_reached_the_store_leaves_no_run(tmp_path, step):
    store, work = tmp_path / "store", tmp_path / "work"
    work.mkdir()
    err_path = tmp_path / "stderr.txt"
    with err_path.open("w") as err:
        proc = _cli("run", *TINY, "--store", str(store), "--out", str(work / "out"),
                    env={"ADLAB_STORE_TEST_PAUSE": step}, stdout=subprocess.DEVNULL,
                    stderr=err)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while f"paused at {step}" not in err_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = err_path.read_text().strip().splitlines()
    assert proc.returncode == 143, lines
    assert lines == [f"paused at {step}", "interrupted: nothing partial was written or saved"]
    assert list(work.iterdir()) == []  # no --out, no temporary folder
    reopened = RunStore.open(store)
    assert reopened.list().empty and list(reopened.runs_dir.iterdir()) == []
