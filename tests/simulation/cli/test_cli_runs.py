import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.store.run_store import RunStore

REPO = Path(__file__).resolve().parents[3]
REGISTERED = cli.COMMAND_MODULES  # as shipped, before the fixture below narrows it


def all_commands_importable() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in REGISTERED)


@pytest.fixture(autouse=True)
def runs_command_only(monkeypatch, tmp_path):
    # Test the `runs` command on its own, whatever other commands are registered (or still
    # being written); and never fall back to ~/.adlab.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("simulation.cli.runs",))
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "env-home"))


@pytest.fixture
def store(tmp_path):
    store = RunStore.open(tmp_path / "store")
    store.save(
        config={"policy": "thompson", "n_rounds": 3},
        seed=11,
        summary=pd.DataFrame({"policy": ["thompson", "uniform"], "ctr": [0.051234, 0.02]}),
        timeseries=pd.DataFrame({"round": np.arange(3), "ctr": [0.01, 0.02, 0.03]}),
        tables={"allocation": pd.DataFrame({"arm": [0, 1], "share": [0.7, 0.3]})},
        name="launch test",
    )
    return store


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def only_id(store):
    return store.list()["run_id"].iloc[0]


def test_list_prints_runs(capsys, store):
    code, out, err = run(capsys, "runs", "--store", str(store.root), "list")
    assert (code, err) == (0, "")
    assert only_id(store) in out and "launch test" in out
    # No level column (not an engine run): no best policy and level to name.
    assert out.splitlines()[1].split()[-3:] == ["-", "-", "-"]
    # --store also works after the action.
    assert run(capsys, "runs", "list", "--store", str(store.root))[1] == out


def listed(out: str, n_runs: int) -> dict[str, list[str]]:
    """``runs list`` rows by run name (one word): [best as printed, its_ctr, its_roas]."""
    rows = {}
    for line in out.splitlines()[1 : n_runs + 1]:
        # run_id, date, time, name, source, seed, n_rows, best (several words), ctr, roas
        words = line.split()
        rows[words[3]] = [" ".join(words[7:-2]), *words[-2:]]
    return rows


def test_list_names_each_run_s_best_policy_and_level_never_a_mean_over_levels(capsys, tmp_path):
    store = RunStore.open(tmp_path / "engine-store")
    summary = pd.DataFrame({"level": ["generic", "generic", "user", "user"],
                            "policy": ["uniform", "thompson"] * 2, "seed": 0,
                            "ctr": [0.010, 0.011, 0.012, 0.020],
                            "roas": [3.0, 1.0, 2.0, 1.5]})  # fmt: skip
    for objective in ("ctr", "roas"):
        store.save(config={"objective": objective}, seed=0, summary=summary,
                   timeseries=pd.DataFrame({"step": [1]}), name=objective)  # fmt: skip
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "list")
    assert code == 0
    rows = listed(out, 2)
    # One seed: no interval, so neither best is clearly best (as the report says).
    assert rows["ctr"] == ["thompson @ user (not clear)", "0.0200", "1.5000"]
    assert rows["roas"] == ["uniform @ generic (not clear)", "0.0100", "3.0000"]
    assert "0.0133" not in out  # the mean CTR over every level and policy
    assert out.splitlines()[3].startswith("best: each run's best policy @ level by its objective")


def test_list_empty_store_and_env_default(capsys, tmp_path):
    RunStore.open(tmp_path / "env-home")
    code, out, _ = run(capsys, "runs", "list")
    assert code == 0 and out.strip() == f"no runs in {tmp_path / 'env-home'}"


READING = [
    (["list"], 0, "no runs: there is no run store at {root} (check --store or $ADLAB_HOME)"),
    (["list", "--sweeps"], 0, "no runs: there is no run store at {root}"),
    (["check"], 0, "no runs: there is no run store at {root}"),
    (["check", "--repair"], 0, "no runs: there is no run store at {root}"),
    (["show", "2026"], 2, "error: no run '2026': there is no run store at {root}"),
    (["export", "2026", "--out", "{tmp}/x"], 2, "error: no run '2026': there is no run store"),
    (["report", "2026", "--out", "{tmp}/x.html"], 2, "error: no run '2026': there is no run"),
    (["delete", "2026"], 2, "error: no run '2026': there is no run store at {root}"),
]


