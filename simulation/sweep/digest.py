"""The sweep's answer in a few printed lines: each level's uplift at each grid point.

``python -m simulation sweep`` prints it after writing the table, so a user sees what the
sweep found without opening ``sweep.csv``; the Sweeps page draws the same rows as heat maps.
"""

from __future__ import annotations

import pandas as pd

from simulation.sweep.grid import SweepPlan
from simulation.uplift_text import LEVEL_NAMES, UPLIFT_METRIC_NAMES, interval_text, signed_pct

__all__ = ["MAX_PRINTED_ROWS", "uplift_digest"]

#: Rows printed at most; the rest are in the table's files.
MAX_PRINTED_ROWS = 48


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
    seeds = {run.point.index: run.config.n_seeds for run in plan.runs}
    metrics = [objective[int(i)] for i in best["point_index"]]
    columns = {key: best[key].to_numpy() for key in plan.keys}
    if plan.worlds > 1:
        columns["world"] = best["world"].to_numpy()
    columns["level"] = [LEVEL_NAMES.get(v, v) for v in best["level"]]
    columns["best policy"] = best["best_policy"].to_numpy()
    if len(set(metrics)) > 1:
        columns["metric"] = [UPLIFT_METRIC_NAMES[m] for m in metrics]
    observed, true = [], []
    for (_, row), metric in zip(best.iterrows(), metrics, strict=True):
        col = f"uplift_{metric}"
        observed.append(interval_text(signed_pct, row[col], row[f"{col}_low"], row[f"{col}_high"]))
        true.append(signed_pct(row[f"{col}_expected"]))
    columns["observed (95 % interval)"] = observed
    columns["true (expected)"] = true
    shown = pd.DataFrame(columns)
    n_seeds = sorted(set(seeds.values()))
    over = " or ".join(str(n) for n in n_seeds)
    what = UPLIFT_METRIC_NAMES[metrics[0]] if len(set(metrics)) == 1 else "The objective's"
    lines = [
        f"{what} uplift of each level's best policy over the generic level's best, per grid "
        f"point{' and world' * (plan.worlds > 1)}: observed, its 95 % interval over the "
        f"{over} seed{'s' * (n_seeds != [1])} of each run, beside the true (expected) uplift",
        shown.head(max_rows).to_string(index=False),
    ]
    if len(shown) > max_rows:
        lines.append(f"... and {len(shown) - max_rows:,} more rows in sweep.csv")
    return lines
