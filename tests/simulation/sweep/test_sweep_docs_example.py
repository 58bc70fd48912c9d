"""docs/sweeps.md's Python example saves the same record in the run store as the command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.__main__ import main
from simulation.store.sweeps import list_sweeps, load_sweep

ROOT = Path(__file__).resolve().parents[3]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

#: A grid whose 2 runs take well under a second each.
GRID = """
n_users = 500
n_segments = 2
n_impressions = 2_000
batch_size = 500
n_seeds = 2
n_checkpoints = 4
policies = ["thompson"]

[grid]
n_impressions = [1_000, 2_000]
"""

#: What differs between two saves of one sweep by design.
PER_SAVE = {"sweep_id", "created_at", "name"}


def _example() -> str:
    """The page's Python example that saves a sweep (there is exactly one)."""
    text = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")
    (code,) = [block for block in FENCE.findall(text) if "save_sweep(" in block]
    return code


def _point_at(code: str, grid: Path, out: Path) -> str:
    """The example with its grid and folder moved to ``grid`` and ``out``, one worker."""
    for old, new in (
        ('"docs/sweeps-grid.toml"', repr(str(grid))),
        ('"sweeps/mine"', repr(str(out))),
        ("workers=2", "workers=1"),
    ):
        assert code.count(old) == 1, f"the example no longer has {old}: update this test"
        code = code.replace(old, new)
    return code


@pytest.mark.slow
def test_the_python_example_saves_what_the_command_saves(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    out = tmp_path / "out"
    script = tmp_path / "example.py"
    script.write_text(_point_at(_example(), grid, out), encoding="utf-8")
    env = {**os.environ, "ADLAB_HOME": str(tmp_path / "example-home"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    # The command on the same folder runs nothing again (every run is stored) and saves
    # its own record in another store.
    store = tmp_path / "cli"
    assert main(["sweep", "--grid", str(grid), "--out", str(out), "--store", str(store)]) == 0
    assert "0 run(s) executed, 2 already stored" in capsys.readouterr().out

    listed = {
        who: list_sweeps(tmp_path / home).drop(columns=list(PER_SAVE))
        for who, home in (("example", "example-home"), ("command", "cli"))
    }
    assert listed["example"].equals(listed["command"])
    assert listed["example"].loc[0, "parameters"] == "n_impressions"
    assert listed["example"].loc[0, "n_points"] == 2
    metas = {}
    for who, home in (("example", "example-home"), ("command", "cli")):
        (sweep_id,) = list_sweeps(tmp_path / home)["sweep_id"]
        _, _, meta = load_sweep(tmp_path / home, sweep_id)
        metas[who] = {k: v for k, v in meta.items() if k not in PER_SAVE}
    assert metas["example"] == metas["command"]
