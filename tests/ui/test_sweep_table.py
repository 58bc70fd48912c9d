"""The Sweeps page's table in words: headers marked observed or true, names for codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.sweep_table import HIDDEN, UPLIFT_HEADERS, readable_table


def _table() -> pd.DataFrame:
    # The columns build_table writes, in its order, for one grid point of one world.
    rows = []
    for level, policy, best, baseline in (
        ("generic", "uniform", "", ""),
        ("user", "thompson", "", "thompson"),
        ("user", "best", "thompson", "best (uniform)"),
    ):
        rows.append({
            "point_index": 0, "point_id": "0123456789abcdef", "n_segments": 4, "world": 0,
            "world_seed": 123456789, "level": level, "policy": policy, "best_policy": best,
            "baseline": baseline, "ctr": 0.02, "cvr": 0.01, "roas": 1.5, "regret": 3.0,
            "expected_ctr": 0.021, "expected_roas": 1.4,
            **{c: (np.nan if level == "generic" else 0.1) for c in UPLIFT_HEADERS},
        })  # fmt: skip
    return pd.DataFrame(rows)


def test_every_column_is_named_in_words_and_numbers_say_observed_or_true():
    table = _table()
    view = readable_table(table, {"n_segments": "Number of segments"})
    assert not set(HIDDEN) & set(view.columns)
    # Every shown column got a header in words: none is a raw snake_case name.
    assert all("_" not in c for c in view.columns), list(view.columns)
    numbers = [c for c in view.columns if c not in
               ("Number of segments", "World", "Level", "Policy", "Best policy",
                "Compared with (generic)")]  # fmt: skip
    # A number is observed or true, except the count of pairs and the reason for no interval.
    unmarked = [c for c in numbers if not c.endswith(("(observed)", "(true)"))]
    assert unmarked == [
        "CTR uplift, replications paired", "CTR uplift, why no interval",
        "ROAS uplift, replications paired", "ROAS uplift, why no interval",
    ]  # fmt: skip
    assert list(view["Level"]) == ["Generic (same ads for everyone)", "Per user", "Per user"]
    assert list(view["Policy"]) == ["Uniform (A/B/n split)", "Thompson sampling",
                                    "Each level's best"]  # fmt: skip
    assert list(view["Best policy"]) == ["", "", "Thompson sampling"]
    assert list(view["Compared with (generic)"])[2] == "best (Uniform (A/B/n split))"
    # The values are the table's, untouched (the page formats them), and the table is too.
    assert list(view["ROAS (true)"]) == list(table["expected_roas"])
    assert list(table.columns)[:2] == ["point_index", "point_id"]
    assert list(table["level"]) == ["generic", "user", "user"]


def test_a_table_missing_columns_shows_what_it_has():
    # An older or hand-saved table: no ids, no baseline; nothing raised, nothing invented.
    table = _table().drop(columns=["point_index", "world_seed", "baseline", "cvr"])
    view = readable_table(table, {})
    assert "Compared with (generic)" not in view and "Conversion rate (observed)" not in view
    assert "n_segments" in view, "a parameter without a label keeps its key"
