"""In Chromium: a long run draws its charts as it goes; closing the tab ends it and its workers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from streamlit_page import SETTLED

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]


def _server_pid(app_url: str) -> int:
    """The app server's process (``python -m ui ... --server.port PORT``, see conftest)."""
    port = app_url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        flag = b"--server.port"
        if b"ui" in argv and flag in argv and argv[argv.index(flag) + 1 :][:1] == [port.encode()]:
            return int(proc.name)
    raise LookupError(f"no app server on port {port}")


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (the run's forked workers)."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (in parentheses): state, then the parent's id.
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) != pid or state == "Z":
            continue
        # multiprocessing's helpers live as long as the server once a sweep has used its
        # forkserver (the Sweeps page's pool): they are not a run's workers.
        try:
            argv = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in argv or b"multiprocessing.resource_tracker" in argv:
            continue
        out.append(int(proc.name))
    return out


def test_live_charts_then_closing_the_tab_ends_the_run(
    browser: Browser, browser_context_args, app_url: str, artifacts
):
    server = _server_pid(app_url)
    assert _children(server) == []  # no run under way before this test's
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    page.goto(f"{app_url}/experiment")
    page.wait_for_selector(SETTLED, timeout=60_000)
    # The default experiment at 5,000,000 impressions: about 20 s or more on 2 cores, over
    # the 10 s from which the page draws live charts.
    page.get_by_label("Impressions per policy and level").fill("5000000")
    page.get_by_role("button", name="Run experiment").click()
    expect(page.get_by_role("button", name="Stop")).to_be_visible(timeout=180_000)
    expect(
        page.get_by_text(re.compile(r"^In progress — [\d,]+ of [\d,]+ impressions$"))
    ).to_be_visible(timeout=60_000)
    live = page.get_by_text("Cumulative click-through rate (in progress)")
    expect(live).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Cumulative return on ad spend (in progress)")).to_be_visible()
    expect(page.get_by_text(re.compile("dashed where not all 3 have yet"))).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    # The picture once every seed of the generic level is under way (its bands drawn):
    # the workers take the (seed, level) units seed by seed, so that is 7th of 9.
    expect(
        page.get_by_text(re.compile(r"Generic \(same ads for everyone\): 3 of 3 seeds"))
    ).to_be_visible(timeout=600_000)
    page.wait_for_timeout(3_000)  # a few refreshes more
    expect(page.get_by_role("button", name="Stop")).to_be_visible()  # still running
    assert len(_children(server)) >= 1  # the run's forked workers
    page.screenshot(path=str(artifacts / "experiment-live.png"), full_page=True)

    context.close()  # the tab (and its browser session) goes away
    closed = time.monotonic()
    while _children(server) and time.monotonic() < closed + 5.0:
        time.sleep(0.05)
    assert _children(server) == []
    print(f"the run's workers ended {time.monotonic() - closed:.2f} s after the tab closed")
