"""Uploaders: a refused file keeps the accepted one it replaced; the × still forgets it.

Choosing another file in a single-file uploader makes Streamlit (1.67) send "no file"
first (the page runs with the widget empty, its ``on_change`` fired), then the new file.
AppTest cannot upload, so ``st.file_uploader`` is replaced by a stand-in that replays that
sequence: each run takes the value queued for its key, fires ``on_change`` when the value
changed, as Streamlit does before the script, and returns it.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import streamlit

from ui.fmt import WORD_JOINER

GOOD_SEGMENTS = (
    b"audience_id,name,top_interests,keywords,active_hours,mobile_share,price_sensitivity,"
    b"language,size\n"
    b"gamers,Night-owl gamers,gaming;tech,rpg,night,0.9,0.9,en,1200\n"
)
BAD_SEGMENTS = b"audience_id,top_interests\nx,cooking\n"
GOOD_CATALOGUE = b"name,category,price\nYoga Mat,fitness,20\n"
BAD_CATALOGUE = b"name,category,price\nYoga Mat,no-such-category,20\n"
GOOD_TEMPLATES = b'[en.playful]\nheadline = ["{product} for you"]\n'
BAD_TEMPLATES = b"[en.friendly\n"

#: page, uploader key, state key, (good file, bad file), what the error says of the previous.
UPLOADERS = {
    "segments": ("audience", "segments-file", "uploaded_segments",
                 ("good.csv", GOOD_SEGMENTS), ("bad.csv", BAD_SEGMENTS), "previous segments"),
    "catalogue": ("creatives", "catalogue-file", "uploaded_catalogue",
                  ("good.csv", GOOD_CATALOGUE), ("bad.csv", BAD_CATALOGUE), "previous catalogue"),
    "templates": ("creatives", "templates-file", "templates",
                  ("good.toml", GOOD_TEMPLATES), ("bad.toml", BAD_TEMPLATES), "previous templates"),
}  # fmt: skip
_UNSET = object()


def _plain(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(WORD_JOINER, "")


@pytest.fixture
def uploads(monkeypatch):
    """Stand-in uploader; ``queue(at, key, file)`` sets the value of its next run."""

    def file_uploader(label, *, key, on_change=None, **kwargs):
        state = streamlit.session_state
        queued = state.get(f"test-next:{key}", _UNSET)
        if queued is not _UNSET:
            del state[f"test-next:{key}"]
            state[key] = queued
            if on_change is not None:
                on_change()
        return state.get(key)

    monkeypatch.setattr(streamlit, "file_uploader", file_uploader)
    counter = iter(range(1, 1_000))

    def queue(at, key, name_data):
        file = None
        if name_data is not None:
            name, data = name_data
            file = SimpleNamespace(name=name, file_id=f"id{next(counter)}", getvalue=lambda: data)
        at.session_state[f"test-next:{key}"] = file
        at.run()
        assert not at.exception, at.exception

    return queue


def _errors(at) -> list[str]:
    return [_plain(e.value) for e in at.error]


@pytest.mark.parametrize("kind", list(UPLOADERS))
def test_a_refused_file_chosen_over_an_accepted_one_keeps_it(app, open_page, uploads, kind):
    page, key, slot, good, bad, previous = UPLOADERS[kind]
    at = open_page(app, page)
    uploads(at, key, good)
    assert at.session_state[slot][0] == good[0]
    # The swap, as the browser sends it: no file (the old one leaves the box), then the new.
    uploads(at, key, None)
    uploads(at, key, bad)
    assert at.session_state[slot][0] == good[0]
    errors = _errors(at)
    assert any(f"The {previous} ({good[0]}) " in e for e in errors), errors


@pytest.mark.parametrize("kind", list(UPLOADERS))
def test_the_cross_forgets_the_accepted_file(app, open_page, uploads, kind):
    page, key, slot, good, bad, previous = UPLOADERS[kind]
    at = open_page(app, page)
    uploads(at, key, good)
    uploads(at, key, None)  # the ×
    assert slot not in at.session_state
    at.run()  # anything else the user does: the × stands
    uploads(at, key, bad)
    assert slot not in at.session_state
    errors = _errors(at)
    assert errors and not any(previous in e for e in errors), errors
    assert any("is in use" in e for e in errors), errors


@pytest.mark.parametrize("kind", list(UPLOADERS))
def test_a_first_refused_file_says_nothing_was_kept(app, open_page, uploads, kind):
    page, key, slot, _, bad, previous = UPLOADERS[kind]
    at = open_page(app, page)
    uploads(at, key, bad)
    assert slot not in at.session_state
    errors = _errors(at)
    assert len(errors) == 1 and previous not in errors[0] and "is in use" in errors[0], errors


@pytest.mark.parametrize("kind", list(UPLOADERS))
def test_an_accepted_file_chosen_over_an_accepted_one_replaces_it(app, open_page, uploads, kind):
    page, key, slot, good, _, _ = UPLOADERS[kind]
    at = open_page(app, page)
    uploads(at, key, good)
    uploads(at, key, None)
    uploads(at, key, ("second" + good[0][4:], good[1]))
    assert at.session_state[slot][0] == "second" + good[0][4:]
    uploads(at, key, None)  # its × forgets it, not the first
    at.run()
    assert slot not in at.session_state
