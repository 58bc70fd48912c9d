"""A segment whose creatives had no sale (or click) has no leader in the leaders table."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from simulation.winners import segment_winners
from ui.tables import winners_table


def _ad(product: str) -> SimpleNamespace:
    return SimpleNamespace(product=product, tone="urgent", offer="none", layout="split",
                           language="en", palette=None, greeting=None, motif="cup", cta="Go",
                           headline="H")  # fmt: skip


def _sales(conversions: list[int]) -> pd.DataFrame:
    """Two seeds of one segment, arm k with ``conversions[k]`` sales in each."""
    return pd.DataFrame(
        [
            {"seed": seed, "level": "segment", "policy": "p", "segment": 0, "arm": arm,
             "impressions": 1_000, "clicks": 20, "conversions": c, "revenue": 25.0 * c,
             "spend": 1.0}
            for seed in (0, 1) for arm, c in enumerate(conversions)
        ]
    )  # fmt: skip


def test_the_leaders_table_says_no_leader_and_why():
    creatives = [[_ad("Rain jacket"), _ad("Trail shoes")]]
    table = segment_winners(_sales([0, 0]), "roas")
    row = winners_table(table, creatives, ["Hikers"], objective="roas").iloc[0]
    assert row["Verdict"] == "No leader yet\n(no sales)"  # the reason on a line of its own
    # One sale is something to rank by: a leader, named as before.
    table = segment_winners(_sales([1, 0]), "roas")
    row = winners_table(table, creatives, ["Hikers"], objective="roas").iloc[0]
    assert row["Verdict"].startswith(("Leader", "Winner"))
