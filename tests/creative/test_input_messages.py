"""What the studio says of a user's input files: one line naming the file and the cause."""

import dataclasses

import numpy as np
import pytest

import creative.__main__ as studio
from creative.audience import Audience
from creative.audience_io import read_audiences
from creative.catalogue import CATALOGUE, Product, read_catalogue
from creative.generate import generate_for_user
from creative.guardrails import LENGTH_LIMITS, banned_names_warning, check_creative
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


LONG_BODY = "Long body. " * 12 + "{product}"
WIDEST_BODY = max(limits.body for limits in LENGTH_LIMITS.values())


def test_a_tone_whose_every_body_is_too_long_is_refused_naming_the_file_and_limit(tmp_path):
    path = _write(tmp_path, "longbody.toml", f'[ko.premium]\nbody = ["{LONG_BODY}"]\n')
    with pytest.raises(ValueError) as caught:
        load_templates(path)
    message = str(caught.value)
    assert message.startswith(f"templates from {path}: every ko.premium body is too long")
    assert f"a body may have at most {WIDEST_BODY};" in message and "\n" not in message


def test_one_body_that_fits_is_enough(tmp_path):
    path = _write(tmp_path, "some.toml", f'[en.urgent]\nbody = ["{LONG_BODY}", "Why wait?"]\n')
    assert len(load_templates(path).options("en", "urgent", "body", {"product"})) == 2


def test_the_body_check_draws_the_line_where_the_length_guardrail_does(tmp_path):
    # A body at the widest limit with a one-column product passes the length rule in the
    # roomiest placement and is loaded; one column more fails it everywhere and is refused.
    fits = "x" * (WIDEST_BODY - 1) + "{product}"
    over = "x" + fits
    assert load_templates(_write(tmp_path, "a.toml", f'[en.urgent]\nbody = ["{fits}"]\n'))
    with pytest.raises(ValueError, match=r"every en\.urgent body is too long"):
        load_templates(_write(tmp_path, "b.toml", f'[en.urgent]\nbody = ["{over}"]\n'))
    user = Audience(kind="user", audience_id="u", name="u", top_interests=("gaming",))
    ad = generate_for_user(user, np.random.default_rng(0))

    def failing(text):
        filled = dataclasses.replace(ad, body=text.replace("{product}", "P"))
        return {p for p in LENGTH_LIMITS if "length" in check_creative(filled, placement=p).rules}

    roomiest = max(LENGTH_LIMITS, key=lambda p: LENGTH_LIMITS[p].body)
    assert roomiest not in failing(fits)
    assert failing(over) == set(LENGTH_LIMITS)


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


ALL_COLUMNS = "name,category,price,name_ko,discountable,show_price\n"


@pytest.mark.parametrize(
    ("rows", "where", "tail"),
    [
        # The optional columns left off a row whose header names them.
        ("Gold Account,finance,1\n", 1, "3 of 6 cells, none for name_ko, discountable, show_price"),
        ("Chef Box,food,35,,,\nGold,finance,1,,no\n", 2, "5 of 6 cells, none for show_price"),
        # A required cell left off is named as short, not by the field it lacks.
        ("Chef Box,food\n", 1, "2 of 6 cells, none for price, name_ko, discountable, show_price"),
    ],
)  # fmt: skip
def test_a_short_catalogue_row_is_refused_naming_the_file_row_and_columns(
    tmp_path, rows, where, tail
):
    path = _write(tmp_path, "products.csv", ALL_COLUMNS + rows)
    with pytest.raises(ValueError) as caught:
        read_catalogue(path)
    assert str(caught.value) == f"{path}, product {where}: the row is short: {tail}."


def test_the_catalogue_and_audience_readers_word_a_short_row_alike(tmp_path):
    catalogue = _write(tmp_path, "products.csv", "name,category,price\nChef Box,food\n")
    audiences = _write(tmp_path, "aud.csv", "audience_id,top_interests,size\ngamers,gaming\n")
    messages = []
    for read, path in ((read_catalogue, catalogue), (read_audiences, audiences)):
        with pytest.raises(ValueError) as caught:
            read(path)
        messages.append(str(caught.value).split(": ", 1)[1])
    assert messages == [f"the row is short: 2 of 3 cells, none for {c}." for c in ("price", "size")]


@pytest.mark.parametrize(
    "text",
    [
        # The header omits the optional columns: a row as long as it is not short.
        "name,category,price\nChef Box,food,35\n",
        "name,category,price,name_ko\nChef Box,food,35,셰프 박스\n",
        # Blank cells are cells: blank optional columns take their defaults.
        ALL_COLUMNS + "Chef Box,food,35,,,\n",
    ],
)
def test_a_catalogue_row_as_long_as_its_header_is_read(tmp_path, text):
    (product,) = read_catalogue(_write(tmp_path, "products.csv", text))["food"]
    assert (product.name, product.price, product.discountable, product.price_shown) == (
        "Chef Box", 35.0, True, True,
    )  # fmt: skip
    assert product.name_ko == ("셰프 박스" if "name_ko\n" in text else "Chef Box")


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


def test_a_tone_whose_every_call_to_action_is_too_long_is_refused(tmp_path):
    # The length rule holds buttons too (24 columns at most anywhere).
    widest = max(limits.cta for limits in LENGTH_LIMITS.values())
    fits, over = "x" * widest, "x" * (widest + 1)
    assert load_templates(_write(tmp_path, "a.toml", f'[en.urgent]\ncta = ["{fits}"]\n'))
    with pytest.raises(ValueError, match=r"every en\.urgent cta is too long.*at most 24;"):
        load_templates(_write(tmp_path, "b.toml", f'[en.urgent]\ncta = ["{over}"]\n'))
