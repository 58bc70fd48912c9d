"""Display tables: result frames in, readable frames out (percentages, money, intervals)."""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import pandas as pd
from scipy import special

from simulation.interval_words import one_replication, refusal_rule, refused_interval
from simulation.metrics import mean_interval, summarize
from simulation.store.report import VERDICT_NAMES, best_row
from simulation.uplift_text import OBSERVED_COLUMN, TRUE_COLUMN
from simulation.winners import (
    EVENT_WORDS,
    component_differences,
    creative_labels,
    difference_text,
    segment_winners,
    winner_verdict,
)
from ui.fmt import LEVEL_NAMES, escape_markdown, interval, money, multiple, pct, policy_name

__all__ = [
    "HEADLINE_METRICS",
    "JUDGED_COLUMNS",
    "METRIC_INTERVALS",
    "PAIR_COLUMN",
    "UPLIFT_LABELS",
    "WINNER_LISTS",
    "best_label",
    "best_row",
    "compare_metrics_table",
    "difference_table",
    "markdown_table",
    "metrics_refusal",
    "metrics_table",
    "paired_difference",
    "segment_table",
    "uplift_labels",
    "winners",
    "winners_table",
]

#: Shorter headers for the uplift table on the page (:func:`markdown_table`'s ``headers``):
#: the long ones made it wider than the page. The frame keeps its column names.
UPLIFT_LABELS: dict[str, str] = {
    OBSERVED_COLUMN: "Observed (95 % interval)",
    TRUE_COLUMN: "True (expected)",
}


def uplift_labels(summary: pd.DataFrame) -> dict[str, str]:
    """:data:`UPLIFT_LABELS`, and "Observed" alone when one replication draws no interval."""
    if one_replication(summary):
        return {**UPLIFT_LABELS, OBSERVED_COLUMN: "Observed"}
    return dict(UPLIFT_LABELS)


#: Columns of :func:`metrics_table` whose cells carry an interval "(low – high)".
METRIC_INTERVALS: tuple[str, ...] = (
    "CTR", "ROAS", "Conversion rate", "Cost per conversion", "Regret",
)  # fmt: skip
#: Rows a page's table shows whole; a longer one (the uplift table: 4 metrics per policy
#: and level, 48 rows for the default run) scrolls in :data:`TABLE_PX` under a header
#: that stays, so the tiles and charts below are not pushed a few thousand pixels down.
TABLE_ROWS_SHOWN = 12
TABLE_PX = 560


def table_height(n_rows: int) -> int | str:
    """``st.table``'s height for ``n_rows`` rows: all of them, or :data:`TABLE_PX` to scroll."""
    return "content" if n_rows <= TABLE_ROWS_SHOWN else TABLE_PX


#: :func:`winners_table`'s column of the two creatives: the first is the one with the best
#: observed rate on every row, a winner or not ("Leader" read wrong beside "No leader yet"),
#: the report's card calls it "This creative" beside "Runner-up".
PAIR_COLUMN = "Best vs runner-up"
#: Columns of :func:`winners_table` that list items "a; b; c" (one a line on the page).
WINNER_LISTS: tuple[str, ...] = ("What differs",)
#: A number and its unit ("1.23 %", "+0.024 pp", "-0.120 ROAS") never split over two lines.
_NUMBER_UNIT = re.compile(r"(?<=\d) (?=%|pp\b|ROAS\b)")
#: A Markdown hard line break (two spaces, then a newline).
LINE_BREAK = "  \n"


def _lines(text: str, interval_cell: bool, list_cell: bool) -> list[str]:
    r"""A cell's lines: its own ("a\nb"), its value then "(interval)", or one list item a line."""
    if "\n" in text:
        return text.split("\n")
    if interval_cell and " (" in text:
        head, tail = text.split(" (", 1)
        return [head, f"({tail}"]
    if list_cell and "; " in text:
        items = text.split("; ")
        return [f"{item};" for item in items[:-1]] + items[-1:]
    return [text]


