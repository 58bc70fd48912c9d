"""Rule-based target policies: parsing, first-match semantics, the contract, OPE of a rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulation.ope.evaluate import evaluate_policy
from simulation.ope.logs import LoggedFeedback
from simulation.policies.rules import (
    Rule,
    RulePolicy,
    append_segment,
    parse_condition,
    parse_rules_csv,
    rules_from_rows,
)

COLUMNS = ("x_device", "context_age", "user_feature_0=ab", "segment")
N_ARMS = 5


def _csv(*rows: str) -> str:
    return "\n".join(["when,creative", *rows]) + "\n"


BAD_TABLES = [
    (_csv("segment = 2,1", "else,0"), "row 1: bad operator '='"),
    (_csv("segment => 2,1", "else,0"), "bad operator '=>'"),
    (_csv("segment ~ 2,1", "else,0"), "must look like 'column operator number'"),
    (_csv("age >= 30,1", "else,0"), "row 1: unknown column 'age'; the log's columns are: x_device"),
    (_csv("segment == 2,5", "else,0"), r"row 1: creative 5 is out of range \(the log has 5"),
    (_csv("segment == 2,-1", "else,0"), "creative -1 is out of range"),
    (_csv("segment == 2,1.5", "else,0"), "whole number"),
    (_csv("segment == 2,four", "else,0"), "whole number; got 'four'"),
    (_csv("segment == two,1", "else,0"), "the value must be a number; got 'two'"),
    (_csv("segment == inf,1", "else,0"), "finite"),
    (_csv("segment == 2,1"), "needs a default"),
    (_csv("else,1", "otherwise,2"), r"row 2: a second 'else' row \(row 1 is one\); keep one\.$"),
    (_csv("else,7"), "row 1: creative 7 is out of range"),
    (_csv("segment == 2,", "else,0"), "row 1: the creative is empty"),
    (_csv(",3", "else,0"), "row 1: the condition is empty"),
    (_csv("segment == 2,1,9", "else,0"), "row 1: expected 2 cells"),
    ("if,then\nsegment == 2,1\n", "header must be 'when,creative'"),
    ("", "header must be 'when,creative'"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_TABLES)
def test_bad_tables_are_refused_naming_the_row(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_rules_csv(text, columns=COLUMNS, n_arms=N_ARMS)


@pytest.mark.parametrize(
    ("rows", "default", "reason"),
    [
        # The default is given elsewhere (the app's box): an 'else' row is a second one,
        # and the message names where the first was set.
        ([("else", 1)], 0,
         r"^row 1: an 'else' row, but everyone else already gets creative 0 from the box; "
         r"remove the row \(and set its creative in the box\)\.$"),
        ([("segment == 2", 1)], 9,
         r"^the box: creative 9 is out of range \(the log has 5 creatives, 0 to 4\)\.$"),
        ([("segment == 2", 1)], np.float64(2.5), r"^the box: .*whole number; got 2\.5\.$"),
        ([("segment == 2", np.float64(1.5))], 0, r"^row 1: .*whole number; got 1\.5\.$"),
    ],
)  # fmt: skip
def test_a_default_given_apart_is_named_in_its_errors(rows, default, reason):
    with pytest.raises(ValueError, match=reason):
        rules_from_rows(rows, columns=COLUMNS, n_arms=N_ARMS, default=default,
                        default_name="the box")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("segment == 2", ("segment", "==", 2.0)),
        ("  context_age>=30 ", ("context_age", ">=", 30.0)),
        ("x_device != 1", ("x_device", "!=", 1.0)),
        ("x_device < -0.5", ("x_device", "<", -0.5)),
        # A one-hot column keeps its own '=': the column is matched lazily.
        ("user_feature_0=ab == 1", ("user_feature_0=ab", "==", 1.0)),
        ("user_feature_0=ab==1", ("user_feature_0=ab", "==", 1.0)),
    ],
)
def test_conditions_parse(text, parts):
    assert parse_condition(text) == parts


@pytest.mark.parametrize(
    ("kwargs", "error", "reason"),
    [
        (dict(column="a", op="=", value=1, arm=0), ValueError, "`op` must be one of"),
        (dict(column="", op="==", value=1, arm=0), ValueError, "`column` must be"),
        (dict(column="a", op="==", value=np.nan, arm=0), ValueError, "`value` must be finite"),
        (dict(column="a", op="==", value="1", arm=0), TypeError, "`value` must be a number"),
        (dict(column="a", op="==", value=1, arm=True), TypeError, "whole number"),
    ],
)
def test_rule_validates_itself(kwargs, error, reason):
    with pytest.raises(error, match=reason):
        Rule(**kwargs)


def test_policy_validates_columns_and_arms():
    rule = Rule(column="segment", op="==", value=1, arm=4)
    with pytest.raises(ValueError, match="unknown column 'segment'"):
        RulePolicy(rules=(rule,), default=0, columns=("x_0",), n_arms=5)
    with pytest.raises(ValueError, match="rule 1: creative 4 is out of range"):
        RulePolicy(rules=(rule,), default=0, columns=("segment",), n_arms=4)
    with pytest.raises(ValueError, match="the default: creative 9"):
        RulePolicy(rules=(rule,), default=9, columns=("segment",), n_arms=5)
    policy = RulePolicy(rules=(rule,), default=0, columns=("segment",), n_arms=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.default = 1
    same = RulePolicy(rules=(rule,), default=0, columns=("segment",), n_arms=5)
    assert policy == same and hash(policy) == hash(same)
    with pytest.raises(ValueError, match="for 5 creatives; the log has 6"):
        policy.reset(n_arms=6, n_features=1)
    with pytest.raises(ValueError, match="reads 1 context columns; the log has 2"):
        policy.reset(n_arms=5, n_features=2)


def test_the_first_matching_rule_wins():
    x = np.array(
        [
            # x_device, context_age, one-hot, segment
            [1.0, 40.0, 0.0, 2.0],  # both rules match: the first (segment) wins
            [1.0, 20.0, 0.0, 0.0],  # only the device rule
            [0.0, 50.0, 0.0, 2.0],  # only the segment rule
            [0.0, 20.0, 1.0, 1.0],  # none: default
        ]
    )
    first = parse_rules_csv(
        _csv("segment == 2,4", "x_device == 1,3", "else,1"), columns=COLUMNS, n_arms=N_ARMS
    )
    assert first.choose(x).tolist() == [4, 3, 4, 1]
    swapped = parse_rules_csv(
        _csv("x_device == 1,3", "segment == 2,4", "else,1"), columns=COLUMNS, n_arms=N_ARMS
    )
    assert swapped.choose(x).tolist() == [3, 3, 4, 1]
    # Blank rows of an editable table are skipped; the default may come separately.
    rows = [("context_age >= 40", 2), (None, np.nan), ("", "")]
    policy = rules_from_rows(rows, columns=COLUMNS, n_arms=N_ARMS, default=0)
    assert policy.choose(x).tolist() == [2, 0, 2, 0]
    assert policy.describe() == ["context_age >= 40 → creative 2", "everyone else → creative 0"]


def test_probabilities_are_one_hot_rows_that_sum_to_one(rng):
    policy = parse_rules_csv(
        _csv("segment == 2,4", "context_age < 30,2", "else,1"), columns=COLUMNS, n_arms=N_ARMS
    )
    x = np.column_stack(
        [
            rng.integers(0, 2, 500),
            rng.uniform(18, 70, 500),
            rng.integers(0, 2, 500),
            rng.integers(0, 4, 500),
        ]
    ).astype(float)
    probs = policy.action_probabilities(x, rng)
    assert probs.shape == (500, N_ARMS)
    np.testing.assert_array_equal(probs.sum(axis=1), np.ones(500))
    assert set(np.unique(probs)) == {0.0, 1.0}
    np.testing.assert_array_equal(probs.argmax(axis=1), policy.select(x, rng))
    # Rules do not learn: update leaves the choices as they were.
    policy.reset(n_arms=N_ARMS, n_features=len(COLUMNS))
    policy.update(x, np.zeros(500, dtype=int), np.ones(500))
    np.testing.assert_array_equal(policy.action_probabilities(x, rng), probs)
    with pytest.raises(ValueError, match="contexts"):
        policy.action_probabilities(x[:, :2], rng)


def test_append_segment_adds_a_named_last_column():
    context, names = append_segment(np.zeros((3, 2)), (), np.array([0, 2, 1]))
    assert names == ("x_0", "x_1", "segment")
    np.testing.assert_array_equal(context[:, -1], [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="already has a 'segment' column"):
        append_segment(context, names, np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="`segment` must have shape"):
        append_segment(np.zeros((3, 2)), (), np.array([0, 1]))
    # An OBD or plain CSV log has no segment: said so, not "got ()".
    with pytest.raises(ValueError, match=r"^`segment` is None: the log records no segment "):
        append_segment(np.zeros((3, 2)), (), None)


def _simulated_log(rng: np.random.Generator, n: int = 30_000) -> LoggedFeedback:
    """A uniform-random log over 4 creatives with the true click rates of every creative."""
    n_arms = 4
    segment = rng.integers(0, 3, n)
    x = rng.uniform(0, 1, (n, 1))
    # Segment 2 likes creative 3; high x likes creative 1; a base rate for the rest.
    q = np.full((n, n_arms), 0.04)
    q[:, 3] += 0.10 * (segment == 2)
    q[:, 1] += 0.08 * x[:, 0]
    action = rng.integers(0, n_arms, n)
    reward = (rng.random(n) < q[np.arange(n), action]).astype(float)
    context, names = append_segment(x, ("x_0",), segment)
    return LoggedFeedback(
        context=context,
        action=action,
        reward=reward,
        pscore=np.full(n, 1 / n_arms),
        n_arms=n_arms,
        segment=segment,
        expected_reward=q,
        feature_names=names,
    )


def test_a_rule_is_evaluated_like_any_policy_and_finds_its_true_value(rng):
    log = _simulated_log(rng)
    policy = parse_rules_csv(
        _csv("segment == 2,3", "x_0 >= 0.5,1", "else,0"),
        columns=log.feature_names,
        n_arms=log.n_arms,
    )
    report = evaluate_policy(
        log, policy, policy_name="rule", estimators=("ips", "snips", "dr"),
        train_fraction=0.0, rng=rng, n_bootstrap=300,
    )  # fmt: skip
    # The truth is exactly the mean true rate of the arm the rule picks on each row.
    arms = np.where(log.segment == 2, 3, np.where(log.context[:, 0] >= 0.5, 1, 0))
    truth = log.expected_reward[np.arange(log.n_rounds), arms].mean()
    assert report.truth == pytest.approx(truth, rel=1e-12)
    assert report.n_train == 0 and report.n_eval == log.n_rounds
    # The rule beats the uniform logging policy by about 0.04 (true values ~0.105 vs ~0.065).
    assert truth - log.expected_reward.mean() > 0.03
    for name, est, lo, hi in zip(
        report.estimators, report.estimate, report.low, report.high, strict=True
    ):
        assert lo <= est <= hi, name
        # Within 4 bootstrap standard errors (width / 3.92): a false failure has
        # probability ~6e-5 per estimator, yet a biased estimator (e.g. one that ignored
        # the weights, off by ~0.04 with s.e. ~0.003) fails.
        assert abs(est - truth) <= 4 * (hi - lo) / 3.92, (name, est, truth, lo, hi)
