import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.ope.obd import (
    context_free_action_dist,
    estimate_logging_policy,
    load_obd,
    obd_dir,
    read_obd,
)
from simulation.ope.reward_model import fit_reward_model

# The shared sample lives beside the repository, found from this file, never the cwd.
OBD = Path(
    os.environ.get("ADLAB_OBD_DIR") or Path(__file__).resolve().parents[4] / "shared/data/obd"
)
# Skips where the sample is missing, fails in CI (the `obd_dir` fixture of tests/conftest.py).
needs_obd = pytest.mark.usefixtures("obd_dir")
ITEMS = {"all": 80, "men": 34, "women": 46}
CTR = {  # from the sample's README
    ("random", "all"): 0.0038,
    ("random", "men"): 0.0046,
    ("random", "women"): 0.0046,
    ("bts", "all"): 0.0042,
    ("bts", "men"): 0.0069,
    ("bts", "women"): 0.0046,
}


def test_obd_dir_default_and_env(monkeypatch):
    monkeypatch.delenv("ADLAB_OBD_DIR", raising=False)
    repo = Path(__file__).resolve().parents[3]
    assert obd_dir().resolve() == (repo / ".." / "shared" / "data" / "obd").resolve()
    monkeypatch.setenv("ADLAB_OBD_DIR", "/somewhere/else")
    assert obd_dir() == Path("/somewhere/else")


@needs_obd
@pytest.mark.parametrize(("policy", "campaign"), sorted(CTR))
def test_reader_on_shared_sample(policy, campaign):
    log = load_obd(policy, campaign, data_dir=OBD)
    assert log.n_rounds == 10_000 and log.n_arms == ITEMS[campaign]
    assert log.reward.mean() == pytest.approx(CTR[policy, campaign])
    assert set(np.unique(log.position)) == {1, 2, 3}
    assert log.action_context.shape[0] == ITEMS[campaign]
    assert log.expected_reward is None
    assert log.metadata["policy"] == policy and log.metadata["campaign"] == campaign
    # Four one-hot user features, then one affinity per item.
    n_affinity = sum(name.startswith("user-item_affinity_") for name in log.feature_names)
    assert n_affinity == ITEMS[campaign]
    assert log.n_features == len(log.feature_names)
    onehot = log.context[:, : log.n_features - n_affinity]
    assert np.array_equal(onehot.sum(axis=1), np.full(log.n_rounds, 4.0))
    if policy == "random":
        assert np.allclose(log.pscore, 1 / ITEMS[campaign])


@needs_obd
def test_position_filter_and_folder_path():
    folder = OBD / "random" / "men"
    log = read_obd(folder, position=2, affinity=False)
    assert set(log.position) == {2} and 3000 < log.n_rounds < 3700
    assert not any(name.startswith("user-item") for name in log.feature_names)
    with pytest.raises(ValueError, match=r"`position` must be one of \[1, 2, 3\]; got 4"):
        read_obd(folder, position=4)


def test_reader_errors(tmp_path):
    with pytest.raises(ValueError, match="no Open Bandit Dataset log"):
        read_obd(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"item_id": [0], "position": [1], "click": [0]}).to_csv(bad)
    with pytest.raises(ValueError, match="`propensity_score` column is missing"):
        read_obd(bad)
    with pytest.raises(ValueError, match="`behavior_policy` must be one of"):
        load_obd("greedy", data_dir=tmp_path)
    with pytest.raises(ValueError, match="`campaign` must be one of"):
        load_obd("random", "kids", data_dir=tmp_path)


def test_reader_without_item_context(tmp_path):
    frame = pd.DataFrame(
        {
            "item_id": [0, 2, 1],
            "position": [1, 2, 3],
            "click": [0, 1, 0],
            "propensity_score": [1 / 3] * 3,
            "user_feature_0": ["a", "b", "a"],
        }
    )
    frame.to_csv(tmp_path / "tiny.csv")
    log = read_obd(tmp_path / "tiny.csv")
    assert log.n_arms == 3 and log.action_context is None
    assert log.feature_names == ("user_feature_0=a", "user_feature_0=b")
    # Without item_context.csv nothing declares the items: ids must count from 0.
    frame.assign(item_id=[100, 102, 101]).to_csv(tmp_path / "ids.csv")
    with pytest.raises(ValueError, match=r"`item_id` must number the ads from 0.*100 to 102"):
        read_obd(tmp_path / "ids.csv")


@needs_obd
@pytest.mark.parametrize("method", ["frequency", "pscore"])
def test_context_free_action_dist(method):
    bts = load_obd("bts", "all", data_dir=OBD)
    positions, probs = context_free_action_dist(bts, method=method)
    assert list(positions) == [1, 2, 3] and probs.shape == (3, 80)
    assert np.allclose(probs.sum(axis=1), 1) and (probs >= 0).all()
    # BTS concentrates on few items: far from uniform.
    assert probs.max() > 5 / 80


