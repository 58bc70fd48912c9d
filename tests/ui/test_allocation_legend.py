"""Chart legends: the allocation chart lists creatives in arm order; policy names fit."""

from __future__ import annotations

import pandas as pd

from ui.charts import allocation_chart


def _allocation(n_arms: int) -> pd.DataFrame:
    """Cumulative impressions of one seed, level and policy over two checkpoints."""
    return pd.DataFrame(
        [
            {"seed": 0, "level": "generic", "policy": "uniform", "step": step, "arm": arm,
             "impressions": step // n_arms, "arm_label": f"Product {arm} · playful"}
            for step in (1_000, 2_000)
            for arm in range(n_arms)
        ]
    )  # fmt: skip


def test_twelve_creatives_are_listed_in_arm_order():
    spec = allocation_chart(_allocation(12), "generic", "uniform").to_dict()
    order = spec["encoding"]["color"]["sort"]
    assert [label.split(". ", 1)[0] for label in order] == [str(k) for k in range(1, 13)]
    assert order[9] == "10. Product 9 · playful"
    # Every series of the data is in the list: none falls back to the text order.
    assert set(order) == {row["Creative"] for row in spec["datasets"].popitem()[1]}


def test_pool_slots_are_listed_in_slot_order():
    spec = allocation_chart(_allocation(11), "generic", "uniform", slots=True).to_dict()
    assert spec["encoding"]["color"]["sort"] == [f"Slot {k}" for k in range(1, 12)]


def test_the_served_components_legend_has_room_for_every_generated_policys_name():
    from simulation.generated import GENERATED_POLICIES
    from ui.fmt import policy_name
    from ui.generated_view import served_spec

    limit = served_spec(["tone"])["spec"]["encoding"]["color"]["legend"]["labelLimit"]
    # Vega's legend labels are 11 px: under 7 px a character on average.
    longest = max(len(policy_name(p)) for p in GENERATED_POLICIES)
    assert limit >= 7 * longest
