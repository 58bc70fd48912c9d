"""The generated level laid open: each user's best composition against random ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.composition_truth import (
    COMPOSITION_COLUMNS,
    composition_report,
    localized_valid,
    random_outcomes,
)
from simulation.config import ExperimentConfig
from simulation.engine.generated import best_compositions, composed_expectations, oracle_table
from simulation.generated.search import sample_valid
from simulation.generated.space import ComponentSpace
from simulation.ground_truth import world_report
from simulation.scenario import FACTORS, Scenario, build_scenario

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
    assert "random in the viewer's language" in printed
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


# The random reference in the viewer's language (issue #14's disclosure): uniform draws the
# language like any other axis, the localized reference only among the viewer's own.

#: Monte Carlo tolerance of two independent random references: four standard errors of
#: their difference (each a mean over users of their draws' mean; 1 in 15,000 by chance).
MC_SES = 4.0


def _with_a_free_language_axis(config: ExperimentConfig) -> Scenario:
    """``config``'s hill48 world with a language axis (en, ko) that no constraint touches.

    In the studio's space the language also decides what else is valid (searches are
    printed in English only, copy lengths differ), so the localized reference there mixes
    the other axes differently; here only the language itself can set the two apart.
    """
    world = build_scenario(config.replace(space="hill48"))
    level = world.levels["generated"]
    space = level.space
    spoken = ComponentSpace(
        axis_names=(*space.axis_names, "language"),
        n_levels=(*space.n_levels, 2),
        level_names=(*space.level_names, ("en", "ko")),
    )
    f = FACTORS.index("language")
    values, axes = list(level.factor_values), level.factor_axis.copy()
    values[f], axes[f] = np.array([0, 1]), space.n_axes
    level = dataclasses.replace(level, space=spoken, factor_values=tuple(values), factor_axis=axes)
    return Scenario(
        config=world.config,
        population=world.population,
        segmentation=world.segmentation,
        response=world.response,
        levels={"generated": level},
    )


def _references(world, n_users=1_500, draws=16):
    users = np.arange(n_users)
    out = []
    for localized in (False, True):
        per_user = random_outcomes(world, users, draws, localized=localized).ctr.mean(axis=1)
        out.append((per_user.mean(), per_user.std(ddof=1) / np.sqrt(users.size)))
    return out


def test_localized_compositions_are_valid_and_written_in_the_viewer_s_language(world):
    users = np.arange(1_500)
    level = world.levels["generated"]
    combos, reached = localized_valid(world, users, 4, np.random.default_rng(3))
    assert reached.all() and level.space.is_valid(combos).all()
    axis = level.factor_axis[FACTORS.index("language")]
    printed = level.factor_values[FACTORS.index("language")][combos[:, axis]]
    np.testing.assert_array_equal(printed, np.repeat(world.population.language[users], 4))
    # Both languages are drawn for someone: the audience reads both.
    assert set(np.unique(printed)) == {0, 1}


def test_localized_draws_are_uniform_draws_given_the_language(world):
    # Uniform among the valid compositions in language k is uniform among the valid ones
    # conditioned on language k: each axis's level shares among English viewers' localized
    # draws match those of plain uniform draws written in English.
    level = world.levels["generated"]
    space, axis = level.space, level.factor_axis[FACTORS.index("language")]
    english = np.flatnonzero(world.population.language == 0)[:1_000]
    local, _ = localized_valid(world, english, 40, np.random.default_rng(5))
    plain = sample_valid(space, 120_000, np.random.default_rng(6))
    plain = plain[level.factor_values[FACTORS.index("language")][plain[:, axis]] == 0]
    for j in range(space.n_axes):
        if j == axis or space.n_levels[j] > 10:  # product: too many levels to compare cheaply
            continue
        p = np.bincount(local[:, j], minlength=space.n_levels[j]) / local.shape[0]
        q = np.bincount(plain[:, j], minlength=space.n_levels[j]) / plain.shape[0]
        se = np.sqrt(p * (1 - p) / local.shape[0] + q * (1 - q) / plain.shape[0])
        assert (np.abs(p - q) <= MC_SES * se + 1e-12).all(), (space.axis_names[j], p, q)


def test_without_a_language_penalty_the_localized_reference_is_the_plain_one():
    config = SMALL.replace(world=SMALL.world.replace(language_mismatch=0.0))
    (plain, plain_se), (local, local_se) = _references(_with_a_free_language_axis(config))
    assert abs(local - plain) <= MC_SES * np.hypot(plain_se, local_se)
    # The mechanism is live in the same world: with the penalty the two part.
    config = SMALL.replace(world=SMALL.world.replace(language_mismatch=1.0))
    (plain, plain_se), (local, local_se) = _references(_with_a_free_language_axis(config))
    assert local - plain > MC_SES * np.hypot(plain_se, local_se)


def test_a_large_language_penalty_lifts_the_localized_reference_above_the_plain_one():
    config = SMALL.replace(world=SMALL.world.replace(language_mismatch=2.0))
    report = composition_report(build_scenario(config), sample=1_000, draws=16)
    every = report[report["scope"] == "all"].iloc[0]
    margin = MC_SES * np.hypot(every["true_random_ctr_se"], every["true_random_local_ctr_se"])
    assert every["true_random_local_ctr"] - every["true_random_ctr"] > margin
    assert every["true_random_local_ctr"] <= every["true_best_ctr"]


def test_a_language_axis_that_is_not_there_leaves_one_reference():
    # hill48 has no language axis: every composition is in the viewer's language, and the
    # localized reference is the plain one, draw for draw.
    world = build_scenario(SMALL.replace(space="hill48"))
    report = composition_report(world, sample=300, draws=4)
    for a, b in (("ctr", "local_ctr"), ("ctr_se", "local_ctr_se"), ("roas", "local_roas")):
        np.testing.assert_array_equal(report[f"true_random_{a}"], report[f"true_random_{b}"])


#: Every content effect off; with ``personalization_scale = 0`` every user effect too. Only
#: the language mismatch (locale, not scaled) is left to tell one composition from another.
NULL_WORLD = {
    "personalization_scale": 0.0,
    "category_appeal_sd": 0.0,
    "tone_sd": 0.0,
    "layout_sd": 0.0,
    "tone_offer_sd": 0.0,
    "tone_offer_strength": 0.0,
    "greeting_cost": 0.0,
    "discount_click": 0.0,
    "free_shipping_click": 0.0,
    "personalized_segment_lift": 0.0,
    "personalized_user_lift": 0.0,
}


def test_in_a_world_with_nothing_to_personalize_the_localized_reference_is_the_best():
    config = SMALL.replace(world=SMALL.world.replace(**NULL_WORLD))
    report = composition_report(build_scenario(config), sample=1_000, draws=16)
    clicks = report[report["objective"] == "clicks"]
    for row in clicks.itertuples(index=False):
        # Every composition in the viewer's language earns the same CTR, so random ones in
        # it earn what each user's best does: the standard error is zero but for rounding.
        tolerance = MC_SES * row.true_random_local_ctr_se + 1e-12
        assert abs(row.true_random_local_ctr - row.true_best_ctr) <= tolerance, row
        # ...and the whole gap from plain random compositions is the language.
        assert row.true_best_ctr - row.true_random_ctr > MC_SES * row.true_random_ctr_se, row
