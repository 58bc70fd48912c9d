"""``python -m simulation run --regenerate-every G``: generations.csv, the store, bad values."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.__main__ import main
from simulation.config import ExperimentConfig
from simulation.engine.regen import LINEAGE_COLUMNS
from simulation.store import RunStore

TINY = ["--users", "1000", "--segments", "3", "--impressions", "4000", "--batch-size", "500",
        "--seeds", "1", "--policies", "uniform,thompson", "--no-progress"]  # fmt: skip


def test_regenerate_every_writes_the_lineage_and_saves_it(tmp_path):
    out, store = tmp_path / "out", tmp_path / "store"
    args = ["run", *TINY, "--regenerate-every", "1000", "--out", str(out), "--store", str(store)]
    assert main(args) == 0
    generations = pd.read_csv(out / "generations.csv")
    assert list(generations.columns) == ["level", "policy", "seed", *LINEAGE_COLUMNS]
    assert set(generations["level"]) == {"generic", "segment"}  # the user level is not a pool
    assert generations["generation"].max() == 3
    (run_id,) = RunStore.open(store).list()["run_id"]
    saved = RunStore.open(store).load(run_id).tables["generations"]
    assert len(saved) == len(generations)


def test_without_the_flag_there_is_no_lineage(tmp_path):
    out = tmp_path / "out"
    assert main(["run", *TINY, "--out", str(out)]) == 0
    assert not (out / "generations.csv").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [("100", "regenerate_every"), ("9000", "regenerate_every"), ("0", "")],
)
def test_bad_regenerate_every_writes_nothing(tmp_path, capsys, value, message):
    out = tmp_path / "out"
    try:
        code = main(["run", *TINY, "--regenerate-every", value, "--out", str(out)])
    except SystemExit as exc:  # argparse's own check (not a positive int)
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"regenerate_every": 10}, r"`regenerate_every` must be an int in \[1,000"),
        ({"regenerate_every": 400_000}, r"`regenerate_every` must be an int"),
        ({"regenerate_every": 2_000.0}, r"`regenerate_every` must be an int"),
        ({"regenerate_every": True}, r"`regenerate_every` must be an int"),
        ({"regenerate_every": 5_000, "levels": ("user",)}, "generic and segment levels"),
    ],
)
def test_config_bounds(changes, match):
    with pytest.raises(ValueError, match=match):
        ExperimentConfig(**changes)