@needs_obd
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_random_log_estimates_bts_value(campaign):
    # Estimate, from the uniform-random log, the value of the Bernoulli-TS
    # logging policy and compare with the BTS log's own CTR. The difference has
    # standard error sqrt(se_estimate**2 + se_ctr**2), where se_estimate covers
    # the random log (bootstrap) and the estimated BTS action distribution
    # (multinomial); the two logs are independent samples. |z| < 3 fails by
    # chance with probability ~0.3% if the estimators and the reader are right;
    # the logs also differ in users and days, which a wider bound would hide.
    # The reward model is cross-fitted per arm on the random log.
    rnd = load_obd("random", campaign, data_dir=OBD)
    bts = load_obd("bts", campaign, data_dir=OBD)
    rng = np.random.default_rng(0)
    q = fit_reward_model(rnd.context, rnd.action, rnd.reward, n_arms=rnd.n_arms, rng=rng,
                         n_folds=2)  # fmt: skip
    report = estimate_logging_policy(
        rnd, bts, rng=rng, estimators=("ips", "snips", "dr"), estimated_rewards=q,
        n_bootstrap=300,
    )  # fmt: skip
    assert np.all(np.abs(report.z_scores()) < 3), report.to_frame()
    # Informative: the estimates are not swamped by noise (relative se < 50%).
    assert np.all(report.se < 0.5 * report.estimate)
    assert np.all(report.low <= report.estimate) and np.all(report.estimate <= report.high)


@needs_obd
def test_bts_log_estimates_random_value():
    # The other way round is much noisier (BTS rarely shows most items), so only
    # IPS/SNIPS and a looser check: the interval sits in a plausible range.
    rnd = load_obd("random", "all", data_dir=OBD)
    bts = load_obd("bts", "all", data_dir=OBD)
    report = estimate_logging_policy(
        bts, rnd, rng=np.random.default_rng(1), estimators=("ips", "snips"), n_bootstrap=300
    )
    assert np.all(np.abs(report.z_scores()) < 3), report.to_frame()


def test_mismatched_logs_rejected():
    from simulation.ope.logs import LoggedFeedback

    def log(n_arms, positions, n=2):
        return LoggedFeedback(
            context=np.zeros((n, 0)), action=np.zeros(n, int), reward=np.zeros(n),
            pscore=np.ones(n), n_arms=n_arms, position=positions,
        )  # fmt: skip

    with pytest.raises(ValueError, match="the same items"):
        estimate_logging_policy(log(2, [1, 1]), log(3, [1, 1]), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="must appear in `target_log`"):
        estimate_logging_policy(log(2, [1, 2]), log(2, [1, 1]), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="has no `position`"):
        context_free_action_dist(log(2, None))


def _tiny_obd(folder, item_ids, item_context_ids=None, pscore=1 / 3):
    folder.mkdir()
    pd.DataFrame(
        {
            "item_id": item_ids,
            "position": [1, 2, 3],
            "click": [0, 1, 0],
            "propensity_score": pscore,
            "user_feature_0": ["a", "b", "a"],
        }
    ).to_csv(folder / "all.csv")
    if item_context_ids is not None:
        pd.DataFrame(
            {"item_id": item_context_ids, "item_feature_0": np.arange(len(item_context_ids))}
        ).to_csv(folder / "item_context.csv")
    return folder / "all.csv"


def test_items_numbered_from_1_are_refused_even_with_item_context(tmp_path):
    # Shifted by +1 in both files, the items would have become 4 with an invented item 0.
    path = _tiny_obd(tmp_path / "shifted", [1, 3, 2], item_context_ids=[1, 2, 3])
    with pytest.raises(
        ValueError, match=r"`item_id` must number the ads from 0.*1 to 3.*subtract 1"
    ):
        read_obd(path)
    # Declared items from 0 may include one never shown (item 0 here).
    log = read_obd(_tiny_obd(tmp_path / "gap", [1, 3, 2], item_context_ids=[0, 1, 2, 3]))
    assert log.n_arms == 4 and log.action_context.shape == (4, 1)


def test_a_zero_propensity_names_the_row_and_the_obd_column(tmp_path):
    path = _tiny_obd(tmp_path / "zero", [0, 2, 1], pscore=[1 / 3, 0.0, 1 / 3])
    with pytest.raises(
        ValueError, match=r"^row 2: `propensity_score` must be in \(0, 1\]; got 0\.0\.$"
    ):
        read_obd(path)
