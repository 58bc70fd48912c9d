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

from simulation import display
from simulation.interval_words import note_reason, one_replication
from simulation.references import is_reference

__all__ = [
    "LEVEL_NAMES",
    "OBSERVED_COLUMN",
    "ONE_WORLD_CAVEAT",
    "TRUE_COLUMN",
    "UPLIFT_METRIC_NAMES",
    "interval_text",
    "signed_pct",
    "uplift_headline",
    "uplift_sentence",
    "uplift_table",
    "world_caveat",
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
#: Said after the headline of a one-world run: its seeds share the world's creatives and
#: users, so its interval cannot cover how lucky that draw was (a world where
#: personalization does nothing can still show an uplift from its creatives' content).
ONE_WORLD_CAVEAT = (
    "One world: the interval covers the seeds' random draws, not the world's own creatives "
    "and users; run several worlds (--worlds, or the app's Worlds setting) to cover them."
)


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


def _subject(
    row: Mapping[str, object] | pd.Series,
    level: str,
    level_names: Mapping[str, str],
    policies: tuple[str, str] | None,
) -> tuple[str, str, str]:
    """The subject, the baseline and a closing note of a sentence that names its policies.

    Without ``policies``, the baseline is not named (the sentence is the old, like-for-like
    one). With the same policy at both levels, it is said once; with two different ones,
    the note says the comparison is of each level's best, not like for like.
    """
    mine = f"{level_names.get(level, level).lower()} ads"
    if policies is None:
        return mine, "", ""
    base_level = str(row.get("baseline", "generic")).partition(" · ")[0]
    theirs = f"{level_names.get(base_level, base_level).lower()} ads"
    own, base = policies
    if own == base:
        return mine, f"{theirs}, both with {own}", ""
    return (
        f"{mine} with {own}",
        f"{theirs} with {base}",
        "; each level's best policy, not like for like",
    )


def uplift_sentence(
    row: Mapping[str, object] | pd.Series,
    level: str,
    metric: str,
    *,
    level_names: Mapping[str, str] = LEVEL_NAMES,
    policies: tuple[str, str] | None = None,
    interval_noted: bool = False,
) -> str:
    """One observed uplift in words: its value, 95 % interval and what the interval covers.

    Parameters
    ----------
    row : mapping or Series
        One row of :func:`simulation.metrics.like_for_like_uplift`: ``observed``,
        ``ci_low``, ``ci_high`` and ``interval_over`` (and ``baseline`` when
        ``policies`` is given).
    level : str
        The personalization level compared with the generic one.
    metric : str
        A key of :data:`UPLIFT_METRIC_NAMES`.
    level_names : mapping, default=LEVEL_NAMES
    policies : (str, str) or None, default=None
        Readable names of the level's policy and the baseline's: the sentence then names
        both (once, when they are the same) and says when they differ that the comparison
        is of each level's best, not like for like.
    interval_noted : bool, default=False
        The caller says once, beside the sentences, that no interval is drawn and what
        the values are over (:func:`simulation.interval_words.headline_note`, one
        replication): a sentence without an interval then gives its observed value
        alone, not why it has none (each sentence of a one-seed headline said "one
        usable replication gives no interval").

    Returns
    -------
    sentence : str
        Starts in lower case (a caller may join several). "no detectable difference"
        when the interval covers zero; observed values only.
    """
    name = UPLIFT_METRIC_NAMES[metric]
    who, against, note = _subject(row, level, level_names, policies)
    pair = f"{who} vs {against}" if against else who
    pairs = row.get("n_pairs")
    measured = pairs is None or _bad(pairs) or int(pairs) > 0
    if interval_noted and measured and (_bad(row["ci_low"]) or _bad(row["ci_high"])):
        return f"{pair}: {name} {signed_pct(row['observed'])} observed{note}."
    if _bad(row["ci_low"]) or _bad(row["ci_high"]):
        pairs = row.get("n_pairs")
        if pairs is not None and not _bad(pairs) and int(pairs) == 0:
            # E.g. a spend cap that stopped every run before a click or a sale.
            return (
                f"{pair}: no {name} to compare (over {row['interval_over']}, no replication "
                f"where both levels measured any){note}."
            )
        if _note(row):  # too few events, or replications that all agree exactly
            return (
                f"{pair}: {name} {signed_pct(row['observed'])} observed, over "
                f"{row['interval_over']}; {_note(row)}{note}."
            )
        # With several worlds the interval's unit is the world ("2 worlds (3 seeds each)").
        if "worlds (" in str(row["interval_over"]):
            unit, more = "world", "worlds"
        else:
            unit, more = "replication", "seeds or worlds"
        return (
            f"{pair}: {name} {signed_pct(row['observed'])} observed, over "
            f"{row['interval_over']}: one usable {unit} gives no interval (add {more}){note}."
        )
    span = f"95 % interval {signed_pct(row['ci_low'])} to {signed_pct(row['ci_high'])}"
    if row["ci_low"] <= 0.0 <= row["ci_high"]:
        return (
            f"{pair}: no detectable difference in {name} (observed "
            f"{signed_pct(row['observed'])}, {span}, over {row['interval_over']}){note}."
        )
    verb = "raised" if row["observed"] > 0 else "lowered"
    over = f" over {against}" if against else ""
    return (
        f"{who} {verb} {name} by {signed_pct(abs(row['observed']))[1:]}{over} "
        f"({span}, over {row['interval_over']}){note}."
    )


def _best_of(label: object) -> str:
    """``"best (thompson)"`` -> ``"thompson"``; ``"generic · best (x)"`` -> ``"x"``."""
    text = str(label).partition(" · ")[2] or str(label)
    return text[len("best (") : -1] if text.startswith("best (") else text


def uplift_headline(
    uplift: pd.DataFrame,
    objective: str,
    *,
    level_names: Mapping[str, str] = LEVEL_NAMES,
    policy_name: Callable[[str], str] = display.policy_name,
    interval_noted: bool = False,
) -> list[str]:
    """The headline: each level's best policy against the generic level's best, in words.

    Each sentence names the two policies it compares. A reference that reads the truth
    (the oracle) is never a best: a row naming one (a table saved before the rule) is left
    out, so a level that ran only references has no sentence.

    Parameters
    ----------
    uplift : DataFrame
        :func:`simulation.metrics.like_for_like_uplift`.
    objective : {"ctr", "roas"}
        The metric the headline speaks of.
    level_names : mapping, default=LEVEL_NAMES
    policy_name : callable, default=simulation.display.policy_name
        Readable name of a policy spec.
    interval_noted : bool, default=False
        See :func:`uplift_sentence`: the caller shows
        :func:`simulation.interval_words.headline_note` once instead.

    Returns
    -------
    sentences : list of str
        One per personalization level, capitalized; observed values only. Empty when
        the table is.
    """
    if uplift.empty:
        return []
    best = uplift[uplift["policy"].str.startswith("best (") & (uplift["metric"] == objective)]
    lines = []
    for _, row in best.iterrows():
        own, base = _best_of(row["policy"]), _best_of(row["baseline"])
        if is_reference(own) or is_reference(base):
            continue
        pair = (policy_name(own), policy_name(base))
        sentence = uplift_sentence(
            row, row["level"], objective, level_names=level_names, policies=pair,
            interval_noted=interval_noted,
        )  # fmt: skip
        lines.append(sentence)
    return [line[0].upper() + line[1:] for line in lines]


def world_caveat(summary: pd.DataFrame) -> str | None:
    """:data:`ONE_WORLD_CAVEAT` when ``summary`` comes from one world, else None.

    None too for one replication (one seed in one world): there is no interval to say
    what it covers, and the headline already says so.

    Parameters
    ----------
    summary : DataFrame
        One row per (level, policy, replication); a ``world`` column when several worlds
        were run.

    Returns
    -------
    caveat : str or None
    """
    n_worlds = int(summary["world"].nunique()) if "world" in summary.columns else 1
    return ONE_WORLD_CAVEAT if n_worlds <= 1 and not one_replication(summary) else None


def _note(row) -> str:
    """The row's ``interval_note`` (why it has no interval), ``""`` if none or not stored."""
    note = row.get("interval_note") if hasattr(row, "get") else getattr(row, "interval_note", "")
    return note if isinstance(note, str) else ""  # a CSV's empty cell reads back as NaN


#: The column that gives the whole reason an observed uplift has no interval (a table of
#: runs with too few events or no spread only): its cell says why in short, so the columns
#: after it stay on screen.
WHY_COLUMN = "Why no interval"


def _observed(r, interval_noted: bool = False) -> str:
    """Observed uplift with its interval, or why there is none (too few events or pairs).

    ``interval_noted``: one replication, which one note says draws no interval; the value
    stands alone (48 cells of "(no interval: 1 usable pair)" under a header "Observed"
    repeated what the note said).
    """
    if interval_noted:
        return signed_pct(r.observed)
    if _note(r):
        return f"{signed_pct(r.observed)} (no interval: {note_reason(_note(r))})"
    if _bad(r.ci_low) or _bad(r.ci_high):
        n = int(getattr(r, "n_pairs", 0) or 0)
        return f"{signed_pct(r.observed)} (no interval: {n} usable pair{'s' * (n != 1)})"
    return interval_text(signed_pct, r.observed, r.ci_low, r.ci_high)


def _policy(spec: str, policy_name: Callable[[str], str]) -> str:
    """``"best (lin_ucb)"`` -> ``"best (LinUCB (contextual))"``; a plain spec by its name."""
    if spec.startswith("best (") and spec.endswith(")"):
        return f"best ({policy_name(spec[len('best (') : -1])})"
    return policy_name(spec)


def _baseline(baseline: str, policy_name: Callable[[str], str]) -> str:
    # "generic · epsilon_greedy" -> "Generic · ε-greedy"; "generic · best (thompson)" ->
    # "Generic · best (Thompson sampling)": the policies named as in the Policy column.
    level, sep, spec = baseline.partition(" · ")
    if not sep:
        return baseline
    return f"{level[:1].upper()}{level[1:]} · {_policy(spec, policy_name)}"


def uplift_table(
    uplift: pd.DataFrame,
    *,
    level_names: Mapping[str, str] = LEVEL_NAMES,
    policy_name: Callable[[str], str] = str,
    interval_noted: bool = False,
) -> pd.DataFrame:
    """The uplift table as text: observed with its interval, then the true (expected) uplift.

    Parameters
    ----------
    uplift : DataFrame
        :func:`simulation.metrics.like_for_like_uplift` (n_rows rows).
    level_names : mapping, default=LEVEL_NAMES
    policy_name : callable, default=str
        Readable name of a policy spec; ``best (SPEC)`` rows read ``best (NAME)``, in the
        Policy column as in Compared with.
    interval_noted : bool, default=False
        The run has one replication (:func:`simulation.interval_words.one_replication`)
        and the page says so once: each observed cell gives its value alone and no
        :data:`WHY_COLUMN` is added (the reason there is no interval is the one
        replication, whatever else its events would say).

    Returns
    -------
    table : DataFrame of n_rows rows
        Columns ``Level``, ``Policy``, ``Compared with``, ``Metric``,
        :data:`OBSERVED_COLUMN`, :data:`TRUE_COLUMN`, ``Interval over``, and
        :data:`WHY_COLUMN` when some row has an ``interval_note``. An observed uplift
        without an interval says why: in short (too few events, or no spread) with the
        whole reason in :data:`WHY_COLUMN`, else how many pairs it rests on (fewer than
        two usable).
    """
    table = pd.DataFrame(
        {
            "Level": [level_names.get(v, v) for v in uplift["level"]],
            "Policy": [_policy(str(v), policy_name) for v in uplift["policy"]],
            "Compared with": [_baseline(v, policy_name) for v in uplift["baseline"]],
            "Metric": [UPLIFT_METRIC_NAMES.get(v, v) for v in uplift["metric"]],
            OBSERVED_COLUMN: [_observed(r, interval_noted) for r in uplift.itertuples(index=False)],
            TRUE_COLUMN: [signed_pct(v) for v in uplift["expected"]],
            "Interval over": list(uplift["interval_over"]),
        }
    )
    notes = [_note(r) for r in uplift.itertuples(index=False)]
    if any(notes) and not interval_noted:
        table[WHY_COLUMN] = notes
    return table
