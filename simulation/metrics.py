"""Funnel metrics and intervals: pure functions, arrays in, numbers out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "METRIC_BOUNDS",
    "MIN_UPLIFT_EVENTS",
    "NONNEGATIVE_TOTALS",
    "RATE_METRICS",
    "UPLIFT_COLUMNS",
    "UPLIFT_COUNTS",
    "UPLIFT_METRICS",
    "add_rates",
    "bounded_interval",
    "check_alpha",
    "interval_over",
    "like_for_like_uplift",
    "mean_interval",
    "safe_ratio",
    "summarize",
]

#: Rates derived from the totals, with their numerator and denominator.
RATE_METRICS: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "impressions"),
    "cvr": ("conversions", "clicks"),
    "cpa": ("spend", "conversions"),
    "roas": ("revenue", "spend"),
}


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with NaN where the denominator is 0.

    Parameters
    ----------
    numerator, denominator : array-like of the same shape

    Returns
    -------
    ratio : ndarray of float, same shape
    """
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    with np.errstate(over="ignore"):  # tiny denominators give inf, which is right
        np.divide(num, den, out=out, where=den != 0)
    return out


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``ctr``, ``cvr``, ``cpa`` and ``roas`` columns computed from the totals.

    Parameters
    ----------
    frame : DataFrame
        With the totals of :data:`RATE_METRICS` (``impressions``, ``clicks``,
        ``conversions``, ``spend``, ``revenue``), one row per replication or cell.

    Returns
    -------
    DataFrame
        A copy with the four rates (NaN where the denominator is 0, see :func:`safe_ratio`).
    """
    out = frame.copy()
    for name, (num, den) in RATE_METRICS.items():
        out[name] = safe_ratio(out[num].to_numpy(), out[den].to_numpy())
    return out


#: Range of each rate and ratio: intervals of these are built on a scale that keeps them in it.
METRIC_BOUNDS: dict[str, tuple[float, float | None]] = {
    "ctr": (0.0, 1.0),
    "cvr": (0.0, 1.0),
    "cpa": (0.0, None),
    "roas": (0.0, None),
}

#: Totals that are never negative (regret: expected reward lost against each impression's
#: best, zero at best): their Student-t interval is cut at zero. The cut keeps the
#: interval's coverage (the true mean is not negative either) and, unlike the log scale
#: of the ratios, leaves its upper end where the replications put it.
NONNEGATIVE_TOTALS: frozenset[str] = frozenset({"regret"})


def bounded_interval(
    mean: np.ndarray,
    std: np.ndarray,
    n: np.ndarray,
    alpha: float = 0.05,
    bounds: tuple[float, float | None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval of a mean from its replications' spread, kept inside ``bounds``.

    Without bounds, ``mean ± t * std / sqrt(n)``. With ``(0, None)`` the interval
    is built on the log scale, with ``(0, 1)`` on the logit scale (the delta
    method: the standard error is divided by the transform's slope at the
    mean), then mapped back: it contains the mean and never leaves the range.
    A mean on a bound (every replication there) gives a zero-width interval.

    Parameters
    ----------
    mean, std : ndarray of shape (n_groups,)
        Mean and sample standard deviation (ddof=1) of each group's replications.
    n : ndarray of shape (n_groups,)
        Replications per group; with fewer than two the interval is the mean itself.
    alpha : float, default=0.05
        1 - confidence level.
    bounds : (float, float or None) or None, default=None
        ``(0, None)`` for positive quantities, ``(0, 1)`` for probabilities.

    Returns
    -------
    low, high : ndarray of shape (n_groups,)
    """
    check_alpha(alpha)
    mean = np.asarray(mean, dtype=np.float64)
    std = np.nan_to_num(np.asarray(std, dtype=np.float64))
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n > 1, special.stdtrit(np.maximum(n - 1, 1), 1 - alpha / 2), 0.0)
        se = t * std / np.sqrt(np.maximum(n, 1))
        if bounds is None:
            return mean - se, mean + se
        if bounds not in ((0.0, None), (0.0, 1.0)):
            raise ValueError(f"`bounds` must be None, (0, None) or (0, 1); got {bounds!r}.")
        if bounds[1] is None:
            centre, slope = np.log(mean), mean
            low, high = np.exp(centre - se / slope), np.exp(centre + se / slope)
        else:
            centre, slope = special.logit(mean), mean * (1.0 - mean)
            low, high = special.expit(centre - se / slope), special.expit(centre + se / slope)
        # On a bound the transform is infinite and every replication sits there.
        edge = ~(slope > 0) | (se == 0)
    return np.where(edge, mean, low), np.where(edge, mean, high)


