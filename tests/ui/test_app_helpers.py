"""Pure helpers of the app: formatting, display tables, chart data, the architecture rule."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.metrics import summarize
from ui import charts, fmt, tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("func", "value", "text"),
    [
        (fmt.pct, 0.0231, "2.31 %"),
        (fmt.pct, float("nan"), "–"),
        (fmt.pct, float("inf"), "–"),
        (fmt.signed_pct, 0.123, "+12.3 %"),
        (fmt.money, 1234.5, "$1,234.50"),
        (fmt.money, -3, "-$3.00"),
        (fmt.multiple, 1.456, "1.46×"),
        (fmt.multiple, None, "–"),
        (fmt.rounded_count, 4_249_399, "4.2 million"),
        (fmt.rounded_count, 12_000_000, "12 million"),
        (fmt.rounded_count, 853_120, "850,000"),
        (fmt.rounded_count, 1_234, "1,200"),
        (fmt.rounded_count, 0.4, "0.4"),
        (fmt.rounded_count, float("nan"), "–"),
    ],
)
def test_formatters(func, value, text):
    assert func(value) == text


def test_interval_text_and_markdown_escaping():
    assert fmt.interval(fmt.pct, 0.02, 0.01, 0.03) == "2.00 % (1.00 % – 3.00 %)"
    assert fmt.interval(fmt.pct, 0.02, 0.02, 0.02) == "2.00 %"
    assert fmt.escape_markdown("[x](e.com) *b*") == r"\[x\]\(e\.com\) \*b\*"
    assert fmt.policy_name("segment:thompson") == "Thompson sampling per segment"


def _timeseries(n_seeds: int) -> pd.DataFrame:
    rows = []
    for seed in range(n_seeds):
        for step in (100, 200):
            rows.append(
                {"seed": seed, "level": "generic", "policy": "ucb1", "step": step,
                 "ctr": 0.01 * (seed + 1), "regret": step / 10}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_band_frame_is_the_t_interval_on_the_logit_scale_and_collapses_for_one_seed():
    bands = charts.band_frame(_timeseries(3), "ctr")
    assert np.allclose(bands["mean"], 0.02)
    # The t interval's half-width, t(0.975, 2) * sd / sqrt(n), on the logit scale
    # (divided by the slope p (1 - p) at the mean), mapped back: a rate stays in [0, 1].
    half = 4.302652729911275 * 0.01 / np.sqrt(3) / (0.02 * 0.98)
    logit = np.log(0.02 / 0.98)
    assert np.allclose(bands["low"], 1 / (1 + np.exp(-(logit - half))))
    assert np.allclose(bands["high"], 1 / (1 + np.exp(-(logit + half))))
    assert (bands["low"] > 0).all() and (bands["high"] < 1).all()
    # Regret has no bounds and no spread across these seeds: its band is the line.
    regret = charts.band_frame(_timeseries(3), "regret")
    assert np.allclose(regret["low"], regret["mean"])
    assert np.allclose(regret["high"], regret["mean"])
    one = charts.band_frame(_timeseries(1), "ctr")
    assert (one["low"] == one["mean"]).all() and (one["high"] == one["mean"]).all()


def test_a_regret_band_is_the_t_interval_cut_at_zero():
    # Regret 0, 10 and 50 over three seeds: the t interval reaches below zero; regret
    # cannot, so the band stops there, and its upper end stays the t interval's.
    ts = pd.DataFrame({"seed": [0, 1, 2], "level": "generic", "policy": "ucb1", "step": 100,
                       "regret": [0.0, 10.0, 50.0]})  # fmt: skip
    (band,) = charts.band_frame(ts, "regret").itertuples()
    half = 4.302652729911275 * np.std([0.0, 10.0, 50.0], ddof=1) / np.sqrt(3)
    assert band.mean - half < 0 and band.low == 0.0
    assert np.isclose(band.high, 20.0 + half)
    row = summarize(ts, ("regret",)).iloc[0]  # the tables and the report cut it the same way
    assert row["regret_low"] == 0.0 and np.isclose(row["regret_high"], 20.0 + half)


def test_with_several_worlds_a_band_is_over_world_means_like_the_tables():
    # Seeds of a world share its parameters: world 0 sits near 1, world 1 near 5.
    ts = pd.DataFrame({"world": [0, 0, 0, 1, 1, 1], "seed": [0, 1, 2] * 2, "level": "generic",
                       "policy": "ucb1", "step": 100,
                       "regret": [1.0, 1.1, 0.9, 5.0, np.nan, 4.8]})  # fmt: skip
    (band,) = charts.band_frame(ts, "regret").itertuples()
    means = np.array([1.0, 4.9])  # world 1's missing seed is left out of its mean
    half = 12.706204736174707 * means.std(ddof=1) / np.sqrt(2)
    assert np.isclose(band.mean, means.mean()) and np.isclose(band.high, means.mean() + half)
    row = summarize(ts, ("regret",)).iloc[0]
    assert np.isclose(row["regret_high"], band.high) and row["regret_low"] == band.low
    # One seed per world: the world is the unit anyway, the band is the plain t interval.
    one_each = ts[ts["seed"] == 0]
    (plain,) = charts.band_frame(one_each.drop(columns="world"), "regret").itertuples()
    (worlds,) = charts.band_frame(one_each, "regret").itertuples()
    assert np.isclose(plain.high, worlds.high) and np.isclose(plain.low, worlds.low)


def test_allocation_share_sums_to_one_per_step():
    alloc = pd.DataFrame(
        {
            "seed": [0, 0, 0, 0],
            "level": ["segment"] * 4,
            "policy": ["ucb1"] * 4,
            "step": [10, 10, 20, 20],
            "arm": [0, 1, 0, 1],
            "arm_label": ["a", "b", "a", "b"],
            "impressions": [5, 5, 6, 14],  # cumulative: the second interval is 1 vs 9
        }
    )
    share = charts.allocation_share(alloc, "segment", "ucb1")
    assert np.allclose(share.groupby("step")["share"].sum(), 1.0)
    second = share[share["step"] == 20].set_index("arm")["share"]
    assert np.allclose(second.to_numpy(), [0.1, 0.9])
    assert isinstance(charts.allocation_chart(alloc, "segment", "ucb1").to_dict(), dict)


def test_winners_pick_the_best_arm_with_enough_impressions():
    frame = pd.DataFrame(
        {
            "level": ["segment"] * 3,
            "segment": [0, 0, 0],
            "arm": [0, 1, 2],
            "impressions": [1_000, 1_000, 10],
            "clicks": [10, 30, 5],  # arm 2 has the best rate but too few impressions
            "revenue": [1.0, 1.0, 1.0],
            "spend": [1.0, 1.0, 1.0],
        }
    )
    win = tables.winners(frame)
    assert win.loc[0, "arm"] == 1
    assert win.loc[0, "ctr"] == pytest.approx(0.03)


def test_only_app_and_ui_import_streamlit():
    for package in ("simulation", "creative"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    assert all(a.name.split(".")[0] != "streamlit" for a in node.names), path
                elif isinstance(node, ast.ImportFrom):
                    assert (node.module or "").split(".")[0] != "streamlit", path


def test_caching_lives_in_one_module():
    users = [
        p.relative_to(ROOT).as_posix()
        for p in [ROOT / "app.py", *(ROOT / "ui").rglob("*.py")]
        if "@st.cache_" in p.read_text(encoding="utf-8")
    ]
    assert users == ["ui/cache.py"]


def test_no_unsafe_html():
    for p in [ROOT / "app.py", *(ROOT / "ui").rglob("*.py")]:
        assert "unsafe_allow_html" not in p.read_text(encoding="utf-8"), p


def test_app_test_modules_have_unique_basenames():
    # tests/ has no __init__.py files: two test modules with one basename cannot both be
    # collected in one run.
    ours = {p.name for d in ("ui", "browser") for p in (ROOT / "tests" / d).glob("test_*.py")}
    others = {
        p.name
        for p in (ROOT / "tests").rglob("test_*.py")
        if p.parent.name not in ("ui", "browser")
    }
    assert not ours & others


def test_band_charts_draw_at_most_max_line_points_per_line_and_keep_the_last():
    steps = np.arange(1, 61) * 5_000
    frame = pd.DataFrame(
        [{"seed": s, "level": lv, "policy": "ucb1", "step": int(t), "ctr": 0.02, "regret": t / 1e3}
         for s in range(2) for lv in ("generic", "user") for t in steps]
    )  # fmt: skip
    for metric in ("ctr", "regret"):
        spec = charts.metric_bands_chart(frame, metric).to_dict()
        drawn = {row["step"] for row in next(iter(spec["datasets"].values()))}
        assert len(drawn) == charts.MAX_LINE_POINTS
        assert max(drawn) == steps[-1]
    few = frame[frame["step"] <= 50_000]  # fewer points than the cap: all drawn
    spec = charts.metric_bands_chart(few, "regret").to_dict()
    assert {row["step"] for row in next(iter(spec["datasets"].values()))} == set(steps[:10])


@pytest.mark.parametrize("metric", ["ctr", "roas", "regret"])
def test_band_spec_and_data_are_the_altair_chart_in_two_parts(metric):
    frame = _timeseries(3).assign(roas=1.5)
    spec = charts.metric_bands_chart(frame, metric).to_dict()
    data = spec.pop("datasets")
    for key in ("data", "config"):
        spec.pop(key, None)
    domain = charts.metric_bands_domain(charts.metric_bands_data(frame, metric), metric)
    assert (domain is None) == (metric == "regret")
    assert charts.metric_bands_spec(metric, domain) == spec
    rows = next(iter(data.values()))
    assert pd.DataFrame(rows).equals(
        charts.metric_bands_data(frame, metric).reset_index(drop=True)[list(rows[0])]
    )
    charts.metric_bands_spec(metric, domain)["facet"]["title"] = "changed"
    assert charts.metric_bands_spec(metric, domain) == spec  # each call is a fresh copy


def test_segment_allocation_chart_names_every_creative():
    # Streamlit's theme turns labelOverlap on, which hides every other label of a
    # crowded axis: the chart turns it off on its creatives' axis.
    alloc = pd.DataFrame(
        {"policy": "ucb1", "Segment": ["a"] * 6 + ["b"] * 6, "share": 1 / 6,
         "impressions": 10, "Creative": [f"Slot {i + 1}" for i in range(6)] * 2}
    )  # fmt: skip
    spec = charts.segment_allocation_chart(alloc, "ucb1").to_dict()
    assert spec["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert spec["height"]["step"] >= 20  # a 14 px label and some room
    # Labels tell creatives apart and are long: the segment's name goes above its rows,
    # so label, bars and name fit the page at 1280 px (checked in Chromium).
    assert spec["encoding"]["row"]["header"]["labelOrient"] == "top"
    assert spec["encoding"]["y"]["axis"]["labelLimit"] + spec["width"] <= 800


def test_rates_share_the_panels_axis_and_regret_does_not():
    # Each level's regret is against its own best (its pool's best arm, or the best
    # composition): one axis would set the panels' yardsticks side by side.
    scales = {
        m: charts.metric_bands_spec(m)["resolve"]["scale"]["y"] for m in ("ctr", "roas", "regret")
    }
    assert scales == {"ctr": "shared", "roas": "shared", "regret": "independent"}


def test_the_uplift_headers_are_short_and_name_no_interval_for_one_replication():
    from simulation.uplift_text import OBSERVED_COLUMN, TRUE_COLUMN
    from ui.tables import uplift_labels

    many = uplift_labels(pd.DataFrame({"seed": [0, 1, 2]}))
    assert many == {OBSERVED_COLUMN: "Observed (95 % interval)", TRUE_COLUMN: "True (expected)"}
    one = uplift_labels(pd.DataFrame({"seed": [0]}))
    assert one[OBSERVED_COLUMN] == "Observed" and one[TRUE_COLUMN] == "True (expected)"
