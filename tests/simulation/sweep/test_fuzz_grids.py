"""Fuzzing the sweep grid reader (issue #17): any TOML gives a plan or one clear error.

Whatever the text, :func:`simulation.sweep.grid.load_grid` returns a plan or raises
``ValueError`` (or ``TypeError`` for a wrongly typed value, the configs' house style)
with a one-line message; ``python -m simulation sweep`` then exits 2 with one
``error:`` line and writes nothing.
"""

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulation.__main__ as cli
from simulation.sweep.grid import load_grid

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Valid pieces and hostile ones: unknown keys, wrong types, huge lists, nesting, overflow.
PIECES = st.sampled_from(
    [
        "n_users = 500\n", "n_segments = 2\n", "n_impressions = 2000\n", "batch_size = 500\n",
        "seeds = 2\n", "worlds = 1\n", "worlds = 0\n", "seeds = 1e400\n", "nope = 1\n",
        "[grid]\n", "n_impressions = [2000, 4000]\n", "n_segments = []\n", "n_segments = 3\n",
        '"world.personalization_scale" = [0.0, 1.0]\n', "batch_size = [0, 500]\n",
        "n_seeds = [" + ", ".join(["1"] * 200) + "]\n", "x = " + "[" * 60 + "]" * 60 + "\n",
        "policies = [[\"x\"]]\n", "[world]\n", "personalization_scale = -1\n", "= broken\n",
        'objective = ["ctr", "roas"]\n', "n_impressions = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(PIECES, max_size=8))
def test_grid_reader_returns_a_plan_or_one_line_error(pieces):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.toml"
        path.write_text("".join(pieces), encoding="utf-8")
        try:
            load_grid(path)
        except (ValueError, TypeError) as exc:
            assert str(exc) and "\n" not in str(exc)


@settings(max_examples=20, deadline=None)
@given(st.lists(PIECES, max_size=8), st.binary(max_size=64))
def test_sweep_command_refuses_bad_grids_in_one_line_and_writes_nothing(pieces, junk):
    with tempfile.TemporaryDirectory() as tmp:
        grid = Path(tmp) / "grid.toml"
        grid.write_bytes("".join(pieces).encode() + junk)
        try:
            load_grid(grid)
        except (ValueError, TypeError):
            pass
        else:
            return  # a valid plan would start runs: not this test's business
        out = Path(tmp) / "out"
        err = io.StringIO()
        argv = ["sweep", "--grid", str(grid), "--out", str(out), "--no-progress"]
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main([*argv, "--store", str(Path(tmp) / "store")])
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), err.getvalue()
        assert not out.exists()
