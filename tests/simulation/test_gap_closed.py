"""The share of the uniform -> oracle gap a policy closes (simulation.gap_closed)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.composition_truth import (
    composition_report,
    gap_with_floor,
    language_floor,
    language_is_axis,
)
from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment, world_seed
from simulation.gap_closed import (
    GAP_COLUMNS,
    LOCAL_NOTE,
    NO_LANGUAGE_NOTE,
    gap_closed,
    gap_sentences,
    local_note,
)
from simulation.generated.space import ComponentSpace
from simulation.scenario import FACTORS, build_scenario


def _summary(regrets: dict[str, list[float]], impressions=1_000, worlds=False) -> pd.DataFrame:
    rows = []
    for policy, values in regrets.items():
        for r, regret in enumerate(values):
            row = {"policy": policy, "level": "generated", "seed": r % 2, "regret": regret}
            if worlds:
                row["world"] = r // 2
            rows.append({**row, "impressions": impressions})
    return pd.DataFrame(rows)


def test_the_share_is_one_minus_the_regret_ratio_paired_by_replication():
    # Paired: replication r's policy against replication r's uniform, not the means.
    table = gap_closed(
        _summary({"uniform": [4.0, 8.0, 2.0, 6.0], "mvt_ts": [1.0, 6.0, 1.0, 2.0]}, worlds=True)
    )
    assert list(table.columns) == list(GAP_COLUMNS)
    # Two worlds: the unit is the world, so the interval is over the two world means.
    world_means = np.array([np.mean([1 - 1 / 4, 1 - 6 / 8]), np.mean([1 - 1 / 2, 1 - 2 / 6])])
    assert table.loc[0, "share"] == pytest.approx(world_means.mean())
    half = stats.t.ppf(0.975, df=1) * world_means.std(ddof=1) / np.sqrt(2)
    assert table.loc[0, "ci_low"] == pytest.approx(world_means.mean() - half)
    assert table.loc[0, "ci_high"] == pytest.approx(world_means.mean() + half)
    assert table.loc[0, "n_pairs"] == 4
    assert table.loc[0, "interval_over"] == "2 worlds (2 seeds each)"


def test_with_one_world_the_interval_is_over_seeds():
    shares = np.array([1 - 1 / 4, 1 - 6 / 8, 1 - 1 / 2])
    summary = _summary({"uniform": [4.0, 8.0, 2.0], "mvt_ts": [1.0, 6.0, 1.0]})
    summary["seed"] = [0, 1, 2] * 2
    table = gap_closed(summary)
    half = stats.t.ppf(0.975, df=2) * shares.std(ddof=1) / np.sqrt(3)
    assert table.loc[0, "ci_high"] == pytest.approx(shares.mean() + half)
    assert table.loc[0, "interval_over"] == "3 seeds × 1 world"


def test_per_impression_so_a_run_cut_short_is_compared_fairly():
    summary = _summary({"uniform": [4.0, 4.0], "mvt_ts": [1.0, 1.0]})
    summary.loc[summary["policy"] == "mvt_ts", ["impressions", "regret"]] = [500, 0.5]
    assert gap_closed(summary).loc[0, "share"] == pytest.approx(1 - (0.5 / 500) / (4 / 1_000))


def test_no_gap_reports_nothing():
    # Uniform already served every impression its best: there is nothing to close.
    table = gap_closed(_summary({"uniform": [0.0, 0.0], "mvt_ts": [0.0, 0.0]}))
    assert np.isnan(table.loc[0, "share"]) and table.loc[0, "n_pairs"] == 0


def test_without_the_baseline_or_the_level_the_table_is_empty():
    assert gap_closed(_summary({"mvt_ts": [1.0, 2.0]})).empty
    assert gap_closed(_summary({"uniform": [1.0], "mvt_ts": [1.0]}), level="user").empty


def test_in_an_experiment_the_oracle_closes_the_whole_gap_and_regret_is_against_it():
    config = ExperimentConfig(
        n_users=2_000, n_segments=3, levels=("generated",),
        policies=("uniform", "mvt_ts", "oracle"), n_impressions=4_000, batch_size=500,
        n_seeds=2,
    )  # fmt: skip
    result = run_experiment(config, n_jobs=1)
    table = gap_closed(result.summary_frame()).set_index("policy")
    assert list(table.index) == ["mvt_ts", "oracle"]
    assert table.loc["oracle", "share"] == pytest.approx(1.0, abs=1e-12)
    assert table.loc["oracle", "baseline_regret_per_impression"] > 0
    assert result.gap_closed_frame().equals(gap_closed(result.summary_frame()))


def test_no_sentence_for_the_oracle_which_closes_the_whole_gap_by_definition():
    summary = pd.DataFrame(
        {
            "policy": ["uniform", "mvt_ts", "oracle"] * 2,
            "level": "generated",
            "seed": [0, 0, 0, 1, 1, 1],
            "impressions": 1_000,
            "regret": [4.0, 1.0, 0.0, 5.0, 2.5, 0.0],
        }
    )
    table = gap_closed(summary)
    assert list(table["policy"]) == ["mvt_ts", "oracle"]  # the table keeps both rows
    sentences = gap_sentences(table)
    assert len(sentences) == 1 and sentences[0].startswith("mvt_ts closed 62.5 %")


# -- The share from the localized floor (random ads in the viewer's language) ---------------

SMALL = ExperimentConfig(
    n_users=1_500, n_segments=3, levels=("generated",),
    policies=("uniform", "mvt_ts", "oracle"), n_impressions=6_000, batch_size=500, n_seeds=3,
)  # fmt: skip
#: Standard errors a Monte Carlo mean may stray (a 4-sigma miss: about 1 in 16,000).
MC_SES = 4.0


def _reward_per_impression(result) -> pd.DataFrame:
    """Each (policy, seed)'s true expected clicks per impression at the generated level."""
    s = result.summary_frame()
    s = s[s["level"] == "generated"]
    return s.pivot(index="seed", columns="policy", values="expected_ctr")


