"""Audience page: default render, changing the audience, invalid settings, segment uploads."""

from __future__ import annotations

import re

import pytest

from ui.fmt import WORD_JOINER
from ui.uploads import MAX_SEGMENTS, MAX_UPLOAD_BYTES, UploadError, parse_segments_upload

GOOD_CSV = (
    b"audience_id,name,top_interests,keywords,active_hours,mobile_share,price_sensitivity,"
    b"language,size\n"
    b"gamers,Night-owl gamers,gaming;tech,gaming headset|rpg,night,0.9,0.9,en,1200\n"
    b"cooks,Home cooks,food;home,recipes,evening,0.4,0.5,ko,800\n"
)


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def test_default_render(app, open_page):
    at = open_page(app, "audience", world=None)
    assert at.title[0].value == "Audience"
    assert [m.value for m in at.metric][:2] == ["20,000", "6"]
    segments = at.dataframe[0].value
    assert len(segments) == 6
    assert {"Name", "Users", "Share", "Top interests"} <= set(segments.columns)
    assert segments["Share"].str.endswith("%").all()
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert len(specs) == 3


def test_changing_the_audience_updates_every_page(app, open_page):
    at = open_page(app, "audience", world=None)
    at.number_input[0].set_value(3_000)
    at.number_input[1].set_value(4)
    at.number_input[2].set_value(11)
    next(b for b in at.button if b.label == "Generate audience").click().run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 4
    world = at.session_state["world"]
    assert (world.n_users, world.n_segments, world.seed) == (3_000, 4, 11)
    at.switch_page("ui/pages/experiment.py").run()
    assert any("3,000 simulated users in 4 segments" in c.value for c in at.caption)


def test_invalid_audience_shows_an_error_and_keeps_the_old_one(app, open_page, small_world):
    at = open_page(app, "audience")
    at.number_input[0].set_value(100)
    at.number_input[1].set_value(20)
    next(b for b in at.button if b.label == "Generate audience").click().run()
    assert not at.exception
    assert any("make at most 10 segments" in _shown(e.value) for e in at.error)
    assert at.session_state["world"] == small_world


@pytest.mark.parametrize(
    ("box", "value", "reason"),
    [
        (0, 0, "Population size must be between 100 and 500,000; got 0."),
        (0, 9_999_999, "Population size must be between 100 and 500,000; got 9,999,999."),
        (1, 0, "Segments must be between 1 and 50; got 0."),
        (2, -1, "Seed must be between 0 and 4,294,967,295; got -1."),
    ],
)
def test_a_number_out_of_range_is_named_and_changes_nothing(
    app, open_page, small_world, box, value, reason
):
    # The boxes have no min/max, so the browser never refuses a value behind a hover icon
    # and keeps the old one: the form checks it and says why.
    at = open_page(app, "audience")
    assert at.number_input[box].min is None and at.number_input[box].max is None
    at.number_input[box].set_value(value)
    next(b for b in at.button if b.label == "Generate audience").click().run()
    assert not at.exception
    assert any(reason in _shown(e.value) for e in at.error)
    assert at.session_state["world"] == small_world


