"""The Sweeps page in Chromium: what only a browser shows (AppTest sees widget values only)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from streamlit_page import no_exception, settle


def test_a_renamed_sweep_shows_its_new_name_in_the_box(page: Page, app_url: str):
    # A tiny sweep to rename: 2 runs of 500 users and 1,000 impressions.
    page.goto(f"{app_url}/sweeps")
    settle(page)
    page.get_by_role("spinbutton", name="Audience size").fill("500")
    page.get_by_role("spinbutton", name="Impressions").fill("1000")
    page.get_by_role("textbox", name="Its values").first.fill("2, 3")
    page.get_by_role("textbox", name="Name (optional)").fill("before")
    page.get_by_role("textbox", name="Name (optional)").press("Tab")
    settle(page)
    page.get_by_role("button", name="Run sweep").click()
    expect(page.get_by_text("Along", exact=True)).to_be_visible(timeout=180_000)
    settle(page, timeout=180_000)
    page.get_by_text("Open a saved sweep").click()
    settle(page)
    box = page.get_by_role("combobox", name="Saved sweep")
    assert box.input_value().startswith("before (")
    page.get_by_role("textbox", name="New name").fill("after")
    page.get_by_role("textbox", name="New name").press("Tab")
    settle(page)
    page.get_by_role("button", name="Rename").click()
    settle(page)
    no_exception(page)
    # Under an unchanged key the box kept showing "before (...)" as its text, though its
    # list and the store had the new name, until the page was reloaded.
    assert box.input_value().startswith("after (")
    expect(page.get_by_role("textbox", name="New name")).to_have_value("")
