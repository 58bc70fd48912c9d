"""Logging is an observer, and what a policy's select returns is checked.

A logged run must play exactly as the same run unlogged (its propensities draw from
a stream of their own), log a propensity in (0, 1] for every shown arm, and a
user-written policy that returns arms out of range, of the wrong type or length is
stopped with one error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.routes import check_selected
from simulation.policies import POLICIES
from simulation.policies.context_free import Uniform
from simulation.policies.linear import LinTS
from simulation.scenario import build_scenario

#: Every registered policy the pool levels play, and a per-segment copy.
ALL = (*(n for n, c in POLICIES.items() if not c.wraps_policies), "segment:lin_ts")
CONFIG = ExperimentConfig(
    seed=3,
    n_users=2_000,
    n_segments=3,
    levels=("generic", "user"),
    policies=ALL,
    n_impressions=3_000,
    batch_size=250,
    n_seeds=1,
    n_checkpoints=3,
)


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(CONFIG)


@pytest.mark.parametrize("objective", ["ctr", "roas"])
def test_a_logged_run_plays_as_the_same_run_unlogged_for_every_policy(
    tmp_path, scenario, objective
):
    config = CONFIG.replace(objective=objective)
    plain = run_experiment(config, scenario=scenario, n_jobs=1)
    path = tmp_path / "log.parquet"
    logged = run_experiment(config, scenario=scenario, n_jobs=1, log_path=path)
    # Every policy, every checkpoint, every metric: identical to the bit.
    np.testing.assert_array_equal(plain.series, logged.series)
    np.testing.assert_array_equal(plain.allocation, logged.allocation)
    log = pd.read_parquet(path, columns=["policy", "pscore"])
    assert set(log["policy"]) == set(ALL)
    assert ((log["pscore"] > 0) & (log["pscore"] <= 1)).all()


def test_lin_ts_logged_propensity_counts_the_choice_s_own_draw():
    # One draw per row: the Monte Carlo estimate is 0 for every arm but one, and the
    # logged propensity of a chosen arm that did not win it is 1 / 2, never 0.
    policy = LinTS(propensity_draws=1).reset(3, 2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    probs = policy.action_probabilities(x, np.random.default_rng(1))
    arms = np.arange(400) % 3
    pscore = policy.logged_propensity(x, arms, np.random.default_rng(1))
    won = probs[np.arange(400), arms] == 1.0
    assert (~won).any() and won.any()
    np.testing.assert_array_equal(pscore[won], 1.0)
    np.testing.assert_array_equal(pscore[~won], 0.5)


def test_lin_ts_logged_propensity_is_the_estimate_with_one_more_draw():
    policy = LinTS(propensity_draws=999).reset(4, 3)
    x = np.random.default_rng(2).normal(size=(50, 3))
    arms = np.random.default_rng(3).integers(0, 4, 50)
    probs = policy.action_probabilities(x, np.random.default_rng(5))[np.arange(50), arms]
    pscore = policy.logged_propensity(x, arms, np.random.default_rng(5))
    np.testing.assert_allclose(pscore, (probs * 999 + 1) / 1000)


@dataclass(kw_only=True, eq=False)
class _Broken(Uniform):
    """A user-written policy whose select returns ``returned(n, k)`` (set by the test)."""

    name = "broken"

    def counting_kernel(self, config):
        return None  # played batch by batch, through its own select

    def select(self, contexts, rng):
        return type(self).returned(np.asarray(contexts).shape[0], self.n_arms_)


BAD = [
    (lambda n, k: np.full(n, k), r"shape \(100,\) with values in \[0, 5\); got 5 at row 0"),
    (lambda n, k: np.full(n, -1), r"got -1 at row 0"),
    (lambda n, k: np.zeros(n) + 0.5, r"got dtype float64"),
    (lambda n, k: np.zeros(n - 1, dtype=int), r"got shape \(\d+,\)"),
    (lambda n, k: np.zeros((n, 1), dtype=int), r"got shape \(\d+, 1\)"),
]


@pytest.mark.parametrize(("returned", "match"), BAD)
def test_the_engine_refuses_what_a_broken_select_returns(monkeypatch, returned, match):
    monkeypatch.setitem(POLICIES, "broken", _Broken)
    monkeypatch.setattr(_Broken, "returned", staticmethod(returned), raising=False)
    config = CONFIG.replace(
        policies=("broken",), levels=("generic",), n_impressions=500, batch_size=100
    )
    with pytest.raises(ValueError, match="policy 'broken': select must return .*" + match):
        run_experiment(config, n_jobs=1)


def test_check_selected_passes_good_arms_through():
    arms = check_selected(np.array([0, 2, 1], dtype=np.int32), 3, 3, Uniform())
    assert arms.dtype == np.int64
    np.testing.assert_array_equal(arms, [0, 2, 1])
    assert check_selected(np.empty(0, dtype=np.int64), 0, 3, Uniform()).shape == (0,)
