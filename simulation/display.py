"""Display constants shared by the app's charts and the HTML report (no plotting here).

The app (``ui/charts.py``, Altair) and the report (:mod:`simulation.store.report`, inline
SVG) draw with the same colours and the same y-axis rule, so a run looks the same in both.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PALETTE", "robust_domain"]

#: The app's one categorical palette (Okabe and Ito's colour-blind-safe set, then Tableau's
#: extras): every chart colours its categories from it, in this order, so no two lines of a
#: chart share a hue and "A" is the same blue on every page.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7F7F7F", "#F0E442",
    "#000000", "#8C564B", "#9467BD", "#17BECF",
)  # fmt: skip


def robust_domain(
    means: np.ndarray, lows: np.ndarray, highs: np.ndarray, *, stretch: float = 1.5
) -> list[float] | None:
    """A y-axis range that shows every line and no more band than is informative.

    The range covers every mean; bands widen it by at most ``stretch`` times the spread of
    the means on each side (early, wide bands would otherwise squash the lines into a strip).

    Parameters
    ----------
    means, lows, highs : ndarray of shape (n,)
    stretch : float, default=1.5

    Returns
    -------
    domain : [low, high] or None when nothing is finite
    """
    m = np.asarray(means, dtype=float)
    m = m[np.isfinite(m)]
    if m.size == 0:
        return None
    lo_m, hi_m = float(m.min()), float(m.max())
    spread = max(hi_m - lo_m, abs(hi_m) * 0.02, 1e-12)
    lo_b = np.asarray(lows, dtype=float)
    hi_b = np.asarray(highs, dtype=float)
    lo_b = float(np.nanmin(lo_b)) if np.isfinite(lo_b).any() else lo_m
    hi_b = float(np.nanmax(hi_b)) if np.isfinite(hi_b).any() else hi_m
    low = max(min(lo_b, lo_m), lo_m - stretch * spread)
    high = min(max(hi_b, hi_m), hi_m + stretch * spread)
    if lo_m >= 0:
        low = max(low, 0.0)
    return [low, high]
