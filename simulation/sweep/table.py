"""The sweep table: one row per (grid point, world, level, policy), from the runs' summaries.

Columns, in order: ``point_index``, ``point_id``, the grid keys (as written in the
grid file), ``world``, ``world_seed``, ``level``, ``policy``, ``best_policy``,
``baseline``, the headline metrics (:data:`HEADLINE`, means over the world's
replications) and, for CTR and ROAS, the like-for-like uplift of
:func:`simulation.metrics.like_for_like_uplift` over the generic level:
``uplift_ctr`` (observed), ``uplift_ctr_low``, ``uplift_ctr_high`` (its
interval across the run's replications: over its seeds, or over its world means
when the config sets ``n_worlds`` > 1), ``uplift_ctr_expected`` (the same on true
values), ``uplift_ctr_pairs`` (replications, seeds x the config's worlds,
where both sides were positive) and ``uplift_ctr_note`` (why there is no interval
when the counts behind it are too few or its replications agree exactly; ``""``
otherwise: ``interval_note`` of the uplift table). ``world`` is the sweep's world (``worlds``:
separate runs), not the config's ``n_worlds``, which stay inside each run. A row
``policy == "best"`` compares each level's best policy (named in
``best_policy``) with the generic level's best. Generic rows have no uplift
(NaN, 0 pairs) and no ``best`` row.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.config import LEVELS
from simulation.metrics import like_for_like_uplift
from simulation.sweep.grid import SweepPlan, SweepRun, canonical_json

__all__ = ["HEADLINE", "UPLIFT_OF", "build_table", "run_rows", "write_table"]

#: Metrics averaged over a world's replications.
HEADLINE: tuple[str, ...] = ("ctr", "cvr", "roas", "regret", "expected_ctr", "expected_roas")
#: Metrics whose like-for-like uplift is reported.
UPLIFT_OF: tuple[str, ...] = ("ctr", "roas")


def _uplift_columns() -> list[str]:
    parts = ("", "_low", "_high", "_expected", "_pairs", "_note")
    return [f"uplift_{m}{s}" for m in UPLIFT_OF for s in parts]


def run_rows(run: SweepRun, summary: pd.DataFrame) -> pd.DataFrame:
    """The table rows of one run (no grid columns), in canonical order.

    Parameters
    ----------
    run : SweepRun
    summary : DataFrame
        The run's :meth:`~simulation.engine.ExperimentResult.summary_frame`: one
        row per (policy, level, seed).

    Returns
    -------
    rows : DataFrame
        One row per (level, policy) and per level's ``best``.
    """
    means = summary.groupby(["level", "policy"], sort=False)[list(HEADLINE)].mean()
    means = dict(zip(means.index, means.to_numpy(dtype=np.float64).tolist()))
    uplift = like_for_like_uplift(summary, objective=run.config.objective)
    # (level, label) -> metric -> its uplift row, looked up per table row (plain
    # lists: pandas' per-row access cost more than the run itself on short runs).
    found: dict[tuple[str, str], dict[str, dict]] = {}
    for h in zip(*(uplift[c].tolist() for c in uplift.columns)):
        h = dict(zip(uplift.columns, h))
        if h["metric"] in UPLIFT_OF:
            found.setdefault((h["level"], h["policy"]), {}).setdefault(h["metric"], h)
    labels_of: dict[str, list[str]] = {}
    for level, label in dict.fromkeys(zip(summary["level"].tolist(), summary["policy"].tolist())):
        labels_of.setdefault(level, []).append(label)
    rows = []
    for level, labels in labels_of.items():
        best_labels = [p for lv, p in found if lv == level and p.startswith("best (")]
        for label in labels + best_labels:
            policy = label[len("best (") : -1] if label.startswith("best (") else label
            row = {
                "level": level,
                "policy": "best" if label != policy else policy,
                "best_policy": policy if label != policy else "",
                "baseline": "",
                **dict(zip(HEADLINE, means[(level, policy)])),
                **dict.fromkeys(_uplift_columns(), np.nan),
            }
            for metric in UPLIFT_OF:
                h = found.get((level, label), {}).get(metric)
                if h is None:
                    continue
                row["baseline"] = str(h["baseline"])
                row[f"uplift_{metric}"] = float(h["observed"])
                row[f"uplift_{metric}_low"] = float(h["ci_low"])
                row[f"uplift_{metric}_high"] = float(h["ci_high"])
                row[f"uplift_{metric}_expected"] = float(h["expected"])
                row[f"uplift_{metric}_pairs"] = int(h["n_pairs"])
                row[f"uplift_{metric}_note"] = str(h["interval_note"])
            rows.append(row)
    return pd.DataFrame(rows)


def _param_column(values: list[object]) -> pd.Series:
    """Grid values as one column: numbers and strings as they are, anything else as JSON."""
    plain = all(isinstance(v, bool) for v in values) or all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )
    if plain or all(isinstance(v, str) for v in values):
        return pd.Series(values)
    return pd.Series([canonical_json(v) for v in values], dtype=object)


def build_table(
    plan: SweepPlan,
    summaries: dict[str, pd.DataFrame],
    *,
    rows: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Assemble the sweep table from every run's summary.

    Parameters
    ----------
    plan : SweepPlan
    summaries : dict of str to DataFrame
        Each run's summary by ``run_key``; every run of ``plan`` must be present
        (except those in ``rows``).
    rows : dict of str to DataFrame, optional
        :func:`run_rows` already computed, by ``run_key`` (a sweep tabulates each
        run as it finishes, while the workers run the next ones).

    Returns
    -------
    table : DataFrame
        Sorted by grid point, world, level (generic, segment, user) and policy
        (the config's order, then ``best``): the same bytes whatever order the
        runs finished in.
    """
    parts = []
    for run in plan.runs:
        done = (rows or {}).get(run.run_key)
        part = (done if done is not None else run_rows(run, summaries[run.run_key])).copy()
        part.insert(0, "world_seed", np.int64(run.config.seed))
        part.insert(0, "world", np.int64(run.world))
        part.insert(0, "point_id", run.point.point_id)
        part.insert(0, "point_index", np.int64(run.point.index))
        policy_rank = {p: i for i, p in enumerate(run.config.policies)}
        part["_level"] = part["level"].map({lv: i for i, lv in enumerate(LEVELS)})
        part["_policy"] = [policy_rank.get(p, len(policy_rank)) for p in part["policy"]]
        part["_best"] = part["best_policy"]
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    order = ["point_index", "world", "_level", "_policy", "_best"]
    table = table.sort_values(order, kind="stable").drop(columns=order[2:])
    table = table.reset_index(drop=True)
    by_point = {p.index: dict(p.values) for p in plan.points}
    for pos, key in enumerate(plan.keys):
        values = [by_point[i][key] for i in table["point_index"]]
        table.insert(2 + pos, key, _param_column(values))
    for metric in UPLIFT_OF:
        column = f"uplift_{metric}_pairs"
        table[column] = table[column].fillna(0).astype(np.int64)
        note = f"uplift_{metric}_note"
        table[note] = table[note].where(table[note].notna(), "").astype(object)
    return table


def write_table(table: pd.DataFrame, out: str | Path) -> tuple[Path, Path]:
    """Write ``sweep.parquet`` and ``sweep.csv`` into ``out``, both or neither.

    Both are written under temporary names first, then renamed one after the other: a
    failure or a Ctrl-C while they are written (the slow part) leaves neither new file,
    not a Parquet file without its CSV.

    Returns
    -------
    paths : (Path, Path)
        The Parquet and the CSV file.
    """
    out = Path(out)
    writers = {
        out / "sweep.parquet": lambda p: table.to_parquet(p, index=False),
        out / "sweep.csv": lambda p: table.to_csv(p, index=False),
    }
    tmps = {path: path.with_name(f".{path.name}.tmp-{os.getpid()}") for path in writers}
    try:
        for path, write in writers.items():
            write(tmps[path])
            with open(tmps[path], "rb") as handle:
                os.fsync(handle.fileno())
        for path, tmp in tmps.items():
            os.replace(tmp, path)
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
    parquet, csv = writers
    return parquet, csv
