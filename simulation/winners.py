"""Winners with reasons: per segment the best creative, its runner-up, the margin and why.

Pure functions over the engine's ``segment_frame`` and the scenario's creatives and ground
truth; the app and the HTML report both draw from them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulation.display import component_name
from simulation.metrics import mean_interval, safe_ratio

__all__ = [
    "COMPONENTS",
    "EVENT_WORDS",
    "LABEL_EXTRAS",
    "WINNER_COLUMNS",
    "component_differences",
    "creative_labels",
    "difference_text",
    "no_events_note",
    "segment_allocation",
    "segment_winners",
    "true_segment_rates",
    "winner_verdict",
]

#: Creative components compared between a winner and its runner-up: (attribute, label).
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("product", "product"),
    ("category", "category"),
    ("tone", "tone"),
    ("offer", "offer"),
    ("layout", "layout"),
    ("motif", "picture"),
    ("greeting", "greeting"),
    ("language", "language"),
    ("headline", "headline"),
    ("cta", "call to action"),
)

#: Components a creative's label adds, in this order, when product and tone do not tell
#: it from another creative of its segment: (attribute, how its value reads).
LABEL_EXTRAS: tuple[tuple[str, str], ...] = (
    ("offer", "{}"),
    ("layout", "{} layout"),
    ("palette", "{} palette"),
    ("greeting", "{} greeting"),
    ("motif", "{} picture"),
    ("cta", "“{}”"),
    ("headline", "“{}”"),
)

WINNER_COLUMNS: tuple[str, ...] = (
    "segment", "arm", "impressions", "ctr", "roas", "runner_up", "runner_up_ctr",
    "runner_up_roas", "margin", "margin_low", "margin_high", "n_seeds", "no_events",
)  # fmt: skip

#: The events a rate rests on, as a marketer says them: a ROAS moves only with a sale.
EVENT_WORDS: dict[str, str] = {"ctr": "clicks", "roas": "sales"}


#: The observed rates a winner row reports, each a mean over seeds of the seed's rate.
_RATES: tuple[str, ...] = ("ctr", "roas")


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["ctr"] = safe_ratio(out["clicks"], out["impressions"])
    out["roas"] = safe_ratio(out["revenue"], out["spend"])
    return out


def _common_seeds(rates: pd.DataFrame) -> pd.Index:
    """The seeds in which every ranked creative has a rate (all seeds if there are none).

    Ranking means and paired differences over one set of seeds are what make the margin
    equal the difference of the means. Without a common seed (a ranked creative unshown in
    every seed, possible only when fewer than two reached ``min_impressions``) each mean
    falls back to the seeds it has, and the margin to the pair's common seeds.
    """
    complete = rates.notna().all(axis=1)
    return rates.index[complete] if complete.any() else rates.index


def segment_winners(
    segment_frame: pd.DataFrame,
    objective: str = "ctr",
    *,
    min_impressions: int = 100,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per segment, the best segment-level creative, its runner-up and the margin.

    One statistic ranks the creatives and makes the margin: the **mean over seeds of each
    seed's observed rate** (a seed's rate pools its impressions over policies; all are real
    draws of the same response model). The margin is the mean of the paired per-seed
    differences, leader minus runner-up, over the same seeds, so it equals the difference of
    the two ranking means and the leader's margin is never negative. (Ranking by rates
    pooled over seeds, as before, could put first a creative whose per-seed differences
    average below 0: pooling weights seeds by their impressions, the margin does not.) The
    seeds are those in which every ranked creative was shown; its Student-t interval is
    taken across them: the seeds are independent replications, and within a seed both
    creatives met the same simulated visitors. In a run of several worlds, world 0's (arm k
    is another creative in each world).

    Parameters
    ----------
    segment_frame : DataFrame
        ``ExperimentResult.segment_frame()``: one row per (seed, level, policy, segment, arm)
        with ``impressions``, ``clicks``, ``spend``, ``revenue``.
    objective : {"ctr", "roas"}
        The rate that ranks creatives.
    min_impressions : int, default=100
        Creatives shown fewer times (over all seeds) are not ranked unless fewer than two
        are.
    alpha : float, default=0.05

    Returns
    -------
    winners : DataFrame
        One row per segment, columns :data:`WINNER_COLUMNS`. ``ctr``, ``roas`` and the
        runner-up's are observed means over the ``n_seeds`` seeds of each seed's rate (with
        ``objective="ctr"``, ``ctr - runner_up_ctr == margin``); ``impressions`` counts all
        seeds. ``runner_up`` is -1 (and its numbers NaN) when a segment has a single
        creative. ``no_events`` is True when neither the leader nor the runner-up had an
        event of the objective (a click; under ROAS a sale) in those seeds: both rates are
        0 and the ranking between them is only their order (:func:`winner_verdict`).
    """
    if objective not in ("ctr", "roas"):
        raise ValueError(f"`objective` must be 'ctr' or 'roas'; got {objective!r}.")
    rows = segment_frame[segment_frame["level"] == "segment"]
    if rows.empty:
        return pd.DataFrame(columns=list(WINNER_COLUMNS))
    if "world" in rows and rows["world"].nunique() > 1:
        # Arm k is another creative in each world: pooling worlds would rank a mix of
        # creatives under world 0's labels. The winners are world 0's (the creatives the
        # app and the report show), over its seeds.
        rows = rows[rows["world"] == rows["world"].min()]
    if "seed" not in rows:  # one replication
        rows = rows.assign(seed=0)
    # Sales: conversions where the frame has them, else revenue (a sale always has some).
    sales = "conversions" if "conversions" in rows else "revenue"
    event = "clicks" if objective == "ctr" else sales
    cols = list(dict.fromkeys(["impressions", "clicks", "revenue", "spend", event]))
    shown = rows.groupby(["segment", "arm"])["impressions"].sum()
    per_seed = _rates(rows.groupby(["segment", "seed", "arm"])[cols].sum())
    out = []
    for segment, impressions in shown.groupby(level="segment"):
        impressions = impressions.droplevel("segment")
        seeds = per_seed.loc[segment]
        rates = {m: seeds[m].unstack("arm").reindex(columns=impressions.index) for m in _RATES}
        eligible = impressions.index[impressions >= min_impressions]
        candidates = eligible if len(eligible) >= 2 else impressions.index
        used = _common_seeds(rates[objective][candidates])
        means = {m: r.loc[used].mean(axis=0) for m, r in rates.items()}  # NaN-skipping
        ranked = means[objective][candidates].fillna(-np.inf)
        order = ranked.sort_values(ascending=False, kind="stable").index.tolist()
        arm = int(order[0])
        runner = int(order[1]) if len(order) > 1 else -1
        margin = (np.nan, np.nan, np.nan)
        n_seeds = 0
        no_events = False
        if runner >= 0:
            events = seeds[event].unstack("arm").reindex(columns=impressions.index)
            no_events = bool(np.nansum(events.loc[used, [arm, runner]].to_numpy()) == 0)
            diffs = (
                rates[objective].loc[used, arm] - rates[objective].loc[used, runner]
            ).to_numpy()
            n_seeds = int(np.isfinite(diffs).sum())
            margin = mean_interval(diffs, alpha)
        out.append(
            {
                "segment": int(segment),
                "arm": arm,
                "impressions": int(impressions[arm]),
                "ctr": float(means["ctr"][arm]),
                "roas": float(means["roas"][arm]),
                "runner_up": runner,
                "runner_up_ctr": float(means["ctr"][runner]) if runner >= 0 else np.nan,
                "runner_up_roas": float(means["roas"][runner]) if runner >= 0 else np.nan,
                "margin": margin[0],
                "margin_low": margin[1],
                "margin_high": margin[2],
                "n_seeds": n_seeds,
                "no_events": no_events,
            }
        )
    return pd.DataFrame(out, columns=list(WINNER_COLUMNS))


