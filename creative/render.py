"""Rendering: a creative and a size in, a Pillow image out; pure and deterministic.

:func:`plan_creative` decides where every piece goes (regions, fitted text);
:func:`render` draws that plan. Keeping the plan separate lets the tests check
the geometry (text inside its region, no overlaps) without reading pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from creative.encode import FORMATS
from creative.fonts import get_font
from creative.layouts import Box, layout_regions, orientation, resolve_size
from creative.motifs import draw_motif
from creative.record import Creative
from creative.textfit import FittedText, fit_text

__all__ = ["RenderPlan", "plan_creative", "render"]

#: Text role -> the palette field of its colour.
_TEXT_COLOURS = {
    "brand": "text",
    "disclosure": "text",
    "headline": "text",
    "body": "text",
    "cta": "accent_text",
    "badge": "badge_text",
}


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """Where everything goes on the canvas.

    Attributes
    ----------
    size : tuple of int
        ``(width, height)``.
    regions : dict of str to Box
        The layout's regions (see ``creative.layouts``).
    logo : Box
        The brand mark, inside the brand region.
    badge_shape : Box
        The badge's circle or pill, inside the badge region.
    texts : dict of str to FittedText
        ``brand``, ``headline``, ``body``, ``cta`` and, when the creative has them,
        ``badge`` (an offer or a shown price) and ``disclosure``; each fitted inside its
        region.
    """

    size: tuple[int, int]
    regions: dict[str, Box]
    logo: Box
    badge_shape: Box
    texts: dict[str, FittedText]


def _badge_text(creative: Creative) -> str:
    # The offer over the price; either may be absent (a nominal price is never printed),
    # and with neither the creative has no badge.
    price = creative.price_label if creative.show_price else ""
    return "\n".join(t for t in (creative.offer_label, price) if t)


def plan_creative(creative: Creative, size: str | tuple[int, int] = "feed") -> RenderPlan:
    """Lay out a creative without drawing it.

    Parameters
    ----------
    creative : Creative
    size : str or tuple of int, default "feed"
        A placement name or ``(width, height)``.

    Returns
    -------
    plan : RenderPlan
    """
    width, height = resolve_size(size)
    regions = layout_regions(creative.layout, width, height)
    scale = min(width, height)
    tall = orientation(width, height) == "tall"
    texts: dict[str, FittedText] = {}

    brand = regions["brand"]
    logo = Box(brand.x0, brand.y0, brand.x0 + brand.height, brand.y1)
    gap = max(2, brand.height // 4)
    texts["brand"] = fit_text(
        creative.brand,
        Box(logo.x1 + gap, brand.y0, brand.x1, brand.y1),
        bold=True,
        max_size=max(8, int(brand.height * 0.62)),
        min_size=8,
        max_lines=1,
        valign="center",
    )
    if creative.disclosure:
        region = regions["disclosure"]
        texts["disclosure"] = fit_text(
            creative.disclosure,
            region.inset(max(2, region.height // 5), max(1, region.height // 6)),
            max_size=max(8, int(region.height * 0.5)),
            min_size=7,
            max_lines=1,
            align="center",
            valign="center",
        )
    texts["headline"] = fit_text(
        creative.headline,
        regions["headline"],
        bold=True,
        max_size=max(10, int(scale * 0.095)),
        min_size=10,
        max_lines=4 if tall else 3,
    )
    texts["body"] = fit_text(
        creative.body,
        regions["body"],
        max_size=max(9, int(scale * 0.046)),
        min_size=9,
        max_lines=4,
    )
    cta = regions["cta"]
    texts["cta"] = fit_text(
        creative.cta,
        cta.inset(max(4, cta.height // 2), max(2, cta.height // 5)),
        bold=True,
        max_size=max(9, int(cta.height * 0.46)),
        min_size=8,
        max_lines=1,
        align="center",
        valign="center",
    )
    region = regions["badge"]
    if creative.layout == "badge":
        # A round sticker: the text box is the square inscribed well inside the circle.
        d = min(region.width, region.height)
        x0 = region.x0 + (region.width - d) // 2
        y0 = region.y0 + (region.height - d) // 2
        shape = Box(x0, y0, x0 + d, y0 + d)
        inner = shape.inset(round(d * 0.17))
    else:
        pill_h = min(region.height, max(24, round(region.width * 0.42)))
        y0 = region.y0 + (region.height - pill_h) // 2
        shape = Box(region.x0, y0, region.x1, y0 + pill_h)
        inner = shape.inset(max(4, pill_h // 3), max(2, pill_h // 8))
    badge = _badge_text(creative)
    if badge:
        texts["badge"] = fit_text(
            badge,
            inner,
            bold=True,
            max_size=max(9, int(inner.height * 0.42)),
            min_size=8,
            max_lines=2,
            align="center",
            valign="center",
            line_spacing=1.05,
        )
    return RenderPlan(
        size=(width, height), regions=regions, logo=logo, badge_shape=shape, texts=texts
    )


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def _draw_logo(draw: ImageDraw.ImageDraw, box: Box, creative: Creative) -> None:
    # A disc with a four-point spark: a brand mark drawn from shapes, no image file.
    p = creative.palette
    draw.ellipse([box.x0, box.y0, box.x1 - 1, box.y1 - 1], fill=p.rgb("accent"))
    cx, cy, r = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, box.width / 2
    a, b = r * 0.62, r * 0.16
    draw.polygon(
        [(cx, cy - a), (cx + b, cy - b), (cx + a, cy), (cx + b, cy + b),
         (cx, cy + a), (cx - b, cy + b), (cx - a, cy), (cx - b, cy - b)],
        fill=p.rgb("accent_text"),
    )  # fmt: skip


@lru_cache(maxsize=512)
def _line_mask(line: str, size: int, bold: bool) -> Image.Image:
    # Rasterizing glyphs is the costliest step of a render; brand, disclosure, CTA and
    # badge lines repeat across creatives, so their (small) coverage masks are kept.
    font = get_font(size, bold)
    left, top, right, bottom = font.getbbox(line, anchor="la")
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), line, font=font, fill=255, anchor="la")
    return mask


def _draw_text(
    image: Image.Image, fitted: FittedText, fill: tuple[int, int, int], *, cached: bool
) -> None:
    if cached:
        for line, bbox in zip(fitted.lines, fitted.bboxes):
            image.paste(fill, (bbox.x0, bbox.y0), _line_mask(line, fitted.size, fitted.bold))
        return
    draw = ImageDraw.Draw(image)
    font = get_font(fitted.size, fitted.bold)
    for line, origin in zip(fitted.lines, fitted.origins):
        draw.text(origin, line, font=font, fill=fill, anchor="la")


def render(
    creative: Creative, size: str | tuple[int, int] = "feed", *, fmt: str | None = None
) -> Image.Image:
    """Draw a creative.

    Parameters
    ----------
    creative : Creative
    size : str or tuple of int, default "feed"
        A placement name (``feed`` 1080x1080, ``story`` 1080x1920, ``link``
        1200x628, ``preview`` 540x540) or ``(width, height)``.
    fmt : {"png", "jpeg", "webp"}, optional
        The format the image is meant for; all give an RGB image (JPEG has no
        alpha), so this only validates the name.

    Returns
    -------
    image : PIL.Image.Image
        RGB, of shape ``(height, width, 3)`` as an array; the same creative and
        size always give the same pixels.
    """
    if not isinstance(creative, Creative):
        raise TypeError(f"`creative` must be a Creative; got {type(creative).__name__}.")
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"`fmt` must be None or one of {list(FORMATS)}; got {fmt!r}.")
    plan = plan_creative(creative, size)
    p = creative.palette
    width, height = plan.size
    bg = p.rgb("background")
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    regions = plan.regions

    if "panel" in regions:
        panel = regions["panel"]
        draw.rectangle(
            [panel.x0, panel.y0, panel.x1 - 1, panel.y1 - 1], fill=_mix(bg, p.rgb("text"), 0.08)
        )
        backdrop = None
    else:
        # An accent rule along the bottom edge, below every region.
        bar = max(3, round(height * 0.012))
        draw.rectangle([0, height - bar, width - 1, height - 1], fill=p.rgb("accent"))
        backdrop = _mix(bg, p.rgb("text"), 0.09)
    draw_motif(draw, regions["motif"], creative.motif, p, backdrop=backdrop)
    _draw_logo(draw, plan.logo, creative)

    shape = plan.badge_shape
    # No badge when it has nothing to print: no offer, and a price that is not shown.
    if "badge" in plan.texts and creative.layout == "badge":
        draw.ellipse([shape.x0, shape.y0, shape.x1 - 1, shape.y1 - 1], fill=p.rgb("badge"))
    elif "badge" in plan.texts:
        draw.rounded_rectangle(
            [shape.x0, shape.y0, shape.x1 - 1, shape.y1 - 1],
            radius=shape.height // 2,
            fill=p.rgb("badge"),
        )
    cta = regions["cta"]
    draw.rounded_rectangle(
        [cta.x0, cta.y0, cta.x1 - 1, cta.y1 - 1], radius=cta.height // 2, fill=p.rgb("accent")
    )
    if "disclosure" in plan.texts:
        d = regions["disclosure"]
        draw.rounded_rectangle(
            [d.x0, d.y0, d.x1 - 1, d.y1 - 1],
            radius=d.height // 2,
            outline=p.rgb("text"),
            width=max(1, d.height // 18),
        )
    for role, fitted in plan.texts.items():
        # Headlines and bodies are mostly unique: caching their large masks would only
        # hold memory.
        cached = role not in ("headline", "body")
        _draw_text(image, fitted, p.rgb(_TEXT_COLOURS[role]), cached=cached)
    return image
