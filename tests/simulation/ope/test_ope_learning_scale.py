"""OPE trains a policy on the scale the engine trains it on (a ROAS log's net value)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.core import _reward_scale, run_experiment
from simulation.ope.evaluate import _learning_scale, evaluate_policy, split_rows
from simulation.ope.logs import LoggedFeedback, read_log
from simulation.policies import make_policy
from simulation.scenario import build_scenario

CONFIG = ExperimentConfig(
    n_users=2_000, n_segments=3, levels=("generic",), policies=("uniform",),
    objective="roas", n_impressions=3_000, batch_size=250, n_seeds=1, n_checkpoints=3,
)  # fmt: skip


@pytest.fixture(scope="module")
def roas_log(tmp_path_factory):
    scenario = build_scenario(CONFIG)
    path = tmp_path_factory.mktemp("roas") / "log.parquet"
    run_experiment(CONFIG, scenario=scenario, log_path=path, n_jobs=1)
    return scenario, read_log(path)


@pytest.mark.parametrize("name", ["thompson", "thompson_value", "segment:thompson"])
def test_a_unit_reward_policy_trains_on_a_roas_log_as_the_engine_maps_it(roas_log, name):
    scenario, log = roas_log
    assert log.reward.min() < 0  # net value in USD: the policy cannot learn on it as is
    policy = make_policy(name, n_segments=3)
    report = evaluate_policy(
        log, policy, policy_name=name, estimators=("ips",), train_fraction=0.5,
        rng=np.random.default_rng(0), n_bootstrap=20,
    )  # fmt: skip
    assert report.n_train == log.n_rounds // 2
    # The same policy updated by hand with the engine's own map of the training rows.
    offset, span = _reward_scale(scenario, policy)
    assert (offset, span) != (0.0, 1.0)
    assert _learning_scale(log, policy) == pytest.approx((offset, span))
    train, _ = split_rows(log.n_rounds, report.n_train)
    by_hand = make_policy(name, n_segments=3).reset(log.n_arms, log.n_features)
    by_hand.update(log.context[train], log.action[train], (log.reward[train] - offset) / span)
    x = log.context[:50]
    np.testing.assert_allclose(
        policy.action_probabilities(x, np.random.default_rng(1)),
        by_hand.action_probabilities(x, np.random.default_rng(1)),
    )


def test_a_dollar_learning_policy_and_click_logs_are_not_mapped(roas_log):
    _, log = roas_log
    assert _learning_scale(log, make_policy("ucb1")) == (0.0, 1.0)
    n = 100
    clicks = LoggedFeedback(
        context=np.zeros((n, 0)), action=np.arange(n) % 2, reward=(np.arange(n) % 3 == 0) * 1.0,
        pscore=np.full(n, 0.5), n_arms=2,
    )  # fmt: skip
    assert _learning_scale(clicks, make_policy("thompson")) == (0.0, 1.0)


def test_a_log_without_the_world_s_range_maps_from_its_own_rewards():
    n = 100
    reward = np.linspace(-2.0, 30.0, n)
    log = LoggedFeedback(
        context=np.zeros((n, 0)), action=np.arange(n) % 2, reward=reward,
        pscore=np.full(n, 0.5), n_arms=2,
    )  # fmt: skip
    assert _learning_scale(log, make_policy("thompson")) == pytest.approx((-2.0, 32.0))


# -- a declared reward range (--reward-range) on a log that holds no world's range -----------


def _foreign(reward: np.ndarray) -> LoggedFeedback:
    n = reward.size
    rng = np.random.default_rng(3)
    return LoggedFeedback(
        context=rng.normal(size=(n, 2)), action=np.arange(n) % 3, reward=reward,
        pscore=np.full(n, 1 / 3), n_arms=3,
    )  # fmt: skip


def test_a_declared_range_is_the_training_scale_of_a_log_without_the_world_s():
    # The audit: --reward-range was ignored here, and thompson trained on the observed
    # range, which the user had just said is not all the rewards can be.
    log = _foreign(np.linspace(-2.0, 30.0, 90))
    thompson = make_policy("thompson")
    assert _learning_scale(log, thompson) == pytest.approx((-2.0, 32.0))  # observed
    assert _learning_scale(log, thompson, declared=(-5.0, 100.0)) == (-5.0, 105.0)
    # Dollar-learning policies are never mapped, declared range or not.
    assert _learning_scale(log, make_policy("ucb1"), declared=(-5.0, 100.0)) == (0.0, 1.0)
    # Rewards in [0, 1] are taken as they are unless a range says they can be more.
    clicks = _foreign((np.arange(90) % 3 == 0) * 1.0)
    assert _learning_scale(clicks, thompson) == (0.0, 1.0)
    assert _learning_scale(clicks, thompson, declared=(-1.0, 1.0)) == (-1.0, 2.0)


def test_a_log_with_the_world_s_range_keeps_the_engine_s_map_whatever_is_declared(roas_log):
    scenario, log = roas_log
    policy = make_policy("thompson")
    wide = (float(log.reward.min()) - 50.0, float(log.reward.max()) + 50.0)
    assert _learning_scale(log, policy, declared=wide) == pytest.approx(
        _reward_scale(scenario, policy)
    )


def test_evaluate_policy_trains_on_the_declared_range():
    log = _foreign(np.random.default_rng(4).uniform(-2.0, 30.0, 400))
    declared = (-5.0, 100.0)
    report = evaluate_policy(
        log, make_policy("thompson"), policy_name="thompson", estimators=("ips",),
        train_fraction=0.5, rng=np.random.default_rng(0), n_bootstrap=20, reward_range=declared,
    )  # fmt: skip
    train, evaluation = split_rows(log.n_rounds, report.n_train)
    x = log.context[evaluation]
    probs = {}
    for low, span in [(-5.0, 105.0), (float(log.reward.min()), float(np.ptp(log.reward)))]:
        by_hand = make_policy("thompson").reset(log.n_arms, log.n_features)
        by_hand.update(log.context[train], log.action[train], (log.reward[train] - low) / span)
        probs[low] = by_hand.action_probabilities(x, np.random.default_rng(1))
    # The two scales train different posteriors (the test can tell them apart) ...
    assert not np.allclose(probs[-5.0], probs[float(log.reward.min())])
    # ... and the report's policy is the one trained on the declared range.
    again = make_policy("thompson")
    evaluate_policy(
        log, again, policy_name="thompson", estimators=("ips",), train_fraction=0.5,
        rng=np.random.default_rng(0), n_bootstrap=20, reward_range=declared,
    )  # fmt: skip
    np.testing.assert_allclose(again.action_probabilities(x, np.random.default_rng(1)), probs[-5.0])


def test_a_declared_range_must_hold_the_training_rows_rewards_too():
    reward = np.zeros(200)
    train, _ = split_rows(200, 100)
    reward[train[0]] = 50.0  # only a training row: the evaluation rows fit in [0, 10]
    with pytest.raises(ValueError, match=r"the reward range \[0, 10\] leaves out rewards"):
        evaluate_policy(
            _foreign(reward), make_policy("thompson"), policy_name="thompson",
            estimators=("ips",), train_fraction=0.5, rng=np.random.default_rng(0),
            n_bootstrap=20, reward_range=(0.0, 10.0),
        )  # fmt: skip
