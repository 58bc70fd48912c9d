"""Winners with reasons: runner-up, margin with interval, components; per-segment allocation."""

from __future__ import annotations

import json

from ui import tables


def test_winners_name_runner_up_margin_and_what_differs(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    assert not at.exception
    result = at.session_state["ex-current"]["result"]
    table = next(d.value for d in at.dataframe if "Runner-up" in d.value.columns)
    assert list(table["Segment"]) == list(result.segment_names)  # names, not "Segment 0"
    assert {"Leading creative", "Margin (95 % interval)", "What differs (leader vs runner-up)",
            "True rates (world)", "Verdict"} <= set(table.columns)  # fmt: skip
    assert "Winner" not in table.columns  # a leader is a winner only by its verdict
    # The verdict follows the margin's interval: "Winner" only where it excludes 0.
    rows = tables.winners(result.segment_frame(), result.config.objective)
    clear = rows["margin_low"].to_numpy() > 0
    assert list(table["Verdict"] == "Winner") == list(clear)
    assert set(table.loc[~clear, "Verdict"]) <= {"Leader (not yet clear)"}
    assert any(h.value == "Leading creative per segment, and why" for h in at.subheader)
    # Three seeds: the margin has an interval, "a (b – c)".
    assert table["Margin (95 % interval)"].str.contains(r"\(.+ – .+\)").all()
    # The components that differ are named with both values.
    assert table["What differs (leader vs runner-up)"].str.contains(" vs ").all()
    captions = " ".join(c.value for c in at.caption)
    assert "Runner-up: creative" in captions and "truth" in captions


def test_per_segment_allocation_names_each_segments_own_creatives(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    result = at.session_state["ex-current"]["result"]
    chart = at.get("vega_lite_chart")[-1]
    spec = json.loads(chart.proto.spec)
    assert spec["encoding"]["row"]["field"] == "Segment"
    # One row of bars per segment, each bar one of that segment's own creatives.
    assert spec["encoding"]["y"]["field"] == "Creative"
    assert spec["resolve"]["scale"]["y"] == "independent"
    at.selectbox(key="ex-seg-alloc-policy").set_value("thompson").run()
    assert not at.exception
    assert at.session_state["ex-current"]["result"] is result


def test_one_seed_names_no_clear_winner(app, open_page, run_small_experiment):
    # One replication has no interval: a margin over the runner-up cannot be told from luck.
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-seeds": 1})
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Runner-up" in d.value.columns)
    assert (table["Verdict"] == "Leader (one seed)").all()
    # Nor has the headline tile an interval: it says so, and the caption under the tiles
    # what the intervals are over (once, so the tiles' text is never cut).
    assert at.metric[0].proto.delta == "no interval"
    captions = " ".join(c.value for c in at.caption)
    assert "intervals under the tiles are over 1 seed × 1 world" in captions
    assert "over 1 seed:" in captions and "a clear winner" not in captions