def component_differences(winner, runner_up) -> list[tuple[str, str, str]]:
    """The components in which two creatives differ.

    Parameters
    ----------
    winner, runner_up : Creative
        Any objects with the attributes named in :data:`COMPONENTS`.

    Returns
    -------
    differences : list of (label, winner's value, runner-up's value)
        In the order of :data:`COMPONENTS`, values in words (``"10 % off"``, not the
        code ``"discount_10"``); an absent offer or greeting reads ``"no offer"`` or
        ``"no greeting"`` (:func:`simulation.display.component_name`), any other missing
        or None value ``"none"``.
    """
    out = []
    for attr, label in COMPONENTS:
        a, b = getattr(winner, attr, None), getattr(runner_up, attr, None)
        if a != b:
            out.append((label, _value_words(attr, a), _value_words(attr, b)))
    return out


#: Components whose values are the studio's codes ("discount_10", "social_proof", "ko"):
#: read through :func:`simulation.display.component_name`. The others are already words
#: (a product's name, a headline, a call to action as printed).
_CODED: frozenset[str] = frozenset({"tone", "offer", "layout", "greeting", "language"})


def _value_words(attr: str, value) -> str:
    """A component's value as a marketer reads it; a missing one reads "none".

    The studio records an absent offer or greeting as None or "none"; both go through
    :func:`simulation.display.component_name`, which words them ("no offer", "no greeting").
    """
    if value is None:
        value = "none"
    return component_name(attr, str(value)) if attr in _CODED else str(value)


