"""The app with a damaged run in the store: the Results and Off-policy evaluation pages open,
the damaged run fails alone with its reason, and the healthy runs stay usable."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from simulation.store.run_store import RunStore
from ui import cache
from ui.fmt import WORD_JOINER


@pytest.fixture
def damaged_store(adlab_home):
    """A store with a healthy run (with a log) and, newer, a run whose summary is truncated."""
    cache.clear_all()
    store = RunStore.open(adlab_home)
    n = 400
    log = adlab_home.parent / "log.parquet"
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "level": "generic",
            "policy": "uniform",
            "action": rng.integers(0, 3, n),
            "reward": rng.integers(0, 2, n),
            "pscore": np.full(n, 1 / 3),
        }
    ).to_parquet(log)
    run = dict(
        config={"levels": ["generic"], "policies": ["uniform"], "objective": "ctr"},
        seed=1,
        summary=pd.DataFrame({"policy": ["uniform"], "ctr": [0.02]}),
        timeseries=pd.DataFrame({"step": [0, 1], "ctr": [0.01, 0.02]}),
    )
    healthy = store.save(**run, name="healthy", log_path=log)
    damaged = store.save(**run, name="soon damaged")
    summary = store.runs_dir / damaged / "summary.parquet"
    summary.write_bytes(summary.read_bytes()[:30])
    yield store, healthy, damaged
    cache.clear_all()


def test_results_page_lists_both_and_the_damaged_run_fails_alone(app, open_page, damaged_store):
    _, healthy, damaged = damaged_store
    at = open_page(app, "results")
    saved = at.dataframe[0].value  # the session table is an info box: no run in this tab
    assert set(saved["Run id"]) == {healthy, damaged}
    # The damaged run says so where its name would be; a new tab opens on the newest run
    # that can be read, not on the damaged one (newer).
    (mark,) = saved.loc[saved["Run id"] == damaged, "Name"]
    assert mark.startswith("damaged: ")
    assert at.selectbox(key="rs-run").value == healthy
    assert not any("healthy" in e.value for e in at.error)
    # Opened anyway, it fails alone, with its reason (escaped Markdown: as a reader sees it).
    at.selectbox(key="rs-run").set_value(damaged).run()
    assert not at.exception
    shown = [re.sub(r"\\(.)", r"\1", e.value).replace(WORD_JOINER, "") for e in at.error]
    assert any("is damaged: summary.parquet" in s for s in shown), shown


def test_ope_page_opens_and_offers_the_healthy_run(app, open_page, damaged_store):
    _, healthy, damaged = damaged_store
    at = open_page(app, "ope")
    assert not at.exception
    runs = at.selectbox(key="ope-run")
    assert runs.options and all(damaged not in o for o in runs.options)
    assert any(healthy in o for o in runs.options)


def test_a_run_with_a_damaged_meta_is_listed_without_none(app, open_page, damaged_store):
    store, healthy, _ = damaged_store
    (store.runs_dir / healthy / "meta.json").write_text("{not json", encoding="utf-8")
    cache.clear_all()
    at = open_page(app, "results")
    assert not at.exception
    box = at.selectbox(key="rs-run")
    labels = list(box.options)  # as shown: AppTest holds the formatted labels
    assert any(healthy in label for label in labels), labels
    assert not any("None" in label for label in labels), labels