BAD_SEGMENT_FILES = [
    ("segments.csv", b"", "empty"),
    ("segments.txt", GOOD_CSV, "expected a .csv or .toml"),
    ("segments.csv", b"\xff\xfe\x00bad", "not UTF-8"),
    ("segments.csv", b"name,top_interests\nx,gaming\n", "audience_id"),
    ("segments.csv", b"audience_id,top_interests\nx,cooking\n", "unknown categories"),
    ("segments.csv", b"audience_id,top_interests,mobile_share\nx,gaming,1.5\n", "mobile_share"),
    ("segments.csv", b"audience_id,top_interests\nx,gaming\nx,tech\n", "duplicate"),
    ("segments.csv", b"audience_id,top_interests\nx,gaming,extra\n", "more cells"),
    ("segments.csv", b"audience_id,bogus\nx,1\n", "unknown field"),
    ("segments.toml", b"[[audience]\n", "malformed TOML"),
    ("segments.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "limit"),
    (
        "segments.csv",
        ("audience_id,top_interests\n" + "".join(f"s{i},gaming\n" for i in range(60))).encode(),
        f"at most {MAX_SEGMENTS}",
    ),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_SEGMENT_FILES)
def test_bad_segment_files_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(UploadError, match=reason) as info:
        parse_segments_upload(name, data)
    assert "/tmp" not in str(info.value)  # the message names the user's file, not ours


def test_an_error_names_the_users_file_once():
    # The reader reads a copy named "segments.csv": a user's name ending the same way is
    # still named as the user wrote it, not "my_my_segments.csv".
    with pytest.raises(UploadError, match="duplicate") as info:
        parse_segments_upload("my_segments.csv", b"audience_id,top_interests\nx,gaming\nx,tech\n")
    assert "my_segments.csv" in str(info.value) and "my_my_" not in str(info.value)


def test_good_segment_file_is_parsed():
    audiences = parse_segments_upload("mine.csv", GOOD_CSV)
    assert [a.audience_id for a in audiences] == ["gamers", "cooks"]
    assert audiences[0].keywords == ("gaming headset", "rpg")


def test_upload_state_is_shown_and_an_error_keeps_the_previous_segments(app, open_page):
    app.session_state["uploaded_segments"] = ("mine.csv", parse_segments_upload("m.csv", GOOD_CSV))
    app.session_state["segments-error"] = "bad.csv: the file is empty."
    at = open_page(app, "audience")
    assert any("bad.csv: the file is empty." in _shown(e.value) for e in at.error)
    assert any("Using 2 segments from mine" in s.value for s in at.success)
    assert list(at.dataframe[1].value["Id"]) == ["gamers", "cooks"]
    at.switch_page("ui/pages/creatives.py").run()
    assert any(o.startswith("Uploaded: Night-owl gamers") for o in at.selectbox[0].options)


def test_uploaded_segments_show_the_users_a_run_draws_not_the_files_sizes(app, open_page):
    import numpy as np

    from simulation.population import population_from_segments
    from ui.forms import world_settings

    audiences = parse_segments_upload("m.csv", GOOD_CSV)
    n_users = 5_001  # not the default, and not a multiple of the sizes' sum
    app.session_state["uploaded_segments"] = ("mine.csv", audiences)
    world = world_settings(n_users=n_users, n_segments=3, seed=3)
    at = open_page(app, "audience", world)
    table = at.dataframe[1].value
    assert list(table["Relative size"]) == [1200, 800]
    # The counts are the population a run draws around these segments, user for user.
    _, segmentation = population_from_segments(audiences, n_users, np.random.default_rng(0))
    drawn = np.bincount(segmentation.labels, minlength=len(audiences))
    assert list(table["Users in a run"]) == list(drawn)
    assert sum(table["Users in a run"]) == n_users
    assert any(f"of the {n_users:,} simulated users" in c.value for c in at.caption)


def test_an_uploaders_cross_drops_the_file_it_put_in_use(monkeypatch):
    from types import SimpleNamespace

    from ui import state

    session = {"segments-file": None, "segments-file-id": "f1", "segments-file-used": "f1",
               "uploaded_segments": ("mine.csv", [])}  # fmt: skip
    monkeypatch.setattr(state, "st", SimpleNamespace(session_state=session))
    forget = state.forget_on_removal("segments-file", "uploaded_segments")
    forget()  # the x of the file in use: it is no longer used
    assert "uploaded_segments" not in session and "segments-file-used" not in session
    # The x of a refused file leaves the file in use before it.
    session.update({"segments-file-id": "f2", "segments-file-used": "f1",
                    "uploaded_segments": ("mine.csv", [])})  # fmt: skip
    forget()
    assert session["uploaded_segments"] == ("mine.csv", [])
    # A new file chosen (the widget holds it): nothing is dropped.
    session.update({"segments-file": object(), "segments-file-id": "f1"})
    forget()
    assert "uploaded_segments" in session