@pytest.mark.parametrize(("argv", "code", "message"), READING)
@pytest.mark.parametrize("where", ["typo", "file/store", "env"])
def test_a_missing_store_is_reported_never_created(capsys, tmp_path, argv, code, message, where):
    (tmp_path / "file").write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    root = tmp_path / "env-home" if where == "env" else tmp_path / where
    store = [] if where == "env" else ["--store", str(root)]
    fill = dict(root=root, tmp=tmp_path)
    got, out, err = run(capsys, "runs", *store, *[a.format(**fill) for a in argv])
    assert got == code
    text = err if code else out
    assert text.startswith(message.format(**fill)) and text.count("\n") == 1, text
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no store, no output


def test_show_prints_config_and_summary(capsys, store):
    run_id = only_id(store)
    code, out, err = run(capsys, "runs", "--store", str(store.root), "show", run_id[:20])
    assert (code, err) == (0, "")
    assert f"run      {run_id}" in out
    assert '"policy": "thompson"' in out and "seed     11" in out
    assert "summary:" in out and "thompson 0.0512" in out
    assert "tables   allocation" in out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_files_and_prints_them(capsys, store, tmp_path, fmt):
    run_id = only_id(store)
    out_dir = tmp_path / "exports"
    argv = ["runs", "--store", str(store.root), "export", run_id, "--format", fmt]
    code, out, err = run(capsys, *argv, "--out", str(out_dir))
    assert (code, err) == (0, "")
    printed = [Path(line) for line in out.split()]
    assert all(p.is_file() for p in printed)
    assert out_dir / run_id / f"summary.{fmt}" in printed
    code, _, err = run(capsys, *argv, "--out", str(out_dir))
    assert code == 2 and "already exists; pass --force" in err
    assert run(capsys, *argv, "--out", str(out_dir), "--force")[0] == 0


