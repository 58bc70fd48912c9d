"""Layouts: where each element of a creative goes, for any canvas size.

A layout is a table of regions in fractions of the canvas, one table per
orientation (square, tall, wide), so one layout reads well in the feed, the
story and the link placements. Text is only ever placed on the plain
background or inside its own button or badge shape, which keeps the contrast
the guardrails checked true in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

from creative.vocabulary import LAYOUTS, PLACEMENTS

__all__ = [
    "MAX_ASPECT",
    "MAX_SIDE",
    "MIN_SIDE",
    "REGION_NAMES",
    "Box",
    "layout_regions",
    "orientation",
    "resolve_size",
]

#: Every layout has exactly these regions.
REGION_NAMES: tuple[str, ...] = (
    "brand",
    "disclosure",
    "motif",
    "badge",
    "headline",
    "body",
    "cta",
)

#: Canvas side limits for custom sizes.
MIN_SIDE, MAX_SIDE = 200, 4096
#: Most one side may be of the other: a taller strip (400 x 4,096) leaves its text column
#: no width (every creative failed to render), a wider one is a banner the layouts fit.
MAX_ASPECT = 8


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned pixel rectangle, ``x1`` and ``y1`` exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.y1 - self.y0

    def contains(self, other: Box) -> bool:
        """Whether ``other`` lies inside this box."""
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )

    def overlaps(self, other: Box) -> bool:
        """Whether the two boxes share any pixel."""
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def inset(self, dx: int, dy: int | None = None) -> Box:
        """The box shrunk by ``dx`` left and right and ``dy`` top and bottom."""
        dy = dx if dy is None else dy
        return Box(self.x0 + dx, self.y0 + dy, self.x1 - dx, self.y1 - dy)

    def as_tuple(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)``; Pillow's rectangles include ``x1``, so draw to ``x1 - 1``."""
        return (self.x0, self.y0, self.x1, self.y1)


_F = tuple[float, float, float, float]

# Fractions (x0, y0, x1, y1) of the canvas; "panel" (optional) is a decorative block
# behind the motif and badge that never lies under text.
_TABLES: dict[tuple[str, str], dict[str, _F]] = {
    ("hero", "square"): {
        "brand": (0.06, 0.04, 0.58, 0.10),
        "disclosure": (0.60, 0.045, 0.94, 0.09),
        "motif": (0.28, 0.13, 0.68, 0.46),
        "badge": (0.71, 0.15, 0.94, 0.38),
        "headline": (0.06, 0.49, 0.94, 0.67),
        "body": (0.06, 0.69, 0.94, 0.82),
        "cta": (0.26, 0.85, 0.74, 0.95),
    },
    ("hero", "tall"): {
        "brand": (0.06, 0.03, 0.58, 0.07),
        "disclosure": (0.60, 0.035, 0.94, 0.065),
        "motif": (0.12, 0.10, 0.68, 0.40),
        "badge": (0.70, 0.30, 0.95, 0.44),
        "headline": (0.07, 0.47, 0.93, 0.63),
        "body": (0.07, 0.65, 0.93, 0.77),
        "cta": (0.18, 0.82, 0.82, 0.88),
    },
    ("hero", "wide"): {
        "brand": (0.37, 0.06, 0.74, 0.15),
        "disclosure": (0.76, 0.07, 0.97, 0.14),
        "motif": (0.03, 0.10, 0.33, 0.70),
        "badge": (0.06, 0.73, 0.30, 0.95),
        "headline": (0.37, 0.19, 0.97, 0.49),
        "body": (0.37, 0.51, 0.97, 0.72),
        "cta": (0.37, 0.77, 0.70, 0.93),
    },
    ("split", "square"): {
        "panel": (0.56, 0.0, 1.0, 1.0),
        "brand": (0.05, 0.05, 0.52, 0.11),
        "disclosure": (0.05, 0.91, 0.52, 0.96),
        "motif": (0.60, 0.18, 0.96, 0.58),
        "badge": (0.62, 0.64, 0.94, 0.84),
        "headline": (0.05, 0.15, 0.52, 0.47),
        "body": (0.05, 0.49, 0.52, 0.72),
        "cta": (0.05, 0.76, 0.45, 0.87),
    },
    ("split", "tall"): {
        "panel": (0.0, 0.09, 1.0, 0.47),
        "brand": (0.06, 0.025, 0.58, 0.065),
        "disclosure": (0.60, 0.03, 0.94, 0.06),
        "motif": (0.20, 0.115, 0.80, 0.36),
        "badge": (0.28, 0.375, 0.72, 0.455),
        "headline": (0.07, 0.50, 0.93, 0.66),
        "body": (0.07, 0.68, 0.93, 0.80),
        "cta": (0.07, 0.84, 0.60, 0.90),
    },
    ("split", "wide"): {
        "panel": (0.60, 0.0, 1.0, 1.0),
        "brand": (0.04, 0.07, 0.40, 0.16),
        "disclosure": (0.37, 0.81, 0.57, 0.90),
        "motif": (0.64, 0.08, 0.96, 0.60),
        "badge": (0.66, 0.66, 0.94, 0.92),
        "headline": (0.04, 0.20, 0.57, 0.50),
        "body": (0.04, 0.52, 0.57, 0.74),
        "cta": (0.04, 0.78, 0.34, 0.93),
    },
    ("badge", "square"): {
        "brand": (0.06, 0.05, 0.58, 0.11),
        "disclosure": (0.60, 0.055, 0.94, 0.10),
        "badge": (0.06, 0.14, 0.44, 0.48),
        "motif": (0.52, 0.15, 0.94, 0.48),
        "headline": (0.06, 0.52, 0.94, 0.70),
        "body": (0.06, 0.72, 0.94, 0.83),
        "cta": (0.06, 0.86, 0.52, 0.95),
    },
    ("badge", "tall"): {
        "brand": (0.06, 0.03, 0.58, 0.07),
        "disclosure": (0.60, 0.035, 0.94, 0.065),
        "badge": (0.06, 0.09, 0.60, 0.40),
        "motif": (0.62, 0.14, 0.95, 0.36),
        "headline": (0.07, 0.45, 0.93, 0.62),
        "body": (0.07, 0.64, 0.93, 0.77),
        "cta": (0.07, 0.82, 0.60, 0.88),
    },
    ("badge", "wide"): {
        "brand": (0.30, 0.06, 0.72, 0.15),
        "disclosure": (0.75, 0.07, 0.97, 0.14),
        "badge": (0.03, 0.12, 0.27, 0.88),
        "motif": (0.75, 0.20, 0.97, 0.80),
        "headline": (0.30, 0.19, 0.72, 0.50),
        "body": (0.30, 0.52, 0.72, 0.75),
        "cta": (0.30, 0.79, 0.62, 0.93),
    },
    ("minimal", "square"): {
        "brand": (0.08, 0.07, 0.58, 0.12),
        "disclosure": (0.62, 0.075, 0.92, 0.115),
        "headline": (0.08, 0.20, 0.92, 0.52),
        "body": (0.08, 0.55, 0.70, 0.72),
        "motif": (0.74, 0.55, 0.92, 0.73),
        "badge": (0.08, 0.75, 0.42, 0.83),
        "cta": (0.08, 0.86, 0.52, 0.94),
    },
    ("minimal", "tall"): {
        "brand": (0.08, 0.05, 0.58, 0.09),
        "disclosure": (0.62, 0.055, 0.92, 0.085),
        "headline": (0.08, 0.20, 0.92, 0.48),
        "body": (0.08, 0.52, 0.92, 0.64),
        "motif": (0.08, 0.68, 0.30, 0.80),
        "badge": (0.34, 0.71, 0.74, 0.77),
        "cta": (0.08, 0.85, 0.60, 0.91),
    },
    ("minimal", "wide"): {
        "brand": (0.06, 0.08, 0.50, 0.17),
        "disclosure": (0.68, 0.09, 0.94, 0.16),
        "headline": (0.06, 0.25, 0.78, 0.58),
        "motif": (0.82, 0.25, 0.94, 0.60),
        "body": (0.06, 0.61, 0.78, 0.77),
        "badge": (0.62, 0.81, 0.94, 0.94),
        "cta": (0.06, 0.81, 0.40, 0.94),
    },
}


