"""The uplift, final-metrics and leaders tables fit a 1280 px window: wrapped ``st.table``s.

``st.dataframe`` never wraps a cell: the uplift and final-metrics tables ran 940-1,075 px
wide, and the leaders' *What differs* column alone more, past the page's 800 px at a 1280 px
window (a 300 px sidebar and 80 px padding a side, Streamlit 1.67's wide layout).
``st.table`` wraps each cell at its spaces, so a table fits when its narrowest layout does:
per column the longest run of text that cannot break, plus the cell's padding.
"""

from __future__ import annotations

import re

import pandas as pd

from simulation.uplift_text import OBSERVED_COLUMN
from ui.fmt import WORD_JOINER, escape_markdown
from ui.tables import LINE_BREAK, METRIC_INTERVALS, WINNER_LISTS, markdown_table

#: The page's width at a 1280 px window: 1280 - 300 (sidebar) - 2 x 80 (padding), rounded down.
PAGE_PX = 800
#: Width of a character of the table's 14 px font (digits and lower case are about 7 px),
#: and a cell's padding and border.
CHAR_PX, CELL_PX = 7.5, 10


def _shown(text: str) -> str:
    """A cell's text as the reader sees it (escapes and word joiners taken off)."""
    return re.sub(r"\\(.)", r"\1", text).replace(WORD_JOINER, "")


def _narrowest_px(frame: pd.DataFrame) -> float:
    """The table's narrowest width: per column its longest unbreakable run, plus padding."""
    total = 0.0
    for column in frame.columns:
        texts = [str(column), *map(str, frame[column])]
        words = [
            word
            for text in texts
            # A line may break at a space or after a hyphen inside a word ("Gaming-|leaning");
            # a no-break space (a number and its unit) holds.
            for word in re.split(r"[ \n]+|(?<=\w-)(?=\w)", _shown(text))
        ]
        total += max(map(len, words)) * CHAR_PX + CELL_PX
    return total


#: Streamlit 1.67's ``st.table`` cell: its Markdown is an inline block of ``fit-content``
#: width up to 25rem, so a column asks for no more than that however long its lines.
CELL_MAX_PX = 400
#: Line height of the table's 14 px text.
LINE_PX = 21


def _column_px(frame: pd.DataFrame) -> list[tuple[float, float]]:
    """Each column's narrowest and widest width: longest unbreakable run, longest line."""
    out = []
    for column in frame.columns:
        texts = [_shown(str(column)), *(_shown(str(v)) for v in frame[column])]
        lines = [line for text in texts for line in text.split("  \n")]
        words = [w for line in lines for w in re.split(r" +|(?<=\w-)(?=\w)", line)]
        narrow = max(map(len, words)) * CHAR_PX + CELL_PX
        wide = min(max(map(len, lines)) * CHAR_PX, CELL_MAX_PX) + CELL_PX
        out.append((narrow, max(narrow, wide)))
    return out


def _layout_px(frame: pd.DataFrame, page: float = PAGE_PX) -> list[float]:
    """The columns' widths by a browser's automatic table layout (CSS 2.1, 17.5.2.2).

    Each column gets its narrowest width, and what is left of the page is shared in
    proportion to how much wider each would like to be.
    """
    cols = _column_px(frame)
    if sum(w for _, w in cols) <= page:
        return [w for _, w in cols]
    spare = page - sum(n for n, _ in cols)
    want = sum(w - n for n, w in cols)
    return [n + spare * (w - n) / want for n, w in cols]


