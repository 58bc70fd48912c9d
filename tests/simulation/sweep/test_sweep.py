"""Sweeps: grid validation, seeds from grid points, local = Dask byte for byte, kill and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.__main__ import main
from simulation.config import ExperimentConfig
from simulation.store.sweeps import list_sweeps
from simulation.sweep import MAX_RUNS, load_grid, parse_grid

ROOT = Path(__file__).resolve().parents[3]
HAS_WORLD = "world" in ExperimentConfig.__dataclass_fields__

#: A base small enough that one run takes well under a second.
BASE = """
n_users = 500
n_segments = 2
n_impressions = 2_000
batch_size = 500
n_seeds = 2
n_checkpoints = 4
policies = ["uniform", "thompson"]
"""
GRID = BASE + "\n[grid]\nn_segments = [2, 3]\nn_impressions = [1_000, 2_000]\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _sweep(tmp_path: Path, grid: Path, out: Path, *extra: str) -> int:
    store = tmp_path / "store"
    return main(["sweep", "--grid", str(grid), "--out", str(out), "--store", str(store), *extra])


# --- the plan -------------------------------------------------------------------------------


def test_plan_is_the_cartesian_product_with_seeds_from_points():
    plan = parse_grid({"n_users": 500, "worlds": 2, "grid": {"n_segments": [2, 3], "seed": [1]}})
    assert len(plan.points) == 2 and len(plan.runs) == 4
    assert [r.config.n_segments for r in plan.runs] == [2, 2, 3, 3]
    seeds = [r.config.seed for r in plan.runs]
    assert len(set(seeds)) == 4, "every (point, world) draws its own world"
    # The same point keeps its seed and run key when the grid around it grows or is
    # reordered: seeds come from the point, not from its position or the run order.
    bigger = parse_grid(
        {"n_users": 500, "worlds": 2, "grid": {"seed": [1], "n_segments": [5, 3, 2]}}
    )
    keys = {(r.point.point_id, r.world): r.run_key for r in bigger.runs}
    for run in plan.runs:
        assert keys[(run.point.point_id, run.world)] == run.run_key


def test_the_stored_record_names_an_out_folder_only_when_given_one(tmp_path):
    # The command's --out outlives the save and is recorded; the app's resume folder does
    # not (it is removed once saved), and a record naming it would point at nothing.
    from simulation.sweep.runner import SweepOutcome

    plan = parse_grid({"n_users": 500, "grid": {"n_segments": [2, 3]}})
    outcome = SweepOutcome(
        table=None, n_runs=2, n_skipped=0, n_executed=2, run_seconds=1.0, wall_seconds=1.0,
        stopped=False,
    )  # fmt: skip
    kept = outcome.store_meta(plan, tmp_path / "out")
    assert kept["out"] == str(tmp_path / "out")
    alone = outcome.store_meta(plan, None)
    assert "out" not in alone
    assert alone == {k: v for k, v in kept.items() if k != "out"}


def _seeds(grid: dict) -> list[tuple[str, int]]:
    plan = parse_grid({"n_users": 500, "worlds": 2, "grid": grid})
    return [(r.point.point_id, r.config.seed) for r in plan.runs]


@pytest.mark.parametrize(
    ("key", "one", "other"),
    [
        # TOML reads 4e0 as a float, 4 as an integer: one float setting.
        ("world.personalization_scale", 4e0, 4),
        ("world.personalization_scale", 2.0, 2),
        ("policies", ["epsilon_greedy(epsilon=0.05)"], ["epsilon_greedy(epsilon = 0.050)"]),
        ("policies", ["epsilon_greedy", "thompson"], ["thompson", "epsilon_greedy(epsilon=0.1)"]),
        ("levels", ["generic", "user"], ["user", "generic"]),
    ],
)
def test_two_spellings_of_one_setting_are_one_point_with_one_seed(key, one, other):
    # The seed came from the spelling: the same experiment drew other worlds.
    assert _seeds({key: [one]}) == _seeds({key: [other]})


def test_a_point_written_as_its_settings_keeps_the_seed_its_spelling_gave():
    # Seeds derived from the spelling, as before: the documented sweep's figures stay.
    from simulation.sweep.grid import _derived_seed, _digest

    grid = {"world.personalization_scale": [0.0, 2.5], "n_impressions": [1_000, 40_000],
            "levels": [["generic", "user"]], "objective": ["ctr", "roas"]}  # fmt: skip
    plan = parse_grid({"n_users": 500, "worlds": 2, "grid": grid})
    for run in plan.runs:
        spelled = _digest(dict(run.point.values))[:16]
        assert run.point.point_id == spelled
        assert run.config.seed == _derived_seed(plan.base.seed, spelled, run.world)
    # Different settings still draw different worlds.
    assert len({r.config.seed for r in plan.runs}) == len(plan.runs)


@pytest.mark.skipif(not HAS_WORLD, reason="ExperimentConfig has no [world] table yet")
def test_dotted_keys_reach_the_world_table():
    plan = parse_grid(
        {
            "world": {"jitter": 0.1},
            "grid": {"world.personalization_scale": [0.0, 2.0]},
        }
    )
    scales = [r.config.world.personalization_scale for r in plan.runs]
    assert scales == [0.0, 2.0]
    assert all(r.config.world.jitter == 0.1 for r in plan.runs), "the base table is kept"


def test_fingerprint_ignores_comments_but_not_values(tmp_path):
    a, _ = load_grid(_write(tmp_path / "a.toml", GRID))
    b, _ = load_grid(_write(tmp_path / "b.toml", "# a comment\n" + GRID))
    c, _ = load_grid(_write(tmp_path / "c.toml", GRID.replace("[2, 3]", "[2, 4]")))
    assert a.fingerprint == b.fingerprint != c.fingerprint


# --- bad grids ------------------------------------------------------------------------------

_TOO_MANY = int(MAX_RUNS**0.5) + 1
BAD_GRIDS = {
    "unknown key": (
        BASE + "[grid]\nn_userz = [500]\n",
        r"unknown grid key 'n_userz' \(did you mean 'n_users'\?\)",
    ),
    "empty list": (BASE + "[grid]\nn_users = []\n", "grid.n_users must be a non-empty list"),
    "not a list": (BASE + "[grid]\nn_users = 500\n", "must be a list"),
    "invalid in one combination": (
        # 45 segments are fine for 500 users, not for 400: one combination of four is bad.
        BASE + "[grid]\nn_segments = [2, 45]\nn_users = [500, 400]\n",
        r"grid point \(n_segments=45, n_users=400\): n_segments must be at most",
    ),
    "too many combinations": (
        BASE
        + f"[grid]\nseed = {list(range(_TOO_MANY))}\n"
        + f"n_checkpoints = {list(range(2, 2 + _TOO_MANY))}\n",
        f"at most {MAX_RUNS:,}",
    ),
    "no grid table": (BASE, r"needs a non-empty \[grid\]"),
    "duplicate value": (
        BASE + "[grid]\nn_users = [500, 500]\n",
        "grid.n_users has the value 500 twice",
    ),
    # Two spellings of one setting: the message names both, as written.
    "one policy spelt two ways": (
        BASE + "[grid]\npolicies = [['epsilon_greedy(epsilon=0.05)'], "
        "['epsilon_greedy(epsilon = 0.050)']]\n",
        r"grid.policies has one setting twice: \['epsilon_greedy\(epsilon=0.05\)'\] and "
        r"\['epsilon_greedy\(epsilon = 0.050\)'\] are both epsilon_greedy\(epsilon=0.05\)\.$",
    ),
    "levels in another order": (
        BASE + "[grid]\nlevels = [['generic', 'user'], ['user', 'generic']]\n",
        r"grid.levels has one setting twice: \['generic', 'user'\] and \['user', 'generic'\]",
    ),
    "a number spelt two ways": (
        BASE + "[grid]\nbudget = [100, 100.0]\n",
        r"grid.budget has one setting twice: 100 and 100.0 are both 100.0\.$",
    ),
    "seeds beside n_seeds": (
        "seeds = 3\n" + BASE + "[grid]\nn_users = [500]\n",
        r"the grid sets both seeds \(3\) and n_seeds \(2\); .* keep one\.$",
    ),
    "bad worlds": ("worlds = 0\n" + BASE + "[grid]\nn_users = [500]\n", "worlds must be"),
    "bad base key": ("n_userz = 5\n" + BASE + "[grid]\nn_users = [500]\n", "unknown config key"),
    "malformed TOML": (BASE + "[grid\n", "malformed TOML"),
    "a table as a grid key": (BASE + "[grid]\nworld = [1]\n", "is a table"),
    "nested key of a number": (BASE + '[grid]\n"n_users.x" = [1]\n', "is not a table"),
}
if HAS_WORLD:
    BAD_GRIDS["unknown world key"] = (
        BASE + '[grid]\n"world.nope" = [1.0]\n',
        r"unknown grid key 'world.nope'; known keys are \['world.base_ctr'",
    )
    BAD_GRIDS["misspelt world key"] = (
        BASE + '[grid]\n"world.personalisation_scale" = [1.0]\n',
        r"'world.personalisation_scale' \(did you mean 'world.personalization_scale'\?\)",
    )
    BAD_GRIDS["invalid world value"] = (
        BASE + '[grid]\n"world.jitter" = [0.1, 5.0]\n',
        r"grid point \(world.jitter=5.0\)",
    )


@pytest.mark.parametrize("case", sorted(BAD_GRIDS))
def test_bad_grid_is_one_error_line_exit_2_nothing_written(case, tmp_path, capsys):
    text, match = BAD_GRIDS[case]
    grid = _write(tmp_path / "grid.toml", text)
    out = tmp_path / "out"
    assert _sweep(tmp_path, grid, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert "`" not in err[0]  # plain text: the library's markdown backticks dropped
    assert pd.Series(err).str.contains(match).all(), err[0]
    assert not out.exists() and not (tmp_path / "store").exists()


def test_missing_grid_file_is_a_usage_error(tmp_path, capsys):
    assert _sweep(tmp_path, tmp_path / "nope.toml", tmp_path / "out") == 2
    assert "grid file not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- running --------------------------------------------------------------------------------


@pytest.mark.slow
def test_table_rows_resume_and_changed_grid(tmp_path, capsys):
    grid = _write(tmp_path / "grid.toml", GRID)
    out = tmp_path / "out"
    assert _sweep(tmp_path, grid, out, "--workers", "2") == 0
    table = pd.read_parquet(out / "sweep.parquet")
    # 4 points x 1 world x (generic x 2 policies + (segment, user) x (2 policies + best)).
    assert len(table) == 4 * (2 + 2 * 3)
    assert list(table.columns[2:4]) == ["n_segments", "n_impressions"]
    personal = table[table["level"] != "generic"]
    assert personal["uplift_ctr"].notna().all()
    # 1,000 impressions give a dozen clicks or so: some cells have too few for an interval,
    # and say so; the others keep theirs.
    thin = personal["uplift_ctr_note"] != ""
    assert personal.loc[thin, "uplift_ctr_low"].isna().all()
    assert personal.loc[thin, "uplift_ctr_note"].str.startswith("too few clicks").all()
    personal = personal[(personal["uplift_ctr_pairs"] == 2) & ~thin]
    assert len(personal) >= 6, "the longer runs have clicks enough in both replications"
    inside = personal["uplift_ctr_low"].le(personal["uplift_ctr"]) & personal["uplift_ctr"].le(
        personal["uplift_ctr_high"]
    )
    assert inside.all(), "the observed uplift lies in its interval"
    assert table.loc[table["level"] == "generic", "uplift_ctr"].isna().all()
    best = table[table["policy"] == "best"]
    assert best["best_policy"].isin(["uniform", "thompson"]).all()
    csv = (out / "sweep.csv").read_bytes()
    # It prints each point's uplift: one line per (point, compared level), under a heading.
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith("CTR uplift of each level's best policy over the generic")
    assert "over the 2 seeds × 1 world of each run" in printed[1]
    assert printed[2].split()[:3] == ["n_segments", "n_impressions", "level"]
    # The 1,000-impression runs have too few clicks for an interval: their cells say so,
    # and a line under the table says why, not "one usable replication".
    body, footnotes = printed[3:11], printed[11:]
    assert all(line.startswith("(") for line in footnotes)
    assert any("(too few events)" in line for line in body)
    assert any(f.startswith("(too few events): a replication had fewer than 10") for f in footnotes)
    assert not any(f.startswith("(no interval)") for f in footnotes)

    # The same command again executes nothing and writes the same bytes.
    assert _sweep(tmp_path, grid, out) == 0
    assert "0 run(s) executed, 4 already stored" in capsys.readouterr().out
    assert (out / "sweep.csv").read_bytes() == csv

    # Saved in the store, listed by `runs list`.
    saved = list_sweeps(tmp_path / "store")
    assert len(saved) == 1 and saved.loc[0, "n_runs"] == 4
    assert main(["runs", "--store", str(tmp_path / "store"), "list"]) == 0
    assert saved.loc[0, "sweep_id"] in capsys.readouterr().out

    # A changed grid in the same folder is refused, nothing touched ...
    _write(grid, GRID.replace("[2, 3]", "[2, 4]"))
    assert _sweep(tmp_path, grid, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different grid" in err[0] and "--force" in err[0]
    assert (out / "grid.toml").read_text(encoding="utf-8") == GRID
    assert (out / "sweep.csv").read_bytes() == csv
    # ... unless forced: runs whose settings did not change are reused.
    assert _sweep(tmp_path, grid, out, "--force") == 0
    assert "2 run(s) executed, 2 already stored" in capsys.readouterr().out
    new = pd.read_csv(out / "sweep.csv")
    assert sorted(new["n_segments"].unique()) == [2, 4]


@pytest.mark.slow
def test_dask_cluster_matches_local_byte_for_byte(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    text = GRID + ("" if not HAS_WORLD else '"world.personalization_scale" = [0.0, 1.5]\n')
    grid = _write(tmp_path / "grid.toml", text.replace("n_impressions = [1_000, 2_000]\n", ""))
    assert _sweep(tmp_path, grid, tmp_path / "local", "--workers", "2") == 0
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster),
    ):
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        code = _sweep(
            tmp_path, grid, tmp_path / "dask", "--backend", "dask", "--scheduler", address
        )
    assert code == 0
    local = (tmp_path / "local" / "sweep.csv").read_bytes()
    assert (tmp_path / "dask" / "sweep.csv").read_bytes() == local
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "local" / "sweep.parquet"),
        pd.read_parquet(tmp_path / "dask" / "sweep.parquet"),
    )


def test_an_unreachable_scheduler_is_one_error_line(tmp_path, capsys, monkeypatch):
    import socket

    import simulation.sweep.runner as runner

    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(runner, "SCHEDULER_TIMEOUT", 2.0)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    grid = _write(tmp_path / "grid.toml", GRID)
    address = f"tcp://127.0.0.1:{port}"
    assert (
        _sweep(tmp_path, grid, tmp_path / "out", "--backend", "dask", "--scheduler", address) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: no Dask scheduler answered at {address} within 2 s; is it running, and is "
        "the address right?"
    ]
    assert not (tmp_path / "out").exists(), "connected before the folder was written"


@pytest.mark.parametrize("address", ["not a url", "http://127.0.0.1:8786", "tcp://127.0.0.1",
                                     "tcp://127.0.0.1:99999", "tcp://:8786"])  # fmt: skip
def test_a_malformed_scheduler_address_is_one_error_line(address, tmp_path, capsys):
    grid = _write(tmp_path / "grid.toml", GRID)
    out = tmp_path / "out"
    assert _sweep(tmp_path, grid, out, "--backend", "dask", "--scheduler", address) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --scheduler must be a Dask scheduler"), err
    assert repr(address) in err[0]
    assert not out.exists() and not (tmp_path / "store").exists()


def test_a_store_that_is_a_file_is_refused_before_any_run(tmp_path, capsys):
    grid = _write(tmp_path / "grid.toml", GRID)
    store = _write(tmp_path / "afile", "")
    out = tmp_path / "out"
    assert main(["sweep", "--grid", str(grid), "--out", str(out), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot open the run store: "), err
    assert not out.exists()


@pytest.mark.slow
def test_killed_sweep_resumes_to_the_same_table(tmp_path):
    many = BASE.replace("n_impressions = 2_000", "n_impressions = 6_000") + (
        "\n[grid]\nseed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n"
    )
    grid = _write(tmp_path / "grid.toml", many)
    # An uninterrupted reference.
    assert _sweep(tmp_path, grid, tmp_path / "ref", "--workers", "1") == 0
    out = tmp_path / "out"
    command = [sys.executable, "-m", "simulation", "sweep", "--grid", str(grid)]
    command += ["--out", str(out), "--store", str(tmp_path / "store"), "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "runs").glob("*.parquet")):
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no run stored within 120 s"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    stored = len(list((out / "runs").glob("*.parquet")))
    assert 1 <= stored < 12, stored
    assert not (out / "sweep.csv").exists()
    assert _sweep(tmp_path, grid, out, "--workers", "1") == 0
    ref = (tmp_path / "ref" / "sweep.csv").read_bytes()
    assert (out / "sweep.csv").read_bytes() == ref
    assert not list((out / "runs").glob(".*")), "no temporary file left behind"


def _digest_table(plan) -> pd.DataFrame:
    """A sweep table's ``best`` rows as build_table lays them out (values made up)."""
    rows = []
    for run in plan.runs:
        for k, level in enumerate(("segment", "user")):
            row = {
                "point_index": run.point.index,
                "world": run.world,
                "level": level,
                "policy": "best",
                "best_policy": "thompson",
                **dict(run.point.values),
            }
            for m in ("ctr", "roas"):
                row.update(
                    {
                        f"uplift_{m}": 0.1 * k,
                        f"uplift_{m}_low": -0.05,
                        f"uplift_{m}_high": 0.25,
                        f"uplift_{m}_expected": 0.02,
                    }
                )
            rows.append(row)  # fmt: skip
    return pd.DataFrame(rows)