def markdown_table(
    frame: pd.DataFrame,
    *,
    intervals: Collection[str] = (),
    lists: Collection[str] = (),
    headers: dict[str, str] | None = None,
) -> pd.DataFrame:
    """A display table as ``st.table`` shows it: escaped Markdown whose cells wrap.

    ``st.dataframe`` never wraps a cell, so the uplift table, the final metrics and the
    leaders' *What differs* ran 940-1,075 px wide and more, past a 1280 px window;
    ``st.table`` wraps each cell (up to 25rem) to fit the page, as the HTML report's uplift
    table does. It renders every header and cell as Markdown, so each is escaped
    (:func:`ui.fmt.escape_markdown`: a ``$`` of a cost would start maths, a name of one's
    own could be a link); a number stays with its unit, an interval goes on a second line
    under its value, and a list gets one item a line, so the cells wrap where a reader
    expects.

    Parameters
    ----------
    frame : DataFrame of shape (n_rows, n_columns)
        A display table of text (:func:`metrics_table`, :func:`winners_table`,
        :func:`ui.uplift.uplift_display`).
    intervals : collection of str, default=()
        Columns whose cells read "value (interval or note)".
    lists : collection of str, default=()
        Columns whose cells read "a; b; c".
    headers : dict of str to str, optional
        Shorter headers for some columns (:func:`uplift_labels`).

    Returns
    -------
    table : DataFrame of shape (n_rows, n_columns)
        Escaped Markdown text, lines joined by a hard line break (:data:`LINE_BREAK`).
    """
    headers = headers or {}
    out = {}
    for column in frame.columns:
        cells = []
        for value in frame[column]:
            text = (
                "–"
                if value is None or (isinstance(value, float) and np.isnan(value))
                else str(value)
            )
            lines = _lines(text, column in intervals, column in lists)
            cells.append(
                LINE_BREAK.join(escape_markdown(_NUMBER_UNIT.sub("\u00a0", line)) for line in lines)
            )
        out[escape_markdown(headers.get(column, column))] = cells
    return pd.DataFrame(out, index=range(len(frame)))


#: Metrics of the A−B view: column -> (name, formatter of a difference).
HEADLINE_METRICS: dict[str, tuple[str, object]] = {
    # A difference in its own unit, as the leaders' margins read (and the report's): not a
    # relative change, not a multiple.
    "ctr": ("CTR", lambda v: difference_text("ctr", v)),
    "roas": ("ROAS", lambda v: difference_text("roas", v)),
    "cvr": ("Conversion rate", lambda v: "–" if not np.isfinite(v) else f"{100 * v:+.2f} pp"),
}


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
    groups = dict(list(summary.groupby(["level", "policy"], sort=False)))
    rows = []
    for r in s.itertuples(index=False):
        row = r._asdict()
        replications = groups[(row["level"], row["policy"])]
        rows.append(
            {
                "Level": LEVEL_NAMES.get(row["level"], row["level"]),
                "Policy": policy_name(row["policy"]),
                "CTR": _judged(pct, row, "ctr", replications),
                "ROAS": _judged(multiple, row, "roas", replications),
                "Conversion rate": _judged(pct, row, "cvr", replications),
                "Cost per conversion": _judged(money, row, "cpa", replications),
                # True (expected) regret: its interval over the seeds stands even from 0
                # (a policy that lost nothing in one seed), so the rule leaves it alone.
                "Regret": interval(
                    lambda v: f"{v:,.0f}", row["regret"], row["regret_low"], row["regret_high"]
                ),
                "Seeds": row["n_seeds"],
            }
        )
    return pd.DataFrame(rows)


