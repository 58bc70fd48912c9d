"""The range a reward can take: where OPE takes it from, and what it clips and widens.

On a ROAS log whose rare conversions the rows missed, the observed rewards are all
costs; a range taken from them cut off every positive value. These tests check the
mechanism (the range's source, the margin's top, the clipped flag), never the sign of
an answer.
"""

import numpy as np
import pandas as pd
import pytest

from simulation.ope.evaluate import OPEReport, evaluate_policy, reward_bounds
from simulation.ope.logs import BanditLogWriter, LoggedFeedback, read_log
from simulation.ope.support import support_of
from tests.reference.ope_stubs import StubUniform

K, D = 3, 2
#: The world's range of one impression's net value (USD): a cost, or an order.
VALUE_RANGE = (-0.013, 300.0)
#: Expected net value per arm: rare conversions worth far more than the costs.
Q = (0.01, 0.02, 0.05)


def _zero_conversion_log(path, n=2000, value_range=VALUE_RANGE):
    """A uniform ROAS log in which no impression converted: every reward is minus a cost."""
    rng = np.random.default_rng(3)
    cost = rng.uniform(0.001, 0.013, size=n)
    with BanditLogWriter(path, n_features=D, n_arms=K, value_range=value_range) as writer:
        writer.write(
            impression=np.arange(n), seed=0, level="user", policy="uniform",
            segment=np.zeros(n, int), context=rng.normal(size=(n, D)),
            action=rng.integers(0, K, n), pscore=np.full(n, 1 / K),
            click=(rng.random(n) < 0.02).astype(int), conversion=np.zeros(n, int),
            revenue=np.zeros(n), cost=cost, reward=-cost, expected_reward=np.tile(Q, (n, 1)),
        )  # fmt: skip
    return read_log(path)


def _evaluate(log, **kwargs):
    return evaluate_policy(
        log, StubUniform(), policy_name="uniform", estimators=("ips", "snips", "dm", "dr"),
        train_fraction=0.5, rng=np.random.default_rng(0), n_bootstrap=200, **kwargs,
    )  # fmt: skip


def test_an_adlab_roas_log_is_bounded_by_its_declared_range(tmp_path):
    log = _zero_conversion_log(tmp_path / "roas.parquet")
    assert log.reward.max() < 0  # the rows show costs only
    report = _evaluate(log)
    assert report.bounds == pytest.approx(VALUE_RANGE) and report.bounds_source == "log"
    assert "from its metadata" in report.bounds_note() and report.bounds_warning() is None
    # Uniform over uniform logging: weights 1, so one unseen order of the declared top
    # (300) moves IPS by 300 / n_eval, and the interval reaches at least that high.
    assert report.high[0] >= VALUE_RANGE[1] / report.n_eval + report.estimate[0] - 1e-12
    truth = report.truth
    assert truth == pytest.approx(np.mean(Q))
    assert ((report.low <= truth) & (truth <= report.high)).all()


def test_without_a_declared_range_the_observed_one_is_used_and_flagged(tmp_path):
    log = _zero_conversion_log(tmp_path / "roas.parquet")
    foreign = LoggedFeedback(
        context=log.context, action=log.action, reward=log.reward, pscore=log.pscore,
        n_arms=log.n_arms, expected_reward=log.expected_reward,
    )  # fmt: skip
    report = _evaluate(foreign)
    assert report.bounds_source == "observed"
    assert report.bounds[1] <= foreign.reward.max() < 0
    assert (report.high <= report.bounds[1]).all()  # the clip the declared range lifts
    assert report.bounds_warning().endswith(
        "Declare the range (--reward-range LOW,HIGH on the command line)."
    )  # the command's own advice by default; a caller names its own control
    app = report.bounds_warning("Use the box.")
    assert app.endswith("too tight. Use the box.") and "--reward-range" not in app
    assert "the log declares no range" in report.bounds_note()
    declared = _evaluate(foreign, reward_range=VALUE_RANGE)
    assert declared.bounds == VALUE_RANGE and declared.bounds_source == "declared"
    assert declared.bounds_warning() is None
    np.testing.assert_allclose(declared.high, _evaluate(log).high)  # as the metadata gives it


