"""A saved sweep renamed: its record's name changes, nothing else does."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.store.sweeps import SWEEPS_DIR, list_sweeps, load_sweep, rename_sweep, save_sweep

GRID = "[grid]\nseeds = [1, 2]\n"


def _save(root, grid: str = GRID) -> str:
    table = pd.DataFrame({"point": [0, 1], "seed": [1, 2], "ctr": [0.03, 0.04]})
    return save_sweep(root, grid_text=grid, table=table, meta={"n_points": 2}, name="first")


def test_a_rename_changes_the_name_only(tmp_path):
    sweep_id = _save(tmp_path)
    before = load_sweep(tmp_path, sweep_id)
    files = sorted(p.name for p in (tmp_path / SWEEPS_DIR / sweep_id).iterdir())
    # A prefix is enough, as load_sweep takes it; the name is cleaned as save_sweep cleans it.
    assert rename_sweep(tmp_path, sweep_id[:20], " \x1b[31mscale study\x1b[0m ") == sweep_id
    after = load_sweep(tmp_path, sweep_id)
    assert after[2]["name"] == "scale study"
    assert after[0].equals(before[0]) and after[1] == before[1]
    assert {k: v for k, v in after[2].items() if k != "name"} == {
        k: v for k, v in before[2].items() if k != "name"
    }
    assert sorted(p.name for p in (tmp_path / SWEEPS_DIR / sweep_id).iterdir()) == files
    assert list(list_sweeps(tmp_path)["name"]) == ["scale study"]
    # None removes the name (as a name cleaned to nothing does).
    rename_sweep(tmp_path, sweep_id, None)
    assert list_sweeps(tmp_path)["name"].isna().all()


@pytest.mark.parametrize(("prefix", "reason"), [("2099", "no sweep match"), ("", "no sweep")])
def test_a_rename_of_no_sweep_or_several_is_refused(tmp_path, prefix, reason):
    _save(tmp_path)
    with pytest.raises(LookupError, match=reason):
        rename_sweep(tmp_path, prefix, "x")


def test_an_ambiguous_prefix_is_refused_and_nothing_changes(tmp_path):
    one, two = _save(tmp_path), _save(tmp_path, "[grid]\nseeds = [3]\n")
    common = next(i for i in range(len(one)) if one[i] != two[i])
    with pytest.raises(LookupError, match="2 sweeps match"):
        rename_sweep(tmp_path, one[:common], "x")
    assert list(list_sweeps(tmp_path)["name"]) == ["first", "first"]


def test_a_name_of_the_wrong_type_writes_nothing(tmp_path):
    sweep_id = _save(tmp_path)
    with pytest.raises(TypeError):
        rename_sweep(tmp_path, sweep_id, 3)
    assert load_sweep(tmp_path, sweep_id)[2]["name"] == "first"
