"""Draw a sweep's uplift heat maps (CTR and ROAS side by side) as a PNG, with Pillow only.

Usage::

    .venv/bin/python bench/sweep_figure.py SWEEP_DIR/sweep.parquet X Y OUT.png \\
        [--level user] [--policy best]

Each cell shows the observed like-for-like uplift over the generic level, its
95 % interval across replications and the true (expected) uplift of the same
comparison; red is a loss, blue a gain (the app's colours), each panel on its own
scale. A cell without an uplift (no replication with both sides positive) says so, in
grey; a cell without an interval says why, from the table's ``uplift_*_note``: "too few
conversions" (or clicks: a replication had fewer than 10 on a side), "no spread" (every
replication gave the same ratio), else "no interval".
Used for ``docs/sweep-heatmap.png``; the app draws the same maps with Altair.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

CELL_W, CELL_H, MARGIN_L, MARGIN_T, GAP = 150, 80, 150, 70, 40


def _colour(value: float, span: float) -> tuple[int, int, int]:
    """Diverging red (loss) - white - blue (gain)."""
    if not np.isfinite(value):
        return (220, 220, 220)
    t = max(-1.0, min(1.0, value / span))
    far = (33, 102, 172) if t > 0 else (178, 24, 43)
    return tuple(round(255 + (c - 255) * abs(t)) for c in far)


def _no_interval(note: object) -> str:
    """What a cell without an interval prints: the reason, shortened from the table's note."""
    if isinstance(note, str) and note.startswith("too few "):
        return " ".join(note.split()[:3])  # "too few conversions", "too few clicks"
    if isinstance(note, str) and note.startswith("every replication gave the same ratio"):
        return "no spread"
    return "no interval"


def _panel(draw, font, small, rows, x, y, metric, left) -> None:
    xs, ys = sorted(rows[x].unique()), sorted(rows[y].unique(), reverse=True)
    col = f"uplift_{metric}"
    values = np.abs(rows[col].to_numpy(dtype=np.float64))
    values = values[np.isfinite(values)]
    span = float(values.max()) if values.size and values.max() > 0 else 1.0
    draw.text((left, 20), f"{metric.upper()} uplift", font=font, fill="black")
    for i, xv in enumerate(xs):
        cx = left + i * CELL_W
        draw.text((cx + CELL_W // 2, MARGIN_T + len(ys) * CELL_H + 8), f"{xv:g}",
                  font=small, fill="black", anchor="ma")  # fmt: skip
        for j, yv in enumerate(ys):
            cy = MARGIN_T + j * CELL_H
            cell = rows[(rows[x] == xv) & (rows[y] == yv)]
            v, lo, hi, true = (
                cell[c].mean() for c in (col, f"{col}_low", f"{col}_high", f"{col}_expected")
            )
            draw.rectangle((cx, cy, cx + CELL_W - 2, cy + CELL_H - 2), fill=_colour(v, span))
            ink = "white" if abs(v) > 0.6 * span else "black"
            # No uplift where no replication had both sides positive (the table's
            # uplift_*_pairs is 0): say so rather than print "nan".
            shown = f"{v:+.1%}" if np.isfinite(v) else "no uplift"
            # Tables written before the notes existed have no note column: "no interval".
            note = cell[f"{col}_note"].iloc[0] if f"{col}_note" in cell and len(cell) else None
            ci = f"[{lo:+.0%}, {hi:+.0%}]" if np.isfinite([lo, hi]).all() else _no_interval(note)
            truth = f"true {true:+.1%}" if np.isfinite(true) else "true: none"
            draw.text((cx + CELL_W // 2, cy + 14), shown, font=font, fill=ink, anchor="ma")
            draw.text((cx + CELL_W // 2, cy + 40), ci, font=small, fill=ink, anchor="ma")
            draw.text((cx + CELL_W // 2, cy + 58), truth, font=small, fill=ink, anchor="ma")
            if i == 0 and left == MARGIN_L:
                draw.text((cx - 10, cy + CELL_H // 2), f"{yv:g}", font=small, fill="black",
                          anchor="rm")  # fmt: skip
    draw.text((left + len(xs) * CELL_W // 2, MARGIN_T + len(ys) * CELL_H + 30), x,
              font=small, fill="black", anchor="ma")  # fmt: skip


def draw_heatmaps(table: pd.DataFrame, x: str, y: str, level: str, policy: str) -> Image.Image:
    """CTR and ROAS uplift of ``level`` x ``policy`` over the (x, y) grid (world 0)."""
    rows = table[(table["level"] == level) & (table["policy"] == policy) & (table["world"] == 0)]
    nx, ny = rows[x].nunique(), rows[y].nunique()
    width = MARGIN_L + 2 * nx * CELL_W + GAP + 20
    height = MARGIN_T + ny * CELL_H + 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=18), ImageFont.load_default(size=14)
    for k, metric in enumerate(("ctr", "roas")):
        _panel(draw, font, small, rows, x, y, metric, MARGIN_L + k * (nx * CELL_W + GAP))
    draw.text((10, MARGIN_T - 24), y, font=small, fill="black")
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path)
    parser.add_argument("x")
    parser.add_argument("y")
    parser.add_argument("out", type=Path)
    parser.add_argument("--level", default="user")
    parser.add_argument("--policy", default="best")
    args = parser.parse_args()
    table = pd.read_parquet(args.table)
    draw_heatmaps(table, args.x, args.y, args.level, args.policy).save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
