"""Support diagnostics (ESS, clicks, overlap) and the random train/evaluation split."""

import numpy as np
import pytest

from simulation.ope.evaluate import evaluate_policy, split_rows
from simulation.ope.logs import LoggedFeedback
from simulation.ope.support import MIN_CLICKS, MIN_ESS, Support, support_of
from tests.reference.ope_stubs import StubUniform

K = 4


def one_hot(arms, k=K):
    out = np.zeros((len(arms), k))
    out[np.arange(len(arms)), arms] = 1.0
    return out


def test_uniform_on_a_uniform_log_is_fully_supported():
    rng = np.random.default_rng(0)
    n = 4000
    action = rng.integers(0, K, n)
    reward = (rng.random(n) < 0.05).astype(float)
    sup = support_of(action, np.full(n, 1 / K), reward, np.full((n, K), 1 / K))
    assert sup.ess == pytest.approx(n) and sup.mean_weight == pytest.approx(1.0)
    assert not sup.partial and not sup.unsupported and sup.unlogged == ()
    assert sup.clicks == int(reward.sum())


def test_a_deterministic_logger_supports_only_the_choices_it_made():
    # Logged with pscore 1 on arm 0: a policy choosing arm 1 half the time has half
    # its choices unseen, whatever the rewards.
    rng = np.random.default_rng(1)
    n = 2000
    action = np.zeros(n, dtype=int)
    dist = one_hot(np.where(rng.random(n) < 0.5, 0, 1))
    sup = support_of(action, np.ones(n), np.ones(n), dist)
    assert sup.mean_weight == pytest.approx(0.5, abs=0.05)
    assert sup.partial and not sup.unsupported
    assert sup.unlogged == (1,) and sup.unlogged_mass == pytest.approx(0.5, abs=0.05)
    (warning,) = [w for w in sup.warnings() if "supports only about" in w]
    assert "ads no evaluation row shows (1)" in warning and "never shown" in warning


def test_a_policy_on_ads_never_logged_is_unsupported_not_zero():
    n = 500
    action = np.arange(n) % 2  # only ads 0 and 1 were shown
    sup = support_of(action, np.full(n, 0.5), np.ones(n), one_hot(np.full(n, 3)))
    assert sup.unsupported and not sup.partial and sup.ess == 0.0
    message = sup.not_supported_message("rule")
    assert "not supported by the log" in message
    assert "(it chooses ads the rows never show: 3)" in message
    assert "\n" not in message


def test_thin_support_is_flagged_by_ess_or_clicks():
    n = 50
    action = np.arange(n) % K
    sup = support_of(action, np.full(n, 1 / K), np.zeros(n), np.full((n, K), 1 / K))
    assert sup.thin and sup.ess < MIN_ESS and sup.clicks == 0 < MIN_CLICKS
    assert any(f"0 clicks (under {MIN_CLICKS})" in w for w in sup.warnings())


def test_a_value_reward_counts_rewarded_rows_not_clicks():
    # A ROAS log's reward is net value in dollars: its rows above 0 are sales, not clicks.
    n = 50
    action = np.arange(n) % K
    reward = np.where(np.arange(n) % 10 == 0, 37.5, 0.0)
    sup = support_of(action, np.full(n, 1 / K), reward, np.full((n, K), 1 / K))
    assert sup.events == "rewarded rows" and sup.clicks == 5
    assert any("5 rewarded rows (under" in w for w in sup.warnings())
    assert not any("clicks" in w for w in sup.warnings())


def test_the_split_is_random_fixed_and_in_log_order():
    train, evaluation = split_rows(1000, 300)
    again = split_rows(1000, 300)
    assert np.array_equal(train, again[0]) and np.array_equal(evaluation, again[1])
    assert len(train) == 300 and len(evaluation) == 700
    assert np.array_equal(np.sort(np.concatenate([train, evaluation])), np.arange(1000))
    assert (np.diff(train) > 0).all() and (np.diff(evaluation) > 0).all()
    # Not the head: both halves of the file feed both parts.
    assert (train >= 500).any() and (evaluation < 500).any()
    assert np.array_equal(split_rows(10, 0)[1], np.arange(10))