def test_delete_removes_the_run(capsys, store):
    run_id = only_id(store)
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "delete", run_id)
    assert code == 0 and out.strip() == f"deleted {run_id}"
    assert store.list().empty


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "20990101-000000-000000-00000000"], "no run with id"),
        (["show", "nope"], "no run with id"),
        (["delete", "../../etc"], "no run with id"),
        (["export", "2099", "--out", "{tmp}/x"], "no run with id"),
        (["export", "{id}", "--out", "{tmp}/file/x"], "cannot write to"),
        (["export", "{id}", "--out", "{tmp}/x", "--format", "xlsx"], "invalid choice"),
        (["export", "{id}"], "--out"),
        (["export", "{id}", "--out", ""], "--out must be a folder; got an empty string"),
        (["report", "{id}", "--out", ""], "--out must be an .html file path; got an empty"),
        (["report", "{id}", "--out", "{tmp}/file/x.html"], f"not a folder: {{tmp}}{os.sep}file"),
        (["report", "{id}", "--out", "{tmp}/nodir/x.html"], "no such directory: "),
        (["show"], "ID"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(capsys, store, tmp_path, argv, message):
    (tmp_path / "file").write_text("blocks a directory")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.format(tmp=tmp_path, id=only_id(store)) for a in argv]
    code, out, err = run(capsys, "runs", "--store", str(store.root), *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message.format(tmp=tmp_path) in err
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing partial written
    assert len(store.list()) == 1


def test_runs_command_in_a_subprocess(store):
    if all_commands_importable():
        entry = ["-m", "simulation"]  # the real entry point
    else:  # another command is still being written: load ours alone, as above
        entry = [
            "-c",
            "import sys, simulation.__main__ as m; m.COMMAND_MODULES = ('simulation.cli.runs',); "
            "sys.exit(m.main(sys.argv[1:]))",
        ]
    # One call (imports cost ~2 s): the error path, since the exit status is what crosses the
    # process boundary; the printed output of every action is checked in-process above.
    argv = [sys.executable, *entry, "runs", "--store", str(store.root), "delete", "x"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bad = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == f"error: no run with id 'x' in {store.root}\n"
    assert len(store.list()) == 1


def test_runs_is_registered():
    assert "simulation.cli.runs" in REGISTERED


def damage(store) -> str:
    run_id = only_id(store)
    path = store.runs_dir / run_id / "summary.parquet"
    path.write_bytes(path.read_bytes()[:40])  # truncated
    return run_id


def test_damaged_run_is_listed_with_its_reason_and_fails_alone(capsys, store, tmp_path):
    victim = damage(store)
    store.save(
        config={"policy": "ucb1"},
        seed=2,
        summary=pd.DataFrame({"policy": ["ucb1"], "ctr": [0.03]}),
        timeseries=pd.DataFrame({"round": [0], "ctr": [0.03]}),
        name="healthy",
    )
    healthy = store.list().query("damaged.isna()")["run_id"].iloc[0]
    code, out, err = run(capsys, "runs", "--store", str(store.root), "list")
    assert (code, err) == (0, "")
    assert "healthy" in out and "(damaged)" in out
    assert f"damaged: {victim}: summary.parquet is not a readable Parquet file" in out
    for action in (["show", victim], ["export", victim, "--out", str(tmp_path / "x")]):
        code, out, err = run(capsys, "runs", "--store", str(store.root), *action)
        assert (code, out) == (2, "") and err.count("\n") == 1
        assert (
            err.startswith(f"error: run {victim} is damaged: summary.parquet") and "--repair" in err
        )
    assert run(capsys, "runs", "--store", str(store.root), "show", healthy)[0] == 0
    code, out, _ = run(
        capsys, "runs", "--store", str(store.root), "export", healthy, "--out", str(tmp_path / "x")
    )
    assert code == 0 and not (tmp_path / "x" / victim).exists()


def test_check_reports_then_repair_quarantines(capsys, store):
    victim = damage(store)
    code, out, err = run(capsys, "runs", "--store", str(store.root), "check")
    assert (code, err) == (1, "")
    assert f"damaged: {victim}: summary.parquet" in out and "1 runs checked" in out
    assert (store.runs_dir / victim).is_dir()
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "check", "--repair")
    assert code == 0 and f"moved to {store.root / 'quarantine' / victim}" in out
    assert not (store.runs_dir / victim).exists() and store.list().empty
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "check")
    assert code == 0 and out.strip().endswith("0 damaged")


def test_check_names_a_rebuilt_catalogue(capsys, store):
    (store.root / "catalog.duckdb").write_bytes(b"not a database" * 1000)
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "check")
    assert code == 0 and "catalogue: unreadable; moved aside to" in out and "0 damaged" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--store", "", "list"], "error: --store must be a folder; got an empty string\n"),
        (["--store", " ", "check"], "error: --store must be a folder; got an empty string\n"),
        (
            ["--store", "{root}", "export", "{id}", "--out", "{tmp}/file"],
            "error: cannot write to {tmp}/file: a file is in the way\n",
        ),
        (
            ["--store", "{root}", "export", "{id}", "--out", "{root}/runs", "--force"],
            "error: --out must be outside the run store {root}\n",
        ),
        (
            ["--store", "{root}", "export", "{id}", "--out", "{root}", "--force"],
            "error: --out must be outside the run store {root}\n",
        ),
    ],
)
def test_store_misuse_is_one_clear_line(capsys, store, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    fill = dict(root=store.root, id=only_id(store), tmp=tmp_path)
    code, out, err = run(capsys, "runs", *[a.format(**fill) for a in argv])
    assert (code, out, err) == (2, "", message.format(**fill))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no store made in the cwd
    assert store.check().empty and store.load(only_id(store)).seed == 11


def test_control_characters_in_names_never_reach_the_terminal(capsys, store):
    # Written by hand (or by an older adlab): the printing side strips them as well.
    run_id = only_id(store)
    meta_path = store.runs_dir / run_id / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["name"] = "\x1b[2J\x1b[31mevil\x07"
    meta_path.write_text(json.dumps(meta))
    for action in (["list"], ["show", run_id]):
        code, out, _ = run(capsys, "runs", "--store", str(store.root), *action)
        assert code == 0 and "evil" in out
        assert not any(ch in out for ch in "\x1b\x07")


def test_list_never_names_the_oracle_as_a_run_s_best(capsys, tmp_path):
    # The oracle reads the truth: however high its CTR, the best is a learner, and a run
    # where only the oracle ran has none.
    store = RunStore.open(tmp_path / "engine-store")
    summary = pd.DataFrame({"level": ["generic", "generic", "user", "user"],
                            "policy": ["thompson", "oracle"] * 2, "seed": 0,
                            "ctr": [0.010, 0.050, 0.012, 0.060],
                            "roas": [1.0, 9.0, 2.0, 9.5]})  # fmt: skip
    store.save(config={"objective": "ctr"}, seed=0, summary=summary,
               timeseries=pd.DataFrame({"step": [1]}), name="mixed")  # fmt: skip
    store.save(config={"objective": "ctr"}, seed=0, name="oracle-only",
               summary=summary[summary["policy"] == "oracle"],
               timeseries=pd.DataFrame({"step": [1]}))  # fmt: skip
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "list")
    assert code == 0
    rows = listed(out, 2)
    assert rows["mixed"] == ["thompson @ user (not clear)", "0.0120", "2.0000"]
    assert rows["oracle-only"] == ["-", "-", "-"]
    assert "oracle @" not in out


