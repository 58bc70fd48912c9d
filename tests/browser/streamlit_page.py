"""Waiting for a Streamlit page in a real browser: one copy for every browser test."""

from __future__ import annotations

from playwright.sync_api import Page, expect

SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
#: What Streamlit draws in place of an element whose code it has not loaded yet (a React
#: Suspense fallback: charts, tables and images load their code on first use). The script
#: can have settled seconds before they are drawn: on a loaded 2-core machine, 3 s after
#: the default experiment's script settled, 15 placeholders and 3 of its 5 charts were there.
PLACEHOLDER = '[data-testid="stSkeleton"]'

# How long the page must stay settled before a wait ends. A click's rerun can begin a little
# after the click (later on a loaded machine): one look right after the click may see the
# page of before it, settled, and let the test read a page that is about to change.
QUIET_MS = 300


def settle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script has run and everything is drawn, twice ``QUIET_MS`` apart.

    Drawn: nothing greyed out and no placeholder left (:data:`PLACEHOLDER`).
    """
    for _ in range(2):
        page.wait_for_selector(SETTLED, timeout=timeout)
        expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=timeout)
        expect(page.locator(PLACEHOLDER)).to_have_count(0, timeout=timeout)
        page.wait_for_timeout(QUIET_MS)


def no_exception(page: Page) -> None:
    """No Python exception shown on the page."""
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
