"""In Chromium: a regenerating run shows its Generations view and names its arms by slot."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from streamlit_page import no_exception, settle

from ui.generations import LINEAGE_HEADERS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # pytest-playwright's own session fixture `base_url` triggers this pytest 9 deprecation.
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

#: 40,000 impressions, a generation every 10,000: generations 0 (founders) to 3.
IMPRESSIONS, EVERY = 40_000, 10_000


def fill(page: Page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Tab")


#: The values a selectbox shows cut short: its input's text, measured in the input's own
#: font, wider than the input's inside (an input's scrollWidth does not grow with its text).
CUT_JS = """boxes => boxes.flatMap(b => [...b.querySelectorAll("input")].filter(i => {
    const s = getComputedStyle(i), c = document.createElement("canvas").getContext("2d");
    c.font = s.font;
    const room = i.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    return c.measureText(i.value).width > room;
}).map(i => i.value))"""


def table_rows(table) -> pd.DataFrame:
    """An ``st.table``'s rows as the reader sees them (a line break read as a space)."""
    header, *rows = table.locator("table").evaluate(
        """t => [...t.querySelectorAll("tr")].map(
            tr => [...tr.querySelectorAll("th, td")].map(
                c => c.innerText.replace(/\\s+/g, " ").trim()))"""
    )
    return pd.DataFrame(rows, columns=header)


def test_a_regenerating_run_shows_its_generations(
    page: Page, app_url: str, artifacts, tmp_path, full_height
):
    page.goto(f"{app_url}/experiment")
    settle(page)
    fill(page, "Impressions per policy and level", IMPRESSIONS)
    fill(page, "Seeds (repeats, for the 95 % bands)", 1)
    page.get_by_text("More settings").click()
    fill(page, "Regenerate the pools every (impressions; 0: fixed pools)", EVERY)
    page.get_by_role("button", name="Run experiment").click()
    # The first run builds the 20,000-user world first: slow on a loaded 2-core machine.
    heading = page.get_by_role("heading", name=re.compile("Generations"))
    expect(heading).to_be_visible(timeout=300_000)
    settle(page, timeout=180_000)
    no_exception(page)

    view = page.locator(".st-key-ex-generations")
    # Streamlit scrolls inside its own container: a window as tall as the page. Elements off
    # screen draw as placeholders until they come into view, so grow until the height holds.
    # The shots come before the table is read (that focuses, and outlines, a cell).
    full_height(page)
    page.screenshot(path=str(artifacts / "experiment-regenerated.png"), full_page=True)
    view.screenshot(path=str(artifacts / "generations.png"))

    # Chosen level, policy, seed and audience; the summary line counts the generations.
    for label in ("Level", "Policy", "Seed", "Audience"):
        expect(view.get_by_label(label, exact=True).last).to_be_visible()
    # At a 1280 px window no choice is cut to "Generic (same ads for everyone" (four boxes
    # to a row cut it).
    page.set_viewport_size({"width": 1280, "height": 2400})
    settle(page)
    boxes = view.locator('[data-testid="stSelectbox"]')
    expect(boxes).to_have_count(4)
    cut = boxes.evaluate_all(CUT_JS)
    assert cut == [], cut
    # Four: the founders' generation 0 and three bred (it read "over 3 generations").
    span = r"creatives in 5 slots over 4 generations \(the founders, generation 0, and 3 bred\)"
    expect(view.get_by_text(re.compile(span))).to_be_visible()
    # The pool over time, and the CTR / ROAS by generation (two panels, one chart).
    charts = view.locator(".vega-embed")
    expect(charts).to_have_count(2)
    for chart in range(2):
        expect(charts.nth(chart).locator("svg, canvas").first).to_be_visible()
    # The lineage table, one row per creative: founders (generation 0) have no parent.
    table = view.locator('[data-testid="stTable"]')
    lineage = table_rows(table)
    assert list(lineage) == list(LINEAGE_HEADERS)
    # It fits the page: as a data grid its last three columns ran past a 1280 px window.
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    generation = lineage["Generation"].astype(int)
    assert sorted(set(generation)) == [0, 1, 2, 3]
    assert ((lineage["Parent"] == "(founder)") == (generation == 0)).all()
    assert (lineage.loc[generation > 0, "Changed"] != "(founder)").all()
    # Each observed rate says what it rests on.
    assert lineage["Observed ROAS"].str.fullmatch(r"\d+\.\d\d× \((no sales|[\d,]+ sales?)\)").all()
    # The pool at the end, rendered: an image a slot (5 variants by default).
    images = view.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(5)
    for k in range(5):
        assert images.nth(k).evaluate("i => i.complete && i.naturalWidth > 0")

    # The allocation view names slots, not the founders the slots started with.
    expect(page.get_by_text(re.compile(r"creative in a slot changes")).first).to_be_visible()