def _height_px(frame: pd.DataFrame, widths: list[float]) -> float:
    """The table's height: per row its tallest cell, each line wrapped to its column."""
    total = 0.0
    for _, row in frame.iterrows():
        tallest = 0
        for value, width in zip(row, widths, strict=True):
            chars = max(1, int((width - CELL_PX) // CHAR_PX))
            tallest = max(
                tallest,
                sum(-(-max(len(line), 1) // chars) for line in _shown(str(value)).split("  \n")),
            )
        total += tallest * LINE_PX + CELL_PX
    return total


def test_the_experiment_pages_tables_wrap_to_fit_a_1280_px_window(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-variants": 8})  # longer creative labels
    assert not at.exception
    tables = [t.value for t in at.table]
    # The uplift table, the final metrics and the leaders.
    headers = [[str(c) for c in t.columns] for t in tables]
    assert any("Interval over" in h for h in headers)
    assert any("Cost per conversion" in h for h in headers)
    assert any("Best vs runner\\-up" in h for h in headers)
    assert not [d for d in at.dataframe if {"Level", "Policy"} <= set(d.value.columns)]
    for table in tables:
        assert _narrowest_px(table) <= PAGE_PX, (list(table.columns), _narrowest_px(table))
    # A long header cannot stretch a column: each is a few words.
    assert all(len(_shown(h)) <= 36 for hs in headers for h in hs)
    # The leaders: What differs, the longest text, gets at least a third of the page, so
    # a row is a few lines, not 400 px (114 px wide it held a headline over ten lines).
    leaders = next(t for t in tables if escape_markdown(WINNER_LISTS[0]) in t.columns)
    widths = _layout_px(leaders)
    differs = widths[list(leaders.columns).index(escape_markdown(WINNER_LISTS[0]))]
    assert differs >= PAGE_PX / 3, dict(zip(leaders.columns, widths, strict=True))
    assert _height_px(leaders, widths) <= 16 * LINE_PX * len(leaders), widths


def test_the_layout_estimate_starves_a_long_column_among_many():
    # The estimate's own check: nine columns of a few words each (the leaders table before
    # 2026-12-05) leave the long one far less than a third, and make it tall.
    row = {f"Column {k}": "Tech-leaning shoppers, English, multi-device" for k in range(8)}
    frame = markdown_table(
        pd.DataFrame([{**row, WINNER_LISTS[0]: "; ".join(["headline: Good morning vs Hi"] * 8)}]),
        lists=WINNER_LISTS,
    )
    widths = _layout_px(frame)
    assert widths[-1] < PAGE_PX / 3 and abs(sum(widths) - PAGE_PX) < 1e-6
    assert _height_px(frame, widths) > 16 * LINE_PX


def test_a_cells_interval_goes_under_its_value_and_a_list_gets_a_line_an_item():
    frame = pd.DataFrame(
        {
            "Level": ["Per user"],
            "CTR": ["1.23 % (1.10 % – 1.40 %)"],
            "Cost per conversion": ["$12.34 ($10.00 – $15.00)"],
            OBSERVED_COLUMN: ["+100.0 % (no interval: too few conversions)"],
            WINNER_LISTS[0]: ["product: A vs B; tone: playful vs premium"],
        }
    )
    shown = markdown_table(
        frame, intervals=(*METRIC_INTERVALS, OBSERVED_COLUMN), lists=WINNER_LISTS,
        headers={OBSERVED_COLUMN: "Observed (95 % interval)"},
    ).iloc[0]  # fmt: skip
    ctr = ["1.23\u00a0%", "(1.10\u00a0% – 1.40\u00a0%)"]  # a number keeps its unit
    assert shown["CTR"] == LINE_BREAK.join(escape_markdown(line) for line in ctr)
    # "$" would start maths in Markdown: escaped, as every punctuation character.
    assert shown["Cost per conversion"].startswith("\\$12\\.34" + LINE_BREAK + "\\(\\$10")
    assert shown[escape_markdown("Observed (95 % interval)")].split(LINE_BREAK)[1] == (
        escape_markdown("(no interval: too few conversions)")
    )
    lines = shown[escape_markdown(WINNER_LISTS[0])].split(LINE_BREAK)
    assert lines == [
        escape_markdown("product: A vs B;"),
        escape_markdown("tone: playful vs premium"),
    ]
    # The level's name has no interval: it stays on one line.
    assert LINE_BREAK not in shown["Level"]


def test_a_table_cell_of_ones_own_text_renders_literally():
    payload = "![x](http://127.0.0.1:8765/a) [y](http://e.co)"
    shown = markdown_table(pd.DataFrame({"Segment": [payload], payload: ["1"]}))
    assert list(shown["Segment"]) == [escape_markdown(payload)]
    assert escape_markdown(payload) in shown.columns


def test_the_results_pages_a_b_metrics_table_wraps_to_fit_a_1280_px_window(
    app, open_page, adlab_home
):
    from simulation.config import ExperimentConfig
    from simulation.engine.core import run_experiment
    from simulation.store.run_store import RunStore

    base = ExperimentConfig(
        n_users=1_000, n_segments=2, n_impressions=3_000, batch_size=500, n_seeds=2,
        policies=("uniform", "thompson", "lin_ucb"), n_variants=2, n_checkpoints=4,
    )  # fmt: skip
    ids = []
    for config in (base, base.replace(budget=500.0)):  # a spend cap: long cost cells
        result = run_experiment(config)
        tables = {"allocation": result.allocation_frame(), "segments": result.segment_frame(),
                  "uplift": result.uplift_frame()}  # fmt: skip
        store = RunStore.open(adlab_home)
        summary, timeseries = result.summary_frame(), result.timeseries_frame()
        ids.append(
            store.save(
                config=config.to_dict(),
                seed=config.seed,
                summary=summary,
                timeseries=timeseries,
                source="cli",
                tables=tables,
            )
        )
    at = open_page(app, "results")
    at.selectbox(key="rs-a").set_value(ids[0])
    at.selectbox(key="rs-b").set_value(ids[1]).run()
    assert not at.exception, at.exception
    # No st.dataframe of both runs' metrics: it never wraps a cell.
    assert not [d for d in at.dataframe if "Run" in d.value.columns]
    both = next(t.value for t in at.table if "Run" in t.value.columns)
    assert list(both.columns[:5]) == ["Run", "Level", "Policy", "CTR", "ROAS"]
    assert sorted(set(both["Run"])) == ["A", "B"] and len(both) == 2 * len(base.policies) * len(
        base.levels
    )
    # The intervals go under their values, so the columns are as narrow as a value.
    assert all(LINE_BREAK in cell for cell in both["CTR"])
    assert _narrowest_px(both) <= PAGE_PX, (list(both.columns), _narrowest_px(both))