def compare_metrics_table(summary_a: pd.DataFrame, summary_b: pd.DataFrame) -> pd.DataFrame:
    """Two runs' final metrics in one table, run A's rows then run B's.

    One full-width table: two half-width ones cut their columns off. The Results page
    shows it through :func:`markdown_table`, wrapped to the window.

    Parameters
    ----------
    summary_a, summary_b : DataFrame
        Each run's ``summary_frame()`` (one row per policy, level and seed).

    Returns
    -------
    table : DataFrame of shape (n_rows_a + n_rows_b, 1 + n_metric_columns)
        :func:`metrics_table`'s columns, led by ``Run`` ("A" or "B") and with CTR and ROAS
        right after the names; observed values, each interval over its own run's seeds.
    """
    table = pd.concat(
        [metrics_table(summary_a).assign(Run="A"), metrics_table(summary_b).assign(Run="B")],
        ignore_index=True,
    )
    first = ["Run", "Level", "Policy", "CTR", "ROAS"]
    return table[first + [c for c in table.columns if c not in first]]


def _noted(fmt, row: dict, metric: str) -> str:
    """A rate's cell: mean and interval, or its value with why it is not that.

    A seed without a conversion has no cost per conversion: the cell is then
    :func:`simulation.metrics.summarize`'s pooled value with its note, "$43.53 (total spend
    / total conversions, no interval: 1 of 2 seeds had no conversion)", not a mean over the
    seeds that had a sale under a label naming them all.
    """
    note = row.get(f"{metric}_note")
    if isinstance(note, str) and note:
        return f"{fmt(row[metric])} ({note})"
    return interval(fmt, row[metric], row[f"{metric}_low"], row[f"{metric}_high"])


def _judged(fmt, row: dict, metric: str, replications: pd.DataFrame) -> str:
    """A metric's cell, its interval refused as the report's and the tiles' are.

    :func:`simulation.interval_words.refused_interval`: "4.41× (no interval: too few
    conversions)" rather than "(0.00× – 432,519.61×)" from a handful of sales.
    """
    if row.get(f"{metric}_note"):  # not a mean over every replication: :func:`_noted`
        return _noted(fmt, row, metric)
    low, high = float(row[f"{metric}_low"]), float(row[f"{metric}_high"])
    note = refused_interval(replications, metric, low, high)
    if note:
        return f"{fmt(row[metric])} (no interval: {note})"
    return interval(fmt, row[metric], low, high)


#: The :func:`metrics_table` columns whose intervals :func:`_judged` may refuse, by metric.
JUDGED_COLUMNS: dict[str, str] = {
    "ctr": "CTR", "roas": "ROAS", "cvr": "Conversion rate", "cpa": "Cost per conversion",
}  # fmt: skip


def metrics_refusal(metrics: pd.DataFrame) -> str:
    """The rule, when a :func:`metrics_table` cell refused its interval; else ``""``.

    It names the columns it judges and that *Regret* (true) keeps its interval, so the
    rule's "more than 100-fold apart" is not read against a regret "13 (0 – 73)".
    """
    columns = [c for c in JUDGED_COLUMNS.values() if c in metrics]
    refused = any("(no interval:" in str(c) for col in columns for c in metrics[col])
    if not refused:
        return ""
    return refusal_rule(
        list(JUDGED_COLUMNS),
        kept="Regret, true (expected), keeps its interval over the replications",
    )


def best_label(best: pd.Series) -> str:
    """``"Thompson sampling, per segment"``: what a :func:`best_row` is."""
    return f"{policy_name(best['policy'])}, {LEVEL_NAMES.get(best['level'], best['level']).lower()}"


def _units(rows: pd.DataFrame, metric: str) -> np.ndarray:
    """Finite values of ``metric`` per unit: per seed, or per world mean with several worlds.

    Returns an ndarray of shape (n_units,).
    """
    values = rows[metric].replace([np.inf, -np.inf], np.nan)
    if "world" in rows and rows["world"].nunique() >= 2:
        values = values.groupby(rows["world"]).mean()
    v = values.to_numpy(dtype=float)
    return v[np.isfinite(v)]


