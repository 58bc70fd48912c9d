"""``ope --policy`` and ``evaluate_policy`` take policy specs, as ``run --policies`` does."""

import importlib

import numpy as np
import pandas as pd
import pytest

from simulation.ope.evaluate import evaluate_policy
from simulation.ope.logs import BanditLogWriter, LoggedFeedback, read_log
from simulation.policies import PolicySpec, make_policy
from simulation.policies.special import PerSegment

K, D, S = 3, 2, 3


def _write_log(path, n=3000, seed=0):
    """Uniform logging over 3 arms, 3 segments whose best arm differs, with ground truth."""
    rng = np.random.default_rng(seed)
    segment = rng.integers(0, S, size=n)
    x = rng.normal(size=(n, D))
    q = np.array([[0.1, 0.3, 0.6], [0.6, 0.2, 0.1], [0.2, 0.6, 0.3]])[segment]
    a = rng.integers(0, K, size=n)
    click = (rng.random(n) < q[np.arange(n), a]).astype(int)
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(
            impression=np.arange(n), seed=seed, level="user", policy="uniform",
            segment=segment, context=x, action=a, pscore=np.full(n, 1 / K),
            click=click, conversion=np.zeros(n, int), revenue=np.zeros(n), cost=np.zeros(n),
            reward=click.astype(float), expected_reward=q,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    return _write_log(tmp_path_factory.mktemp("spec") / "sim.parquet")


def _main(argv):
    return importlib.import_module("simulation.__main__").main(argv)


def _same(one, two):
    for field in ("estimate", "low", "high", "raw_estimate"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field), err_msg=field)
    assert one.truth == two.truth


OPTS = dict(estimators=("ips", "snips", "dm", "dr"), train_fraction=0.5, n_bootstrap=50)


@pytest.mark.parametrize(
    "text",
    ["epsilon_greedy(epsilon=0.05)", "thompson(prior_alpha=2, prior_beta=3)",
     "lin_ucb(alpha=0.3)", " ucb1( alpha=2 )"],
)  # fmt: skip
def test_a_spec_is_the_policy_built_directly(log_path, text):
    log = read_log(log_path)
    spec = PolicySpec.parse(text)
    from_text = evaluate_policy(log, text, rng=np.random.default_rng(3), **OPTS)
    direct = evaluate_policy(
        log, spec.policy_class(**dict(spec.params)), policy_name="direct",
        rng=np.random.default_rng(3), **OPTS,
    )  # fmt: skip
    _same(from_text, direct)
    assert from_text.policy == str(spec)  # canonical: "ucb1(alpha=2)", spaces gone


def test_a_segment_spec_routes_by_the_logs_segment_column(log_path):
    log = read_log(log_path)
    text = "segment:lin_ucb(alpha=0.3)"
    report = evaluate_policy(log, text, rng=np.random.default_rng(1), **OPTS)
    assert report.policy == text
    # The same copies on a context that starts with the one-hot segment code, which is
    # how PerSegment routes rows; only the estimators that read no reward model compare
    # (the reward model keeps the log's own context in the first evaluation).
    routed = LoggedFeedback(
        context=np.column_stack([np.eye(S)[log.segment], log.context]),
        action=log.action, reward=log.reward, pscore=log.pscore, n_arms=log.n_arms,
        expected_reward=log.expected_reward,
    )  # fmt: skip
    direct = evaluate_policy(
        routed, PerSegment(base="lin_ucb", n_segments=S, base_params={"alpha": 0.3}),
        policy_name="direct", estimators=("ips", "snips"), train_fraction=0.5, n_bootstrap=50,
        rng=np.random.default_rng(1),
    )  # fmt: skip
    np.testing.assert_array_equal(report.estimate[:2], direct.estimate)
    assert report.truth == direct.truth


def test_a_segment_spec_needs_a_segment_column(log_path):
    log = read_log(log_path)
    bare = LoggedFeedback(
        context=log.context, action=log.action, reward=log.reward, pscore=log.pscore,
        n_arms=log.n_arms,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"no `segment` column .* without 'segment:'"):
        evaluate_policy(bare, "segment:thompson", rng=np.random.default_rng(0), **OPTS)


@pytest.mark.parametrize(
    ("policy", "error", "match"),
    [
        ("oracle", ValueError, r"reads the true expected rewards"),
        ("epsilon_greedy(epsilon=2)", ValueError, r"epsilon_greedy takes epsilon \(a float in"),
        (make_policy("uniform"), TypeError, r"`policy_name` is required"),
    ],
)
def test_python_entry_point_refusals(log_path, policy, error, match):
    with pytest.raises(error, match=match):
        evaluate_policy(read_log(log_path), policy, rng=np.random.default_rng(0), **OPTS)


def test_cli_spec_names_the_policy_canonically_and_matches_python(log_path, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["ope", "--log", str(log_path), "--policy", "thompson(prior_alpha=2,prior_beta=3)",
            "--n-bootstrap", "50", "--seed", "4", "--out", str(out)]  # fmt: skip
    assert _main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("policy 'thompson(prior_alpha=2, prior_beta=3)' on ")
    assert "ground truth value of 'thompson(prior_alpha=2, prior_beta=3)'" in printed
    frame = pd.read_csv(out / "ope.csv")
    direct = evaluate_policy(
        read_log(log_path), make_policy("thompson(prior_alpha=2, prior_beta=3)"),
        policy_name="x", rng=np.random.default_rng(4), n_bootstrap=50, train_fraction=0.5,
        estimators=tuple(frame["estimator"]),
    )  # fmt: skip
    np.testing.assert_allclose(frame["estimate"], direct.estimate, rtol=1e-12)
    np.testing.assert_allclose(frame["ci_high"], direct.high, rtol=1e-12)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("epsilon_greedy(epsilon=2)",
         "error: epsilon must be a float in [0.0, 1.0]; got 2 in 'epsilon_greedy(epsilon=2)'; "
         "epsilon_greedy takes epsilon (a float in [0, 1])."),
        ("epsilon_greedy(epsilon=x)", "error: epsilon must be a literal (int, float, bool or "),
        ("ucb1(alpha=1, alpha=2)", "error: params has duplicate keys: ['alpha', 'alpha']."),
        ("lin_ucb(alpha=1, gamma=3)",
         "error: unknown hyperparameter(s) ['gamma'] of 'lin_ucb'; lin_ucb takes alpha "),
        ("thompson(prior_alpha=2", "error: policy spec must look like"),
        ("oracle(x=1)", "error: policy 'oracle' reads the true expected rewards"),
        ("per_segment(base='ucb1')", "error: policy 'per_segment' wraps other policies"),
        ("thomson(prior_alpha=2)", "error: unknown policy 'thomson' (did you mean 'thompson'?)"),
    ],
)  # fmt: skip
def test_a_bad_spec_exits_2_with_one_line_and_writes_nothing(log_path, tmp_path, capsys, spec,
                                                            match):  # fmt: skip
    out = tmp_path / "out"
    code = _main(["ope", "--log", str(log_path), "--policy", spec, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.startswith(match) and captured.err.count("\n") == 1
    # Plain text on a terminal: the library's markdown backticks are not printed.
    assert "`" not in captured.err
    assert not out.exists()


def test_a_bad_spec_is_refused_before_the_log_is_read(tmp_path, capsys):
    # The log does not exist: the spec's error comes first, so nothing is read.
    code = _main(["ope", "--log", str(tmp_path / "none.parquet"), "--policy", "ucb1(alpha=-1)"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: alpha must be a float in")
