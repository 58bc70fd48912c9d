import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation.__main__ import main
from simulation.store import RunStore
from simulation.uplift_text import ONE_WORLD_CAVEAT

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--users", "1000", "--segments", "3", "--impressions", "2000", "--batch-size", "500",
        "--seeds", "2", "--no-progress"]  # fmt: skip


def test_outputs_and_columns(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", *TINY, "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == [
        "policy", "level", "seed", "impressions", "clicks", "conversions", "spend", "revenue",
        "ctr", "cvr", "cpa", "roas", "regret", "expected_ctr", "expected_roas",
        "expected_conversions", "expected_revenue", "stopped_at_impression",
    ]  # fmt: skip
    # The true (expected) rates sit beside the observed ones, so the CSV alone can check one
    # against the other: a CTR, and a ROAS that is positive.
    assert summary["expected_ctr"].between(0, 1, inclusive="neither").all()
    assert (summary["expected_roas"] > 0).all()
    # The true totals beside the observed ones: conversions below impressions, and the
    # revenue's expectation is the ROAS's numerator (revenue per conversion is positive).
    assert (summary["expected_conversions"] > 0).all()
    assert (summary["expected_conversions"] < summary["impressions"]).all()
    assert (summary["expected_revenue"] > summary["expected_conversions"]).all()
    assert summary["stopped_at_impression"].isna().all()  # no budget, no stop
    assert set(summary["level"]) == {"generic", "segment", "user"}
    assert {"uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb"} <= set(summary["policy"])
    assert len(summary) == 5 * 3 * 2
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert {"seed", "level", "policy", "step", "ctr", "regret"} <= set(ts.columns)
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["n_impressions"] == 2000 and "numpy" in run["versions"]
    # The printout says what each number is, what it is a mean over, and the answer.
    printed = capsys.readouterr().out
    assert "mean over 2 seeds × 1 world; regret: the expected clicks lost" in printed
    assert "CTR (observed)" in printed and "regret (true)" in printed
    answer = printed.split("against the best at the generic level:\n")[1].splitlines()
    levels = [line.split(" ads")[0].strip() for line in answer[:2]]
    assert levels == ["Per segment", "Per user"]
    assert all("over 2 seeds × 1 world" in line for line in answer[:2])
    # One world: the caveat that the interval does not cover the world's own draw, once,
    # right after the headline.
    assert answer[2].strip() == ONE_WORLD_CAVEAT
    assert printed.count(ONE_WORLD_CAVEAT) == 1


def test_uplift_csv_is_written_beside_the_summary_and_saved_with_the_run(tmp_path):
    out, store = tmp_path / "out", tmp_path / "store"
    assert main(["run", *TINY, "--out", str(out), "--store", str(store)]) == 0
    uplift = pd.read_csv(out / "uplift.csv")
    assert list(uplift.columns) == [
        "level", "policy", "baseline", "metric", "observed", "ci_low", "ci_high", "expected",
        "n_pairs", "interval_over", "interval_note",
    ]  # fmt: skip
    assert set(uplift["level"]) == {"segment", "user"}
    assert set(uplift["metric"]) == {"ctr", "roas", "conversions", "revenue"}
    assert (uplift["interval_over"] == "2 seeds × 1 world").all()
    # Relative changes through the log: never below -100 %.
    assert (uplift[["observed", "ci_low", "ci_high", "expected"]].dropna() > -1).all().all()
    (run_id,) = RunStore.open(store).list()["run_id"]
    saved = RunStore.open(store).load(run_id).tables["uplift"]
    # A CSV's empty cell reads back as NaN; the store keeps the note's "" as written.
    uplift = uplift.fillna({"interval_note": ""})
    pd.testing.assert_frame_equal(saved.reset_index(drop=True), uplift, check_dtype=False)
    # TINY's runs make a handful of sales: those rows have no interval and say why.
    # (A row with no sale on a side in every replication has nothing to compare instead.)
    thin = uplift[uplift["metric"] == "conversions"]
    assert thin["ci_low"].isna().all()
    some = thin[thin["n_pairs"] > 0]
    assert len(some) and some["interval_note"].str.startswith("too few conversions for an").all()


def test_worlds_flag_adds_a_world_column(tmp_path):
    out = tmp_path / "out"
    args = [*TINY, "--seeds", "1", "--levels", "generic,segment", "--policies", "uniform"]
    assert main(["run", *args, "--worlds", "2", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:4]) == ["policy", "level", "world", "seed"]
    assert sorted(summary["world"].unique()) == [0, 1]
    uplift = pd.read_csv(out / "uplift.csv")
    assert (uplift["interval_over"] == "2 worlds (1 seed each)").all()
    assert (uplift.loc[uplift["metric"] == "ctr", "n_pairs"] == 2).all()


@pytest.mark.parametrize("worlds", ["1", "2"])
def test_out_and_the_stores_export_hold_the_same_summary_and_series_columns(tmp_path, worlds):
    out, store = tmp_path / "out", tmp_path / "store"
    args = [*TINY, "--seeds", "1", "--levels", "generic,segment", "--policies", "uniform"]
    assert main(["run", *args, "--worlds", worlds, "--out", str(out), "--store", str(store)]) == 0
    saved = RunStore.open(store)
    run_id = json.loads((out / "run.json").read_text())["run_id"]
    exported = saved.export(run_id, tmp_path / "exp", "csv")
    by_name = {p.name: p for p in exported}
    mine, theirs = pd.read_csv(out / "summary.csv"), pd.read_csv(by_name["summary.csv"])
    assert list(mine.columns) == list(theirs.columns)  # same columns, same order
    pd.testing.assert_frame_equal(mine, theirs)  # and the same table
    series = pd.read_parquet(out / "timeseries.parquet")
    assert list(series.columns) == list(pd.read_csv(by_name["timeseries.csv"]).columns)
    assert ("world" in mine.columns) == (worlds == "2")


def test_bad_worlds_flag_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", *TINY, "--worlds", "21", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: n_worlds must be an int in [1, 20]" in err[0]
    assert not out.exists()


def test_a_budget_stop_is_in_the_summary_run_json_and_the_printout(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", *TINY, "--budget", "3", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    stopped = summary["stopped_at_impression"]
    assert stopped.notna().all() and (stopped < 2000).all()
    assert (stopped == summary["impressions"]).all()
    run = json.loads((out / "run.json").read_text())
    assert len(run["budget_stops"]) == len(summary)
    first = run["budget_stops"][0]
    assert set(first) == {"policy", "level", "seed", "stopped_at_impression", "spend"}
    assert first["stopped_at_impression"] == int(stopped.iloc[0])
    assert "the budget of $3.00 stopped" in capsys.readouterr().out


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
        (["--impressions", "1e13"], "error: n_impressions must be an int"),
        (["--seeds", "0"], "expected a positive integer"),
        (["--objective", "cpa"], "invalid choice"),
        (["--levels", "planet"], "unknown level"),
        (["--budget", "-5"], "error: budget must be None or a float"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_flags(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["run", *TINY, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert "`" not in err[0]  # plain text: the library's markdown backticks dropped
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = [", "malformed TOML"),
        ("colour = 3", "unknown config key"),
        ("n_users = -1", "error: n_users must"),
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


def test_paths_are_checked_before_the_simulation(tmp_path, capsys, monkeypatch):
    import simulation.engine.core as core

    def never(*args, **kwargs):
        raise AssertionError("the simulation must not start")

    monkeypatch.setattr(core, "run_experiment", never)
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store"
    (tmp_path / "busy" / "summary.csv").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    cases = [
        (["--out", str(tmp_path / "busy")], "holds a folder named summary.csv"),
        (["--out", str(tmp_path / ("x" * 300))], "folder name of 300 bytes"),
        (["--out", str(tmp_path / "file" / "sub")], "is a file"),
        (["--out", str(tmp_path / "file")], "exists and is not a folder"),
        (["--out", ""], "--out must be a folder"),
        (["--out", str(tmp_path / "o"), "--store", ""], "--store must be a folder"),
    ]
    for args, message in cases:
        assert main(["run", *TINY, "--store", str(store), *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    # Nothing written: not even the store (the --store '' case refuses the working folder).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "file"]


def test_failed_publish_keeps_neither_half(tmp_path, capsys, monkeypatch):
    import simulation.cli.run as run_cli

    out, store = tmp_path / "out", tmp_path / "store"
    out.mkdir()
    (out / "run.json").write_text("earlier")
    (out / "summary.csv").write_text("earlier")
    placed = []

    def fail_second(src, dst):
        if placed:
            raise PermissionError(13, "Permission denied", str(dst))
        placed.append(dst)
        os.rename(src, dst)

    monkeypatch.setattr(run_cli, "_place", fail_second)
    assert main(["run", *TINY, "--out", str(out), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "permission denied" in err and "not kept in the store" in err
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "summary.csv"]  # as before
    assert (out / "run.json").read_text() == "earlier"
    assert (out / "summary.csv").read_text() == "earlier"
    assert RunStore.open(store).list().empty
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "store"]  # no temporary left


def test_long_valid_out_works_and_stale_temporaries_go(tmp_path, capsys, monkeypatch):
    import simulation.cli.run as run_cli
    from simulation.store.fs import clean_stale, locked_workdir

    name = "y" * 243  # valid, but the old temporary name (.NAME.tmp-XXXXXXXX) did not fit in 255
    stale_old = tmp_path / f".{name}.tmp-ab"  # the old scheme, from a killed run
    stale_new = tmp_path / ".adlab-run.tmp.1.deadbeef"  # the new scheme, nobody holds its lock
    other = tmp_path / ".keep.tmp-mine"  # not ours
    for path in (stale_old, stale_new, other):
        path.mkdir()
        (path / "summary.csv").write_text("partial")
    # Just made, so younger than the hour the command waits:
    prefixes = (".adlab-run.tmp", f".{name}.tmp-")
    assert clean_stale(tmp_path, run_cli.STALE_AFTER, prefixes) == []
    monkeypatch.setattr(run_cli, "STALE_AFTER", 0.0)  # (ctime cannot be set back by a test)
    out = tmp_path / name
    with locked_workdir(tmp_path, ".adlab-run.tmp") as live:  # a run still going: kept
        argv = ["run", *TINY, "--out", str(out), "--store", str(tmp_path / "store")]
        assert main(argv) == 0
        left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
        assert left == sorted([live.name, other.name])
    assert (out / "summary.csv").is_file() and (out / "run.json").is_file()


def test_log_of_the_generated_level_alone_is_refused_and_writes_nothing(tmp_path, capsys):
    out, store = tmp_path / "out", tmp_path / "store"
    args = ["run", *TINY, "--levels", "generated", "--policies", "uniform,mvt_ts", "--log"]
    assert main([*args, "--out", str(out), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--log records the pool levels" in err[0], err
    assert not out.exists() and not store.exists()


def test_log_with_several_worlds_is_refused_before_anything_runs(tmp_path, capsys):
    out, store = tmp_path / "out", tmp_path / "store"
    args = ["run", *TINY, "--worlds", "2", "--log", "--out", str(out), "--store", str(store)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --log records one world's impressions; this run has 2 worlds (--worlds or "
        "n_worlds): drop --log or run one world"
    ]
    assert not out.exists() and not store.exists()


def test_log_beside_the_generated_level_says_what_it_leaves_out(tmp_path, capsys):
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    args = ["run", *TINY, "--levels", "segment,generated", "--policies", "uniform,mvt_ts", "--log"]
    assert main([*args, "--out", str(out), "--store", str(tmp_path / "store")]) == 0
    printed = capsys.readouterr().out
    assert "the generated level's compositions are not logged" in printed
    levels = pq.read_table(out / "logs.parquet", columns=["level", "policy"]).to_pandas()
    # Seeds x impressions rows of the one pair that plays a pool level.
    assert set(zip(levels["level"], levels["policy"])) == {("segment", "uniform")}
    assert len(levels) == 2 * 2000


def test_the_printout_without_a_generic_level_has_no_answer_and_names_net_value(tmp_path, capsys):
    args = ["--levels", "segment,user", "--objective", "roas", "--out", str(tmp_path / "o")]
    assert main(["run", *TINY, *args]) == 0
    printed = capsys.readouterr().out
    assert "regret: the expected net value (USD) lost" in printed
    assert "against the best at the generic level" not in printed  # nothing to compare with


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import simulation.engine.core as core

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(core, "run_experiment", interrupted)
    out, store = tmp_path / "out", tmp_path / "store"
    assert main(["run", *TINY, "--out", str(out), "--store", str(store)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["interrupted: nothing partial was written or saved"]
    assert not out.exists() and RunStore.open(store).list().empty
    assert [p.name for p in tmp_path.iterdir()] == ["store"]  # no work folder left either


def test_the_package_import_leaves_the_engine_for_later():
    # `python -m simulation` imports the package before its command line can catch Ctrl-C:
    # the engine's seconds of imports happen inside the command line's own guard.
    code = "import sys, simulation; print('simulation.engine.core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_ctrl_c_while_starting_is_one_line_too(tmp_path):
    # Half a second in, the command is still importing (seconds on any machine).
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation", "run", *TINY, "--out", str(tmp_path / "o"),
         "--store", str(tmp_path / "s")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # 130 with the one line; or, when the signal lands before the interpreter has set up its
    # own Ctrl-C handling (a busy machine can take longer than the half second to get there),
    # ended by the signal itself, which a shell reports as 130, with nothing printed. Never
    # a traceback.
    lines = err.decode().strip().splitlines()
    if proc.returncode == -signal.SIGINT:
        assert lines in ([], ["interrupted: nothing partial was written or saved"]), lines
    else:
        assert proc.returncode == 130, err.decode()
        assert lines == ["interrupted: nothing partial was written or saved"]
    assert not (tmp_path / "o").exists()


def test_a_closed_pipe_ends_quietly(tmp_path):
    # `python -m simulation runs list | head -0`: the reader is gone before anything is printed.
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation", "runs", "--store", str(tmp_path / "s"), "list"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1 and "Traceback" not in err, err


def test_the_printout_has_the_one_world_caveat_only_with_one_world():
    from simulation.cli.run import results_printout
    from simulation.metrics import like_for_like_uplift

    rows = [
        {"level": level, "policy": "thompson", "world": world, "seed": seed, "ctr": ctr,
         "roas": 2.0, "regret": 1.0, "impressions": 1000, "clicks": 1000 * ctr,
         "conversions": 1.0, "revenue": 20.0, "spend": 10.0}
        for world in range(2) for seed in range(2)
        for level, ctr in (("generic", 0.01 + seed / 1000), ("user", 0.02 + seed / 1000))
    ]  # fmt: skip
    two = pd.DataFrame(rows)
    one = two[two["world"] == 0].drop(columns="world")
    for summary, caveat in ((one, True), (two, False)):
        lines = results_printout(summary, like_for_like_uplift(summary), "ctr")
        assert (lines[-1].strip() == ONE_WORLD_CAVEAT) is caveat
        assert sum(ONE_WORLD_CAVEAT in line for line in lines) == int(caveat)


def test_a_one_seed_printout_says_once_that_there_is_no_interval():
    from simulation.cli.run import results_printout
    from simulation.metrics import like_for_like_uplift

    rows = [
        {"level": level, "policy": "thompson", "seed": seed, "ctr": ctr + seed / 1000,
         "roas": 2.0, "regret": 1.0, "impressions": 10_000, "clicks": 10_000 * ctr + 10 * seed,
         "conversions": 50.0, "revenue": 20.0, "spend": 10.0}
        for seed in range(2) for level, ctr in (("generic", 0.01), ("user", 0.02))
    ]  # fmt: skip
    two = pd.DataFrame(rows)
    one = two[two["seed"] == 0]
    note = "1 seed × 1 world: one replication, so no intervals (add seeds or worlds for them)."
    lines = results_printout(one, like_for_like_uplift(one), "ctr")
    answer = lines[lines.index(
        "Observed, the best policy at each level against the best at the generic level:"
    ) + 1:]  # fmt: skip
    # The sentence gives its observed value alone; the line under it says why, once.
    assert answer == ["  Per user ads vs generic ads, both with Thompson sampling: CTR +100.0 % "
                      "observed.", f"  {note}"]  # fmt: skip
    assert not any("one usable replication" in line for line in lines)
    # Two seeds draw an interval: no such note.
    lines = results_printout(two, like_for_like_uplift(two), "ctr")
    assert note not in "\n".join(lines) and "95 % interval" in "\n".join(lines)


def test_a_one_seed_run_prints_the_no_interval_note_once(tmp_path, capsys):
    one_seed = [*TINY[:-3], "--seeds", "1", "--no-progress"]
    assert main(["run", *one_seed, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("one replication, so no intervals (add seeds or worlds for them).") == 1
    assert "one usable replication" not in printed
