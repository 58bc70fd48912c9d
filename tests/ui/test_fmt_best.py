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
