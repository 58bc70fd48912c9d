"""Rendering: a creative and a size in, a Pillow image out; pure and deterministic.

:func:`plan_creative` decides where every piece goes (regions, fitted text);
:func:`render` draws that plan. Keeping the plan separate lets the tests check
the geometry (text inside its region, no overlaps) without reading pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw

from creative.catalogue import GREETINGS, format_price
from creative.copyfit import fit_body, fit_headline, legible, within_limits
from creative.encode import FORMATS
from creative.fonts import displayable, get_font
from creative.layouts import MAX_ASPECT, MAX_SIDE, Box, layout_regions, orientation, resolve_size
from creative.limits import MIN_TEXT_PX
from creative.motifs import draw_motif
from creative.record import Creative
from creative.textfit import FittedText, fit_text
from creative.vocabulary import OFFER_DISCOUNT

__all__ = ["RenderPlan", "badge_variants", "draw_plan", "plan_creative", "render"]

#: Language -> how the badge says which price is which: the price after the discount and
#: the catalogue price it was taken from.
_NOW = {"en": "now {}", "ko": "할인가 {}"}
_WAS = {"en": "was {}", "ko": "정가 {}"}

#: Share of its largest size the badge's offer keeps when prices are added to it: a badge
#: whose lines would draw it smaller drops its last price line (then the price).
_BADGE_KEEP = 0.7


class _TooSmall(ValueError):
    """A required text cannot be shown whole (and legibly) at this canvas size."""


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
        ``brand``, ``headline``, ``cta``, ``body`` unless it is left out and, when the
        creative has them, ``badge`` (an offer or a shown price) and ``disclosure``; each
        fitted inside its region.
    left_out : dict of str to str
        Copy the image does not show, by role: only ever ``"body"``, its last sentences
        (the body then ends at a whole sentence) or all of it (then not in ``texts``), on a
        canvas too small for it. Empty at every placement with the bundled templates.
    body : str
        The body as the image prints it: the creative's, its whitespace folded, less what
        ``left_out`` says; ``""`` when it is left out.
    greeting, keyword : str or None
        The creative's ``greeting`` and ``keyword`` when the image prints them; None when
        the creative has none or the sentence carrying it is left out (at 200x200 "Good
        evening! Into “cat tree”?" may lose its search, or the whole body its greeting).
        What a record of this image (the command line's manifest, the app's download)
        lists as printed.
    """

    size: tuple[int, int]
    regions: dict[str, Box]
    logo: Box
    badge_shape: Box
    texts: dict[str, FittedText]
    left_out: dict[str, str] = field(default_factory=dict)
    body: str = ""
    greeting: str | None = None
    keyword: str | None = None


def badge_variants(creative: Creative) -> tuple[tuple[str, ...], ...]:
    """What the badge may print, richest first; the renderer draws the first that fits.

    The offer over the price. With a discount the price says which it is: the price after
    the discount, computed from the catalogue price ("now $41.30"), then the catalogue
    price ("was $59.00"), on one line where the badge is wide; a smaller badge drops the
    catalogue price, then the price, never cutting one.
    A price that is not shown (a nominal one) is never printed, and with neither an offer
    nor a shown price there is no badge.

    Parameters
    ----------
    creative : Creative

    Returns
    -------
    variants : tuple of tuple of str
        Each the badge's lines; empty when the creative has no badge.

    Examples
    --------
    >>> import dataclasses, numpy as np
    >>> from creative import Audience, generate_for_user
    >>> u = Audience(kind="user", audience_id="u", name="u", top_interests=("fashion",),
    ...              keywords=(), active_hours=None)
    >>> c = generate_for_user(u, np.random.default_rng(0), offer="discount_30")
    >>> c.price_label, badge_variants(c)[0]
    ('$59.00', ('30% off', 'now $41.30 · was $59.00'))
    """
    offer = creative.offer_label
    if not creative.show_price:
        return ((offer,),) if offer else ()
    price = creative.price_label
    if creative.offer in OFFER_DISCOUNT and creative.offer.startswith("discount_"):
        lang = creative.language
        now = format_price(creative.price * (1 - OFFER_DISCOUNT[creative.offer]), lang)
        now_line, was_line = _NOW[lang].format(now), _WAS[lang].format(price)
        # Both prices on one line where the badge is wide (a third line would shrink the
        # offer, the badge's point, to two thirds); a narrow badge wraps it between words.
        return ((offer, f"{now_line} · {was_line}"), (offer, now_line), (offer,))
    if offer:
        return ((offer, price), (offer,))
    return ((price,),)


