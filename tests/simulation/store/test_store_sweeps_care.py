"""Sweeps in the store: a killed save's work folder is cleaned; ``runs check`` reads sweeps."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.store.fs import locked_workdir
from simulation.store.run_store import RunStore
from simulation.store.sweeps import SWEEPS_DIR, check_sweeps, list_sweeps, save_sweep

GRID = "[grid]\nseeds = [1, 2]\n"


def a_sweep(root) -> str:
    table = pd.DataFrame({"point": [0, 1], "seed": [1, 2], "ctr": [0.03, 0.04]})
    return save_sweep(root, grid_text=GRID, table=table, meta={"n_points": 2, "n_runs": 2})


def test_open_removes_a_killed_sweep_save_s_folder_once_stale(tmp_path):
    root = tmp_path / "store"
    kept = a_sweep(root)
    sweeps = root / SWEEPS_DIR
    killed = sweeps / ".tmp-20261122-074044-123456-3f9a2c1b.999.abcd"  # nobody holds its lock
    killed.mkdir()
    (killed / "grid.toml").write_text(GRID)
    RunStore.open(root)
    assert killed.is_dir()  # younger than stale_after: it may be a writer's, just created
    RunStore.open(root, stale_after=0)  # as if a minute had passed (ctime cannot be aged)
    assert not killed.exists()
    assert list(list_sweeps(root)["sweep_id"]) == [kept]


def test_open_never_removes_a_live_sweep_save_s_folder(tmp_path):
    root = tmp_path / "store"
    (root / SWEEPS_DIR).mkdir(parents=True)
    with locked_workdir(root / SWEEPS_DIR, ".tmp-live") as live:
        RunStore.open(root, stale_after=0)
        assert live.is_dir()


def test_a_sweep_save_leaves_no_work_folder(tmp_path):
    root = tmp_path / "store"
    a_sweep(root)
    assert [p.name for p in (root / SWEEPS_DIR).iterdir() if p.name.startswith(".")] == []


def test_check_sweeps_reports_a_junk_table_and_repair_quarantines_it(tmp_path):
    root = tmp_path / "store"
    healthy = a_sweep(root)
    table = pd.DataFrame({"point": [0], "seed": [1], "ctr": [0.05]})
    victim = save_sweep(root, grid_text=GRID + "# b\n", table=table, meta={})
    (root / SWEEPS_DIR / victim / "sweep.parquet").write_bytes(b"junk" * 100)
    report = check_sweeps(root)
    assert list(report["sweep_id"]) == [victim]
    assert report["reason"][0].startswith("sweep.parquet cannot be read")
    assert report["moved_to"][0] is None
    repaired = check_sweeps(root, repair=True)
    assert repaired["moved_to"][0] == root / "quarantine" / SWEEPS_DIR / victim
    assert list(list_sweeps(root)["sweep_id"]) == [healthy]
    assert check_sweeps(root).empty


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: (p / "meta.json").unlink(), "meta.json is missing"),
        (lambda p: (p / "sweep.parquet").unlink(), "sweep.parquet cannot be read"),
        (lambda p: (p / "grid.toml").unlink(), "grid.toml cannot be read"),
    ],
)
def test_check_sweeps_names_what_is_wrong(tmp_path, damage, reason):
    root = tmp_path / "store"
    sweep_id = a_sweep(root)
    damage(root / SWEEPS_DIR / sweep_id)
    assert check_sweeps(root)["reason"][0].startswith(reason)


def test_runs_check_reports_a_damaged_sweep_and_repair_moves_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("simulation.cli.runs",))
    root = tmp_path / "store"
    sweep_id = a_sweep(root)
    (root / SWEEPS_DIR / sweep_id / "sweep.parquet").write_bytes(b"junk")
    assert cli.main(["runs", "--store", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert f"damaged sweep: {sweep_id}: sweep.parquet cannot be read" in out
    assert "1 sweeps checked; 1 damaged" in out
    assert cli.main(["runs", "--store", str(root), "check", "--repair"]) == 0
    assert f"moved to {root / 'quarantine' / SWEEPS_DIR / sweep_id}" in capsys.readouterr().out
    assert cli.main(["runs", "--store", str(root), "check"]) == 0
    assert "1 sweeps" not in capsys.readouterr().out  # none left to check


def test_list_sweeps_keeps_counts_integer_when_a_record_lacks_them(tmp_path):
    root = tmp_path / "store"
    full = a_sweep(root)
    bare = save_sweep(root, grid_text=GRID + "# bare\n", table=pd.DataFrame({"x": [1]}), meta={})
    frame = list_sweeps(root).set_index("sweep_id")
    for column in ("n_points", "n_runs", "n_rows"):
        assert str(frame[column].dtype) == "Int64"  # not float64, as pandas infers beside None
        assert frame.at[full, column] == 2
    assert frame.at[bare, "n_points"] is pd.NA and frame.at[bare, "n_runs"] is pd.NA
    assert frame.at[bare, "n_rows"] == 1  # save_sweep writes n_rows itself
    assert frame.at[bare, "parameters"] == ""


@pytest.mark.parametrize(
    "meta, n_points, parameters",
    [
        ({"n_points": "12", "parameters": "a"}, pd.NA, ""),  # wrong types: blank, not garbled
        ({"n_points": True, "parameters": [1, 2]}, pd.NA, ""),
        ({"n_points": 12.0, "parameters": ["a", "b"]}, 12, "a, b"),
    ],
)
def test_list_sweeps_reads_malformed_counts_and_parameters_as_missing(
    tmp_path, meta, n_points, parameters
):
    root = tmp_path / "store"
    save_sweep(root, grid_text=GRID, table=pd.DataFrame({"x": [1]}), meta=meta)
    row = list_sweeps(root).iloc[0]
    assert (row["n_points"] is pd.NA) if n_points is pd.NA else (row["n_points"] == n_points)
    assert row["parameters"] == parameters


def test_runs_list_sweeps_prints_counts_as_integers_and_missing_ones_blank(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("simulation.cli.runs",))
    root = tmp_path / "store"
    (root / SWEEPS_DIR).mkdir(parents=True)
    table = pd.DataFrame({"x": [1, 2, 3]})
    full = save_sweep(
        root,
        grid_text=GRID,
        table=table,
        meta={"n_points": 12, "n_runs": 36, "parameters": ["n_impressions", "world.jitter"]},
    )
    bare = save_sweep(root, grid_text=GRID + "# bare\n", table=table, meta={"n_runs": 7})
    assert cli.main(["runs", "--store", str(root), "list", "--sweeps"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower() and "<NA>" not in out
    assert re.search(r"\b\d+\.0\b", out) is None  # "12", never "12.0"
    header, *lines = out.splitlines()
    columns = header.split()
    assert columns[:1] == ["sweep_id"] and "n_points" in columns
    (full_line,) = [line for line in lines if line.startswith(full)]
    (bare_line,) = [line for line in lines if line.startswith(bare)]
    # The full record: its counts as written, in the columns' order.
    assert full_line.split()[-5:] == ["12", "36", "n_impressions,", "world.jitter", "3"]
    # The bare one: n_points and parameters are blank, so only n_runs and n_rows remain.
    assert bare_line.split()[-2:] == ["7", "3"]
    assert "n_impressions" not in bare_line


def _named(root, name):
    table = pd.DataFrame({"point": [0, 1], "seed": [1, 2], "ctr": [0.03, 0.04]})
    return save_sweep(root, grid_text=GRID, table=table, meta={"n_points": 2}, name=name)


def test_a_name_given_when_the_sweep_is_already_saved_is_recorded(tmp_path):
    # The audit: `sweep --name "scale study"` on a finished sweep printed its id, but
    # runs list --sweeps still showed no name.
    root = tmp_path / "store"
    first = _named(root, None)
    assert _named(root, "scale study") == first
    listed = list_sweeps(root)
    assert list(listed["sweep_id"]) == [first]
    assert list(listed["name"]) == ["scale study"]
    assert _named(root, None) == first  # no --name: the name stays
    assert list(list_sweeps(root)["name"]) == ["scale study"]
    assert _named(root, "renamed") == first
    assert list(list_sweeps(root)["name"]) == ["renamed"]
    assert check_sweeps(root).empty, "the renamed sweep reads as healthy"
    assert sorted(p.name for p in (root / SWEEPS_DIR / first).iterdir()) == [
        "grid.toml", "meta.json", "sweep.parquet"
    ]  # fmt: skip


# -- names and parameters reach the terminal without control characters ------------------

#: An ANSI colour, a bell, a bidirectional override and a clear-screen around a name.
DIRTY = "\x1b[2J\x1b[31mscale\x1b[0m\u202e study\x07 "


def test_a_sweep_name_is_stored_cleaned_as_a_run_name_is(tmp_path):
    # The audit: save_sweep kept a name as given (run names are cleaned by the store), so
    # the command, the app and the Python API could store terminal escapes.
    root = tmp_path / "store"
    sweep_id = _named(root, DIRTY)
    assert list(list_sweeps(root)["name"]) == ["scale study"]
    run_id = RunStore.open(root).save(
        config={}, seed=0, summary=pd.DataFrame(), timeseries=pd.DataFrame(), name=DIRTY
    )
    assert RunStore.open(root).load(run_id).meta["name"] == "scale study"  # the same cleaning
    # Nothing left once cleaned is no name: an earlier name is kept, as with None.
    assert _named(root, "\x1b[0m\x07 ") == sweep_id
    assert list(list_sweeps(root)["name"]) == ["scale study"]


def test_a_sweep_name_that_is_not_text_is_refused_before_anything_is_written(tmp_path):
    root = tmp_path / "store"
    with pytest.raises(TypeError, match="`name` must be a str or None; got int"):
        _named(root, 7)
    assert not root.exists()


def test_runs_list_sweeps_cleans_the_parameters_it_prints(tmp_path, capsys, monkeypatch):
    # meta.json can be written by hand (or by an older adlab): the grid's keys are printed
    # as cleaned as the names beside them.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("simulation.cli.runs",))
    root = tmp_path / "store"
    save_sweep(
        root,
        grid_text=GRID,
        table=pd.DataFrame({"x": [1]}),
        meta={"parameters": ["\x1b[2Jn_impressions\x07", "world\u202e.jitter"]},
        name=DIRTY,
    )
    assert cli.main(["runs", "--store", str(root), "list", "--sweeps"]) == 0
    out = capsys.readouterr().out
    assert "n_impressions, world.jitter" in out and "scale study" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
