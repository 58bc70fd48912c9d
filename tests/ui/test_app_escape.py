"""Markdown payloads uploaded through every route appear only escaped (issue #17, point 3).

Each test uploads a file through the page's real ``st.file_uploader`` with an image or link
payload in a cell, in the file name or in a template slot, and checks every element whose
body Streamlit renders as Markdown: the payload is there, escaped, and nowhere raw.
"""

from __future__ import annotations

import re

import pytest

from ui.fmt import escape_markdown

PORT = 8765  # nothing listens: AppTest renders no Markdown, it only holds the bodies
IMAGE = f"![x](http://127.0.0.1:{PORT}/a)"
LINK = f"[y](http://127.0.0.1:{PORT}/b)"
#: Raw Markdown that would render as a link or image, or fetch a URL.
RAW = re.compile(r"!\[|\]\(|https?://|<img|<a ")
#: Elements whose body Streamlit renders as Markdown.
MARKDOWN_ELEMENTS = (
    "markdown", "caption", "error", "warning", "info", "success", "title", "header",
    "subheader", "toast", "exception",
)  # fmt: skip


def markdown_bodies(at) -> list[str]:
    bodies = []
    for kind in MARKDOWN_ELEMENTS:
        for element in getattr(at, kind):
            value = getattr(element, "value", None)
            bodies.append(str(value if value is not None else element.proto))
    # st.table renders each header and cell as Markdown too (the uplift, final metrics and
    # leaders tables: ui.tables.markdown_table).
    for table in at.table:
        frame = table.value
        bodies.append(" ".join(map(str, [*frame.columns, *frame.to_numpy().ravel()])))
    return bodies


def assert_only_escaped(at, payload: str) -> None:
    """The payload is shown (escaped) in some Markdown body and raw in none."""
    assert not at.exception, at.exception
    bodies = markdown_bodies(at)
    raw = [b for b in bodies if RAW.search(b)]
    assert raw == [], raw
    assert any(escape_markdown(payload) in b for b in bodies), bodies


def upload(at, key: str, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key=key).set_value((name, data, mime)).run()
    return at


def test_the_check_finds_a_raw_payload():
    assert RAW.search(f"That file was not used: {IMAGE}")
    assert RAW.search(f"Using {LINK}.")
    assert not RAW.search(f"Using {escape_markdown(IMAGE)} and {escape_markdown(LINK)}.")


SEGMENT_FILES = [
    ("cell", "segments.csv", f"audience_id,name,top_interests,language\ng,G,gaming,{IMAGE}\n"),
    ("interest cell", "segments.csv", f"audience_id,name,top_interests\ng,G,{LINK}\n"),
    ("file name", f"{IMAGE}.csv", ""),
    ("header", "segments.csv", f"audience_id,name,top_interests,{LINK}\ng,G,gaming,1\n"),
]


@pytest.mark.parametrize(
    ("where", "name", "text"), SEGMENT_FILES, ids=[f[0] for f in SEGMENT_FILES]
)
def test_segment_upload_errors_escape_the_payload(app, open_page, where, name, text):
    at = upload(open_page(app, "audience"), "segments-file", name, text.encode())
    assert at.error, "the file was expected to be refused"
    assert_only_escaped(at, IMAGE if IMAGE in name + text else LINK)


def test_accepted_segments_with_payload_name_and_file_name(app, open_page):
    text = f"audience_id,name,top_interests,keywords\ng,{IMAGE},gaming,{LINK}\n"
    at = upload(open_page(app, "audience"), "segments-file", f"{LINK}.csv", text.encode())
    assert not at.error, [e.value for e in at.error]
    assert_only_escaped(at, LINK)  # "Using 1 segment from <file name>."
    # The creatives written for it quote the keyword: plain text, shown as it is.
    at.switch_page("ui/pages/creatives.py").run()
    option = next(o for o in at.selectbox(key="cr-audience").options if o.startswith("Uploaded"))
    at.selectbox(key="cr-audience").set_value(option).run()
    assert not at.exception, at.exception
    assert not [b for b in markdown_bodies(at) if RAW.search(b)]