def difference_text(objective: str, value: float) -> str:
    """A difference of two rates in its own unit: CTR in percentage points, ROAS in ROAS.

    The app's leaders table, its cards and the report write a margin the same way. A
    difference of CTRs is not a relative change ("+0.024 %" would read as one), and a
    difference of ROAS is not a multiple ("+0.12×" would read as one).

    Examples
    --------
    >>> difference_text("ctr", 0.00024), difference_text("roas", -0.12)
    ('+0.024 pp', '-0.120 ROAS')
    >>> difference_text("ctr", float("nan"))
    '–'
    """
    if not np.isfinite(value):
        return "–"
    if objective == "ctr":
        return f"{100 * value:+.3f} pp"
    return f"{value:+.3f} ROAS"


def _extra(creative, attr: str, form: str) -> str:
    """One component of a label: "10 % off", "split layout"; "no offer" for an absent one.

    The studio records an absent offer or greeting as the word "none": printed bare, a
    label read "11. Linen Tote · playful · none" (none of what?).
    """
    value = getattr(creative, attr, None)
    value = getattr(value, "name", value)  # a palette reads by its name
    if value is None or value == "none":
        return f"no {form.format('').strip(' “”') or attr}"
    return form.format(_value_words(attr, value))


def creative_labels(creatives: Sequence, english: dict[str, str] | None = None) -> list[str]:
    """Short labels that tell one segment's creatives apart, for charts and tables.

    Each label is ``"k. product · tone"``; creatives that share product and tone add the
    components (:data:`LABEL_EXTRAS`, in order) that differ among them until each label is
    unique, so a leader and its runner-up that differ only in layout read so. A product in
    Korean is followed by its English name where one is known (the bundled catalogue's),
    for a marketer who reads no Korean; otherwise (a catalogue of your own) the name stands
    alone, as the ad prints it (until 2026-12-05 it was followed by a placeholder,
    "나의 제품 (Korean)", that said nothing the name did not).

    Parameters
    ----------
    creatives : sequence of Creative
        One segment's creatives (n_arms), in arm order.
    english : dict of str to str, optional
        Korean product name -> English name; default: the bundled catalogue's.

    Returns
    -------
    labels : list of str
        n_arms labels, numbered from 1 as the app and the report number creatives.
    """
    if english is None:
        from simulation.scenario import english_product_names  # the studio's catalogue

        english = english_product_names()
    parts = []
    for c in creatives:
        product = str(c.product)
        language = getattr(c, "language", "en")
        known = english.get(product) if language != "en" else None
        if known and known != product:
            product += f" ({known})"
        parts.append([product, _value_words("tone", c.tone)])
    pending = _collisions(parts, range(len(parts)))
    while pending:
        members = pending.pop()
        # The first component that differs among them; one they all share tells none apart.
        for attr, form in LABEL_EXTRAS:
            if len({_extra(creatives[i], attr, form) for i in members}) > 1:
                for i in members:
                    parts[i].append(_extra(creatives[i], attr, form))
                pending.extend(_collisions(parts, members))
                break
    return [f"{i + 1}. " + " · ".join(p) for i, p in enumerate(parts)]


