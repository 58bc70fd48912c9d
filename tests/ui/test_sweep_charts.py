"""The Sweeps page's line charts stay readable with few replications."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.sweep_charts import band_domain, uplift_lines


def _rows(low: list[float], high: list[float]) -> pd.DataFrame:
    observed = [0.02, -0.01, 0.04]
    return pd.DataFrame(
        {
            "n_segments": [2, 4, 6], "level": "segment", "policy": "uniform", "world": 0,
            "uplift_ctr": observed, "uplift_ctr_low": low, "uplift_ctr_high": high,
            "uplift_ctr_expected": [0.01, 0.0, 0.03], "uplift_ctr_pairs": 2,
        }
    )  # fmt: skip


def test_a_huge_interval_is_clipped_around_the_values():
    # Two replications: a t interval with one degree of freedom spans +-2000 %.
    rows = _rows([-20.0, -19.0, -21.0], [20.0, 19.0, 21.0])
    low, high = band_domain(rows, "ctr")
    # The values span -1 % to +4 %: the range keeps them with 5 points of room each side.
    assert np.isclose(low, -0.06) and np.isclose(high, 0.09)
    spec = uplift_lines(rows, "n_segments", "ctr", {"n_segments": "Number of segments"}).to_dict()
    band = spec["layer"][0]["encoding"]
    assert band["y"]["scale"] == {"domain": [low, high], "clamp": True}
    # The grid's own values as ticks, whole numbers, under the parameter's readable name.
    assert band["x"]["axis"] == {"values": [2.0, 4.0, 6.0], "format": "d"}
    assert band["x"]["title"] == "Number of segments"


def test_a_narrow_interval_sets_the_range_itself():
    rows = _rows([0.015, -0.012, 0.035], [0.025, -0.008, 0.045])
    low, high = band_domain(rows, "ctr")
    assert np.isclose(low, -0.012) and np.isclose(high, 0.045)  # the band's own ends
    # The zero line stays in view even when every value is above it.
    up = _rows([0.5, 0.5, 0.5], [0.7, 0.7, 0.7]).assign(uplift_ctr=0.6, uplift_ctr_expected=0.6)
    assert band_domain(up, "ctr")[0] == 0.0


def test_nothing_to_draw_leaves_the_scale_alone():
    rows = _rows([np.nan] * 3, [np.nan] * 3).assign(uplift_ctr=np.nan, uplift_ctr_expected=np.nan)
    assert band_domain(rows, "ctr") is None


def test_a_heat_map_cell_without_a_pair_says_so():
    from ui.sweep_charts import uplift_heatmap

    rows = pd.DataFrame(
        {
            "n_segments": [2, 4], "batch_size": [250, 250], "level": "segment",
            "uplift_roas": [0.1, np.nan], "uplift_roas_low": [0.0, np.nan],
            "uplift_roas_high": [0.2, np.nan], "uplift_roas_expected": [0.05, 0.02],
            "uplift_roas_pairs": [2, 0],
        }
    )  # fmt: skip
    spec = uplift_heatmap(rows, "n_segments", "batch_size", "roas").to_dict()
    text = spec["layer"][1]
    (calc,) = text["transform"]
    assert "no usable pair" in calc["calculate"] and "isValid" in calc["calculate"]
    assert text["encoding"]["text"]["field"] == calc["as"]


def test_a_level_keeps_its_palette_colour_whichever_levels_are_drawn():
    from simulation.display import PALETTE
    from ui.fmt import LEVEL_NAMES
    from ui.sweep_charts import level_colours

    both = level_colours(["user", "segment", "user"]).to_dict()
    # Display names in the levels' own order, whatever order the rows came in.
    assert both["domain"] == [LEVEL_NAMES["segment"], LEVEL_NAMES["user"]]
    alone = level_colours(["user"]).to_dict()
    assert alone["domain"] == [LEVEL_NAMES["user"]]
    assert alone["range"] == both["range"][1:]  # the same colour with or without "segment"
    assert set(both["range"]) <= set(PALETTE) and len(set(both["range"])) == 2


def test_the_line_chart_uses_the_palette_and_a_legend_at_full_strength():
    from simulation.display import PALETTE

    rows = _rows([0.015, -0.012, 0.035], [0.025, -0.008, 0.045])
    spec = uplift_lines(rows, "n_segments", "ctr").to_dict()
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["range"][0] in PALETTE
    # The band is drawn faint; the legend's swatches must not take its opacity.
    assert spec["layer"][0]["mark"]["opacity"] < 0.5
    assert color["legend"]["symbolOpacity"] == 1.0


def _gappy() -> pd.DataFrame:
    """Four points of ROAS uplift: an interval, too few sales, no spread, one replication."""
    few = (
        "too few conversions for an interval: 2 vs 1 (generic vs user) in one replication; it "
        "needs at least 10 a side"
    )
    same = "every replication gave the same ratio: no spread to measure an interval from"
    return pd.DataFrame(
        {
            "n_segments": [2, 4, 6, 8], "batch_size": 250, "level": "user", "policy": "best",
            "world": 0, "uplift_roas": [0.1, 0.3, 0.0, 0.2],
            "uplift_roas_low": [0.0, np.nan, np.nan, np.nan],
            "uplift_roas_high": [0.2, np.nan, np.nan, np.nan],
            "uplift_roas_expected": [0.05, 0.2, 0.0, 0.1], "uplift_roas_pairs": [2, 2, 2, 1],
            "uplift_roas_note": ["", few, same, ""],
        }
    )  # fmt: skip


def test_each_missing_interval_has_its_reason():
    from ui.sweep_charts import GAP_RULES, interval_gaps

    gaps = interval_gaps(_gappy(), "roas")
    assert list(gaps) == ["", "few sales", "no spread", "1 replication"]
    assert set(gaps) - {""} <= set(GAP_RULES)
    # No uplift at all is the charts' "no usable pair", not a missing interval.
    empty = _gappy().assign(uplift_roas=np.nan)
    assert list(interval_gaps(empty, "roas")) == [""] * 4
    # The note names the events of its metric: clicks for CTR.
    ctr = _gappy().rename(columns=lambda c: c.replace("roas", "ctr"))
    ctr["uplift_ctr_note"] = ctr["uplift_ctr_note"].str.replace("conversions", "clicks")
    assert interval_gaps(ctr, "ctr")[1] == "few clicks"


def test_a_heat_map_cell_without_an_interval_says_why_on_a_second_line():
    from ui.sweep_charts import uplift_heatmap

    spec = uplift_heatmap(_gappy(), "n_segments", "batch_size", "roas").to_dict()
    text = spec["layer"][1]
    assert text["mark"]["lineBreak"] == "\n"
    (calc,) = text["transform"]
    assert "datum.no_interval" in calc["calculate"]
    # The reason travels with the data, and the tooltip names it and the parameters in words.
    (dataset,) = spec["datasets"].values()
    assert [row["no_interval"] for row in dataset] == ["", "few sales", "no spread",
                                                       "1 replication"]  # fmt: skip
    titles = [t["title"] for t in spec["layer"][0]["encoding"]["tooltip"]]
    assert "95 % interval" in titles and "n_segments" in titles  # no titles given
    # The cells' numbers are observed: the chart's title says so (the true value: tooltip).
    assert spec["title"] == "Observed ROAS uplift"
    assert {"observed", "expected (true)"} <= set(titles)


def test_the_tooltip_names_parameters_as_the_page_does():
    from ui.sweep_charts import uplift_heatmap

    names = {"n_segments": "Number of segments", "batch_size": "Batch size"}
    spec = uplift_heatmap(_gappy(), "n_segments", "batch_size", "roas", names).to_dict()
    titles = [t["title"] for t in spec["layer"][0]["encoding"]["tooltip"]]
    assert titles[:2] == ["Number of segments", "Batch size"]
    line = uplift_lines(_gappy(), "n_segments", "roas", names).to_dict()["layer"][1]
    assert [t.get("title") for t in line["encoding"]["tooltip"]][1] == "Number of segments"


def test_the_line_caption_names_the_points_without_a_band_and_why():
    from ui.sweep_charts import gap_caption

    caption = gap_caption(_gappy(), "n_segments", "roas", {"n_segments": "Number of segments"})
    assert caption.startswith("ROAS uplift, no interval (no band) at Number of segments 4: ")
    assert "few sales (a replication had fewer than 10 conversions" in caption
    assert "at Number of segments 6: no spread" in caption
    assert "at Number of segments 8: 1 replication" in caption
    # Every point with an interval: nothing to say.
    assert gap_caption(_gappy().iloc[:1], "n_segments", "roas") is None


def test_the_line_chart_of_the_best_rows_names_them_in_words():
    rows = _gappy()  # policy "best": each level's best against the generic level's best
    assert uplift_lines(rows, "n_segments", "roas").to_dict()["title"] == (
        "Observed ROAS uplift (each level's best)"
    )
    assert uplift_lines(_rows([0.0] * 3, [0.1] * 3), "n_segments", "ctr").to_dict()["title"] == (
        "Observed CTR uplift (Uniform (A/B/n split))"
    )


def test_the_tooltip_says_the_interval_in_words_never_null():
    from ui.sweep_charts import interval_words

    rows = _gappy()
    rows.loc[4] = rows.loc[0].to_dict() | {
        "n_segments": 10,
        "uplift_roas": np.nan,
        "uplift_roas_low": np.nan,
        "uplift_roas_high": np.nan,
    }
    words = list(interval_words(rows, "roas"))
    assert words == ["+0.0% to +20.0%", "none: few sales", "none: no spread",
                     "none: 1 replication", "none: no usable pair"]  # fmt: skip
    # A negative end with the minus sign Vega writes in the cells.
    assert interval_words(_rows([-0.05] * 3, [0.1] * 3), "ctr")[0] == "\u22125.0% to +10.0%"


def test_the_cells_reasons_come_from_the_tiles_table(monkeypatch):
    # One table words a refusal for the tiles and the heat-map cells: change a word there and
    # the cells follow (no second list of words in the charts).
    from simulation.interval_words import ONE_REPLICATION, TILE_NOTES
    from ui.sweep_charts import GAP_RULES, interval_gaps

    words = {k: TILE_NOTES[k] for k in ("too few conversions", "no spread", ONE_REPLICATION)}
    assert set(words.values()) <= set(GAP_RULES)
    for key in words:
        monkeypatch.setitem(TILE_NOTES, key, f"<{key}>")
    gaps = interval_gaps(_gappy(), "roas")
    assert list(gaps) == ["", "<too few conversions>", "<no spread>", f"<{ONE_REPLICATION}>"]
