"""A catalogue's product names must fit the copy and the fonts, checked when it is read."""

import numpy as np
import pytest

from creative.catalogue import Product, read_catalogue
from creative.generate import generate_generic
from creative.guardrails import LENGTH_LIMITS, display_width
from creative.templates import default_templates, load_templates, product_room

#: Every (language, tone) of a templates file, each headline list replaced by ``line``.
TONES = ("playful", "urgent", "premium", "informative", "social_proof")


def _templates(tmp_path, line, languages=("en", "ko")):
    text = "".join(
        f"[{lang}.{tone}]\nheadline = [{line!r}]\n".replace("'", '"')
        for lang in languages
        for tone in TONES
    )
    path = tmp_path / "copy.toml"
    path.write_text(text, encoding="utf-8")
    return load_templates(path)


def _catalogue(tmp_path, rows):
    path = tmp_path / "products.csv"
    path.write_text("name,category,price,name_ko\n" + rows, encoding="utf-8")
    return path


def test_the_room_is_the_widest_limit_less_the_rest_of_the_roomiest_line():
    room, line = product_room(default_templates(), "en")
    widest = max(limits.headline for limits in LENGTH_LIMITS.values())
    literal = sum(display_width(text) for is_slot, text in line.pieces if not is_slot)
    others = len(line.slots) - 1  # each other slot takes one column at least
    assert room == widest - literal - others
    # No English line naming the product leaves more.
    for t in default_templates().templates:
        if t.language == "en" and "product" in t.slots:
            assert widest - (t.least_width - 1) <= room


def test_a_name_wider_than_the_room_passes_no_ad():
    # The bound is sound: one column more and every ad naming the product is too long.
    room, _ = product_room(default_templates(), "en")
    wide = Product(name="W" * (room + 1), name_ko="짧은 이름", category="fitness", price=20.0)
    report = generate_generic(5, np.random.default_rng(0), catalogue={"fitness": (wide,)})
    assert report.accepted == ()
    assert report.rejected and all("length" in c.guardrail.rules for c in report.rejected)


def test_the_reader_refuses_a_name_past_the_room_and_takes_one_at_it(tmp_path):
    room, _ = product_room(default_templates(), "en")
    at = "A" * room
    assert read_catalogue(_catalogue(tmp_path, f"{at},fitness,20,짧은 이름\n"))
    path = _catalogue(tmp_path, f"Mat,fitness,20,\n{at}B,fitness,20,짧은 이름\n")
    with pytest.raises(ValueError) as caught:
        read_catalogue(path)
    message = str(caught.value)
    assert "product 2: `name`" in message and "AAAA" in message
    assert f"is {room + 1} columns wide" in message and f"wider than {room}" in message


def test_the_room_comes_from_the_templates_the_products_are_written_into(tmp_path):
    # A line with nothing but the product leaves the whole headline limit.
    short = _templates(tmp_path, "{product}")
    assert product_room(short, "en")[0] == max(lim.headline for lim in LENGTH_LIMITS.values())
    name = "N" * (product_room(default_templates(), "en")[0] + 5)
    path = _catalogue(tmp_path, f"{name},fitness,20,\n")
    assert read_catalogue(path, templates=short)["fitness"][0].name == name
    with pytest.raises(ValueError, match="no en template line"):
        read_catalogue(path)


def test_korean_names_count_wide_characters_twice(tmp_path):
    room, _ = product_room(default_templates(), "ko")
    hangul = "가" * (room // 2 + 1)  # under room characters, over room columns
    assert len(hangul) <= room < display_width(hangul)
    with pytest.raises(ValueError, match=r"`name_ko` .* no ko template line"):
        read_catalogue(_catalogue(tmp_path, f"Mat,fitness,20,{hangul}\n"))


def test_a_blank_korean_name_is_checked_as_the_english_name_in_korean_ads(tmp_path):
    # Korean lines leave less room than English ones for the same name.
    short = _templates(tmp_path, "{product}", languages=("en",))
    room_ko, _ = product_room(short, "ko")
    name = "N" * (room_ko + 1)
    assert read_catalogue(_catalogue(tmp_path, f"{name},fitness,20,짧은 이름\n"), templates=short)
    with pytest.raises(ValueError, match=r"`name \(in Korean ads\)`"):
        read_catalogue(_catalogue(tmp_path, f"{name},fitness,20,\n"), templates=short)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Tee,fashion,5,東京 티셔츠\n", r"`name_ko` .*'東' \(U\+6771\), '京' \(U\+4EAC\)"),
        ("Tee 🎁,fashion,5,\n", r"`name` 'Tee 🎁' uses characters .*U\+1F381"),
    ],
)
def test_names_the_fonts_cannot_draw_are_refused(tmp_path, row, message):
    with pytest.raises(ValueError, match=message):
        read_catalogue(_catalogue(tmp_path, row))
