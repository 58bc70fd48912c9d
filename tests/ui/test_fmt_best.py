"""The best policy's headline tiles: their values, and the interval each carries."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ui.fmt import best_pair

BEST = pd.Series({"level": "user", "policy": "thompson", "ctr": 0.0106, "roas": 2.17})
BOUNDS = {"ctr": (0.0098, 0.0114), "roas": (1.9, 2.4)}


def test_each_tile_carries_its_own_interval_and_what_it_covers():
    (l1, v1, s1), (l2, v2, s2) = best_pair(BEST, "ctr", BOUNDS, "3 seeds × 1 world")
    assert (l1, v1, s1) == (
        "Best CTR (observed)",
        "1.06 %",
        "95 %: 0.98 % – 1.14 % (3 seeds × 1 world)",
    )
    assert (l2, v2, s2) == (
        "Its ROAS (observed)",
        "2.17×",
        "95 %: 1.90× – 2.40× (3 seeds × 1 world)",
    )


def test_under_roas_the_roas_tile_comes_first_with_its_interval():
    (l1, v1, s1), (l2, _, s2) = best_pair(BEST, "roas", BOUNDS, "2 worlds (3 seeds each)")
    assert (l1, v1) == ("Best ROAS (observed)", "2.17×") and s1.startswith("95 %: 1.90×")
    assert l2 == "Its CTR (observed)" and s2.endswith("(2 worlds (3 seeds each))")


@pytest.mark.parametrize("bounds", [(math.nan, math.nan), (0.0106, 0.0106)])
def test_one_replication_says_there_is_no_interval(bounds):
    (_, _, span), _ = best_pair(BEST, "ctr", {"ctr": bounds, "roas": bounds}, "1 seed × 1 world")
    assert span == "no interval (1 seed × 1 world)"


def test_without_intervals_a_tile_has_none():
    (_, _, s1), (_, _, s2) = best_pair(BEST, "ctr")
    assert s1 is None and s2 is None


def _summary(conversions: list[int], roas: list[float], clicks: int = 400) -> pd.DataFrame:
    """Two replications of the best (and a rival that should not count)."""
    rows = [
        {"level": "user", "policy": "thompson", "seed": s, "clicks": clicks,
         "conversions": c, "ctr": 0.0106, "roas": r}
        for s, (c, r) in enumerate(zip(conversions, roas, strict=True))
    ]  # fmt: skip
    rival = {"level": "generic", "policy": "uniform", "seed": 0, "clicks": 1, "conversions": 0,
             "ctr": 0.001, "roas": 0.1}  # fmt: skip
    return pd.DataFrame([*rows, rival])


def test_a_tile_refuses_an_interval_on_too_few_events_as_the_uplift_cells_do():
    from simulation.interval_words import tile_interval_notes
    from simulation.metrics import MIN_UPLIFT_EVENTS
    from simulation.uplift_text import uplift_table

    few = MIN_UPLIFT_EVENTS - 1
    summary = _summary([few, 40], [0.94, 1.2])
    bounds = {"ctr": (0.0098, 0.0114), "roas": (0.0, 308_949.14)}
    notes = tile_interval_notes(summary, BEST, bounds)
    assert notes == {"roas": "too few conversions"}  # 400 clicks: CTR keeps its interval
    (_, _, ctr), (_, value, roas) = best_pair(BEST, "ctr", bounds, notes=notes)
    assert ctr == "95 %: 0.98 % – 1.14 %"
    assert (value, roas) == ("2.17×", "no interval: few sales")  # short, to fit a tile
    # The uplift table's cell for the same reason reads the whole words.
    row = {"level": "user", "policy": "thompson", "baseline": "generic · thompson",
           "metric": "roas", "observed": 0.1, "ci_low": math.nan, "ci_high": math.nan,
           "expected": 0.1, "n_pairs": 2, "interval_over": "2 seeds × 1 world",
           "interval_note": "too few conversions for an interval: 9 vs 40 (generic vs user) "
           "in one replication; it needs at least 10 a side"}  # fmt: skip
    cell = uplift_table(pd.DataFrame([row]))["Observed uplift (95 % interval)"][0]
    assert cell.endswith("(no interval: too few conversions)")
    # At the threshold the interval stands; too few clicks refuse the CTR's.
    assert tile_interval_notes(_summary([MIN_UPLIFT_EVENTS] * 2, [0.94, 1.2]), BEST,
                               {"roas": (0.8, 1.3)}) == {}  # fmt: skip
    assert tile_interval_notes(_summary([40, 40], [1, 1], clicks=few), BEST,
                               {"ctr": (0.009, 0.012)}) == {"ctr": "too few clicks"}  # fmt: skip


def test_an_absurdly_wide_tile_interval_is_refused_and_one_replication_left_as_it_was():
    from simulation.interval_words import MAX_INTERVAL_SPREAD, tile_interval_notes

    summary = _summary([50, 60], [0.5, 1.5])
    wide = {"roas": (0.01, 0.01 * MAX_INTERVAL_SPREAD * 1.01)}
    assert tile_interval_notes(summary, BEST, wide) == {"roas": "too wide"}
    assert tile_interval_notes(summary, BEST, {"roas": (0.5, 0.5 * MAX_INTERVAL_SPREAD)}) == {}
    # One replication has no interval to refuse: the tile's own "no interval" stands.
    assert tile_interval_notes(summary.iloc[:1], BEST, {"roas": (math.nan, math.nan)}) == {}


@pytest.mark.parametrize("note", ["too few conversions", "too few clicks", "too wide"])
def test_every_text_under_a_tile_fits_a_tile_at_1280_px(note):
    from ui.fmt import TILE_DELTA_CHARS

    # The widest values a tile's interval can take, each reason a refusal can give, and
    # one replication: as the pages call best_pair (what the interval covers is captioned).
    wide = {"ctr": (0.9999, 0.99999), "roas": (99.99, 9_999.99)}
    one = {"ctr": (math.nan, math.nan), "roas": (math.nan, math.nan)}
    for bounds, notes in ((wide, None), (wide, {"ctr": note, "roas": note}), (one, None)):
        for _, _, span in best_pair(BEST, "ctr", bounds, notes=notes):
            assert len(span) <= TILE_DELTA_CHARS, span
    (_, _, span), _ = best_pair(BEST, "ctr", wide, notes={"ctr": note})
    assert span.startswith("no interval: ") and span != "no interval: "
