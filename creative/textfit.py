"""Wrap text and shrink it until it fits its box; truncate with an ellipsis as a last resort."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from creative.fonts import displayable, get_font
from creative.layouts import Box
from creative.limits import LIMITS

__all__ = ["FittedText", "fit_text", "wrap"]

_ELLIPSIS = "…"

# Pillow measures a string by loading every glyph (~40 µs a word), so the size search
# estimates widths from cached per-character advances at a reference size, scaled; only
# the chosen layout is measured exactly, and a miss bisects the sizes below.
_REF_SIZE = 200


@lru_cache(maxsize=65536)
def _advance(char: str, bold: bool) -> float:
    return get_font(_REF_SIZE, bold).getlength(char) / _REF_SIZE


class _Estimator:
    """String width at one font size, from per-character advances (a slight overestimate).

    Widths are additive, so each word's running widths (in ems) are summed once per
    ``fit_text`` call and shared by every size tried: a wrap then costs one lookup per
    word, and breaking a long word costs one bisection per piece.
    """

    __slots__ = ("bold", "prefix_ems", "scale")

    def __init__(self, size: int, bold: bool, prefix_ems: dict[str, list[float]]) -> None:
        # 2 % headroom covers hinting and kerning differences from the scaled advances.
        self.scale, self.bold, self.prefix_ems = size * 1.02, bold, prefix_ems

    def _prefix(self, word: str) -> list[float]:
        prefix = self.prefix_ems.get(word)
        if prefix is None:
            prefix = [0.0, *accumulate(_advance(c, self.bold) for c in word)]
            self.prefix_ems[word] = prefix
        return prefix

    def getlength(self, text: str) -> float:
        return self._prefix(text)[-1] * self.scale + 1.0

    def split(self, word: str, width: float) -> list[str]:
        # Pieces as long as fit in ``width`` (at least one character each).
        prefix, limit = self._prefix(word), (width - 1.0) / self.scale
        pieces, start = [], 0
        while start < len(word):
            end = max(start + 1, bisect_right(prefix, prefix[start] + limit, lo=start + 1) - 1)
            pieces.append(word[start:end])
            start = end
        return pieces


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
        Whether text had to be cut to fit at the smallest size (its last line then ends
        with "…"); text that fits whole never gets an ellipsis.
    """

    box: Box
    size: int
    bold: bool
    lines: tuple[str, ...]
    origins: tuple[tuple[int, int], ...]
    bboxes: tuple[Box, ...]
    truncated: bool


def _longest_prefix(word: str, start: int, font, width: int) -> int:
    # Length of the longest piece word[start:start + k] no wider than ``width`` (at least
    # 1): gallop 1, 2, 4, ... then bisect, so a piece of k characters costs O(log k)
    # measurements instead of one per character.
    n = len(word) - start
    fits = 1
    step = 1
    while True:
        probe = min(fits + step, n)
        if probe <= fits:
            return fits
        if font.getlength(word[start : start + probe]) <= width:
            fits, step = probe, step * 2
        else:
            too_wide = probe
            break
    while too_wide - fits > 1:
        mid = (fits + too_wide) // 2
        if font.getlength(word[start : start + mid]) <= width:
            fits = mid
        else:
            too_wide = mid
    return fits


def _split_long(word: str, font, width: int) -> list[str]:
    # Break a word wider than the box between characters (URLs, long compounds, CJK runs).
    if isinstance(font, _Estimator):
        return font.split(word, width)
    pieces, start = [], 0
    while start < len(word):
        k = _longest_prefix(word, start, font, width)
        pieces.append(word[start : start + k])
        start += k
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
    lines: list[str], font, line_h: int, bbox=None
) -> tuple[list[tuple[int, int, int, int]], int, int]:
    # Real ink boxes relative to (0, 0) = left-ascender of the first line; ``bbox`` may be
    # a memoized font.getbbox, so lines measured before are not measured again.
    bbox = bbox or (lambda line: font.getbbox(line, anchor="la"))
    boxes = []
    for i, line in enumerate(lines):
        left, top, right, bottom = bbox(line)
        boxes.append((left, top + i * line_h, right, bottom + i * line_h))
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    return boxes, top, bottom


def _fits(lines: list[str], font, box: Box, line_h: int, max_lines: int, bbox=None) -> bool:
    if not lines or len(lines) > max_lines:
        return False
    boxes, top, bottom = _measure(lines, font, line_h, bbox)
    return bottom - top <= box.height and all(b[2] - b[0] <= box.width for b in boxes)


