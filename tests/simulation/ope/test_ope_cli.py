import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulation.cli.ope as cli_ope
from simulation.cli.common import ArgumentParser, UsageError
from simulation.ope.estimators import DM_INTERVAL_NOTE
from simulation.ope.logs import BanditLogWriter
from tests.reference.ope_stubs import StubGreedy, StubUniform

OBD = Path(
    os.environ.get("ADLAB_OBD_DIR") or Path(__file__).resolve().parents[4] / "shared/data/obd"
)


# --- stub policies with the policy contract ----------------------------------------


@dataclass
class StubBroken:
    def reset(self, n_arms, n_features=0):
        self.n_arms_ = n_arms

    def update(self, contexts, arms, rewards):
        pass

    def action_probabilities(self, contexts, rng):
        return np.full((len(contexts), self.n_arms_), 0.5)


class StubOracle(StubUniform):
    uses_ground_truth = True


@dataclass
class StubLast(StubUniform):
    """Always the last arm."""

    def action_probabilities(self, contexts, rng):
        probs = np.zeros((len(contexts), self.n_arms_))
        probs[:, -1] = 1.0
        return probs


STUBS = {
    "uniform": StubUniform, "greedy": StubGreedy, "broken": StubBroken, "oracle": StubOracle,
    "last": StubLast,
}  # fmt: skip


@pytest.fixture(autouse=True)
def stub_registry(monkeypatch):
    monkeypatch.setattr(cli_ope, "_policy_registry", lambda: STUBS)


def run(argv):
    parser = ArgumentParser(prog="test")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    cli_ope.register(sub)
    args = parser.parse_args(["ope", *argv])
    return args.handler(args)


# --- a simulated log with ground truth ---------------------------------------------

K, D = 3, 2


