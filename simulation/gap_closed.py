"""How much of the gap between a baseline and the best possible a policy closed.

At the generated level every impression has a known best composition (the oracle's,
exact), and each policy's regret is its shortfall from it in expected (true) reward.
The share of the uniform → oracle gap a policy closes over a run is then
``1 - regret(policy) / regret(uniform)``, per impression, on the same users and random
draws: 0 is no better than composing at random, 1 is the oracle. The measure of issue
#14's first goal (``bench/generated_gap.py`` measures it on long runs, this on any run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.metrics import interval_over, mean_interval
from simulation.references import is_reference

__all__ = ["GAP_COLUMNS", "gap_closed", "gap_sentences"]

#: Columns of :func:`gap_closed`'s table (``gap_closed.csv``).
GAP_COLUMNS: tuple[str, ...] = (
    "level", "policy", "baseline", "share", "ci_low", "ci_high", "n_pairs", "interval_over",
    "baseline_regret_per_impression",
)  # fmt: skip


def gap_closed(
    summary: pd.DataFrame,
    *,
    level: str = "generated",
    baseline: str = "uniform",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each policy's share of ``baseline``'s regret it avoided at ``level``, with its interval.

    Parameters
    ----------
    summary : DataFrame
        One row per (policy, level, seed) (and world), with ``impressions`` and ``regret``
        (expected, against each impression's best), as from
        :meth:`simulation.engine.core.ExperimentResult.summary_frame` or a saved
        ``summary.csv``.
    level : str, default "generated"
    baseline : str, default "uniform"
    alpha : float, default 0.05
        1 - confidence level of the Student-t interval over the paired replications.

    Returns
    -------
    table : DataFrame
        Columns :data:`GAP_COLUMNS`, one row per policy at ``level`` other than the
        baseline, in run order. ``share`` is the mean over replications (over world
        means, with several worlds) of
        ``1 - (regret / impressions) / (baseline's regret / impressions)``; NaN when the
        baseline's regret is zero in a replication (it already served every impression its
        best: there was no gap to close). Empty when ``level`` or ``baseline`` did not run.

    Examples
    --------
    >>> summary = pd.DataFrame({
    ...     "policy": ["uniform", "mvt_ts", "oracle"] * 2, "level": "generated",
    ...     "seed": [0, 0, 0, 1, 1, 1], "impressions": 1_000,
    ...     "regret": [4.0, 1.0, 0.0, 5.0, 2.5, 0.0]})
    >>> gap_closed(summary)[["policy", "share", "n_pairs"]]
       policy  share  n_pairs
    0  mvt_ts  0.625        2
    1  oracle  1.000        2
    """
    at = summary[summary["level"] == level]
    keys = ["world", "seed"] if "world" in at.columns else ["seed"]
    base = at[at["policy"] == baseline].set_index(keys)
    if base.empty:
        return pd.DataFrame(columns=list(GAP_COLUMNS))
    base_rate = base["regret"] / base["impressions"]
    rows = []
    for policy, group in at[at["policy"] != baseline].groupby("policy", sort=False):
        rate = group.set_index(keys)["regret"] / group.set_index(keys)["impressions"]
        rate, ref = rate.align(base_rate, join="inner")
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = np.where(ref.to_numpy() > 0, 1.0 - rate.to_numpy() / ref.to_numpy(), np.nan)
        # Several worlds: the interval is over world means (seeds of a world cluster).
        worlds = rate.index.get_level_values("world") if "world" in keys else None
        share, low, high = mean_interval(shares, alpha, worlds=worlds)
        rows.append(
            {
                "level": level,
                "policy": policy,
                "baseline": baseline,
                "share": share,
                "ci_low": low,
                "ci_high": high,
                "n_pairs": int(np.isfinite(shares).sum()),
                "interval_over": interval_over(group),
                "baseline_regret_per_impression": float(ref.mean()) if len(ref) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def gap_sentences(table: pd.DataFrame, name=str) -> list[str]:
    """One readable sentence per learner's row of :func:`gap_closed`'s table.

    A reference's row (the oracle: the whole gap by definition) gets none.

    Parameters
    ----------
    table : DataFrame
        :func:`gap_closed`'s.
    name : callable, default str
        A policy's name as the reader knows it (the baseline keeps its own).

    Returns
    -------
    sentences : list of str

    Examples
    --------
    >>> summary = pd.DataFrame({
    ...     "policy": ["uniform", "mvt_ts"], "level": "generated", "seed": 0,
    ...     "impressions": 1_000, "regret": [4.0, 1.0]})
    >>> gap_sentences(gap_closed(summary))[0][:48]
    'mvt_ts closed 75.0 % of the uniform → oracle gap'
    """
    out = []
    for row in table.itertuples(index=False):
        if is_reference(row.policy):
            # The oracle closes the whole gap by definition: a sentence would say nothing.
            continue
        # The baseline as the level's own word (uniform: a random valid composition).
        policy, baseline = name(row.policy), row.baseline
        if row.n_pairs == 0:
            out.append(
                f"{baseline} already served every impression its best composition at the "
                f"{row.level} level: {policy} had no gap to close."
            )
            continue
        interval = (
            f"95 % interval {100 * row.ci_low:.1f} to {100 * row.ci_high:.1f} % over "
            f"{row.interval_over}"
            if row.n_pairs > 1
            else f"one replication, no interval: {row.interval_over}"
        )
        out.append(
            f"{policy} closed {100 * row.share:.1f} % of the {baseline} → oracle gap over the "
            f"run at the {row.level} level (true, expected rewards; {interval})."
        )
    return out
