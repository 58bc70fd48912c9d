"""The Off-policy evaluation page names saved runs as the Results page does.

The audit: a run saved from the command line without ``--name`` read "run (20261205-...)"
in the OPE picker, while Results named it by its settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.metrics import add_rates
from simulation.naming import saved_run_name
from simulation.store.run_store import RunStore
from ui import cache

CONFIG = {"levels": ["generic"], "policies": ["uniform", "ucb1"], "objective": "ctr",
          "n_impressions": 2_000, "n_seeds": 2}  # fmt: skip


@pytest.fixture
def unnamed_run(adlab_home):
    """A run with a log, saved from the command line without a name."""
    cache.clear_all()
    store = RunStore.open(adlab_home)
    log = adlab_home.parent / "log.parquet"
    rng = np.random.default_rng(0)
    n = 300
    pd.DataFrame(
        {"level": "generic", "policy": "uniform", "action": rng.integers(0, 3, n),
         "reward": rng.integers(0, 2, n), "pscore": np.full(n, 1 / 3)}
    ).to_parquet(log)  # fmt: skip
    run_id = store.save(
        config=CONFIG, seed=0, source="cli", log_path=log,
        summary=add_rates(
            pd.DataFrame({"level": ["generic"], "policy": ["uniform"], "seed": [0],
                          "impressions": [1_000], "clicks": [20], "conversions": [2],
                          "spend": [2.0], "revenue": [40.0], "regret": [1.0]})
        ),
        timeseries=pd.DataFrame({"step": [0, 1], "ctr": [0.01, 0.02]}),
    )  # fmt: skip
    yield run_id
    cache.clear_all()


def test_an_unnamed_run_reads_by_its_settings_as_on_the_results_page(app, open_page, unnamed_run):
    name = saved_run_name(None, CONFIG)
    assert name.startswith("Uniform, UCB1 · generic · 2,000 impressions")  # not "run"
    at = open_page(app, "ope")
    assert not at.exception
    # saved_run_name is the Results page's namer too (ui.pages.results._name).
    assert list(at.selectbox(key="ope-run").options) == [f"{name} ({unnamed_run})"]


@pytest.mark.parametrize(
    ("name", "config", "expected"),
    [("spring", CONFIG, "spring"), ("  ", {"n_seeds": 3}, "3 seeds"),
     ("None", {"n_seeds": 3}, "3 seeds"), (None, None, "run")],
)  # fmt: skip
def test_a_saved_runs_name_falls_back_to_its_settings(name, config, expected):
    assert saved_run_name(name, config) == expected
