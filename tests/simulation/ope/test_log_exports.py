"""An adlab log that lost its Parquet metadata, and a user's log that mixes targeting levels."""

import numpy as np
import pandas as pd
import pytest

from simulation.ope.evaluate import load_any_log
from simulation.ope.logs import BanditLogWriter, check_not_adlab_export, import_log, read_log
from simulation.store.run_store import RunStore

D, K = 3, 4


def _chunk(rng, start, n, level):
    click = rng.integers(0, 2, size=n)
    return dict(
        impression=np.arange(start, start + n), seed=0, level=level, policy="uniform",
        segment=rng.integers(0, 5, size=n), context=rng.normal(size=(n, D)),
        action=rng.integers(0, K, size=n), pscore=np.full(n, 1 / K), click=click,
        conversion=np.zeros(n, int), revenue=np.zeros(n), cost=np.full(n, 0.2),
        reward=click.astype(np.float64), expected_reward=rng.random((n, K)),
    )  # fmt: skip


@pytest.fixture
def exported(tmp_path):
    """A stored run with a two-level log, exported as CSV: (csv path, run id, store)."""
    rng = np.random.default_rng(0)
    log = tmp_path / "log.parquet"
    with BanditLogWriter(log, n_features=D, n_arms=K) as writer:
        writer.write(**_chunk(rng, 0, 30, "segment"))
        writer.write(**_chunk(rng, 30, 30, "user"))
    store = RunStore.open(tmp_path / "store")
    run_id = store.save(
        config={"policy": "uniform"}, seed=0, summary=pd.DataFrame({"ctr": [0.5]}),
        timeseries=pd.DataFrame({"round": [0]}), log_path=log,
    )  # fmt: skip
    store.export(run_id, tmp_path / "exp", "csv")
    return tmp_path / "exp" / run_id / "log.csv", run_id, store


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"fmt": "csv"}, {"fmt": "adlab"}, {"level": "user"}, {"logging_policy": "uniform"}],
)
def test_a_csv_export_names_the_parquet_export(exported, kwargs):
    path, run_id, _ = exported
    with pytest.raises(ValueError) as info:
        load_any_log(path, **kwargs)
    message = str(info.value)
    assert "without its Parquet metadata" in message and "\n" not in message
    assert f"runs export {run_id} --format parquet" in message
    assert f"{run_id}/log.parquet" in message


def test_the_parquet_export_it_names_reads_with_the_filters(exported, tmp_path):
    _, run_id, store = exported
    store.export(run_id, tmp_path / "pq", "parquet")
    log = load_any_log(tmp_path / "pq" / run_id / "log.parquet", level="user")
    assert log.n_rounds == 30 and log.metadata["format"] == "adlab"


def test_read_log_and_import_log_refuse_an_export_too(exported, tmp_path):
    path, _, _ = exported
    for read in (read_log, import_log):
        with pytest.raises(ValueError, match="without its Parquet metadata"):
            read(path)
    # Away from its export folder the run id is unknown: the command says RUN_ID.
    loose = tmp_path / "loose.csv"
    loose.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="runs export RUN_ID --format parquet"):
        import_log(loose)


def test_only_the_adlab_columns_mark_an_export(tmp_path):
    columns = ["impression", "seed", "level", "policy", "action", "pscore", "reward"]
    with pytest.raises(ValueError):
        check_not_adlab_export(tmp_path / "x.csv", columns)
    # One of them missing, or a user's `propensity` beside them: a user's log, read as one.
    for kept in (
        [c for c in columns if c != "impression"],
        [c for c in columns if c != "pscore"] + ["propensity"],
        [*columns, "propensity"],
    ):
        check_not_adlab_export(tmp_path / "x.csv", kept)


def _user_log(levels):
    n = len(levels)
    return pd.DataFrame({
        "level": levels, "action": np.arange(n) % 2, "reward": np.ones(n),
        "propensity": np.full(n, 0.5),
    })  # fmt: skip


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_user_log_mixing_levels_is_refused(tmp_path, suffix):
    path = tmp_path / f"mine{suffix}"
    frame = _user_log(["segment", "user", "user", "segment"])
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    with pytest.raises(ValueError, match=r"mixes the targeting levels \['segment', 'user'\]"):
        load_any_log(path)


def test_a_user_log_of_one_level_is_read(tmp_path):
    path = tmp_path / "mine.csv"
    _user_log(["user"] * 4).to_csv(path, index=False)
    assert import_log(path).n_rounds == 4
