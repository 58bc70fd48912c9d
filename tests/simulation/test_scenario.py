import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.scenario import audience_of, build_scenario

CONFIG = ExperimentConfig(n_users=1_500, n_segments=3, n_variants=3)


def test_a_given_world_builds_the_same_scenario():
    built = build_scenario(CONFIG)
    reused = build_scenario(CONFIG, world=audience_of(CONFIG))
    np.testing.assert_array_equal(built.segmentation.labels, reused.segmentation.labels)
    assert built.levels.keys() == reused.levels.keys()
    for name, level in built.levels.items():
        np.testing.assert_array_equal(level.table, reused.levels[name].table)
        assert level.arm_labels == reused.levels[name].arm_labels


def test_a_world_of_another_size_is_refused():
    other = audience_of(CONFIG.replace(n_segments=4))
    with pytest.raises(ValueError, match="4 segments"):
        build_scenario(CONFIG, world=other)
