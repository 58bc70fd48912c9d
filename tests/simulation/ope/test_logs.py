import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulation.ope.logs import BanditLogWriter, LoggedFeedback, import_log, is_adlab_log, read_log

REPO = Path(__file__).resolve().parents[3]
D, K = 3, 4


def chunk(rng, start, n, *, policy="uniform", seed=0, truth=True):
    """A CTR log's chunk: the reward is the click, the truth a click probability."""
    click = rng.integers(0, 2, size=n)
    return dict(
        impression=np.arange(start, start + n),
        seed=seed,
        level="user",
        policy=policy,
        segment=rng.integers(0, 5, size=n),
        context=rng.normal(size=(n, D)),
        action=rng.integers(0, K, size=n),
        pscore=np.full(n, 1 / K),
        click=click,
        conversion=rng.integers(0, 2, size=n),
        revenue=rng.random(n) * 10,
        cost=np.full(n, 0.2),
        reward=click.astype(np.float64),
        expected_reward=rng.random((n, K)) if truth else None,
    )


def test_round_trip_in_chunks(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "log.parquet"
    chunks = [chunk(rng, start, 250) for start in range(0, 1000, 250)]
    with BanditLogWriter(path, n_features=D, n_arms=K, row_group_size=300) as writer:
        for c in chunks:
            writer.write(**c)
    assert writer.n_rows == 1000
    assert is_adlab_log(path) and not Path(f"{path}.tmp").exists()
    columns = pq.read_schema(path).names
    assert columns == [
        "impression", "seed", "level", "policy", "segment", "x_0", "x_1", "x_2", "action",
        "pscore", "click", "conversion", "revenue", "cost", "reward",
        "q_true_0", "q_true_1", "q_true_2", "q_true_3",
    ]  # fmt: skip
    # 1000 rows buffered in row groups of >= 300 rows: 300 (2 chunks = 500), then 500.
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    log = read_log(path)
    assert log.n_rounds == 1000 and log.n_arms == K and log.n_features == D
    assert np.array_equal(log.action, np.concatenate([c["action"] for c in chunks]))
    assert np.allclose(log.context, np.concatenate([c["context"] for c in chunks]))
    assert np.allclose(log.reward, np.concatenate([c["reward"] for c in chunks]))
    assert np.allclose(log.expected_reward, np.concatenate([c["expected_reward"] for c in chunks]))
    assert log.metadata["policy"] == "uniform" and log.metadata["seed"] == 0


def test_filters_and_missing_truth(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "log.parquet"
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(**chunk(rng, 0, 10, policy="uniform", seed=1, truth=False))
        writer.write(**chunk(rng, 0, 20, policy="ucb", seed=2, truth=False))
    assert read_log(path).metadata["policy"] is None  # mixed
    ucb = read_log(path, policy="ucb")
    assert ucb.n_rounds == 20 and ucb.expected_reward is None
    assert read_log(path, seed=1).n_rounds == 10
    # A filter that matches nothing names what the log does hold, not a pyarrow filter.
    with pytest.raises(
        ValueError,
        match=r"log.parquet has no rows of logging policy 'ts'; it holds "
        r"logging policies: ucb, uniform$",
    ):
        read_log(path, policy="ts")
    with pytest.raises(ValueError, match=r"has no rows of level 'generic'; it holds levels: user$"):
        read_log(path, level="generic")
    with pytest.raises(ValueError, match=r"has no rows of seed '3'; it holds seeds: 1, 2$"):
        read_log(path, seed=3)
    # Each value exists, but not together: what the first filter's rows hold of the other.
    with pytest.raises(
        ValueError,
        match=r"has no rows of logging policy 'ucb' and seed '1'; the rows of "
        r"logging policy 'ucb' hold seeds: 2$",
    ):
        read_log(path, policy="ucb", seed=1)


def test_exception_inside_writer_publishes_nothing(tmp_path):
    path = tmp_path / "log.parquet"
    with pytest.raises(RuntimeError), BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(**chunk(np.random.default_rng(2), 0, 10))
        raise RuntimeError("engine crashed")
    assert not path.exists() and not Path(f"{path}.tmp").exists()


def test_file_appears_only_on_close(tmp_path):
    path = tmp_path / "log.parquet"
    writer = BanditLogWriter(path, n_features=D, n_arms=K, row_group_size=5)
    writer.write(**chunk(np.random.default_rng(3), 0, 10))
    assert not path.exists() and Path(f"{path}.tmp").exists()
    writer.close()
    assert path.exists() and not Path(f"{path}.tmp").exists()
    with pytest.raises(ValueError, match="closed"):
        writer.write(**chunk(np.random.default_rng(3), 0, 10))


def test_killed_writer_leaves_no_log(tmp_path):
    path = tmp_path / "log.parquet"
    script = textwrap.dedent(
        f"""
        import os, signal, numpy as np
        from simulation.ope.logs import BanditLogWriter
        w = BanditLogWriter({str(path)!r}, n_features=1, n_arms=2, row_group_size=10)
        for i in range(5):
            n = 10
            w.write(impression=np.arange(n), seed=0, level="user", policy="p",
                    segment=np.zeros(n, int), context=np.zeros((n, 1)),
                    action=np.zeros(n, int), pscore=np.ones(n), click=np.zeros(n, int),
                    conversion=np.zeros(n, int), revenue=np.zeros(n), cost=np.zeros(n),
                    reward=np.zeros(n), expected_reward=np.zeros((n, 2)))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert proc.returncode == -signal.SIGKILL
    assert not path.exists()  # only the .tmp remains; readers never see a half log
    assert Path(f"{path}.tmp").exists()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(context=np.zeros((10, 2))), r"`context` must have 3 columns"),
        (dict(expected_reward=np.zeros((10, 3))), r"`expected_reward` must have shape \(10, 4\)"),
        (dict(reward=np.zeros(9)), r"`reward` must have shape \(10,\)"),
    ],
)
def test_writer_rejects_bad_chunks(tmp_path, change, match):
    writer = BanditLogWriter(tmp_path / "log.parquet", n_features=D, n_arms=K)
    with pytest.raises(ValueError, match=match):
        writer.write(**(chunk(np.random.default_rng(4), 0, 10) | change))
    writer.abort()


def test_writer_rejects_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="`n_arms` must be an int >= 1"):
        BanditLogWriter(tmp_path / "log.parquet", n_features=1, n_arms=0)


def test_read_log_rejects_other_files(tmp_path):
    other = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(other)
    with pytest.raises(ValueError, match="is not an adlab log"):
        read_log(other)
    with pytest.raises(ValueError, match="no log file"):
        read_log(tmp_path / "missing.parquet")


# --- LoggedFeedback ---------------------------------------------------------------


def small(**changes):
    base = dict(
        context=np.zeros((3, 2)),
        action=np.array([0, 1, 2]),
        reward=np.array([1.0, 0.0, 1.0]),
        pscore=np.array([0.5, 0.5, 0.25]),
        n_arms=3,
    )
    return LoggedFeedback(**(base | changes))


def test_logged_feedback_is_frozen_and_read_only():
    log = small(expected_reward=np.full((3, 3), 0.5), segment=[0, 1, 1])
    with pytest.raises(AttributeError):
        log.n_arms = 4
    with pytest.raises(ValueError):
        log.reward[0] = 3.0
    frame = log.to_frame()
    assert list(frame.columns) == [
        "segment", "x_0", "x_1", "action", "pscore", "reward", "q_true_0", "q_true_1", "q_true_2",
    ]  # fmt: skip
    assert log.ground_truth_value(np.full((3, 3), 1 / 3)) == pytest.approx(0.5)
    assert log.take(slice(1, None)).n_rounds == 2
    assert log.on_policy_value() == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (dict(action=np.array([0, 1, 3])), ValueError, r"`action` must be in \[0, 3\)"),
        (dict(action=np.array([0.0, 1.0, 2.0])), TypeError, r"`action` must be an integer"),
        (dict(reward=np.array([1.0, 0.0])), ValueError, r"`reward` must have 3 rows"),
        (dict(reward=np.array([1.0, np.nan, 0.0])), ValueError, r"`reward` must be finite"),
        (dict(pscore=np.array([0.5, 0.0, 0.25])), ValueError, r"`pscore` must be in \(0, 1\]"),
        (dict(context=np.zeros(3)), ValueError, r"`context` must be a 2-d array"),
        (dict(n_arms=0), ValueError, r"`n_arms` must be an int >= 1"),
        (dict(expected_reward=np.zeros((3, 2))), ValueError, r"must have 3 columns"),
        (dict(feature_names=("a",)), ValueError, r"must name the 2 context columns"),
    ],
)
def test_logged_feedback_validation(change, exc, match):
    with pytest.raises(exc, match=match):
        small(**change)


def test_ground_truth_needs_truth():
    with pytest.raises(ValueError, match="no ground truth"):
        small().ground_truth_value(np.full((3, 3), 1 / 3))


# --- import_log -------------------------------------------------------------------


def user_frame(n=20):
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "action": rng.integers(0, 3, size=n),
            "reward": rng.integers(0, 2, size=n).astype(float),
            "propensity": np.full(n, 1 / 3),
            "x_age": rng.normal(size=n),
            "user_feature_city": rng.choice(["seoul", "busan"], size=n),
            "note": "ignored",
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_import_log_round_trip(tmp_path, suffix):
    frame = user_frame()
    path = tmp_path / f"mine{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    log = import_log(path)
    assert log.n_rounds == 20 and log.n_arms == 3
    assert log.feature_names == ("x_age", "user_feature_city=busan", "user_feature_city=seoul")
    assert np.array_equal(log.action, frame["action"].to_numpy())
    assert np.allclose(log.context[:, 0], frame["x_age"])
    assert log.expected_reward is None


def test_import_log_reads_ground_truth_and_n_arms(tmp_path):
    frame = user_frame().assign(q_true_0=0.1, q_true_1=0.2, q_true_2=0.3, q_true_3=0.4)
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    log = import_log(path)
    assert log.n_arms == 4 and log.expected_reward.shape == (20, 4)
    assert import_log(path.with_name("mine.csv"), n_arms=4).n_arms == 4


@pytest.mark.parametrize(
    ("actions", "found"),
    [([100, 101, 102, 103], "4 ads numbered 100 to 103"), ([1, 2, 3, 4], "4 ads numbered 1 to 4")],
)
def test_import_log_refuses_actions_that_do_not_count_from_0(tmp_path, actions, found):
    # Ad identities (100-103) or a count from 1 taken as indices would invent the arms
    # below them: 104 arms, and IPS near 0 for a uniform policy.
    path = tmp_path / "ids.csv"
    user_frame().assign(action=np.resize(actions, 20), propensity=0.25).to_csv(path, index=False)
    with pytest.raises(ValueError, match=rf"`action` must number the ads from 0.*{found}"):
        import_log(path)


def test_import_log_keeps_a_gap_and_declared_arms(tmp_path):
    # An ad the logging policy never showed leaves a gap: a legitimate arm with no rows.
    path = tmp_path / "gap.csv"
    user_frame().assign(action=np.resize([0, 1, 3], 20)).to_csv(path, index=False)
    assert import_log(path).n_arms == 4
    # Declared arms (n_arms, or one q_true_* column per arm) may leave arm 0 unshown.
    path = tmp_path / "declared.csv"
    frame = user_frame().assign(action=np.resize([1, 2], 20))
    frame.to_csv(path, index=False)
    assert import_log(path, n_arms=3).n_arms == 3
    frame.assign(q_true_0=0.1, q_true_1=0.2, q_true_2=0.3).to_csv(path, index=False)
    assert import_log(path).n_arms == 3


def _bad(column, row, value):
    def edit(frame):
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return edit


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda f: f.drop(columns="propensity"), r"`propensity` column is missing"),
        (lambda f: f.drop(columns="action"), r"`action` column is missing"),
        (lambda f: f.rename(columns={"reward": "click"}), r"`reward` column is missing"),
        # Rows count from 1, the header not counted: frame row 17 is the 18th data row.
        (_bad("propensity", 17, 0.0), r"row 18: `propensity` must be in \(0, 1\]; got 0.0\.$"),
        (_bad("propensity", 3, 1.2), r"row 4: `propensity` must be in \(0, 1\]; got 1.2"),
        (_bad("propensity", 4, "high"), r"row 5: `propensity` must be a number; got 'high'\.$"),
        # An empty cell is said in words, never as np.float64(nan).
        (_bad("propensity", 5, None), r"row 6: `propensity` must be a number; got an empty cell"),
        (_bad("action", 2, 1.5), r"row 3: `action` must be a non-negative integer; got 1.5\.$"),
        (_bad("action", 6, -1), r"row 7: `action` must be a non-negative integer; got -1\.$"),
        (_bad("action", 7, "b"), r"row 8: `action` must be a number; got 'b'"),
        (_bad("reward", 8, "yes"), r"row 9: `reward` must be a number; got 'yes'"),
        (_bad("reward", 9, None), r"row 10: `reward` must be a number; got an empty cell \(or"),
        (_bad("reward", 9, float("inf")), r"row 10: `reward` must be a finite number.*got inf\.$"),
        (_bad("x_age", 11, None), r"row 12: `x_age` is an empty cell\.$"),
        (lambda f: f.iloc[:0], r"has no rows"),
    ],
)
def test_import_log_errors_name_column_and_row(tmp_path, edit, match):
    path = tmp_path / "mine.csv"
    edit(user_frame()).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        import_log(path)


def test_import_log_errors_never_show_a_numpy_repr(tmp_path):
    path = tmp_path / "mine.csv"
    for column in ("action", "reward", "propensity"):
        _bad(column, 0, None)(user_frame()).to_csv(path, index=False)
        with pytest.raises(ValueError) as info:
            import_log(path)
        assert str(info.value).startswith(f"row 1: `{column}`")
        assert "np." not in str(info.value) and "float64" not in str(info.value)


def test_a_csv_that_is_not_utf8_is_said_in_words(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("action,reward,propensity,x_city\n0,1,0.5,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"^latin.csv: the file is not UTF-8 text\.$"):
        import_log(path)


def test_import_log_bad_files(tmp_path):
    with pytest.raises(ValueError, match="no log file"):
        import_log(tmp_path / "nothing.csv")
    txt = tmp_path / "log.txt"
    txt.write_text("action,reward,propensity\n0,1,0.5\n")
    with pytest.raises(ValueError, match=r"must end in \.csv or \.parquet"):
        import_log(txt)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="cannot read"):
        import_log(empty)
    path = tmp_path / "mine.csv"
    user_frame().to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"row \d+: `action` must be in \[0, 2\)"):
        import_log(path, n_arms=2)


def test_docstring_examples_run():
    import doctest

    import simulation.ope.estimators
    import simulation.ope.logs
    import simulation.ope.reward_model

    for module in (simulation.ope.logs, simulation.ope.estimators, simulation.ope.reward_model):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_roas_truth_is_put_on_the_reward_scale(tmp_path):
    # The engine logs a ROAS run's reward as net value mapped onto [0, 1],
    # (net - offset) / span, and its truth as expected net value in USD: the
    # reader must recover the map from the rows and rescale the truth with it.
    rng = np.random.default_rng(5)
    offset, span = -0.3, 120.0
    path = tmp_path / "roas.parquet"
    c = chunk(rng, 0, 400)
    c["cost"] = rng.uniform(0.01, 0.3, size=400)
    c["revenue"] = np.where(rng.random(400) < 0.05, rng.uniform(5, 80, size=400), 0.0)
    c["reward"] = (c["revenue"] - c["cost"] - offset) / span
    c["expected_reward"] = rng.uniform(-0.3, 2.0, size=(400, K))
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(**c)
    log = read_log(path)
    assert log.metadata["objective"] == "roas"
    assert log.metadata["reward_offset"] == pytest.approx(offset, rel=1e-9)
    assert log.metadata["reward_span"] == pytest.approx(span, rel=1e-9)
    assert np.allclose(log.expected_reward, (c["expected_reward"] - offset) / span, rtol=1e-9)
    assert np.allclose(log.reward, c["reward"])
    assert log.metadata["reward_unit"] == "net value scaled to [0, 1]"


def test_a_roas_log_in_dollars_says_so(tmp_path):
    # Policies that learn on value log net value itself: the unit is dollars, not [0, 1].
    rng = np.random.default_rng(5)
    path = tmp_path / "roas.parquet"
    c = chunk(rng, 0, 400)
    c["cost"] = rng.uniform(0.01, 0.3, size=400)
    c["revenue"] = np.where(rng.random(400) < 0.05, rng.uniform(5, 80, size=400), 0.0)
    c["reward"] = c["revenue"] - c["cost"]
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(**c)
    assert read_log(path).metadata["reward_unit"] == "net value (USD)"


def test_ctr_truth_is_kept_and_an_unknown_scale_drops_the_truth(tmp_path):
    rng = np.random.default_rng(6)
    ctr_path, odd_path = tmp_path / "ctr.parquet", tmp_path / "odd.parquet"
    c = chunk(rng, 0, 200)
    with BanditLogWriter(ctr_path, n_features=D, n_arms=K) as writer:
        writer.write(**c)
    log = read_log(ctr_path)
    assert log.metadata["objective"] == "ctr"
    assert np.array_equal(log.expected_reward, c["expected_reward"])
    # A reward that is neither the click nor affine in revenue - cost: comparing
    # estimates in its unit with the truth's would be meaningless.
    c["reward"] = rng.random(200)
    with BanditLogWriter(odd_path, n_features=D, n_arms=K) as writer:
        writer.write(**c)
    log = read_log(odd_path)
    assert log.expected_reward is None and "truth_note" in log.metadata


def _roas_chunk(rng, start, n, *, policy, offset=0.0, span=1.0):
    c = chunk(rng, start, n, policy=policy)
    c["cost"] = rng.uniform(0.01, 0.3, size=n)
    c["revenue"] = np.where(rng.random(n) < 0.05, rng.uniform(5, 80, size=n), 0.0)
    c["reward"] = (c["revenue"] - c["cost"] - offset) / span
    return c


def test_a_log_whose_policies_used_different_reward_units_is_refused(tmp_path):
    # Logs written before every policy was logged in USD: uniform in dollars,
    # thompson scaled to [0, 1]. Averaging them would mix the units silently.
    rng = np.random.default_rng(8)
    path = tmp_path / "mixed.parquet"
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(**_roas_chunk(rng, 0, 300, policy="uniform"))
        writer.write(**_roas_chunk(rng, 300, 300, policy="thompson", offset=-0.3, span=120.0))
    with pytest.raises(
        ValueError,
        match=r"mixes reward units: policy 'thompson' logged net value scaled"
        r".*'uniform' net value \(USD\)",
    ):
        read_log(path)
    # One logging policy at a time is one unit.
    assert read_log(path, policy="thompson").metadata["reward_unit"] == (
        "net value scaled to [0, 1]"
    )
    assert read_log(path, policy="uniform").metadata["reward_unit"] == "net value (USD)"


def test_policies_logged_in_the_same_unit_read_together(tmp_path):
    rng = np.random.default_rng(9)
    path = tmp_path / "usd.parquet"
    with BanditLogWriter(path, n_features=D, n_arms=K) as writer:
        writer.write(**_roas_chunk(rng, 0, 300, policy="uniform"))
        writer.write(**_roas_chunk(rng, 300, 300, policy="thompson"))
    log = read_log(path)
    assert log.n_rounds == 600 and log.metadata["reward_unit"] == "net value (USD)"


def test_a_csv_naming_a_column_twice_is_refused(tmp_path):
    # pandas would read the second as `reward.1` and the first would be used silently.
    path = tmp_path / "twice.csv"
    path.write_text("action,reward,propensity,reward\n0,1,0.5,0\n1,0,0.5,1\n")
    with pytest.raises(ValueError, match=r"^'twice.csv' has 2 columns named `reward`; each"):
        import_log(path)


def test_a_parquet_naming_a_column_twice_is_refused(tmp_path):
    import pyarrow as pa

    path = tmp_path / "twice.parquet"
    table = pa.table([[0, 1], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]],
                     names=["action", "reward", "propensity", "reward"])  # fmt: skip
    pq.write_table(table, path)
    with pytest.raises(ValueError, match=r"has 2 columns named `reward`"):
        import_log(path)


@pytest.mark.parametrize("n", [40, 200])
def test_one_text_cell_in_a_numeric_context_column_is_named(tmp_path, n):
    # Under 100 rows the column was one-hot encoded silently; at 200 the message named
    # the count of distinct values, not the cell.
    rng = np.random.default_rng(0)
    x = [f"{v:.6f}" for v in rng.random(n)]
    x[16] = "high"
    frame = pd.DataFrame(
        {"action": rng.integers(0, 2, n), "reward": 0, "propensity": 0.5, "x_0": x}
    )
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError) as caught:
        import_log(path)
    assert str(caught.value) == (
        f"row 17: `x_0` must be a number like the column's other {n - 1:,} cells; got 'high' "
        "(1 text cell in all): a context column holds numbers or text, not both."
    )


def test_a_text_context_column_is_still_one_hot_encoded(tmp_path):
    path = tmp_path / "text.csv"
    pd.DataFrame(
        {"action": [0, 1, 0], "reward": 0, "propensity": 0.5, "x_device": ["ios", "web", "ios"]}
    ).to_csv(path, index=False)
    assert import_log(path).feature_names == ("x_device=ios", "x_device=web")


def test_a_bad_pscore_names_the_column_and_the_first_rows():
    pscore = np.full(6, 0.5)
    pscore[[1, 3, 4, 5]] = [0.0, np.nan, 1.5, -0.1]
    n = 6
    log_kwargs = dict(
        context=np.zeros((n, 0)), action=np.zeros(n, dtype=int), reward=np.zeros(n), n_arms=2
    )
    with pytest.raises(ValueError, match=r"`pscore` .* got 0.0 at row 1, 3, 4 and 1 more \(4 of 6"):
        LoggedFeedback(pscore=pscore, **log_kwargs)


def test_read_log_names_the_impression_of_a_zero_pscore(tmp_path):
    path = tmp_path / "log.parquet"
    n = 4
    with BanditLogWriter(path, n_features=1, n_arms=2) as writer:
        writer.write(
            impression=np.arange(10, 10 + n), seed=7, level="user", policy="lin_ts",
            segment=np.zeros(n, int), context=np.zeros((n, 1)), action=np.zeros(n, int),
            pscore=np.array([0.5, 0.5, 0.0, 0.0]), click=np.zeros(n, int),
            conversion=np.zeros(n, int), revenue=np.zeros(n), cost=np.zeros(n),
            reward=np.zeros(n), expected_reward=None,
        )  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"`pscore` .* got 0.0 in 2 of 4 rows, the first at policy 'lin_ts', "
        r"seed 7, impression 12 ",
    ):
        read_log(path)
