"""Sweeps page: a tiny sweep runs in the background, lands in the store and draws its heat maps."""

from __future__ import annotations

import json
import time

import pandas as pd
import pyarrow as pa
import pytest

from simulation.store.sweeps import list_sweeps


def _chart_data(chart) -> pd.DataFrame:
    """The frame a chart element carries (Arrow IPC bytes beside the spec)."""
    (dataset,) = chart.proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_pandas()


def _wait_for_table(at, timeout: float = 240.0):
    deadline = time.monotonic() + timeout
    while "sweep-job" in at.session_state:
        assert time.monotonic() < deadline, "the sweep did not finish in time"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_tiny_sweep_runs_and_shows_heat_maps(app, open_page, adlab_home):
    at = open_page(app, "sweeps", world=None)
    at.number_input(key="sw-users").set_value(500)
    at.number_input(key="sw-impressions").set_value(1_000)
    at.selectbox(key="sw-x").set_value("n_segments")
    at.text_input(key="sw-x-values-n_segments").set_value("2, 3")
    at.selectbox(key="sw-y").set_value("batch_size").run()
    at.text_input(key="sw-y-values-batch_size").set_value("250, 500")
    next(b for b in at.button if b.label == "Run sweep").click().run()
    assert not at.exception, at.exception
    _wait_for_table(at)
    assert not at.warning, [w.value for w in at.warning]
    charts = at.get("vega_lite_chart")
    specs = [json.loads(c.proto.spec) for c in charts]
    heat = [s for s in specs if any(layer.get("mark", {}).get("type") == "rect"
                                    for layer in s.get("layer", []))]  # fmt: skip
    assert len(heat) == 2, "one heat map for CTR, one for ROAS"
    data = _chart_data(next(c for c, s in zip(charts, specs) if s in heat))
    assert len(data) == 4, "2 x 2 grid points"
    assert set(data["n_segments"]) == {2, 3} and set(data["batch_size"]) == {250, 500}
    tooltips = {t["title"] for t in heat[0]["layer"][0]["encoding"]["tooltip"]}
    assert {"observed", "interval from", "interval to"} <= tooltips
    saved = list_sweeps(adlab_home)
    assert len(saved) == 1 and saved.loc[0, "n_runs"] == 4


def test_bad_values_are_an_escaped_error(app, open_page):
    at = open_page(app, "sweeps", world=None)
    at.text_input(key="sw-x-values-n_segments").set_value("2, [x](http://e.co)")
    next(b for b in at.button if b.label == "Run sweep").click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "](" not in at.error[0].value
    assert "sweep-job" not in at.session_state
