"""Winners with reasons: runner-up, margin with interval, components; per-segment allocation."""

from __future__ import annotations

import json
import re

import pyarrow as pa

from ui import tables
from ui.fmt import WORD_JOINER


def test_winners_name_runner_up_margin_and_what_differs(
    app, open_page, run_small_experiment, shown_tables
):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    assert not at.exception
    result = at.session_state["ex-current"]["result"]
    table = next(t for t in shown_tables(at) if "Best vs runner-up" in t.columns)
    assert list(table["Segment"]) == list(result.segment_names)  # names, not "Segment 0"
    # Four columns, so that What differs gets the width (nine left it 114 px at 1280 px).
    assert list(table.columns) == ["Segment", "Verdict", "Best vs runner-up", "What differs"]
    assert "Winner" not in table.columns  # a leader is a winner only by its verdict
    # Nor a leader by its heading: the pair's heading is true on a "No leader yet" row too.
    assert not [c for c in table.columns if "Leader" in c]
    # The verdict follows the margin's interval: "Winner" only where it excludes 0.
    rows = tables.winners(result.segment_frame(), result.config.objective)
    clear = rows["margin_low"].to_numpy() > 0
    assert list(table["Verdict"] == "Winner") == list(clear)
    assert set(table.loc[~clear, "Verdict"]) <= {"Leader (not yet clear)"}
    assert any(h.value == "Leading creative per segment, and why" for h in at.subheader)
    # Three seeds: the margin has an interval, and the world's true rates follow, marked.
    pair = table["Best vs runner-up"]
    assert pair.str.contains(r"margin \S+ pp \(95 %: .+ – .+\) true CTR .+ vs .+ \(world\)$").all()
    # The components that differ are named with both values.
    assert table["What differs"].str.contains(" vs ").all()
    captions = " ".join(c.value for c in at.caption)
    shown = re.sub(r"\\(.)", r"\1", captions).replace(WORD_JOINER, "")
    assert re.search(r"Runner-up: \d\. .+\(observed\)\. Margin", shown)
    assert "truth" in captions


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


def test_one_seed_names_no_clear_winner(app, open_page, run_small_experiment, shown_tables):
    # One replication has no interval: a margin over the runner-up cannot be told from luck.
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-seeds": 1})
    assert not at.exception
    table = next(t for t in shown_tables(at) if "Best vs runner-up" in t.columns)
    assert (table["Verdict"] == "Leader (one seed)").all()
    # Nor has the headline tile an interval: it says so, and the caption under the tiles
    # what the intervals are over (once, so the tiles' text is never cut).
    assert at.metric[0].proto.delta == "no interval"
    captions = " ".join(c.value for c in at.caption)
    assert "over 1 seed:" in captions and "a clear winner" not in captions
    # No sentence describes an interval that is not drawn: the caption under the tiles
    # names the replication and says once that there is no interval.
    best = next(c.value for c in at.caption if c.value.startswith("Best:"))
    assert "1 seed × 1 world)" in best and "intervals under the tiles" not in best
    assert best.count("no interval") == 1
    assert "95 % interval covers" not in captions and "covers the seeds" not in captions
    markdown = " ".join(m.value for m in at.markdown)
    assert "**Final metrics, observed** (1 seed × 1 world: no interval)" in markdown
    assert "in brackets" not in markdown and "shaded band is the 95 %" not in markdown
    assert "with one replication there is no shaded band" in markdown
    assert "interval excludes 0" not in markdown
    assert "one seed: no interval, so no *Winner*" in markdown
    # A margin, and no interval under it.
    pair = table["Best vs runner-up"]
    assert (
        pair.str.contains(" margin ").all() and not pair.str.contains("(95 %:", regex=False).any()
    )


def test_creatives_are_told_apart_and_their_numbers_marked_observed(
    app, open_page, run_small_experiment, shown_tables
):
    at = open_page(app, "experiment")
    # Eight variants: in this small world two creatives of a segment share product and tone.
    run_small_experiment(at, **{"ex-variants": 8})
    assert not at.exception
    result = at.session_state["ex-current"]["result"]
    chart = at.get("vega_lite_chart")[-1]
    (dataset,) = chart.proto.datasets
    rows = pa.ipc.open_stream(dataset.data.data).read_pandas()
    labels = set(zip(rows["Segment"], rows["Creative"], strict=True))
    # Within a segment, no two creatives read the same once the number is taken off.
    for segment in {s for s, _ in labels}:
        names = [c.split(". ", 1)[1] for s, c in labels if s == segment]
        assert len(names) == len(set(names)), names
    # The leaders table names creatives as the chart does, and says its rates are observed.
    table = next(t for t in shown_tables(at) if "Best vs runner-up" in t.columns)
    pair = table["Best vs runner-up"]
    leaders = {c.split(" vs ", 1)[0] for c in pair}
    runners = {c.split(" vs ", 1)[1].split(" CTR ", 1)[0] for c in pair}
    assert leaders | runners <= {c for _, c in labels}
    assert pair.str.contains(r" CTR \S+ % vs \S+ % \(observed\) margin ").all()
    assert pair.str.contains(r"pp\) true CTR").all()
    cards = [m.value for m in at.markdown if m.value.endswith(" impressions")]
    assert len(cards) == len(result.segment_names)
    assert all("observed CTR" in c for c in cards)
    captions = [c.value for c in at.caption if c.value.startswith("Runner-up")]
    assert captions and all("(observed)" in c for c in captions)