def test_from_the_floor_the_share_is_learner_less_floor_over_oracle_less_floor():
    world = build_scenario(SMALL)
    result = run_experiment(SMALL, scenario=world, n_jobs=1)
    # The floor is the world report's: its reference in the viewer's language, all users.
    report = composition_report(world)
    every = report[(report["scope"] == "all") & (report["objective"] == "clicks")].iloc[0]
    floor = language_floor(world)
    assert floor.ctr == every["true_random_local_ctr"]
    assert floor.ctr_se == every["true_random_local_ctr_se"]
    table = gap_with_floor(result, world).set_index("policy")
    # The columns before the floor's are the table without it, unchanged.
    plain = result.gap_closed_frame().set_index("policy")
    before = [c for c in GAP_COLUMNS[:9] if c != "policy"]
    pd.testing.assert_frame_equal(table[before], plain[before])
    got = _reward_per_impression(result)
    f = every["true_random_local_ctr"]
    expected = ((got["mvt_ts"] - f) / (got["oracle"] - f)).mean()
    assert table.loc["mvt_ts", "share_from_local"] == pytest.approx(expected, rel=1e-9)
    assert table.loc["oracle", "share_from_local"] == pytest.approx(1.0, abs=1e-12)
    language = ((f - got["uniform"]) / (got["oracle"] - got["uniform"])).mean()
    assert table.loc["mvt_ts", "language_share"] == pytest.approx(language, rel=1e-9)
    assert table.loc["mvt_ts", "local_floor"] == f
    assert table.loc["mvt_ts", "local_floor_se"] == every["true_random_local_ctr_se"]
    low, high = table.loc["mvt_ts", ["local_ci_low", "local_ci_high"]]
    assert low < table.loc["mvt_ts", "share_from_local"] < high
    # The sentence says both shares, each from its own baseline, and the language's.
    (sentence,) = gap_sentences(table.reset_index())
    row = table.loc["mvt_ts"]
    assert f"closed {100 * row['share']:.1f} % of the uniform → oracle gap" in sentence
    assert (
        f"{100 * row['share_from_local']:.1f} % of the gap from random ads in the viewer's "
        "language, the part that is not just the language (true;"
    ) in sentence
    assert f"the viewer's language alone is {100 * language:.1f} % of the uniform" in sentence


def test_under_net_value_the_floor_is_in_net_value_per_impression():
    config = SMALL.replace(objective="roas", n_seeds=2)
    world = build_scenario(config)
    result = run_experiment(config, scenario=world, n_jobs=1)
    table = gap_with_floor(result, world).set_index("policy")
    floor = language_floor(world)
    assert table.loc["mvt_ts", "local_floor"] == floor.net_value
    # Checked against the time series' expected net value per impression directly.
    ts = result.timeseries_frame()
    last = ts[(ts["level"] == "generated") & (ts["step"] == ts["step"].max())]
    net = (
        last.set_index(["seed", "policy"])["expected_reward"]
        / last.set_index(["seed", "policy"])["impressions"]
    )
    net = net.unstack("policy")
    f = floor.net_value
    expected = ((net["mvt_ts"] - f) / (net["oracle"] - f)).mean()
    assert table.loc["mvt_ts", "share_from_local"] == pytest.approx(expected, rel=1e-9)