def _collisions(parts: list[list[str]], members) -> list[list[int]]:
    """The groups of two or more ``members`` whose labels are the same."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i in members:
        groups.setdefault(tuple(parts[i]), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def true_segment_rates(scenario, objective: str = "ctr") -> np.ndarray:
    """The world's expected CTR (or net value) of each segment's own creatives.

    Parameters
    ----------
    scenario : Scenario
        With a ``segment`` level.
    objective : {"ctr", "roas"}
        ``ctr``: expected clicks per impression; ``roas``: expected revenue per dollar spent.

    Returns
    -------
    rates : ndarray of shape (n_segments, n_arms)
        Averaged over the segment's users (the ground truth, not draws). Read-only: kept
        in the (immutable) scenario's memo, so the app's next run in the same world skips
        it (0.08-0.12 s a run, measured in the app).
    """
    key = ("true_segment_rates", objective)
    if key not in scenario.memo:
        rates = _true_segment_rates(scenario, objective)
        rates.flags.writeable = False
        scenario.memo[key] = rates
    return scenario.memo[key]


def _true_segment_rates(scenario, objective: str) -> np.ndarray:
    level = scenario.levels["segment"]
    labels = scenario.segmentation.labels
    out = np.full((scenario.segmentation.n_segments, level.n_arms), np.nan)
    for s in range(out.shape[0]):
        users = np.flatnonzero(labels == s)
        if users.size == 0:
            continue
        exp = scenario.response.expectations(scenario.population.take(users), level.table[s])
        if objective == "roas":
            out[s] = safe_ratio(exp.revenue.mean(axis=0), exp.cost.mean(axis=0))
        else:
            out[s] = exp.ctr.mean(axis=0)
    return out


def segment_allocation(segment_frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Share of each segment's impressions per own creative, per policy (mean over seeds).

    Parameters
    ----------
    segment_frame : DataFrame
        ``ExperimentResult.segment_frame()``.
    names : sequence of str
        Segment names by segment id.

    Returns
    -------
    allocation : DataFrame
        Columns ``segment``, ``Segment`` (its name), ``policy``, ``arm``, ``impressions``,
        ``share`` (of the segment's impressions under that policy).
    """
    rows = segment_frame[segment_frame["level"] == "segment"]
    cols = ["segment", "Segment", "policy", "arm", "impressions", "share"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    per = rows.groupby(["segment", "policy", "arm"], sort=True)["impressions"].sum().reset_index()
    total = per.groupby(["segment", "policy"])["impressions"].transform("sum")
    per["share"] = safe_ratio(per["impressions"], total)
    per["Segment"] = [names[s] if 0 <= s < len(names) else f"segment {s}" for s in per["segment"]]
    return per[cols]


def winner_verdict(n_seeds: int, margin_low: float, no_events: bool = False) -> str:
    """Whether a segment's winner beat its runner-up by more than luck.

    Parameters
    ----------
    n_seeds : int
        Replications with both creatives' rates (:func:`segment_winners`' ``n_seeds``).
    margin_low : float
        Lower end of the margin's interval.
    no_events : bool, default=False
        :func:`segment_winners`' ``no_events``: neither creative had a click (under ROAS,
        a sale).

    Returns
    -------
    verdict : str
        ``"clear"`` (the interval excludes 0), ``"unclear"`` (it includes 0),
        ``"no interval"``: one replication has none, so it cannot tell a winner from luck;
        or ``"no events"``: both rates are 0, so there is no leader yet, only an order
        (:func:`no_events_note`).

    Examples
    --------
    >>> winner_verdict(3, 0.001), winner_verdict(3, -0.001), winner_verdict(1, 0.001)
    ('clear', 'unclear', 'no interval')
    >>> winner_verdict(3, 0.0, no_events=True)
    'no events'
    """
    if no_events:
        return "no events"
    if n_seeds < 2 or not np.isfinite(margin_low):
        return "no interval"
    return "clear" if margin_low > 0 else "unclear"


def no_events_note(objective: str) -> str:
    """Why a segment has no leader when neither creative had a click (or, by ROAS, a sale).

    Examples
    --------
    >>> no_events_note("roas")
    'no sales yet for either creative, so nothing to choose between them.'
    """
    return (
        f"no {EVENT_WORDS[objective]} yet for either creative, so nothing to choose between them."
    )
