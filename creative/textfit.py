"""Wrap text and shrink it until it fits its box; truncate with an ellipsis as a last resort."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from creative.fonts import displayable, get_font
from creative.layouts import Box

__all__ = ["FittedText", "fit_text", "wrap"]

_ELLIPSIS = "…"

# Pillow measures a string by loading every glyph (~40 µs a word), so the size search
# estimates widths from cached per-character advances at a reference size, scaled; only
# the chosen layout is measured exactly, and a miss steps the size down.
_REF_SIZE = 200


@lru_cache(maxsize=65536)
def _advance(char: str, bold: bool) -> float:
    return get_font(_REF_SIZE, bold).getlength(char) / _REF_SIZE


class _Estimator:
    """String width at one font size, from per-character advances (a slight overestimate)."""

    __slots__ = ("bold", "scale")

    def __init__(self, size: int, bold: bool) -> None:
        # 2 % headroom covers hinting and kerning differences from the scaled advances.
        self.scale, self.bold = size * 1.02, bold

    def getlength(self, text: str) -> float:
        return sum(_advance(c, self.bold) for c in text) * self.scale + 1.0


@dataclass(frozen=True, slots=True)
class FittedText:
    """Text laid out in a box: lines, their anchors and their ink bounding boxes.

    Attributes
    ----------
    box : Box
        The box the text had to fit.
    size : int
        Font pixel size.
    bold : bool
    lines : tuple of str
    origins : tuple of (int, int)
        Left-ascender anchor (Pillow ``anchor="la"``) of each line.
    bboxes : tuple of Box
        Ink bounding box of each line on the canvas; each lies inside ``box``.
    truncated : bool
        Whether text had to be cut to fit at the smallest size.
    """

    box: Box
    size: int
    bold: bool
    lines: tuple[str, ...]
    origins: tuple[tuple[int, int], ...]
    bboxes: tuple[Box, ...]
    truncated: bool


def _split_long(word: str, font, width: int) -> list[str]:
    # Break a word wider than the box between characters (URLs, long compounds, CJK runs).
    pieces, current = [], ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, font, width: int, *, split_words: bool = True) -> list[str] | None:
    """Greedy word wrap; a line break in the text starts a new line.

    Parameters
    ----------
    text : str
    font : PIL.ImageFont.FreeTypeFont
    width : int
        Maximum advance width of a line in pixels.
    split_words : bool, default True
        Whether a word wider than a line may be broken between characters.

    Returns
    -------
    lines : list of str or None
        None when a word is too wide and ``split_words`` is False.
    """
    lines: list[str] = []
    space = font.getlength(" ")
    for paragraph in text.split("\n"):
        current, current_w = "", 0.0
        for word in paragraph.split():
            word_w = font.getlength(word)
            if word_w > width and not split_words:
                return None
            pieces = _split_long(word, font, width) if word_w > width else [word]
            for piece in pieces:
                piece_w = font.getlength(piece) if len(pieces) > 1 else word_w
                if current and current_w + space + piece_w <= width:
                    current, current_w = f"{current} {piece}", current_w + space + piece_w
                else:
                    if current:
                        lines.append(current)
                    current, current_w = piece, piece_w
        if current:
            lines.append(current)
    return lines


def _measure(
    lines: list[str], font, line_h: int
) -> tuple[list[tuple[int, int, int, int]], int, int]:
    # Real ink boxes relative to (0, 0) = left-ascender of the first line.
    boxes = []
    for i, line in enumerate(lines):
        left, top, right, bottom = font.getbbox(line, anchor="la")
        boxes.append((left, top + i * line_h, right, bottom + i * line_h))
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    return boxes, top, bottom


def _fits(lines: list[str], font, box: Box, line_h: int, max_lines: int) -> bool:
    if not lines or len(lines) > max_lines:
        return False
    boxes, top, bottom = _measure(lines, font, line_h)
    return bottom - top <= box.height and all(b[2] - b[0] <= box.width for b in boxes)


def _truncate(lines: list[str], font, box: Box, line_h: int, max_lines: int) -> list[str]:
    # Keep the lines that fit, then shorten the last one until it ends in an ellipsis.
    keep = lines[:max_lines]
    while len(keep) > 1 and not _fits(keep, font, box, line_h, max_lines):
        keep = keep[:-1]
    last = keep[-1].rstrip()
    while last and not _fits([*keep[:-1], last + _ELLIPSIS], font, box, line_h, max_lines):
        last = last[:-1].rstrip()
    return [*keep[:-1], last + _ELLIPSIS]


@lru_cache(maxsize=4096)
def fit_text(
    text: str,
    box: Box,
    *,
    bold: bool = False,
    max_size: int,
    min_size: int = 10,
    max_lines: int = 3,
    align: str = "left",
    valign: str = "top",
    line_spacing: float = 1.18,
) -> FittedText:
    """Lay out ``text`` at the largest size that fits ``box``.

    Tries sizes from ``max_size`` down (binary search), wrapping at each; at
    ``min_size`` text that still does not fit is cut and ends with "…". Every
    line's ink bounding box ends up inside ``box``. Results are cached: brand
    names, calls to action and badges repeat across creatives.

    Parameters
    ----------
    text : str
        May contain line breaks; characters the bundled font lacks are folded first.
    box : Box
    bold : bool, default False
    max_size, min_size : int
        Font pixel size range; ``min_size`` is lowered if even one line of it
        is taller than the box.
    max_lines : int, default 3
    align : {"left", "center", "right"}
    valign : {"top", "center"}
    line_spacing : float, default 1.18
        Baseline distance as a multiple of the font's ascent + descent.

    Returns
    -------
    fitted : FittedText
    """
    if align not in ("left", "center", "right") or valign not in ("top", "center"):
        raise ValueError(f"bad alignment {align!r}/{valign!r}.")
    if box.width < 4 or box.height < 4:
        raise ValueError(f"`box` is too small to hold text: {box}.")
    text = "\n".join(" ".join(displayable(p).split()) for p in text.split("\n")).strip() or " "
    max_size = max(1, max_size)
    min_size = max(1, min(min_size, max_size, int(box.height / (line_spacing * 1.2))))

    split_words = False

    def layout(size: int) -> tuple[list[str] | None, object, int, int]:
        font = get_font(size, bold)
        ascent, descent = font.getmetrics()
        line_h = max(1, round((ascent + descent) * line_spacing))
        lines = wrap(text, _Estimator(size, bold), box.width, split_words=split_words)
        return lines, font, line_h, ascent + descent

    def estimate_fits(size: int) -> bool:
        lines, _, line_h, height = layout(size)
        return (
            lines is not None
            and 0 < len(lines) <= max_lines
            and (len(lines) - 1) * line_h + height <= box.height
        )

    # Prefer the largest size that keeps words whole; break words only when none does.
    best = None
    for split_words in (False, True):  # noqa: B007 - read by layout()
        lo, hi = min_size, max_size
        while lo <= hi:
            mid = (lo + hi) // 2
            if estimate_fits(mid):
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        if best is not None:
            break
    # Confirm with exact ink boxes; step down on the rare miss.
    measured = None
    while best is not None:
        lines, font, line_h, _ = layout(best)
        measured = _measure(lines, font, line_h)
        boxes, top, bottom = measured
        if bottom - top <= box.height and all(b[2] - b[0] <= box.width for b in boxes):
            break
        best, measured = (best - 1 if best > min_size else None), None
    truncated = best is None
    size = min_size if truncated else best
    if measured is None:
        lines, font, line_h, _ = layout(size)
        lines = _truncate(lines or [text], font, box, line_h, max_lines)
        measured = _measure(lines, font, line_h)
    boxes, top, bottom = measured
    dy = box.y0 - top
    if valign == "center":
        dy += (box.height - (bottom - top)) // 2
    origins, bboxes = [], []
    for i, (left, btop, right, bbottom) in enumerate(boxes):
        ink_w = right - left
        if align == "left":
            x = box.x0 - left
        elif align == "right":
            x = box.x1 - right
        else:
            x = box.x0 + (box.width - ink_w) // 2 - left
        y = dy + i * line_h
        origins.append((x, y))
        bboxes.append(Box(x + left, btop + dy, x + right, bbottom + dy))
    return FittedText(
        box=box,
        size=size,
        bold=bold,
        lines=tuple(lines),
        origins=tuple(origins),
        bboxes=tuple(bboxes),
        truncated=truncated,
    )
