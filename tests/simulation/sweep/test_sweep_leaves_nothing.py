"""A sweep that fails a check, or fails or is stopped while it sets up, leaves nothing partial.

The promise under test (README, "Command line at a glance"): every command writes nothing
partial. A failed up-front check creates no file or folder (neither the --out folder nor the
run store); a stop while a Dask LocalCluster starts is one line, exit 130 (143 for SIGTERM),
and no process of the sweep outlives it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation.__main__ import main
from simulation.sweep import load_grid, prepare_folder
from simulation.sweep.table import write_table

ROOT = Path(__file__).resolve().parents[3]
BASE = """
n_users = 500
n_segments = 2
n_impressions = 2_000
batch_size = 500
n_seeds = 2
n_checkpoints = 4
policies = ["uniform", "thompson"]
"""
GRID = BASE + "\n[grid]\nn_segments = [2, 3]\n"
#: Runs of many seconds each: a sweep of them is still running when it is stopped.
LONG = BASE.replace("n_impressions = 2_000", "n_impressions = 2_000_000") + (
    "\n[grid]\nseed = [0, 1, 2, 3]\n"
)
INTERRUPTED = (
    "interrupted: the finished runs are kept in the --out folder's runs/ (runs in flight "
    "were stopped); the same command resumes from there"
)


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` (files with their bytes)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def _free_port() -> int:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session(pid: int) -> list[str]:
    """Processes still alive in the session ``pid`` led (its workers, forkserver, tracker)."""
    found = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-s", str(pid)], capture_output=True, text=True
    )
    return [line for line in found.stdout.splitlines() if line.strip()]


# --- a failed check creates nothing ---------------------------------------------------------


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A grid, an earlier sweep's folder and a default store location, all under tmp_path."""
    (tmp_path / "grid.toml").write_text(GRID, encoding="utf-8")
    earlier = tmp_path / "earlier"
    (earlier / "runs").mkdir(parents=True)
    (earlier / "grid.toml").write_text(GRID, encoding="utf-8")
    (earlier / "runs" / "k.parquet").write_bytes(b"a stored run")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "home" / "adlab"))
    return tmp_path


@pytest.mark.parametrize("out", ["new/nested/out", "empty", "earlier"])
def test_an_unreachable_scheduler_creates_no_file_or_folder(out, world, capsys, monkeypatch):
    import simulation.sweep.runner as runner

    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(runner, "SCHEDULER_TIMEOUT", 1.0)
    before = _tree(world)
    address = f"tcp://127.0.0.1:{_free_port()}"
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / out)]
    assert main([*argv, "--backend", "dask", "--scheduler", address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: no Dask scheduler answered at {address}")
    # Neither the --out folder (nor its parents) nor the default run store ($ADLAB_HOME).
    assert _tree(world) == before


def test_a_stop_while_waiting_for_the_scheduler_says_nothing_was_written(
    world, capsys, monkeypatch
):
    import simulation.sweep.runner as runner

    def ctrl_c(address):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "connect_scheduler", ctrl_c)
    before = _tree(world)
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / "out")]
    assert main([*argv, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:8786"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["interrupted: nothing was written"]
    assert _tree(world) == before


@pytest.mark.parametrize("store", ["afile/store", "afile"])
def test_a_store_under_a_file_is_refused_and_nothing_created(store, world, capsys):
    (world / "afile").write_text("not a folder", encoding="utf-8")
    before = _tree(world)
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / "out")]
    assert main([*argv, "--store", str(world / store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot open the run store: {world / 'afile'} is not a folder"]
    assert _tree(world) == before


@pytest.mark.parametrize(
    ("store", "out"),
    [
        (None, "home/adlab/sweeps/x"),  # the default store ($ADLAB_HOME)
        (None, "home/adlab"),
        ("mystore", "mystore/sweeps/x"),
        ("mystore", "mystore/runs"),
    ],
)
def test_an_out_folder_inside_the_run_store_is_refused(store, out, world, capsys):
    # A sweep folder there replaced a saved sweep's grid.toml and sweep.parquet, and
    # runs check then reported the sweep damaged (--repair would quarantine it).
    (world / "home" / "adlab" / "sweeps" / "x").mkdir(parents=True)
    (world / "mystore" / "sweeps" / "x").mkdir(parents=True)
    before = _tree(world)
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / out), "--force"]
    if store is not None:
        argv += ["--store", str(world / store)]
    assert main(argv) == 2
    root = (world / (store or "home/adlab")).resolve()
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: --out must be outside the run store {root}; got {(world / out).resolve()}"
    ]
    assert _tree(world) == before


def test_an_out_folder_linked_into_the_store_is_refused(world, capsys):
    (world / "home" / "adlab" / "sweeps").mkdir(parents=True)
    (world / "link").symlink_to(world / "home" / "adlab" / "sweeps")
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / "link" / "x")]
    assert main(argv) == 2
    assert "--out must be outside the run store" in capsys.readouterr().err


def test_a_conflicting_out_folder_leaves_the_store_uncreated(world, capsys):
    (world / "other").mkdir()
    (world / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    before = _tree(world)
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / "other")]
    assert main(argv) == 2
    assert "is not empty and holds no sweep" in capsys.readouterr().err
    assert _tree(world) == before, "the run store was created although the sweep never ran"