def write_simulated_log(path, n=4000, seed=0):
    """Uniform logging on a problem where arm 2 is best: q_true = (0.1, 0.3, 0.6)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, D))
    q = np.tile([0.1, 0.3, 0.6], (n, 1))
    a = rng.integers(0, K, size=n)
    click = (rng.random(n) < q[np.arange(n), a]).astype(int)
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(
            impression=np.arange(n), seed=seed, level="user", policy="uniform",
            segment=np.zeros(n, int), context=x, action=a, pscore=np.full(n, 1 / K),
            click=click, conversion=np.zeros(n, int), revenue=np.zeros(n), cost=np.zeros(n),
            reward=click.astype(float), expected_reward=q,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory):
    return write_simulated_log(tmp_path_factory.mktemp("logs") / "sim.parquet")


def test_simulated_log_prints_truth_and_errors(sim_log, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["--log", str(sim_log), "--policy", "greedy", "--out", str(out),
                "--n-bootstrap", "200"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "ground truth value of 'greedy'" in printed and "error" in printed
    assert DM_INTERVAL_NOTE in printed  # DM is among the defaults: what its interval leaves out
    frame = pd.read_csv(out / "ope.csv")
    assert list(frame["estimator"]) == ["ips", "snips", "dm", "dr"]
    # The greedy stub finds arm 2: truth = 0.9 * 0.6 + 0.1 * mean(q) = 0.5633...
    assert frame["truth"].iloc[0] == pytest.approx(0.9 * 0.6 + 0.1 / 3, abs=1e-9)
    # 2000 evaluation rows: IPS, SNIPS and DR within 4 bootstrap standard errors of
    # the truth (the half-width of a 95% interval is ~2 se). DM's own error is checked
    # against its standard error: q of the best arm comes from ~667 evaluation rows
    # (se sqrt(0.6 * 0.4 / 667) ~ 0.019): a 4-se bound.
    weighted = frame[frame["estimator"] != "dm"]
    half = (weighted["ci_high"] - weighted["ci_low"]) / 2
    assert (weighted["error"].abs() < 2 * half).all()
    assert frame.loc[frame["estimator"] == "dm", "error"].abs().iloc[0] < 4 * 0.019


def test_uniform_on_uniform_log_matches_on_policy_mean(sim_log, capsys):
    run(["--log", str(sim_log), "--policy", "uniform", "--estimators", "ips",
         "--train-fraction", "0", "--n-bootstrap", "50"])  # fmt: skip
    printed = capsys.readouterr().out
    assert "trained on 0 rows, evaluated on 4000 rows" in printed
    assert DM_INTERVAL_NOTE not in printed  # no DM, nothing to warn of


def test_same_seed_same_output(sim_log, tmp_path):
    for name in ("a", "b"):
        run(["--log", str(sim_log), "--policy", "greedy", "--estimators", "ips,switch_dr,sndr",
             "--out", str(tmp_path / name), "--n-bootstrap", "100", "--seed", "3"])  # fmt: skip
    a, b = (pd.read_csv(tmp_path / n / "ope.csv") for n in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)


def test_user_csv_without_truth(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 600
    pd.DataFrame(
        {
            "action": rng.integers(0, 2, size=n),
            "reward": rng.integers(0, 2, size=n),
            "propensity": 0.5,
            "context_age": rng.normal(size=n),
        }
    ).to_csv(tmp_path / "mine.csv", index=False)
    run(["--log", str(tmp_path / "mine.csv"), "--policy", "greedy", "--n-bootstrap", "50"])
    printed = capsys.readouterr().out
    assert "ground truth" not in printed and "dr" in printed


@pytest.mark.usefixtures("obd_dir")  # skips without the sample, fails in CI
def test_obd_log(capsys):
    run(["--log", str(OBD / "random/men/men.csv"), "--policy", "greedy", "--estimators",
         "ips,snips", "--n-bootstrap", "50"])  # fmt: skip
    assert "evaluated on 5000 rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--policy", "uniform"], r"required: --log"),
        (["--log", "missing.parquet", "--policy", "uniform"], r"no log file at 'missing.parquet'"),
        (["--log", "{sim}", "--policy", "nope"], r"unknown policy 'nope'; choose from"),
        (["--log", "{sim}", "--policy", "gredy"],
         r"unknown policy 'gredy' \(did you mean 'greedy'\?\); choose from"),
        (["--log", "{sim}", "--policy", "uniform", "--estimators", "ipss"],
         r"unknown estimator 'ipss' \(did you mean 'ips'\?\)"),
        (["--log", "{sim}", "--policy", "oracle"], r"reads the true expected rewards"),
        (["--log", "{sim}", "--policy", "uniform", "--estimators", "ips,magic"],
         r"unknown estimator 'magic'"),
        (["--log", "{sim}", "--policy", "uniform", "--estimators", ","], r"at least one"),
        (["--log", "{sim}", "--policy", "uniform", "--train-fraction", "1"],
         r"expected a number in \[0, 1\)"),
        (["--log", "{sim}", "--policy", "uniform", "--train-fraction", "x"],
         r"expected a number in \[0, 1\)"),
        (["--log", "{sim}", "--policy", "uniform", "--format", "xml"], r"invalid choice"),
        (["--log", "{sim}", "--policy", "uniform", "--n-bootstrap", "1"],
         r"--n-bootstrap: expected an integer from 2 to 100,000; got '1'"),
        (["--log", "missing.parquet", "--policy", "uniform", "--n-bootstrap", "1"],
         r"--n-bootstrap: expected an integer from 2"),  # before the log is read
        (["--log", "{sim}", "--policy", "broken"], r"policy 'broken' gave bad action prob"),
        (["--log", "{sim}", "--policy", "uniform", "--switch-threshold", "-1"],
         r"--switch-threshold: expected a number >= 0 \(or inf\); got '-1'"),
        (["--log", "{sim}", "--policy", "uniform", "--switch-threshold", "nan"],
         r"--switch-threshold: expected a number >= 0"),
        (["--log", "{sim}", "--policy", "uniform", "--switch-threshold", "x"],
         r"--switch-threshold: expected a number >= 0"),
        (["--log", "{sim}", "--policy", "uniform", "--level", "segment"],
         r"sim.parquet has no rows of level 'segment'; it holds levels: user$"),
        (["--log", "{sim}", "--policy", "uniform", "--logging-policy", "x"],
         r"has no rows of logging policy 'x'; it holds logging policies: uniform$"),
        (["--log", "{sim}", "--policy", "uniform", "--format", "csv", "--level", "user"],
         r"apply to adlab logs only"),
        (["--log", "{sim}", "--policy", "uniform", "--out", "{file}"], r"--out must be a dir"),
        (["--log", "{sim}", "--policy", "uniform", "--out", "{file}/sub"],
         r"cannot write to '.*a_file/sub': Not a directory$"),
        (["--log", "{sim}", "--policy", "uniform", "--reward-range", "1,0"],
         r"--reward-range: expected LOW,HIGH, two finite numbers with LOW < HIGH; got '1,0'"),
        (["--log", "{sim}", "--policy", "uniform", "--reward-range", "0,1,2"],
         r"--reward-range: expected LOW,HIGH"),
        (["--log", "{sim}", "--policy", "uniform", "--reward-range", "0,inf"],
         r"--reward-range: expected LOW,HIGH"),
        (["--log", "missing.parquet", "--policy", "uniform", "--reward-range", "x"],
         r"--reward-range: expected LOW,HIGH"),  # before the log is read
        (["--log", "{sim}", "--policy", "uniform", "--reward-range", "0,0.5"],
         r"the reward range \[0, 0.5\] leaves out rewards the log holds"),
        (["--log", "{bad_csv}", "--policy", "uniform"], r"row 2: propensity must be in"),
        (["--log", "{no_col}", "--policy", "uniform"], r"propensity column is missing"),
        (["--log", "{sim}", "--policy", "uniform", "--seed", "-1"],
         r"argument --seed: must be an int in \[0, 2\*\*63\); got -1"),
        (["--log", "missing.parquet", "--policy", "uniform", "--seed", "x"],
         r"argument --seed: must be an int"),  # before the log is read
        (["--log", "{ragged}", "--policy", "uniform"],
         r"Expected 3 fields in line 3, saw 4$"),  # pandas' trailing line break stripped
        (["--log", "{sim}", "--policy", "uniform", "--format", "obd"],
         r"no Open Bandit Dataset log"),
    ],
)  # fmt: skip
def test_bad_input_is_a_usage_error_and_writes_nothing(sim_log, tmp_path, argv, match):
    file = tmp_path / "a_file"
    file.write_text("x")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("action,reward,propensity\n0,1,0.5\n1,0,0\n")
    no_col = tmp_path / "no_col.csv"
    no_col.write_text("action,reward\n0,1\n")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("action,reward,propensity\n0,1,0.5\n1,0,0.5,9\n")
    out = tmp_path / "out"
    names = dict(sim=sim_log, file=file, bad_csv=bad_csv, no_col=no_col, ragged=ragged)
    argv = [arg.format(**names) for arg in argv]
    if "--out" not in argv:
        argv += ["--out", str(out)]
    with pytest.raises(UsageError, match=match) as caught:
        run(argv)
    # Plain text on the terminal: the library's markdown backticks never reach it.
    assert "`" not in str(caught.value)
    assert not out.exists()


def test_a_log_whose_actions_do_not_count_from_0_exits_2_with_one_line(tmp_path, capsys):
    import importlib

    main_module = importlib.import_module("simulation.__main__")
    rng = np.random.default_rng(0)
    path = tmp_path / "ids.csv"
    pd.DataFrame(
        {"action": rng.integers(100, 104, 500), "reward": rng.integers(0, 2, 500),
         "propensity": 0.25}
    ).to_csv(path, index=False)  # fmt: skip
    out = tmp_path / "out"
    code = main_module.main(["ope", "--log", str(path), "--policy", "uniform", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        "error: action must number the ads from 0 (0 to K-1, as policies and rule tables "
        "choose them); found 4 ads numbered 100 to 103: renumber them from 0 (subtract 100)."
    )
    assert not out.exists()


def test_unwritable_out_dir(sim_log, tmp_path):
    # A file where a parent folder should be: mkdir fails even for root.
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        run(["--log", str(sim_log), "--policy", "uniform", "--out",
             str(tmp_path / "a_file" / "sub"), "--n-bootstrap", "20"])  # fmt: skip


@pytest.mark.parametrize("fails", ["name too long", "stopped while writing"])
def test_an_out_dir_not_written_leaves_no_folder_it_made(sim_log, tmp_path, monkeypatch, fails):
    (tmp_path / "notes.txt").write_text("the user's own")
    argv = ["--log", str(sim_log), "--policy", "uniform", "--n-bootstrap", "20"]
    if fails == "name too long":  # its parents are made, then the last name is refused
        with pytest.raises(UsageError, match="cannot write"):
            run([*argv, "--out", str(tmp_path / "a" / "b" / ("n" * 256))])
    else:

        def stop(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(pd.DataFrame, "to_csv", stop)
        with pytest.raises(KeyboardInterrupt):
            run([*argv, "--out", str(tmp_path / "a" / "b")])
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_missing_policy_registry_is_a_usage_error(monkeypatch, sim_log):
    monkeypatch.undo()  # the real _policy_registry
    import builtins

    real_import = builtins.__import__

    def no_policies(name, *args, **kwargs):
        if name == "simulation.policies":
            raise ImportError("not yet")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_policies)
    with pytest.raises(UsageError, match="policy registry is not available"):
        run(["--log", str(sim_log), "--policy", "uniform"])


def test_mixed_levels_need_level(tmp_path, capsys):
    path = tmp_path / "two_levels.parquet"
    rng = np.random.default_rng(2)
    with BanditLogWriter(path, n_features=1, n_arms=3) as writer:
        for level, k in (("segment", 2), ("user", 3)):
            n = 300
            q = np.full((n, 3), np.nan)
            q[:, :k] = 0.5
            click = rng.integers(0, 2, size=n)  # a CTR log: the reward is the click
            writer.write(
                impression=np.arange(n), seed=0, level=level, policy="uniform",
                segment=np.zeros(n, int), context=rng.normal(size=(n, 1)),
                action=rng.integers(0, k, size=n), pscore=np.full(n, 1 / k),
                click=click, conversion=np.zeros(n, int), revenue=np.zeros(n),
                cost=np.zeros(n), reward=click.astype(float), expected_reward=q,
            )  # fmt: skip
    with pytest.raises(UsageError, match=r"mixes the targeting levels \['segment', 'user'\]"):
        run(["--log", str(path), "--policy", "uniform"])
    run(["--log", str(path), "--policy", "uniform", "--level", "segment", "--n-bootstrap", "20"])
    printed = capsys.readouterr().out
    assert "ground truth value of 'uniform' on the evaluation rows: 0.5" in printed


def test_main_entry_point(sim_log, capsys):
    import importlib

    main_module = importlib.import_module("simulation.__main__")
    if "simulation.cli.ope" not in main_module.COMMAND_MODULES:
        pytest.skip("ope is not registered in simulation.__main__ yet")
    try:
        main_module.build_parser()
    except ImportError as exc:
        pytest.skip(f"another command module is not importable yet: {exc}")
    code = main_module.main(["ope", "--log", "nowhere.parquet", "--policy", "uniform"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: no log file")


def test_real_policies_on_a_simulated_log(sim_log, tmp_path, monkeypatch):
    # Every registered learner must work through the CLI once the registry exists.
    try:
        from simulation.policies import POLICIES
    except ImportError:
        pytest.skip("simulation.policies is not available yet")
    names = [name for name, cls in POLICIES.items() if not getattr(cls, "uses_ground_truth", 0)]
    names = [name for name in names if name != "per_segment"]  # needs one-hot segment columns
    monkeypatch.setattr(cli_ope, "_policy_registry", lambda: POLICIES)
    for name in names:
        assert run(["--log", str(sim_log), "--policy", name, "--estimators", "ips,snips",
                    "--n-bootstrap", "20", "--out", str(tmp_path / name)]) == 0  # fmt: skip
        frame = pd.read_csv(tmp_path / name / "ope.csv")
        assert np.isfinite(frame["estimate"]).all(), name


def test_an_unknown_policy_is_offered_only_what_a_log_can_evaluate(sim_log, monkeypatch):
    from simulation.policies import POLICIES

    monkeypatch.setattr(cli_ope, "_policy_registry", lambda: POLICIES)
    with pytest.raises(UsageError) as caught:
        run(["--log", str(sim_log), "--policy", "thomson"])
    err = str(caught.value)
    assert "(did you mean 'thompson'?)" in err
    assert "'oracle'" not in err and "'per_segment'" not in err and "'lin_ucb'" in err


def test_a_registered_policy_not_offered_is_refused_with_the_list(sim_log, monkeypatch, tmp_path):
    # per_segment wraps other policies: it read OBD's one-hot columns as segment codes.
    from simulation.policies import POLICIES

    monkeypatch.setattr(cli_ope, "_policy_registry", lambda: POLICIES)
    out = tmp_path / "out"
    with pytest.raises(UsageError) as caught:
        run(["--log", str(sim_log), "--policy", "per_segment", "--out", str(out)])
    err = str(caught.value)
    assert err.startswith("policy 'per_segment' wraps other policies") and "\n" not in err
    assert (
        "choose from [" in err
        and "'lin_ucb'" in err
        and "'per_segment'" not in err.split("choose from")[1]
    )
    assert not out.exists()


def test_reward_model_never_sees_the_training_rows():
    # Training rows all pay 1, evaluation rows pay ~0.1: a q fit on the training
    # rows would drag DM toward 0.55; fit on the evaluation rows it stays near 0.1.
    from simulation.ope.evaluate import split_rows
    from simulation.ope.logs import LoggedFeedback

    rng = np.random.default_rng(4)
    n = 2000
    train_rows, _ = split_rows(n, n // 2)
    reward = (rng.random(n) < 0.1).astype(float)
    reward[train_rows] = 1.0
    log = LoggedFeedback(
        context=rng.normal(size=(n, 2)), action=rng.integers(0, 2, size=n), reward=reward,
        pscore=np.full(n, 0.5), n_arms=2,
    )  # fmt: skip
    report = cli_ope.evaluate_policy(
        log, StubUniform(), policy_name="uniform", estimators=("dm",), train_fraction=0.5,
        rng=np.random.default_rng(0), n_bootstrap=20,
    )  # fmt: skip
    assert report.n_train == 1000 and abs(report.estimate[0] - 0.1) < 0.05


@pytest.mark.slow
def test_engine_log_end_to_end(tmp_path, monkeypatch, capsys):
    # The engine writes the log through BanditLogWriter; the ope command reads it.
    try:
        from simulation.config import ExperimentConfig
        from simulation.engine.core import run_experiment
        from simulation.policies import POLICIES
    except ImportError as exc:
        pytest.skip(f"the engine is not available yet: {exc}")
    from simulation.ope.logs import read_log

    config = ExperimentConfig(
        n_users=2000, n_impressions=6000, n_seeds=1, levels=("user",),
        policies=("uniform", "epsilon_greedy"), n_checkpoints=5,
    )  # fmt: skip
    path = tmp_path / "log.parquet"
    run_experiment(config, log_path=path)
    log = read_log(path, policy="uniform")
    assert log.n_rounds == 6000 and log.expected_reward is not None
    monkeypatch.setattr(cli_ope, "_policy_registry", lambda: POLICIES)
    out = tmp_path / "out"
    run(["--log", str(path), "--logging-policy", "uniform", "--policy", "uniform",
         "--train-fraction", "0", "--n-bootstrap", "100", "--out", str(out)])  # fmt: skip
    frame = pd.read_csv(out / "ope.csv").set_index("estimator")
    # Evaluating the logging policy itself: every weight is 1, IPS is the mean reward.
    assert frame.loc["ips", "estimate"] == pytest.approx(log.reward.mean())
    assert "ground truth value of 'uniform'" in capsys.readouterr().out


def _log_without_the_last_arm(path, n=1000):
    """A uniform log over arms 0 and 1 of 3: arm 2 was never shown."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2, size=n)
    click = rng.integers(0, 2, size=n)
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(
            impression=np.arange(n), seed=0, level="user", policy="uniform",
            segment=np.zeros(n, int), context=rng.normal(size=(n, D)), action=a,
            pscore=np.full(n, 0.5), click=click, conversion=np.zeros(n, int),
            revenue=np.zeros(n), cost=np.zeros(n), reward=click.astype(float),
            expected_reward=np.full((n, K), 0.5),
        )  # fmt: skip
    return path


