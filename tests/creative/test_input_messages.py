"""What the studio says of a user's input files: one line naming the file and the cause."""

import pytest

import creative.__main__ as studio
from creative.audience_io import read_audiences
from creative.catalogue import CATALOGUE, Product
from creative.guardrails import LENGTH_LIMITS, banned_names_warning
from creative.templates import load_templates

LONG = "An extraordinarily long headline that goes on and on and on and never ends: {product}"
TONES = ("playful", "urgent", "premium", "informative", "social_proof")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_tone_whose_every_headline_is_too_long_is_refused_naming_the_file(tmp_path):
    text = "".join(f'[en.{tone}]\nheadline = ["{LONG}"]\n' for tone in TONES)
    path = _write(tmp_path, "longall.toml", text)
    widest = max(limits.headline for limits in LENGTH_LIMITS.values())
    with pytest.raises(ValueError) as caught:
        load_templates(path)
    message = str(caught.value)
    assert message.startswith(f"templates from {path}: every en.playful headline is too long")
    assert f"at most {widest}" in message and "\n" not in message


def test_one_headline_that_fits_is_enough(tmp_path):
    path = _write(
        tmp_path, "some.toml", f'[en.urgent]\nheadline = ["{LONG}", "Now: {{product}}"]\n'
    )
    assert len(load_templates(path).options("en", "urgent", "headline", {"product"})) == 2


def test_a_headline_at_the_limit_with_its_slots_is_taken_one_over_is_not(tmp_path):
    # One column per slot: "{product}" fills at least one.
    widest = max(limits.headline for limits in LENGTH_LIMITS.values())
    fits = "x" * (widest - 1) + "{product}"
    assert load_templates(_write(tmp_path, "a.toml", f'[en.urgent]\nheadline = ["{fits}"]\n'))
    over = "x" + fits
    with pytest.raises(ValueError, match=r"every en\.urgent headline is too long"):
        load_templates(_write(tmp_path, "b.toml", f'[en.urgent]\nheadline = ["{over}"]\n'))


@pytest.mark.parametrize(
    "text",
    [
        '[en.playful]\nheadline = [""]\n',
        '[en.playful]\nheadline = ["{price}"]\n',
        '[en.playful]\nheadline = ["Tee 🎁 {product}"]\n',
        '[en.playful]\nheadline = [{ text = "{product}", named = "{offer}" }]\n',
    ],
)
def test_every_template_error_names_the_file(tmp_path, text):
    path = _write(tmp_path, "mine.toml", text)
    with pytest.raises(ValueError, match=rf"^templates from {path}: template en\.playful"):
        load_templates(path)


def test_a_short_audience_row_is_named_as_short(tmp_path):
    header = "audience_id,name,top_interests,keywords,active_hours,mobile_share,"
    header += "price_sensitivity,language\n"
    path = _write(tmp_path, "aud.csv", header + "gamers,G,gaming,,night,0.9\n")
    with pytest.raises(ValueError, match=r"audience 1: the row is short: 6 of 8 cells, none for "
                       r"price_sensitivity, language\."):  # fmt: skip
        read_audiences(path)


def test_a_row_with_blank_cells_is_not_short(tmp_path):
    path = _write(tmp_path, "aud.csv", "audience_id,top_interests,keywords\ngamers,gaming,\n")
    assert read_audiences(path)[0].keywords == ()


def test_the_banned_names_warning_lists_the_names_and_their_claims():
    cream = Product(name="Miracle Cure Cream", name_ko="크림", category="beauty", price=35.0)
    plain = Product(name="Day Cream", name_ko="데이 크림", category="beauty", price=20.0)
    warning = banned_names_warning([plain, cream])
    assert (
        warning.startswith("1 product name(s)")
        and "'Miracle Cure Cream' (cure, miracle)" in warning
    )
    assert "\n" not in warning
    assert banned_names_warning([plain]) is None


def test_render_warns_of_a_banned_name_in_its_catalogue(tmp_path, capsys, monkeypatch):
    cream = Product(name="Miracle Cure Cream", name_ko="크림", category="beauty", price=35.0)
    monkeypatch.setattr(studio, "CATALOGUE", {**CATALOGUE, "beauty": (cream,)})
    args = ["render", "--segments", "segment-0", "--per-segment", "1", "--size", "feed"]
    code = studio.main([*args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert code == 0
    assert [line for line in err if line.startswith("warning:")] == [
        f"warning: {banned_names_warning([cream])}"
    ]


def test_render_with_the_bundled_catalogue_warns_of_nothing(tmp_path, capsys):
    args = ["render", "--segments", "segment-0", "--per-segment", "1", "--size", "feed"]
    assert studio.main([*args, "--out", str(tmp_path / "out")]) == 0
    assert "warning:" not in capsys.readouterr().err
