"""Sweep boundaries: input files keyed by content and checked per point, grid reading, labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.__main__ import main
from simulation.sweep import parse_grid
from simulation.sweep.digest import uplift_digest

BASE = {
    "n_users": 500,
    "n_segments": 2,
    "n_impressions": 2_000,
    "batch_size": 500,
    "n_seeds": 2,
    "n_checkpoints": 4,
    "policies": ["thompson"],
}
GRID = {"world": {"personalization_scale": [0.0, 1.0]}}
SEGMENTS = (
    "audience_id,name,top_interests,keywords,active_hours,mobile_share,price_sensitivity,"
    "language,size\n"
    "kr-gamers,Seoul night gamers,gaming;tech,rpg,night,0.9,0.8,ko,30\n"
    "us-readers,US morning readers,books;food,,morning,0.2,0.3,en,70\n"
    "de-cooks,Cooks,food,,evening,0.5,0.5,en,20\n"
)
#: Eleven segments: more than an audience of 100 users can hold (10 users each at least).
ELEVEN = (
    SEGMENTS.splitlines()[0]
    + "\n"
    + "".join(f"s{i},Segment {i},food,,evening,0.5,0.5,en,10\n" for i in range(11))
)
CATALOGUE = "name,category,price\nQuest Pad,gaming,4900\nSaga Novel,books,1\nChef Box,food,350\n"


def _sweep(tmp_path, grid_text: str, *extra: str) -> int:
    grid = tmp_path / "grid.toml"
    grid.write_text(grid_text, encoding="utf-8")
    store = tmp_path / "store"
    return main(["sweep", "--grid", str(grid), "--out", str(tmp_path / "out"), "--store",
                 str(store), *extra])  # fmt: skip


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# --- input files ----------------------------------------------------------------------------


def test_a_changed_input_file_changes_the_run_keys(tmp_path):
    catalogue = tmp_path / "cat.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    data = {**BASE, "catalogue_file": str(catalogue), "grid": GRID}
    before = [run.run_key for run in parse_grid(data).runs]
    assert [run.run_key for run in parse_grid(data).runs] == before  # same content, same keys
    catalogue.write_text(CATALOGUE.replace("4900", "49"), encoding="utf-8")
    after = [run.run_key for run in parse_grid(data).runs]
    assert len(set(before + after)) == len(before) + len(after)  # every key is new
    # The configs are equal: only the file's content tells the runs apart.
    assert [r.config for r in parse_grid(data).runs] == [
        r.config.replace(catalogue_file=str(catalogue)) for r in parse_grid(data).runs
    ]


def test_a_sweep_after_an_input_file_changed_runs_again(tmp_path, capsys):
    catalogue = tmp_path / "cat.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    text = _toml({**BASE, "catalogue_file": str(catalogue)})
    assert _sweep(tmp_path, text, "--workers", "1") == 0
    assert "2 run(s) executed, 0 already stored" in capsys.readouterr().out
    first = pd.read_parquet(tmp_path / "out" / "sweep.parquet")
    catalogue.write_text(CATALOGUE.replace("4900", "49"), encoding="utf-8")
    assert _sweep(tmp_path, text, "--workers", "1") == 0
    assert "2 run(s) executed, 0 already stored" in capsys.readouterr().out
    second = pd.read_parquet(tmp_path / "out" / "sweep.parquet")
    # Other prices, other revenue: the table is the new file's, not the stored one's.
    assert not np.allclose(first["roas"], second["roas"])


def test_a_segments_file_sets_each_points_segment_count_as_run_does(tmp_path):
    segments = tmp_path / "segs.csv"
    segments.write_text(SEGMENTS, encoding="utf-8")
    plan = parse_grid({**BASE, "n_segments": 6, "segments_file": str(segments), "grid": GRID})
    assert {run.config.n_segments for run in plan.runs} == {3}
    with pytest.raises(ValueError, match="`n_segments` varies in the grid, and the segments"):
        parse_grid({**BASE, "segments_file": str(segments), "grid": {"n_segments": [2, 4]}})


def _toml(data: dict) -> str:
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in data.items()]
    return "\n".join(lines) + '\n[grid]\n"world.personalization_scale" = [0.0, 1.0]\n'


@pytest.mark.parametrize(
    ("field", "content", "match"),
    [
        ("segments_file", None, "segments file not found"),
        ("catalogue_file", None, "catalogue file not found"),
        ("catalogue_file", "name,category\nx,y\n", "cat"),
        ("segments_file", ELEVEN, "11 segments need at least 110 users"),
    ],
)
def test_bad_input_files_are_one_error_naming_the_point_and_nothing_written(
    field, content, match, tmp_path, capsys
):
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    base = {**BASE, field: str(path)}
    if "need at least" in match:
        base["n_users"] = 100
    assert _sweep(tmp_path, _toml(base)) == 2
    line = _one_error(capsys)
    assert line.startswith("error: grid point (world.personalization_scale=0.0): "), line
    assert match in line and str(path) in line, line
    assert not (tmp_path / "out").exists() and not (tmp_path / "store").exists()


# --- reading the grid -----------------------------------------------------------------------


def test_a_grid_that_is_not_a_regular_file_is_refused_unread(tmp_path, capsys):
    assert main(["sweep", "--grid", "/dev/zero", "--out", str(tmp_path / "out")]) == 2
    assert "'/dev/zero' must be a regular file" in _one_error(capsys)
    assert not (tmp_path / "out").exists()


def test_unquoted_dotted_grid_keys_are_the_quoted_ones():
    nested = parse_grid({**BASE, "grid": GRID})
    quoted = parse_grid({**BASE, "grid": {"world.personalization_scale": [0.0, 1.0]}})
    assert nested.keys == quoted.keys == ("world.personalization_scale",)
    assert [r.run_key for r in nested.runs] == [r.run_key for r in quoted.runs]


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        (
            {"world": {"personalization_scale": [1, 1.0]}},
            r"has one setting twice: 1 and 1.0 are both 1.0\.$",
        ),
        ({"budget": [100.0, 100]}, r"has one setting twice: 100.0 and 100 are both 100.0\.$"),
        # Policy specs by the canonical text the run uses (and names in its table).
        (
            {"policies": [["epsilon_greedy(epsilon=0.05)"], ["epsilon_greedy(epsilon = 0.050)"]]},
            r"^`grid.policies` has one setting twice: \['epsilon_greedy\(epsilon=0.05\)'\] and "
            r"\['epsilon_greedy\(epsilon = 0.050\)'\] are both epsilon_greedy\(epsilon=0.05\)\.$",
        ),
        (
            {"policies": [["uniform", "thompson"], [" thompson( ) ", "uniform"]]},
            r"^`grid.policies` has one setting twice: \['uniform', 'thompson'\] and "
            r"\[' thompson\( \) ', 'uniform'\] are both uniform, thompson \(their order does not "
            r"change the experiment, only its rows' order\)\.$",
        ),
        (
            {"levels": [["generic", "user"], ["user", "generic"]]},
            r"^`grid.levels` has one setting twice: \['generic', 'user'\] and "
            r"\['user', 'generic'\] are both generic, user \(their order",
        ),
        ({"levels": [["generic", "user"], ["generic", "user"]]}, r"the value \[.*\] twice\.$"),
        # A default written out, hyperparameters in another order, 2 for 2.0: one policy.
        (
            {"policies": [["epsilon_greedy"], ["epsilon_greedy(epsilon=0.1)"]]},
            r"are the same policies with the same settings \(defaults written out or not",
        ),
        (
            {
                "policies": [
                    ["thompson(prior_alpha=2, prior_beta=3)"],
                    ["thompson(prior_beta=3.0, prior_alpha=2.0)"],
                ]
            },
            r"^`grid.policies` has one setting twice: "
            r"\['thompson\(prior_alpha=2, prior_beta=3\)'\] and",
        ),
    ],
)
def test_values_equal_as_settings_are_duplicates(grid, match):
    with pytest.raises(ValueError, match=match):
        parse_grid({**BASE, "grid": grid})


@pytest.mark.parametrize(
    "grid",
    [
        {"policies": [["thompson"], ["thompson(prior_alpha=2)"]]},  # other settings
        {"policies": [["thompson"], ["thompson", "uniform"]]},  # one more policy
        {"policies": [["thompson"], ["segment:thompson"]]},  # one copy per segment
        {"policies": [["epsilon_greedy"], ["epsilon_greedy(epsilon=0.1000001)"]]},
        {"levels": [["generic", "user"], ["generic", "segment"]]},
        {"world": {"personalization_scale": [0.1, 0.11]}},
    ],
)
def test_different_settings_are_not_duplicates(grid):
    assert len(parse_grid({**BASE, "grid": grid}).points) == 2


def test_the_same_experiment_in_two_spellings_runs_the_same_config():
    # Why the spellings are one setting: the configs the runs get are equal (policy order
    # aside, which the engine's named streams make irrelevant to the numbers).
    one = parse_grid({**BASE, "grid": {"policies": [["epsilon_greedy(epsilon=0.05)", "uniform"]]}})
    two = parse_grid(
        {**BASE, "grid": {"policies": [["uniform", "epsilon_greedy(epsilon = .050)"]]}}
    )
    a, b = one.runs[0].config, two.runs[0].config
    assert sorted(a.policies) == sorted(b.policies) == ["epsilon_greedy(epsilon=0.05)", "uniform"]
    assert a.replace(policies=b.policies, seed=b.seed) == b


# --- the printed digest ---------------------------------------------------------------------


def _best_rows(plan, low: float, high: float) -> pd.DataFrame:
    rows = []
    for run in plan.runs:
        row = {"point_index": run.point.index, "world": run.world, "level": "user",
               "policy": "best", "best_policy": "thompson", **dict(run.point.values)}  # fmt: skip
        for m in ("ctr", "roas"):
            row |= {f"uplift_{m}": 0.1, f"uplift_{m}_low": low, f"uplift_{m}_high": high,
                    f"uplift_{m}_expected": 0.02}  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def test_the_digest_says_intervals_are_over_world_means_when_runs_hold_worlds():
    plan = parse_grid({**BASE, "n_worlds": 3, "grid": GRID})
    lines = uplift_digest(_best_rows(plan, -0.05, 0.25), plan)
    assert "its 95 % interval over the 3 worlds (2 seeds each) of each run" in lines[0]
    plan = parse_grid({**BASE, "grid": GRID})
    assert (
        "over the 2 seeds × 1 world of each run"
        in uplift_digest(_best_rows(plan, -0.05, 0.25), plan)[0]
    )


def test_the_digest_says_why_an_uplift_has_no_interval():
    plan = parse_grid({**BASE, "grid": GRID})
    lines = uplift_digest(_best_rows(plan, np.nan, np.nan), plan)
    assert "+10.0 % (no interval)" in lines[1]
    assert lines[-1] == (
        "(no interval): one usable replication gives no interval (add seeds or worlds)"
    )
    # An interval of zero width (replications that agree) is an interval, not a missing one.
    lines = uplift_digest(_best_rows(plan, 0.0, 0.0), plan)
    assert "(+0.0 % – +0.0 %)" in lines[1] and not lines[-1].startswith("(no interval)")
