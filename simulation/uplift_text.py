"""The like-for-like uplift in words and as a table of text, for the app and the HTML report.

Pure functions of :func:`simulation.metrics.like_for_like_uplift` rows (no Streamlit, no
HTML), so the Experiment page (:mod:`ui.uplift`) and the report
(:mod:`simulation.store.report`) say the same thing about the same interval. The rule they
keep: a sentence uses observed values only, never a true one; every interval says what it
covers; the true (expected) uplift has its own labelled column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pandas as pd

__all__ = [
    "LEVEL_NAMES",
    "OBSERVED_COLUMN",
    "TRUE_COLUMN",
    "UPLIFT_METRIC_NAMES",
    "interval_text",
    "signed_pct",
    "uplift_headline",
    "uplift_sentence",
    "uplift_table",
]

#: Uplift metrics as the reader names them.
UPLIFT_METRIC_NAMES: dict[str, str] = {
    "ctr": "CTR", "roas": "ROAS", "conversions": "Conversions", "revenue": "Revenue",
}  # fmt: skip
#: Personalization levels as the reader names them (the app passes its own, longer names).
LEVEL_NAMES: dict[str, str] = {
    "generic": "Generic",
    "segment": "Per segment",
    "user": "Per user",
    "generated": "Generated (composed per impression)",
}
#: Header of the observed uplift (with its interval) and of the true one.
OBSERVED_COLUMN = "Observed uplift (95 % interval)"
TRUE_COLUMN = "True (expected) uplift"


def _bad(value: object) -> bool:
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def signed_pct(value: float | None, digits: int = 1) -> str:
    """A relative change as text: ``0.123`` -> ``"+12.3 %"``; missing -> ``"–"``.

    A change that is not zero keeps a significant digit (up to four decimals): an
    interval ending at ``-0.0004`` reads ``"-0.04 %"``, not ``"-0.0 %"``, which looked
    like zero at the end of an interval that excludes it.

    Examples
    --------
    >>> signed_pct(0.123), signed_pct(-0.0004), signed_pct(0.0), signed_pct(None)
    ('+12.3 %', '-0.04 %', '+0.0 %', '–')
    """
    if _bad(value):
        return "–"
    pct = 100 * float(value)
    while digits < 4 and pct != 0 and round(abs(pct), digits) == 0:
        digits += 1
    return f"{pct:+.{digits}f} %"


def interval_text(fmt: Callable[[float], str], mean: float, low: float, high: float) -> str:
    """``"+12.3 % (+4.0 % – +21.2 %)"``-style text; the mean alone without an interval."""
    if _bad(low) or _bad(high) or low == high:
        return fmt(mean)
    return f"{fmt(mean)} ({fmt(low)} – {fmt(high)})"


def uplift_sentence(
    row: Mapping[str, object] | pd.Series,
    level: str,
    metric: str,
    *,
    level_names: Mapping[str, str] = LEVEL_NAMES,
) -> str:
    """One observed uplift in words: its value, 95 % interval and what the interval covers.

    Parameters
    ----------
    row : mapping or Series
        One row of :func:`simulation.metrics.like_for_like_uplift`: ``observed``,
        ``ci_low``, ``ci_high`` and ``interval_over``.
    level : str
        The personalization level compared with the generic one.
    metric : str
        A key of :data:`UPLIFT_METRIC_NAMES`.
    level_names : mapping, default=LEVEL_NAMES

    Returns
    -------
    sentence : str
        Starts in lower case (a caller may join several). "no detectable difference"
        when the interval covers zero; observed values only.
    """
    name = UPLIFT_METRIC_NAMES[metric]
    who = f"{level_names.get(level, level).lower()} ads"
    if _bad(row["ci_low"]) or _bad(row["ci_high"]):
        pairs = row.get("n_pairs")
        if pairs is not None and not _bad(pairs) and int(pairs) == 0:
            # E.g. a spend cap that stopped every run before a click or a sale.
            return (
                f"{who}: no {name} to compare (over {row['interval_over']}, no replication "
                "where both levels measured any)."
            )
        return (
            f"{who}: {name} {signed_pct(row['observed'])} observed, over "
            f"{row['interval_over']}: one usable replication gives no interval (add seeds or "
            "worlds)."
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


def uplift_headline(
    uplift: pd.DataFrame, objective: str, *, level_names: Mapping[str, str] = LEVEL_NAMES
) -> list[str]:
    """The headline: each level's best policy against the generic level's best, in words.

    Parameters
    ----------
    uplift : DataFrame
        :func:`simulation.metrics.like_for_like_uplift`.
    objective : {"ctr", "roas"}
        The metric the headline speaks of.
    level_names : mapping, default=LEVEL_NAMES

    Returns
    -------
    sentences : list of str
        One per personalization level, capitalized; observed values only. Empty when
        the table is.
    """
    if uplift.empty:
        return []
    best = uplift[uplift["policy"].str.startswith("best (") & (uplift["metric"] == objective)]
    lines = [
        uplift_sentence(row, row["level"], objective, level_names=level_names)
        for _, row in best.iterrows()
    ]
    return [line[0].upper() + line[1:] for line in lines]


def _observed(r) -> str:
    """Observed uplift with its interval, or why there is none (too few usable pairs)."""
    if _bad(r.ci_low) or _bad(r.ci_high):
        n = int(getattr(r, "n_pairs", 0) or 0)
        return f"{signed_pct(r.observed)} (no interval: {n} usable pair{'s' * (n != 1)})"
    return interval_text(signed_pct, r.observed, r.ci_low, r.ci_high)


def _baseline(baseline: str, policy_name: Callable[[str], str]) -> str:
    # "generic · epsilon_greedy" -> "Generic · ε-greedy"; "generic · best (thompson)" ->
    # "Generic · best (Thompson sampling)": the policies named as in the Policy column.
    level, sep, spec = baseline.partition(" · ")
    if not sep:
        return baseline
    if spec.startswith("best (") and spec.endswith(")"):
        who = f"best ({policy_name(spec[len('best (') : -1])})"
    else:
        who = policy_name(spec)
    return f"{level[:1].upper()}{level[1:]} · {who}"


def uplift_table(
    uplift: pd.DataFrame,
    *,
    level_names: Mapping[str, str] = LEVEL_NAMES,
    policy_name: Callable[[str], str] = str,
) -> pd.DataFrame:
    """The uplift table as text: observed with its interval, then the true (expected) uplift.

    Parameters
    ----------
    uplift : DataFrame
        :func:`simulation.metrics.like_for_like_uplift` (n_rows rows).
    level_names : mapping, default=LEVEL_NAMES
    policy_name : callable, default=str
        Readable name of a policy spec; ``best (SPEC)`` rows keep their ``best (...)``.

    Returns
    -------
    table : DataFrame of n_rows rows
        Columns ``Level``, ``Policy``, ``Compared with``, ``Metric``,
        :data:`OBSERVED_COLUMN`, :data:`TRUE_COLUMN`, ``Interval over``. An observed
        uplift without an interval (fewer than two replications where both sides are
        above zero) says so and how many pairs it rests on.
    """
    return pd.DataFrame(
        {
            "Level": [level_names.get(v, v) for v in uplift["level"]],
            "Policy": [policy_name(v) for v in uplift["policy"]],
            "Compared with": [_baseline(v, policy_name) for v in uplift["baseline"]],
            "Metric": [UPLIFT_METRIC_NAMES.get(v, v) for v in uplift["metric"]],
            OBSERVED_COLUMN: [_observed(r) for r in uplift.itertuples(index=False)],
            TRUE_COLUMN: [signed_pct(v) for v in uplift["expected"]],
            "Interval over": list(uplift["interval_over"]),
        }
    )
