"""The generated level laid open: each user's best composition against random ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.composition_truth import COMPOSITION_COLUMNS, composition_report
from simulation.config import ExperimentConfig
from simulation.engine.generated import best_compositions, composed_expectations, oracle_table
from simulation.generated.search import sample_valid
from simulation.ground_truth import world_report
from simulation.scenario import build_scenario

SMALL = ExperimentConfig(
    n_users=1_500, n_segments=3, levels=("generic", "generated"), policies=("uniform",)
)


@pytest.fixture(scope="module")
def world():
    return build_scenario(SMALL)


def test_a_sample_solved_alone_is_the_oracle_table_s_rows():
    world = build_scenario(SMALL)  # its own: no oracle table in its memo yet
    users = np.array([3, 700, 1_499, 42])
    for objective in ("ctr", "roas"):
        # Before the table exists the sample is solved on its own, in blocks...
        alone = best_compositions(world, objective, users, block=3)
        # ...and is what the whole table (every user, default blocks) holds for them.
        np.testing.assert_array_equal(alone, oracle_table(world, objective)[users])
        np.testing.assert_array_equal(best_compositions(world, objective, users), alone)


def test_each_user_s_best_beats_every_random_composition_of_theirs(world):
    # Exactness: under clicks no valid composition beats a user's own best.
    users = np.arange(200)
    best = composed_expectations(world, users, best_compositions(world, "ctr", users)).ctr[:, 0]
    space = world.levels["generated"].space
    combos = sample_valid(space, users.size * 50, np.random.default_rng(1))
    other = composed_expectations(world, np.repeat(users, 50), combos).ctr.reshape(-1, 50)
    assert (other <= best[:, None] * (1 + 1e-12)).all()


def test_the_report_is_seeded_and_complete(world):
    report = composition_report(world, sample=600, draws=8)
    assert list(report.columns) == list(COMPOSITION_COLUMNS)
    assert list(report["objective"].unique()) == ["clicks", "net value"]
    every = report[report["scope"] == "all"]
    assert len(every) == 2 and (every["users"] == 600).all()
    segments = report[report["scope"] == "segment"]
    assert segments.groupby("objective")["users"].sum().eq(600).all()
    clicks = report[report["objective"] == "clicks"]
    assert (clicks["true_best_ctr"] > clicks["true_random_ctr"]).all()
    assert report["top_share"].between(0, 1).all() and (report["distinct_best"] >= 1).all()
    assert "tone=" in report.loc[0, "top_composition"]
    pd.testing.assert_frame_equal(report, composition_report(world, sample=600, draws=8))


@pytest.mark.parametrize(("scale", "personal"), [(0.0, False), (1.0, True)])
def test_best_compositions_are_personal_only_where_users_traits_matter(scale, personal):
    # With users' traits weightless, only the viewer's language can still tell two
    # users' best ads apart (the locale mechanism): among users of one language
    # every best composition must be the same. With them, users of one language differ.
    config = SMALL.replace(world=SMALL.world.replace(personalization_scale=scale))
    world = build_scenario(config)
    users = np.arange(1_000)
    language = world.population.language[users]
    for objective in ("ctr", "roas"):
        best = best_compositions(world, objective, users)
        distinct = [len(np.unique(best[language == k], axis=0)) for k in np.unique(language)]
        if personal:
            assert min(distinct) > 1, (objective, distinct)
        else:
            assert distinct == [1] * len(distinct), (objective, distinct)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"sample": 1}, "`sample` must be in"), ({"draws": 0}, "`draws` must be in")],
)
def test_bad_arguments(world, kwargs, message):
    with pytest.raises(ValueError, match=message):
        composition_report(world, **kwargs)


def test_a_world_without_the_generated_level_has_no_compositions():
    world = build_scenario(SMALL.replace(levels=("generic",)))
    with pytest.raises(ValueError, match="no generated level"):
        composition_report(world)
    assert world_report(world, content_sample=300).compositions is None


def test_the_world_report_lays_the_generated_level_open_when_asked(world):
    assert world_report(world, content_sample=300).compositions is None
    report = world_report(world, content_sample=300, generated=True)
    pd.testing.assert_frame_equal(report.compositions, composition_report(world, sample=300))


def test_world_command_writes_the_compositions_with_generated(tmp_path, capsys):
    config = tmp_path / "w.toml"
    config.write_text("n_users = 1000\nn_segments = 2\nn_variants = 2\n")
    out = tmp_path / "world"
    argv = ["world", "--config", str(config), "--generated", "--out", str(out)]
    assert cli.main(argv) == 0
    assert (out / "compositions.csv").is_file()
    table = pd.read_csv(out / "compositions.csv")
    assert list(table.columns) == list(COMPOSITION_COLUMNS) and len(table) == 2 * (1 + 2)
    printed = capsys.readouterr().out
    assert "generated level, each user's best composition (true, expected)" in printed
    # Without the flag (and generated not in the config's levels): no such file.
    again = tmp_path / "again"
    assert cli.main(["world", "--config", str(config), "--out", str(again)]) == 0
    assert not (again / "compositions.csv").exists()


def test_outcomes_and_the_most_common_best_agree_with_the_report(world):
    from simulation.composition_truth import composition_outcomes, most_common_best

    report = composition_report(world, sample=500, draws=4)
    every = report[(report["scope"] == "all") & (report["objective"] == "clicks")].iloc[0]
    users = np.arange(500)
    combo, share, best = most_common_best(world, users, "ctr")
    ctr, roas = composition_outcomes(world, users, best)
    assert ctr == pytest.approx(every["true_best_ctr"])
    assert roas == pytest.approx(every["true_best_roas"])
    assert share == pytest.approx(every["top_share"])
    names = world.levels["generated"].space.level_names
    assert every["top_composition"].startswith(f"product={names[0][combo[0]]} ·")
    # One composition for everyone earns at most what each user's own best does.
    assert composition_outcomes(world, users, combo)[0] <= ctr