def paired_difference(
    a: pd.DataFrame, b: pd.DataFrame, metric: str, *, paired: bool = True, alpha: float = 0.05
) -> tuple[float, float, float, int]:
    """Mean of ``a[metric] - b[metric]`` and its (1 - alpha) interval.

    Parameters
    ----------
    a, b : DataFrame
        Rows of one (level, policy) of each run: one per seed, with ``seed`` and ``metric``.
    metric : str
    paired : bool, default=True
        Pair rows by ``seed`` (both runs met the same visitors and draws in each
        replication: :func:`simulation.pairing.pairing` decides), take the difference per
        seed and a Student-t interval over the pairs.
        Otherwise Welch's interval for a difference of two independent means. With
        several worlds the unit is the world (seeds of one world share its hidden
        parameters, so they are not independent): the interval is over world means of
        the paired differences, or Welch's over each run's world means.
    alpha : float, default=0.05

    Returns
    -------
    mean, low, high : float
    n : int
        Pairs (paired) or the smaller number of units, seeds or worlds (unpaired).
    """
    if paired:
        # Several worlds: a replication is a (world, seed), not a seed.
        keys = ["world", "seed"] if "world" in a and "world" in b else ["seed"]
        joined = a[[*keys, metric]].merge(b[[*keys, metric]], on=keys, suffixes=("_a", "_b"))
        diffs = (joined[f"{metric}_a"] - joined[f"{metric}_b"]).to_numpy(dtype=float)
        worlds = joined["world"].to_numpy() if "world" in keys else None
        mean, low, high = mean_interval(diffs, alpha, worlds=worlds)
        return mean, low, high, int(np.isfinite(diffs).sum())
    x, y = _units(a, metric), _units(b, metric)
    if x.size == 0 or y.size == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return mean, mean, mean, int(min(x.size, y.size))
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = np.sqrt(vx + vy)
    if se == 0:
        return mean, mean, mean, int(min(x.size, y.size))
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = float(special.stdtrit(df, 1 - alpha / 2) * se)
    return mean, mean - half, mean + half, int(min(x.size, y.size))


