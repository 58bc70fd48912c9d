"""The bundled fonts, found relative to the package, and glyph coverage checks.

adlab ships NanumSquare (SIL Open Font License, see ``assets/fonts/OFL.txt``)
so Korean and English copy render the same on every machine, whatever fonts
the system has.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

__all__ = [
    "FONT_DIR",
    "FONT_FILES",
    "displayable",
    "get_font",
    "has_glyph",
]

#: ``assets/fonts`` beside the package, never the working directory.
FONT_DIR: Path = Path(__file__).resolve().parent.parent / "assets" / "fonts"

#: Weight -> file name inside :data:`FONT_DIR`.
FONT_FILES: dict[str, str] = {"regular": "NanumSquareR.ttf", "bold": "NanumSquareB.ttf"}

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


@lru_cache(maxsize=1)
def _notdef_mask() -> bytes:
    return bytes(get_font(32).getmask(_NOTDEF_PROBE))


@lru_cache(maxsize=4096)
def has_glyph(char: str) -> bool:
    """Whether the bundled regular font draws ``char`` with a real glyph.

    Parameters
    ----------
    char : str
        One character.

    Returns
    -------
    present : bool
        False when the font would draw its notdef box instead.
    """
    if len(char) != 1:
        raise ValueError(f"`char` must be one character; got {char!r}.")
    if char.isspace():
        return True
    return bytes(get_font(32).getmask(char)) != _notdef_mask()


def displayable(text: str) -> str:
    """Make text drawable with the bundled font.

    Characters the font lacks are folded to their base letters (``é`` ->
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
    for char in text:
        if unicodedata.category(char).startswith("C") or char in "\n\r\t\v\f\u2028\u2029":
            out.append(" ")
        elif has_glyph(char):
            out.append(char)
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c) and has_glyph(c)
            )
            out.append(base)
    return "".join(out)