def test_list_marks_a_best_that_is_not_clearly_best_as_the_report_does(capsys, tmp_path):
    # Every level x policy pair with the same clicks in every seed: the catalogue still
    # names one pair (the first of the tie), so the list must say that it is no win, as the
    # report's "Not clearly best" does; a best whose interval is apart from the rest is not
    # marked.
    from simulation.store.report import best_note, best_rivals, best_row

    store = RunStore.open(tmp_path / "engine-store")
    pairs = [("generic", "uniform"), ("generic", "thompson"), ("user", "uniform"),
             ("user", "thompson")]  # fmt: skip

    def summary(ctr):
        return pd.DataFrame(
            # Enough clicks in every replication (100-200) for an interval to stand: 2 of
            # them (as this test had until the refusal rule reached the list) would refuse
            # it, and a refused interval is not clearly best either.
            [{"level": lv, "policy": p, "seed": s, "clicks": round(10_000 * c),
              "impressions": 10_000, "ctr": c, "roas": 1.0}
             for lv, p in pairs for s, c in enumerate(ctr[(lv, p)])]
        )  # fmt: skip

    tie = summary({pair: [0.010, 0.011, 0.012] for pair in pairs})
    apart = summary({**{pair: [0.010, 0.0101, 0.0102] for pair in pairs[:3]},
                     pairs[3]: [0.020, 0.0201, 0.0202]})  # fmt: skip
    for name, frame in (("tie", tie), ("apart", apart)):
        store.save(config={"objective": "ctr"}, seed=0, summary=frame,
                   timeseries=pd.DataFrame({"step": [1]}), name=name)  # fmt: skip
    assert best_note(*best_rivals(tie, best_row(tie, "ctr"), "ctr")).startswith("Not clearly best")
    assert best_note(*best_rivals(apart, best_row(apart, "ctr"), "ctr")) == ""
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "list")
    assert code == 0
    rows = listed(out, 2)
    assert rows["tie"] == ["uniform @ generic (not clear)", "0.0110", "1.0000"]
    assert rows["apart"] == ["thompson @ user", "0.0201", "1.0000"]
    lines = out.splitlines()
    assert lines[3].startswith("best: each run's best policy @ level")
    assert lines[4].startswith("(not clear): another learner's 95 % interval overlaps")
    # The columns stay aligned: every row's its_ctr ends where the header's does.
    ends = {line.index(line.split()[-2]) + len(line.split()[-2]) for line in lines[1:3]}
    assert ends == {lines[0].index("its_ctr") + len("its_ctr")}

    # Without a run that is not clear, no explanation of the mark.
    only = RunStore.open(tmp_path / "clear-store")
    only.save(config={"objective": "ctr"}, seed=0, summary=apart,
              timeseries=pd.DataFrame({"step": [1]}), name="apart")  # fmt: skip
    out = run(capsys, "runs", "--store", str(only.root), "list")[1]
    assert "(not clear)" not in out


