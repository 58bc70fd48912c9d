"""In Chromium: the generated level, chosen in the form, runs and shows what mvt_ts learned.

A user adds the level and the policy in the two multiselects, runs a small experiment and
sees the like-for-like uplift with a Generated row, the component effects chart (estimate,
interval and the true effect per component), what each policy served component by
component, and each segment's most-served creative, rendered. The screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from streamlit_page import settle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # pytest-playwright's own session fixture `base_url` triggers this pytest 9 deprecation.
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

GENERATED = "Generated (composed per impression)"
# The policy is offered by its display name; its spec stays in brackets.
MVT_TS = "Multivariate Thompson (mvt_ts)"

# What the page shows while the generated level runs, read in one go inside the page (from
# Python, the run could end between two checks): the charts drawn by Vega (each one's first
# canvas or svg has a size), whether the Stop button is there, and which notes are.
EARLY_STATE = """() => {
    const text = document.body.innerText;
    const charts = [...document.querySelectorAll(".vega-embed")].filter((chart) => {
        const drawn = chart.querySelector("canvas, svg");
        return drawn && drawn.getBoundingClientRect().width > 0;
    });
    return {
        charts: charts.length,
        stop: [...document.querySelectorAll("button")].some((b) => b.innerText.trim() === "Stop"),
        progress: text.includes("Simulating the generated level… "),
        compared: text.includes("compared with the generic level when it ends"),
        running: text.includes("The generated level is still running"),
        done: text.includes("What the learner believes about each component"),
    };
}"""
EARLY_READY = "s.charts >= 4 && s.stop && s.progress && s.compared && s.running"


def fill(page: Page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Tab")


def add_option(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in the multiselect labelled ``label``, as a user types it."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label)
    box.locator("input").click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(box.get_by_text(option, exact=True)).to_be_visible()


def run_to_the_end(page: Page, impressions: int):
    """Run the form's levels and policies at ``impressions``, one seed, until the page settles.

    Returns the locator of the learner's beliefs, which the finished run shows.
    """
    fill(page, "Impressions per policy and level", impressions)
    fill(page, "Seeds (repeats, for the 95 % bands)", 1)
    page.get_by_role("button", name="Run experiment").click()
    beliefs = page.get_by_text(re.compile("What the learner believes about each component"))
    expect(beliefs).to_be_visible(timeout=300_000)
    settle(page, timeout=180_000)
    return beliefs


def test_the_generated_level_runs_and_shows_what_the_learner_believes(
    page: Page, app_url: str, artifacts, full_height
):
    page.goto(f"{app_url}/experiment")
    settle(page)
    add_option(page, "Personalization levels", GENERATED)
    add_option(page, "Policies", MVT_TS)
    # The first run builds the world and compiles the learner: slow on a loaded machine.
    run_to_the_end(page, 20_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    # The pairs that do not apply are said, with why, not silently dropped.
    expect(page.get_by_text(re.compile(r"^Not run, as they do not apply: ")).first).to_be_visible()

    # The like-for-like uplift has the generated level beside the pool levels.
    expect(page.get_by_text(re.compile(r"Generated")).first).to_be_visible()
    # The effects chart: one panel per axis, drawn by Vega.
    chart = page.locator(".vega-embed").filter(has=page.locator("svg, canvas")).last
    served = page.get_by_text(re.compile("The creative each segment was served most"))
    expect(served).to_be_visible()
    full_height(page)
    page.screenshot(path=str(artifacts / "experiment-generated.png"), full_page=True)
    # Each segment's most-served composition, rendered as an image with its share.
    images = page.locator('[data-testid="stImage"] img')
    assert images.count() >= 1
    for i in range(images.count()):
        expect(images.nth(i)).to_be_visible()
        size = images.nth(i).evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert min(size) > 100, size
    expect(page.get_by_text(re.compile(r"% of its impressions")).first).to_be_visible()
    expect(chart).to_be_visible()
    # What each policy served, component by component: bars drawn by Vega, one panel per axis.
    title = page.get_by_text(re.compile("What each policy served, component by component"))
    expect(title).to_be_visible()
    bars = title.locator("xpath=following::*[@data-testid='stVegaLiteChart'][1]")
    expect(bars.locator("svg, canvas").first).to_be_visible()
    assert bars.bounding_box()["height"] > 400  # ten panels, not an empty frame
    bars.screenshot(path=str(artifacts / "generated-served.png"))


def test_the_pool_levels_show_while_the_generated_level_runs(
    page: Page, waiting_app_url: str, artifacts
):
    # The generic level with the generated one: the generic level's results are drawn as
    # soon as they are done (by the click's own page load, which waits for them), said to
    # be complete, with the generated level still running above them; then the whole run
    # replaces them. The app's click waits 2 s, which a loaded machine overran (the
    # results then came only with the whole run): this server's click waits as long as
    # the test does (conftest.PATIENT_RUN_WAIT), so what is tested is what the page does
    # with results that come within the wait, not how fast the machine is.
    app_url = waiting_app_url
    page.goto(f"{app_url}/experiment")
    settle(page)
    levels = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Personalization levels")
    levels.locator("input").click()
    page.keyboard.press("Backspace")  # Per user
    page.keyboard.press("Backspace")  # Per segment
    page.keyboard.press("Escape")
    add_option(page, "Personalization levels", GENERATED)
    # Uniform alone at the generic level: its results come soon, the generated level's
    # long after.
    policies = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Policies")
    policies.locator("input").click()
    for _ in range(4):  # LinUCB, Thompson sampling, UCB1, ε-greedy
        page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    add_option(page, "Policies", MVT_TS)
    # A small run of the same levels first, to its end: the server builds the world's
    # generated-level tables (the oracle's exact table: seconds of both cores) and the
    # browser loads Vega. In a new browser session whose first run this was, CI twice saw
    # the early results' charts never drawn and the progress and its Stop button missing
    # until the run ended (a known issue, docs/app.md); a user's later runs are tested here.
    beliefs = run_to_the_end(page, 2_000)
    fill(page, "Seeds (repeats, for the 95 % bands)", 3)
    # The generic level's three seeds take a fraction of a second; the generated level's
    # tens of seconds (at 600,000 a quiet machine could end the run within seconds of the
    # early results, before the checks below looked: one CI run failed so).
    fill(page, "Impressions per policy and level", 2_000_000)
    # A tall window from the start: growing it to the page waits for the page to settle,
    # which it does only when the run ends (its progress polls twice a second).
    page.set_viewport_size({"width": 1400, "height": 5000})
    page.get_by_role("button", name="Run experiment").click()
    note = page.get_by_text(re.compile("The generated level is still running"))
    expect(note).to_be_visible(timeout=300_000)
    # Four charts drawn by Vega (each one's first canvas or svg has a size), the progress
    # ("Simulating the generated level… ") with its Stop button, and the notes that the
    # generated level still runs: all looked at in one check inside the page (from Python,
    # the run could end between two checks).
    try:
        page.wait_for_function(
            # Each state seen is kept (window.seenStates) to say, on failure, what came.
            f"""() => {{
                const s = ({EARLY_STATE})();
                (window.seenStates = window.seenStates || new Set()).add(JSON.stringify(s));
                return {EARLY_READY};
            }}""",
            timeout=60_000,
        )
    except PlaywrightTimeoutError:
        # Say which part never came (and keep the page as it was) rather than a bare timeout.
        page.screenshot(
            path=str(artifacts / "experiment-generated-early-failed.png"), full_page=True
        )
        seen = page.evaluate("[...(window.seenStates || [])]")
        pytest.fail(f"the early results never showed whole within 60 s; states seen: {seen}")
    page.screenshot(path=str(artifacts / "experiment-generated-early.png"), full_page=True)
    expect(beliefs).to_be_visible(timeout=300_000)
    settle(page, timeout=180_000)
    expect(note).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
