"""A catalogue upload is checked against the templates in force, and again when they change.

The audit: the Creatives page checked an uploaded catalogue against the bundled templates
even with the user's own templates uploaded, so a product name only the user's headlines
have room for was refused in the app, though a command-line run with both files took it;
and a catalogue accepted under the user's templates stayed in use after going back to the
bundled ones, which have no room for it.
"""

from __future__ import annotations

import pytest

from creative.templates import default_templates, product_room
from ui.fmt import WORD_JOINER
from ui.uploads import (
    UploadError,
    parse_catalogue_upload,
    parse_templates_upload,
    refit_catalogue,
)

TONES = ("playful", "urgent", "premium", "informative", "social_proof")
#: English headlines that are the product name alone: the whole headline limit is its room.
ROOMY = "".join(f'[en.{tone}]\nheadline = ["{{product}}"]\n' for tone in TONES).encode()
BUNDLED_ROOM = product_room(default_templates(), "en")[0]
#: One name just past the bundled templates' room (a Korean name of its own, which fits).
LONG_NAME = "N" * (BUNDLED_ROOM + 3)
LONG = f"name,category,price,name_ko\n{LONG_NAME},fitness,20,요가 매트\n".encode()
SHORT = b"name,category,price\nYoga Mat,fitness,20\n"


def _plain(text: str) -> str:
    return text.replace("\\", "").replace(WORD_JOINER, "")


def test_the_roomy_templates_have_room_for_the_long_name_and_the_bundled_do_not():
    # The premise of the tests below, checked rather than assumed.
    roomy = parse_templates_upload("roomy.toml", ROOMY)
    assert product_room(roomy, "en")[0] >= len(LONG_NAME) > BUNDLED_ROOM


def test_a_catalogue_is_read_against_the_templates_it_is_given():
    roomy = parse_templates_upload("roomy.toml", ROOMY)
    catalogue = parse_catalogue_upload("long.csv", LONG, templates=roomy)
    assert catalogue["fitness"][0].name == LONG_NAME
    with pytest.raises(UploadError, match=r"^long\.csv, product 1: .*no en template line"):
        parse_catalogue_upload("long.csv", LONG)


def test_refit_names_the_catalogue_that_no_longer_fits_and_passes_one_that_does():
    roomy = parse_templates_upload("roomy.toml", ROOMY)
    accepted = ("long.csv", LONG, parse_catalogue_upload("long.csv", LONG, templates=roomy))
    assert refit_catalogue(accepted, roomy)[2] == accepted[2]
    with pytest.raises(UploadError, match=r"the uploaded catalogue long\.csv would not fit"):
        refit_catalogue(accepted, None)
    assert refit_catalogue(None, None) is None
    short = ("short.csv", SHORT, parse_catalogue_upload("short.csv", SHORT))
    assert refit_catalogue(short, roomy)[2] == short[2]


def _uploaded(at, catalogue: bytes, roomy) -> None:
    # AppTest cannot upload files: the session holds what the page keeps after accepting.
    at.session_state["templates"] = ("roomy.toml", ROOMY)
    name = "long.csv" if catalogue == LONG else "short.csv"
    at.session_state["uploaded_catalogue"] = (
        name, catalogue, parse_catalogue_upload(name, catalogue, templates=roomy)
    )  # fmt: skip


def _back_to_bundled(at) -> None:
    next(b for b in at.button if b.label == "Back to the bundled templates").click().run()
    assert not at.exception, at.exception


def test_going_back_to_the_bundled_templates_is_refused_while_the_catalogue_needs_them(
    app, open_page
):
    at = open_page(app, "creatives")
    _uploaded(at, LONG, parse_templates_upload("roomy.toml", ROOMY))
    at.run()
    _back_to_bundled(at)
    # The previous valid state is kept: both files stay in use, and the reason is said.
    assert at.session_state["templates"][0] == "roomy.toml"
    assert at.session_state["uploaded_catalogue"][0] == "long.csv"
    errors = [_plain(e.value) for e in at.error]
    assert any(
        e.startswith("Your templates were kept: the uploaded catalogue long.csv would not fit "
                     "the bundled templates") and "no en template line" in e
        for e in errors
    ), errors  # fmt: skip
    # Without the catalogue, the templates go and the reason with them.
    next(b for b in at.button if b.label == "Remove the catalogue").click().run()
    _back_to_bundled(at)
    assert "templates" not in at.session_state
    assert not [e for e in at.error if "templates were kept" in _plain(e.value)]


def test_going_back_is_allowed_when_the_catalogue_fits_the_bundled_templates(app, open_page):
    at = open_page(app, "creatives")
    _uploaded(at, SHORT, parse_templates_upload("roomy.toml", ROOMY))
    at.run()
    _back_to_bundled(at)
    assert "templates" not in at.session_state
    assert at.session_state["uploaded_catalogue"][0] == "short.csv"
    assert not at.error


@pytest.mark.parametrize("allowed", [False, True])
def test_a_guard_can_keep_the_file_an_uploaders_cross_would_drop(monkeypatch, allowed):
    # The templates' x asks whether the catalogue fits the bundled templates first.
    from types import SimpleNamespace

    from ui import state

    session = {"templates-file": None, "templates-file-id": "f1", "templates-file-used": "f1",
               "templates": ("roomy.toml", ROOMY)}  # fmt: skip
    monkeypatch.setattr(state, "st", SimpleNamespace(session_state=session))
    asked = []
    forget = state.forget_on_removal(
        "templates-file", "templates", guard=lambda: asked.append(1) or allowed
    )
    forget()
    assert asked == [1]
    assert ("templates" in session) is not allowed
    assert ("templates-file-used" in session) is not allowed


def _notes(at) -> list[str]:
    return [_plain(w.value) for w in at.warning if "fits your templates only" in _plain(w.value)]


def test_a_catalogue_only_the_user_templates_fit_says_so_beside_its_upload(
    app, open_page, tmp_path
):
    # The audit: with "Use my catalogue" ticked and "Use my templates" not, the run reads
    # the catalogue against the bundled templates and is refused at its start, on another
    # page; the Creatives page accepted it without a word. The note is the run's refusal.
    at = open_page(app, "creatives")
    _uploaded(at, LONG, parse_templates_upload("roomy.toml", ROOMY))
    at.run()
    assert not at.exception, at.exception
    notes = _notes(at)
    assert len(notes) == 1, [_plain(w.value) for w in at.warning]
    assert "Use my templates" in notes[0] and "no en template line" in notes[0], notes
    # What it says is what the run does: the catalogue alone is refused for the same reason.
    from ui.forms import WorldSettings, experiment_config

    path = tmp_path / "long.csv"
    path.write_bytes(LONG)
    with pytest.raises(ValueError, match="no en template line"):
        experiment_config(
            WorldSettings(), levels=["generic"], policies=["uniform"], n_impressions=1_000,
            batch_size=100, n_seeds=1, objective="ctr", own_files={"catalogue_file": str(path)},
        )  # fmt: skip


@pytest.mark.parametrize("templates", [True, False])
def test_no_note_when_the_catalogue_fits_the_bundled_templates(app, open_page, templates):
    at = open_page(app, "creatives")
    _uploaded(at, SHORT, parse_templates_upload("roomy.toml", ROOMY))
    if not templates:
        del at.session_state["templates"]
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["uploaded_catalogue"][0] == "short.csv"
    assert _notes(at) == []
