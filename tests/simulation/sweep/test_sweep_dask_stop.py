"""A sweep on Dask stops at once: the runs in flight end, on our LocalCluster and on a shared one.

Dask cannot interrupt a running task: cancelling its future only stops waiting for it, and a
worker would run it to the end (minutes here) for no one. The sweep's runs check a named
``distributed.Event`` after each chunk (``ClusterStop``), which the sweep sets when it stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation.sweep import runner
from simulation.sweep.runner import ClusterStop

ROOT = Path(__file__).resolve().parents[3]
#: Runs of 20 million impressions: a minute or more each, so a stop that waited for the
#: runs in flight would be seen (the bounds below are generous for a loaded 2-core machine).
LONG = """
n_users = 500
n_segments = 2
n_impressions = 20_000_000
batch_size = 500
n_seeds = 2
n_checkpoints = 4
policies = ["uniform", "thompson"]

[grid]
seed = [0, 1, 2]
"""
INTERRUPTED = (
    "interrupted: the finished runs are kept in the --out folder's runs/ (runs in flight "
    "were stopped); the same command resumes from there"
)


def _session(pid: int) -> list[str]:
    """Processes still alive in the session ``pid`` led (workers, nannies, forkserver)."""
    found = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-s", str(pid)], capture_output=True, text=True
    )
    # A zombie is gone already; it waits only for its parent (the test's Popen) to reap it.
    return [line for line in found.stdout.splitlines() if line.split()[1:2] != ["Z"]]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# --- the runs' side of a stop ----------------------------------------------------------------


class _FakeEvent:
    """A stand-in for ``distributed.Event``: counts the questions asked of the scheduler."""

    def __init__(self, name, client=None):
        self.name, self.asked, self.flag = name, 0, False

    def is_set(self):
        self.asked += 1
        return self.flag


def test_a_run_asks_the_scheduler_at_most_every_interval_and_stays_stopped(monkeypatch):
    import distributed

    monkeypatch.setattr(distributed, "Event", _FakeEvent)
    stop = ClusterStop("adlab-sweep-stop-x", interval=60.0)
    event = stop._event
    assert event.name == "adlab-sweep-stop-x"
    # The engine asks after every chunk (milliseconds apart): one request per interval.
    assert [stop.is_set() for _ in range(100)] == [False] * 100
    assert event.asked == 1
    event.flag = True
    assert not stop.is_set(), "the answer is kept until the interval has passed"
    stop._next = 0.0  # the interval has passed
    assert stop.is_set() and event.asked == 2
    event.flag = False
    assert stop.is_set() and event.asked == 2, "a stopped run stays stopped"


def test_an_unanswered_question_is_not_a_stop(monkeypatch):
    import distributed

    class Unreachable(_FakeEvent):
        def is_set(self):
            raise OSError("the scheduler did not answer")

    monkeypatch.setattr(distributed, "Event", Unreachable)
    assert not ClusterStop("adlab-sweep-stop-y", interval=0.0).is_set()


def test_each_dask_run_is_given_the_sweeps_stop_event(monkeypatch):
    # The run itself is what ends a run in flight: it must receive the event's name and
    # pass the engine a stop built from it.
    seen = {}

    def fake_run(config, *, n_jobs, stop):
        seen["stop"] = stop
        raise RuntimeError("enough")

    import distributed

    import simulation.engine

    monkeypatch.setattr(distributed, "Event", _FakeEvent)
    monkeypatch.setattr(simulation.engine, "run_experiment", fake_run)
    from simulation.config import ExperimentConfig

    with pytest.raises(RuntimeError, match="enough"):
        runner.execute_run(ExperimentConfig().to_dict(), stop_event="adlab-sweep-stop-z")
    assert isinstance(seen["stop"], ClusterStop) and seen["stop"]._event.name.endswith("-z")
    with pytest.raises(RuntimeError, match="enough"):
        runner.execute_run(ExperimentConfig().to_dict())
    assert seen["stop"] is None, "off Dask (the local pool) the pool's own stop ends runs"


# --- the app's Stop (run_sweep's `stop`) on our own LocalCluster ------------------------------

#: A child process that runs the long sweep through ``run_sweep(backend="dask", stop=...)``
#: (the app's path), sets the event 3 s after the cluster's workers have runs to do, and
#: prints what happened as JSON.
_STOP_CHILD = """
import json, sys, threading, time, tomllib
from simulation.sweep import parse_grid
from simulation.sweep.runner import prepare_folder, run_sweep

text = open(sys.argv[1], encoding="utf-8").read()
plan = parse_grid(tomllib.loads(text))
out = prepare_folder(sys.argv[2], plan, text, force=False)
stop, times = threading.Event(), {}

def stopper():
    from distributed import default_client
    deadline = time.monotonic() + 60  # then stop anyway: the test fails on what it finds
    while time.monotonic() < deadline:  # the sweep's client, once the cluster is up
        try:
            client = default_client()
            if any(client.processing().values()):
                break
        except Exception:  # no client yet (ValueError), or one still connecting
            pass
        time.sleep(0.1)
    time.sleep(3.0)  # the first runs are under way (each takes a minute or more)
    times["set"] = time.monotonic()
    stop.set()
    print("the stop event is set", file=sys.stderr, flush=True)  # shown if the test fails

threading.Thread(target=stopper, daemon=True).start()
outcome = run_sweep(plan, out, backend="dask", workers=2, stop=stop)
print(json.dumps({"stopped": outcome.stopped, "table": outcome.table is not None,
                  "executed": outcome.n_executed, "took": time.monotonic() - times["set"]}))
