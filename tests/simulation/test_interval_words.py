"""The one rule that refuses an interval on too few events or too wide to mean anything."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulation.interval_words import (
    MAX_INTERVAL_SPREAD,
    refused_interval,
    tile_interval_notes,
    tile_refusal_note,
)
from simulation.metrics import MIN_UPLIFT_EVENTS


def _rows(clicks: list[int], conversions: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"clicks": clicks, "conversions": conversions})


ENOUGH = MIN_UPLIFT_EVENTS
FEW = MIN_UPLIFT_EVENTS - 1


@pytest.mark.parametrize(
    ("rows", "metric", "bounds", "expected"),
    [
        # The event each metric rests on, in the weakest replication: clicks for CTR,
        # conversions for ROAS; the other count does not matter.
        (_rows([400, 420], [FEW, 40]), "roas", (0.9, 1.3), "too few conversions"),
        (_rows([400, 420], [FEW, 40]), "ctr", (0.009, 0.012), None),
        (_rows([FEW, 420], [40, 40]), "ctr", (0.009, 0.012), "too few clicks"),
        (_rows([FEW, 420], [40, 40]), "roas", (0.9, 1.3), None),
        # At the threshold the interval stands (the uplift table's "at least 10 a side").
        (_rows([ENOUGH, ENOUGH], [ENOUGH, ENOUGH]), "roas", (0.9, 1.3), None),
        # Enough events, but ends more than MAX_INTERVAL_SPREAD-fold apart; a zero lower end
        # is infinitely far from any upper one.
        (_rows([400, 420], [40, 40]), "ctr", (0.0004, 0.2878), "too wide"),
        (_rows([400, 420], [40, 40]), "roas", (0.0, 1.3), "too wide"),
        (_rows([400, 420], [40, 40]), "roas", (0.5, 0.5 * MAX_INTERVAL_SPREAD), None),
        # Too few events is the reason given first, though the interval is also too wide.
        (_rows([400, 420], [1, 40]), "roas", (0.0, 308_949.14), "too few conversions"),
        # No interval drawn (one replication, or no spread): nothing to refuse...
        (_rows([400], [1]), "roas", (math.nan, math.nan), None),
        (_rows([400, 420], [3, 3]), "roas", (1.2, 1.2), None),
        # ...unless no replication had a sale (or a click): the rate is 0 in each, and
        # "0.00×" alone would read as a measured zero return. Said even for one seed.
        (_rows([400, 420], [0, 0]), "roas", (0.0, 0.0), "no sales"),
        (_rows([400], [0]), "roas", (0.0, 0.0), "no sales"),
        (_rows([0, 0], [0, 0]), "ctr", (0.0, 0.0), "no clicks"),
        (_rows([400, 420], [0, 0]), "ctr", (0.009, 0.012), None),
        # No count column (a summary not made by the engine): the spread alone decides.
        (pd.DataFrame({"x": [1, 2]}), "roas", (0.01, 5.0), "too wide"),
        (pd.DataFrame({"x": [1, 2]}), "roas", (0.9, 1.3), None),
    ],
)
def test_an_interval_is_refused_on_too_few_events_or_too_wide(rows, metric, bounds, expected):
    assert refused_interval(rows, metric, *bounds) == expected


def test_the_tiles_judge_only_the_best_policys_own_replications():
    summary = pd.DataFrame(
        {
            "level": ["user", "user", "generic", "generic"],
            "policy": ["thompson"] * 4,
            "clicks": [400, 420, 1, 1],
            "conversions": [40, 40, 0, 0],
        }
    )
    best = {"level": "user", "policy": "thompson"}
    bounds = {"ctr": (0.009, 0.012), "roas": (0.9, 1.3)}
    # The generic level's handful of events is not the best's.
    assert tile_interval_notes(summary, best, bounds) == {}
    few = summary.assign(conversions=[FEW, 40, 0, 0])
    assert tile_interval_notes(few, best, bounds) == {"roas": "too few conversions"}


def test_the_not_clearly_best_note_names_the_refusal():
    few = tile_refusal_note("too few clicks")
    assert few == "Not clearly best: too few clicks for an interval."
    assert tile_refusal_note("too wide") == "Not clearly best: its interval is too wide to show."
    assert tile_refusal_note("no sales") == "Not clearly best: no sales yet."


@pytest.mark.parametrize("metric", ["ctr", "roas"])
def test_a_tiles_help_explains_every_reason_its_short_note_can_give(metric):
    # Each reason refused_interval gives for this metric, driven by data, as the tile says
    # it (its 24 characters), must be explained in the help: the help is the whole rule.
    from simulation.interval_words import NOT_CLEAR_RULE, TILE_NOTES, tile_help

    count = "clicks" if metric == "ctr" else "conversions"
    enough = pd.DataFrame({count: [MIN_UPLIFT_EVENTS] * 3})
    reasons = {
        refused_interval(enough.assign(**{count: [0, 0, 0]}), metric, 0.0, 0.0),
        refused_interval(enough.assign(**{count: [MIN_UPLIFT_EVENTS - 1, 40, 40]}), metric,
                         1.0, 2.0),
        refused_interval(enough, metric, 0.01, 0.01 * (MAX_INTERVAL_SPREAD + 1)),
    }  # fmt: skip
    assert None not in reasons and len(reasons) == 3
    text = tile_help(metric, metric)
    for reason in reasons:
        assert f'"{TILE_NOTES.get(reason, reason)}"' in text, reason
    assert f"fewer than {MIN_UPLIFT_EVENTS} {count}" in text
    assert f"{MAX_INTERVAL_SPREAD:.0f}-fold" in text and "one replication" in text
    # Only the objective's tile says when the best is not clearly best.
    assert NOT_CLEAR_RULE in text
    assert NOT_CLEAR_RULE not in tile_help(metric, "roas" if metric == "ctr" else "ctr")


def _paired(clicks: list[float], conversions: list[float]) -> pd.DataFrame:
    """Generic and user rows per seed: the user side has the given events, generic 1.1x less."""
    rows = []
    for seed, (c, v) in enumerate(zip(clicks, conversions, strict=True)):
        for level, scale in (("generic", 1 / 1.1), ("user", 1.0)):
            rows.append(
                {"level": level, "policy": "thompson", "seed": seed, "impressions": 10_000,
                 "clicks": c * scale, "conversions": v * scale, "revenue": 40.0 * v * scale,
                 "spend": 100.0}
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("clicks", "conversions", "metric", "reason"),
    [
        # Generic has 1.1x fewer events: 8 of them on its side is under the rule's 10.
        ([200, 8.8, 240], [20, 30, 25], "ctr", "too few clicks"),
        ([200, 220, 240], [8.8, 30, 25], "roas", "too few conversions"),
        # The same paired ratio in every seed (1.1): no spread.
        ([200, 220, 240], [20, 30, 25], "ctr", "no spread"),
    ],
)
def test_an_uplift_notes_reason_is_worded_by_the_tiles_table(clicks, conversions, metric, reason):
    # The uplift's own note (which the sweep table stores whole) reduces to a key of the
    # one table of short words the tiles use, the same key the tiles' rule gives for the
    # same cause: a heat-map cell and a tile cannot word one refusal differently.
    from simulation.interval_words import TILE_NOTES, note_reason
    from simulation.metrics import like_for_like_uplift

    table = like_for_like_uplift(_paired(clicks, conversions))
    (note,) = table.loc[(table.policy == "thompson") & (table.metric == metric), "interval_note"]
    assert note_reason(note) == reason and reason in TILE_NOTES
    if reason != "no spread":  # the tiles' rule, on the user side's replications
        user = _paired(clicks, conversions).query("level == 'generic'")
        assert refused_interval(user, metric, 1.0, 2.0) == reason