def test_list_marks_a_best_whose_interval_was_refused_as_not_clear(capsys, tmp_path):
    # Apart from the rest by its interval, but one replication of the best had a handful
    # of clicks: the report shows its tile without an interval and calls it not clearly
    # best ("too few clicks for an interval"), so the list must not read it as a win.
    from simulation.store.report import best_rivals, best_row, clear_best_note

    def summary(best_clicks):
        ctr = {"generic": [0.010, 0.0101, 0.0102], "user": [0.020, 0.0201, 0.0202]}
        clicks = {"generic": [400, 404, 408], "user": best_clicks}
        return pd.DataFrame(
            [{"level": lv, "policy": "thompson", "seed": s, "ctr": ctr[lv][s],
              "clicks": clicks[lv][s], "impressions": 40_000, "roas": 1.0}
             for lv in ctr for s in range(3)]
        )  # fmt: skip

    store = RunStore.open(tmp_path / "engine-store")
    few, many = summary([800, 804, 8]), summary([800, 804, 808])
    for name, frame in (("few", few), ("many", many)):
        best = best_row(frame, "ctr")
        assert best_rivals(frame, best, "ctr")[1] == []  # no overlap in either
        store.save(config={"objective": "ctr"}, seed=0, summary=frame,
                   timeseries=pd.DataFrame({"step": [1]}), name=name)  # fmt: skip
    assert clear_best_note(few, best_row(few, "ctr"), "ctr").startswith("Not clearly best")
    code, out, _ = run(capsys, "runs", "--store", str(store.root), "list")
    assert code == 0
    rows = listed(out, 2)
    assert rows["few"] == ["thompson @ user (not clear)", "0.0201", "1.0000"]
    assert rows["many"] == ["thompson @ user", "0.0201", "1.0000"]
    # The line under the list gives the whole rule, the refused interval included.
    note = next(line for line in out.splitlines() if line.startswith("(not clear): "))
    assert "or the best has no interval (one replication, or too few events or too wide" in note


def _report(capsys, store, out, *extra):
    return run(capsys, "runs", "--store", str(store.root), "report", only_id(store), "--out",
               str(out), *extra)  # fmt: skip


def test_report_refuses_to_replace_a_file_unless_forced(capsys, store, tmp_path):
    log = tmp_path / "good.csv"
    log.write_text("impression,reward\n0,1\n")
    code, out, err = _report(capsys, store, log)
    assert (code, out) == (2, "")
    assert err == f"error: {log} already exists; pass --force to replace it\n"
    assert log.read_text() == "impression,reward\n0,1\n"  # the user's file is untouched
    assert not list(tmp_path.glob(".*"))  # refused before anything was built: no temp file
    code, out, err = _report(capsys, store, log, "--force")
    assert (code, err) == (0, "") and out.strip() == str(log)
    assert log.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_refuses_a_folder_as_out(capsys, store, tmp_path):
    (tmp_path / "dir.html").mkdir()
    for extra in ((), ("--force",)):
        code, out, err = _report(capsys, store, tmp_path / "dir.html", *extra)
        assert (code, out) == (2, "") and "is a folder, not a file" in err
        assert err.count("\n") == 1


def test_report_never_replaces_a_file_made_while_it_was_built(store, tmp_path, monkeypatch):
    import simulation.store.report as report

    target = tmp_path / "r.html"
    build = report.build_report

    def build_then_someone_writes(stored_run):
        page = build(stored_run)
        target.write_text("made meanwhile")  # another process takes the name
        return page

    monkeypatch.setattr(report, "build_report", build_then_someone_writes)
    with pytest.raises(FileExistsError, match="already exists"):
        report.write_report(store.load(only_id(store)), target, overwrite=False)
    assert target.read_text() == "made meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_a_failed_report_leaves_nothing_behind(store, tmp_path, monkeypatch):
    import simulation.store.report as report

    def fail_while_writing(self, *args, **kwargs):
        Path.write_bytes(self, b"<!DOCTYPE html><p>half")  # the partial temporary file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", fail_while_writing)
    with pytest.raises(OSError, match="No space left"):
        report.write_report(store.load(only_id(store)), tmp_path / "r.html", overwrite=False)
    assert not [p for p in tmp_path.iterdir() if p.is_file()]