def resolve_size(size: str | tuple[int, int]) -> tuple[int, int]:
    """Turn a placement name or a ``(width, height)`` pair into pixels.

    Parameters
    ----------
    size : str or tuple of int
        A key of ``PLACEMENTS`` or ``(width, height)``, each side in
        [MIN_SIDE, MAX_SIDE].

    Returns
    -------
    size : tuple of int
        ``(width, height)``.
    """
    if isinstance(size, str):
        if size not in PLACEMENTS:
            raise ValueError(f"`size` must be one of {list(PLACEMENTS)} or (w, h); got {size!r}.")
        return PLACEMENTS[size]
    if (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
        and all(MIN_SIDE <= v <= MAX_SIDE for v in size)
    ):
        if size[1] > MAX_ASPECT * size[0]:
            raise ValueError(
                f"`size` may be at most {MAX_ASPECT} times as tall as wide (its text needs "
                f"the width); got {size!r}."
            )
        return size
    raise ValueError(
        f"`size` must be a placement name or (width, height) ints in [{MIN_SIDE}, {MAX_SIDE}]; "
        f"got {size!r}."
    )


def orientation(width: int, height: int) -> str:
    """``"tall"`` above 1.3:1 portrait, ``"wide"`` above 1.3:1 landscape, else ``"square"``."""
    if height > 1.3 * width:
        return "tall"
    if width > 1.3 * height:
        return "wide"
    return "square"


def layout_regions(layout: str, width: int, height: int) -> dict[str, Box]:
    """Pixel regions of a layout on a canvas.

    Parameters
    ----------
    layout : str
        One of ``LAYOUTS``.
    width, height : int
        Canvas size in pixels.

    Returns
    -------
    regions : dict of str to Box
        Every name of :data:`REGION_NAMES`, plus ``"panel"`` for layouts that
        have a decorative panel. Regions never overlap, except that the panel
        lies under the motif and badge.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"`layout` must be one of {list(LAYOUTS)}; got {layout!r}.")
    table = _TABLES[(layout, orientation(width, height))]
    return {
        name: Box(round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))
        for name, (x0, y0, x1, y1) in table.items()
    }