def test_a_policy_the_log_cannot_show_is_refused_not_estimated_zero(tmp_path):
    log = _log_without_the_last_arm(tmp_path / "two_of_three.parquet")
    out = tmp_path / "out"
    with pytest.raises(UsageError, match=r"policy 'last' is not supported by the log") as caught:
        run(["--log", str(log), "--policy", "last", "--n-bootstrap", "20", "--out", str(out)])
    assert "never show: 2)" in str(caught.value) and "\n" not in str(caught.value)
    assert not out.exists()


def test_the_cli_prints_the_support_and_warns_on_partial_overlap(tmp_path, sim_log, capsys):
    run(["--log", str(sim_log), "--policy", "uniform", "--n-bootstrap", "20"])
    printed = capsys.readouterr().out
    assert "support: effective sample size 2,000 of 2,000 evaluation rows" in printed
    assert "clipped to [0, 1], the range the value can take (0/1 rewards)" in printed
    assert "warning:" not in printed
    # Uniform over 3 arms on a log of arms 0 and 1: a third of its choices are unseen.
    log = _log_without_the_last_arm(tmp_path / "two_of_three.parquet")
    run(["--log", str(log), "--policy", "uniform", "--n-bootstrap", "20"])
    printed = capsys.readouterr().out
    assert (
        "warning: The log supports only about 67% of this policy's choices, and not the other 33%: "
    ) in printed
    assert "33% of its choices on ads no evaluation row shows (2). On that 33% the log" in printed


