"""Each interval is labelled with what it covers: DM's, the reward model's error too."""

from __future__ import annotations

import numpy as np
import pytest

import simulation.cli.ope as cli_ope
from simulation.cli.common import ArgumentParser
from simulation.ope.estimators import ESTIMATORS
from simulation.ope.evaluate import evaluate_policy
from simulation.ope.logs import BanditLogWriter, read_log
from tests.reference.ope_stubs import StubUniform


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    """A uniform log over 3 arms with ground truth q = (0.1, 0.3, 0.6)."""
    path = tmp_path_factory.mktemp("labels") / "log.parquet"
    rng, n = np.random.default_rng(0), 1_000
    q = np.tile([0.1, 0.3, 0.6], (n, 1))
    a = rng.integers(0, 3, size=n)
    click = (rng.random(n) < q[np.arange(n), a]).astype(int)
    with BanditLogWriter(path, n_features=2, n_arms=3) as writer:
        writer.write(
            impression=np.arange(n), seed=0, level="user", policy="uniform",
            segment=np.zeros(n, int), context=rng.normal(size=(n, 2)), action=a,
            pscore=np.full(n, 1 / 3), click=click, conversion=np.zeros(n, int),
            revenue=np.zeros(n), cost=np.zeros(n), reward=click.astype(float), expected_reward=q,
        )  # fmt: skip
    return path


def run(argv):
    parser = ArgumentParser(prog="test")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    cli_ope.register(sub)
    args = parser.parse_args(["ope", *argv])
    return args.handler(args)


def test_the_report_labels_each_interval_with_its_estimator_s_coverage(log_path):
    names = ("ips", "dm", "dr")
    report = evaluate_policy(
        read_log(log_path), StubUniform(), policy_name="uniform", estimators=names,
        train_fraction=0.0, rng=np.random.default_rng(0), n_bootstrap=20,
    )  # fmt: skip
    assert report.interval_covers == tuple(ESTIMATORS[n].interval_covers for n in names)
    labels = report.interval_labels()
    # Estimators that cover the same error share a line; DM's is its own.
    assert labels == [
        f"ips, dr: 95% bootstrap interval; covers {ESTIMATORS['ips'].interval_covers}",
        f"dm: 95% bootstrap interval; covers {ESTIMATORS['dm'].interval_covers}",
    ]
    assert "reward model's fitting error" in labels[1] and "model" not in labels[0]


def test_the_command_s_header_makes_no_claim_every_interval_shares(log_path, monkeypatch, capsys):
    monkeypatch.setattr(cli_ope, "_policy_registry", lambda: {"uniform": StubUniform})
    run(["--log", str(log_path), "--policy", "uniform", "--train-fraction", "0",
         "--estimators", "ips,dm", "--n-bootstrap", "20"])  # fmt: skip
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert "intervals: 20 bootstrap resamples of the evaluation rows" in header
    assert "95% bootstrap" not in header
    assert "interval of ips: 95% bootstrap interval; covers the sampling noise" in out
    assert "interval of dm: 95% bootstrap interval; covers" in out
    assert "not the bias of a model that does not fit the rewards" in out
