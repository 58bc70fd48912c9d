"""The sweep's answer in a few printed lines: each level's uplift at each grid point.

``python -m simulation sweep`` prints it after writing the table, so a user sees what the
sweep found without opening ``sweep.csv``; the Sweeps page draws the same rows as heat maps.
"""

from __future__ import annotations

import math

import pandas as pd

from simulation.config import ExperimentConfig
from simulation.metrics import MIN_UPLIFT_EVENTS
from simulation.sweep.grid import SweepPlan
from simulation.uplift_text import LEVEL_NAMES, UPLIFT_METRIC_NAMES, interval_text, signed_pct

__all__ = ["MAX_PRINTED_ROWS", "run_interval_over", "uplift_digest"]

#: Rows printed at most; the rest are in the table's files.
MAX_PRINTED_ROWS = 48
#: Cell notes, explained under the table when they appear (the reasons ``run`` gives).
NO_INTERVAL = "no interval"
TOO_FEW = "too few events"
NO_SPREAD = "no spread"
NOTHING_TO_COMPARE = "nothing to compare"
NOTES = {
    NO_INTERVAL: "one usable replication gives no interval (add seeds or worlds)",
    TOO_FEW: (
        f"a replication had fewer than {MIN_UPLIFT_EVENTS} clicks (CTR) or conversions (ROAS) "
        "on a side: too few for an interval (add impressions)"
    ),
    NO_SPREAD: "every replication gave the same ratio: no spread to measure an interval from",
    NOTHING_TO_COMPARE: "no replication where both levels measured any",
}


def run_interval_over(config: ExperimentConfig) -> str:
    """What one run's intervals cover, as :func:`simulation.metrics.interval_over` says it.

    One world: "3 seeds × 1 world" (the seeds are the unit). Several (the config's
    ``n_worlds``): "3 worlds (2 seeds each)": the interval is over world means.
    """
    seeds = f"{config.n_seeds} seed{'s' * (config.n_seeds != 1)}"
    if config.n_worlds >= 2:
        return f"{config.n_worlds} worlds ({seeds} each)"
    return f"{seeds} × 1 world"


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _observed_cell(row: pd.Series, col: str) -> tuple[str, str | None]:
    """The observed uplift with its interval, or with the note saying why there is none."""
    low, high = row[f"{col}_low"], row[f"{col}_high"]
    why = row.get(f"{col}_note")  # absent from tables written before the rule
    if isinstance(why, str) and why:
        note = TOO_FEW if why.startswith("too few") else NO_SPREAD
        return f"{signed_pct(row[col])} ({note})", note
    if _finite(low) and _finite(high):
        if low == high:  # replications that agree exactly (no effect to learn): say so
            return f"{signed_pct(row[col])} ({signed_pct(low)} – {signed_pct(high)})", None
        return interval_text(signed_pct, row[col], low, high), None
    note = NO_INTERVAL if _finite(row[col]) else NOTHING_TO_COMPARE
    return f"{signed_pct(row[col])} ({note})", note


def uplift_digest(
    table: pd.DataFrame, plan: SweepPlan, *, max_rows: int = MAX_PRINTED_ROWS
) -> list[str]:
    """Each level's best policy against the generic level's best, per grid point (and world).

    Parameters
    ----------
    table : DataFrame
        :func:`simulation.sweep.build_table`'s, shape (points x worlds x rows per run, columns).
    plan : SweepPlan
        The sweep the table is of (its keys, worlds and each run's objective and seeds).
    max_rows : int, default=MAX_PRINTED_ROWS

    Returns
    -------
    lines : list of str
        A heading saying what the numbers are and what the intervals cover, the table as
        text, and a last line when rows were left out. Empty when no level was compared
        with a generic one.
    """
    best = table[table["policy"] == "best"]
    if best.empty:
        return []
    objective = {run.point.index: run.config.objective for run in plan.runs}
    # What each run's intervals cover: its seeds, or its world means when the config
    # runs several worlds per run (``n_worlds``; the sweep's ``worlds`` are separate runs).
    over_of = {run.point.index: run_interval_over(run.config) for run in plan.runs}
    metrics = [objective[int(i)] for i in best["point_index"]]
    columns = {key: best[key].to_numpy() for key in plan.keys}
    if plan.worlds > 1:
        columns["world"] = best["world"].to_numpy()
    columns["level"] = [LEVEL_NAMES.get(v, v) for v in best["level"]]
    columns["best policy"] = best["best_policy"].to_numpy()
    if len(set(metrics)) > 1:
        columns["metric"] = [UPLIFT_METRIC_NAMES[m] for m in metrics]
    observed, true, notes = [], [], []
    for (_, row), metric in zip(best.iterrows(), metrics, strict=True):
        col = f"uplift_{metric}"
        cell, note = _observed_cell(row, col)
        observed.append(cell)
        if note is not None and note not in notes:
            notes.append(note)
        true.append(signed_pct(row[f"{col}_expected"]))
    columns["observed (95 % interval)"] = observed
    columns["true (expected)"] = true
    shown = pd.DataFrame(columns)
    over = " or ".join(dict.fromkeys(over_of[int(i)] for i in best["point_index"]))
    what = UPLIFT_METRIC_NAMES[metrics[0]] if len(set(metrics)) == 1 else "The objective's"
    lines = [
        f"{what} uplift of each level's best policy over the generic level's best, per grid "
        f"point{' and world' * (plan.worlds > 1)}: observed, its 95 % interval over the "
        f"{over} of each run, beside the true (expected) uplift",
        shown.head(max_rows).to_string(index=False),
    ]
    if len(shown) > max_rows:
        lines.append(f"... and {len(shown) - max_rows:,} more rows in sweep.csv")
    lines.extend(f"({note}): {NOTES[note]}" for note in notes)
    return lines
