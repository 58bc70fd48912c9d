"""How much of the gap between a baseline and the best possible a policy closed.

At the generated level every impression has a known best composition (the oracle's,
exact), and each policy's regret is its shortfall from it in expected (true) reward.
The share of the uniform → oracle gap a policy closes over a run is then
``1 - regret(policy) / regret(uniform)``, per impression, on the same users and random
draws: 0 is no better than composing at random, 1 is the oracle. The measure of issue
#14's first goal (``bench/generated_gap.py`` measures it on long runs, this on any run).

``uniform`` draws the language like any other axis, so about half its ads are in a
language the viewer does not read, while every pool level is localized: part of that gap
is only learning the viewer's language. Given the *localized floor* (the true reward per
impression of a random valid composition in the viewer's language,
:func:`simulation.composition_truth.language_floor`), the table also gives the share of
the gap from that floor, ``(learner - floor) / (oracle - floor)``, and the language's
own share of the uniform -> oracle gap, ``(floor - uniform) / (oracle - uniform)``; the
two shares are tied by ``share = language + (1 - language) * share_from_floor``.
When the language is no axis of the space (``hill48``: every ad is in the viewer's
language), uniform has no language to learn: the floor is its own reference, so there is
no second share, and ``local_note`` says so (:data:`NO_LANGUAGE_NOTE`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig, applies
from simulation.metrics import interval_over, mean_interval
from simulation.references import is_reference

__all__ = [
    "GAP_COLUMNS",
    "LOCAL_NOTE",
    "NO_LANGUAGE_NOTE",
    "gap_closed",
    "gap_has_rows",
    "gap_sentences",
    "has_local",
    "local_note",
    "with_expected_reward",
]

#: Why a second share is shown beside the first (the app and the HTML report say it).
LOCAL_NOTE = (
    "Uniform draws the ad's language like any other component, so about half its ads are "
    "in a language the viewer does not read, while every pool level is localized: part of "
    "that gap is only the viewer's language. The share from random ads in the viewer's "
    "language (a true constant of the world) leaves that part out. "
)

#: Why there is no second share when every ad is in the viewer's language (``local_note``).
NO_LANGUAGE_NOTE = (
    "The language is no component of these ads (each is written in the viewer's own), so "
    "uniform's random ads are already in the viewer's language: there is no separate "
    "share from random ads in the viewer's language, and no part of the gap that is only "
    "the language."
)

#: Columns of :func:`gap_closed`'s table (``gap_closed.csv``).
GAP_COLUMNS: tuple[str, ...] = (
    "level", "policy", "baseline", "share", "ci_low", "ci_high", "n_pairs", "interval_over",
    "baseline_regret_per_impression",
    "local_floor", "local_floor_se", "share_from_local", "local_ci_low", "local_ci_high",
    "language_share", "local_note",
)  # fmt: skip


def has_local(table: pd.DataFrame) -> bool:
    """Whether a gap-closed table gives the share from the localized floor for some row."""
    return "share_from_local" in table.columns and bool(table["share_from_local"].notna().any())


def local_note(table: pd.DataFrame) -> str:
    """What to say about the share from the localized floor above a gap-closed table.

    :data:`LOCAL_NOTE` when the table gives that share, else its rows' ``local_note``
    (:data:`NO_LANGUAGE_NOTE` when the language is no axis of the space), else ``""``
    (a run without the floor, or saved before the column was kept).
    """
    if has_local(table):
        return LOCAL_NOTE
    if "local_note" not in table.columns:
        return ""
    notes = [n.strip() for n in table["local_note"] if isinstance(n, str) and n.strip()]
    return f"{notes[0]} " if notes else ""  # a sentence before the table's sentences


def gap_has_rows(config: ExperimentConfig) -> bool:
    """Whether a run of ``config`` has a gap-closed table with rows.

    It needs the generated level, ``uniform`` (the baseline) and another policy that
    composes there (``gap_closed.csv`` is written only then).
    """
    others = [p for p in config.policies if p != "uniform" and applies("generated", p)]
    return "generated" in config.levels and "uniform" in config.policies and bool(others)


def with_expected_reward(summary: pd.DataFrame, timeseries: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with each run's total ``expected_reward``, read from its time series.

    The summary (and ``summary.csv``) does not carry the objective's expected reward; the
    time series does, and its last checkpoint is the run's total.

    Parameters
    ----------
    summary : DataFrame
        One row per (policy, level, seed) (and world).
    timeseries : DataFrame
        One row per (policy, level, seed, step) (and world) with ``expected_reward``.

    Returns
    -------
    DataFrame
        ``summary``'s rows, in its order, with ``expected_reward`` (NaN where the time
        series has no row).
    """
    keys = [k for k in ("policy", "level", "world", "seed") if k in summary.columns]
    last = timeseries.sort_values("step").groupby(keys, sort=False).tail(1)
    out = summary.drop(columns="expected_reward", errors="ignore")
    return out.merge(last[[*keys, "expected_reward"]], on=keys, how="left", validate="1:1")