def mean_interval(
    values: np.ndarray,
    alpha: float = 0.05,
    *,
    bounds: tuple[float, float | None] | None = None,
    worlds: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval of replications, clustered by world.

    Seeds of one world share its hidden response parameters and creatives, so
    they are not independent draws of what a world does: their values cluster.
    When the replications come from two or more worlds, the world is the unit:
    each world's finite values are averaged first and the interval is taken over
    the world means (``df = n_worlds - 1``); the mean is the mean of the world
    means (the overall mean when every world has as many finite values). With
    one world (or ``worlds=None``) the seeds are the unit.

    Parameters
    ----------
    values : ndarray of shape (n_replications,)
        One value per replication (seed, or seed and world); NaNs are ignored.
    alpha : float, default=0.05
        1 - confidence level, in (0, 1).
    bounds : (float, float or None) or None, default=None
        Range of the quantity: ``(0, None)`` (log scale) or ``(0, 1)`` (logit
        scale) keeps the interval inside it (see :func:`bounded_interval`).
    worlds : array-like of shape (n_replications,) or None, default=None
        World of each replication. The unit is chosen from these labels, not
        from which values are finite: a run in two worlds whose second world
        has no finite value gets no interval rather than one over seeds that
        would not cover world-to-world variation.

    Returns
    -------
    mean, low, high : float
        With fewer than two finite units (world means, or values) the interval
        is (mean, mean) for one and all NaN for none.
    """
    # alpha=2 gave (mean, -inf, inf) and a 2-d array was flattened into one sample.
    check_alpha(alpha)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(
            f"`values` must be a 1-d array, one value per replication; got shape {v.shape}."
        )
    if worlds is not None:
        w = np.asarray(worlds)
        if w.shape != v.shape:
            raise ValueError(f"`worlds` must have the shape of `values` {v.shape}; got {w.shape}.")
        if np.unique(w).size >= 2:
            v = _world_means(v, w)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(v.mean())
    if v.size == 1:
        return (mean, mean, mean)
    low, high = bounded_interval(
        np.array([mean]), np.array([v.std(ddof=1)]), np.array([v.size]), alpha, bounds
    )
    return (mean, float(low[0]), float(high[0]))


def _world_means(values: np.ndarray, worlds: np.ndarray) -> np.ndarray:
    """Mean of each world's finite ``values``, NaN for a world with none.

    ``values`` and ``worlds`` have shape (n_replications,); the result (n_worlds,).
    """
    labels, index = np.unique(worlds, return_inverse=True)
    ok = np.isfinite(values)
    sums = np.bincount(index[ok], weights=values[ok], minlength=labels.size)
    counts = np.bincount(index[ok], minlength=labels.size)
    return safe_ratio(sums, counts)


def summarize(
    summary: pd.DataFrame,
    metrics: tuple[str, ...] = ("ctr", "cvr", "cpa", "roas", "regret"),
    *,
    by: tuple[str, ...] = ("level", "policy"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean and (1 - alpha) interval across replications of every metric.

    With several worlds the interval is over world means (each world's seeds
    averaged first; see :func:`mean_interval`), with one over seeds. Rates and
    ratios (:data:`METRIC_BOUNDS`) get intervals that stay in their range; those
    of :data:`NONNEGATIVE_TOTALS` are cut at zero.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, seed) (and world), as from
        :meth:`simulation.engine.core.ExperimentResult.summary_frame`.
    metrics : tuple of str
        Columns to aggregate (missing ones are skipped).
    by : tuple of str
        Grouping columns.
    alpha : float, default=0.05

    Returns
    -------
    table : DataFrame
        One row per group, columns ``METRIC``, ``METRIC_low``, ``METRIC_high``,
        plus ``n_seeds`` (replications in the group: seeds × worlds) and, when
        ``summary`` has a ``seed`` column, ``interval_over`` (what the intervals
        cover, e.g. "3 seeds × 1 world" or "2 worlds (3 seeds each)"). Each rate of
        :data:`RATE_METRICS` also has ``METRIC_note``: empty, or why its value is not
        the mean over every replication. A rate with no value in some replication (a
        seed without a conversion has no cost per conversion) is the pooled ratio of
        the totals (total spend / total conversions) with no interval, when ``summary``
        has them; without them, the mean over the replications that have one.
    """
    check_alpha(alpha)
    rows = []
    present = [m for m in metrics if m in summary.columns]
    over = interval_over(summary) if "seed" in summary.columns else None
    for key, group in summary.groupby(list(by), sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row["n_seeds"] = int(group.shape[0])
        if over is not None:
            row["interval_over"] = over
        worlds = group["world"].to_numpy() if "world" in group.columns else None
        for m in present:
            row[m], row[f"{m}_low"], row[f"{m}_high"] = mean_interval(
                group[m].to_numpy(), alpha, bounds=METRIC_BOUNDS.get(m), worlds=worlds
            )
            if m in NONNEGATIVE_TOTALS:
                row[f"{m}_low"] = max(row[f"{m}_low"], 0.0)
            if m in RATE_METRICS:
                row[f"{m}_note"] = ""
                undefined = ~np.isfinite(group[m].to_numpy(dtype=np.float64))
                if undefined.any():
                    _undefined_rate(row, group, m, undefined)
        rows.append(row)
    return pd.DataFrame(rows)


#: How a rate's denominator reads in a note when a replication had none of it.
_NONE_OF: dict[str, tuple[str, str]] = {
    "impressions": ("impression", "impressions"),
    "clicks": ("click", "clicks"),
    "conversions": ("conversion", "conversions"),
    "spend": ("spend", "spend"),
}


def _undefined_rate(row: dict, group: pd.DataFrame, metric: str, undefined: np.ndarray) -> None:
    """Set ``row``'s ``metric`` when some replications have no value (a zero denominator).

    A mean over only the replications that have a value, under a label naming all of them,
    overstates what they show: a cost per conversion averaged over the one seed of two that
    had a sale halves the cost. With the totals at hand the value is the pooled ratio over
    every replication (total spend / total conversions), which is what the replications
    together cost, with no interval (there is no per-replication value for the spread);
    without them, the mean over the replications that have one, saying how many. With no
    value in any, NaN, saying why. ``{metric}_note`` says which.

    ``undefined`` is a bool array of shape (n_replications,).
    """
    num, den = RATE_METRICS[metric]
    n, k = undefined.size, int(undefined.sum())
    unit = "replications" if "world" in group and group["world"].nunique() >= 2 else "seeds"
    one, many = _NONE_OF.get(den, (den, den))
    if k == n:
        row[metric] = row[f"{metric}_low"] = row[f"{metric}_high"] = np.nan
        row[f"{metric}_note"] = f"no {many} in any of the {n} {unit}" if n > 1 else f"no {many}"
        return
    if num in group and den in group:
        row[metric] = float(safe_ratio(group[num].sum(), group[den].sum()))
        row[f"{metric}_low"] = row[f"{metric}_high"] = np.nan
        row[f"{metric}_note"] = (
            f"total {num} / total {den}, no interval: {k} of {n} {unit} had no {one}"
        )
        return
    row[f"{metric}_note"] = f"mean over the {n - k} of {n} {unit} with a {one}"


def interval_over(summary: pd.DataFrame) -> str:
    """What intervals across ``summary``'s replications cover, naming their unit.

    One world: "3 seeds × 1 world" (the seeds are the unit). Several: "2 worlds
    (3 seeds each)": the interval is over the world means (:func:`mean_interval`).

    Parameters
    ----------
    summary : DataFrame
        With a ``seed`` column, and a ``world`` column when several worlds were run.

    Returns
    -------
    text : str
    """
    n_worlds = int(summary["world"].nunique()) if "world" in summary.columns else 1
    n_seeds = int(summary["seed"].nunique()) if len(summary) else 0
    seeds = f"{n_seeds} seed{'s' * (n_seeds != 1)}"
    if n_worlds >= 2:
        return f"{n_worlds} worlds ({seeds} each)"
    return f"{seeds} × {n_worlds} world{'s' * (n_worlds != 1)}"


#: Metrics of :func:`like_for_like_uplift`: observed (numerator, denominator) and the
#: expected (true) column with its denominator (None: the column is already a rate).
UPLIFT_METRICS: dict[str, tuple[tuple[str, str], tuple[str, str | None]]] = {
    "ctr": (("clicks", "impressions"), ("expected_ctr", None)),
    "roas": (("revenue", "spend"), ("expected_roas", None)),
    "conversions": (("conversions", "impressions"), ("expected_conversions", "impressions")),
    "revenue": (("revenue", "impressions"), ("expected_revenue", "impressions")),
}

#: The events each uplift metric's observed value is made of: a ROAS or revenue ratio moves
#: only when a sale does, so conversions are what it rests on.
UPLIFT_COUNTS: dict[str, str] = {
    "ctr": "clicks", "roas": "conversions", "conversions": "conversions",
    "revenue": "conversions",
}  # fmt: skip

#: Fewest events (:data:`UPLIFT_COUNTS`) on each side of every replication for an uplift
#: interval. A count of n has a relative standard error near 1/sqrt(n) (about 32 % at 10);
#: below 10 the paired log ratios take a few discrete values (4 -> 8 and 2 -> 4 are both
#: exactly 2), so a handful of seeds can agree exactly (an interval of zero width) or
#: straddle a range of thousands of percent, and the Student-t interval means nothing.
MIN_UPLIFT_EVENTS = 10

#: Columns of :func:`like_for_like_uplift`'s table (``uplift.csv``).
UPLIFT_COLUMNS: tuple[str, ...] = (
    "level", "policy", "baseline", "metric", "observed", "ci_low", "ci_high", "expected",
    "n_pairs", "interval_over", "interval_note",
)  # fmt: skip


def _paired_log_ratios(level: dict, base: dict, num: str, den: str | None) -> np.ndarray:
    """Per-replication log(level / baseline) of ``num / den``, NaN unless both are > 0.

    ``level`` and ``base`` map column names to aligned arrays of shape (n_pairs,);
    the result has that shape, so it stays aligned with the pairs' worlds.
    """

    def value(columns):
        v = columns[num]
        return v if den is None else safe_ratio(v, columns[den])

    a, b = value(level), value(base)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    out = np.full(a.shape, np.nan)
    out[ok] = np.log(a[ok]) - np.log(b[ok])
    return out


def _relative_interval(
    logs: np.ndarray, alpha: float, worlds: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Geometric-mean relative change and its t interval, through the log (stays above -1).

    ``logs`` and ``worlds`` (None: one world) have shape (n_pairs,); the interval is
    over world means with several worlds (:func:`mean_interval`), NaN with fewer than
    two usable units.
    """
    mean, low, high = mean_interval(logs, alpha, worlds=worlds)
    ok = np.isfinite(logs)
    several = worlds is not None and np.unique(worlds).size >= 2
    units = np.unique(worlds[ok]).size if several else int(ok.sum())
    if units < 2:
        low = high = np.nan
    return tuple(float(np.expm1(x)) for x in (mean, low, high))


def _interval_note(
    level: dict, base: dict, metric: str, logs: np.ndarray, low: float, names: tuple[str, str]
) -> str:
    """Why an uplift interval would mislead, or ``""`` when it stands.

    ``level`` and ``base`` are the aligned replications' columns (arrays of shape
    (n_pairs,)); ``logs`` their paired log ratios; ``names`` the baseline's level and
    the compared one's, as the note names them. Too few events behind the ratio in any
    replication (:data:`MIN_UPLIFT_EVENTS`) or replications that all agree exactly (zero
    spread: no measure of the uncertainty at all) give a note and, in the caller, no
    interval. Only the replications the interval uses count (those with a positive value
    on both sides); one with none on a side drops out as before.
    """
    count = UPLIFT_COUNTS[metric]
    used = np.isfinite(logs)  # a replication with none on a side already drops out
    if count in level and count in base and used.any():
        mine, theirs = level[count][used], base[count][used]
        worst = int(np.argmin(np.minimum(mine, theirs)))
        if min(mine[worst], theirs[worst]) < MIN_UPLIFT_EVENTS:
            return (
                f"too few {count} for an interval: {theirs[worst]:g} vs {mine[worst]:g} "
                f"({names[0]} vs {names[1]}) in one replication; it needs at least "
                f"{MIN_UPLIFT_EVENTS} a side"
            )
    ok = logs[used]
    if ok.size >= 2 and np.isfinite(low) and np.ptp(ok) <= 1e-12 * max(1.0, np.abs(ok).max()):
        return "every replication gave the same ratio: no spread to measure an interval from"
    return ""


def check_alpha(alpha: object) -> float:
    """``alpha`` (1 - confidence level) as a float in (0, 1), or a ValueError saying so.

    ``alpha=2`` gave an interval of [-100 %, inf] and ``True`` one of zero width.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating):
        raise ValueError(f"`alpha` must be a float in (0, 1); got {alpha!r}.")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"`alpha` must be a float in (0, 1); got {alpha!r}.")
    return float(alpha)


