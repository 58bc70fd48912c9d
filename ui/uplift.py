"""The like-for-like uplift as the Experiment page shows it: a sentence and a table of text.

Pure functions of :meth:`simulation.engine.ExperimentResult.uplift_frame` rows (no Streamlit),
so what the page says about an interval is testable on its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.fmt import LEVEL_NAMES, interval, policy_name, signed_pct

__all__ = ["UPLIFT_METRIC_NAMES", "uplift_display", "uplift_sentence"]

#: Uplift metrics as the reader names them.
UPLIFT_METRIC_NAMES = {"ctr": "CTR", "roas": "ROAS", "conversions": "Conversions",
                       "revenue": "Revenue"}  # fmt: skip


def uplift_sentence(row: pd.Series, level: str, metric: str) -> str:
    """One observed uplift in words: its value, 95 % interval and what the interval covers."""
    name = UPLIFT_METRIC_NAMES[metric]
    who = f"{LEVEL_NAMES.get(level, level).lower()} ads"
    if not np.isfinite(row["ci_low"]) or not np.isfinite(row["ci_high"]):
        return (
            f"{who}: {name} {signed_pct(row['observed'])} observed, over "
            f"{row['interval_over']}: one replication gives no interval (add seeds or worlds)."
        )
    span = f"95 % interval {signed_pct(row['ci_low'])} to {signed_pct(row['ci_high'])}"
    if row["ci_low"] <= 0.0 <= row["ci_high"]:
        return (
            f"{who}: no detectable difference in {name} (observed {signed_pct(row['observed'])}, "
            f"{span}, over {row['interval_over']})."
        )
    verb = "raised" if row["observed"] > 0 else "lowered"
    return (
        f"{who} {verb} {name} by {signed_pct(abs(row['observed']))[1:]} "
        f"({span}, over {row['interval_over']})."
    )


def uplift_display(uplift: pd.DataFrame) -> pd.DataFrame:
    """The uplift table as text: observed with its interval, then the true (expected) uplift."""
    return pd.DataFrame(
        {
            "Level": uplift["level"].map(lambda v: LEVEL_NAMES.get(v, v)),
            "Policy": uplift["policy"].map(policy_name),
            "Compared with": uplift["baseline"],
            "Metric": uplift["metric"].map(UPLIFT_METRIC_NAMES),
            "Observed uplift (95 % interval)": [
                interval(signed_pct, r.observed, r.ci_low, r.ci_high)
                for r in uplift.itertuples(index=False)
            ],
            "True (expected) uplift": uplift["expected"].map(signed_pct),
            "Interval over": uplift["interval_over"],
        }
    )