def test_a_log_written_without_the_range_falls_back_to_the_observed_one(tmp_path):
    log = _zero_conversion_log(tmp_path / "old.parquet", value_range=None)
    assert "value_low" not in log.metadata
    assert _evaluate(log).bounds_source == "observed"


@pytest.mark.parametrize(
    ("reward_range", "match"),
    [
        ((1.0, 0.0), r"low < high"),
        ((0.0, 0.0), r"low < high"),
        ((0.0, np.inf), r"finite"),
        (("a", 1.0), r"two numbers"),
        ((0.0,), r"two numbers"),
        ((-0.001, 300.0), r"leaves out rewards the log holds"),
    ],
)
def test_bad_reward_ranges_are_refused(tmp_path, reward_range, match):
    log = _zero_conversion_log(tmp_path / "roas.parquet")
    with pytest.raises(ValueError, match=match):
        _evaluate(log, reward_range=reward_range)


def test_reward_bounds_sources():
    clicks = np.array([0.0, 1.0, 1.0])
    assert reward_bounds(clicks) == (0.0, 1.0, "clicks")
    assert reward_bounds(np.array([0.5, 2.0])) == (0.5, 2.0, "observed")
    # An older log's reward is net value mapped onto [0, 1]: the range is mapped alike.
    meta = {"objective": "roas", "value_low": -1.0, "value_high": 9.0,
            "reward_offset": -1.0, "reward_span": 10.0}  # fmt: skip
    assert reward_bounds(np.array([0.05, 0.2]), metadata=meta) == (0.0, 1.0, "log")
    # A CTR log's net-value range is not its rewards' range.
    ctr = {"objective": "ctr", "value_low": -1.0, "value_high": 9.0}
    assert reward_bounds(clicks, metadata=ctr) == (0.0, 1.0, "clicks")


def test_the_clipped_flag_is_set_when_only_a_bound_was_cut():
    # 98 clicks in 100 rows: the estimate, 0.98, is inside [0, 1], but the upper bound
    # (a resample without the two zeros has probability 0.98**100 = 13 % > 2.5 %, so the
    # percentile is 1, plus one unseen click's 0.01) is above 1 and cut.
    n = 100
    reward = np.ones(n)
    reward[[10, 60]] = 0.0
    log = LoggedFeedback(
        context=np.zeros((n, 1)), action=np.arange(n) % 2, reward=reward,
        pscore=np.full(n, 0.5), n_arms=2,
    )  # fmt: skip
    report = evaluate_policy(
        log, StubUniform(), policy_name="uniform", estimators=("ips",), train_fraction=0.0,
        rng=np.random.default_rng(0), n_bootstrap=1000,
    )  # fmt: skip
    assert report.estimate[0] == pytest.approx(0.98) and not report.estimate_clipped[0]
    assert report.raw_high[0] > 1.0 and report.high[0] == 1.0
    assert report.clipped[0] and report.to_frame()["clipped"].iloc[0]
    assert report.clip_notes() == []  # the notes are about clipped estimates


def test_clipped_reads_every_cut():
    one = np.array([0.5])
    sup = support_of(np.array([0, 1]), np.full(2, 0.5), np.ones(2), np.full((2, 2), 0.5))
    base = dict(
        policy="p", estimators=("ips",), estimate=one, low=one - 0.1, high=one + 0.1,
        n_train=0, n_eval=2, logging_value=0.5, truth=None, support=sup, bounds=(0.0, 1.0),
        switch_threshold=2.0, raw_estimate=one, raw_low=one - 0.1, raw_high=one + 0.1,
        bounds_source="clicks",
    )  # fmt: skip
    assert not OPEReport(**base).clipped[0]
    assert OPEReport(**{**base, "raw_low": one - 0.6}).clipped[0]
    assert OPEReport(**{**base, "raw_high": one + 0.6}).clipped[0]
    cut = OPEReport(**{**base, "raw_estimate": one + 0.7})
    assert cut.clipped[0] and cut.estimate_clipped[0]
    assert isinstance(cut.to_frame(), pd.DataFrame)
