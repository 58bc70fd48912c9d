"""A refused or stopped command leaves the file system as it found it.

Each command that writes an output makes the folders above it first (``--out a/b/c``); a
refusal found after that (a name too long for the file system, a store that cannot be
opened, a world that cannot be built) or a stop must remove the folders it made, and
never one that was there before (docs/security.md).
"""

import os
import sys

import pytest

import simulation.cli.run as cli_run
import simulation.scenario
from simulation.__main__ import main

TINY = ["--users", "1000", "--segments", "3", "--impressions", "2000", "--batch-size", "500",
        "--seeds", "1", "--levels", "generic,segment", "--policies", "uniform,thompson",
        "--no-progress"]  # fmt: skip
SMALL_WORLD = "n_users = 1500\nn_segments = 3\n"


@pytest.fixture
def work(tmp_path):
    """A folder of the user's, with a file of their own that nothing may touch."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's own")
    return folder


def _as_found(work) -> bool:
    return [p.name for p in work.iterdir()] == ["notes.txt"] and (
        work / "notes.txt"
    ).read_text() == "the user's own"


def _one_line(capsys, start: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(start), err
    return err[0]


# --- world ------------------------------------------------------------------------------------


def test_world_refused_for_a_name_too_long_leaves_no_folder(work, capsys):
    # Its temporary folder (".<name>.tmp-...") is the first thing refused.
    assert main(["world", "--preset", "quick", "--out", str(work / "a" / "b" / ("n" * 250))]) == 2
    assert "cannot write to" in _one_line(capsys, "error: ")
    assert _as_found(work)


@pytest.mark.parametrize(
    ("raised", "code", "start"),
    [
        (ValueError("too few creatives pass the guardrails"), 2, "error: too few creatives"),
        (KeyboardInterrupt(), 130, "interrupted: "),
    ],
)
def test_world_refused_or_stopped_while_building_leaves_no_folder(
    work, capsys, monkeypatch, raised, code, start
):
    def fail(config):
        raise raised

    monkeypatch.setattr(simulation.scenario, "build_scenario", fail)
    assert main(["world", "--preset", "quick", "--out", str(work / "a" / "b" / "w")]) == code
    _one_line(capsys, start)
    assert _as_found(work)


# --- run --------------------------------------------------------------------------------------


def test_run_whose_store_cannot_be_opened_leaves_no_folder(work, capsys):
    afile = work / "notes.txt"  # a file given as the store
    argv = ["run", *TINY, "--store", str(afile), "--out", str(work / "a" / "b" / "out")]
    assert main(argv) == 2
    assert "cannot open the run store" in _one_line(capsys, "error: ")
    assert _as_found(work)


def test_run_refused_for_out_creates_no_store(work, capsys, monkeypatch):
    # As when --out's folder turns out unwritable (a mount os.access let through): refused
    # after its folders were made, before the store is opened, which would create it.
    def unwritable(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli_run, "locked_workdir", unwritable)
    store = work / "new" / "store"
    argv = ["run", *TINY, "--store", str(store), "--out", str(work / "a" / "b" / "out")]
    assert main(argv) == 2
    assert "cannot write to" in _one_line(capsys, "error: ")
    assert _as_found(work)  # neither --out's folders nor the store's


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc: Linux only")
def test_run_out_under_proc_creates_no_store(work, capsys):
    store = work / "new" / "store"
    assert main(["run", *TINY, "--store", str(store), "--out", "/proc/adlab-x/out"]) == 2
    _one_line(capsys, "error: ")
    assert _as_found(work)


def test_run_stopped_leaves_no_folder_it_made(work, capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_run, "_write_and_save", stop)
    argv = ["run", *TINY, "--store", str(work.parent / "store"), "--out", str(work / "a" / "o")]
    assert main(argv) == 130
    _one_line(capsys, "interrupted: ")
    assert _as_found(work)


# --- compose ----------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_WORLD)
    return str(path)


def test_compose_refused_and_stopped_leave_no_folder(work, config, capsys, monkeypatch):
    out = work / "a" / "b" / f"{'n' * 240}.png"  # its temporary name is too long
    assert main(["compose", "--config", config, "--size", "200", "--out", str(out)]) == 2
    assert "cannot write" in _one_line(capsys, "error: ")
    assert _as_found(work)

    out = work / "a" / "b" / "ad.png"
    replace = os.replace

    def stop(src, dst):
        if dst == out:  # a stop just before the image takes its place
            raise KeyboardInterrupt
        replace(src, dst)

    monkeypatch.setattr(os, "replace", stop)
    assert main(["compose", "--config", config, "--size", "200", "--out", str(out)]) == 130
    _one_line(capsys, "interrupted: ")
    assert _as_found(work)
