"""Contact sheets: many creatives on one grid image, for review."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

from creative.fonts import displayable, get_font
from creative.textfit import wrap

__all__ = ["contact_sheet"]


def contact_sheet(
    images: Sequence[Image.Image],
    *,
    columns: int | None = None,
    thumb: int = 270,
    gap: int = 12,
    labels: Sequence[str] | None = None,
    background: str = "#f2f2f2",
    label_lines: int = 2,
) -> Image.Image:
    """Lay images out on a grid, each scaled to fit a ``thumb`` square.

    Parameters
    ----------
    images : sequence of PIL.Image.Image
        At least one.
    columns : int, optional
        Defaults to ``ceil(sqrt(len(images)))``.
    thumb : int, default 270
        Side of each cell in pixels, >= 16.
    gap : int, default 12
        Space between cells, >= 0.
    labels : sequence of str, optional
        One caption per image, drawn under its cell: wrapped at spaces onto up to
        ``label_lines`` lines, the last one ended with an ellipsis if it still
        does not fit.
    label_lines : int, default 2
    background : str, default "#f2f2f2"

    Returns
    -------
    sheet : PIL.Image.Image
        RGB.
    """
    n = len(images)
    if n < 1:
        raise ValueError("`images` must hold at least one image.")
    if columns is None:
        columns = math.ceil(math.sqrt(n))
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"`columns` must be an int >= 1; got {columns!r}.")
    if not isinstance(thumb, int) or thumb < 16:
        raise ValueError(f"`thumb` must be an int >= 16; got {thumb!r}.")
    if not isinstance(gap, int) or gap < 0:
        raise ValueError(f"`gap` must be an int >= 0; got {gap!r}.")
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` must have one entry per image ({n}); got {len(labels)}.")
    if not isinstance(label_lines, int) or label_lines < 1:
        raise ValueError(f"`label_lines` must be an int >= 1; got {label_lines!r}.")
    caption = max(12, thumb // 14) if labels is not None else 0
    font = get_font(caption) if caption else None
    captions = [_caption(displayable(t), font, thumb, label_lines) for t in labels or ()]
    line_h = round(caption * 1.25)
    text_h = line_h * max((len(c) for c in captions), default=0)
    rows = math.ceil(n / columns)
    cell_h = thumb + (text_h + gap // 2 if caption else 0)
    sheet = Image.new(
        "RGB", (gap + columns * (thumb + gap), gap + rows * (cell_h + gap)), background
    )
    draw = ImageDraw.Draw(sheet)
    for i, image in enumerate(images):
        x = gap + (i % columns) * (thumb + gap)
        y = gap + (i // columns) * (cell_h + gap)
        scale = thumb / max(image.size)
        small = image.convert("RGB").resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.BILINEAR,
        )
        sheet.paste(small, (x + (thumb - small.width) // 2, y + (thumb - small.height) // 2))
        for k, line in enumerate(captions[i] if captions else ()):
            draw.text((x, y + thumb + gap // 2 + k * line_h), line, font=font, fill=(40, 40, 40))
    return sheet


def _caption(text: str, font, width: int, max_lines: int) -> list[str]:
    """``text`` wrapped to ``width`` pixels on at most ``max_lines`` lines (ellipsis if cut)."""
    lines = wrap(text, font, width) or [""]
    if len(lines) <= max_lines:
        return lines
    # Cut: the last kept line takes the rest of the words and ends with an ellipsis.
    last = " ".join(lines[max_lines - 1 :])
    while last and font.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    return [*lines[: max_lines - 1], last + "…"]
