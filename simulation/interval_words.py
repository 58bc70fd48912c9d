"""What an interval covers, or that there is none, in words the app, report and CLI share.

With one replication (one seed in one world) no interval can be drawn: these sentences then
say what the numbers are over and nothing about an interval, and the sentences that say
there is none are the best's note (:func:`simulation.store.report.best_note`) and one note
under the uplift headline (:func:`headline_note`), not each uplift sentence.

An interval that could be drawn is still refused when it rests on too few events or spans
everything (:func:`refused_interval`): the app's tiles, the report's tiles and its final
metrics tables all use that one rule, in the uplift cells' words, and say it once
(:func:`refusal_rule`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from simulation.metrics import MIN_UPLIFT_EVENTS, UPLIFT_COUNTS, interval_over

__all__ = [
    "MAX_INTERVAL_SPREAD",
    "NOT_CLEAR_RULE",
    "NO_EVENTS",
    "ONE_REPLICATION",
    "REFUSAL_COUNTS",
    "TILE_NOTES",
    "headline_note",
    "metrics_over",
    "note_reason",
    "one_replication",
    "refusal_rule",
    "refused_interval",
    "tile_help",
    "tile_interval_notes",
    "tile_refusal_note",
    "tiles_over",
    "uplift_caption",
]

#: The reason a rate has no interval when no replication had any of its events: a ROAS of
#: 0.00× in every seed has no spread, and "0.00×" alone reads as a measured zero return.
NO_EVENTS: dict[str, str] = {"clicks": "no clicks", "conversions": "no sales"}

#: An interval whose upper end is more than this many times its lower one is not shown:
#: "0.94× (0.00× – 308,949.14×)" (two seeds of a tiny run) spans every decision a marketer
#: could make, and its digits read as a measurement. Two orders of magnitude is already
#: that wide (a ROAS from 0.1× to 10×).
MAX_INTERVAL_SPREAD = 100.0

#: The events behind each metric whose interval :func:`refused_interval` judges: the uplift
#: table's (:data:`simulation.metrics.UPLIFT_COUNTS`: clicks for CTR, conversions for ROAS)
#: and the final metrics' two other rates, both ratios over conversions (a conversion rate
#: or a cost per conversion from a handful of sales read "3.33 % (0.00 % – 99.99 %)" and
#: "$14.51 ($0.03 – $8,332.53)").
REFUSAL_COUNTS: dict[str, str] = {**UPLIFT_COUNTS, "cvr": "conversions", "cpa": "conversions"}
#: The reason an uplift has no interval when no note gives one: it rests on one usable
#: replication (the key :data:`TILE_NOTES` words it by).
ONE_REPLICATION = "one replication"
#: A refused or missing interval's reason in the few words a tile or a cell has room for:
#: the app's tiles (:func:`refused_interval`'s reasons, within their 24 characters,
#: ``ui.fmt.TILE_DELTA_CHARS``) and the Sweeps page's heat-map cells (an uplift note's
#: reason, :func:`note_reason`, or :data:`ONE_REPLICATION`), so that both word the same
#: reason alike. The caption under the tiles, each tile's help (:func:`tile_help`) and the
#: caption under the heat maps give the whole rule.
TILE_NOTES: dict[str, str] = {
    "too few conversions": "few sales",
    "too few clicks": "few clicks",
    "too wide": "too wide",
    "no spread": "no spread",
    ONE_REPLICATION: "1 replication",
}
#: When a best is not clearly best: the rule of the report's and the app's "Not clearly
#: best" notes (:func:`simulation.store.report.clear_best_note`), and of the "(not clear)"
#: mark in ``runs list`` and the Results page's list of saved runs, in their words.
NOT_CLEAR_RULE = (
    "another learner's 95 % interval overlaps the best's, or the best has no interval (one "
    "replication, or too few events or too wide to show one)"
)
#: How :func:`refusal_rule` names each metric.
_RULE_NAMES = {"ctr": "CTR", "roas": "ROAS", "cvr": "conversion rate", "cpa": "cost per conversion"}


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
        return (
            "Observed: the paired change measured in this run's one replication, so no "
            f"interval (the cells give values alone). {truth}"
        )
    return (
        "Observed: the paired change measured in this run (geometric mean of the per-seed "
        f"ratios; its 95 % interval covers the replications named). {truth}"
    )


def note_reason(note: str) -> str:
    """The reason of an uplift's note (why its interval is refused), as :data:`TILE_NOTES` keys it.

    The note is :func:`simulation.metrics.like_for_like_uplift`'s ``interval_note``; the
    uplift cells say its reason (the report's "(no interval: too few conversions)") and the
    Sweeps page's heat-map cells its :data:`TILE_NOTES` words.

    Parameters
    ----------
    note : str
        A non-empty ``interval_note`` (a sweep table's ``uplift_<metric>_note``).

    Returns
    -------
    reason : str
        "too few clicks", "too few conversions", "no spread", or the note up to its first
        colon for a note of another kind.

    Examples
    --------
    >>> note_reason("too few conversions for an interval: 2 vs 1 (generic vs user) in one "
    ...             "replication; it needs at least 10 a side")
    'too few conversions'
    >>> note_reason("every replication gave the same ratio: no spread to measure an interval from")
    'no spread'
    """
    if note.startswith("too few ") and " for an interval" in note:
        return note.split(" for an interval", 1)[0]
    return "no spread" if "same ratio" in note else note.split(":", 1)[0]


def refused_interval(rows: pd.DataFrame, metric: str, low: float, high: float) -> str | None:
    """Why the interval of a mean over ``rows``' replications is not shown, or None.

    The uplift table's rule (:data:`simulation.metrics.MIN_UPLIFT_EVENTS` events in every
    replication, the events of :data:`REFUSAL_COUNTS`: clicks for CTR, conversions for
    ROAS, conversion rate and cost per conversion): a Student-t interval over a few
    replications of a handful of events means nothing. An interval whose ends are more than
    :data:`MAX_INTERVAL_SPREAD`-fold apart is refused too.
    With none of the events in any replication the rate is 0 in each and no interval is
    drawn (there is no spread): the reason is said, "no sales" (:data:`NO_EVENTS`), even
    for one replication.

    Parameters
    ----------
    rows : DataFrame
        One (level, policy)'s rows, one per replication, with the event counts (a metric
        whose count column is missing is judged by its spread alone).
    metric : str
        ``"ctr"``, ``"roas"``, ``"cvr"`` or ``"cpa"`` (a metric without events in
        :data:`REFUSAL_COUNTS`: spread alone).
    low, high : float
        The interval (NaN ends, or equal ends: none was drawn, nothing to refuse).

    Returns
    -------
    note : str or None
        "too few clicks", "too few conversions" or "too wide", the words of the uplift
        cells' "(no interval: ...)", or "no clicks" / "no sales" when no replication had
        one; None when the interval stands or none was drawn.

    Examples
    --------
    >>> rows = pd.DataFrame({"conversions": [3, 40], "clicks": [400, 420]})
    >>> refused_interval(rows, "roas", 0.0, 308_949.14)
    'too few conversions'
    >>> refused_interval(rows, "ctr", 0.0004, 0.2878)
    'too wide'
    >>> refused_interval(rows, "ctr", 0.0098, 0.0114) is None
    True
    >>> refused_interval(rows.assign(conversions=0), "roas", 0.0, 0.0)
    'no sales'
    >>> refused_interval(rows, "cpa", 10.0, 12.0)
    'too few conversions'
    """
    count = REFUSAL_COUNTS.get(metric)
    if count in rows and len(rows) and rows[count].max() == 0:
        return NO_EVENTS.get(count, f"no {count}")  # no spread, but a reason all the same
    if not (math.isfinite(low) and math.isfinite(high)) or low == high:
        return None  # one replication (or no spread): the caller says "no interval" already
    if count in rows and rows[count].min() < MIN_UPLIFT_EVENTS:
        return f"too few {count}"
    if high > MAX_INTERVAL_SPREAD * low:
        return "too wide"
    return None


def refusal_rule(metrics: Collection[str] = ("ctr", "roas"), *, kept: str = "") -> str:
    """The sentence a final-metrics table adds when :func:`refused_interval` refused a cell.

    Parameters
    ----------
    metrics : collection of str, default=("ctr", "roas")
        The table's metrics the rule is applied to (keys of :data:`REFUSAL_COUNTS`): the
        sentence names them, so a column it does not name is not read as judged.
    kept : str, default=""
        A column the rule leaves alone, and why (the app's "Regret (true, expected)").

    Examples
    --------
    >>> refusal_rule()[:60]
    'No interval when a replication has fewer than 10 clicks (CTR'
    >>> "or conversions (ROAS), the uplift" in refusal_rule()
    True
    >>> rule = refusal_rule(("ctr", "roas", "cvr", "cpa"), kept="Regret keeps its interval")
    >>> "(ROAS, conversion rate, cost per conversion)" in rule
    True
    >>> rule.endswith("100-fold apart. Regret keeps its interval.")
    True
    """
    by_conversions = [_RULE_NAMES[m] for m in metrics if REFUSAL_COUNTS.get(m) == "conversions"]
    rule = (
        f"No interval when a replication has fewer than {MIN_UPLIFT_EVENTS} clicks (CTR) "
        f"or conversions ({', '.join(by_conversions)}), the uplift table's rule, or its ends "
        f"are more than {MAX_INTERVAL_SPREAD:.0f}-fold apart."
    )
    return f"{rule} {kept}." if kept else rule


def tile_interval_notes(
    summary: pd.DataFrame, best: Mapping[str, Any], intervals: Mapping[str, tuple[float, float]]
) -> dict[str, str]:
    """Why a best's CTR or ROAS tile shows no interval though its replications drew one.

    :func:`refused_interval` on the best (level, policy)'s replications, for the app's
    tiles and the report's.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, replication), with the event counts.
    best : mapping
        A :func:`simulation.store.report.best_row`: ``level`` and ``policy``.
    intervals : mapping of str to (float, float)
        :func:`simulation.store.report.best_intervals` (NaN ends: one replication).

    Returns
    -------
    notes : dict of str to str
        Metric -> "too few clicks", "too few conversions" or "too wide"; only for metrics
        whose interval is refused.
    """
    rows = summary[(summary["level"] == best["level"]) & (summary["policy"] == best["policy"])]
    notes = {}
    for metric, (low, high) in intervals.items():
        note = refused_interval(rows, metric, low, high)
        if note:
            notes[metric] = note
    return notes


def tile_help(metric: str, objective: str) -> str:
    """The help of a best's CTR or ROAS tile: what it shows and the whole rule behind its note.

    A tile's own note fits 24 characters ("no interval: few sales"); its help gives the
    rule whole, from this module's constants, so it cannot drift from
    :func:`refused_interval`. The objective's tile adds when the best is not clearly best
    (:data:`NOT_CLEAR_RULE`).

    Parameters
    ----------
    metric : {"ctr", "roas"}
        The tile's metric.
    objective : {"ctr", "roas"}
        The run's objective, which names the best.

    Returns
    -------
    help : str

    Examples
    --------
    >>> text = tile_help("roas", "roas")
    >>> "fewer than 10 conversions" in text and "Not clearly best when" in text
    True
    >>> "Not clearly best" in tile_help("ctr", "roas")
    False
    """
    what = {"ctr": "Clicks per impression", "roas": "Revenue per dollar of ad spend"}[metric]
    count = REFUSAL_COUNTS[metric]
    text = (
        f"{what} of the best policy and level: observed, the mean over the run's "
        "replications (seeds × worlds), with its 95 % interval over them. No interval with "
        "one replication: none can be drawn. An interval that can be drawn is refused when "
        f"a replication has fewer than {MIN_UPLIFT_EVENTS} {count} "
        f'("{TILE_NOTES[f"too few {count}"]}", the uplift table\'s rule; '
        f'"{NO_EVENTS[count]}" when no replication had any) or its ends are more than '
        f'{MAX_INTERVAL_SPREAD:.0f}-fold apart ("{TILE_NOTES["too wide"]}").'
    )
    if metric == objective:
        text += f" Not clearly best when {NOT_CLEAR_RULE}: a tie or noise, no win."
    return text


def tile_refusal_note(note: str) -> str:
    """The "Not clearly best" note when the objective's tile refuses its interval.

    Examples
    --------
    >>> tile_refusal_note("too few conversions")
    'Not clearly best: too few conversions for an interval.'
    >>> tile_refusal_note("too wide")
    'Not clearly best: its interval is too wide to show.'
    >>> tile_refusal_note("no sales")
    'Not clearly best: no sales yet.'
    """
    if note == "too wide":
        return "Not clearly best: its interval is too wide to show."
    if note in NO_EVENTS.values():
        return f"Not clearly best: {note} yet."
    return f"Not clearly best: {note} for an interval."