def gap_closed(
    summary: pd.DataFrame,
    *,
    level: str = "generated",
    baseline: str = "uniform",
    alpha: float = 0.05,
    floor: tuple[float, float] | tuple[tuple[float, float], ...] | None = None,
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
    floor : (float, float) or tuple of (float, float), optional
        The localized floor and its Monte Carlo standard error, in the objective's reward
        per impression (``LanguageFloor.reward(objective)``), of the world the run
        served; with several worlds, one such pair per world, in world order (each
        world has its own floor). Needs ``summary`` to have ``expected_reward`` (the
        total expected reward of the objective, as in the run's time series).

    Returns
    -------
    table : DataFrame
        Columns :data:`GAP_COLUMNS`, one row per policy at ``level`` other than the
        baseline, in run order. ``share`` is the mean over replications (over world
        means, with several worlds) of
        ``1 - (regret / impressions) / (baseline's regret / impressions)``; NaN when the
        baseline's regret is zero in a replication (it already served every impression its
        best: there was no gap to close). Empty when ``level`` or ``baseline`` did not run.
        With ``floor``: ``local_floor`` and ``local_floor_se`` as given (true; with
        several worlds the mean of the worlds' floors, as the baseline's regret is a mean
        over them, and the standard error of that mean, ``sqrt(sum se_w**2) / n_worlds``:
        each world's floor is drawn from its own stream), and over the same
        replications, each against its own world's floor, the mean of ``share_from_local`` =
        ``(learner - floor) / (oracle - floor)`` = ``1 - regret rate / (oracle - floor)``
        (the oracle's reward per impression read as the baseline's expected reward plus
        its regret, so the oracle need not have run) with its interval
        (``local_ci_low``, ``local_ci_high``; over replications: the floor's own error is
        ``local_floor_se``), and ``language_share`` =
        ``(floor - baseline) / (oracle - baseline)``; NaN without ``floor``.
        ``local_note`` is ``""`` here; :func:`simulation.composition_truth.gap_with_floor`
        sets it to :data:`NO_LANGUAGE_NOTE` when the language is no axis of the space.

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
    local, local_se = np.nan, np.nan
    if floor is not None:
        if "expected_reward" not in base.columns:
            raise ValueError("`floor` needs the summary's `expected_reward` column.")
        # Each replication against its own world's floor (one world: the one floor).
        rep_floor, local, local_se = _replication_floors(floor, base.index, keys)
        # Per replication: the oracle earns the baseline's reward plus its regret.
        base_reward = base["expected_reward"] / base["impressions"]
        floor_gap = base_rate + base_reward - rep_floor
    rows = []
    for policy, group in at[at["policy"] != baseline].groupby("policy", sort=False):
        rate = group.set_index(keys)["regret"] / group.set_index(keys)["impressions"]
        rate, ref = rate.align(base_rate, join="inner")
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = np.where(ref.to_numpy() > 0, 1.0 - rate.to_numpy() / ref.to_numpy(), np.nan)
        # Several worlds: the interval is over world means (seeds of a world cluster).
        worlds = rate.index.get_level_values("world") if "world" in keys else None
        share, low, high = mean_interval(shares, alpha, worlds=worlds)
        from_local = (np.nan,) * 3
        language = np.nan
        if floor is not None:
            gap = floor_gap.reindex(rate.index)
            ref_gap = ref.to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                local_shares = np.where(
                    gap.to_numpy() > 0, 1.0 - rate.to_numpy() / gap.to_numpy(), np.nan
                )
                lang = np.where(ref_gap > 0, 1.0 - gap.to_numpy() / ref_gap, np.nan)
            from_local = mean_interval(local_shares, alpha, worlds=worlds)
            language = float(np.nanmean(lang)) if np.isfinite(lang).any() else np.nan
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
                "local_floor": local,
                "local_floor_se": local_se,
                "share_from_local": from_local[0],
                "local_ci_low": from_local[1],
                "local_ci_high": from_local[2],
                "language_share": language,
                "local_note": "",
            }
        )
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def _replication_floors(floor, index: pd.Index, keys: list[str]) -> tuple[np.ndarray, float, float]:
    """Each replication's floor, and the floor and standard error the table reports.

    Parameters
    ----------
    floor : (float, float) or tuple of (float, float)
        One world's (floor, se), or one pair per world in world order.
    index : Index of length n_replications
        The baseline's replications (``world``, ``seed`` or ``seed``).
    keys : list of str

    Returns
    -------
    per_replication : ndarray of shape (n_replications,)
    local, local_se : float
        The worlds' mean floor and the standard error of that mean.
    """
    pairs = np.asarray(floor, dtype=np.float64)
    if pairs.shape == (2,):
        pairs = pairs[None]
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0:
        raise ValueError(
            "`floor` must be one (floor, se) pair or one pair per world; "
            f"got an array of shape {pairs.shape}."
        )
    worlds = (
        index.get_level_values("world").to_numpy(dtype=np.int64)
        if "world" in keys
        else np.zeros(len(index), dtype=np.int64)
    )
    present = np.unique(worlds)
    if present.size > 1 and pairs.shape[0] == 1:
        raise ValueError(
            f"`floor` is one world's: the summary has {present.size} worlds; give one "
            "(floor, se) pair per world."
        )
    if pairs.shape[0] > 1 and not np.array_equal(present, np.arange(pairs.shape[0])):
        raise ValueError(
            f"`floor` has {pairs.shape[0]} worlds' floors; the summary has worlds "
            f"{present.tolist()}."
        )
    if pairs.shape[0] == 1:
        return np.full(len(index), pairs[0, 0]), float(pairs[0, 0]), float(pairs[0, 1])
    used = pairs[present]
    # Like the baseline's regret per impression: a mean over the worlds (each has as
    # many seeds); the worlds' floors are independent draws, so their errors add so.
    local = float(used[:, 0].mean())
    local_se = float(np.sqrt(np.sum(used[:, 1] ** 2)) / used.shape[0])
    return pairs[worlds, 0], local, local_se


def gap_sentences(table: pd.DataFrame, name=str) -> list[str]:
    """One readable sentence per learner's row of :func:`gap_closed`'s table.

    A reference's row (the oracle: the whole gap by definition) gets none. A row with
    ``share_from_local`` also says the share from the localized floor, with how far the
    floor's own Monte Carlo error moves it, and the language's share of the gap.

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
        sentence = (
            f"{policy} closed {100 * row.share:.1f} % of the {baseline} → oracle gap over the "
            f"run at the {row.level} level (true, expected rewards; {interval})"
        )
        out.append(sentence + _from_local(row) + ".")
    return out


def _from_local(row) -> str:
    """The clause on the share from the localized floor ("" when the row has none)."""
    local = getattr(row, "share_from_local", np.nan)
    if not np.isfinite(local):
        return ""
    # With one replication the sentence's first clause has said there is no interval.
    interval = (
        f"; 95 % interval {100 * row.local_ci_low:.1f} to {100 * row.local_ci_high:.1f} % over "
        f"{row.interval_over}"
        if row.n_pairs > 1 and np.isfinite(row.local_ci_low)
        else ""
    )
    # d share / d floor = (1 - share) / (oracle - floor), and oracle - floor is the
    # baseline's regret less the language's part of it.
    floor_gap = (1.0 - row.language_share) * row.baseline_regret_per_impression
    moves = abs(1.0 - local) * row.local_floor_se / floor_gap if floor_gap > 0 else np.nan
    error = (
        f", ± {100 * moves:.1f} points from the floor's Monte Carlo error"
        if np.isfinite(moves)
        else ""
    )
    return (
        f"; {100 * local:.1f} % of the gap from random ads in the viewer's language, the part "
        f"that is not just the language (true{interval}{error}); the viewer's language "
        f"alone is {100 * row.language_share:.1f} % of the {row.baseline} → oracle gap (true)"
    )
