"""The reference learner of bench/generated_ceiling.py that is told the world's structure."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.population import feature_slices
from simulation.response import MECHANISMS
from simulation.scenario import build_scenario

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def ceiling():
    spec = importlib.util.spec_from_file_location(
        "generated_ceiling", BENCH / "generated_ceiling.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(
        ExperimentConfig(levels=("generated",), policies=("mvt_ts",), n_impressions=10_000)
    )


def test_every_mechanism_of_the_response_is_stated(ceiling):
    # A mechanism added to the world must say what it reads, or the reference is stale.
    assert set(ceiling.INFORMED) == set(MECHANISMS)


def test_the_informed_learner_has_free_cells_only_where_the_world_reads(ceiling, scenario):
    space = scenario.levels["generated"].space
    names = list(space.axis_names)
    policy = ceiling.informed_learner(scenario)
    mask = np.asarray(policy.user_mask)
    first, widths = scenario.segmentation.n_segments, feature_slices()
    expected = np.zeros_like(mask)
    for feature, axis in [
        ("age_band", "tone"),
        ("price_sensitivity", "offer"),
        ("active_hours", "greeting"),
        ("mobile", "layout"),
        ("korean", "language"),
    ]:
        rows, a = widths[feature], names.index(axis)
        expected[
            first + rows.start : first + rows.stop, space.offsets[a] : space.offsets[a + 1]
        ] = True
    np.testing.assert_array_equal(mask, expected)
    pairs = np.argwhere(np.triu(np.asarray(policy.pair_blocks)))
    assert [(names[a], names[b]) for a, b in pairs] == [("tone", "offer")]
    assert policy.relevance is False
    # Everything else is the engine's learner: the tied patterns, the tempered and annealed draw.
    engine = ceiling.eg.engine_learner(scenario)
    np.testing.assert_array_equal(policy.tied, engine.tied)
    assert policy.draw_scale == engine.draw_scale
    assert policy.anneal_after == engine.anneal_after
