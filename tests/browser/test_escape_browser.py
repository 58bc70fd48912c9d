"""In Chromium: uploaded Markdown payloads render as text, fetch nothing, link nowhere.

A tiny HTTP server on a free loopback port counts the requests it gets; the payloads point
at it. Segment files carry them in a cell, a keyword and the file name; one file is refused
(the error quotes the cell), one is used (its name is listed, its keyword goes into the
ads on the Creatives page); a templates file with the payload in a slot is refused.
"""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from streamlit_page import settle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

#: A 1×1 transparent GIF, what an image request would get.
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501


@pytest.fixture
def bait():
    """``(port, requests)``: a loopback server that records every path asked of it."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(GIF)))
            self.end_headers()
            self.wfile.write(GIF)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        port = server.server_address[1]
        # The counter works: a request from here is seen (then forgotten).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=5) as response:
            assert response.read() == GIF
        assert requests == ["/probe"]
        requests.clear()
        yield port, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def visible_text(page: Page, selector: str) -> str:
    """Text of the matching elements as a reader sees it, input values included."""
    return page.eval_on_selector_all(
        selector,
        """els => els.map(e => [e.innerText, ...[...e.querySelectorAll('input')].map(i => i.value)]
            .join('\\n')).join('\\n').replaceAll('\\u2060', '')""",
    )


def assert_clean(page: Page, port: int, requests: list[str]) -> None:
    """No image or link to the bait server (or anywhere else outside the app); no request."""
    host = f"127.0.0.1:{port}"
    for selector in (f'img[src*="{host}"]', f'a[href*="{host}"]', f'[srcset*="{host}"]'):
        expect(page.locator(selector)).to_have_count(0)
    # Nor any other link or image made from the payloads (the app's own are not external).
    app = urlsplit(page.url).netloc
    urls = page.eval_on_selector_all("a[href], img[src]", "els => els.map(e => e.href || e.src)")
    assert not [
        u for u in urls if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != app
    ]
    # An unescaped image is fetched as soon as it is drawn (seen: ['/a'] within 1 s).
    page.wait_for_timeout(500)
    assert requests == []


def test_markdown_payloads_fetch_nothing(page: Page, app_url: str, artifacts, bait):
    port, requests = bait
    image = f"![x](http://127.0.0.1:{port}/a)"
    link = f"[y](http://127.0.0.1:{port}/b)"
    page.goto(f"{app_url}/")
    settle(page)
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first

    refused = f"audience_id,name,top_interests,language\ng,G,gaming,{image}\n".encode()
    upload.set_input_files(
        files=[{"name": f"{link}.csv", "mimeType": "text/csv", "buffer": refused}]
    )
    settle(page)
    error = '[data-testid="stAlertContentError"]'
    expect(page.locator(error)).to_have_count(1)
    assert_clean(page, port, requests)
    assert image in visible_text(page, error)
    page.locator(error).screenshot(path=str(artifacts / "escape-error.png"))

    used = f"audience_id,name,top_interests,keywords\ng,{image},gaming,{link}\n".encode()
    upload.set_input_files(files=[{"name": f"{image}.csv", "mimeType": "text/csv", "buffer": used}])
    settle(page)
    success = '[data-testid="stAlertContentSuccess"]'
    expect(page.locator(error)).to_have_count(0)
    assert f"from {image}.csv" in visible_text(page, success)
    assert_clean(page, port, requests)
    page.screenshot(path=str(artifacts / "escape-audience.png"), full_page=True)

    # The Creatives page lists the segment by its name and writes ads with its keyword.
    page.get_by_role("link", name="Creatives").click()
    settle(page)
    page.get_by_role("combobox").first.click()
    page.get_by_role("option", name=f"Uploaded: {image} (g)").click()
    settle(page)
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
    assert f"Uploaded: {image} (g)" in visible_text(page, '[data-testid="stSelectbox"]')
    assert_clean(page, port, requests)

    # A templates file whose slot holds the payload is refused; the error quotes the slot.
    page.get_by_text("Copy templates (upload your own TOML)").click()
    bad_slot = f'[en.playful]\nheadline = ["Hi {{{image}}}"]\n'.encode()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        files=[{"name": f"{link}.toml", "mimeType": "text/plain", "buffer": bad_slot}]
    )
    settle(page)
    expect(page.locator(error)).to_have_count(1)
    assert_clean(page, port, requests)
    assert f"unknown slot {{{image}}}" in visible_text(page, error)
    page.screenshot(path=str(artifacts / "escape-creatives.png"), full_page=True)

    page.wait_for_timeout(1_000)  # a late image request would have arrived by now
    assert requests == []
