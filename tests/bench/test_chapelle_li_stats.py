"""The statistics bench/chapelle_li.py judges its results with."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def chapelle_li():
    sys.path.insert(0, str(BENCH))  # the script imports its sibling `peers`
    try:
        spec = importlib.util.spec_from_file_location("chapelle_li", BENCH / "chapelle_li.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


def test_paper_gap_matches_the_spread_of_simulated_deviations(chapelle_li):
    # Both sides are means of normal repetitions with the same spread: 500 of ours,
    # 100 of the paper's. The delta-method standard error must match the spread of the
    # simulated deviations. 40,000 draws estimate that spread within about 0.4 %
    # (1 / sqrt(2 * 40,000)); the delta method's own error at sd / mean = 0.5 is
    # about 1 %, hence a 3 % tolerance.
    rng = np.random.default_rng(2011)
    true_mean, sd, ours, paper_reps = 10_000.0, 5_000.0, 500, 100
    mine = true_mean + rng.standard_normal(40_000) * sd / np.sqrt(ours)
    theirs = true_mean + rng.standard_normal(40_000) * sd / np.sqrt(paper_reps)
    deviation = mine / theirs - 1.0
    _, se = chapelle_li.paper_gap(true_mean, sd, ours, true_mean, paper_reps=paper_reps)
    assert se == pytest.approx(deviation.std(), rel=0.03)


def test_paper_gap_deviation_and_its_dominant_term(chapelle_li):
    dev, se = chapelle_li.paper_gap(10_500.0, 500.0, 10**9, 10_000.0, paper_reps=100)
    assert dev == pytest.approx(0.05)
    # With our side exact, only the paper's error is left: (sd / paper) * ratio / 10.
    assert se == pytest.approx(0.05 * 1.05 / 10, rel=1e-6)
    with pytest.raises(ValueError):
        chapelle_li.paper_gap(1.0, 1.0, 0, 1.0)


@pytest.mark.parametrize(
    ("deviation", "se", "verdict"),
    [
        (0.049, 0.001, "within"),
        (-0.05, 0.001, "within"),
        (0.055, 0.003, "edge"),  # 0.5 points out, 2 se = 0.6
        (-0.058, 0.003, "outside"),  # 0.8 points out
        (0.056, 0.0, "outside"),
    ],
)
def test_band_verdict(chapelle_li, deviation, se, verdict):
    assert chapelle_li.band_verdict(deviation, se) == verdict


def test_check_critical_keeps_the_false_alarm_rate_of_three_sigma(chapelle_li):
    # Paired differences of the same algorithm have mean 0: with 6 pairs the t statistic
    # exceeds 3 about 3 % of the time, the t quantile only at the |z| < 3 level (0.27 %).
    # 400,000 simulated checks: the binomial standard error of 0.27 % is 0.008 points.
    rng = np.random.default_rng(7)
    diffs = rng.standard_normal((400_000, 6))
    t = diffs.mean(axis=1) / (diffs.std(axis=1, ddof=1) / np.sqrt(6))
    critical = chapelle_li.check_critical(6)
    assert np.mean(np.abs(t) > 3.0) == pytest.approx(0.030, abs=0.002)
    assert np.mean(np.abs(t) > critical) == pytest.approx(chapelle_li.CHECK_LEVEL, abs=0.0004)
    assert chapelle_li.check_critical(10**6) == pytest.approx(3.0, abs=1e-3)
    with pytest.raises(ValueError):
        chapelle_li.check_critical(1)
