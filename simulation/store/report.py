"""A saved run as one self-contained HTML file: charts, uplift, winners, config, provenance.

A run whose pools regenerated (``regenerate_every``) names no founding creative as a
segment's leader (an arm there is a slot that held many creatives) and gets a Generations
section from its stored lineage (:mod:`simulation.store.generations`).

With the generated level, also what each policy served component by component and what
mvt_ts believes about each component beside the true effects (the run's stored tables).

The headline and the uplift table are the like-for-like uplift (each level against the
generic one, the same policy on the same users and draws), in the words of
:mod:`simulation.uplift_text`, the same as the app's: the headline uses observed values
only, every interval says what it covers, the true (expected) uplift has its own column.

Nothing in the file is fetched: the charts are inline SVG drawn here (no JavaScript), the
winners' images are base64 PNGs, the styles are inline. It opens offline, can be mailed, and
looks the same in every browser. Colours and the y-axis rule are the app's
(:mod:`simulation.display`).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.display import (
    AXIS_LABELS,
    PALETTE,
    component_name,
    nice_ticks,
    policy_name,
    robust_domain,
)
from simulation.gap_closed import gap_closed, gap_sentences, local_note
from simulation.interval_words import (
    headline_note,
    metrics_over,
    one_replication,
    refusal_rule,
    refused_interval,
    tile_interval_notes,
    tile_refusal_note,
)
from simulation.metrics import (
    METRIC_BOUNDS,
    UPLIFT_COLUMNS,
    interval_over,
    like_for_like_uplift,
    summarize,
)
from simulation.naming import run_label
from simulation.references import is_reference
from simulation.store.generations import (
    SLOT_NOTE,
    final_pools,
    generations_summary,
    regenerated_levels,
    shown_policy,
)
from simulation.uplift_text import (
    LEVEL_NAMES,
    OBSERVED_COLUMN,
    interval_text,
    uplift_headline,
    uplift_table,
    world_caveat,
)

__all__ = [
    "REPORT_METRICS",
    "VERDICT_NAMES",
    "best_intervals",
    "best_note",
    "best_rivals",
    "best_row",
    "build_report",
    "clear_best_note",
    "metric_bands",
    "run_uplift",
    "svg_chart",
    "write_report",
]

#: Charts of the report: metric -> (heading, y-axis title, kind of number). The axis title
#: is short enough to fit beside one panel's height.
REPORT_METRICS: dict[str, tuple[str, str, str]] = {
    "ctr": ("Cumulative click-through rate", "Cumulative CTR", "pct"),
    "roas": ("Cumulative return on ad spend (revenue per $ spent)", "Cumulative ROAS", "x"),
}
_LEVELS = LEVEL_NAMES
#: The best policy's two numbers by objective, the objective's first (the CTR of the best
#: policy by ROAS is not the best CTR): (metric, kind of number, label).
_HEADLINE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "ctr": (("ctr", "pct", "Best CTR (observed)"), ("roas", "x", "Its ROAS (observed)")),
    "roas": (("roas", "x", "Best ROAS (observed)"), ("ctr", "pct", "Its CTR (observed)")),
}
#: A winner card's label and note by :func:`simulation.winners.winner_verdict`, in the
#: app's words: a margin whose interval includes 0 is no winner yet.
VERDICT_NAMES: dict[str, str] = {
    "clear": "Winner", "unclear": "Leader (not yet clear)", "no interval": "Leader (one seed)",
    "no events": "No leader yet",
}  # fmt: skip
_VERDICT_LABEL: dict[str, str] = {k: f"{v}:" for k, v in VERDICT_NAMES.items()}
_VERDICT_NOTE: dict[str, str] = {
    "clear": "A clear winner.",
    "unclear": "Not yet clear (the interval includes 0).",
    "no interval": "No interval with one seed: it may be luck.",
    "no events": "Nothing to choose between them yet.",  # the card's own note says why
}
_RATE_START = 0.05
#: Columns :func:`simulation.metrics.like_for_like_uplift` reads from a summary.
_TOTALS = frozenset(
    ("level", "policy", "seed", "clicks", "impressions", "conversions", "revenue", "spend")
)
_MAX_POINTS = 40


def _num(value: Any, kind: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    if kind == "pct":
        return f"{100 * v:.2f} %"
    if kind == "signed":
        return f"{100 * v:+.1f} %"
    if kind == "x":
        return f"{v:,.2f}×"
    if kind == "money":
        return f"${v:,.2f}"
    return f"{v:,.0f}"


def _ci(kind: str, mean: Any, low: Any, high: Any, refused: str | None = None) -> str:
    """A mean and its interval as text: ``"4.41× (0.14× – 143.05×)"``.

    ``"4.41× (no interval: too few conversions)"`` when the interval is refused
    (:func:`simulation.interval_words.refused_interval`, the uplift cells' words); the
    value alone when none was drawn.
    """
    text = _num(mean, kind)
    if refused:
        return f"{text} (no interval: {refused})"
    lo, hi = _num(low, kind), _num(high, kind)
    return text if "–" in (lo, hi) or lo == hi else f"{text} ({lo} – {hi})"


def best_row(summary: pd.DataFrame, objective: str = "ctr") -> pd.Series | None:
    """The (level, policy) with the best mean objective (CTR or ROAS), with its mean metrics.

    A reference that reads the truth (the oracle,
    :func:`simulation.references.is_reference`) is never the best: it is the yardstick, not
    a policy a marketer could run. None when only references ran.
    """
    cols = [c for c in ("ctr", "roas", "spend", "revenue", "regret") if c in summary]
    means = summary.groupby(["level", "policy"], sort=False)[cols].mean().reset_index()
    means = means[~means["policy"].map(is_reference)]
    if means.empty:
        return None
    key = "roas" if objective == "roas" else "ctr"
    return means.loc[means[key].fillna(-np.inf).idxmax()]


def best_intervals(
    summary: pd.DataFrame, best: Mapping[str, Any], metrics: tuple[str, ...] = ("ctr", "roas")
) -> dict[str, tuple[float, float]]:
    """The best (level, policy)'s 95 % interval of each metric, over its replications.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, replication).
    best : mapping
        A :func:`best_row`: ``level`` and ``policy``.
    metrics : tuple of str, default=("ctr", "roas")

    Returns
    -------
    intervals : dict of str to (float, float)
        :func:`simulation.metrics.summarize`'s bounds (NaN with one replication).
    """
    rows = summary[(summary["level"] == best["level"]) & (summary["policy"] == best["policy"])]
    table = summarize(rows, metrics)
    if table.empty:
        return {m: (math.nan, math.nan) for m in metrics}
    row = table.iloc[0]
    return {
        m: (float(row[f"{m}_low"]), float(row[f"{m}_high"])) for m in metrics if f"{m}_low" in row
    }


def best_rivals(
    summary: pd.DataFrame, best: Mapping[str, Any], objective: str = "ctr"
) -> tuple[tuple[float, float], list[tuple[str, str]]]:
    """The best's interval, and the (level, policy) pairs whose intervals overlap it.

    The rule, kept simple: the best is *clearly* best when its 95 % interval (over the
    replications, :func:`simulation.metrics.summarize`) overlaps no other learner's. Overlap
    does not prove the two equal (a paired comparison can separate overlapping intervals),
    so the rule errs towards "not clearly best", never towards a winner the replications
    do not support. References (the oracle) are no rivals: they are never a best.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, replication).
    best : mapping
        A :func:`best_row`: ``level`` and ``policy``.
    objective : {"ctr", "roas"}, default="ctr"

    Returns
    -------
    interval : (float, float)
        The best's 95 % interval of the objective (NaN with one replication).
    rivals : list of (str, str)
        (level, policy) of every other learner whose interval overlaps it, best mean first.
    """
    key = "roas" if objective == "roas" else "ctr"
    table = summarize(summary, (key,))
    table = table[~table["policy"].map(is_reference)].copy()
    # summarize gives one replication the point interval (mean, mean), which overlaps only an
    # equal mean: read as an interval it would call a one-seed best clearly best.
    single = table["n_seeds"] < 2
    table.loc[single, [f"{key}_low", f"{key}_high"]] = np.nan
    mine = (table["level"] == best["level"]) & (table["policy"] == best["policy"])
    low, high = (float(table.loc[mine, c].iloc[0]) for c in (f"{key}_low", f"{key}_high"))
    others = table[~mine].sort_values(key, ascending=False)
    if not (math.isfinite(low) and math.isfinite(high)):
        # No interval (one replication): nothing can be said to be clearly apart.
        return (low, high), list(zip(others["level"], others["policy"], strict=True))
    overlap = (others[f"{key}_high"] >= low) & (others[f"{key}_low"] <= high)
    overlap |= ~(np.isfinite(others[f"{key}_low"]) & np.isfinite(others[f"{key}_high"]))
    rivals = others[overlap]
    return (low, high), list(zip(rivals["level"], rivals["policy"], strict=True))


def best_note(
    interval: tuple[float, float],
    rivals: Sequence[tuple[str, str]],
    *,
    level_names: Mapping[str, str] = _LEVELS,
    names: Any = policy_name,
) -> str:
    """The "Not clearly best: ..." note of :func:`best_rivals`; empty when it is clearly best.

    Parameters
    ----------
    interval : (float, float)
        The best's interval (NaN ends: one replication, no interval).
    rivals : sequence of (str, str)
        (level, policy) whose intervals overlap it, best first.
    level_names : mapping, default=LEVEL_NAMES
    names : callable, default=simulation.display.policy_name
        Readable name of a policy spec.

    Returns
    -------
    note : str
    """
    if not rivals:
        return ""
    if not all(math.isfinite(v) for v in interval):
        return "Not clearly best: one replication gives no interval."
    shown = "; ".join(
        f"{names(p)} at the {level_names.get(lv, lv).lower()} level" for lv, p in rivals[:3]
    )
    more = f" and {len(rivals) - 3} more" if len(rivals) > 3 else ""
    return f"Not clearly best: its interval overlaps that of {shown}{more}."


def clear_best_note(
    summary: pd.DataFrame,
    best: Mapping[str, Any],
    objective: str = "ctr",
    *,
    level_names: Mapping[str, str] = _LEVELS,
    names: Any = policy_name,
) -> str:
    """Why the best is not clearly best, in the report's words; empty when it is.

    Two reasons, one rule for the report, the app and ``runs list``: the best's interval of
    the objective overlaps another learner's, or there is none (:func:`best_rivals`,
    :func:`best_note`); or its interval was refused, because a replication had too few of
    the events or its ends lie too far apart
    (:func:`simulation.interval_words.refused_interval`, :func:`tile_refusal_note`): a best
    whose interval cannot be shown is not clearly apart from anything.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, replication), with the event counts.
    best : mapping
        A :func:`best_row`: ``level`` and ``policy``.
    objective : {"ctr", "roas"}, default="ctr"
    level_names, names
        As :func:`best_note`.

    Returns
    -------
    note : str
        "Not clearly best: ...", or "" for a clear best.
    """
    key = "roas" if objective == "roas" else "ctr"
    interval, rivals = best_rivals(summary, best, key)
    refused = tile_interval_notes(summary, best, {key: interval}).get(key)
    if refused:
        return tile_refusal_note(refused)
    return best_note(interval, rivals, level_names=level_names, names=names)


def run_uplift(run) -> pd.DataFrame:
    """The like-for-like uplift of a saved run: its stored ``uplift`` table, else computed.

    Runs saved before the table existed get
    :func:`simulation.metrics.like_for_like_uplift` of their stored summary under the
    run's objective (``expected`` is NaN when the summary lacks the expected columns).

    Parameters
    ----------
    run : StoredRun

    Returns
    -------
    uplift : DataFrame
        Columns :data:`simulation.metrics.UPLIFT_COLUMNS`; empty when the run has no
        generic level or its summary lacks the totals.
    """
    stored = run.tables.get("uplift")
    if stored is not None and not stored.empty:
        return stored
    summary = run.summary
    if not _TOTALS.issubset(summary.columns):  # not made by the engine
        return pd.DataFrame(columns=list(UPLIFT_COLUMNS))
    objective = "roas" if run.config.get("objective") == "roas" else "ctr"
    return like_for_like_uplift(summary, objective=objective)


def metric_bands(timeseries: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and 95 % band across replications of ``metric`` at up to 40 checkpoints.

    The band is :func:`simulation.metrics.summarize`'s: for rates and ratios
    (:data:`simulation.metrics.METRIC_BOUNDS`) it stays in range (a ROAS band never goes
    below zero). Checkpoints before 5 % of the run are left out.

    Parameters
    ----------
    timeseries : DataFrame
        Columns ``level``, ``policy``, ``step``, ``seed`` (and ``world``) and ``metric``.
    metric : str

    Returns
    -------
    bands : DataFrame
        Columns ``level``, ``policy``, ``step``, ``mean``, ``low``, ``high``, ``n_seeds``.
    """
    keys = ["world"] if "world" in timeseries.columns else []
    frame = timeseries[["level", "policy", "step", *keys, "seed", metric]].replace(
        [np.inf, -np.inf], np.nan
    )
    steps = np.sort(frame["step"].unique())
    steps = steps[steps >= _RATE_START * steps.max()]
    if steps.size > _MAX_POINTS:
        steps = steps[np.unique(np.linspace(0, steps.size - 1, _MAX_POINTS).round().astype(int))]
    frame = frame[frame["step"].isin(steps)]
    return summarize(frame, (metric,), by=("level", "policy", "step")).rename(
        columns={metric: "mean", f"{metric}_low": "low", f"{metric}_high": "high"}
    )


