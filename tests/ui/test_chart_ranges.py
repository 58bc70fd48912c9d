"""Chart y ranges and sizes: lines stay readable when a few seeds give wide early bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui import charts


def _spiky(metric: str) -> pd.DataFrame:
    """Two seeds that disagree over the first 20 % of impressions, then settle.

    The settled rate is 1 % (CTR) or 1.5x (ROAS). Early, one seed is 4 times it and the
    other a tenth of it, as a handful of clicks (or one order) over a few hundred
    impressions makes; with 2 seeds the t interval (1 degree of freedom) is then huge.
    """
    settled = {"ctr": 0.01, "roas": 1.5}[metric]
    rows = []
    for seed in range(2):
        for step in range(1_000, 50_001, 1_000):
            early = step <= 10_000
            value = settled * (4.0 if seed == 0 else 0.1) if early else settled * (1 + 0.1 * seed)
            for level in ("generic", "segment", "user"):
                rows.append({"seed": seed, "level": level, "policy": "ucb1", "step": step,
                             metric: value})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("metric", ["ctr", "roas"])
def test_rate_charts_axis_covers_the_lines_not_the_early_spikes(metric):
    frame = _spiky(metric)
    data = charts.metric_bands_data(frame, metric)
    low, high = charts.metric_bands_domain(data, metric)
    assert data["high"].max() > 5 * high  # the bands do spike far above the lines
    means = data["mean"].to_numpy()
    # Every line is inside the axis...
    assert low <= means.min() and means.max() <= high
    # ...and the axis stops within 1.5 spreads of the lines (robust_domain's rule), far
    # below the spikes.
    spread = means.max() - means.min()
    assert high <= means.max() + 1.5 * spread + 1e-12
    assert high < data["high"].max()
    for spec in (
        charts.metric_bands_chart(frame, metric).to_dict(),
        charts.metric_bands_spec(metric, [low, high]),
    ):
        band, line = spec["spec"]["layer"]
        assert band["encoding"]["y"]["scale"]["domain"] == [low, high]
        assert band["encoding"]["y"]["scale"]["clamp"] is True
        # Bands and lines are clipped to the plot, not drawn over the axis and titles.
        assert band["mark"]["clip"] is True and line["mark"]["clip"] is True


def test_regret_keeps_its_free_per_panel_axes():
    frame = _spiky("ctr").assign(regret=lambda f: f["step"] / 100)
    assert charts.metric_bands_domain(charts.metric_bands_data(frame, "regret"), "regret") is None
    band = charts.metric_bands_chart(frame, "regret").to_dict()["spec"]["layer"][0]
    assert "domain" not in band["encoding"]["y"]["scale"]


def test_without_a_domain_the_spec_lets_the_axis_follow_the_data():
    band = charts.metric_bands_spec("ctr")["spec"]["layer"][0]
    assert band["encoding"]["y"]["scale"] == {"zero": False}


@pytest.mark.parametrize("metric", ["ctr", "roas"])
def test_compare_chart_has_a_full_height_plot_and_a_title_that_fits(metric):
    frame = _spiky(metric)
    spec = charts.compare_chart({"A": frame, "B": frame.assign(seed=frame["seed"] + 2)}, metric)
    spec = spec.to_dict()
    # The height is the plot's own: the legend and titles add to it (fit-x), so a long
    # title or legend cannot squeeze the plot.
    assert spec["height"] == charts.COMPARE_PLOT_HEIGHT >= 200
    assert spec["autosize"] == {"type": "fit-x"}
    title = spec["layer"][0]["encoding"]["y"]["title"]
    full = charts.METRIC_AXES[metric][0]
    assert full.startswith(title) and len(title) <= 20
    # 11 px axis titles: the title fits along the plot's height with room to spare.
    assert 11 * 0.6 * len(title) < charts.COMPARE_PLOT_HEIGHT
    tips = [t.get("title") for t in spec["layer"][1]["encoding"]["tooltip"]]
    assert full in tips
    _low, high = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert high < np.inf and high < charts.band_frame(frame, metric)["high"].max()


def test_the_online_chart_legend_has_room_for_long_segment_names():
    # Clustered segment names run to about 50 characters ("Beauty-leaning shoppers,
    # Korean, multi-device, value-minded"); at 340 px the legend cut them. The chart is now
    # the page's width, so the limit can hold them at Streamlit's 12 px (under 0.6 em each).
    from types import SimpleNamespace

    name = "Beauty-leaning shoppers, Korean, multi-device, value-minded"
    profile = SimpleNamespace(name=name, segment_id=0, hours=[0.25] * 4)
    legend = charts.active_hours_chart([profile]).to_dict()["encoding"]["color"]["legend"]
    assert legend["labelLimit"] >= 0.6 * 12 * len(name) * 1.2
