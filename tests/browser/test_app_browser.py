"""End to end in Chromium: every page renders, the default experiment runs and draws."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from streamlit_page import settle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # pytest-playwright's own session fixture `base_url` triggers this pytest 9 deprecation.
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

#: URL of each page: the default page (Audience) is served at "/".
URLS = {
    "audience": "",
    "creatives": "creatives",
    "world": "world",
    "experiment": "experiment",
    "results": "results",
    "ope": "ope",
    "sweeps": "sweeps",
}
PAGES = {
    "audience": "Audience",
    "creatives": "Creatives",
    "world": "World",
    "experiment": "Experiment",
    "results": "Results",
    "ope": "Off-policy evaluation",
    "sweeps": "Sweeps",
}


def no_exception(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders(page: Page, app_url: str, artifacts, path: str):
    page.goto(f"{app_url}/{URLS[path]}")
    settle(page)
    expect(page.locator("h1").first).to_have_text(re.compile(PAGES[path]), timeout=30_000)
    no_exception(page)
    if path == "audience":
        expect(page.locator(".vega-embed").first).to_be_visible()
        # The active-hours chart keeps its plot under a legend of six long segment names
        # (a two-column legend wider than the chart once squeezed the plot to a line):
        # 220 px of plot, its axes and six legend rows.
        title = page.get_by_text("When each segment is online", exact=True)
        chart = title.locator("xpath=following::*[contains(@class, 'vega-embed')][1]")
        expect(chart.locator("svg, canvas").first).to_be_visible()
        assert chart.bounding_box()["height"] > 380
    if path == "creatives":
        expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
        # The generated level's composer: the segment's best, rendered, with its truth.
        page.get_by_role("tab", name="Compose (generated level)").click()
        expect(page.get_by_text("True CTR on the segment's users")).to_be_visible(timeout=30_000)
        settle(page)
        no_exception(page)
        page.screenshot(path=str(artifacts / "creatives-compose.png"), full_page=True)
        page.get_by_role("tab", name="Gallery").click()
    if path == "sweeps":
        expect(page.get_by_role("button", name="Run sweep")).to_be_visible()
    if path == "world":
        # The ground truth is computed on request: the page shows it once asked, the
        # generated level's best compositions too when ticked.
        page.get_by_text("With the generated level").click()
        settle(page)
        page.get_by_role("button", name="Lay the world open").click()
        # Wait for what the click produces, not for a quiet page: the click's rerun may not
        # have begun when settle() first looks (in a fresh-clone CI it returned while the
        # page still showed only its first heading).
        expect(page.get_by_text("Generated level: each user's best composition")).to_be_visible(
            timeout=120_000
        )
        settle(page, timeout=120_000)
        no_exception(page)
        expect(page.locator(".vega-embed").first).to_be_visible(timeout=30_000)
        expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    page.screenshot(path=str(artifacts / f"page-{path}.png"), full_page=True)


def test_a_small_sweep_in_the_browser(page: Page, app_url: str, artifacts, full_height):
    page.goto(f"{app_url}/sweeps")
    settle(page)
    page.get_by_label("Audience size").fill("500")
    page.get_by_label("Impressions").fill("1000")
    page.get_by_label("Impressions").press("Tab")
    settle(page)
    # A second parameter: batch sizes 250 and 1000 (its default values).
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Second parameter").click()
    page.get_by_role("option", name="Batch size").click()
    settle(page)
    page.get_by_role("button", name="Run sweep").click()
    # Six runs (2, 4 and 6 segments x two batch sizes) x 2 replications; the heat maps and
    # the lines appear when they end.
    expect(page.get_by_text("Along", exact=True)).to_be_visible(timeout=180_000)
    settle(page, timeout=180_000)
    no_exception(page)
    # Two heat maps, two line charts. settle() waited for them to be drawn; the count waits
    # as long again in case a chart mounts a moment after its placeholder goes.
    expect(page.locator(".vega-embed")).to_have_count(4, timeout=60_000)
    full_height(page)
    page.screenshot(path=str(artifacts / "sweep-small.png"), full_page=True)


def test_a_sweep_number_out_of_bounds_stays_as_typed_and_says_why(page: Page, app_url: str):
    # A widget's own min/max made the browser keep the last valid value behind a red box and
    # run it; without them the typed value stays and the page says why beside it.
    page.goto(f"{app_url}/sweeps")
    settle(page)
    field = page.get_by_label("Impressions")
    field.fill("10")
    field.press("Tab")
    settle(page)
    no_exception(page)
    expect(field).to_have_value("10")
    expect(
        page.get_by_text("Impressions must be between 1,000 and 200,000; got 10.")
    ).to_be_visible()
    expect(page.get_by_text("This sweep:")).to_have_count(0)
    expect(page.get_by_role("button", name="Run sweep")).to_be_disabled()


def test_default_experiment(page: Page, app_url: str, artifacts, copy_to_docs, full_height):
    page.goto(f"{app_url}/experiment")
    settle(page)
    page.get_by_role("button", name="Run experiment").click()
    # The results appear when the run ends (after its progress, when that takes longer than
    # the click's 2 s); then the script settles and every chart is drawn. Not the first
    # chart: on a loaded machine it came seconds before the others, still placeholders.
    expect(page.get_by_text("Final metrics")).to_be_visible(timeout=180_000)
    settle(page, timeout=180_000)
    no_exception(page)
    # CTR, ROAS and regret bands, allocation over time, each segment's allocation.
    expect(page.locator(".vega-embed")).to_have_count(5, timeout=60_000)
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
    expect(page.get_by_text("Final metrics")).to_be_visible()
    # The previous run's elements grey out at once during a run (app.py): no fade to draw.
    assert page.evaluate(
        """() => [...document.styleSheets].some(sheet => {
            try {
                return [...sheet.cssRules].some(rule =>
                    rule.selectorText === '[data-stale="true"]'
                    && rule.style.getPropertyValue("transition-property") === "none");
            } catch (e) { return false; }
        })"""
    )
    # Streamlit scrolls inside its own container: a window as tall as the page. Charts off
    # screen draw as grey placeholders until they come into view, so grow until it holds.
    full_height(page)
    shot = artifacts / "experiment.png"
    page.screenshot(path=str(shot), full_page=True)
    copy_to_docs(shot, "screenshot-experiment.png")

    # Same tab, other page: the run is listed and can be reloaded.
    page.get_by_role("link", name="Results").click()
    settle(page)
    expect(page.locator("h1").first).to_have_text("Results")
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible()
    no_exception(page)
    page.screenshot(path=str(artifacts / "results-after-run.png"), full_page=True)


def test_segment_upload_in_the_browser(page: Page, app_url: str, artifacts):
    page.goto(f"{app_url}/")
    settle(page)
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
    bad = b"audience_id,top_interests\nx,cooking\n"
    upload.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    settle(page)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_contain_text(
        "unknown categories"
    )
    good = b"audience_id,name,top_interests\ngamers,Night-owl gamers,gaming;tech\n"
    upload.set_input_files(files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good}])
    settle(page)
    expect(page.get_by_text("Using 1 segment from good.csv")).to_be_visible()
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    no_exception(page)
    page.screenshot(path=str(artifacts / "audience-upload.png"), full_page=True)
    # The x of the file in use drops it (the message above proved the upload processed:
    # an x clicked before that could be overtaken by the upload's own rerun)...
    page.get_by_role("button", name="Remove good.csv").click()
    settle(page)
    expect(page.get_by_text("Using 1 segment from good.csv")).to_have_count(0)
    # ...while a page switch, which empties the uploader without its x, keeps it.
    upload.set_input_files(files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": good}])
    settle(page)
    expect(page.get_by_text("Using 1 segment from mine.csv")).to_be_visible()
    page.get_by_role("link", name="Creatives").click()
    settle(page)
    page.get_by_role("link", name="Audience").click()
    settle(page)
    expect(page.get_by_text("Using 1 segment from mine.csv")).to_be_visible()
    no_exception(page)


def test_each_tab_has_its_own_session(page: Page, app_url: str, context):
    other = context.browser.new_context().new_page()
    page.goto(f"{app_url}/")
    other.goto(f"{app_url}/")
    settle(page)
    settle(other)
    segments = page.get_by_role("spinbutton", name="Segments")
    segments.fill("4")
    segments.press("Tab")
    page.get_by_role("button", name="Generate audience").click()
    settle(page)
    expect(page.locator('[data-testid="stMetricValue"]').nth(1)).to_have_text("4")
    other.reload()
    settle(other)
    expect(other.locator('[data-testid="stMetricValue"]').nth(1)).to_have_text("6")
    other.context.close()
