"""The measured learning-speed table the Experiment page reads, and the longer run it offers."""

import pytest

from simulation.config import OBJECTIVES, PRESETS
from simulation.learning_speed import (
    IMPRESSIONS_TO_SEPARATE,
    MEASURED_SEEDS,
    MEASURED_UP_TO,
    impressions_to_separate,
    longer_run,
)


def test_one_measured_horizon_per_objective():
    assert set(IMPRESSIONS_TO_SEPARATE) == set(OBJECTIVES)
    for objective in OBJECTIVES:
        n = impressions_to_separate(objective)
        # None: did not separate within the measured range; else a horizon the bench
        # measured: a whole number of default batches, within the grid.
        assert n is None or (1_000 <= n <= MEASURED_UP_TO and n % 1_000 == 0)


def test_measured_with_the_default_experiments_seeds():
    # The page quotes the table for the default experiment: a change of its seeds changes
    # the paired interval's width, so the table must be re-measured (bench/separation.py).
    assert PRESETS["default"].n_seeds == MEASURED_SEEDS


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_run_shorter_than_the_measured_horizon_is_offered_it(objective):
    need = impressions_to_separate(objective)
    target = MEASURED_UP_TO if need is None else need
    assert longer_run(objective, target - 1_000) == target
    assert longer_run(objective, 1) == target
    # Long enough (or as long as anything measured): nothing to offer.
    assert longer_run(objective, target) is None
    assert longer_run(objective, 10 * MEASURED_UP_TO) is None


@pytest.mark.parametrize("bad", ["CTR", "clicks", "", None])
def test_unknown_objective_is_refused(bad):
    with pytest.raises(ValueError, match="`objective` must be one of"):
        impressions_to_separate(bad)
    with pytest.raises(ValueError, match="`objective` must be one of"):
        longer_run(bad, 300_000)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (0, ValueError, "at least 1"),
        (-5, ValueError, "at least 1"),
        (1.5e5, TypeError, "must be an int; got float"),
        (True, TypeError, "must be an int; got bool"),
        ("300000", TypeError, "must be an int; got str"),
    ],
)
def test_bad_impressions_are_refused(bad, error, message):
    with pytest.raises(error, match=message):
        longer_run("ctr", bad)