def _free_language_world(config):
    """``config``'s hill48 world with a language axis (en, ko) no constraint touches.

    In the studio's space the language also decides what else is valid, so random ads in
    the viewer's language mix the other axes differently; here only the language itself
    can set the two floors apart.
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
    return dataclasses.replace(world, levels={**world.levels, "generated": level})


def _language_share_and_its_se(config):
    config = config.replace(space="hill48", n_seeds=4, n_impressions=8_000)
    world = _free_language_world(config)
    result = run_experiment(config, scenario=world, n_jobs=1)
    row = gap_with_floor(result, world).set_index("policy").loc["mvt_ts"]
    # The language's share compares the floor with what uniform served: both Monte Carlo
    # means (the floor's over its draws, uniform's over its seeds' impressions).
    uniform = _reward_per_impression(result)["uniform"]
    se = np.hypot(row["local_floor_se"], uniform.std(ddof=1) / np.sqrt(uniform.size))
    return row, se / row["baseline_regret_per_impression"]


def test_without_a_language_penalty_the_two_shares_agree_within_the_floor_s_error():
    row, se = _language_share_and_its_se(SMALL.replace(world=SMALL.world.replace(
        language_mismatch=0.0)))  # fmt: skip
    assert abs(row["language_share"]) <= MC_SES * se, (row["language_share"], se)
    # share = language + (1 - language) * share_from_local, so they differ by no more.
    gap = abs(row["share"] - row["share_from_local"])
    assert gap <= MC_SES * se * max(1.0, abs(1 - row["share_from_local"])), (gap, se)
    # The mechanism is live in the same world: with the penalty the language has a share.
    row, se = _language_share_and_its_se(SMALL.replace(world=SMALL.world.replace(
        language_mismatch=1.0)))  # fmt: skip
    assert row["language_share"] > MC_SES * se, (row["language_share"], se)
    assert row["share_from_local"] < row["share"]


def test_the_floor_needs_the_expected_reward():
    # (Several worlds need one floor each: see the table of refused floors below.)
    summary = _summary({"uniform": [4.0, 8.0, 2.0, 6.0], "mvt_ts": [1.0, 6.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="`expected_reward`"):
        gap_closed(summary, floor=(0.01, 0.0))


def test_without_the_floor_the_new_columns_are_empty_and_the_sentence_unchanged():
    table = gap_closed(_summary({"uniform": [4.0, 8.0], "mvt_ts": [1.0, 6.0]}))
    assert GAP_COLUMNS[-1] == "local_note" and (table["local_note"] == "").all()
    assert table[list(GAP_COLUMNS[9:-1])].isna().all().all()
    assert local_note(table) == ""
    (sentence,) = gap_sentences(table)
    assert "viewer's language" not in sentence and sentence.endswith("1 world).")


def _with_reward(summary: pd.DataFrame, reward: float = 5.0) -> pd.DataFrame:
    return summary.assign(expected_reward=reward)


def test_several_worlds_take_one_floor_each_and_report_their_mean():
    summary = _with_reward(
        _summary({"uniform": [4.0, 8.0, 2.0, 6.0], "mvt_ts": [1.0, 6.0, 1.0, 2.0]}, worlds=True)
    )
    floors = ((0.002, 1e-4), (0.001, 2e-4))
    row = gap_closed(summary, floor=floors).iloc[0]
    assert row["local_floor"] == pytest.approx(0.0015)
    assert row["local_floor_se"] == pytest.approx(np.hypot(1e-4, 2e-4) / 2)
    # Each replication from its own world's floor: oracle - floor = regret + reward - floor.
    base = np.array([4.0, 8.0, 2.0, 6.0]) / 1_000 + 5.0 / 1_000
    own = np.array([0.002, 0.002, 0.001, 0.001])
    shares = 1 - np.array([1.0, 6.0, 1.0, 2.0]) / 1_000 / (base - own)
    assert row["share_from_local"] == pytest.approx(np.mean([shares[:2].mean(), shares[2:].mean()]))


@pytest.mark.parametrize(
    ("floor", "match"),
    [
        ((0.002, 1e-4), "one world's: the summary has 2 worlds"),
        (((0.002, 1e-4),) * 3, "has 3 worlds' floors; the summary has worlds"),
        (((0.002, 1e-4, 0.0),), "one \\(floor, se\\) pair or one pair per world"),
    ],
)
def test_floors_that_do_not_match_the_worlds_are_refused(floor, match):
    summary = _with_reward(
        _summary({"uniform": [4.0, 8.0, 2.0, 6.0], "mvt_ts": [1.0, 6.0, 1.0, 2.0]}, worlds=True)
    )
    with pytest.raises(ValueError, match=match):
        gap_closed(summary, floor=floor)


# -- No language axis: no second share (hill48) ----------------------------------------------


def test_the_language_is_an_axis_where_the_space_has_one():
    assert language_is_axis(build_scenario(SMALL))
    assert not language_is_axis(build_scenario(SMALL.replace(space="hill48")))
    # The space's axes decide, not its name: hill48 given a language axis has one.
    assert language_is_axis(_free_language_world(SMALL))


def test_without_a_language_axis_there_is_no_second_share_and_the_note_says_why():
    # The audit: hill48 printed "the viewer's language alone is 0.5 % of the gap (true)",
    # the floor's Monte Carlo noise against uniform's draws, in a space with no language.
    config = SMALL.replace(space="hill48", n_seeds=2)
    world = build_scenario(config)
    result = run_experiment(config, scenario=world, n_jobs=1)
    table = gap_with_floor(result, world)
    plain = result.gap_closed_frame()
    before = list(GAP_COLUMNS[:9])
    pd.testing.assert_frame_equal(table[before], plain[before])
    assert table[list(GAP_COLUMNS[9:-1])].isna().all().all()
    assert (table["local_note"] == NO_LANGUAGE_NOTE).all()
    assert local_note(table) == NO_LANGUAGE_NOTE + " "
    (sentence,) = gap_sentences(table)
    assert "closed" in sentence and "language" not in sentence


def test_several_worlds_without_a_language_axis_have_no_second_share_either(monkeypatch):
    # The audit: the engine drew each world's floor (over every user) for hill48, whose
    # table never uses it. It no longer calls language_floor there at all.
    import simulation.composition_truth as truth

    def never(scenario):
        raise AssertionError("language_floor called for a space without a language axis")

    config = SMALL.replace(space="hill48", n_seeds=1, n_worlds=2, n_impressions=2_000)
    with monkeypatch.context() as patch:
        patch.setattr(truth, "language_floor", never)
        result = run_experiment(config, n_jobs=1)
    assert result.world_floors == (None, None)  # one per world: none drawn
    table = gap_with_floor(result, None)
    assert table[list(GAP_COLUMNS[9:-1])].isna().all().all()
    assert (table["local_note"] == NO_LANGUAGE_NOTE).all()
    # Unchanged from the table the drawn floors gave (they said language_axis=False).
    first = build_scenario(config.replace(n_worlds=1))
    audience = (first.population, first.segmentation)
    drawn = tuple(
        language_floor(build_scenario(config.replace(n_worlds=1, seed=seed), world=audience))
        for seed in (world_seed(config.seed, 0), world_seed(config.seed, 1))
    )
    assert [f.language_axis for f in drawn] == [False, False]
    before = gap_with_floor(dataclasses.replace(result, world_floors=drawn), None)
    pd.testing.assert_frame_equal(table, before)


def test_several_worlds_with_a_language_axis_still_draw_each_world_s_floor(monkeypatch):
    import simulation.composition_truth as truth

    calls = []
    real = truth.language_floor

    def counted(scenario):
        calls.append(scenario)
        return real(scenario)

    config = SMALL.replace(n_seeds=1, n_worlds=2, n_impressions=2_000)
    monkeypatch.setattr(truth, "language_floor", counted)
    result = run_experiment(config, n_jobs=1)
    assert len(calls) == 2 and all(f.language_axis for f in result.world_floors)
    assert gap_with_floor(result, None)["local_floor"].notna().all()


def test_the_note_above_the_table_follows_what_the_table_gives():
    summary = _with_reward(_summary({"uniform": [4.0, 8.0], "mvt_ts": [1.0, 6.0]}))
    with_floor = gap_closed(summary, floor=(0.001, 1e-4))
    assert local_note(with_floor) == LOCAL_NOTE
    saved_before = with_floor.drop(columns=list(GAP_COLUMNS[9:]))  # saved before the floor
    assert local_note(saved_before) == ""
