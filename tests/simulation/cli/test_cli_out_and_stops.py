"""``run`` and ``world``: where --out may be, what an earlier output folder keeps, and stops.

The promise (README, docs/security.md): bad input is one ``error:`` line, exit 2, nothing
written; Ctrl-C or ``kill`` is one ``interrupted:`` line, exit 130 / 143, nothing half-written
and no worker process left behind.
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation.__main__ import main
from simulation.cli.common import Terminated, UsageError, check_outside_store, sigterm_stops
from simulation.cli.run import split_policies
from simulation.store import RunStore

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--users", "1000", "--segments", "3", "--impressions", "2000", "--batch-size", "500",
        "--seeds", "1", "--levels", "generic,segment", "--policies", "uniform,thompson",
        "--no-progress"]  # fmt: skip
WORLD = ["--preset", "quick"]


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- --out inside the run store ---------------------------------------------------------------


@pytest.fixture
def saved_run(tmp_path, capsys):
    """A store with one saved run: (store root, run id)."""
    store = tmp_path / "store"
    assert main(["run", *TINY, "--store", str(store), "--out", str(tmp_path / "first")]) == 0
    capsys.readouterr()
    (run_id,) = RunStore.open(store).list()["run_id"]
    return store, run_id


@pytest.mark.parametrize("where", ["root", "runs", "run", "below a run"])
def test_run_out_inside_the_store_is_refused_and_the_saved_run_is_untouched(
    saved_run, where, capsys
):
    store, run_id = saved_run
    out = {
        "root": store,
        "runs": store / "runs",
        "run": store / "runs" / run_id,
        "below a run": store / "runs" / run_id / "x",
    }[where]
    before = _digest(store)
    assert main(["run", *TINY, "--store", str(store), "--out", str(out)]) == 2
    assert "must be outside the run store" in _one_error(capsys)
    assert _digest(store) == before  # not a byte written, not a loose file
    assert RunStore.open(store).check().empty


def test_run_out_inside_the_default_store_is_refused(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("ADLAB_HOME", str(home))
    assert main(["run", *TINY, "--out", str(home / "runs")]) == 2
    assert f"must be outside the run store {home}" in _one_error(capsys)
    assert not home.exists()  # refused before the store is opened (and created)


def test_a_link_into_the_store_is_followed(saved_run, tmp_path, capsys):
    store, run_id = saved_run
    link = tmp_path / "innocent"
    link.symlink_to(store / "runs" / run_id)
    assert main(["run", *TINY, "--store", str(store), "--out", str(link)]) == 2
    assert "must be outside the run store" in _one_error(capsys)


def test_world_out_inside_the_store_is_refused(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    (home / "runs" / "r1").mkdir(parents=True)
    monkeypatch.setenv("ADLAB_HOME", str(home))
    assert main(["world", *WORLD, "--out", str(home / "runs" / "r1")]) == 2
    assert "must be outside the run store" in _one_error(capsys)
    assert list((home / "runs" / "r1").iterdir()) == []
    assert [p.name for p in home.iterdir()] == ["runs"]


def test_check_outside_store_compares_whole_folder_names(tmp_path):
    store = tmp_path / "store"
    check_outside_store(tmp_path / "store2", store)  # a sibling sharing a prefix is fine
    check_outside_store(tmp_path, store)  # so is the store's parent
    with pytest.raises(UsageError, match="--out must be outside the run store"):
        check_outside_store(store / "a" / "b", store)


# --- other bad --out and --name values -------------------------------------------------------


def test_world_out_empty_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["world", *WORLD, "--out", ""]) == 2
    assert "--out must be a folder; got an empty string" in _one_error(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "world"])
def test_an_unwritable_parent_is_one_line(command, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv = TINY if command == "run" else WORLD
    assert main([command, *argv, "--out", str(afile / "x")]) == 2
    assert "cannot write to" in _one_error(capsys)
    assert afile.read_text() == "x"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc here")
@pytest.mark.parametrize("command", ["run", "world"])
def test_out_under_proc_is_one_line(command, capsys):
    # /proc says writable to root (os.access), yet nothing can be created in it.
    argv = TINY if command == "run" else WORLD
    assert main([command, *argv, "--out", "/proc/adlab-test-x"]) == 2
    assert "cannot write to /proc" in _one_error(capsys)


@pytest.mark.parametrize(("length", "code"), [(80, 0), (81, 2), (5000, 2)])
def test_run_name_is_bounded(length, code, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", *TINY, "--name", "n" * length, "--out", str(out)]) == code
    if code == 2:
        assert f"--name must be at most 80 characters; got {length:,}" in _one_error(capsys)
        assert not out.exists()


# --- an earlier output folder ----------------------------------------------------------------


def test_a_run_without_log_removes_the_earlier_runs_log_and_nothing_else(tmp_path, capsys):
    out = tmp_path / "lg"
    assert main(["run", *TINY, "--log", "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    assert (out / "logs.parquet").is_file()
    assert main(["run", *TINY, "--seed", "9", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"summary.csv", "uplift.csv", "timeseries.parquet", "run.json", "notes.txt"}
    assert (out / "notes.txt").read_text() == "mine"


def test_a_folder_no_run_wrote_keeps_files_of_the_same_names(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "logs.parquet").write_text("not adlab's")  # no run.json: not an earlier run
    assert main(["run", *TINY, "--out", str(out)]) == 0
    assert (out / "logs.parquet").read_text() == "not adlab's"


def test_world_without_generated_removes_the_earlier_compositions(tmp_path, capsys):
    config = tmp_path / "w.toml"
    config.write_text("n_users = 1000\nn_segments = 2\nn_variants = 2\n")
    small = ["--config", str(config)]
    out = tmp_path / "wx"
    assert main(["world", *small, "--generated", "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    assert (out / "compositions.csv").is_file()
    assert main(["world", *small, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"arms.csv", "spreads.csv", "mechanisms.csv", "world.json", "notes.txt"}


# --- --policies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "specs"),
    [
        ("uniform,thompson", ("uniform", "thompson")),
        (" uniform , , thompson ", ("uniform", "thompson")),
        (
            "uniform,segment:thompson(prior_alpha=2, prior_beta=3),ucb1",
            ("uniform", "segment:thompson(prior_alpha=2, prior_beta=3)", "ucb1"),
        ),
        ("a(x=1, y=(2, 3)), b", ("a(x=1, y=(2, 3))", "b")),
        # Written canonically, the text the rows and the store name the spec by.
        (
            "ucb1( alpha=.5 ),segment:lin_ucb(alpha=1,ridge=2)",
            ("ucb1(alpha=0.5)", "segment:lin_ucb(alpha=1, ridge=2)"),
        ),
    ],
)
def test_policies_split_only_at_top_level_commas(text, specs):
    assert split_policies(text) == specs


def test_a_spec_with_a_bad_setting_reaches_the_config_check_whole(tmp_path, capsys):
    spec = "segment:thompson(prior_alpha=0, prior_beta=3)"
    out = tmp_path / "o"
    assert main(["run", *TINY, "--policies", f"uniform,{spec}", "--out", str(out)]) == 2
    # Named whole: the config's own check, not a split half such as "prior_beta=3)", with
    # the settings the policy takes and their ranges.
    error = _one_error(capsys)
    assert repr(spec) in error and "prior_beta (a float in (0, 1e6])" in error
    assert not out.exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("epsilon_greedy(epsilon=1.5)", "epsilon_greedy takes epsilon (a float in [0, 1])"),
        ("ucb1(beta=1)", "unknown hyperparameter(s) ['beta'] of 'ucb1'; ucb1 takes alpha"),
        ("lin_ucb(alpha=" + "9" * 200 + ")", "at most 200 characters"),
    ],
)
def test_bad_settings_exit_2_in_one_line(tmp_path, capsys, spec, message):
    assert main(["run", *TINY, "--policies", spec, "--out", str(tmp_path / "o")]) == 2
    assert message in _one_error(capsys)


def test_variants_of_one_policy_run_side_by_side_and_reload(tmp_path, capsys):
    out, store = tmp_path / "o", tmp_path / "store"
    policies = "epsilon_greedy(epsilon=.05), epsilon_greedy(epsilon=0.2),uniform"
    argv = [*TINY, "--policies", policies, "--out", str(out), "--store", str(store)]
    assert main(["run", *argv]) == 0
    variants = ["epsilon_greedy(epsilon=0.05)", "epsilon_greedy(epsilon=0.2)"]
    summary = pd.read_csv(out / "summary.csv")
    # Distinct rows named by the canonical spec, each a full run on the same impressions.
    assert list(dict.fromkeys(summary["policy"])) == [*variants, "uniform"]
    assert (summary["impressions"] == 2000).all()
    uplift = pd.read_csv(out / "uplift.csv")
    for spec in variants:  # each variant paired with itself at the generic level
        rows = uplift[uplift["policy"] == spec]
        assert not rows.empty and (rows["baseline"] == f"generic · {spec}").all()
    # The store keeps the specs: the run reloads with its config, rows and best as run.
    opened = RunStore.open(store)
    listed = opened.list()
    (run_id,) = listed["run_id"]
    assert listed["best"].iloc[0].split(" @ ")[0] in [*variants, "uniform"]
    loaded = opened.load(run_id)
    assert tuple(loaded.meta["config"]["policies"]) == (*variants, "uniform")
    assert list(dict.fromkeys(loaded.summary["policy"])) == [*variants, "uniform"]
    # The report names each variant as the app does, settings beside the name.
    page = tmp_path / "report.html"
    assert main(["runs", "--store", str(store), "report", run_id, "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "ε-greedy (epsilon=0.05)" in html and "ε-greedy (epsilon=0.2)" in html


def test_segment_copies_still_run_from_the_list(tmp_path, capsys):
    out = tmp_path / "o"
    argv = [*TINY, "--policies", "uniform, segment:thompson", "--out", str(out)]
    assert main(["run", *argv]) == 0
    assert set(pd.read_csv(out / "summary.csv")["policy"]) == {"uniform", "segment:thompson"}


# --- stops: Ctrl-C and SIGTERM ---------------------------------------------------------------


def test_sigterm_raises_the_interrupt_inside_the_block_only():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_stops():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at the next bytecode; never reached
    assert signal.getsignal(signal.SIGTERM) is previous  # restored on the way out
    assert issubclass(Terminated, KeyboardInterrupt)  # so it takes the Ctrl-C clean-up path


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc; zombies count as gone)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, ppid = text.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_survivors(pids: list[int]) -> None:
    """A failed test must not leave its orphans running: end them (by pid, never by name)."""
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


#: Two seeds of one level: two units, so the engine forks two workers; long enough
#: (millions of impressions) that they are still running when the signal comes.
LONG = ["run", "--users", "1000", "--segments", "3", "--impressions", "50_000_000",
        "--batch-size", "5000", "--seeds", "2", "--levels", "generic",
        "--policies", "uniform,thompson", "--no-progress"]  # fmt: skip


def _start_run_with_workers(tmp_path):
    """Start a run in ``tmp_path/work`` and wait until its workers are up.

    Its stderr goes to a file, not a pipe: orphaned workers would hold a pipe open and
    a test waiting for its end would hang instead of failing.
    """
    work = tmp_path / "work"
    work.mkdir()
    err = (tmp_path / "stderr.txt").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation", *LONG, "--out", str(work / "out")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    err.close()
    try:
        # The marker: both forked workers running (the temp folder is there by then).
        _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None, 240, "workers")
    except BaseException:
        _kill_survivors(_children(proc.pid))
        proc.kill()
        proc.wait()
        raise
    assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
    return proc, work, _children(proc.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
def test_sigterm_while_workers_run_is_one_line_143_and_leaves_nothing(tmp_path):
    proc, work, workers = _start_run_with_workers(tmp_path)
    try:
        assert [p.name for p in work.iterdir() if p.name.startswith(".adlab-run.tmp")]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        _wait_for(lambda: not any(_alive(w) for w in workers), 10, "the workers to end")
    finally:
        _kill_survivors(workers)
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["interrupted: nothing partial was written or saved"]
    assert list(work.iterdir()) == []  # no --out, no temporary folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG: Linux only")
def test_workers_end_when_their_run_is_killed_outright(tmp_path):
    proc, _, workers = _start_run_with_workers(tmp_path)
    proc.kill()  # SIGKILL: no clean-up runs in the parent
    proc.wait(timeout=60)
    try:
        # Before, they waited forever on the progress pipe (parent 1).
        _wait_for(lambda: not any(_alive(w) for w in workers), 10, "the orphaned workers to end")
    finally:
        _kill_survivors(workers)


def test_sigterm_while_world_runs_is_one_line_143_and_leaves_nothing(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    err = (tmp_path / "stderr.txt").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation", "world", *WORLD, "--out", str(work / "wx")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    err.close()
    try:
        # The marker: its temporary folder beside --out (the world is built after it).
        _wait_for(lambda: any(work.iterdir()) or proc.poll() is not None, 240, "the temp folder")
        assert proc.poll() is None, "the world was laid open before the signal"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["interrupted: nothing partial was written or saved"]
    assert list(work.iterdir()) == []