def svg_chart(
    bands: pd.DataFrame,
    title: str,
    kind: str,
    *,
    width: int = 340,
    height: int = 230,
    bounds: tuple[float, float | None] | None = None,
) -> str:
    """Lines (mean) and shaded 95 % bands per policy, one panel per level, as inline SVG.

    Parameters
    ----------
    bands : DataFrame
        Columns ``level``, ``policy``, ``step``, ``mean``, ``low``, ``high``.
    title : str
        The y-axis title.
    kind : {"pct", "x"}
        How the y ticks read.
    width, height : int
        Size of one panel in pixels.
    bounds : (float, float or None) or None, default=None
        The quantity's range (:data:`simulation.metrics.METRIC_BOUNDS`): the y axis
        stays inside it.

    Returns
    -------
    svg : str
        One ``<svg>`` element (with a legend), escaped text only.
    """
    levels = list(dict.fromkeys(bands["level"]))
    policies = list(dict.fromkeys(bands["policy"]))
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(policies)}
    domain = robust_domain(bands["mean"], bands["low"], bands["high"]) or [0.0, 1.0]
    lo, hi = domain
    if hi <= lo:
        lo, hi = lo - 0.5 * abs(lo or 1), hi + 0.5 * abs(hi or 1)
    if bounds is not None:
        lo = max(lo, bounds[0])
        hi = hi if bounds[1] is None else min(hi, bounds[1])
    x0, x1 = float(bands["step"].min()), float(bands["step"].max())
    x1 = x1 if x1 > x0 else x0 + 1
    left, top, bottom, gap = 64, 28, 34, 16
    plot_w, plot_h = width - left - 10, height - top - bottom
    legend_h = 22 * len(policies) + 10
    total_w = len(levels) * (width + gap)
    total_h = height + legend_h

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * plot_w

    def sy(v: float) -> float:
        v = min(max(v, lo), hi)
        return top + (1 - (v - lo) / (hi - lo)) * plot_h

    e = html.escape
    out = [
        f'<svg class="chart" role="img" '
        f'width="{total_w}" height="{total_h}" viewBox="0 0 {total_w} {total_h}" '
        f'font-family="sans-serif" font-size="11"><title>{e(title)}</title>'
    ]
    for li, level in enumerate(levels):
        ox = li * (width + gap)
        out.append(f'<g transform="translate({ox},0)">')
        out.append(
            f'<text x="{left}" y="16" font-weight="bold">{e(_LEVELS.get(level, level))}</text>'
        )
        for t in nice_ticks(lo, hi):
            y = sy(t)
            out.append(
                f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#e5e5e5"/><text x="{left - 4}" y="{y + 4:.1f}" '
                f'text-anchor="end">{e(_num(t, kind))}</text>'
            )
        for t in nice_ticks(x0, x1, 4):
            out.append(
                f'<text x="{sx(t):.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                f"{t:,.0f}</text>"
            )
        out.append(
            f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">'
            "Impressions</text>"
        )
        sub = bands[bands["level"] == level]
        for policy, group in sub.groupby("policy", sort=False):
            g = group.sort_values("step")
            c = colours[policy]
            upper = [
                f"{sx(s):.1f},{sy(v):.1f}" for s, v in zip(g["step"], g["high"].fillna(g["mean"]))
            ]
            lower = [
                f"{sx(s):.1f},{sy(v):.1f}" for s, v in zip(g["step"], g["low"].fillna(g["mean"]))
            ]
            out.append(
                f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{c}" '
                'fill-opacity="0.18" stroke="none"/>'
            )
            line = [
                f"{sx(s):.1f},{sy(v):.1f}" for s, v in zip(g["step"], g["mean"]) if np.isfinite(v)
            ]
            out.append(
                f'<polyline class="line" data-policy="{e(str(policy))}" points="{" ".join(line)}" '
                f'fill="none" stroke="{c}" stroke-width="2"/>'
            )
        out.append(
            f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
            'stroke="#999"/></g>'
        )
    out.append(f'<text transform="translate(12,{top + plot_h / 2}) rotate(-90)" '
               f'text-anchor="middle">{e(title)}</text>')  # fmt: skip
    for i, policy in enumerate(policies):
        y = height + 14 + 22 * i
        name = e(policy_name(str(policy)))
        out.append(
            f'<line x1="{left}" x2="{left + 24}" y1="{y}" y2="{y}" stroke="{colours[policy]}" '
            f'stroke-width="3"/><text x="{left + 30}" y="{y + 4}">{name}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _table(frame: pd.DataFrame, cls: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    # A table wider than a narrow window scrolls inside its own box, not the whole page.
    return (
        f'<div class="wide"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _metrics_table(summary: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Final metrics per (level, policy), observed: mean and 95 % interval, as text.

    An interval on too few events, or too wide to mean anything, is refused in the tiles'
    and uplift cells' words (:func:`simulation.interval_words.refused_interval`).

    Returns
    -------
    table : DataFrame
        One row per (level, policy): Level, Policy, CTR, ROAS, Interval over.
    refused : bool
        Whether any cell's interval was refused (the section then says the rule).
    """
    s = summarize(summary, ("ctr", "roas"))
    groups = dict(list(summary.groupby(["level", "policy"], sort=False)))
    cells: dict[str, list[str]] = {"ctr": [], "roas": []}
    refused = False
    for r in s.to_dict("records"):
        rows = groups[(r["level"], r["policy"])]
        for metric, kind in (("ctr", "pct"), ("roas", "x")):
            low, high = float(r[f"{metric}_low"]), float(r[f"{metric}_high"])
            if r.get(f"{metric}_note"):  # not a mean over every replication: say what it is
                cells[metric].append(f"{_num(r[metric], kind)} ({r[f'{metric}_note']})")
                continue
            note = refused_interval(rows, metric, low, high)
            refused |= note is not None
            cells[metric].append(_ci(kind, r[metric], low, high, note))
    table = pd.DataFrame(
        {
            "Level": [_LEVELS.get(v, v) for v in s["level"]],
            "Policy": [policy_name(str(v)) for v in s["policy"]],
            "CTR": cells["ctr"],
            "ROAS": cells["roas"],
            "Interval over": list(s["interval_over"]),
        }
    )
    return table, refused


def _served_table(served: pd.DataFrame) -> pd.DataFrame:
    """Each component's share of everyone's impressions, one column per policy (mean over seeds)."""
    rows = served[served["segment"] == "all"]
    shares = rows.pivot_table(
        index=["axis", "component"], columns="policy", values="share", aggfunc="mean", sort=False
    )
    out = shares.map(lambda v: _num(v, "pct")).rename(columns=policy_name).reset_index()
    out["component"] = [component_name(a, c) for a, c in zip(out["axis"], out["component"])]
    out["axis"] = [AXIS_LABELS.get(a, a.capitalize()) for a in out["axis"]]
    return out.rename(columns={"axis": "Axis", "component": "Component"})


def _effects_table(effects: pd.DataFrame, objective: str) -> pd.DataFrame:
    """mvt_ts's effect of each component for everyone (first seed) and the true effect."""
    rows = effects[(effects["seed"] == 0) & (effects["segment"] == "all")]
    # Per 1,000 impressions: an effect of 0.0003 clicks per impression reads 0.30.
    k = 1_000.0
    unit = "clicks" if objective == "ctr" else "net value, USD"

    def signed(v: float) -> str:
        return f"{k * v:+.2f}" if math.isfinite(v) else "–"

    return pd.DataFrame(
        {
            "Axis": [AXIS_LABELS.get(a, a.capitalize()) for a in rows["axis"]],
            "Component": [component_name(a, c) for a, c in zip(rows["axis"], rows["component"])],
            f"Estimate ({unit} per 1,000 impressions) [95 % interval]": [
                f"{signed(m)} [{signed(lo)}, {signed(hi)}]"
                for m, lo, hi in zip(rows["estimate"], rows["low"], rows["high"])
            ],
            "True effect": [signed(v) for v in rows["true"]],
        }
    )


def _generated_html(run, objective: str) -> str:
    """The generated level's section: what was served, what mvt_ts believes (empty without)."""
    served = run.tables.get("component_allocation", pd.DataFrame())
    effects = run.tables.get("component_effects", pd.DataFrame())
    if served.empty and effects.empty:
        return ""
    parts = ["<h2>Composed creatives (generated level)</h2>"]
    # Saved with the run since 2026-12-05, with the share from the localized floor (the
    # world's, which the report does not rebuild); earlier runs: from the summary.
    saved = run.tables.get("gap_closed")
    table = saved if saved is not None and not saved.empty else gap_closed(run.summary)
    gap = gap_sentences(table, policy_name)
    if gap:
        parts.append(
            "<h3>How close to the best composition</h3><p>The share of uniform's regret a "
            "policy avoided, on the same viewers and draws: 0 % is composing at random, 100 % "
            "serving each impression its best composition (the oracle). "
            + html.escape(local_note(table))
            + " ".join(html.escape(s) for s in gap)
            + "</p>"
        )
    if not served.empty:
        n = served["seed"].nunique()
        parts.append(
            "<h3>What each policy served, component by component</h3><p>The share of "
            "everyone's impressions whose ad had each component (observed; mean over "
            f"{n} seed{'s' if n != 1 else ''}). <i>uniform</i> shows what the constraints "
            "leave; <i>oracle</i>, where it ran, what the truth asks for (where components "
            "are equally good, as calls to action and palettes are to the simulated viewers, "
            "its pick among them is arbitrary).</p>"
        )
        parts.append(_table(_served_table(served), "served"))
    if not effects.empty:
        parts.append(
            "<h3>What the learner believes about each component</h3><p>mvt_ts, first seed, "
            "everyone: the expected reward of the ads with a component, against the average "
            "of the ads that can be served, with its 95 % posterior interval, beside the true "
            "effect of the simulator's response model (which a real experiment never "
            "sees).</p>"
        )
        parts.append(_table(_effects_table(effects, objective), "effects"))
    return "".join(parts)


def _generations_html(run, config: Mapping[str, Any]) -> str:
    """The Generations section of a regenerated run: its pools per level, and their end."""
    e = html.escape
    frame = run.tables.get("generations")
    every = config.get("regenerate_every")
    parts = [
        "<h2>Generations: the self-improving pool</h2>",
        f"<p>Every {int(every):,} impressions each policy retired the weakest quarter of its "
        "pool (by the clicks or net value it observed, never the ground truth) and bred "
        "children of its best: one or two components changed, every child checked by the "
        "guardrails. So an arm of a regenerated level is a slot, not one creative.</p>",
    ]
    if frame is None or frame.empty:
        parts.append("<p>This run did not store its generations (the lineage table).</p>")
        return "".join(parts)
    parts.append(_table(generations_summary(frame), "generations"))
    for level in dict.fromkeys(frame["level"]):
        policy = shown_policy(frame, level)
        first = ", ".join(f"{u} {int(frame[u].min())}" for u in ("world", "seed") if u in frame)
        parts.append(
            f"<h3>{e(_LEVELS.get(level, level))}: what each slot held at the end</h3>"
            f"<p>{e(policy_name(str(policy)))}, {e(first)} (other policies and seeds bred "
            "other pools). CTR observed while the creative lived; true CTR is the world's "
            "expected CTR over the audience, which a real experiment never sees.</p>"
        )
        parts.append(_table(final_pools(frame, level, policy), "pool"))
    return "".join(parts)


def _winners_html(run, winners: Sequence[Mapping[str, Any]] | None) -> str:
    if not winners:
        return (
            "<p>No per-segment winners: the run has no per-segment level, or its world "
            "could not be rebuilt.</p>"
        )
    e = html.escape
    cards = []
    for w in winners:
        img = ""
        if w.get("png"):
            data = base64.b64encode(w["png"]).decode("ascii")
            img = f'<img alt="leading creative" src="data:image/png;base64,{data}">'
        # One row per component, the two creatives in aligned columns: as "a vs b" items
        # the long values (a headline each) ran into one another over three lines.
        rows = "".join(
            f"<tr><th>{e(label)}</th><td>{e(a)}</td><td>{e(b)}</td></tr>"
            for label, a, b in w.get("reasons", ())
        )
        why = (
            "<table class='differs'><tr><th></th><th>This creative</th><th>Runner-up</th></tr>"
            f"{rows}</table>"
            if rows
            else "<p>–</p>"
            if not w.get("runner_up")
            else "<p>Nothing: the two share every component.</p>"
        )
        label = _VERDICT_LABEL[w.get("verdict", "clear")]
        cards.append(
            f'<div class="card">{img}<h3>{e(w["segment"])}</h3>'
            f"<p><b>{label}</b> {e(w['winner'])} · {e(w['rate'])}</p>"
            + (
                f"<p><i>{e(w.get('verdict_note') or _VERDICT_NOTE[w['verdict']])}</i></p>"
                if w.get("verdict")
                else ""
            )
            + f"<p><b>Runner-up:</b> {e(w.get('runner_up', '–'))}</p>"
            f"<p><b>Margin:</b> {e(w.get('margin', '–'))}</p>"
            f"<p><b>What differs:</b></p>{why}</div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _winners(run) -> list[dict[str, Any]] | None:
    """Per-segment winners with images, rebuilt from the run's config (None if impossible)."""
    seg = run.tables.get("segments")
    if seg is None or seg.empty or "level" not in seg or not (seg["level"] == "segment").any():
        return None
    # Local imports: rebuilding the world and rendering are needed only here.
    from creative.encode import encode_image
    from creative.render import render
    from simulation.config import ExperimentConfig
    from simulation.scenario import build_scenario
    from simulation.winners import (
        component_differences,
        creative_labels,
        difference_text,
        no_events_note,
        segment_winners,
        true_segment_rates,
        winner_verdict,
    )

    objective = run.config.get("objective", "ctr")
    try:
        scenario = build_scenario(ExperimentConfig.from_dict(dict(run.config)))
    except (TypeError, ValueError, KeyError):
        return None
    if "segment" not in scenario.levels:
        return None
    creatives = scenario.levels["segment"].creatives
    labels = [creative_labels(c) for c in creatives]
    names = [p.name for p in scenario.segmentation.profiles]
    truth = true_segment_rates(scenario, objective)
    kind = "pct" if objective == "ctr" else "x"

    def margin_text(v: float) -> str:
        return difference_text(objective, v)

    out = []
    for r in segment_winners(seg, objective).to_dict("records"):
        win = creatives[r["segment"]][r["arm"]]
        png = encode_image(render(win, (540, 540)), "png")
        item = {
            "segment": names[r["segment"]],
            "winner": f"{labels[r['segment']][r['arm']]} ({r['impressions']:,} impressions)",
            "rate": f"{objective.upper()} {_num(r[objective], kind)} (observed)",
            "png": png,
        }
        if r["runner_up"] >= 0:
            ru = creatives[r["segment"]][r["runner_up"]]
            item["runner_up"] = (
                f"{labels[r['segment']][r['runner_up']]} · "
                f"{objective.upper()} {_num(r[f'runner_up_{objective}'], kind)} (observed)"
            )
            # The app's unit (pp, or ROAS): a difference is neither a relative change nor
            # a multiple.
            item["margin"] = (
                interval_text(margin_text, r["margin"], r["margin_low"], r["margin_high"])
                + f" over {r['n_seeds']} seed{'s' if r['n_seeds'] != 1 else ''}"
                + (" (one seed: no interval)" if r["n_seeds"] < 2 else "")
                + "; world's truth "
                f"{_num(truth[r['segment'], r['arm']], kind)} vs "
                f"{_num(truth[r['segment'], r['runner_up']], kind)}"
            )
            item["verdict"] = winner_verdict(r["n_seeds"], r["margin_low"], r["no_events"])
            if item["verdict"] == "no events":
                note = no_events_note(objective)
                item["verdict_note"] = note[0].upper() + note[1:]
            # The card's creative first, named by no title: only the verdict says whether
            # it leads ("(leader)" on every line stood beside "No leader yet" and "Leader
            # (not yet clear)").
            item["reasons"] = component_differences(win, ru)
        out.append(item)
    return out


def _setting(value: Any) -> str:
    """A setting or a provenance value as text: lists and tables as JSON, nothing as "–"."""
    if value is None or (isinstance(value, list | dict) and not value):
        return "–"
    return json.dumps(value, default=str) if isinstance(value, list | dict) else str(value)


def _created(value: Any) -> Any:
    """``2026-12-04T23:33:20.370509+00:00`` -> ``2026-12-04 23:33:20`` (the header says UTC)."""
    if value is None:
        return "–"
    try:
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return value


def _files(files: Mapping[str, Any]) -> str:
    """The run's files with their row counts: ``summary.parquet (18 rows), ...``."""

    def rows(info: Any) -> str:
        n = info.get("rows") if isinstance(info, Mapping) else None
        return f" ({n:,} rows)" if isinstance(n, int) else ""

    return ", ".join(f"{name}{rows(info)}" for name, info in files.items()) or "–"


_CSS = """
body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}
h1{margin-bottom:0} .sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;margin:.5em 0 1.5em} th,td{border:1px solid #ccc;padding:4px 8px;
text-align:left;font-size:13px;white-space:nowrap} th{background:#f3f3f3}
.headline{display:flex;gap:3em;margin:1em 0} .headline div{font-size:28px}
.headline span{display:block;font-size:13px;color:#666}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1em}
.card{border:1px solid #ddd;padding:.8em;min-width:0;word-break:keep-all;overflow-wrap:anywhere}
.card img{display:block;width:100%;max-width:400px;margin:0 auto}
.card h3{font-size:15px;margin:.4em 0} .card p{font-size:13px;margin:.4em 0}
table.differs{width:100%;margin:.3em 0 0;table-layout:fixed}
table.differs th,table.differs td{white-space:normal;vertical-align:top;font-size:12px;
padding:3px 5px} table.differs th:first-child{width:22%}
svg.chart{max-width:100%;height:auto}
pre{background:#f6f6f6;padding:1em;font-size:12px}
table.kv td{white-space:normal;overflow-wrap:anywhere;max-width:900px}
table.uplift td{white-space:normal;max-width:26em} table.uplift th{white-space:normal}
.wide{max-width:100%;overflow-x:auto}
"""


def _best_html(summary: pd.DataFrame, best: pd.Series | None, objective: str, over: str) -> str:
    """The best policy's tiles (the objective with its interval) and whether it is clearly best."""
    e = html.escape
    if best is None:
        return (
            "<p id='best-none'>No best policy: only references that know the truth (the "
            "oracle) ran.</p>"
        )
    key = "roas" if objective == "roas" else "ctr"
    (low, high), _ = best_rivals(summary, best, key)
    bounds = {**best_intervals(summary, best), key: (low, high)}
    # The app's rule (its tiles): an interval on a handful of events, or one spanning
    # every decision, is refused in the uplift cells' words.
    notes = tile_interval_notes(summary, best, bounds)
    tiles = []
    for m, kind, label in _HEADLINE[key]:
        lo, hi = bounds.get(m, (math.nan, math.nan))
        text = _ci(kind, best[m], lo, hi, notes.get(m))
        tiles.append(f"<div id='best-{m}'>{e(text)}<span>{label}</span></div>")
    who = (
        f"{policy_name(str(best['policy']))} at the "
        f"{_LEVELS.get(best['level'], str(best['level'])).lower()} level"
    )
    # One replication: the note says there is no interval; the bracket describes none.
    # Neither does it when every tile refused its interval.
    if one_replication(summary):
        over_text = over
    elif all(m in notes for m, _, _ in _HEADLINE[key]):
        over_text = f"mean over {over}"
    else:
        over_text = f"mean, 95 % interval over {over}"
    text = f"Best by {key.upper()}: {who} ({over_text})."
    # No interval shown for the objective: none to overlap or not (the app's caption).
    note = clear_best_note(summary, best, key)
    text += f" {note}" if note else ""
    return f"<div class='headline'>{''.join(tiles)}</div><p id='best-by'>{e(text)}</p>"


def build_report(run, *, winners: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The report of a saved run as one HTML string.

    Parameters
    ----------
    run : StoredRun
        A run from :meth:`simulation.store.run_store.RunStore.load`.
    winners : sequence of mapping, optional
        Pre-built winner cards (as from the world rebuild); default: rebuilt from the
        run's config when it has a per-segment level.

    Returns
    -------
    html : str
    """
    e = html.escape
    meta = run.meta
    config = dict(run.config)
    objective = config.get("objective", "ctr")
    name = meta.get("name") or run_label([config])[0]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>adlab report: {e(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>adlab run report: {e(name)}</h1>",
        f"<p class='sub'>Run {e(run.run_id)} · created {e(str(_created(meta.get('created_at'))))} "
        f"(UTC) · from the {e(str(meta.get('source', '?')))}</p>",
    ]
    summary, ts = run.summary, run.timeseries
    usable = {"level", "policy", "seed", "ctr", "roas"} <= set(summary.columns)
    if usable:
        best = best_row(summary, objective)
        over = interval_over(summary)
        uplift = run_uplift(run)
        # One replication: one note says there is no interval, not each sentence (the app's).
        single = headline_note(summary)
        lines = uplift_headline(
            uplift, objective, level_names=_LEVELS, interval_noted=single is not None
        )
        caveat = world_caveat(summary) if lines else None
        parts.append(
            "<h2>Headline</h2><p id='uplift-headline'><b>Observed</b> (best policy at each "
            "level against the best at the generic level, the same visitors and draws): "
            + (
                e(" ".join(lines))
                if lines
                else "no like-for-like uplift: the run has no generic level to compare with."
            )
            + "</p>"
            + (f"<p id='headline-note'><i>{e(single)}</i></p>" if single and lines else "")
            + (f"<p id='world-caveat'><i>{e(caveat)}</i></p>" if caveat else "")
            + _best_html(summary, best, objective, over)
        )
        if {"step", "seed", "level", "policy"} <= set(ts.columns):
            bands = (
                f"Lines: {e(interval_over(ts))}, one replication: no interval, no shading"
                if one_replication(ts)
                else f"Lines: mean over {e(interval_over(ts))}; shaded: 95 % interval over "
                "the same replications (kept in range: a rate stays between 0 and 100 %, "
                "ROAS above 0)"
            )
            parts.append(f"<h2>Over the run</h2><p>{bands}; from 5 % of the impressions on.</p>")
            for metric, (heading, axis, kind) in REPORT_METRICS.items():
                if metric in ts:
                    parts.append(f"<h3>{e(heading)}</h3>")
                    bands = metric_bands(ts, metric)
                    parts.append(svg_chart(bands, axis, kind, bounds=METRIC_BOUNDS.get(metric)))
        parts.append(
            "<h2>Like-for-like uplift</h2><p>Each level against the generic level, the same "
            "policy (or each level's best) on the same visitors and draws. <b>Observed</b>: the "
            + (
                "paired change measured in this run's one replication, so no interval (the "
                "cells give values alone). "
                if one_replication(summary)
                else "paired change measured in this run (geometric mean of the "
                "per-replication ratios), its 95 % interval over the replications named in "
                "<i>Interval over</i>. "
            )
            + "<b>True (expected)</b>: the same comparison on the simulator's expected "
            "values, which a real experiment never sees.</p>"
        )
        if uplift.empty:
            parts.append("<p>None: the run has no generic level to compare with.</p>")
        else:
            single = one_replication(summary)
            table = uplift_table(
                uplift, level_names=_LEVELS, policy_name=policy_name, interval_noted=single
            )
            if single:  # the paragraph above says "one replication": the cells, values alone
                table = table.rename(columns={OBSERVED_COLUMN: "Observed uplift"})
            parts.append(_table(table, "uplift"))
        words = metrics_over(summary)
        metrics, refused = _metrics_table(summary)
        rule = f" {refusal_rule()}" if refused else ""
        parts.append(
            f"<h2>Final metrics, observed</h2><p id='metrics-over'>"
            f"{e(words[:1].upper() + words[1:])}.{e(rule)}</p>"
        )
        parts.append(_table(metrics, "metrics"))
        parts.append("<h2>Leading creative per segment</h2>")
        regenerated = regenerated_levels(config, run.tables)
        if "segment" in regenerated:
            # The rebuilt world's founders are not what the slots held: name none.
            parts.append(f"<p id='slot-note'>{e(SLOT_NOTE)}</p>")
        else:
            parts.append(_winners_html(run, winners if winners is not None else _winners(run)))
        parts.append(_generated_html(run, objective))
        if regenerated:
            parts.append(_generations_html(run, config))
    else:
        parts.append("<p>This run was not made by the experiment engine; its summary:</p>")
        parts.append(_table(summary.head(200)))
    parts.append("<h2>Configuration</h2>")
    values = [_setting(v) for v in config.values()]
    parts.append(_table(pd.DataFrame({"Setting": list(config), "Value": values}), "kv"))
    parts.append("<h2>Data provenance</h2>")
    prov = {
        "run id": run.run_id,
        "seed": meta.get("seed"),
        "created (UTC)": _created(meta.get("created_at")),
        "source": meta.get("source"),
        "python": meta.get("python"),
        "packages": ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items() if v),
        "tables": ", ".join(meta.get("tables") or []) or "–",
        "impression log": "kept" if run.log_path else "not kept",
    }
    skip = {
        "config",
        "seed",
        "created_at",
        "source",
        "python",
        "versions",
        "tables",
        "name",
        "run_id",
    }
    for key, value in meta.items():
        if key == "files" and isinstance(value, dict):
            prov[key] = _files(value)
        elif key not in skip:  # e.g. the input files' content hashes, row counts
            prov[key] = value
    parts.append(
        _table(
            pd.DataFrame({"What": list(prov), "Value": [_setting(v) for v in prov.values()]}), "kv"
        )
    )
    parts.append("<p class='sub'>Made by adlab; a simulation: the users, clicks and revenue "
                 "are synthetic.</p></body></html>")  # fmt: skip
    return "".join(parts)


def write_report(stored_run, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """Write the self-contained HTML report of ``stored_run`` to ``path`` (atomically).

    Parameters
    ----------
    stored_run : StoredRun
    path : str or path-like
        The ``.html`` file to write; its directory must exist.
    overwrite : bool, default=True
        Replace a file already at ``path``. When false, such a file is refused before
        anything is built, and the finished report is published only if ``path`` is still
        free then (a file made there meanwhile is kept, and the report is not written).

    Returns
    -------
    path : Path

    Raises
    ------
    OSError
        ``IsADirectoryError`` for a path with no file name (``''``, ``'.'``) or a folder,
        ``NotADirectoryError`` when its parent is a file, ``FileNotFoundError`` when its
        parent is missing, ``FileExistsError`` for an existing file when ``overwrite`` is
        false; each before anything is built or written.
    """
    target = Path(path)
    if not target.name:  # '' or '.': no file name to write to
        raise IsADirectoryError(f"not a file name: {os.fspath(path)!r}")
    if target.parent.exists() and not target.parent.is_dir():
        raise NotADirectoryError(f"not a folder: {target.parent}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"no such directory: {target.parent}")
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder, not a file")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise FileExistsError(f"{target} already exists")
    text = build_report(stored_run)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if overwrite:
            os.replace(tmp, target)
        else:
            # link() refuses an existing name, where rename() would replace it: a file
            # made at the path while the report was being built is never lost.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise FileExistsError(f"{target} already exists") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