def _truncate(
    lines: list[str], font, box: Box, line_h: int, max_lines: int, paragraphs: list[str]
) -> tuple[list[str], tuple, bool]:
    # Keep the lines that fit, then cut the last one to the longest prefix that still fits
    # with an ellipsis (bisection: a handful of measurements whatever the line's length).
    # Returns the lines, their measurement and whether anything was cut: text that fits
    # whole gets no ellipsis ("AI-generated ad…" read as if words were missing).
    memo: dict[str, tuple[int, int, int, int]] = {}

    def bbox(line: str) -> tuple[int, int, int, int]:
        if line not in memo:
            memo[line] = font.getbbox(line, anchor="la")
        return memo[line]

    def fits(candidate: list[str]) -> bool:
        return _fits(candidate, font, box, line_h, max_lines, bbox)

    # The wrap was made with estimated widths, which run a little wide: text that fits
    # whole, as wrapped or with each paragraph on one line, is kept whole.
    for whole in (lines, paragraphs):
        if whole and fits(whole):
            return whole, _measure(whole, font, line_h, bbox), False
    keep = lines[:max_lines]
    while len(keep) > 1 and not fits(keep):
        keep = keep[:-1]
    last = keep[-1].rstrip()

    def candidate(k: int) -> list[str]:
        return [*keep[:-1], last[:k].rstrip() + _ELLIPSIS]

    lo, hi = 0, len(last)  # candidate(lo) is the fallback; find the largest k that fits
    if fits(candidate(hi)):
        lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(candidate(mid)):
            lo = mid
        else:
            hi = mid
    out = candidate(lo)
    return out, _measure(out, font, line_h, bbox), True


def _cap(text: str, bold: bool, width: int, max_lines: int, min_size: int) -> str:
    # Characters past twice the advance that max_lines lines hold at min_size can never
    # be shown (every size is >= min_size, and text is cut, not squeezed); dropping them
    # keeps every later step proportional to what fits, not to what was given.
    budget = 2.0 * max_lines * width / min_size
    total = 0.0
    for i, char in enumerate(text):
        total += _advance(char, bold)
        if total > budget:
            return text[: i + 1]
    return text


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

    The work is bounded whatever the text: only its first ``LIMITS.fit_chars``
    characters are read, and of those only about twice what ``max_lines``
    lines hold at ``min_size``; long words are broken by bisection on measured
    prefixes; sizes and the ellipsis cut are found by bisection.

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
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str; got {type(text).__name__}.")
    return _fit_text(
        text[: LIMITS.fit_chars],
        box,
        bold=bold,
        max_size=max_size,
        min_size=min_size,
        max_lines=max_lines,
        align=align,
        valign=valign,
        line_spacing=line_spacing,
    )


@lru_cache(maxsize=4096)
def _fit_text(
    text: str,
    box: Box,
    *,
    bold: bool,
    max_size: int,
    min_size: int,
    max_lines: int,
    align: str,
    valign: str,
    line_spacing: float,
) -> FittedText:
    if align not in ("left", "center", "right") or valign not in ("top", "center"):
        raise ValueError(f"bad alignment {align!r}/{valign!r}.")
    if box.width < 4 or box.height < 4:
        raise ValueError(f"`box` is too small to hold text: {box}.")
    text = "\n".join(" ".join(displayable(p).split()) for p in text.split("\n")).strip() or " "
    max_size = max(1, max_size)
    min_size = max(1, min(min_size, max_size, int(box.height / (line_spacing * 1.2))))
    text = _cap(text, bold, box.width, max_lines, min_size)

    split_words = False
    prefix_ems: dict[str, list[float]] = {}

    def layout(size: int) -> tuple[list[str] | None, object, int, int]:
        font = get_font(size, bold)
        ascent, descent = font.getmetrics()
        line_h = max(1, round((ascent + descent) * line_spacing))
        estimator = _Estimator(size, bold, prefix_ems)
        lines = wrap(text, estimator, box.width, split_words=split_words)
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

    # Confirm with exact ink boxes; on the rare miss, bisect the sizes below with exact
    # measurements (a bounded number of layouts, where stepping down one size at a time
    # could take max_size - min_size of them).
    def exact(size: int):
        lines, font, line_h, _ = layout(size)
        if lines is None:
            return None
        boxes, top, bottom = measured = _measure(lines, font, line_h)
        fits = bottom - top <= box.height and all(b[2] - b[0] <= box.width for b in boxes)
        return (lines, font, line_h, measured) if fits else None

    measured = None
    if best is not None:
        found = exact(best)
        if found is None:
            lo, hi, best = min_size, best - 1, None
            while lo <= hi:
                mid = (lo + hi) // 2
                attempt = exact(mid)
                if attempt is not None:
                    best, found, lo = mid, attempt, mid + 1
                else:
                    hi = mid - 1
        if found is not None:
            lines, font, line_h, measured = found
    truncated = False
    size = min_size if best is None else best
    if measured is None:
        lines, font, line_h, _ = layout(size)
        lines, measured, truncated = _truncate(
            lines or [text], font, box, line_h, max_lines, text.split("\n")
        )
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
