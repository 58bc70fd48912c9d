"""A bad policy spec is one plain-text line in every command that reads one.

The library writes its messages for rendered markdown ("`epsilon` must be ..."); the
command line prints them without the backticks (``cli.common.plain_text``), as
``ope --policy`` does, whichever way the spec came in: a flag, a config file, a grid.
"""

from __future__ import annotations

import pytest

from simulation.__main__ import main

SPEC = "epsilon_greedy(epsilon=2)"
#: The one line every command prints for SPEC.
EXPECTED = (
    f"error: epsilon must be a float in [0.0, 1.0]; got 2 in '{SPEC}'; "
    "epsilon_greedy takes epsilon (a float in [0, 1])."
)


def _argv(command: str, tmp_path) -> list[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'policies = ["{SPEC}"]\n')
    out = tmp_path / "out"
    store = ["--store", str(tmp_path / "store")]
    if command == "run --policies":
        return ["run", "--policies", SPEC, "--out", str(out), *store, "--no-progress"]
    if command == "run --config":
        return ["run", "--config", str(config), "--out", str(out), *store, "--no-progress"]
    if command == "world --config":
        return ["world", "--config", str(config), "--out", str(out)]
    if command == "compose --config":
        return ["compose", "--config", str(config), "--out", str(tmp_path / "out" / "ad.png")]
    if command == "sweep --grid":  # a base setting of the grid
        grid = tmp_path / "grid.toml"
        grid.write_text(f'policies = ["{SPEC}"]\n[grid]\nn_impressions = [1000, 2000]\n')
        return ["sweep", "--grid", str(grid), "--out", str(out), *store]
    raise AssertionError(command)


COMMANDS = ["run --policies", "run --config", "world --config", "compose --config", "sweep --grid"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_policy_setting_is_one_plain_line(command, tmp_path, capsys):
    assert main(_argv(command, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [EXPECTED]
    assert "`" not in err[0]
    assert not (tmp_path / "out").exists()


def test_a_sweep_s_grid_point_names_itself_before_the_plain_line(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text(f'[grid]\npolicies = [["{SPEC}"], ["uniform"]]\n')
    out, store = tmp_path / "out", tmp_path / "store"
    assert main(["sweep", "--grid", str(grid), "--out", str(out), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: grid point (policies=['{SPEC}']): {EXPECTED.removeprefix('error: ')}"]
    assert not out.exists()
