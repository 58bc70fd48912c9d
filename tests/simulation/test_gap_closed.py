"""The share of the uniform -> oracle gap a policy closes (simulation.gap_closed)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.gap_closed import GAP_COLUMNS, gap_closed, gap_sentences


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