def _skewed_log(path, n=3000):
    """A log over 3 arms whose logger showed arm 2 rarely (pscore 0.02): weights up to 50."""
    rng = np.random.default_rng(11)
    probs = np.array([0.49, 0.49, 0.02])
    a = rng.choice(K, size=n, p=probs)
    q = np.tile([0.1, 0.3, 0.6], (n, 1))
    click = (rng.random(n) < q[np.arange(n), a]).astype(int)
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(
            impression=np.arange(n), seed=0, level="user", policy="skewed",
            segment=np.zeros(n, int), context=rng.normal(size=(n, D)), action=a,
            pscore=probs[a], click=click, conversion=np.zeros(n, int), revenue=np.zeros(n),
            cost=np.zeros(n), reward=click.astype(float), expected_reward=q,
        )  # fmt: skip
    return path


def test_switch_dr_drops_the_correction_above_the_threshold(tmp_path, capsys):
    log = _skewed_log(tmp_path / "skewed.parquet")
    frames = {}
    for tau in (None, "inf", "0"):
        out = tmp_path / f"out-{tau}"
        argv = ["--log", str(log), "--policy", "uniform", "--estimators", "dm,dr,switch_dr",
                "--n-bootstrap", "20", "--out", str(out)]  # fmt: skip
        run(argv + ([] if tau is None else ["--switch-threshold", tau]))
        frames[tau] = pd.read_csv(out / "ope.csv").set_index("estimator")["estimate"]
    printed = capsys.readouterr().out
    assert "above 3 (the number of ads)" in printed
    # Default tau = 3 arms: uniform's weight on arm 2 is (1/3) / 0.02 = 16.7 > 3, so those
    # rows lose their correction and switch_dr leaves dr; inf is dr, 0 is dm.
    assert frames[None]["switch_dr"] != pytest.approx(frames[None]["dr"], abs=1e-9)
    assert frames["inf"]["switch_dr"] == pytest.approx(frames["inf"]["dr"], abs=1e-12)
    assert frames["0"]["switch_dr"] == pytest.approx(frames["0"]["dm"], abs=1e-12)


