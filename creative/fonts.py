"""The bundled fonts, found relative to the package, and glyph coverage checks.

adlab ships a subset of Noto Sans CJK KR (SIL Open Font License, see
``assets/fonts/OFL.txt``) so Korean and English copy render the same on every
machine, whatever fonts the system has. Text is normalized to NFC before it is
checked or drawn: the basic layout engine draws each code point on its own, so
decomposed Hangul (NFD jamo) would not assemble into syllables.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

__all__ = [
    "FONT_DIR",
    "FONT_FILES",
    "check_drawable",
    "displayable",
    "get_font",
    "has_glyph",
    "normalize_text",
    "undrawable",
]

#: ``assets/fonts`` beside the package, never the working directory.
FONT_DIR: Path = Path(__file__).resolve().parent.parent / "assets" / "fonts"

#: Weight -> file name inside :data:`FONT_DIR`.
FONT_FILES: dict[str, str] = {
    "regular": "NotoSansCJKkr-Regular.otf",
    "bold": "NotoSansCJKkr-Bold.otf",
}

# A private-use code point no font maps: drawing it gives the font's notdef glyph.
_NOTDEF_PROBE = "\U000f0000"


@lru_cache(maxsize=512)
def get_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A bundled font at a pixel size, cached (loading a face costs ~1 ms).

    Parameters
    ----------
    size : int
        Pixel size, >= 1.
    bold : bool, default False
        Bold weight for headlines, buttons and badges.

    Returns
    -------
    font : PIL.ImageFont.FreeTypeFont
    """
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"`size` must be an int >= 1; got {size!r}.")
    path = FONT_DIR / FONT_FILES["bold" if bold else "regular"]
    if not path.is_file():
        raise FileNotFoundError(f"bundled font missing: {path}")
    # The basic layout engine needs no libraqm and gives identical pixels everywhere.
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


# Large enough that every real glyph, down to a period, covers at least one pixel.
_PROBE_SIZE = 32


@lru_cache(maxsize=2)
def _notdef_mask(bold: bool) -> bytes:
    return bytes(get_font(_PROBE_SIZE, bold).getmask(_NOTDEF_PROBE))


def _draws_ink(char: str, bold: bool) -> bool:
    # A font can map a code point to an empty outline (the old NanumSquare did so for
    # 8,693 syllables), so the cmap proves nothing: draw the glyph and look for ink
    # that is not the notdef box.
    mask = get_font(_PROBE_SIZE, bold).getmask(char)
    return mask.getbbox() is not None and bytes(mask) != _notdef_mask(bold)


@lru_cache(maxsize=4096)
def has_glyph(char: str) -> bool:
    """Whether both bundled weights draw ``char`` with a real glyph.

    The glyph is rasterized: it must leave ink and differ from the font's
    notdef glyph. White space counts as present.

    Parameters
    ----------
    char : str
        One character.

    Returns
    -------
    present : bool
        False when either weight would draw nothing or its notdef box.
    """
    if not isinstance(char, str):
        raise TypeError(f"`char` must be a str; got {type(char).__name__}.")
    if len(char) != 1:
        raise ValueError(f"`char` must be one character; got {char!r}.")
    if char.isspace():
        return True
    return _draws_ink(char, False) and _draws_ink(char, True)


def normalize_text(text: str) -> str:
    """Text in Unicode NFC, the form the fonts and the guardrails expect.

    Decomposed Hangul (``"\u1112\u1161\u11ab"``) becomes its syllable
    (``"한"``), and a letter plus combining accent its precomposed letter.

    Parameters
    ----------
    text : str

    Returns
    -------
    text : str
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str; got {type(text).__name__}.")
    return unicodedata.normalize("NFC", text)


def displayable(text: str) -> str:
    """Make text drawable with the bundled font.

    The text is first normalized to NFC (:func:`normalize_text`). Characters
    the font lacks are then folded to their base letters (``é`` ->
    ``e``) when Unicode knows one, and dropped otherwise, so no notdef boxes
    reach an image; control characters and line breaks become spaces.

    Parameters
    ----------
    text : str

    Returns
    -------
    text : str
    """
    out: list[str] = []
    for char in normalize_text(text):
        if unicodedata.category(char).startswith("C") or char in "\n\r\t\v\f\u2028\u2029":
            out.append(" ")
        elif has_glyph(char):
            out.append(char)
        else:
            out.append(_folded(char))
    return "".join(out)


def _folded(char: str) -> str:
    # A character the fonts lack, as its drawable base letters ("é" -> "e"); empty if none.
    return "".join(
        c
        for c in unicodedata.normalize("NFKD", char)
        if not unicodedata.combining(c) and has_glyph(c)
    )


def undrawable(text: str) -> str:
    """The characters of ``text`` that :func:`displayable` leaves out, each once, in order.

    For telling a user which of their characters (an emoji, a script the bundled fonts do
    not cover) will be missing from the images though the copy's text keeps them.

    Parameters
    ----------
    text : str

    Returns
    -------
    chars : str
        Empty when every character is drawn (or folded to a drawable letter).
    """
    out: list[str] = []
    for char in normalize_text(text):
        if unicodedata.category(char).startswith("C") or char.isspace() or char in out:
            continue
        if not has_glyph(char) and not _folded(char):
            out.append(char)
    return "".join(out)


def check_drawable(text: str, where: str) -> str:
    """Return ``text`` when the bundled fonts draw every character of it.

    For copy a brand wrote (a templates file): dropping its characters from the images
    silently ("{product} 🎁 東京 스타일" drawn as "콜드브루 원액 스타일") changes the brand's
    copy, which is worse than refusing it.

    Parameters
    ----------
    text : str
    where : str
        What holds the text, for the message (``"template en.playful.headline[0]"``).

    Returns
    -------
    text : str

    Raises
    ------
    ValueError
        One line naming the characters and their code points, e.g. "template
        ko.playful.headline[0] uses characters the bundled fonts cannot draw: '🎁' (U+1F381),
        '東' (U+6771), '京' (U+4EAC); remove or replace them."

    Examples
    --------
    >>> check_drawable("Tokyo style", "template en.playful.cta[0]")
    'Tokyo style'
    """
    missing = undrawable(text)
    if missing:
        chars = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing)
        raise ValueError(
            f"{where} uses characters the bundled fonts cannot draw: {chars}; "
            "remove or replace them."
        )
    return text