@pytest.mark.parametrize("out", ["new/nested/out", "empty", "earlier"])
def test_prepare_folder_failing_half_way_removes_only_what_it_created(out, world, monkeypatch):
    import simulation.sweep.runner as runner

    plan, text = load_grid(world / "grid.toml")
    before = _tree(world)
    calls = []

    def full_disk(src, dst):
        calls.append(dst)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner.os, "replace", full_disk)
    # A changed grid, so grid.toml is rewritten (and fails) in the earlier sweep's folder too.
    with pytest.raises(OSError, match="No space"):
        prepare_folder(world / out, plan, text + "# edited\n", force=True)
    assert calls, "the failure was not in the writing"
    assert _tree(world) == before, "a folder made by the failed call, or a user's, changed"


def test_a_new_grid_is_never_written_beside_the_old_table(world, monkeypatch):
    import simulation.sweep.runner as runner

    (world / "earlier" / "sweep.csv").write_text("the old grid's table", encoding="utf-8")
    plan, text = load_grid(world / "grid.toml")
    seen = []
    replace = os.replace

    def watch(src, dst):
        seen.append((Path(dst).name, (world / "earlier" / "sweep.csv").exists()))
        return replace(src, dst)

    monkeypatch.setattr(runner.os, "replace", watch)
    prepare_folder(world / "earlier", plan, text + "# edited\n", force=True)
    assert seen == [("grid.toml", False)], "the old table was still there"
    assert (world / "earlier" / "runs" / "k.parquet").exists(), "stored runs are kept"


def test_a_failed_table_write_leaves_neither_file(tmp_path, monkeypatch):
    table = pd.DataFrame({"point_index": [0, 1], "uplift_ctr": [0.1, 0.2]})

    def fail(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError):
        write_table(table, tmp_path)
    assert _tree(tmp_path) == {}, "a Parquet file without its CSV, or a temporary file"
    monkeypatch.undo()
    parquet, csv = write_table(table, tmp_path)
    assert sorted(_tree(tmp_path)) == ["sweep.csv", "sweep.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), pd.read_csv(csv))


@pytest.mark.slow
def test_the_command_with_no_scheduler_listening_exits_2_and_creates_nothing(tmp_path):
    # The real command, its real 10 s timeout and its default store ($ADLAB_HOME).
    pytest.importorskip("dask.distributed")
    (tmp_path / "grid.toml").write_text(GRID, encoding="utf-8")
    before = _tree(tmp_path)
    address = f"tcp://127.0.0.1:{_free_port()}"
    command = [sys.executable, "-m", "simulation", "sweep", "--grid", str(tmp_path / "grid.toml")]
    command += ["--out", str(tmp_path / "out"), "--backend", "dask", "--scheduler", address]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADLAB_HOME": str(tmp_path / "home")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: no Dask scheduler answered at {address} within 10 s; is it running, and is "
        "the address right?"
    ]
    assert _tree(tmp_path) == before


# --- a stop while the Dask LocalCluster starts -------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "code", "after"),
    [("ctrl-c", 130, 0.3), ("ctrl-c", 130, 1.5), ("sigterm", 143, 0.8)],
    ids=["ctrl-c-early", "ctrl-c-later", "kill"],
)
def test_a_stop_while_the_local_cluster_starts_is_one_line_and_no_process(
    how, code, after, tmp_path
):
    pytest.importorskip("dask.distributed")
    (tmp_path / "grid.toml").write_text(LONG, encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "simulation", "sweep", "--grid", str(tmp_path / "grid.toml")]
    command += ["--out", str(out), "--store", str(tmp_path / "store"), "--workers", "2"]
    command += ["--backend", "dask", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        # runs/ is made just before the cluster starts, which takes seconds (its workers
        # import the engine): a stop `after` seconds lands while it starts, or just before.
        while not (out / "runs").is_dir():
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep never started"
            time.sleep(0.02)
        time.sleep(after)
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        if how == "ctrl-c":  # a terminal's Ctrl-C reaches the whole process group
            os.killpg(proc.pid, signal.SIGINT)
        else:  # `kill PID`: the command alone
            os.kill(proc.pid, signal.SIGTERM)
        stopped = time.monotonic()
        # Before the fix a Ctrl-C here was lost: the sweep ran on (its runs take minutes).
        _, err = proc.communicate(timeout=45)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == code, err
    assert err.strip().splitlines() == [INTERRUPTED], "one line: no traceback, no worker's"
    # The start finishes, then the stop: seconds, not the runs' minutes (generous on a
    # loaded 2-core machine, where the start alone took up to 6 s).
    assert took < 20, f"{took:.1f} s to stop"
    deadline = time.monotonic() + 10
    while _session(proc.pid) and time.monotonic() < deadline:  # workers and server gone
        time.sleep(0.2)
    assert _session(proc.pid) == [], "processes of the sweep outlived it"
    assert not list((out / "runs").glob("*.parquet")), "no run was stopped in flight"
    assert not (tmp_path / "store").exists(), "an unfinished sweep is not saved"


@pytest.mark.parametrize(
    ("length", "error"), [(80, "is not empty"), (81, "--name"), (5000, "--name")]
)
def test_a_sweep_name_is_bounded_as_a_run_s_is(length, error, world, capsys):
    # The audit: run --name had a limit, sweep --name none (every row of runs list
    # --sweeps shows it). A name of 80 passes and the next check (a folder holding
    # something else) speaks; a longer one is refused first, with run's own message.
    (world / "other").mkdir()
    (world / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    before = _tree(world)
    argv = ["sweep", "--grid", str(world / "grid.toml"), "--out", str(world / "other")]
    assert main([*argv, "--name", "n" * length]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and error in err[0], err
    if error == "--name":
        assert err == [f"error: --name must be at most 80 characters; got {length:,}"]
    assert _tree(world) == before
