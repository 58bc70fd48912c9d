import dataclasses
import io
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFont

from creative.catalogue import CATALOGUE, GREETINGS, INTEREST_LABELS, OFFER_LABELS
from creative.contact_sheet import contact_sheet
from creative.encode import encode_image
from creative.fonts import FONT_DIR, displayable, get_font, has_glyph
from creative.generate import generate_for_segment, generate_for_user, generate_generic
from creative.layouts import REGION_NAMES, Box, layout_regions, resolve_size
from creative.render import plan_creative, render
from creative.templates import default_templates
from creative.vocabulary import INTEREST_KEYWORDS, LANGUAGES, LAYOUTS, PLACEMENTS, TONES

SIZES = [*PLACEMENTS, (200, 200), (1600, 400), (400, 1600), (777, 999)]


@pytest.fixture(scope="module")
def base():
    return generate_generic(1, np.random.default_rng(0)).accepted[0]


def assert_plan_fits(creative, size):
    plan = plan_creative(creative, size)
    width, height = plan.size
    canvas = Box(0, 0, width, height)
    regions = plan.regions
    names = [n for n in regions if n != "panel"]
    assert set(names) == set(REGION_NAMES)
    for i, a in enumerate(names):
        assert canvas.contains(regions[a]), a
        for b in names[i + 1 :]:
            assert not regions[a].overlaps(regions[b]), (a, b)
    if "panel" in regions:
        for name in ("brand", "disclosure", "headline", "body", "cta"):
            assert not regions["panel"].overlaps(regions[name]), name
    assert regions["brand"].contains(plan.logo)
    assert regions["badge"].contains(plan.badge_shape)
    for role, fitted in plan.texts.items():
        region = regions[role]
        assert region.contains(fitted.box), role
        font = get_font(fitted.size, fitted.bold)
        for line, (x, y), bbox in zip(fitted.lines, fitted.origins, fitted.bboxes):
            # Recompute the ink box independently of the fitter.
            left, top, right, bottom = font.getbbox(line, anchor="la")
            ink = Box(x + left, y + top, x + right, y + bottom)
            assert ink == bbox
            assert fitted.box.contains(ink), (role, line, ink, fitted.box)
    assert plan.texts["badge"].box.x0 >= plan.badge_shape.x0
    return plan


def test_determinism_identical_bytes(gamers):
    def make():
        report = generate_for_segment(gamers, 3, np.random.default_rng(11))
        return [
            encode_image(render(c, size), fmt)
            for c in report.accepted
            for size, fmt in (("preview", "png"), ("link", "jpeg"), ((300, 300), "webp"))
        ]

    assert make() == make()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", list(PLACEMENTS))
def test_render_every_layout_and_placement(base, layout, size):
    image = render(dataclasses.replace(base, layout=layout), size)
    assert image.mode == "RGB"
    assert image.size == PLACEMENTS[size]
    # More than a flat canvas: text, shapes and colours were drawn.
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


def test_png_round_trips_pixels(base):
    image = render(base, "preview")
    decoded = Image.open(io.BytesIO(encode_image(image, "png")))
    assert decoded.format == "PNG"
    assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(image))
    for fmt, name in (("jpeg", "JPEG"), ("webp", "WEBP")):
        assert Image.open(io.BytesIO(encode_image(image, fmt))).format == name


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: render(c, "billboard"), "`size` must be one of"),
        (lambda c: render(c, (10, 10)), "`size` must be a placement name"),
        (lambda c: render(c, fmt="gif"), "`fmt` must be None or one of"),
        (lambda c: encode_image(render(c, "preview"), "gif"), "`fmt` must be one of"),
        (lambda c: encode_image(render(c, "preview"), compress_level=11), "`compress_level`"),
    ],
)
def test_bad_render_arguments(base, call, match):
    with pytest.raises(ValueError, match=match):
        call(base)


