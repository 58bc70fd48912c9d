"""Product motifs: one simple icon per category (and a few products), drawn with Pillow shapes.

Each motif is drawn in unit coordinates (0..1 across the largest square that
fits the box), so it scales to any placement.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import ImageDraw

from creative.brand import Palette
from creative.layouts import Box

__all__ = ["MOTIF_PAINTERS", "draw_motif"]

_RGB = tuple[int, int, int]


class _Pen:
    """Unit-square drawing helpers over an ImageDraw."""

    __slots__ = ("draw", "s", "x", "y")

    def __init__(self, draw: ImageDraw.ImageDraw, box: Box) -> None:
        self.s = min(box.width, box.height)
        self.x = box.x0 + (box.width - self.s) // 2
        self.y = box.y0 + (box.height - self.s) // 2
        self.draw = draw

    def p(self, u: float, v: float) -> tuple[int, int]:
        return (round(self.x + u * self.s), round(self.y + v * self.s))

    def r(self, u0: float, v0: float, u1: float, v1: float) -> list[tuple[int, int]]:
        return [self.p(u0, v0), self.p(u1, v1)]

    def rect(self, u0, v0, u1, v1, fill: _RGB, radius: float = 0.0) -> None:
        if radius:
            self.draw.rounded_rectangle(self.r(u0, v0, u1, v1), round(radius * self.s), fill=fill)
        else:
            self.draw.rectangle(self.r(u0, v0, u1, v1), fill=fill)

    def ellipse(self, u0, v0, u1, v1, fill: _RGB) -> None:
        self.draw.ellipse(self.r(u0, v0, u1, v1), fill=fill)

    def poly(self, points: list[tuple[float, float]], fill: _RGB) -> None:
        self.draw.polygon([self.p(u, v) for u, v in points], fill=fill)

    def line(self, points: list[tuple[float, float]], fill: _RGB, width: float) -> None:
        self.draw.line(
            [self.p(u, v) for u, v in points], fill=fill, width=max(1, round(width * self.s))
        )


def _shirt(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.poly(
        [(0.3, 0.18), (0.42, 0.14), (0.58, 0.14), (0.7, 0.18), (0.9, 0.36), (0.78, 0.48),
         (0.7, 0.42), (0.7, 0.86), (0.3, 0.86), (0.3, 0.42), (0.22, 0.48), (0.1, 0.36)],
        main,
    )  # fmt: skip
    pen.poly([(0.42, 0.14), (0.5, 0.26), (0.58, 0.14)], cut)
    pen.rect(0.36, 0.6, 0.64, 0.66, second)


def _bottle(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.42, 0.1, 0.58, 0.26, second, 0.02)
    pen.rect(0.3, 0.26, 0.7, 0.9, main, 0.08)
    pen.rect(0.36, 0.48, 0.64, 0.7, cut, 0.03)


def _controller(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.ellipse(0.08, 0.3, 0.4, 0.8, main)
    pen.ellipse(0.6, 0.3, 0.92, 0.8, main)
    pen.rect(0.22, 0.3, 0.78, 0.62, main, 0.1)
    pen.rect(0.2, 0.44, 0.34, 0.48, cut)
    pen.rect(0.25, 0.39, 0.29, 0.53, cut)
    pen.ellipse(0.66, 0.38, 0.72, 0.44, second)
    pen.ellipse(0.72, 0.46, 0.78, 0.52, second)


def _phone(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.3, 0.08, 0.7, 0.92, main, 0.07)
    pen.rect(0.34, 0.16, 0.66, 0.8, cut, 0.02)
    pen.ellipse(0.46, 0.83, 0.54, 0.89, second)
    pen.rect(0.4, 0.3, 0.6, 0.34, second)
    pen.rect(0.4, 0.4, 0.56, 0.44, second)


def _dumbbell(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.2, 0.46, 0.8, 0.54, second)
    for u in (0.1, 0.72):
        pen.rect(u, 0.28, u + 0.1, 0.72, main, 0.02)
    for u in (0.2, 0.66):
        pen.rect(u, 0.34, u + 0.08, 0.66, main, 0.02)


def _bowl(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.line([(0.38, 0.1), (0.34, 0.3)], second, 0.03)
    pen.line([(0.5, 0.08), (0.5, 0.3)], second, 0.03)
    pen.line([(0.62, 0.1), (0.66, 0.3)], second, 0.03)
    pen.draw.chord(pen.r(0.1, 0.1, 0.9, 0.9), 0, 180, fill=main)
    pen.rect(0.08, 0.46, 0.92, 0.52, second, 0.02)


def _suitcase(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.38, 0.14, 0.62, 0.3, second, 0.04)
    pen.rect(0.42, 0.18, 0.58, 0.3, cut)
    pen.rect(0.18, 0.26, 0.82, 0.86, main, 0.06)
    pen.rect(0.34, 0.26, 0.38, 0.86, second)
    pen.rect(0.62, 0.26, 0.66, 0.86, second)


def _house(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.poly([(0.5, 0.1), (0.92, 0.46), (0.08, 0.46)], second)
    pen.rect(0.18, 0.44, 0.82, 0.9, main)
    pen.rect(0.42, 0.6, 0.58, 0.9, cut)
    pen.rect(0.24, 0.52, 0.36, 0.64, cut)


def _paw(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.ellipse(0.28, 0.46, 0.72, 0.86, main)
    for u, v in ((0.14, 0.34), (0.3, 0.16), (0.52, 0.16), (0.68, 0.34)):
        pen.ellipse(u, v, u + 0.18, v + 0.22, main)


def _note(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.ellipse(0.16, 0.62, 0.42, 0.84, main)
    pen.ellipse(0.56, 0.54, 0.82, 0.76, main)
    pen.rect(0.36, 0.16, 0.42, 0.74, main)
    pen.rect(0.76, 0.1, 0.82, 0.66, main)
    pen.poly([(0.36, 0.16), (0.82, 0.08), (0.82, 0.2), (0.36, 0.28)], second)


def _book(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.poly([(0.08, 0.2), (0.48, 0.26), (0.48, 0.86), (0.08, 0.8)], main)
    pen.poly([(0.92, 0.2), (0.52, 0.26), (0.52, 0.86), (0.92, 0.8)], main)
    for v in (0.38, 0.5, 0.62):
        pen.line([(0.16, v), (0.4, v + 0.03)], cut, 0.015)
        pen.line([(0.6, v + 0.03), (0.84, v)], cut, 0.015)
    pen.rect(0.48, 0.24, 0.52, 0.88, second)


def _mountain(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.ellipse(0.62, 0.1, 0.84, 0.32, second)
    pen.poly([(0.04, 0.86), (0.38, 0.3), (0.72, 0.86)], main)
    pen.poly([(0.4, 0.86), (0.66, 0.46), (0.96, 0.86)], main)
    pen.poly([(0.31, 0.42), (0.38, 0.3), (0.45, 0.42)], cut)


def _chart(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    for i, h in enumerate((0.22, 0.36, 0.3, 0.52, 0.66)):
        u = 0.12 + i * 0.16
        pen.rect(u, 0.86 - h, u + 0.11, 0.86, main, 0.015)
    pen.line([(0.12, 0.56), (0.34, 0.44), (0.5, 0.5), (0.7, 0.28), (0.88, 0.14)], second, 0.03)
    pen.rect(0.08, 0.86, 0.92, 0.89, second)


def _blocks(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.12, 0.52, 0.46, 0.86, main, 0.03)
    pen.rect(0.54, 0.52, 0.88, 0.86, second, 0.03)
    pen.rect(0.33, 0.16, 0.67, 0.5, main, 0.03)
    for u, v in ((0.2, 0.6), (0.62, 0.6), (0.41, 0.24)):
        pen.ellipse(u, v, u + 0.08, v + 0.08, cut)


def _shoe(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    # A low sneaker in profile, toe to the right: upper, then sole and laces.
    pen.poly(
        [(0.1, 0.34), (0.3, 0.34), (0.42, 0.46), (0.66, 0.5), (0.86, 0.58), (0.92, 0.7),
         (0.08, 0.7)],
        main,
    )  # fmt: skip
    pen.rect(0.06, 0.7, 0.94, 0.8, second, 0.03)
    for u in (0.36, 0.46, 0.56):
        pen.line([(u, 0.5), (u + 0.06, 0.44)], cut, 0.02)


def _watch(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.38, 0.06, 0.62, 0.94, second, 0.04)  # the strap
    pen.rect(0.26, 0.26, 0.74, 0.74, main, 0.1)  # the case
    pen.rect(0.32, 0.32, 0.68, 0.68, cut, 0.06)  # the face
    pen.line([(0.5, 0.5), (0.5, 0.38)], second, 0.03)
    pen.line([(0.5, 0.5), (0.6, 0.56)], second, 0.03)


def _headphones(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.draw.arc(pen.r(0.16, 0.12, 0.84, 0.8), 180, 360, fill=main, width=round(0.07 * pen.s))
    pen.rect(0.1, 0.46, 0.3, 0.84, main, 0.06)
    pen.rect(0.7, 0.46, 0.9, 0.84, main, 0.06)
    pen.rect(0.16, 0.54, 0.24, 0.76, second, 0.03)
    pen.rect(0.76, 0.54, 0.84, 0.76, second, 0.03)


def _bag(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.draw.arc(pen.r(0.32, 0.1, 0.68, 0.5), 180, 360, fill=second, width=round(0.05 * pen.s))
    pen.poly([(0.2, 0.32), (0.8, 0.32), (0.88, 0.9), (0.12, 0.9)], main)
    pen.rect(0.3, 0.5, 0.7, 0.56, cut)


def _plug(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.36, 0.1, 0.44, 0.3, second, 0.01)  # the pins
    pen.rect(0.56, 0.1, 0.64, 0.3, second, 0.01)
    pen.rect(0.26, 0.28, 0.74, 0.62, main, 0.08)  # the body
    pen.rect(0.44, 0.6, 0.56, 0.76, main)
    pen.line([(0.5, 0.76), (0.5, 0.84), (0.3, 0.92)], second, 0.04)  # the cable
    pen.ellipse(0.44, 0.4, 0.56, 0.5, cut)


def _lamp(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.poly([(0.3, 0.12), (0.62, 0.12), (0.76, 0.4), (0.16, 0.4)], main)  # the shade
    pen.line([(0.46, 0.4), (0.46, 0.82)], second, 0.05)
    pen.rect(0.26, 0.82, 0.66, 0.9, main, 0.03)  # the foot
    pen.ellipse(0.4, 0.42, 0.52, 0.5, second)  # the bulb


def _camera(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.36, 0.2, 0.58, 0.3, main, 0.02)
    pen.rect(0.1, 0.28, 0.9, 0.8, main, 0.08)
    pen.ellipse(0.32, 0.36, 0.68, 0.72, cut)
    pen.ellipse(0.4, 0.44, 0.6, 0.64, second)
    pen.ellipse(0.74, 0.34, 0.82, 0.42, second)


def _keyboard(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.06, 0.3, 0.94, 0.74, main, 0.05)
    for row, v in enumerate((0.36, 0.47)):
        for k in range(7):
            u = 0.12 + k * 0.11 + (0.04 if row else 0)
            pen.rect(u, v, u + 0.08, v + 0.08, cut, 0.01)
    pen.rect(0.28, 0.59, 0.72, 0.67, second, 0.01)  # the space bar


def _speaker(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.26, 0.08, 0.74, 0.92, main, 0.08)
    pen.ellipse(0.42, 0.16, 0.58, 0.32, cut)
    pen.ellipse(0.32, 0.42, 0.68, 0.78, cut)
    pen.ellipse(0.43, 0.53, 0.57, 0.67, second)


def _cup(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.line([(0.42, 0.08), (0.38, 0.24)], second, 0.03)  # the steam
    pen.line([(0.56, 0.08), (0.52, 0.24)], second, 0.03)
    pen.draw.arc(pen.r(0.62, 0.4, 0.88, 0.66), 270, 90, fill=main, width=round(0.05 * pen.s))
    pen.poly([(0.16, 0.32), (0.74, 0.32), (0.68, 0.84), (0.22, 0.84)], main)
    pen.rect(0.12, 0.84, 0.78, 0.9, second, 0.02)  # the saucer


def _mat(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    # A yoga mat half unrolled: the flat part, then the roll seen from its end.
    pen.rect(0.06, 0.66, 0.66, 0.84, main, 0.02)
    pen.rect(0.06, 0.73, 0.66, 0.77, second)
    pen.ellipse(0.52, 0.46, 0.94, 0.88, main)
    pen.ellipse(0.64, 0.58, 0.82, 0.76, cut)
    pen.ellipse(0.69, 0.63, 0.77, 0.71, second)


def _vacuum(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.ellipse(0.1, 0.1, 0.9, 0.9, main)  # the round robot, from above
    pen.draw.arc(pen.r(0.18, 0.18, 0.82, 0.82), 200, 340, fill=cut, width=round(0.03 * pen.s))
    pen.rect(0.4, 0.16, 0.6, 0.24, second, 0.02)  # its sensor
    pen.ellipse(0.43, 0.5, 0.57, 0.64, second)  # its button


def _bed(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.rect(0.08, 0.3, 0.16, 0.84, second, 0.02)  # the headboard
    pen.rect(0.16, 0.52, 0.92, 0.72, main, 0.04)  # the mattress and covers
    pen.rect(0.2, 0.42, 0.38, 0.54, cut, 0.04)  # the pillow
    pen.rect(0.84, 0.66, 0.92, 0.84, second, 0.02)


def _tent(pen: _Pen, main: _RGB, second: _RGB, cut: _RGB) -> None:
    pen.poly([(0.5, 0.14), (0.92, 0.84), (0.08, 0.84)], main)
    pen.poly([(0.5, 0.42), (0.64, 0.84), (0.36, 0.84)], cut)  # the door
    pen.rect(0.04, 0.84, 0.96, 0.88, second)
    pen.line([(0.5, 0.14), (0.5, 0.06)], second, 0.03)


#: Motif name -> painter(pen, main, second, cutout colours).
MOTIF_PAINTERS: dict[str, Callable[[_Pen, _RGB, _RGB, _RGB], None]] = {
    "shirt": _shirt,
    "bottle": _bottle,
    "controller": _controller,
    "phone": _phone,
    "dumbbell": _dumbbell,
    "bowl": _bowl,
    "suitcase": _suitcase,
    "house": _house,
    "paw": _paw,
    "note": _note,
    "book": _book,
    "mountain": _mountain,
    "chart": _chart,
    "blocks": _blocks,
    "shoe": _shoe,
    "watch": _watch,
    "headphones": _headphones,
    "bag": _bag,
    "plug": _plug,
    "lamp": _lamp,
    "camera": _camera,
    "keyboard": _keyboard,
    "speaker": _speaker,
    "cup": _cup,
    "mat": _mat,
    "vacuum": _vacuum,
    "bed": _bed,
    "tent": _tent,
}


def draw_motif(
    draw: ImageDraw.ImageDraw, box: Box, motif: str, palette: Palette, *, backdrop: _RGB | None
) -> None:
    """Draw a product motif centred in ``box``.

    Parameters
    ----------
    draw : PIL.ImageDraw.ImageDraw
    box : Box
    motif : str
        A key of :data:`MOTIF_PAINTERS`.
    palette : Palette
    backdrop : tuple of int or None
        Colour of the disc behind the motif, None for none.
    """
    if motif not in MOTIF_PAINTERS:
        raise ValueError(f"`motif` must be one of {list(MOTIF_PAINTERS)}; got {motif!r}.")
    pen = _Pen(draw, box)
    cut = palette.rgb("background")
    if backdrop is not None:
        pen.ellipse(0.0, 0.0, 1.0, 1.0, backdrop)
        cut = backdrop
        # Shrink the icon into the disc.
        pen = _Pen(draw, Box(pen.x, pen.y, pen.x + pen.s, pen.y + pen.s).inset(round(pen.s * 0.16)))
    MOTIF_PAINTERS[motif](pen, palette.rgb("motif"), palette.rgb("accent"), cut)
