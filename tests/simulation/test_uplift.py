"""Like-for-like uplift: paired across replications, intervals that stay in range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.metrics import UPLIFT_COLUMNS, _relative_interval, like_for_like_uplift


def _summary(ratios_by_seed, *, n_imp=10_000, base_ctr=0.02, policies=("thompson",)):
    rows = []
    for s, ratio in enumerate(ratios_by_seed):
        for policy in policies:
            for level, factor in (("generic", 1.0), ("user", ratio)):
                ctr = base_ctr * factor
                rows.append(
                    {
                        "level": level,
                        "policy": policy,
                        "seed": s,
                        "impressions": n_imp,
                        "clicks": ctr * n_imp,
                        "conversions": ctr * n_imp * 0.05,
                        "revenue": ctr * n_imp * 0.05 * 40.0,
                        "spend": n_imp * 0.01,
                        "expected_ctr": base_ctr * (1.0 + 0.5 * (factor - 1.0)),
                        "expected_roas": ctr * 0.05 * 40.0 / 0.01,
                    }
                )
    return pd.DataFrame(rows)


def test_a_constant_paired_ratio_is_recovered_and_its_zero_spread_gives_no_interval():
    table = like_for_like_uplift(_summary([1.1, 1.1, 1.1]))
    assert list(table.columns) == list(UPLIFT_COLUMNS)
    row = table[(table.policy == "thompson") & (table.metric == "ctr")].iloc[0]
    assert row.observed == pytest.approx(0.1)
    # Three seeds that agree exactly measure no uncertainty: a point would read as certain.
    assert np.isnan(row.ci_low) and np.isnan(row.ci_high)
    assert "same ratio" in row.interval_note
    # Expected comes from the true columns only: half the observed lift here.
    assert row.expected == pytest.approx(0.05)
    assert row.baseline == "generic · thompson"
    assert row.interval_over == "3 seeds × 1 world"


def test_ratios_on_both_sides_of_one_give_an_interval_covering_zero():
    table = like_for_like_uplift(_summary([0.9, 1.1, 1.0, 0.95, 1.05]))
    row = table[(table.policy == "thompson") & (table.metric == "ctr")].iloc[0]
    assert row.ci_low < 0 < row.ci_high


def test_intervals_never_leave_the_range_of_a_relative_change():
    # Wildly varying ratios: a symmetric interval on the ratios would go below -100 %.
    table = like_for_like_uplift(_summary([0.05, 3.0, 0.2, 5.0]))
    table = table[table.interval_note == ""]  # CTR: the sales here are too few for one
    assert len(table) and (table.ci_low > -1.0).all()
    assert (table.ci_low <= table.observed).all() and (table.observed <= table.ci_high).all()


def test_one_replication_has_no_interval_and_a_missing_baseline_gives_an_empty_table():
    table = like_for_like_uplift(_summary([1.2]))
    assert table.ci_low.isna().all() and np.isfinite(table.observed).all()
    only_user = _summary([1.2, 1.3]).query("level == 'user'")
    assert like_for_like_uplift(only_user).empty


def test_best_policy_rows_pair_each_levels_own_best():
    frame = _summary([1.2, 1.2], policies=("uniform", "thompson"))
    frame.loc[frame.policy == "uniform", "clicks"] *= 0.5  # thompson is best at both levels
    table = like_for_like_uplift(frame)
    best = table[table.policy.str.startswith("best")]
    assert set(best.policy) == {"best (thompson)"}
    assert set(best.baseline) == {"generic · best (thompson)"}


def test_worlds_are_paired_with_their_own_replications():
    a = _summary([1.1, 1.1]).assign(world=0)
    b = _summary([0.9, 0.9]).assign(world=1)
    table = like_for_like_uplift(pd.concat([a, b]))
    row = table[(table.policy == "thompson") & (table.metric == "ctr")].iloc[0]
    assert row.n_pairs == 4
    assert row.interval_over == "2 worlds (2 seeds each)"
    assert row.observed == pytest.approx(np.sqrt(1.1 * 0.9) - 1)


def test_the_interval_covers_a_zero_true_uplift_at_its_nominal_rate():
    # Paired log ratios are normal here, so the t interval is exact: coverage 0.95.
    # 4,000 trials: binomial se 0.0034; the bound is 3 se either side.
    rng = np.random.default_rng(20261202)
    n_trials = 4_000
    logs = rng.normal(0.0, 0.1, size=(n_trials, 5))
    bounds = np.array([_relative_interval(row, 0.05)[1:] for row in logs])
    hits = (bounds[:, 0] <= 0.0) & (bounds[:, 1] >= 0.0)
    assert abs(hits.mean() - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_trials)


def test_uplift_frame_of_a_real_run_has_observed_and_expected_for_every_metric():
    from simulation.config import ExperimentConfig
    from simulation.engine.core import run_experiment

    cfg = ExperimentConfig(
        n_users=1_000, n_segments=3, n_variants=3, policies=("uniform", "thompson"),
        n_impressions=3_000, batch_size=500, n_seeds=3, n_checkpoints=4,
    )  # fmt: skip
    result = run_experiment(cfg)
    summary = result.summary_frame()
    assert {"expected_conversions", "expected_revenue"} <= set(summary.columns)
    assert not {"uplift_ctr", "uplift_roas"} & set(summary.columns)
    # Expected conversions are the served pairs' p_click * p_conversion: at most the clicks'.
    assert (summary["expected_conversions"] > 0).all()
    assert (summary["expected_conversions"] <= summary["impressions"]).all()
    table = result.uplift_frame()
    assert list(table.columns) == list(UPLIFT_COLUMNS)
    assert set(table["level"]) == {"segment", "user"}
    for _, rows in table.groupby(["level", "policy"]):
        assert sorted(rows["metric"]) == ["conversions", "ctr", "revenue", "roas"]
    assert table["expected"].notna().all()
    # 3,000 impressions give a few dozen clicks but only a handful of sales: the rows resting
    # on conversions have no interval, and say why; the others keep theirs.
    noted = table["interval_note"] != ""
    assert table.loc[noted, ["ci_low", "ci_high"]].isna().all().all()
    assert table.loc[noted, "interval_note"].str.startswith("too few").all()
    kept = table[~noted]
    assert (kept["ci_low"] <= kept["observed"]).all()
    assert (kept["observed"] <= kept["ci_high"]).all()
    assert (kept[["observed", "ci_low", "ci_high", "expected"]] > -1).all().all()
    assert (table["interval_over"] == "3 seeds × 1 world").all()


def test_a_sentence_without_an_interval_says_why():
    from simulation.uplift_text import uplift_sentence

    row = {"observed": 0.05, "ci_low": np.nan, "ci_high": np.nan, "n_pairs": 1,
           "interval_over": "1 seed × 1 world"}  # fmt: skip
    one = uplift_sentence(row, "user", "ctr")
    assert "+5.0 % observed" in one and "one usable replication gives no interval" in one
    # Over world means, the unit is the world: one world with usable values gives none.
    worlds = uplift_sentence({**row, "interval_over": "2 worlds (3 seeds each)"}, "user", "ctr")
    assert "one usable world gives no interval (add worlds)" in worlds
    # Three seeds, none where both levels measured a click (a spend cap stopped them all):
    # not "one replication", and no number.
    none = uplift_sentence(
        {**row, "observed": np.nan, "n_pairs": 0, "interval_over": "3 seeds × 1 world"},
        "user", "ctr",
    )  # fmt: skip
    assert none == (
        "per user ads: no CTR to compare (over 3 seeds × 1 world, no replication where both "
        "levels measured any)."
    )


def test_a_sentence_whose_missing_interval_is_noted_once_gives_its_observed_value_alone():
    from simulation.uplift_text import uplift_sentence

    row = {"observed": 0.05, "ci_low": float("nan"), "ci_high": float("nan"),
           "interval_over": "1 seed × 1 world", "n_pairs": 1}  # fmt: skip
    noted = uplift_sentence(row, "user", "ctr", interval_noted=True)
    assert noted == "per user ads: CTR +5.0 % observed."
    # A drawn interval is still given; a comparison with nothing measured still says so.
    drawn = uplift_sentence({**row, "ci_low": 0.01, "ci_high": 0.09}, "user", "ctr",
                            interval_noted=True)  # fmt: skip
    assert "95 % interval +1.0 % to +9.0 %" in drawn
    empty = uplift_sentence({**row, "n_pairs": 0}, "user", "ctr", interval_noted=True)
    assert "no CTR to compare" in empty