def like_for_like_uplift(
    summary: pd.DataFrame,
    *,
    objective: str = "ctr",
    baseline_level: str = "generic",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Uplift of each personalization level over the baseline level, paired like for like.

    The same policy (and, separately, each level's best policy) at a level is
    compared with the same policy (the best policy) at ``baseline_level``,
    replication by replication: the engine plays every level on the same users
    and the same random draws, so each replication gives one paired ratio. The
    observed uplift is the geometric mean of the paired ratios minus one; its
    interval is a Student-t interval of the paired log ratios, transformed
    back, so it never goes below -100 %. With one world the interval is over
    seeds; with several it is over the world means of the log ratios (seeds
    within a world share its hidden parameters and creatives, so their ratios
    cluster and are not independent), and the observed uplift is the mean of
    the world means. ``expected`` is the same comparison on the true (expected)
    values, averaged the same way, labelled as such.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, replication), as from
        :meth:`simulation.engine.ExperimentResult.summary_frame`: columns
        ``level``, ``policy``, ``seed`` (and ``world`` when several worlds were
        run), the totals and the expected columns of :data:`UPLIFT_METRICS`
        (a missing expected column gives NaN in ``expected``).
    objective : {"ctr", "roas"}, default="ctr"
        Picks each level's best policy (highest mean observed value), never a reference
        that reads the truth (:func:`simulation.references.is_reference`).
    baseline_level : str, default="generic"
    alpha : float, default=0.05
        1 - confidence level.

    Returns
    -------
    table : DataFrame
        Columns :data:`UPLIFT_COLUMNS`; ``observed``, ``ci_low``, ``ci_high``
        and ``expected`` are relative changes (0.18 means +18 %). ``ci_low`` and
        ``ci_high`` are NaN, and ``interval_note`` says why, when a replication has
        fewer than :data:`MIN_UPLIFT_EVENTS` events behind the metric
        (:data:`UPLIFT_COUNTS`) on either side or every replication gave the same
        ratio; ``interval_note`` is ``""`` otherwise. Empty when the baseline level
        was not run.
    """
    check_alpha(alpha)
    keys = ["world", "seed"] if "world" in summary.columns else ["seed"]
    over = interval_over(summary)
    levels = [lv for lv in dict.fromkeys(summary["level"]) if lv != baseline_level]
    if baseline_level not in set(summary["level"]) or not levels:
        return pd.DataFrame(columns=list(UPLIFT_COLUMNS))
    num, den = UPLIFT_METRICS[objective][0]
    # One pass over the summary: each (level, policy)'s replications, sorted, as
    # arrays (filtering the frame per pair cost a sweep more than its runs).
    columns = [c for pair in UPLIFT_METRICS.values() for c in (*pair[0], *pair[1])]
    columns = [c for c in dict.fromkeys(columns) if c is not None and c in summary.columns]
    columns += ["world"] if "world" in summary.columns else []
    data = {c: summary[c].to_numpy(dtype=np.float64) for c in columns}
    replication = list(zip(*(summary[k].tolist() for k in keys)))
    members: dict[tuple[str, str], list[int]] = {}
    for i, group in enumerate(zip(summary["level"].tolist(), summary["policy"].tolist())):
        members.setdefault(group, []).append(i)
    groups: dict[tuple[str, str], tuple[dict, dict]] = {}
    scores: dict[tuple[str, str], float] = {}  # the objective's mean, rows in given order
    for group, index in members.items():
        scores[group] = float(np.nanmean(safe_ratio(data[num][index], data[den][index])))
        index = sorted(index, key=lambda i: replication[i])
        arrays = {c: v[index] for c, v in data.items()}
        groups[group] = ({replication[i]: n for n, i in enumerate(index)}, arrays)

    def policies_of(level: str) -> list[str]:
        return [p for lv, p in groups if lv == level]

    def best_policy(level: str) -> str | None:
        # A reference (the oracle) reads the truth: no marketer can choose it, so it is
        # never a level's best; a level that ran only references has no best. Imported
        # here: the registries load the policies' compiled kernels, which the metrics
        # themselves never need.
        from simulation.references import is_reference

        names = [p for p in policies_of(level) if not is_reference(p)]
        if not names:
            return None
        return names[int(np.nanargmax([scores[(level, p)] for p in names]))]

    def aligned(mine: tuple[str, str], theirs: tuple[str, str]) -> tuple[dict, dict] | None:
        (pos_a, a), (pos_b, b) = groups[mine], groups[theirs]
        common = [r for r in pos_a if r in pos_b]
        if not common:
            return None
        ia = np.array([pos_a[r] for r in common], dtype=np.intp)
        ib = np.array([pos_b[r] for r in common], dtype=np.intp)
        return {c: v[ia] for c, v in a.items()}, {c: v[ib] for c, v in b.items()}

    pairs = []
    for level in levels:
        for policy in policies_of(level):
            pairs.append((level, policy, policy, policy))
        best, base_best = best_policy(level), best_policy(baseline_level)
        if best is not None and base_best is not None:
            pairs.append((level, f"best ({best})", f"best ({base_best})", (best, base_best)))
    out = []
    for level, label, base_label, policy in pairs:
        mine, theirs = policy if isinstance(policy, tuple) else (policy, policy)
        if (baseline_level, theirs) not in groups:
            continue
        both = aligned((level, mine), (baseline_level, theirs))
        if both is None:
            continue
        a, b = both
        worlds = a.get("world")
        for metric, ((o_num, o_den), (e_col, e_den)) in UPLIFT_METRICS.items():
            logs = _paired_log_ratios(a, b, o_num, o_den)
            observed, low, high = _relative_interval(logs, alpha, worlds)
            note = _interval_note(a, b, metric, logs, low, (baseline_level, level))
            if note:  # a point or an absurd range would read as a measured uncertainty
                low = high = np.nan
            expected = np.nan
            if e_col in a:
                e_logs = _paired_log_ratios(a, b, e_col, e_den)
                expected = float(np.expm1(mean_interval(e_logs, worlds=worlds)[0]))
            out.append(
                {
                    "level": level,
                    "policy": label,
                    "baseline": f"{baseline_level} · {base_label}",
                    "metric": metric,
                    "observed": observed,
                    "ci_low": low,
                    "ci_high": high,
                    "expected": expected,
                    "n_pairs": int(np.isfinite(logs).sum()),
                    "interval_over": over,
                    "interval_note": note,
                }
            )
    return pd.DataFrame(out, columns=list(UPLIFT_COLUMNS))