"""


@pytest.mark.slow
def test_a_stop_event_ends_the_dask_runs_in_flight_at_once(tmp_path):
    pytest.importorskip("dask.distributed")
    grid = tmp_path / "grid.toml"
    grid.write_text(LONG, encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", _STOP_CHILD, str(grid), str(out)], cwd=ROOT, env=_env(),
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        got, err = proc.communicate(timeout=120)  # far less than the three runs' minutes
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            err = "(no output: the child's pipes stayed open)"
        pytest.fail(
            f"the stopped sweep still ran after 120 s (waited for its runs?):\n{err[-2000:]}"
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 0, err
    report = json.loads(got.strip().splitlines()[-1])
    assert report["stopped"] and not report["table"] and report["executed"] == 0, report
    # Before: the event was seen only as a run finished, a minute or more after the click.
    assert report["took"] < 20.0, f"{report['took']:.1f} s: it waited for the runs in flight"
    deadline = time.monotonic() + 10
    while _session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session(proc.pid) == [], "processes of the sweep outlived it"
    assert not list((out / "runs").glob("*.parquet")), "a run stopped in flight was stored"
    assert not list((out / "runs").glob(".*")), "a partial file was left"
    assert not (out / "sweep.csv").exists() and not (out / "sweep.parquet").exists()


# --- Ctrl-C on `sweep --backend dask --scheduler ADDRESS` (a shared cluster) -----------------


def _executing(client) -> dict[str, int]:
    """Tasks each worker of the cluster is running now."""
    return client.run(lambda dask_worker: len(dask_worker.state.executing))


@pytest.mark.slow
def test_ctrl_c_ends_the_runs_on_a_shared_cluster_too(tmp_path):
    # Cancelling the futures alone (as before) let the cluster's workers run the cancelled
    # runs to their end, minutes of two shared cores, for no one.
    distributed = pytest.importorskip("dask.distributed")
    grid = tmp_path / "grid.toml"
    grid.write_text(LONG, encoding="utf-8")
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        command = [sys.executable, "-m", "simulation", "sweep", "--grid", str(grid)]
        command += ["--out", str(out), "--store", str(tmp_path / "store"), "--no-progress"]
        command += ["--backend", "dask", "--scheduler", cluster.scheduler_address]
        proc = subprocess.Popen(
            command, cwd=ROOT, env=_env(), start_new_session=True, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while sum(_executing(client).values()) < 2:
                assert proc.poll() is None, "the sweep ended before it could be stopped"
                assert time.monotonic() < deadline, "the runs never started"
                time.sleep(0.2)
            time.sleep(3.0)  # the runs are under way (each takes a minute or more)
            assert proc.poll() is None, "the sweep ended before it could be stopped"
            os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the group
            stopped = time.monotonic()
            _, err = proc.communicate(timeout=60)
            took = time.monotonic() - stopped
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        assert proc.returncode == 130, err
        assert err.strip().splitlines() == [INTERRUPTED], "one line: no traceback"
        assert took < 20.0, f"{took:.1f} s to stop"
        # The cluster outlives the command (it is not ours to close); its workers are free.
        deadline = time.monotonic() + 20
        while sum(_executing(client).values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _executing(client) == dict.fromkeys(_executing(client), 0), (
            "the cluster's workers still run the stopped sweep's runs"
        )
        left = client.run_on_scheduler(
            lambda dask_scheduler: [k for k in dask_scheduler.tasks if "adlab-run-" in str(k)]
        )
        assert left == [], "the scheduler still holds the stopped sweep's runs"
    assert not list((out / "runs").glob("*.parquet")), "a run stopped in flight was stored"
    assert not (tmp_path / "store").exists(), "an unfinished sweep is not saved"


# --- what a stop leaves on a shared scheduler ------------------------------------------------


def _stop_events(client) -> dict[str, bool]:
    """The stop events the scheduler holds, and whether each is set."""

    def held(dask_scheduler):
        events = dask_scheduler.extensions["events"]._events
        return {str(name): e.is_set() for name, e in events.items() if "adlab" in str(name)}

    return client.run_on_scheduler(held)


def test_a_stopped_sweep_s_event_is_forgotten_by_the_scheduler(tmp_path, monkeypatch):
    # Each stop set a named event on the scheduler, which kept it for its life: a shared
    # scheduler gathered one entry per stop. It is set (the runs in flight must see it),
    # then the scheduler clears it, which removes it, once they have had time to.
    import threading
    import tomllib

    distributed = pytest.importorskip("dask.distributed")
    from simulation.sweep import parse_grid
    from simulation.sweep.runner import prepare_folder, run_sweep

    monkeypatch.setattr(runner, "STOP_EVENT_GRACE", 1.0, raising=False)
    text = LONG.replace("20_000_000", "2_000")
    plan = parse_grid(tomllib.loads(text))
    out = prepare_folder(tmp_path / "out", plan, text, force=False)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
            host="127.0.0.1", dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        stop = threading.Event()
        stop.set()  # the app's Stop, before the first run has finished
        outcome = run_sweep(
            plan, out, backend="dask", scheduler=cluster.scheduler_address, stop=stop
        )
        assert outcome.stopped and outcome.table is None
        held = _stop_events(client)
        assert list(held.values()) == [True], held  # this sweep's own, set
        deadline = time.monotonic() + 15
        while _stop_events(client) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _stop_events(client) == {}, "the scheduler kept the stopped sweep's event"
