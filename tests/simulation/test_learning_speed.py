"""The measured learning-speed table the Experiment page reads."""

import pytest

from simulation.config import OBJECTIVES
from simulation.learning_speed import (
    IMPRESSIONS_TO_SEPARATE,
    MEASURED_UP_TO,
    impressions_to_separate,
)


def test_one_measured_horizon_per_objective():
    assert set(IMPRESSIONS_TO_SEPARATE) == set(OBJECTIVES)
    for objective in OBJECTIVES:
        n = impressions_to_separate(objective)
        # A horizon the bench measured: a whole number of default batches, within the grid.
        assert 1_000 <= n <= MEASURED_UP_TO and n % 1_000 == 0


@pytest.mark.parametrize("bad", ["CTR", "clicks", "", None])
def test_unknown_objective_is_refused(bad):
    with pytest.raises(ValueError, match="`objective` must be one of"):
        impressions_to_separate(bad)
