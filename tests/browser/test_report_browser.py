"""In Chromium, offline: the HTML report of a saved run draws its charts, tables and winners.

The page is opened from a file:// URL with every other request aborted (and counted): the
report must need nothing from the network. The screenshot goes to tests/artifacts/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.store.report import write_report
from simulation.store.run_store import RunStore

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

CONFIG = ExperimentConfig(
    n_users=1_000, n_segments=3, n_impressions=3_000, batch_size=500, n_seeds=2,
    policies=("uniform", "thompson", "lin_ucb"), n_variants=3, n_checkpoints=8,
)  # fmt: skip


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    result = run_experiment(CONFIG)
    store = RunStore.open(tmp_path_factory.mktemp("store"))
    run_id = store.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli", name="offline report",
        tables={"allocation": result.allocation_frame(), "segments": result.segment_frame(),
                "uplift": result.uplift_frame()},
    )  # fmt: skip
    path = write_report(store.load(run_id), tmp_path_factory.mktemp("out") / "report.html")
    return path, result.uplift_frame()


def test_report_renders_offline(page: Page, report_file, artifacts):
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    path, uplift_rows = report_file
    page.set_viewport_size({"width": 1280, "height": 900})
    page.route("**/*", route)
    page.goto(path.as_uri())
    expect(page.locator("h1")).to_contain_text("offline report")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    # Each chart draws one visible line per (level, policy): 3 levels x 3 policies.
    for i in range(2):
        lines = charts.nth(i).locator("polyline.line")
        expect(lines).to_have_count(9)
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 200
    # The like-for-like uplift: one row per row of the run's table, the truth labelled.
    uplift = page.locator("table.uplift tbody tr")
    expect(uplift).to_have_count(len(uplift_rows))
    expect(
        page.locator("table.uplift th").filter(has_text="True (expected) uplift")
    ).to_be_visible()
    expect(page.locator("table.uplift td").filter(has_text="%").first).to_be_visible()
    expect(page.locator("#uplift-headline")).to_contain_text("seeds × 1 world")
    expect(page.get_by_text("best generic")).to_have_count(0)
    expect(page.locator("table.metrics tbody tr")).to_have_count(9)  # 3 levels x 3 policies
    # The winners' images are decoded (a broken image has naturalWidth 0).
    images = page.locator(".card img")
    expect(images).to_have_count(CONFIG.n_segments)
    widths = images.evaluate_all("els => els.map(e => e.complete && e.naturalWidth)")
    assert all(w and w > 100 for w in widths), widths
    expect(page.get_by_text("Data provenance")).to_be_visible()
    assert blocked == []
    # Long settings (lists, world tables) wrap: the page is no wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)


@pytest.mark.parametrize(("width", "across"), [(1280, 3), (800, 2), (420, 1)])
def test_the_leaders_cards_fit_the_window_and_their_tables_fit_the_cards(
    page: Page, report_file, width, across
):
    # The cards were 320 px wide whatever the window (three filled 1,056 of 1,200 px), their
    # "What differs" one line per component running on for three lines, and below about
    # 1,100 px the charts and the uplift table made the whole page scroll sideways.
    path, _ = report_file
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    cards = page.locator(".card")
    expect(cards).to_have_count(CONFIG.n_segments)
    boxes = [cards.nth(i).bounding_box() for i in range(CONFIG.n_segments)]
    first_row = [b for b in boxes if abs(b["y"] - boxes[0]["y"]) < 1]
    assert len(first_row) == min(across, CONFIG.n_segments)
    grid = page.locator(".cards").bounding_box()
    # The row fills the grid's width (no empty band on the right), whatever the window.
    right = max(b["x"] + b["width"] for b in first_row)
    assert right >= grid["x"] + grid["width"] - 2
    for i in range(CONFIG.n_segments):
        card = boxes[i]
        table = cards.nth(i).locator("table.differs")
        if table.count():
            t = table.bounding_box()
            assert t["x"] >= card["x"] and t["x"] + t["width"] <= card["x"] + card["width"] + 0.5
            header = table.locator("tr").first.locator("th")
            expect(header).to_have_text(["", "This creative", "Runner-up"])
    expect(page.get_by_text("(leader)")).to_have_count(0)
