"""The learning policies' exploration scales with the reward's spread (issue #13, point 6)."""

import numpy as np
import pytest

from simulation.config import PRESETS
from simulation.engine.core import _reward_scale
from simulation.policies import POLICIES, make_policy
from simulation.scenario import build_scenario


def _play(name, rng_seed, scale, shift=0.0, n_batches=40, batch=200, d=0):
    """Decisions of policy ``name`` on a 3-arm problem whose rewards are ``shift + scale * r``."""
    rng = np.random.default_rng(rng_seed)
    data = np.random.default_rng(rng_seed + 1)
    policy = POLICIES[name]().reset(3, d)
    p = np.array([0.010, 0.012, 0.011])
    shown = []
    for _ in range(n_batches):
        x = np.ones((batch, d)) if d else np.empty((batch, 0))
        a = policy.select(x, rng)
        r = (data.random(batch) < p[a]).astype(float)
        policy.update(x, a, shift + scale * r)
        shown.append(a)
    return np.concatenate(shown)


@pytest.mark.parametrize(("name", "d"), [("ucb1", 0), ("lin_ucb", 2), ("lin_ts", 2)])
def test_decisions_do_not_depend_on_the_reward_unit(name, d):
    # Clicks counted in cents instead of clicks: the same decisions, since mean and
    # bonus scale together. (The old bonus, fixed for [0, 1], explored 100x less here.)
    # Powers of two keep the arithmetic exact, so the comparison can be exact.
    np.testing.assert_array_equal(_play(name, 3, 1.0, d=d), _play(name, 3, 128.0, d=d))


def _bonus(rates, n=10_000.0, sq=None):
    from simulation.policies.context_free import ucb_index

    pulls = np.full(len(rates), n)
    sums = np.asarray(rates) * n
    sq_sums = sums if sq is None else np.asarray(sq) * n  # 0/1 rewards by default
    return ucb_index(pulls, sums, sq_sums, 1.0) - sums / n


def test_ucb1_bonus_is_sized_by_the_spread():
    # A 1 % click rate has a standard deviation of about 0.1, a fair coin 0.5: with the
    # same pulls the bonus is about 5 times smaller (textbook UCB1 gives both the same).
    n = 10_000.0
    textbook = np.sqrt(2 * np.log(2 * n) / n)
    assert _bonus([0.5, 0.5]) == pytest.approx([textbook, textbook], rel=0.02)
    rare = _bonus([0.01, 0.01])
    assert rare / textbook == pytest.approx([np.sqrt(0.01 * 0.99) / 0.5] * 2, rel=0.02)


def test_an_arm_without_spread_keeps_the_pooled_bonus():
    # Rare large rewards: arm 0 has not paid yet (all zeros, no spread), arm 1 has. The
    # floor at the pooled spread keeps arm 0's bonus, so it is tried again.
    bonus = _bonus([0.0, 0.5], sq=[0.0, 50.0])  # arm 1: rewards of 0 or 100
    assert bonus[0] > 0
    pooled_sd = np.sqrt(500_000 / 20_000 - 0.25**2)  # over both arms: 50 rewards of 100 in 20,000
    n = 10_000.0
    assert bonus[0] == pytest.approx(2 * pooled_sd * np.sqrt(2 * np.log(2 * n) / n), rel=1e-9)


@pytest.mark.parametrize(
    ("spec", "unit"),
    [
        ("thompson", True),
        ("thompson_value", True),
        ("segment:thompson", True),
        ("ucb1", False),
        ("epsilon_greedy", False),
        ("lin_ucb", False),
        ("lin_ts", False),
        ("segment:lin_ts", False),
    ],
)
def test_value_objective_rewards_are_dollars_unless_the_policy_needs_unit_rewards(spec, unit):
    scenario = build_scenario(PRESETS["quick"].replace(objective="roas"))
    low, span = _reward_scale(scenario, make_policy(spec))
    if unit:
        # Net value mapped onto [0, 1]: the worst loss to 0, the best order to 1.
        assert low < 0 < span
        assert (scenario.response.max_revenue - low) / span == pytest.approx(1.0)
    else:
        assert (low, span) == (0.0, 1.0)
