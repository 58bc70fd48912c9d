"""With several worlds the unit of an interval is the world, not the (world, seed) pair.

Seeds of one world share its hidden response parameters and creatives, so their
values cluster around the world's own mean; an interval that treats every
replication as independent covers only the luck within the worlds drawn.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.metrics import interval_over, like_for_like_uplift, mean_interval, summarize

N_WORLDS, N_SEEDS = 3, 6
#: A world's log CTR ratio (segment over generic) is drawn around TRUE_LOG with a large
#: spread; its seeds scatter around the world's value by a hundredth of that.
TRUE_LOG, WORLD_SD, SEED_SD = 0.05, 0.1, 0.001


def _nested_summary(rng: np.random.Generator) -> pd.DataFrame:
    """A summary frame of 3 worlds x 6 seeds whose uplift is dominated by the world."""
    world_effect = rng.normal(TRUE_LOG, WORLD_SD, size=N_WORLDS)
    logs = world_effect[:, None] + rng.normal(0.0, SEED_SD, size=(N_WORLDS, N_SEEDS))
    world, seed = np.divmod(np.arange(N_WORLDS * N_SEEDS), N_SEEDS)
    base = {"policy": "thompson", "world": world, "seed": seed, "impressions": 1e6}
    generic = pd.DataFrame({**base, "level": "generic", "clicks": 2e4})
    segment = pd.DataFrame({**base, "level": "segment", "clicks": 2e4 * np.exp(logs.ravel())})
    frame = pd.concat([generic, segment], ignore_index=True)
    return frame.assign(conversions=1.0, revenue=1.0, spend=1.0)


def _ctr_row(summary: pd.DataFrame) -> pd.Series:
    table = like_for_like_uplift(summary)
    return table[(table["policy"] == "thompson") & (table["metric"] == "ctr")].iloc[0]


def test_the_uplift_interval_is_as_wide_as_the_spread_of_the_world_means(rng):
    summary = _nested_summary(rng)
    row = _ctr_row(summary)
    ratios = summary.pivot_table(index=["world", "seed"], columns="level", values="clicks")
    world_means = np.log(ratios["segment"] / ratios["generic"]).groupby("world").mean()
    half = stats.t.ppf(0.975, N_WORLDS - 1) * world_means.std(ddof=1) / np.sqrt(N_WORLDS)
    assert np.log1p(row.observed) == pytest.approx(world_means.mean())
    assert np.log1p(row.ci_high) - np.log1p(row.ci_low) == pytest.approx(2 * half)
    assert row.n_pairs == N_WORLDS * N_SEEDS
    assert row.interval_over == f"{N_WORLDS} worlds ({N_SEEDS} seeds each)"


def test_over_many_draws_the_clustered_interval_covers_the_true_uplift_and_pooling_does_not(
    rng,
):
    # World effects are normal and the seed noise is tiny, so the t interval over the
    # world means (df = 2) is exact: coverage 0.95. 400 draws: binomial se 0.011; the
    # tolerance is 3 se either side. Treating the 18 (world, seed) pairs as independent
    # gives df = 17 and a standard error about sqrt(6) times too small (the within-world
    # spread adds nearly nothing): its coverage is far below 0.95 (about 0.5).
    n_draws = 400
    clustered, pooled = [], []
    truth = np.expm1(TRUE_LOG)
    for _ in range(n_draws):
        summary = _nested_summary(rng)
        row = _ctr_row(summary)
        clustered.append(row.ci_low <= truth <= row.ci_high)
        ratios = summary.pivot_table(index=["world", "seed"], columns="level", values="clicks")
        _, low, high = mean_interval(np.log(ratios["segment"] / ratios["generic"]).to_numpy())
        pooled.append(low <= TRUE_LOG <= high)
    tolerance = 3 * np.sqrt(0.95 * 0.05 / n_draws)
    assert abs(np.mean(clustered) - 0.95) < tolerance
    assert np.mean(pooled) < 0.95 - tolerance


def test_summarize_averages_each_world_first_and_keeps_seeds_as_the_unit_in_one_world():
    frame = pd.DataFrame(
        {
            "level": "generic", "policy": "uniform", "world": [0, 0, 0, 1, 1, 1],
            "seed": [0, 1, 2] * 2, "regret": [1.0, 1.1, 0.9, 5.0, 5.2, 4.8],
        }
    )  # fmt: skip
    row = summarize(frame, ("regret",)).iloc[0]
    world_means = np.array([1.0, 5.0])
    half = stats.t.ppf(0.975, 1) * world_means.std(ddof=1) / np.sqrt(2)
    assert row["regret"] == pytest.approx(3.0)
    assert row["regret_high"] == pytest.approx(3.0 + half)
    assert row["n_seeds"] == 6 and row["interval_over"] == "2 worlds (3 seeds each)"
    one = summarize(frame[frame["world"] == 0].drop(columns="world"), ("regret",)).iloc[0]
    _, _, high = mean_interval(np.array([1.0, 1.1, 0.9]))
    assert one["regret_high"] == pytest.approx(high)
    assert one["interval_over"] == "3 seeds × 1 world"


def test_one_seed_per_world_changes_nothing_and_unequal_worlds_weigh_equally():
    values = np.array([0.2, 0.5, 0.1, 0.4])
    assert mean_interval(values, worlds=np.arange(4)) == pytest.approx(mean_interval(values))
    # A world with a NaN seed is the mean of its finite ones, weighted as one world.
    mean, low, high = mean_interval(np.array([1.0, np.nan, 3.0, 5.0]), worlds=[0, 0, 1, 1])
    assert (mean, low, high) == pytest.approx(mean_interval(np.array([1.0, 4.0])))
    # Two worlds of which one has no finite value: one unit, no interval over its seeds.
    assert mean_interval(np.array([1.0, 2.0, np.nan, np.nan]), worlds=[0, 0, 1, 1]) == (
        pytest.approx((1.5, 1.5, 1.5))
    )
    with pytest.raises(ValueError, match="`worlds` must have the shape"):
        mean_interval(values, worlds=[0, 1])


def test_interval_over_names_the_unit():
    two = pd.DataFrame({"world": [0, 0, 1, 1], "seed": [0, 1, 0, 1]})
    assert interval_over(two) == "2 worlds (2 seeds each)"
    assert interval_over(two[two["seed"] == 0]) == "2 worlds (1 seed each)"
    assert interval_over(two[two["world"] == 0].drop(columns="world")) == "2 seeds × 1 world"


def test_run_experiment_in_two_worlds_gives_uplift_intervals_over_world_means():
    config = ExperimentConfig(
        n_users=1_000, n_segments=3, n_variants=3, levels=("generic", "segment"),
        policies=("thompson",), n_impressions=2_000, batch_size=500, n_seeds=3,
        n_checkpoints=2, n_worlds=2,
    )  # fmt: skip
    result = run_experiment(config, n_jobs=1)
    summary = result.summary_frame()
    wide = summary.pivot_table(index=["world", "seed"], columns="level", values="ctr")
    world_means = np.log(wide["segment"] / wide["generic"]).groupby("world").mean()
    centre = world_means.mean()
    half = stats.t.ppf(0.975, 1) * world_means.std(ddof=1) / np.sqrt(2)
    uplift = result.uplift_frame()
    row = uplift[(uplift["policy"] == "thompson") & (uplift["metric"] == "ctr")].iloc[0]
    assert row.observed == pytest.approx(np.expm1(centre))
    assert row.ci_low == pytest.approx(np.expm1(centre - half))
    assert row.ci_high == pytest.approx(np.expm1(centre + half))
    assert row.interval_over == "2 worlds (3 seeds each)" and row.n_pairs == 6


def test_an_uplift_with_one_usable_world_of_two_has_no_interval(rng):
    # World 1's segment level got no click: its pairs drop out, and the one world left
    # gives no interval (its seeds' spread would say nothing about other worlds).
    summary = _nested_summary(rng)
    summary.loc[(summary["level"] == "segment") & (summary["world"] >= 1), "clicks"] = 0.0
    row = _ctr_row(summary)
    assert row.n_pairs == N_SEEDS and np.isfinite(row.observed)
    assert np.isnan(row.ci_low) and np.isnan(row.ci_high)
    # Any two usable worlds give one again.
    summary.loc[(summary["level"] == "segment") & (summary["world"] == 1), "clicks"] = 2e4
    assert np.isfinite(_ctr_row(summary).ci_low)