def difference_table(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    paired: bool = True,
    best: tuple[tuple[str, str], tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """A − B of the headline metrics for every (level, policy) both runs have.

    Parameters
    ----------
    a, b : DataFrame
        The two runs' summary frames (one row per level, policy and seed).
    paired : bool, default=True
        See :func:`paired_difference`.
    best : ((level, policy), (level, policy)), optional
        Each run's best; adds a first row "Best of A − best of B".

    Returns
    -------
    table : DataFrame
        Columns ``Level``, ``Policy``, then per metric of :data:`HEADLINE_METRICS`
        ``"<name> A − B"`` (mean and 95 % interval), and ``Seeds``.
    """
    groups = []
    if best is not None:
        (la, pa), (lb, pb) = best
        groups.append(("Best of A − best of B", f"{policy_name(pa)} vs {policy_name(pb)}",
                       a[(a["level"] == la) & (a["policy"] == pa)],
                       b[(b["level"] == lb) & (b["policy"] == pb)]))  # fmt: skip
    keys_b = set(map(tuple, b[["level", "policy"]].drop_duplicates().to_numpy()))
    for level, policy in a[["level", "policy"]].drop_duplicates().itertuples(index=False):
        if (level, policy) in keys_b:
            groups.append((LEVEL_NAMES.get(level, level), policy_name(policy),
                           a[(a["level"] == level) & (a["policy"] == policy)],
                           b[(b["level"] == level) & (b["policy"] == policy)]))  # fmt: skip
    rows = []
    for level, policy, rows_a, rows_b in groups:
        row = {"Level": level, "Policy": policy}
        n = 0
        for metric, (name, fmt) in HEADLINE_METRICS.items():
            if metric not in rows_a or metric not in rows_b:
                continue
            mean, low, high, n = paired_difference(rows_a, rows_b, metric, paired=paired)
            row[f"{name} A − B"] = interval(fmt, mean, low, high)
        row["Seeds"] = n
        rows.append(row)
    return pd.DataFrame(rows)


def winners_table(
    table: pd.DataFrame, creatives, segment_names, truth=None, objective: str = "ctr"
) -> pd.DataFrame:
    r"""Each segment's leading creative with reasons, readable: one row per segment.

    Four columns, so that *What differs*, the longest, gets the width: at 1280 px nine
    columns (each number its own) left it 114 px wide and a row 400 px tall. The segment's
    name breaks after its commas, the verdict before its bracket, and *Best vs runner-up*
    gives a line each to the two creatives, their observed rates, the margin, its interval
    and the world's true rates (cells hold "\n" where :func:`markdown_table` breaks).

    The leader is called a winner only in its ``Verdict`` when the margin's interval over
    the seeds excludes 0 (:func:`simulation.winners.winner_verdict`, in the report's words:
    :data:`simulation.store.report.VERDICT_NAMES`).

    Parameters
    ----------
    table : DataFrame
        :func:`simulation.winners.segment_winners`.
    creatives : sequence of sequence of Creative
        The segment level's creatives, ``creatives[segment][arm]``.
    segment_names : sequence of str
    truth : ndarray of shape (n_segments, n_arms), optional
        :func:`simulation.winners.true_segment_rates` (the world's expected rates).
    objective : {"ctr", "roas"}

    Returns
    -------
    leaders : DataFrame of shape (n_segments, 4)
        ``Segment``, ``Verdict``, :data:`PAIR_COLUMN` and :data:`WINNER_LISTS`' *What
        differs* ("nothing" when the two share every component, "–" without a runner-up).
    """
    rate_fmt = (lambda v: pct(v, 3)) if objective == "ctr" else multiple
    margin_fmt = HEADLINE_METRICS["ctr" if objective == "ctr" else "roas"][1]
    name = "CTR" if objective == "ctr" else "ROAS"
    labels = {s: creative_labels(creatives[s]) for s in dict.fromkeys(table["segment"])}
    rows = []
    for r in table.itertuples(index=False):
        win = creatives[r.segment][r.arm]
        lines = [labels[r.segment][r.arm]]
        verdict, differs = "–", "–"
        if r.runner_up >= 0:
            run = creatives[r.segment][r.runner_up]
            code = winner_verdict(r.n_seeds, r.margin_low, getattr(r, "no_events", False))
            verdict = VERDICT_NAMES[code]
            if code == "no events":  # both rates 0: an order, no leader (say why)
                verdict += f" (no {EVENT_WORDS[objective]})"
            lines += [
                f"vs {labels[r.segment][r.runner_up]}",
                f"{name} {rate_fmt(getattr(r, objective))} vs "
                f"{rate_fmt(getattr(r, f'runner_up_{objective}'))} (observed)",
            ]
            # "+0.024 pp (-0.085 pp – +0.134 pp)", or the value alone with one seed.
            margin, drawn, span = interval(
                margin_fmt, r.margin, r.margin_low, r.margin_high
            ).partition(" (")
            lines.append(f"margin {margin}")
            if drawn:
                lines.append(f"(95 %: {span}")
            if truth is not None:
                true_win, true_run = truth[r.segment, r.arm], truth[r.segment, r.runner_up]
                lines.append(f"true {name} {rate_fmt(true_win)} vs {rate_fmt(true_run)} (world)")
            diffs = component_differences(win, run)
            differs = "; ".join(f"{label}: {x} vs {y}" for label, x, y in diffs) or "nothing"
        else:
            lines.append(f"{name} {rate_fmt(getattr(r, objective))} (observed)")
        rows.append(
            {
                "Segment": segment_names[r.segment].replace(", ", ",\n"),
                "Verdict": verdict.replace(" (", "\n(", 1),
                PAIR_COLUMN: "\n".join(lines),
                WINNER_LISTS[0]: differs,
            }
        )
    return pd.DataFrame(rows, columns=["Segment", "Verdict", PAIR_COLUMN, *WINNER_LISTS])


def winners(segment_frame: pd.DataFrame, objective: str = "ctr") -> pd.DataFrame:
    """Per segment, the segment-level creative with the best observed CTR (or ROAS).

    :func:`simulation.winners.segment_winners`: each seed's rate pools its policies, and
    creatives rank by the mean of those rates over seeds (the margin's statistic); columns
    ``segment``, ``arm``, ``impressions``, ``ctr``, ``roas``, the runner-up and the margin.
    """
    return segment_winners(segment_frame, objective)


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
