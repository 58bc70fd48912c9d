"""An uplift interval needs events behind it: too few, or no spread, gives none and says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.metrics import MIN_UPLIFT_EVENTS, like_for_like_uplift
from simulation.uplift_text import WHY_COLUMN, uplift_sentence, uplift_table


def _summary(conversions, *, clicks=((300, 330), (310, 350))):
    """Generic and segment rows of ucb1, one per seed: (generic, segment) counts per seed."""
    rows = []
    for seed, ((c_gen, c_seg), (k_gen, k_seg)) in enumerate(zip(conversions, clicks, strict=True)):
        for level, conv, click in (("generic", c_gen, k_gen), ("segment", c_seg, k_seg)):
            rows.append(
                {
                    "level": level, "policy": "ucb1", "seed": seed, "impressions": 20_000,
                    "clicks": float(click), "conversions": float(conv),
                    "revenue": 40.0 * conv, "spend": 200.0,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def _row(table, metric):
    return table[(table.policy == "ucb1") & (table.metric == metric)].iloc[0]


def test_the_audit_repro_4_to_8_and_2_to_4_sales_has_no_interval_and_says_why():
    # Both seeds' ratios are exactly 2: the t interval over them had zero width, and ROAS
    # (revenue / spend, moved only by those sales) read -100 % to +1,586,375 %.
    table = like_for_like_uplift(_summary([(4, 8), (2, 4)]))
    for metric in ("conversions", "revenue", "roas"):
        row = _row(table, metric)
        assert np.isnan(row.ci_low) and np.isnan(row.ci_high)
        assert row.interval_note == (
            "too few conversions for an interval: 2 vs 4 (generic vs segment) in one "
            f"replication; it needs at least {MIN_UPLIFT_EVENTS} a side"
        )
        assert row.observed == pytest.approx(1.0)  # the value stays, labelled observed
    # Clicks are ample and differ between seeds: CTR keeps its interval.
    ctr = _row(table, "ctr")
    assert ctr.interval_note == ""
    assert ctr.ci_low < ctr.observed < ctr.ci_high


def test_one_thin_replication_is_enough_to_withhold_the_interval():
    table = like_for_like_uplift(_summary([(40, 55), (MIN_UPLIFT_EVENTS - 1, 30)]))
    assert "9 vs 30" in _row(table, "conversions").interval_note


def test_ample_counts_keep_the_interval_as_before():
    table = like_for_like_uplift(_summary([(40, 55), (MIN_UPLIFT_EVENTS, 30)]))
    row = _row(table, "conversions")
    assert row.interval_note == ""
    # The Student-t interval of the two paired log ratios, mapped back: as it always was.
    logs = np.log([55 / 40, 30 / MIN_UPLIFT_EVENTS])
    half = 12.706204736174707 * logs.std(ddof=1) / np.sqrt(2)  # t(0.975, 1 df)
    assert row.ci_low == pytest.approx(np.expm1(logs.mean() - half))
    assert row.ci_high == pytest.approx(np.expm1(logs.mean() + half))


def test_the_table_and_the_sentence_show_the_reason_not_a_point():
    table = like_for_like_uplift(_summary([(4, 8), (2, 4)]))
    text = uplift_table(table)
    row = text.loc[text["Metric"] == "Conversions"].iloc[0]
    cell = row.iloc[4]
    # The cell says why in short (so the columns after it stay on screen), the last
    # column in full.
    assert cell == "+100.0 % (no interval: too few conversions)"
    assert row[WHY_COLUMN].startswith("too few conversions for an interval: 2 vs 4")
    assert "– +100.0 %" not in cell
    sentence = uplift_sentence(_row(table, "conversions"), "segment", "conversions")
    assert "+100.0 % observed" in sentence and "too few conversions" in sentence
    assert "detectable" not in sentence and "raised" not in sentence


def test_a_stored_table_read_back_from_csv_keeps_the_rule(tmp_path):
    # uplift.csv writes "" as an empty cell, which pandas reads back as NaN.
    table = like_for_like_uplift(_summary([(40, 55), (30, 45)]))
    table.to_csv(tmp_path / "uplift.csv", index=False)
    back = pd.read_csv(tmp_path / "uplift.csv")
    assert back["interval_note"].isna().all()
    text = uplift_table(back)
    assert text.iloc[0, 4].count("–") == 1  # an interval "(low – high)"
    assert WHY_COLUMN not in text  # no row without an interval: no column for the reason