def test_a_log_written_by_two_policies_in_turn_evaluates_on_both():
    # The engine writes a policy's rows together: a uniform block, then a deterministic
    # one (pscore 1 on arm 0). Split in file order, evaluation got only the second block.
    rng = np.random.default_rng(3)
    n = 2000
    action = np.concatenate([rng.integers(0, K, n), np.zeros(n, dtype=int)])
    pscore = np.concatenate([np.full(n, 1 / K), np.ones(n)])
    log = LoggedFeedback(
        context=np.zeros((2 * n, 0)), action=action, reward=np.zeros(2 * n), pscore=pscore,
        n_arms=K,
    )  # fmt: skip
    report = evaluate_policy(
        log, StubUniform(), policy_name="uniform", estimators=("ips",), train_fraction=0.5,
        rng=np.random.default_rng(0), n_bootstrap=20,
    )  # fmt: skip
    # Half the evaluation rows are uniform (weight 1), half deterministic (weight 1/K).
    assert report.support.mean_weight == pytest.approx((1 + 1 / K) / 2, abs=0.05)
    assert report.support.partial


def _log_with_a_rare_propensity(reward):
    # Uniform over 2 arms, except one row logged with pscore 1e-6: one unseen event of
    # that weight would add about 1e6 / n to the upper bound.
    n = reward.shape[0]
    action = np.arange(n) % 2
    pscore = np.full(n, 0.5)
    pscore[0] = 1e-6
    return LoggedFeedback(
        context=np.zeros((n, 0)), action=action, reward=reward, pscore=pscore, n_arms=2
    )


@pytest.mark.parametrize("estimator", ["ips", "snips", "dr"])
def test_intervals_stay_within_the_range_a_click_rate_can_take(estimator):
    rng = np.random.default_rng(5)
    reward = (rng.random(2000) < 0.05).astype(float)
    log = _log_with_a_rare_propensity(reward)
    report = evaluate_policy(
        log, StubUniform(), policy_name="uniform", estimators=(estimator,), train_fraction=0.0,
        rng=np.random.default_rng(0), n_bootstrap=50,
    )  # fmt: skip
    assert report.bounds == (0.0, 1.0)
    assert 0.0 <= report.low[0] <= report.high[0] <= 1.0
    # Unclipped, the margin alone would pass 1: the clip is doing the work.
    unclipped = evaluate_policy(
        log, StubUniform(), policy_name="uniform", estimators=(estimator,), train_fraction=0.0,
        rng=np.random.default_rng(0), n_bootstrap=50, interval_method="percentile",
    )  # fmt: skip
    from simulation.ope.estimators import ESTIMATORS

    dist = np.full((2000, 2), 0.5)
    q = np.zeros((2000, 2))
    margin = ESTIMATORS[estimator]().event_margin(
        reward=reward, action=log.action, pscore=log.pscore, action_dist=dist,
        estimated_rewards=q,
    )  # fmt: skip
    assert unclipped.high[0] + margin > 1.0


def test_intervals_of_other_rewards_stay_within_the_observed_rewards():
    rng = np.random.default_rng(6)
    reward = np.where(rng.random(2000) < 0.05, rng.uniform(5, 80, 2000), -0.2)
    report = evaluate_policy(
        _log_with_a_rare_propensity(reward), StubUniform(), policy_name="uniform",
        estimators=("ips",), train_fraction=0.0, rng=np.random.default_rng(0), n_bootstrap=50,
    )  # fmt: skip
    assert report.bounds == (reward.min(), reward.max())
    assert reward.min() <= report.low[0] <= report.high[0] <= reward.max()


@pytest.mark.parametrize(
    ("mean_weight", "unlogged_mass", "share", "rest"),
    [
        # 2 evaluation rows: a noisy weight of 1.56 beside 22 % on ads no row shows.
        (1.56, 0.22, "78%", "22%"),
        # The Open Bandit Dataset's random log with --train-fraction 0.98.
        (0.96, 0.02, "96%", "4%"),
        (0.5, 0.0, "50%", "50%"),
        (1.0, 0.006, "99%", "1%"),
    ],
)
def test_the_partial_support_warning_uses_one_share_throughout(
    mean_weight, unlogged_mass, share, rest
):
    sup = Support(
        ess=50.0, clicks=40, n_eval=100, mean_weight=mean_weight, mean_weight_se=0.01,
        unlogged=(3,) if unlogged_mass else (), unlogged_mass=unlogged_mass,
    )  # fmt: skip
    assert sup.partial
    (warning,) = [w for w in sup.warnings() if "supports only about" in w]
    assert f"supports only about {share} of this policy's choices, and not the other {rest}:" in (
        warning
    )
    assert f"On that {rest} the log never" in warning
    assert sup.supported_share() <= 1.0 - unlogged_mass


def test_a_share_never_rounds_a_part_away():
    from simulation.ope.support import _share

    assert [_share(v) for v in (0.0, 0.004, 0.5, 0.996, 1.0)] == [
        "0%", "under 1%", "50%", "over 99%", "100%",
    ]  # fmt: skip
