"""What an interval covers, or that there is none, in the words the app and the report share.

With one replication (one seed in one world) no interval can be drawn: these sentences then
say what the numbers are over and nothing about an interval, and the one sentence that says
there is none is the best's note (:func:`simulation.store.report.best_note`) or each uplift
sentence's own (:func:`simulation.uplift_text.uplift_sentence`).
"""

from __future__ import annotations

import pandas as pd

from simulation.metrics import interval_over

__all__ = ["headline_note", "metrics_over", "one_replication", "tiles_over", "uplift_caption"]


def one_replication(frame: pd.DataFrame) -> bool:
    """Whether ``frame``'s intervals would rest on one replication, so that none is drawn.

    Intervals are over the seeds of one world, or over the world means of several
    (:func:`simulation.metrics.interval_over`): one seed in one world gives none.

    Parameters
    ----------
    frame : DataFrame
        A summary or a time series: a ``seed`` column, and ``world`` with several worlds.

    Returns
    -------
    single : bool
    """
    n_worlds = int(frame["world"].nunique()) if "world" in frame.columns else 1
    n_seeds = int(frame["seed"].nunique()) if "seed" in frame.columns else 0
    return n_worlds < 2 and n_seeds < 2


def tiles_over(summary: pd.DataFrame) -> str:
    """The bracket after "Best: ...": what the tiles' means and intervals are over.

    Examples
    --------
    >>> tiles_over(pd.DataFrame({"seed": [0, 1]}))
    'mean; the 95 % intervals under the tiles are over 2 seeds × 1 world'
    >>> tiles_over(pd.DataFrame({"seed": [0]}))
    '1 seed × 1 world'
    """
    over = interval_over(summary)
    if one_replication(summary):
        return over
    return f"mean; the 95 % intervals under the tiles are over {over}"


def headline_note(summary: pd.DataFrame) -> str | None:
    """The one note under a one-replication uplift headline; None when intervals are drawn.

    With one replication no sentence of the headline has an interval: the note says so once
    (and what the values are over), and the sentences give their observed values alone
    (:func:`simulation.uplift_text.uplift_headline` with ``interval_noted=True``).

    Examples
    --------
    >>> headline_note(pd.DataFrame({"seed": [0]}))
    '1 seed × 1 world: one replication, so no intervals (add seeds or worlds for them).'
    >>> headline_note(pd.DataFrame({"seed": [0, 1]})) is None
    True
    """
    if not one_replication(summary):
        return None
    return (
        f"{interval_over(summary)}: one replication, so no intervals (add seeds or worlds "
        "for them)."
    )


def metrics_over(summary: pd.DataFrame) -> str:
    """The bracket after "Final metrics, observed": the interval in brackets, or none.

    Examples
    --------
    >>> metrics_over(pd.DataFrame({"seed": [0, 1, 2]}))
    'mean, 95 % interval over 3 seeds × 1 world in brackets'
    >>> metrics_over(pd.DataFrame({"seed": [0]}))
    '1 seed × 1 world: no interval'
    """
    over = interval_over(summary)
    if one_replication(summary):
        return f"{over}: no interval"
    return f"mean, 95 % interval over {over} in brackets"


def uplift_caption(summary: pd.DataFrame) -> str:
    """What the uplift table's observed and true columns are (its interval only if drawn)."""
    truth = (
        "True (expected): the same comparison on the simulator's expected values, which a "
        "real experiment never sees."
    )
    if one_replication(summary):
        return f"Observed: the paired change measured in this run's one replication. {truth}"
    return (
        "Observed: the paired change measured in this run (geometric mean of the per-seed "
        f"ratios; its 95 % interval covers the replications named). {truth}"
    )
