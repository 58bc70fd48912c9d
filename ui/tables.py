"""Display tables: result frames in, readable frames out (percentages, money, intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.metrics import safe_ratio, summarize
from ui.fmt import LEVEL_NAMES, interval, money, multiple, pct, policy_name

__all__ = ["best_row", "metrics_table", "segment_table", "winners"]


def metrics_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Final metrics per (level, policy): mean and 95 % interval across seeds, as text.

    Parameters
    ----------
    summary : DataFrame
        ``ExperimentResult.summary_frame()`` (one row per policy, level and seed).

    Returns
    -------
    table : DataFrame
        One row per (level, policy), observed values; the intervals cover the seeds (and
        worlds) of the run. Like-for-like uplift is a table of its own (``uplift_frame``).
    """
    s = summarize(summary)
    rows = []
    for r in s.itertuples(index=False):
        row = r._asdict()
        rows.append(
            {
                "Level": LEVEL_NAMES.get(row["level"], row["level"]),
                "Policy": policy_name(row["policy"]),
                "CTR": interval(pct, row["ctr"], row["ctr_low"], row["ctr_high"]),
                "ROAS": interval(multiple, row["roas"], row["roas_low"], row["roas_high"]),
                "Conversion rate": interval(pct, row["cvr"], row["cvr_low"], row["cvr_high"]),
                "Cost per conversion": interval(money, row["cpa"], row["cpa_low"], row["cpa_high"]),
                "Regret": interval(
                    lambda v: f"{v:,.0f}", row["regret"], row["regret_low"], row["regret_high"]
                ),
                "Seeds": row["n_seeds"],
            }
        )
    return pd.DataFrame(rows)


def best_row(summary: pd.DataFrame, objective: str = "ctr") -> pd.Series:
    """The (level, policy) with the best mean objective, with its mean metrics."""
    cols = [c for c in ("ctr", "roas", "spend", "revenue", "regret") if c in summary]
    means = summary.groupby(["level", "policy"], sort=False)[cols].mean().reset_index()
    key = "roas" if objective == "roas" else "ctr"
    return means.loc[means[key].fillna(-np.inf).idxmax()]


def winners(segment_frame: pd.DataFrame, objective: str = "ctr") -> pd.DataFrame:
    """Per segment, the segment-level creative with the best observed CTR (or ROAS).

    Pooled over policies and seeds (every policy's impressions are real draws of the same
    response model); arms shown fewer than 100 times are not eligible unless none is.

    Returns
    -------
    winners : DataFrame
        Columns ``segment``, ``arm``, ``impressions``, ``ctr``, ``roas``.
    """
    rows = segment_frame[segment_frame["level"] == "segment"]
    if rows.empty:
        return pd.DataFrame(columns=["segment", "arm", "impressions", "ctr", "roas"])
    totals = rows.groupby(["segment", "arm"])[["impressions", "clicks", "revenue", "spend"]].sum()
    totals["ctr"] = safe_ratio(totals["clicks"], totals["impressions"])
    totals["roas"] = safe_ratio(totals["revenue"], totals["spend"])
    key = "roas" if objective == "roas" else "ctr"
    out = []
    for segment, group in totals.groupby(level="segment"):
        eligible = group[group["impressions"] >= 100]
        pick = (eligible if not eligible.empty else group)[key].fillna(-np.inf).idxmax()
        row = group.loc[pick]
        out.append(
            {
                "segment": int(segment),
                "arm": int(pick[1]),
                "impressions": int(row["impressions"]),
                "ctr": float(row["ctr"]),
                "roas": float(row["roas"]),
            }
        )
    return pd.DataFrame(out)


def segment_table(segments: pd.DataFrame) -> pd.DataFrame:
    """``Segmentation.to_frame()`` with readable headers and formatted shares."""
    return pd.DataFrame(
        {
            "Segment": segments["segment"],
            "Name": segments["name"],
            "Users": segments["size"].map(lambda v: f"{v:,}"),
            "Share": segments["share"].map(pct),
            "Top interests": segments["top_interests"],
            "Active": segments["active_hours"],
            "On mobile": segments["mobile_share"].map(lambda v: pct(v, 0)),
            "Korean speakers": segments["korean_share"].map(lambda v: pct(v, 0)),
            "Price sensitivity": segments["price_sensitivity"].map(lambda v: f"{v:.2f}"),
            "Top searches": segments["top_keywords"],
        }
    )
