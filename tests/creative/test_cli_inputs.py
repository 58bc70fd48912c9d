"""Input files that are not regular files: refused by name, by render as by run.

A named pipe called ``x.csv`` would hold a plain ``open`` waiting for a writer for ever.
Both command lines read their files with ``creative.limits.read_bounded``, which opens
without waiting and judges what it opened. The commands run in a subprocess so that a
regression hangs one child, which the timeout ends (a guard, not a timing assertion).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from creative.limits import read_bounded

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")

ROOT = Path(__file__).resolve().parents[2]
#: Long enough for a cold start of either command line on a busy machine; a hang never ends.
GUARD_S = 120


def _command(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        return subprocess.run(
            [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=GUARD_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args)} hung on a named pipe")


@pytest.mark.parametrize(
    ("option", "name", "what"),
    [("--audiences", "x.csv", "audiences"), ("--templates", "x.toml", "templates"),
     ("--catalogue", "x.csv", "catalogue")],
)  # fmt: skip
def test_render_refuses_a_named_pipe_for_each_input(option, name, what, tmp_path):
    os.mkfifo(tmp_path / name)
    done = _command(
        ["-m", "creative", "render", option, name, "--per-segment", "1", "--out", "out"],
        tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"error: {what} file {name} is not a regular file"]
    assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written


def test_run_refuses_a_named_pipe_in_the_same_words(tmp_path):
    os.mkfifo(tmp_path / "x.csv")
    done = _command(
        ["-m", "simulation", "run", "--catalogue", "x.csv", "--out", "out", "--store", "store"],
        tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["error: catalogue file x.csv is not a regular file"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


@pytest.mark.parametrize("kind", ["folder", "device"])
def test_read_bounded_names_what_is_not_a_regular_file(kind, tmp_path):
    # Pipes only in a subprocess (above): in this process a regression would hang the suite.
    path = tmp_path if kind == "folder" else Path("/dev/zero")
    if not path.exists():
        pytest.skip(f"no {path} here")
    with pytest.raises(ValueError, match=f"^catalogue file {path} is not a regular file$"):
        read_bounded(path, "catalogue")


def test_read_bounded_reads_a_regular_file_whole(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"name,category,price\n")
    assert read_bounded(tmp_path / "a.csv", "catalogue") == b"name,category,price\n"
