"""A real app server and Debian's Chromium for the browser tests.

The server is ``python -m ui`` (what ``make run`` starts: adlab preloaded, then
``streamlit run app.py``) on a free local port, in its own process group, with
``ADLAB_HOME`` in a temporary directory; it is stopped by its process-group id. Chromium is
``/usr/bin/chromium`` (``ADLAB_CHROMIUM`` overrides). Without it the tests are skipped with a
visible reason, unless ``ADLAB_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page
from streamlit_page import settle

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("ADLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file():
        return
    reason = (
        f"Chromium not found at {CHROMIUM}: install it with "
        "`apt-get install -y --no-install-recommends chromium` to run the browser tests"
    )
    if os.environ.get("ADLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (ADLAB_REQUIRE_BROWSER=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at Debian's Chromium."""
    _require_chromium()
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A tall window: Streamlit scrolls inside its own container, so screenshots need it."""
    return {**browser_context_args, "viewport": {"width": 1400, "height": 2400}}


#: The page's content height. Not that of Streamlit's scrolling containers: they stretch
#: to the window, so they would grow with every resize and never hold.
PAGE_HEIGHT_JS = (
    "() => Math.max(2400, document.querySelector("
    "'[data-testid=stMainBlockContainer]').scrollHeight)"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _serve(tmp_path_factory, env: dict[str, str] | None = None):
    """Start an app server, yield its base URL, stop it (its run store is a temporary directory).

    ``env``: environment variables for the server beside ``ADLAB_HOME``.
    """
    _require_chromium()
    port = _free_port()
    home = tmp_path_factory.mktemp("adlab-home")
    log = open(tmp_path_factory.mktemp("server") / "streamlit.log", "w+b")  # noqa: SIM115
    cmd = [
        # The launcher `make run` uses: adlab preloaded, then `streamlit run app.py`.
        sys.executable, "-m", "ui",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {}), "ADLAB_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the app server did not start:\n{log.read().decode()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Base URL of a fresh app server (its run store is a temporary directory)."""
    yield from _serve(tmp_path_factory)


#: Seconds the Run click's page load of :func:`waiting_app_url` waits for a run's results
#: (``ADLAB_RUN_WAIT``), against the app's 2 s: on a 2-core machine at load average 10 and
#: more the generic level's results of a fresh server's first run came after those 2 s, and
#: the page then drew them only when the whole run ended. As long as the tests' own waits
#: for a run's first results (300 s), so that the page never gives up before the test.
PATIENT_RUN_WAIT = 300


@pytest.fixture(scope="module")
def waiting_app_url(tmp_path_factory) -> str:
    """Base URL of an app server whose Run click waits :data:`PATIENT_RUN_WAIT` s for results.

    For what the click's own page load draws, whatever the machine's load: the app waits
    2 s (``ui.runner.SYNC_WAIT``), a time budget measured by ``bench/app.py``, not a
    mechanism a test can rely on. The page draws what comes within the wait as it does
    within 2 s.
    """
    yield from _serve(tmp_path_factory, {"ADLAB_RUN_WAIT": str(PATIENT_RUN_WAIT)})


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def copy_to_docs():
    """``copy(screenshot, name)`` refreshes ``docs/name`` when ``ADLAB_UPDATE_SCREENSHOT=1``."""

    def copy(screenshot: Path, name: str) -> None:
        if os.environ.get("ADLAB_UPDATE_SCREENSHOT") == "1":
            (ROOT / "docs").mkdir(exist_ok=True)
            # A 256-colour palette keeps a UI screenshot sharp at a third of the size.
            image = Image.open(screenshot).convert("RGB")
            # The top of the page (the form and the like-for-like headline) reads in a README.
            image = image.crop((0, 0, image.width, min(image.height, 2300)))
            image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            image.save(ROOT / "docs" / name, optimize=True)

    return copy


@pytest.fixture(scope="session")
def full_height():
    """``full_height(page, limit=12_000)`` makes the window as tall as the page, once it holds.

    Streamlit scrolls inside its own container, so a full-page screenshot is only as
    tall as the window; and charts off screen draw as grey placeholders until they
    come into view, which can make the page taller. So the window grows to the page's
    height (plus a margin, at most ``limit`` pixels) until that height stops changing.
    """

    def grow(page: Page, limit: int = 12_000) -> None:
        height = 0
        for _ in range(8):
            new = page.evaluate(PAGE_HEIGHT_JS)
            if new == height:
                return
            height = new
            page.set_viewport_size({"width": 1400, "height": min(int(height) + 100, limit)})
            # Drawn at the new size (no placeholder left), not a fixed pause.
            settle(page)

    return grow