def _longest_values(lang):
    product = max((p.display_name(lang) for ps in CATALOGUE.values() for p in ps), key=len)
    keyword = max((k for ks in INTEREST_KEYWORDS.values() for k in ks), key=len)
    return {
        "product": product,
        "interest": max(INTEREST_LABELS[lang].values(), key=len),
        "keyword": keyword,
        "offer": max(OFFER_LABELS[lang].values(), key=len),
        "greeting": max(GREETINGS[lang].values(), key=len),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_fits_every_layout_and_size(base, language):
    # Each default template, filled with the longest values, in every layout and placement:
    # inside its box and never cut.
    values = _longest_values(language)
    ts = default_templates()
    creative = dataclasses.replace(base, language=language, product=values["product"])
    for tone in TONES:
        heads = ts.options(language, tone, "headline", set(values))
        bodies = ts.options(language, tone, "body", set(values))
        ctas = ts.options(language, tone, "cta", set(values))
        n = max(len(heads), len(bodies), len(ctas))
        for i in range(n):
            c = dataclasses.replace(
                creative,
                headline=heads[i % len(heads)].fill(values),
                body=bodies[i % len(bodies)].fill(values),
                cta=ctas[i % len(ctas)].fill(values),
                offer="discount_30",
            )
            for layout in LAYOUTS:
                for size in PLACEMENTS:
                    plan = assert_plan_fits(dataclasses.replace(c, layout=layout), size)
                    cut = [r for r, f in plan.texts.items() if f.truncated]
                    assert not cut, (tone, i, layout, size, cut)


_LATIN = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
_OTHER = st.sampled_from(list("éüñ€✓—…·{}  \t\n😀"))
_TEXT = st.text(st.one_of(_LATIN, _HANGUL, _OTHER), min_size=1, max_size=220).filter(
    lambda s: s.strip()
)
_LONG_WORD = st.text(st.one_of(_LATIN, _HANGUL), min_size=40, max_size=160).filter(
    lambda s: s.strip()
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    headline=st.one_of(_TEXT, _LONG_WORD),
    body=_TEXT,
    cta=st.one_of(_TEXT, _LONG_WORD),
    product=st.one_of(_TEXT, _LONG_WORD),
    layout=st.sampled_from(LAYOUTS),
    size=st.sampled_from(SIZES),
    language=st.sampled_from(LANGUAGES),
    offer=st.sampled_from(["none", "free_shipping", "discount_30"]),
    price=st.floats(min_value=0.01, max_value=1e9),
)
def test_text_always_fits_its_region(
    base, headline, body, cta, product, layout, size, language, offer, price
):
    creative = dataclasses.replace(
        base,
        headline=headline,
        body=body,
        cta=cta,
        product=product,
        layout=layout,
        language=language,
        offer=offer,
        price=price,
    )
    try:
        assert_plan_fits(creative, size)
    except ValueError as exc:
        # A label or price that cannot be shown whole refuses the size, naming one of the
        # same shape that shows it (a price of $1,000,000,000.00 needs room) or none.
        found = re.search(r"use at least (\d+)x(\d+)\.$", str(exc))
        if found is None:
            assert "no size of this shape shows them" in str(exc), exc
        else:
            assert_plan_fits(creative, (int(found[1]), int(found[2])))


def test_korean_renders_real_glyphs(user_ko):
    font = get_font(48)
    notdef = bytes(font.getmask("\U000f0000"))
    masks = {ch: bytes(font.getmask(ch)) for ch in "한글광고할인"}
    assert all(m != notdef for m in masks.values())
    assert len(set(masks.values())) == len(masks)  # distinct glyphs, not one box shape
    # The test can tell boxes from glyphs: Pillow's built-in font draws Hangul as boxes.
    default = ImageFont.load_default(size=48)
    assert default.getmask("한").getbbox() == default.getmask("글").getbbox()
    assert bytes(default.getmask("한")) == bytes(default.getmask("글"))
    c = generate_for_user(user_ko, np.random.default_rng(0))
    plan = plan_creative(c, "feed")
    hangul = [
        ch for f in plan.texts.values() for line in f.lines for ch in line if "가" <= ch <= "힣"
    ]
    assert len(hangul) > 10
    assert all(has_glyph(ch) for ch in hangul)
    # Headline pixels differ from the same box drawn with notdef boxes.
    image = render(c, "feed")
    box = plan.texts["headline"].box
    crop = np.asarray(image.crop((box.x0, box.y0, box.x1, box.y1)))
    assert crop.std() > 10


def test_fonts_are_bundled_with_licence():
    assert (FONT_DIR / "OFL.txt").is_file()
    assert "SIL OPEN FONT LICENSE" in (FONT_DIR / "OFL.txt").read_text().upper()
    assert FONT_DIR.is_absolute()


def test_displayable_folds_missing_characters():
    # The bundled subset has Latin-1 but not Latin Extended Additional (Vietnamese).
    assert displayable("Café ñ") == "Café ñ"
    assert displayable("Việt") == "Viet"
    assert displayable("a\nb\tc") == "a b c"
    assert displayable("한글 {x}") == "한글 {x}"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_tallest_and_widest_sizes_allowed_hold_their_text(base, user_ko, layout):
    # The sides' range allowed 400 x 4,096, where no creative could be rendered; the
    # aspect bound keeps every allowed size drawable, Korean copy too.
    korean = generate_for_user(user_ko, np.random.default_rng(0))
    for creative in (base, korean):
        creative = dataclasses.replace(creative, layout=layout)
        for size in ((512, 4096), (200, 1600), (4096, 200), (200, 200), (4096, 4096)):
            try:
                plan_creative(creative, size)
            except ValueError as exc:
                # A badge too small for its offer or price at the 10 px floor (the smallest
                # sizes only) is refused naming a size that shows it, a size the API takes.
                assert min(size) == 200 and "the badge's offer or price" in str(exc), exc
                size = tuple(map(int, re.search(r"(\d+)x(\d+)\.$", str(exc)).groups()))
            assert_plan_fits(creative, size)
    with pytest.raises(ValueError, match="at most 8 times as tall as wide"):
        resolve_size((400, 4096))


def test_layout_regions_helpers():
    assert resolve_size("story") == (1080, 1920)
    assert resolve_size((300, 400)) == (300, 400)
    regions = layout_regions("hero", 1080, 1080)
    assert set(regions) == set(REGION_NAMES)
    with pytest.raises(ValueError, match="`layout` must be one of"):
        layout_regions("grid", 100, 100)


def test_contact_sheet(base):
    images = [render(dataclasses.replace(base, layout=x), "preview") for x in LAYOUTS]
    sheet = contact_sheet(images, columns=2, thumb=100, gap=10, labels=list(LAYOUTS))
    assert sheet.size[0] == 10 + 2 * 110
    assert sheet.mode == "RGB"
    with pytest.raises(ValueError, match="`images` must hold at least one image"):
        contact_sheet([])
    with pytest.raises(ValueError, match="`labels` must have one entry per image"):
        contact_sheet(images, labels=["a"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # The sheet is allocated whole before any paste: a large thumb was a MemoryError.
        (
            dict(thumb=4096, gap=1024, labels=list("abcd"), label_lines=20),
            "the contact sheet would be up to 11,264 x 26,888 pixels, more than 134,217,728; "
            "pass fewer images or a smaller `thumb` or `gap`.",
        ),
        (dict(thumb=10**6), "`thumb` must be an int in [16, 4,096]; got 1000000."),
        (dict(thumb=True), "`thumb` must be an int in [16, 4,096]; got True."),
        (dict(gap=-1), "`gap` must be an int in [0, 1,024]; got -1."),
        (dict(columns=5), "`columns` must be an int in [1, 4]; got 5."),
        (dict(labels=list("abcd"), label_lines=10**6), "`label_lines` must be an int in [1, 20]"),
    ],
)
def test_contact_sheet_bounds_every_argument_before_drawing(base, kwargs, message):
    images = [render(base, "preview")] * 4
    with pytest.raises(ValueError) as caught:
        contact_sheet(images, **kwargs)
    assert str(caught.value).startswith(message)


def test_contact_sheet_refuses_more_images_than_a_run_renders(base):
    image = render(base, "preview")
    with pytest.raises(
        ValueError, match=r"^`images` must hold at most 20,000 images; got 20,001\.$"
    ):
        contact_sheet([image] * 20_001)
    # Up to the bound the sheet is drawn, and its size is what was checked.
    sheet = contact_sheet([image] * 4, thumb=1000, gap=0)
    assert sheet.size == (2 * 1000, 2 * 1000)


def test_contact_sheet_wraps_long_labels_and_cuts_them_with_an_ellipsis(base):
    from creative.contact_sheet import _caption
    from creative.fonts import get_font

    font = get_font(12)
    short = _caption("1.1% · Gamers", font, 100, 2)
    assert short == ["1.1% · Gamers"]
    long = "1.1% · Night-owl beauty lovers, English, multi-device, deal-seekers"
    lines = _caption(long, font, 100, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 100 for line in lines)
    assert lines[0] == long[: len(lines[0])]  # the first line is the label's start
    images = [render(base, "preview")] * 2
    one = contact_sheet(images, columns=2, thumb=100, labels=["a", "b"])
    two = contact_sheet(images, columns=2, thumb=100, labels=["a", long])
    assert two.size[0] == one.size[0] and two.size[1] > one.size[1]
    with pytest.raises(ValueError, match="label_lines"):
        contact_sheet(images, labels=["a", "b"], label_lines=0)


def test_contact_sheet_captions_break_between_the_parts_they_list():
    from creative.contact_sheet import _caption
    from creative.fonts import get_font

    font = get_font(19)  # the command's captions: thumb 270 // 14
    label = "informative · split layout · 10 % off"
    width = round(font.getlength("informative · split layout")) + 1  # too narrow for all
    # Greedy wrapping at spaces would print "informative · split layout · 10" over "% off".
    assert _caption(label, font, width, 2) == ["informative · split layout", "10 % off"]
    # A part longer than a line is wrapped at its spaces, carrying on the line before it.
    narrow = round(font.getlength("tone · a very")) + 1
    assert _caption("tone · a very long part", font, narrow, 5) == [
        "tone · a very",
        "long part",
    ]
    # Cut, the last line takes the rest with the separators it had, then the ellipsis.
    width = math.ceil(font.getlength("alpha · beta · g…"))
    assert _caption("alpha · beta · gamma", font, width, 2) == ["alpha · beta", "gamma"]
    assert _caption("alpha · beta · gamma", font, width, 1) == ["alpha · beta · g…"]