def _fit_badge_text(
    text: str, inner: Box, *, max_size: int, min_size: int, max_lines: int
) -> FittedText | None:
    """``text`` fitted into the badge, or None unless every word is drawn whole at the floor+.

    A line may wrap between words ("Free / shipping") but no word, and so no price, is ever
    broken: the words drawn must be the words given.
    """
    fitted = fit_text(
        text,
        inner,
        bold=True,
        max_size=max_size,
        min_size=min_size,
        max_lines=max_lines,
        align="center",
        valign="center",
        line_spacing=1.05,
    )
    return fitted if legible(fitted, text) else None


def _fit_badge(creative: Creative, inner: Box) -> FittedText | None:
    variants = badge_variants(creative)
    largest_size = max(MIN_TEXT_PX, int(inner.height * 0.42))
    fits = [
        fitted
        for lines in variants
        if (
            fitted := _fit_badge_text(
                "\n".join(lines), inner, max_size=largest_size, min_size=MIN_TEXT_PX, max_lines=3
            )
        )
        is not None
    ]
    if fits:
        # The richest badge whose offer keeps most of the size the plainest one gets: the
        # offer is the badge's point, and a third line of prices once drew it at half.
        largest = max(f.size for f in fits)
        return next(f for f in fits if f.size >= _BADGE_KEEP * largest)
    if not variants:
        return None
    # The offer (or the price) is never shrunk below the floor every text keeps (it went
    # down to 8 px until 2026-12-05): a badge that cannot show it refuses the size.
    raise _TooSmall("the badge's offer or price")


