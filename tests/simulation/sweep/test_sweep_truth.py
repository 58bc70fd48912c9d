"""A sweep's observed ROAS and its true counterpart are of the same impressions.

The sweep table's ``roas`` and ``expected_roas`` (and the uplift's ``uplift_roas`` and
``uplift_roas_expected``) must differ by outcome noise alone: the truth is the expected
revenue and cost of the very (user, creative) pairs each policy served, never of another
allocation or population. An audit saw the per-user level's observed ROAS uplift above
its true value in 19 of 24 cells of the docs' grid; the same grid with 10 worlds instead
of 3 gave 44 of 80 (docs/sweeps.md), so these tests pin the like-for-like mechanism rather
than a sign.

Tolerances: each seed draws its own users and outcomes in the one world, so the per-seed
differences are independent given the world and their mean over ``N_SEEDS`` has a
standard error of their spread / sqrt(N_SEEDS). Four standard errors (two-sided, a chance
of 6e-5 under a normal approximation, a few 1e-4 over the checks below) still catch a
truth off by a tenth (``test_a_truth_of_other_impressions_is_caught``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.sweep import parse_grid
from simulation.sweep.runner import execute_run
from simulation.sweep.table import run_rows

pytestmark = pytest.mark.slow  # two runs of 60 seeds: about 10 s of CPU

N_SEEDS = 60
#: Standard errors a mean of per-seed differences may stray from zero (see the docstring).
K_SE = 4.0


def _grid(objective: str) -> dict:
    # Scale 2: the per-user level sells clearly more than the generic one, the regime of
    # the audit's lean. Six times the default click and four times the conversion rate
    # give a few hundred sales a replication, so that the noise (about 1 % of the revenue
    # for a mean over 60 seeds) is small beside the 10 % a wrong truth would be off.
    return {
        "seed": 20261205,
        "n_users": 2_000,
        "n_segments": 3,
        "n_impressions": 20_000,
        "batch_size": 1_000,
        "n_seeds": N_SEEDS,
        "n_checkpoints": 2,
        "objective": objective,
        "policies": ["uniform", "thompson", "lin_ucb"],
        "world": {"personalization_scale": 2.0, "base_ctr": 0.05, "base_cvr": 0.14},
        "grid": {"n_segments": [3]},
    }


@pytest.fixture(scope="module", params=["ctr", "roas"])
def swept(request):
    """One sweep run (the plan's one run) and its summary, per objective."""
    (run,) = parse_grid(_grid(request.param)).runs
    summary, _ = execute_run(run.config.to_dict())
    return run, summary


def _within_noise(diff: np.ndarray) -> tuple[float, float]:
    """Mean of per-seed differences and K_SE of its standard errors."""
    diff = np.asarray(diff, dtype=np.float64)
    return float(diff.mean()), K_SE * float(diff.std(ddof=1)) / np.sqrt(diff.size)


def _truth_is_noise_away(summary: pd.DataFrame) -> list[str]:
    """What breaks like for like in ``summary``: a failure message per (level, policy)."""
    wrong = []
    for (level, policy), g in summary.groupby(["level", "policy"], sort=False):
        # Under CPM the spend is the expected cost of the served impressions: observed and
        # true ROAS share their denominator exactly.
        expected_spend = g["expected_revenue"] / g["expected_roas"]
        if not np.allclose(g["spend"], expected_spend, rtol=1e-9):
            wrong.append(f"{level}/{policy}: spend is not the served impressions' true cost")
        mean, bound = _within_noise(g["revenue"] - g["expected_revenue"])
        if abs(mean) > bound:
            wrong.append(f"{level}/{policy}: revenue - true revenue {mean:+.3f} > {bound:.3f}")
    return wrong


def test_observed_revenue_is_the_served_impressions_true_revenue_plus_noise(swept):
    _, summary = swept
    assert len(summary) == 3 * 3 * N_SEEDS
    assert _truth_is_noise_away(summary) == []


def test_a_truth_of_other_impressions_is_caught(swept):
    # The check above can fail: a true revenue 10 % off (a basket or an order value the
    # sampler does not use, or another allocation's revenue) is far outside the noise,
    # for every (level, policy); a true cost of other impressions breaks the spend.
    _, summary = swept
    for factor in (0.9, 1.1):
        off = summary.assign(
            expected_revenue=summary["expected_revenue"] * factor,
            expected_roas=summary["expected_roas"] * factor,  # the same true spend
        )
        wrong = _truth_is_noise_away(off)
        assert len(wrong) == 9 and all("true revenue" in w for w in wrong)
        off = summary.assign(expected_roas=summary["expected_roas"] * factor)
        assert len(_truth_is_noise_away(off)) == 9


def _paired_log_roas(
    summary: pd.DataFrame, level: str, pair: tuple[str, str], column: str
) -> np.ndarray:
    """Per-seed log(level's / generic's ``column``) of ``pair`` (level's policy, generic's).

    Returns an ndarray of shape (N_SEEDS,).
    """
    mine = summary[(summary["level"] == level) & (summary["policy"] == pair[0])]
    base = summary[(summary["level"] == "generic") & (summary["policy"] == pair[1])]
    mine, base = mine.set_index("seed")[column], base.set_index("seed")[column]
    return np.log(mine.to_numpy()) - np.log(base.loc[mine.index].to_numpy())


@pytest.mark.parametrize("level", ["segment", "user"])
def test_the_tables_roas_uplift_and_its_truth_differ_by_noise(swept, level):
    run, summary = swept
    rows = run_rows(run, summary)
    best = rows[(rows["level"] == level) & (rows["policy"] == "best")].iloc[0]
    # The best row compares the level's best with the generic level's best (the baseline).
    # ("generic · best (thompson)": the table names it as uplift.csv does).
    base_label = best["baseline"].split(" · ")[1]
    assert base_label.startswith("best (") and base_label.endswith(")")
    pair = (best["best_policy"], base_label[len("best (") : -1])
    assert np.all(summary["conversions"] >= 10)  # every replication pairs, with an interval
    observed = _paired_log_roas(summary, level, pair, "roas")
    true = _paired_log_roas(summary, level, pair, "expected_roas")
    # The table's numbers are the geometric means of the same seeds' paired ratios ...
    assert best["uplift_roas"] == pytest.approx(np.expm1(observed.mean()), rel=1e-9)
    assert best["uplift_roas_expected"] == pytest.approx(np.expm1(true.mean()), rel=1e-9)
    # ... and per seed the two differ by the outcomes' noise alone, which averages out: for
    # the best pair (picked on the observed means) and for uniform, which never adapts.
    for policies in (pair, ("uniform", "uniform")):
        observed = _paired_log_roas(summary, level, policies, "roas")
        true = _paired_log_roas(summary, level, policies, "expected_roas")
        mean, bound = _within_noise(observed - true)
        assert abs(mean) <= bound, (policies, mean, bound)