# --- propensities the log contradicts; estimates inside their intervals ------------------


def _audit_csvs(folder):
    """The audit's two CSV logs, 400 rows each, built from docs/ope.md's log format."""
    rng = np.random.default_rng(1)
    n = 400
    action = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 5, n))
    click = (rng.random(n) < np.where(action == 0, 0.9, 0.1)).astype(int)
    five = folder / "ips.csv"
    pd.DataFrame(
        {"action": action, "reward": click, "propensity": 0.2, "x_0": rng.normal(size=n)}
    ).to_csv(five, index=False)
    one = folder / "one.csv"
    pd.DataFrame({"action": 0, "reward": np.ones(n, int), "propensity": 0.5}).to_csv(
        one, index=False
    )
    return five, one


ALL_ESTIMATORS = "ips,snips,dm,dr,switch_dr,sndr"


@pytest.mark.parametrize("which", [0, 1], ids=["arm_0_half_the_time", "one_arm"])
def test_the_audits_logs_warn_and_never_print_an_estimate_outside_its_interval(
    which, tmp_path, capsys
):
    log = _audit_csvs(tmp_path)[which]
    out = tmp_path / "out"
    run(["--log", str(log), "--policy", "greedy", "--estimators", ALL_ESTIMATORS,
         "--n-bootstrap", "200", "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert printed.count("warning: The logged propensities cannot be right: ad 0 is on") == 1
    frame = pd.read_csv(out / "ope.csv")
    assert list(frame["estimator"]) == ALL_ESTIMATORS.split(",")
    assert (frame["ci_low"] <= frame["estimate"]).all()
    assert (frame["estimate"] <= frame["ci_high"]).all()
    assert frame["estimate"].between(0, 1).all()
    # IPS left the range (2.1 and 1.9 unclipped): clipped, flagged, and its value named.
    ips = frame.set_index("estimator").loc["ips"]
    assert ips["clipped"] and ips["estimate"] == 1.0
    assert "note: ips clipped to 1: the unclipped estimate was " in printed
    # The table prints no point interval ("1 1") for it, only dashes; the CSV keeps numbers.
    (row,) = [line.split() for line in printed.splitlines() if line.split()[:1] == ["ips"]]
    assert row[1:5] == ["1", "—", "—", "True"], row
    assert (ips["ci_low"], ips["ci_high"]) == (1.0, 1.0)
    assert "estimates too" in printed.splitlines()[0]  # the header says the clip covers them


@pytest.mark.slow
def test_a_right_log_from_the_engine_does_not_warn_of_propensities(tmp_path, capsys):
    # A log `simulation run --log` wrote, from logging policies with every kind of
    # propensity (uniform 0.2, epsilon-greedy's 0.02 and 0.92, Thompson sampling's
    # estimated ones), one seed: a right log trips the rule about n_arms times in a million.
    from simulation.__main__ import main

    out = tmp_path / "sim"
    assert main(["run", "--preset", "quick", "--policies", "uniform,epsilon_greedy,thompson",
                 "--levels", "segment", "--impressions", "3000", "--seeds", "1", "--seed", "3",
                 "--log", "--out", str(out), "--store", str(tmp_path / "store"),
                 "--no-progress"]) == 0  # fmt: skip
    capsys.readouterr()
    for logger in (None, "uniform", "epsilon_greedy", "thompson"):
        chosen = [] if logger is None else ["--logging-policy", logger]
        run(["--log", str(out / "logs.parquet"), "--level", "segment", "--policy", "greedy",
             "--n-bootstrap", "20", *chosen])  # fmt: skip
        printed = capsys.readouterr().out
        assert "support: effective sample size" in printed  # the diagnostics ran
        assert "propensities cannot be right" not in printed, logger


def test_an_unwritable_out_is_refused_before_any_work(sim_log, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")

    def never(*args, **kwargs):
        raise AssertionError("the log was read before --out was checked")

    monkeypatch.setattr(cli_ope, "load_any_log", never)
    with pytest.raises(UsageError, match=r"cannot write to .*a_file/out"):
        run(["--log", str(sim_log), "--policy", "uniform", "--out", str(blocker / "out")])
    assert capsys.readouterr().out == ""
    # A writable --out is probed and left as it was: no folder, no probe file.
    out = tmp_path / "new" / "out"
    with pytest.raises(AssertionError, match="the log was read"):
        run(["--log", str(sim_log), "--policy", "uniform", "--out", str(out)])
    assert not (tmp_path / "new").exists()


def test_a_declared_reward_range_is_used_and_an_observed_one_warned_of(tmp_path, capsys):
    # Net values with no declared range (a log written without it), never 0/1.
    rng = np.random.default_rng(5)
    n = 600
    cost = rng.uniform(0.001, 0.01, n)
    revenue = np.where(rng.random(n) < 0.05, 40.0, 0.0)
    path = tmp_path / "roas.parquet"
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(
            impression=np.arange(n), seed=0, level="user", policy="uniform",
            segment=np.zeros(n, int), context=rng.normal(size=(n, D)),
            action=rng.integers(0, K, n), pscore=np.full(n, 1 / K),
            click=np.ones(n, int), conversion=(revenue > 0).astype(int), revenue=revenue,
            cost=cost, reward=revenue - cost, expected_reward=np.full((n, K), 2.0),
        )  # fmt: skip
    run(["--log", str(path), "--policy", "uniform", "--n-bootstrap", "20"])
    printed = capsys.readouterr().out
    assert "(the observed rewards: the log declares no range)" in printed
    assert "warning: The log does not say what range its rewards can take" in printed
    assert "--reward-range LOW,HIGH" in printed
    run(["--log", str(path), "--policy", "uniform", "--n-bootstrap", "20",
         "--reward-range=-0.01,500"])  # fmt: skip
    printed = capsys.readouterr().out
    assert "clipped to [-0.01, 500], the range the value can take (as declared" in printed
    assert "does not say what range" not in printed
