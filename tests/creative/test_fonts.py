"""The bundled fonts draw what the creatives need, and the glyph check reads ink, not the cmap."""

import dataclasses
import unicodedata

import numpy as np
import pytest

from creative.brand import DEFAULT_KIT
from creative.catalogue import CATALOGUE, GREETINGS, INTEREST_LABELS, OFFER_LABELS
from creative.fonts import FONT_DIR, FONT_FILES, displayable, get_font, has_glyph, normalize_text
from creative.generate import generate_for_user
from creative.layouts import Box
from creative.render import plan_creative, render
from creative.templates import DEFAULT_TEMPLATES_PATH, load_templates
from creative.textfit import fit_text
from creative.vocabulary import LANGUAGES

SYLLABLES = "".join(map(chr, range(0xAC00, 0xD7A4)))  # the 11,172 modern Hangul syllables
NOTDEF_PROBE = "\U000f0000"  # private use, mapped by no font


def nfd(text):
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_every_modern_syllable_draws_its_own_glyph(bold):
    # The old NanumSquare mapped 8,693 syllables to empty outlines: a cmap check passed
    # and nothing was drawn. Rasterize every syllable instead (~1.5 s a weight).
    font = get_font(24, bold)
    notdef = bytes(font.getmask(NOTDEF_PROBE))
    masks = [font.getmask(ch) for ch in SYLLABLES]
    blank = [ch for ch, m in zip(SYLLABLES, masks) if m.getbbox() is None]
    assert not blank, f"{len(blank)} syllables draw nothing, e.g. {blank[:10]}"
    pixels = [bytes(m) for m in masks]
    assert notdef not in pixels
    # Every syllable is a different set of jamo: one shared placeholder shape would
    # leave ink everywhere yet collapse these to a handful of distinct masks.
    assert len(set(pixels)) == len(SYLLABLES)


def test_copy_characters_all_have_glyphs():
    # Every character the bundled templates, catalogue, labels and brand kit can put
    # on an image, plus the Latin-1 and punctuation a user's template may use.
    text = DEFAULT_TEMPLATES_PATH.read_text(encoding="utf-8")
    for language in LANGUAGES:
        text += "".join(p.display_name(language) for ps in CATALOGUE.values() for p in ps)
        text += "".join(INTEREST_LABELS[language].values())
        text += "".join(OFFER_LABELS[language].values())
        text += "".join(GREETINGS[language].values())
        text += DEFAULT_KIT.disclosure_label(language)
    text += DEFAULT_KIT.name
    text += "".join(map(chr, range(0x21, 0x7F))) + "".join(map(chr, range(0xA1, 0x100)))
    text += "‘’“”‚„–—…·•€₩™←→ㄱㅎㅏㅣ「」〈〉"
    # Format characters (soft hyphen, joiners) are turned into spaces by `displayable`.
    drawn = {ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf"}
    missing = sorted(ch for ch in drawn if not has_glyph(ch))
    assert not missing, missing


@pytest.mark.parametrize("char", ["힣", "갂", "한", "A", "é", "€", "₩", "—", "“", " "])
def test_has_glyph_accepts_what_the_font_draws(char):
    assert has_glyph(char)


@pytest.mark.parametrize(
    "char",
    [
        "一",  # CJK ideograph: the subset keeps Hangul only
        "😀",  # emoji
        "\U000f0000",  # private use
        "\u3164",  # HANGUL FILLER: mapped, but an empty outline
        "ệ",  # Vietnamese, not in the subset
    ],
)
def test_has_glyph_rejects_what_the_font_cannot_draw(char):
    assert not has_glyph(char)


def test_has_glyph_rejects_a_mapped_but_empty_glyph():
    # The failure that hid the missing syllables: a code point in the cmap whose
    # outline is empty. U+3164 is such a glyph in the bundled font.
    font = get_font(32)
    assert font.getmask("\u3164").getbbox() is None
    assert font.getlength("\u3164") > 0  # the font does know it: it has an advance
    assert not has_glyph("\u3164")


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [("ab", ValueError, "one character"), ("", ValueError, "one character"), (7, TypeError, "str")],
)
def test_has_glyph_bad_input(value, error, match):
    with pytest.raises(error, match=match):
        has_glyph(value)


def test_normalize_text_composes_hangul_and_accents():
    assert nfd("힣") == "\u1112\u1175\u11c2"
    assert normalize_text("\u1112\u1175\u11c2") == "힣"
    assert normalize_text(nfd("Café 한글")) == "Café 한글"
    with pytest.raises(TypeError, match="`text` must be a str"):
        normalize_text(b"x")


def test_displayable_keeps_decomposed_hangul():
    # Without NFC each conjoining jamo was checked alone and dropped: NFD text vanished.
    assert displayable(nfd("할인 힣 갂 Café")) == "할인 힣 갂 Café"


def test_nfd_text_fits_and_renders_like_nfc(user_ko):
    creative = generate_for_user(user_ko, np.random.default_rng(0))
    decomposed = dataclasses.replace(
        creative,
        brand=nfd(creative.brand),
        headline=nfd(creative.headline),
        body=nfd(creative.body),
        cta=nfd(creative.cta),
    )
    assert decomposed.headline != creative.headline  # the test really feeds jamo
    box = Box(0, 0, 400, 200)
    assert fit_text(nfd("힣 갂 할인"), box, max_size=40) == fit_text("힣 갂 할인", box, max_size=40)
    for size in ("feed", "story"):
        assert plan_creative(decomposed, size).texts == plan_creative(creative, size).texts
        a = np.asarray(render(decomposed, size))
        b = np.asarray(render(creative, size))
        assert np.array_equal(a, b), size


def test_decomposed_templates_generate_composed_copy(tmp_path, user_ko):
    # A templates file saved in NFD (macOS file names, some editors) yields the same
    # NFC copy, so guardrails, the manifest and the renderer never see loose jamo.
    path = tmp_path / "nfd.toml"
    path.write_text(nfd(DEFAULT_TEMPLATES_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    assert path.read_text(encoding="utf-8") != DEFAULT_TEMPLATES_PATH.read_text(encoding="utf-8")
    templates = load_templates(path)
    for seed in range(5):
        got = generate_for_user(user_ko, np.random.default_rng(seed), templates=templates)
        want = generate_for_user(user_ko, np.random.default_rng(seed))
        assert (got.headline, got.body, got.cta) == (want.headline, want.body, want.cta)
        assert got.headline == normalize_text(got.headline)


def test_font_files_are_the_documented_subset():
    readme = (FONT_DIR / "README.md").read_text(encoding="utf-8")
    licence = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Adobe" in licence
    for name in FONT_FILES.values():
        assert (FONT_DIR / name).is_file()
        assert name in readme
    assert get_font(20).getname() == ("Noto Sans CJK KR", "Regular")
    assert get_font(20, bold=True).getname() == ("Noto Sans CJK KR", "Bold")


def test_undrawable_names_what_the_images_leave_out():
    from creative.fonts import undrawable

    # An emoji has no glyph and no base letter: left out of the image, so named. A letter
    # folded to its base ("ŉ" -> "'n") is drawn and Hangul is covered: not named.
    text = "Wow 🎉 {product} 한국 ✨🎉 ŉ"
    missing = undrawable(text)
    assert missing == "🎉✨"
    assert all(c not in displayable(text) for c in missing)
    assert undrawable("Treat yourself to {product}") == ""
