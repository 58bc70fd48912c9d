"""Funnel metrics and intervals: pure functions, arrays in, numbers out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "RATE_METRICS",
    "add_rates",
    "mean_interval",
    "safe_ratio",
    "summarize",
]

#: Rates derived from the totals, with their numerator and denominator.
RATE_METRICS: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "impressions"),
    "cvr": ("conversions", "clicks"),
    "cpa": ("spend", "conversions"),
    "roas": ("revenue", "spend"),
}


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with NaN where the denominator is 0.

    Parameters
    ----------
    numerator, denominator : array-like of the same shape

    Returns
    -------
    ratio : ndarray of float, same shape
    """
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    with np.errstate(over="ignore"):  # tiny denominators give inf, which is right
        np.divide(num, den, out=out, where=den != 0)
    return out


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``ctr``, ``cvr``, ``cpa`` and ``roas`` columns computed from the totals."""
    out = frame.copy()
    for name, (num, den) in RATE_METRICS.items():
        out[name] = safe_ratio(out[num].to_numpy(), out[den].to_numpy())
    return out


def mean_interval(values: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval of independent replications.

    Parameters
    ----------
    values : ndarray of shape (n_seeds,)
        One value per seed; NaNs are ignored.
    alpha : float, default=0.05
        1 - confidence level.

    Returns
    -------
    mean, low, high : float
        With fewer than two finite values the interval is (mean, mean) for one
        value and all NaN for none.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(v.mean())
    if v.size == 1:
        return (mean, mean, mean)
    half = float(special.stdtrit(v.size - 1, 1 - alpha / 2) * v.std(ddof=1) / np.sqrt(v.size))
    return (mean, mean - half, mean + half)


def summarize(
    summary: pd.DataFrame,
    metrics: tuple[str, ...] = ("ctr", "cvr", "cpa", "roas", "regret", "uplift_ctr", "uplift_roas"),
    *,
    by: tuple[str, ...] = ("level", "policy"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean and (1 - alpha) interval across seeds of every metric.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, seed), as from
        :meth:`simulation.engine.core.ExperimentResult.summary_frame`.
    metrics : tuple of str
        Columns to aggregate (missing ones are skipped).
    by : tuple of str
        Grouping columns.
    alpha : float, default=0.05

    Returns
    -------
    table : DataFrame
        One row per group, columns ``METRIC``, ``METRIC_low``, ``METRIC_high``,
        plus ``n_seeds``.
    """
    rows = []
    present = [m for m in metrics if m in summary.columns]
    for key, group in summary.groupby(list(by), sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row["n_seeds"] = int(group.shape[0])
        for m in present:
            row[m], row[f"{m}_low"], row[f"{m}_high"] = mean_interval(group[m].to_numpy(), alpha)
        rows.append(row)
    return pd.DataFrame(rows)