def _disclosure_region(label: str, region: Box, width: int, height: int) -> Box:
    # The smallest pill, at least the layout's own, whose text box holds the label on one
    # line at MIN_TEXT_PX, centred where the layout put it and kept on the canvas.
    font = get_font(MIN_TEXT_PX)
    label = displayable(label).strip() or " "
    left, top, right, bottom = font.getbbox(label, anchor="la")
    # The advance width, not the ink: fit_text wraps by advances, a little wider.
    advance = max(right - left, font.getlength(label))
    # fit_text lowers its smallest size in a box under 1.2 line heights: never let it.
    text_h = max(bottom - top + 1, -(-MIN_TEXT_PX * 1.18 * 1.2 // 1))
    # A max_size of half the pill's height must reach MIN_TEXT_PX too.
    h = max(region.height, 2 * MIN_TEXT_PX)
    while h - 2 * max(1, h // 6) < text_h:
        h += 1
    # 5 % and 4 px of slack: fit_text sizes by estimated widths, which run a little wide.
    w = max(region.width, int(advance * 1.05) + 4 + 2 * max(2, h // 5))
    cx, cy = (region.x0 + region.x1) // 2, (region.y0 + region.y1) // 2
    x0 = min(max(0, cx - w // 2), width - w)
    y0 = min(max(0, cy - h // 2), height - h)
    return Box(int(x0), int(y0), int(x0 + w), int(y0 + h))


def _deepened(box: Box, role: str, regions: dict[str, Box], height: int, pad: int = 0) -> Box:
    """``box`` made deep enough for one bold line of ``MIN_TEXT_PX`` (and ``pad``).

    Grown about its centre and kept on the canvas; left as it is when the deeper box
    would overlap another region than ``role``'s own (the text is then refused rather
    than drawn small). Every placement's brand row and button are deeper already, so this
    never moves a placement's pixels.
    """
    ascent, descent = get_font(MIN_TEXT_PX, True).getmetrics()
    need = ascent + descent + 2 * pad
    if box.height >= need or need > height:
        return box
    y0 = max(0, box.y0 - (need - box.height) // 2)
    y1 = min(height, y0 + need)
    deeper = Box(box.x0, y1 - need, box.x1, y1)
    others = (b for name, b in regions.items() if name != role)
    return box if any(deeper.overlaps(b) for b in others) else deeper


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

    Raises
    ------
    ValueError
        When the canvas cannot show, whole and at ``MIN_TEXT_PX`` (10 px) or more, the
        AI-generated label, the badge's offer or price (its secondary lines are dropped
        first), the brand name, or a headline or call to action within the length
        guardrail's limits (the headline may take the body's room; see
        ``creative.copyfit``). The body is never the reason: it ends at a whole sentence
        or is left out. The one-line message names the first size of the same shape, 5 %
        steps up, that shows them, e.g. "200x200 is too small for this hero ad: the brand
        name cannot be shown whole at a legible size (every text at 10 px or more); use
        at least 281x281."
    """
    width, height = resolve_size(size)
    try:
        return _plan(creative, width, height)
    except _TooSmall as exc:
        what = str(exc)
    # Same shape, 5 % larger each step: the first size that shows everything.
    hint = "no size of this shape shows them"
    for step in range(1, 100):
        w = round(width * 1.05**step)
        # Rounding may push the tallest shape allowed (1:8) past the bound: keep it on it.
        h = min(round(height * 1.05**step), MAX_ASPECT * w)
        if max(w, h) > MAX_SIDE:
            break
        try:
            _plan(creative, w, h)
        except _TooSmall:
            continue
        hint = f"use at least {w}x{h}"
        break
    raise ValueError(
        f"{width}x{height} is too small for this {creative.layout} ad: {what} cannot be "
        f"shown whole at a legible size (every text at {MIN_TEXT_PX} px or more); {hint}."
    )


def _plan(creative: Creative, width: int, height: int) -> RenderPlan:
    # plan_creative's work on a resolved size; raises _TooSmall naming what does not fit.
    regions = layout_regions(creative.layout, width, height)
    if creative.disclosure:
        grown = _disclosure_region(creative.disclosure, regions["disclosure"], width, height)
        brand = regions["brand"]
        if grown.overlaps(brand) and brand.x1 <= regions["disclosure"].x0:
            # Side by side on one row: the brand gives up the width the label needs.
            regions["brand"] = Box(brand.x0, brand.y0, max(brand.x0 + 1, grown.x0 - 2), brand.y1)
        regions["disclosure"] = grown
        if any(
            grown.overlaps(box)
            # The panel too: text never lies on it (its contrast is not checked).
            for name, box in regions.items()
            if name != "disclosure"
        ):
            raise _TooSmall("the AI-generated label")
    scale = min(width, height)
    tall = orientation(width, height) == "tall"
    texts: dict[str, FittedText] = {}

    brand = regions["brand"]
    # The mark is as tall as the row, but at most a fifth of its width: on a very tall
    # canvas the row is deep and narrow, and a square mark would leave the name no room.
    side = max(1, min(brand.height, brand.width // 5))
    top = brand.y0 + (brand.height - side) // 2
    logo = Box(brand.x0, top, brand.x0 + side, top + side)
    gap = max(2, side // 4)
    name_box = _deepened(Box(logo.x1 + gap, brand.y0, brand.x1, brand.y1), "brand", regions, height)
    # The row keeps the name: a shallow row (12 px at 250x250 in the minimal layout) gives
    # it the depth of one line at the floor where nothing lies above or below.
    regions["brand"] = Box(
        brand.x0, min(brand.y0, name_box.y0), brand.x1, max(brand.y1, name_box.y1)
    )
    texts["brand"] = fit_text(
        creative.brand,
        name_box,
        bold=True,
        max_size=max(MIN_TEXT_PX, int(side * 0.62)),
        min_size=MIN_TEXT_PX,
        max_lines=1,
        valign="center",
    )
    # Who the ad is from is refused rather than drawn as a smudge (it used to reach 7 px at
    # 200x200) or cut.
    if not legible(texts["brand"], creative.brand):
        raise _TooSmall("the brand name")
    if creative.disclosure:
        region = regions["disclosure"]
        texts["disclosure"] = fit_text(
            creative.disclosure,
            region.inset(max(2, region.height // 5), max(1, region.height // 6)),
            max_size=max(MIN_TEXT_PX, int(region.height * 0.5)),
            min_size=MIN_TEXT_PX,
            max_lines=1,
            align="center",
            valign="center",
        )
        if texts["disclosure"].size < MIN_TEXT_PX:
            raise _TooSmall("the AI-generated label")
    # The copy is drawn whole: a headline that does not fit shrinks to MIN_TEXT_PX, then
    # takes the body's room; a body ends at a whole sentence or is left out (copyfit).
    headline, takes_body = fit_headline(
        creative.headline,
        regions["headline"],
        regions["body"],
        max_size=max(10, int(scale * 0.095)),
        max_lines=4 if tall else 3,
    )
    if not legible(headline, creative.headline) and within_limits("headline", creative.headline):
        raise _TooSmall("the headline")
    texts["headline"] = headline
    left_out: dict[str, str] = {}
    if takes_body:
        merged = headline.box
        regions["headline"] = merged
        # The body keeps a region (every layout has each), empty, under the headline's.
        regions["body"] = Box(merged.x0, merged.y1, merged.x1, merged.y1)
        left_out["body"] = " ".join(creative.body.split())
    else:
        body, rest = fit_body(
            creative.body, regions["body"], max_size=max(MIN_TEXT_PX, int(scale * 0.046))
        )
        if body is not None:
            texts["body"] = body
        if rest:
            left_out["body"] = rest
    # A button too shallow for one line at the floor (16 px at 200x200 in the minimal
    # layout) is deepened where nothing lies above or below it.
    cta = regions["cta"] = _deepened(regions["cta"], "cta", regions, height, pad=2)
    for lines, dy in dict.fromkeys(((1, max(2, cta.height // 5)), (1, 2), (2, 2))):
        # One line when it fits; a call to action too long for a small button wraps to
        # two, using the button's full depth, before any word of it is cut. A shallow
        # button (20 px at 250x250) holds one line at the floor only at its full depth.
        texts["cta"] = fit_text(
            creative.cta,
            # The button's round ends take half its height, but never more than an eighth
            # of its width each (a deep button on a tall canvas left its label no room).
            cta.inset(max(4, min(cta.height // 2, cta.width // 8)), dy),
            bold=True,
            max_size=max(MIN_TEXT_PX, int(cta.height * 0.46)),
            min_size=MIN_TEXT_PX,
            max_lines=lines,
            align="center",
            valign="center",
            line_spacing=1.05,
        )
        # fit_text goes below its smallest size in a box too shallow for it: not legible.
        shown = legible(texts["cta"], creative.cta)
        if shown:
            break
    if not shown and within_limits("cta", creative.cta):
        raise _TooSmall("the call to action")
    region = regions["badge"]
    if creative.layout == "badge":
        # A round sticker: the text box is the square inscribed well inside the circle.
        d = min(region.width, region.height)
        x0 = region.x0 + (region.width - d) // 2
        y0 = region.y0 + (region.height - d) // 2
        shape = Box(x0, y0, x0 + d, y0 + d)
        inner = shape.inset(round(d * 0.17))
        badge = _fit_badge(creative, inner)
    else:
        pill = min(region.height, max(24, round(region.width * 0.42)))
        # A pill too shallow for the badge's words grows to the region's full height
        # (a rounded box) before any line is dropped or the size refused.
        for pill_h in dict.fromkeys((pill, region.height)):
            y0 = region.y0 + (region.height - pill_h) // 2
            shape = Box(region.x0, y0, region.x1, y0 + pill_h)
            inner = shape.inset(
                max(3, min(pill_h // 3, region.width // 12)), max(2, min(pill_h // 8, 8))
            )
            try:
                badge = _fit_badge(creative, inner)
                break
            except _TooSmall:
                if pill_h == region.height:
                    raise
    if badge is not None:
        texts["badge"] = badge
    if "disclosure" in texts and texts["disclosure"].truncated:
        raise _TooSmall("the AI-generated label")
    body = " ".join(creative.body.split())
    if "body" in left_out:
        body = body[: len(body) - len(left_out["body"])].rstrip()
    greeting, keyword = _printed_slots(creative, texts)
    return RenderPlan(
        size=(width, height),
        regions=regions,
        logo=logo,
        badge_shape=shape,
        texts=texts,
        left_out=left_out,
        body=body,
        greeting=greeting,
        keyword=keyword,
    )


def _printed_slots(
    creative: Creative, texts: dict[str, FittedText]
) -> tuple[str | None, str | None]:
    """The creative's greeting and search, each only if the drawn copy still carries it."""
    # The lines as drawn, whitespace folded (a value may wrap across lines), with the
    # product's name masked: a search inside the name (말차 in 세리머니얼 말차) is not a
    # quoted search. Unless the search holds the whole name (a search that is the product's
    # name is printed instead of it, "기계식 키보드 관심 있다면").
    drawn = " ".join(
        line for role in ("headline", "body", "cta") if role in texts for line in texts[role].lines
    )
    drawn = " ".join(drawn.split())
    product = " ".join(displayable(creative.product).split())
    keyword = " ".join(displayable(creative.keyword or "").split())
    if product and product not in keyword:
        drawn = drawn.replace(product, "\0")

    def shown(value: str) -> bool:
        value = " ".join(displayable(value).split())
        return bool(value) and value in drawn

    greeting = creative.greeting
    if greeting is not None and not shown(GREETINGS[creative.language][greeting]):
        greeting = None
    keyword = creative.keyword
    if keyword is not None and not shown(keyword):
        keyword = None
    return greeting, keyword


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
    return draw_plan(creative, plan_creative(creative, size))


def draw_plan(creative: Creative, plan: RenderPlan) -> Image.Image:
    """Draw a creative by a plan :func:`plan_creative` made for it.

    For a caller that needs the plan too (what the image prints, for its record) without
    laying the creative out twice; ``render(c, size)`` is ``draw_plan(c, plan_creative(c,
    size))``.

    Parameters
    ----------
    creative : Creative
    plan : RenderPlan
        ``plan_creative(creative, size)``.

    Returns
    -------
    image : PIL.Image.Image
        RGB, of shape ``(height, width, 3)`` as an array.
    """
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
