"""Contact sheets: many creatives on one grid image, for review."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

from creative.fonts import displayable, get_font
from creative.limits import LIMITS
from creative.textfit import wrap

__all__ = ["MAX_SHEET_PIXELS", "contact_sheet"]

#: Largest sheet drawn (pixels, 384 MiB as RGB): the sheet is allocated whole before any
#: image is pasted, so a large ``thumb`` or many images would be a MemoryError (or the
#: machine's memory) rather than a refusal. The command's largest sheet, 500 variants with
#: captions, is about 47 million pixels.
MAX_SHEET_PIXELS = 2**27
#: Most caption lines under one image.
MAX_LABEL_LINES = 20


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"`{name}` must be an int in [{low:,}, {high:,}]; got {value!r}.")
    return value


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
        At least one, at most 20,000 (``creative.limits.LIMITS.images``).
    columns : int, optional
        Defaults to ``ceil(sqrt(len(images)))``; at most ``len(images)``.
    thumb : int, default 270
        Side of each cell in pixels, in [16, 4096].
    gap : int, default 12
        Space between cells, in [0, 1024].
    labels : sequence of str, optional
        One caption per image, drawn under its cell: wrapped onto up to ``label_lines``
        lines, between its ``" · "``-separated parts where each fits on a line whole,
        else at spaces; the last line ended with an ellipsis if it still does not fit.
    label_lines : int, default 2
        In [1, 20].
    background : str, default "#f2f2f2"

    Returns
    -------
    sheet : PIL.Image.Image
        RGB, at most :data:`MAX_SHEET_PIXELS` pixels.

    Raises
    ------
    ValueError
        For an argument out of its range, or a sheet that would be larger than
        :data:`MAX_SHEET_PIXELS` (before it is drawn).
    """
    n = len(images)
    if n < 1:
        raise ValueError("`images` must hold at least one image.")
    if n > LIMITS.images:
        raise ValueError(f"`images` must hold at most {LIMITS.images:,} images; got {n:,}.")
    if columns is None:
        columns = math.ceil(math.sqrt(n))
    _check_int("columns", columns, 1, n)
    _check_int("thumb", thumb, 16, 4096)
    _check_int("gap", gap, 0, 1024)
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` must have one entry per image ({n}); got {len(labels)}.")
    _check_int("label_lines", label_lines, 1, MAX_LABEL_LINES)
    caption = max(12, thumb // 14) if labels is not None else 0
    # The largest the sheet can be (every caption at label_lines), checked before any work.
    most_h = thumb + (round(caption * 1.25) * label_lines + gap // 2 if caption else 0)
    width = gap + columns * (thumb + gap)
    height = gap + math.ceil(n / columns) * (most_h + gap)
    if width * height > MAX_SHEET_PIXELS:
        raise ValueError(
            f"the contact sheet would be up to {width:,} x {height:,} pixels, more than "
            f"{MAX_SHEET_PIXELS:,}; pass fewer images or a smaller `thumb` or `gap`."
        )
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
    lines, joins = _wrap_parts(text, font, width)
    if len(lines) <= max_lines:
        return lines
    # Cut: the last kept line takes the rest of the text and ends with an ellipsis.
    last = lines[max_lines - 1] + "".join(
        join + line for join, line in zip(joins[max_lines - 1 :], lines[max_lines:], strict=True)
    )
    while last and font.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    return [*lines[: max_lines - 1], last + "…"]


def _wrap_parts(text: str, font, width: int) -> tuple[list[str], list[str]]:
    """``text`` wrapped at its ``" · "`` separators where a part fits on a line whole.

    A caption lists things ("social proof · split layout · 10 % off"): a break inside one
    of them ("10 %" / "off") reads as two things, so a part that fits on a line of its own
    starts one; a part too long even for that is wrapped at its spaces as any text is.

    Returns
    -------
    lines : list of str
    joins : list of str of length ``len(lines) - 1``
        What stood between each line and the next (``" · "`` or ``" "``), to put the
        text back together where a caption is cut.
    """
    lines: list[str] = []
    joins: list[str] = []
    for part in text.split(" · "):
        if not lines:
            lines = wrap(part, font, width) or [""]
            joins = [" "] * (len(lines) - 1)
            continue
        joined = f"{lines[-1]} · {part}"
        if font.getlength(joined) <= width:
            lines[-1] = joined
        elif font.getlength(part) <= width:
            lines.append(part)
            joins.append(" · ")
        else:
            wrapped = wrap(joined, font, width) or [""]
            lines[-1:] = wrapped
            joins += [" "] * (len(wrapped) - 1)
    return lines, joins