def test_the_printed_digest_names_worlds_metrics_and_what_it_left_out():
    from simulation.sweep.digest import uplift_digest

    plan = parse_grid(
        {"n_users": 500, "worlds": 2, "grid": {"objective": ["ctr", "roas"], "n_seeds": [1, 3]}}
    )
    lines = uplift_digest(_digest_table(plan), plan, max_rows=5)
    assert lines[0].startswith("The objective's uplift") and "per grid point and world" in lines[0]
    assert "over the 1 seed × 1 world or 3 seeds × 1 world of each run" in lines[0]
    header, *shown = lines[1].splitlines()
    assert header.split()[:7] == ["objective", "n_seeds", "world", "level", "best", "policy",
                                  "metric"]  # fmt: skip
    assert header.endswith("observed (95 % interval) true (expected)")
    assert len(shown) == 5 and lines[2] == "... and 11 more rows in sweep.csv"  # 4 x 2 x 2 rows
    assert "+10.0 % (-5.0 % – +25.0 %)" in shown[1] and shown[1].endswith("+2.0 %")
    assert uplift_digest(_digest_table(plan).iloc[0:0], plan) == []  # nothing compared


def test_run_sweep_refuses_a_folder_prepare_folder_did_not_set_up(tmp_path):
    from simulation.sweep.runner import run_sweep

    plan = parse_grid({"n_users": 500, "grid": {"n_segments": [2]}})
    with pytest.raises(FileNotFoundError, match="prepare_folder"):
        run_sweep(plan, tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


def _session(pid: int) -> list[str]:
    """Processes still alive in the session ``pid`` led (its workers, forkserver, tracker)."""
    found = subprocess.run(
        ["ps", "-o", "pid=,args=", "-s", str(pid)], capture_output=True, text=True
    )
    return [line for line in found.stdout.splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "code"), [("ctrl-c", 130), ("sigterm", 143)], ids=["ctrl-c", "kill"]
)
def test_a_stopped_local_sweep_ends_at_once_and_leaves_no_process(how, code, tmp_path):
    # Runs of a minute or more each: stopping must not wait for them to finish. (Runs of a
    # few seconds made the bound below a race with the machine's load: at load 10 the stop
    # itself takes 5-8 s, as long as such a run.)
    long = BASE.replace("n_impressions = 2_000", "n_impressions = 20_000_000") + (
        "\n[grid]\nseed = [0, 1, 2, 3]\n"
    )
    grid = _write(tmp_path / "grid.toml", long)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "simulation", "sweep", "--grid", str(grid), "--out", str(out)]
    command += ["--store", str(tmp_path / "store"), "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not (out / "runs").is_dir():
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep never started"
            time.sleep(0.05)
        time.sleep(3.0)  # the workers are up and running their first runs
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        if how == "ctrl-c":  # a terminal's Ctrl-C reaches the whole process group
            os.killpg(proc.pid, signal.SIGINT)
        else:  # `kill PID`: the command alone
            os.kill(proc.pid, signal.SIGTERM)
        stopped = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == code, err
    assert err.strip().splitlines() == [
        "interrupted: the finished runs are kept in the --out folder's runs/ (runs in flight "
        "were stopped); the same command resumes from there"
    ]
    assert took < 15.0, f"{took:.1f} s to stop: it waited for the runs in flight"
    deadline = time.monotonic() + 5
    while _session(proc.pid) and time.monotonic() < deadline:  # workers reaped, server gone
        time.sleep(0.1)
    assert _session(proc.pid) == [], "processes of the sweep outlived it"
    assert not list((out / "runs").glob("*.parquet")), "no run was stopped in flight"


#: A child process that runs a sweep of long runs through ``run_sweep`` with a ``stop``
#: event (the app's path), sets it 3 s after the first worker is up, and prints what
#: happened as JSON: whether it stopped, how long the stop took and which workers remain.
_STOP_CHILD = """
import json, subprocess, sys, threading, time, tomllib
import multiprocessing.forkserver as forkserver
from simulation.sweep import parse_grid
from simulation.sweep.runner import prepare_folder, run_sweep

text = open(sys.argv[1], encoding="utf-8").read()
plan = parse_grid(tomllib.loads(text))
out = prepare_folder(sys.argv[2], plan, text, force=False)
stop, times = threading.Event(), {}

def workers():
    pid = forkserver._forkserver._forkserver_pid
    if pid is None:
        return []
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                           text=True)
    return found.stdout.split()

def stopper():
    while not workers():
        time.sleep(0.05)
    time.sleep(3.0)  # the first runs are under way (each takes a minute or more)
    times["set"] = time.monotonic()
    stop.set()

threading.Thread(target=stopper, daemon=True).start()
outcome = run_sweep(plan, out, workers=2, stop=stop)
took = time.monotonic() - times["set"]
deadline = time.monotonic() + 5
while workers() and time.monotonic() < deadline:
    time.sleep(0.1)
print(json.dumps({"stopped": outcome.stopped, "table": outcome.table is not None,
                  "took": took, "workers": workers()}))
"""


@pytest.mark.slow
def test_a_stop_event_ends_the_runs_in_flight_at_once_and_leaves_no_process(tmp_path):
    # The app's Stop (run_sweep's `stop`) must end runs in flight as Ctrl-C does, not wait
    # a minute for them: runs of 20 million impressions, stopped 3 s after the workers start.
    import json

    long = BASE.replace("n_impressions = 2_000", "n_impressions = 20_000_000") + (
        "\n[grid]\nseed = [0, 1, 2]\n"
    )
    grid = _write(tmp_path / "grid.toml", long)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _STOP_CHILD, str(grid), str(out)], cwd=ROOT, env=env,
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        got, err = proc.communicate(timeout=90)  # far less than the three runs' minutes
    except subprocess.TimeoutExpired:
        pytest.fail("the stopped sweep still ran after 90 s: it waited for the runs in flight")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 0, err
    report = json.loads(got.strip().splitlines()[-1])
    assert report["stopped"] and not report["table"]
    assert report["took"] < 15.0, f"{report['took']:.1f} s: it waited for the runs in flight"
    assert report["workers"] == [], "the pool's workers outlived the stop"
    deadline = time.monotonic() + 5
    while _session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session(proc.pid) == [], "processes of the sweep outlived it"
    assert not list((out / "runs").glob("*.parquet")), "no run was stopped in flight"
    assert (out / "grid.toml").is_file(), "the folder stays, to resume from"


def test_the_digest_gives_the_reason_a_cell_has_no_interval():
    from simulation.sweep.digest import uplift_digest

    plan = parse_grid({"n_users": 500, "grid": {"n_seeds": [2, 3]}})
    table = _digest_table(plan)
    table[["uplift_ctr_low", "uplift_ctr_high"]] = np.nan
    table["uplift_ctr_note"] = [
        "too few clicks for an interval: 4 vs 8 (generic vs segment) in one replication; "
        "it needs at least 10 a side",
        "every replication gave the same ratio: no spread to measure an interval from",
    ] * 2
    lines = uplift_digest(table, plan)
    cells = lines[1].splitlines()[1:]
    assert "(too few events)" in cells[0] and "(no spread)" in cells[1]
    assert lines[-2].startswith("(too few events): a replication had fewer than 10 clicks")
    assert lines[-1].startswith("(no spread): every replication gave the same ratio")
    # A table written before the notes (no column) reads as it did.
    old = uplift_digest(table.drop(columns="uplift_ctr_note"), plan)
    assert old[-1].startswith("(no interval): one usable replication")