TEMPLATE_FILES = [
    ("slot", "templates.toml", f'[en.playful]\nheadline = ["Hi {{{IMAGE}}}"]\n'),
    ("file name", f"{IMAGE}.toml", ""),
    ("table", "templates.toml", f'[en."{LINK}"]\nheadline = ["Hi"]\n'),
]


@pytest.mark.parametrize(
    ("where", "name", "text"), TEMPLATE_FILES, ids=[f[0] for f in TEMPLATE_FILES]
)
def test_template_upload_errors_escape_the_payload(app, open_page, where, name, text):
    at = upload(open_page(app, "creatives"), "templates-file", name, text.encode(), "text/plain")
    assert at.error, "the file was expected to be refused"
    assert_only_escaped(at, IMAGE if IMAGE in name + text else LINK)


def test_accepted_template_text_is_plain_and_its_file_name_escaped(app, open_page):
    text = f'[en.playful]\nheadline = ["{IMAGE} {{product}}"]\n'
    at = upload(open_page(app, "creatives"), "templates-file", f"{LINK}.toml", text.encode())
    assert not at.error, [e.value for e in at.error]
    assert_only_escaped(at, LINK)
    at.selectbox(key="cr-audience").set_value("Generic (everyone, no audience data)")
    at.slider(key="cr-n").set_value(12)
    at.run()
    assert not at.exception, at.exception
    # The copy is shown with st.text (plain): the payload is there, verbatim.
    assert any(IMAGE in t.value for t in at.text)
    assert not [b for b in markdown_bodies(at) if RAW.search(b)]


LOG = "action,reward,propensity\n0,1,0.5\n1,0,0.5\n0,0,0.5\n1,1,0.5\n"
LOG_FILES = [
    ("reward cell", "log.csv", LOG.replace("0,1,0.5", f"0,{IMAGE},0.5", 1)),
    ("action cell", "log.csv", LOG.replace("1,0,0.5", f"{LINK},0,0.5", 1)),
    ("column", "log.csv", LOG.replace("propensity", IMAGE, 1)),
    ("file name", f"{LINK}.csv", ""),
]


@pytest.mark.parametrize(("where", "name", "text"), LOG_FILES, ids=[f[0] for f in LOG_FILES])
def test_log_upload_errors_escape_the_payload(app, open_page, where, name, text):
    app.session_state["ope-source"] = "Upload a log"
    at = upload(open_page(app, "ope"), "ope-file", name, text.encode())
    assert at.error, "the file was expected to be refused"
    assert_only_escaped(at, IMAGE if IMAGE in name + text else LINK)


def test_accepted_log_file_name_is_escaped(app, open_page):
    app.session_state["ope-source"] = "Upload a log"
    at = upload(open_page(app, "ope"), "ope-file", f"{IMAGE}.csv", LOG.encode())
    assert not at.error, [e.value for e in at.error]
    assert_only_escaped(at, IMAGE)


def test_a_huge_cell_is_quoted_in_a_capped_message():
    from ui.uploads import MAX_MESSAGE_CHARS, UploadError, parse_segments_upload

    # The readers' own length bounds refuse a huge cell without quoting it ...
    cell = IMAGE * 1_000
    with pytest.raises(UploadError, match="language") as info:
        parse_segments_upload(
            "s.csv", f"audience_id,name,top_interests,language\ng,G,gaming,{cell}\n".encode()
        )
    assert len(str(info.value)) <= MAX_MESSAGE_CHARS
    # ... and any message that does quote one is cut at the cap.
    capped = UploadError("x" * (10 * MAX_MESSAGE_CHARS))
    assert len(str(capped)) == MAX_MESSAGE_CHARS
    assert str(capped).endswith("…")
