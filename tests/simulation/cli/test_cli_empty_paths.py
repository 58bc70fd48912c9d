"""An empty path option is refused at the boundary, by every command.

``Path("")`` is ``Path(".")``: an option declared ``type=Path`` turned ``--out ""`` into
the working folder, and ``sweep`` wrote its grid, runs and tables there. Every path option
of both command lines is now a :class:`creative.cli_safety.PathOption`; the table below
names each one, so a new path option declared another way is one row away from a test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from creative.__main__ import main as creative_main
from creative.cli_safety import PathOption
from simulation.__main__ import main

GRID = "n_users = 500\nn_segments = 2\n\n[grid]\nn_segments = [2, 3]\n"

#: (argv before the empty value, flag, what the message calls it, argv after it).
SIMULATION = [
    (["run"], "--out", "a folder", []),
    (["run"], "--store", "a folder", []),
    (["run"], "--config", "a file", []),
    (["run"], "--segments-file", "a file", []),
    (["run"], "--catalogue", "a file", []),
    (["run"], "--templates", "a file", []),
    (["world", "--out", "w"], "--config", "a file", []),
    (["world"], "--out", "a folder", []),
    (["compose"], "--out", "an image file", []),
    (["compose", "--out", "a.png"], "--config", "a file", []),
    (["sweep", "--grid", "grid.toml"], "--out", "a folder", []),
    (["sweep", "--grid", "grid.toml", "--out", "o"], "--store", "a folder", []),
    (["sweep", "--out", "o"], "--grid", "a file", []),
    (["ope", "--policy", "uniform"], "--log", "a file or folder", []),
    (["ope", "--policy", "uniform", "--log", "l.csv"], "--out", "a folder", []),
    (["runs"], "--store", "a folder", ["list"]),
    (["runs", "list"], "--store", "a folder", []),
    (["runs", "export", "abc"], "--out", "a folder", []),
    (["runs", "report", "abc"], "--out", "an .html file path", []),
]
CREATIVE = [
    (["render"], "--out", "a folder", []),
    (["render"], "--audiences", "a file", []),
    (["render"], "--templates", "a file", []),
    (["render"], "--catalogue", "a file", []),
]


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    """An empty working folder (with the grid a sweep reads), where nothing may appear."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "home"))
    (tmp_path / "grid.toml").write_text(GRID, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("value", ["", "  "])
@pytest.mark.parametrize(("before", "flag", "kind", "after"), SIMULATION)
def test_simulation_refuses_an_empty_path(empty_cwd, capsys, before, flag, kind, after, value):
    assert main([*before, flag, value, *after]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {flag} must be {kind}; got an empty string"]
    assert sorted(p.name for p in empty_cwd.iterdir()) == ["grid.toml"]


@pytest.mark.parametrize(("before", "flag", "kind", "after"), CREATIVE)
def test_creative_refuses_an_empty_path(empty_cwd, capsys, before, flag, kind, after):
    assert creative_main([*before, flag, "", *after]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {flag} must be {kind}; got an empty string"]
    assert sorted(p.name for p in empty_cwd.iterdir()) == ["grid.toml"]


def test_the_sweep_from_the_audit_writes_nothing_in_the_working_folder(empty_cwd, capsys):
    # The audit's repro: --store "" was read as the working folder and the sweep saved there.
    argv = ["sweep", "--grid", "grid.toml", "--out", "bad/o", "--store", ""]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == "error: --store must be a folder; got an empty string"
    assert not (empty_cwd / "sweeps").exists() and not (empty_cwd / "bad").exists()


def test_path_option_converts_what_it_accepts():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", action=PathOption, kind="a folder")
    parser.add_argument("--img", action=PathOption, kind="an image file", convert=str)
    args = parser.parse_args(["--out", "a/b/", "--img", "x.png/"])
    assert args.out == Path("a/b")
    assert args.img == "x.png/"  # as typed: the handler sees the trailing slash


def test_path_option_refuses_a_type_it_would_never_see():
    parser = argparse.ArgumentParser()
    with pytest.raises(ValueError, match="use convert, not type"):
        parser.add_argument("--out", action=PathOption, kind="a folder", type=Path)
