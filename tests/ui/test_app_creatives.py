"""Creatives page: gallery, placement and language, one-user mode, templates, ZIP download."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from creative.generate import generate_generic
from ui.fmt import WORD_JOINER
from ui.uploads import UploadError, parse_templates_upload

GOOD_TOML = b"""
[en.playful]
headline = ["Hello {product} fans"]
"""


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def _images(at):
    """The Gallery tab's images (AppTest holds every tab's elements)."""
    return at.tabs[0].get("image")


def test_default_render_shows_a_gallery(app, open_page):
    at = open_page(app, "creatives")
    assert at.title[0].value == "Creatives"
    assert len(_images(at)) == 5
    assert any(_shown(c.value) == "Guardrails: pass" for c in at.caption)
    assert at.selectbox(key="cr-audience").value.startswith("Segment 0")


def test_switching_audience_placement_and_language(app, open_page):
    at = open_page(app, "creatives")
    at.selectbox(key="cr-audience").set_value("Generic (everyone, no audience data)")
    at.radio(key="cr-placement").set_value("story")
    at.radio(key="cr-language").set_value("ko")
    at.slider(key="cr-n").set_value(3)
    at.run()
    assert not at.exception
    assert len(_images(at)) == 3
    # The caption names the language in words, as the studio's other codes ("10 % off").
    assert any(c.value.endswith("· Korean") for c in at.caption)
    assert not any("_" in c.value for c in at.caption if "· tone " in c.value)
    # The choices survive a trip to another page.
    at.switch_page("ui/pages/audience.py").run()
    at.switch_page("ui/pages/creatives.py").run()
    assert at.radio(key="cr-placement").value == "story"
    assert at.slider(key="cr-n").value == 3


def test_one_user_mode_samples_and_generates(app, open_page):
    at = open_page(app, "creatives")
    first = at.session_state["u-index"]
    next(b for b in at.button if b.label == "Sample a user").click().run()
    assert at.session_state["u-index"] != first
    at.selectbox(key="u-hours").set_value("night")
    # A playful ad greets (an informative one never does: no template of its tone greets).
    next(s for s in at.selectbox if s.label == "Tone").set_value("playful")
    next(b for b in at.button if b.label == "Generate for this user").click().run()
    assert not at.exception
    creative = at.session_state["u-creative"]
    assert creative.audience.kind == "user"
    assert creative.tone == "playful"
    assert creative.greeting == "night"


def test_one_user_without_interests_is_an_error(app, open_page):
    at = open_page(app, "creatives")
    next(b for b in at.button if b.label == "Generate for this user").click().run()
    assert "u-creative" in at.session_state  # an ad for the user as first sampled
    at.multiselect(key="u-interests").set_value([])
    next(b for b in at.button if b.label == "Generate for this user").click().run()
    assert not at.exception
    assert any("at least one interest" in e.value for e in at.error)
    assert "u-creative" not in at.session_state  # not the previous user's ad under the error


BAD_TEMPLATES = [
    ("t.toml", b"", "empty"),
    ("t.txt", GOOD_TOML, "expected a .toml"),
    ("t.toml", b"[en.playful\n", "malformed TOML"),
    ("t.toml", b'[en.playful]\nheadline = ["{product.__class__}"]\n', "product.__class__"),
    ("t.toml", b'[xx.playful]\nheadline = ["Hi {product}"]\n', "xx"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_TEMPLATES)
def test_bad_templates_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(UploadError, match=reason):
        parse_templates_upload(name, data)


def test_uploaded_templates_change_the_copy(app, open_page):
    assert parse_templates_upload("mine.toml", GOOD_TOML).source.endswith(".toml")
    app.session_state["templates"] = ("mine.toml", GOOD_TOML)
    at = open_page(app, "creatives")
    at.selectbox(key="cr-audience").set_value("Generic (everyone, no audience data)")
    at.slider(key="cr-n").set_value(12)
    at.run()
    assert any(s.value.startswith("Using templates from mine") for s in at.success)
    assert any(t.value.startswith("Hello ") for t in at.text)


def test_templates_the_fonts_cannot_draw_are_refused_naming_the_characters():
    # The images would leave them out and so change the brand's copy: refused, not drawn.
    bad = GOOD_TOML.replace(b"fans", "fans 🎉✨".encode())
    with pytest.raises(UploadError, match=r"cannot draw: '🎉' \(U\+1F389\), '✨' \(U\+2728\)"):
        parse_templates_upload("mine.toml", bad)


def test_template_error_is_shown_and_previous_templates_kept(app, open_page):
    app.session_state["templates"] = ("mine.toml", GOOD_TOML)
    app.session_state["templates-error"] = "t.toml: malformed TOML"
    at = open_page(app, "creatives")
    assert any("malformed TOML" in e.value for e in at.error)
    assert any("mine" in s.value for s in at.success)


def test_zip_holds_full_size_images_and_a_manifest():
    from ui.pages.creatives import MANIFEST_COLUMNS, zip_creatives

    report = generate_generic(2, np.random.default_rng(0))
    data = zip_creatives(report.accepted, "link", "generic")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode())))
        assert tuple(rows[0]) == MANIFEST_COLUMNS
        assert len(rows) == 2
        image = Image.open(io.BytesIO(zf.read(rows[0]["file"])))
        assert image.size == (1200, 628)


def test_a_segment_choice_from_an_older_audience_falls_back(app, open_page):
    from ui.forms import WorldSettings

    at = open_page(app, "creatives")
    at.selectbox(key="cr-audience").set_value(at.selectbox(key="cr-audience").options[2]).run()
    at.session_state["world"] = WorldSettings(seed=9, n_users=2_000, n_segments=2)
    at.switch_page("ui/pages/audience.py").run()
    at.switch_page("ui/pages/creatives.py").run()
    assert not at.exception
    assert len(_images(at)) == 5


def _compose_keys(at) -> dict[str, str]:
    segment = at.selectbox(key="cmp-segment").value
    w = at.session_state["world"]
    axes = ("product", "tone", "offer", "headline", "cta", "layout", "palette", "greeting",
            "keyword", "language")  # fmt: skip
    return {axis: f"cmp-{w.seed}.{w.n_users}.{w.n_segments}-{segment}-{axis}" for axis in axes}


def _open_compose(at):
    # Only the open tab's composer runs: nothing of it before it is chosen.
    assert not at.tabs[2].get("image") and "cmp-segment" not in at.session_state
    at.session_state["cr-tab"] = "Compose (generated level)"
    at.run()
    assert not at.exception, at.exception
    return at


def test_compose_starts_from_the_segment_s_best_and_renders_it(app, open_page):
    at = _open_compose(open_page(app, "creatives"))
    compose = at.tabs[2]
    assert compose.label == "Compose (generated level)"
    # The starting composition is valid, rendered, and no worse than every user's own best.
    assert not compose.error
    assert len(compose.get("image")) == 1
    ctr, _ = compose.metric
    assert ctr.label == "True CTR on the segment's users" and "against each user's best" in (
        ctr.delta
    )
    assert ctr.delta.startswith("-") or ctr.delta.startswith("+0.000")
    assert any(_shown(c.value) == "Guardrails: pass" for c in compose.caption)


def test_compose_names_the_rules_an_invalid_composition_breaks(app, open_page):
    at = _open_compose(open_page(app, "creatives"))
    keys = _compose_keys(at)
    # A keyword headline prints a search: with none switched on it cannot be served.
    at.selectbox(key=keys["headline"]).set_value(2)  # keyword
    at.selectbox(key=keys["keyword"]).set_value(0).run()  # none
    assert not at.exception, at.exception
    (error,) = at.tabs[2].error
    assert "Not a valid composition, so never served" in error.value
    # Named as the boxes read ("Search printed"), not as the engine names them.
    assert "Headline style *keyword* cannot go with Search printed *none*" in error.value
    assert not at.tabs[2].get("image") and not at.tabs[2].metric
    # The choice survives a trip to another page...
    at.switch_page("ui/pages/audience.py").run()
    at.switch_page("ui/pages/creatives.py").run()
    at.session_state["cr-tab"] = "Compose (generated level)"
    at.run()
    assert at.selectbox(key=keys["keyword"]).value == 0 and at.tabs[2].error
    # ...and back to the segment's best: valid and rendered again.
    next(b for b in at.tabs[2].button if b.label.startswith("Start again")).click().run()
    assert not at.tabs[2].error and len(at.tabs[2].get("image")) == 1


def test_compose_names_calls_to_action_by_their_words_for_the_tone_and_language(app, open_page):
    from creative.templates import default_templates
    from creative.vocabulary import LANGUAGES, TONES

    at = _open_compose(open_page(app, "creatives"))
    keys = _compose_keys(at)
    for tone in ("urgent", "premium"):
        at.selectbox(key=keys["tone"]).set_value(TONES.index(tone))
        at.selectbox(key=keys["language"]).set_value(LANGUAGES.index("en")).run()
        words = [t.text for t in default_templates().options("en", tone, "cta", frozenset())]
        options = at.selectbox(key=keys["cta"]).options
        assert options[: len(words)] == [f"“{w}”" for w in words]
        assert set(options[len(words) :]) <= {"(none for this tone)"}  # another tone has more
    # Products by name, their category after.
    assert "Cotton Bedding Set (home)" in at.selectbox(key=keys["product"]).options


def test_compose_follows_a_new_audience_with_fewer_segments(app, open_page):
    from ui.forms import WorldSettings

    at = _open_compose(open_page(app, "creatives"))
    last = len(at.selectbox(key="cmp-segment").options) - 1
    assert last >= 2  # the small world's segments: more than the new audience's two
    at.selectbox(key="cmp-segment").set_value(last).run()
    assert at.selectbox(key="cmp-segment").value == last
    at.session_state["world"] = WorldSettings(seed=9, n_users=2_000, n_segments=2)
    at.run()
    assert not at.exception, at.exception
    assert len(at.selectbox(key="cmp-segment").options) == 2
    assert len(at.tabs[2].get("image")) == 1
