"""A regenerated run's pools for the report: which levels regenerated, and what they held.

With ``regenerate_every`` an arm of a pool level is a *slot*: the creative in it changes
across generations and differs by policy and seed (:mod:`simulation.engine.regen`). So the
founding creatives the run's world rebuilds are not what the slots held, and may never be
named as a segment's winner. This module reads the run's stored ``generations`` table
(:meth:`simulation.engine.core.ExperimentResult.generations_frame`) into the report's small
tables; the app's Generations view (``ui/generations.py``) draws the same table as charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from simulation.display import policy_name
from simulation.references import is_reference
from simulation.uplift_text import LEVEL_NAMES

__all__ = [
    "POOL_LEVELS",
    "SLOT_NOTE",
    "final_pools",
    "generations_summary",
    "regenerated_levels",
    "shown_policy",
]

#: Levels whose pools can regenerate (as :data:`simulation.engine.regen.POOL_LEVELS`).
POOL_LEVELS: tuple[str, ...] = ("generic", "segment")

#: Said where a regenerated level's winners would be: in the app's words (its SLOT_NOTE).
SLOT_NOTE = (
    "This level's pools regenerated: the creative in a slot changes across generations (and "
    "differs by policy and seed), so no founding creative is named as a segment's winner or "
    "leader. The Generations section below shows which creative held each slot, and when."
)


def regenerated_levels(config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]) -> frozenset:
    """The levels of a saved run whose pools regenerated (empty for fixed pools).

    Parameters
    ----------
    config : mapping
        The run's config (``regenerate_every``, ``levels``).
    tables : mapping of str to DataFrame
        The run's stored tables; ``generations`` names the levels when present. A run
        that regenerated but did not store it counts every pool level it ran: its
        founders are no more what the slots held.

    Returns
    -------
    levels : frozenset of str
    """
    if not config.get("regenerate_every"):
        return frozenset()
    frame = tables.get("generations")
    if frame is not None and not frame.empty and "level" in frame:
        return frozenset(frame["level"])
    return frozenset(lv for lv in config.get("levels") or () if lv in POOL_LEVELS)


def _units(frame: pd.DataFrame) -> list[str]:
    return [c for c in ("world", "seed") if c in frame]


def generations_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per level and policy: pools, generations and creatives each pool held.

    Parameters
    ----------
    frame : DataFrame
        The stored ``generations`` table (one row per level, policy, replication and
        creative).

    Returns
    -------
    table : DataFrame
        Columns ``Level``, ``Policy``, ``Pools per replication`` (1 at the generic level,
        one per segment at the segment level), ``Generations bred`` (after the founders'
        generation 0, as the app's view counts them), ``Creatives a pool held (mean)``,
        ``Still serving at the end (mean)``.
    """
    keys = ["level", "policy"]
    per_pool = frame.groupby([*keys, *_units(frame), "row"], sort=False).agg(
        held=("node", "size"),
        alive=("retired_at", lambda v: int(v.isna().sum())),
        generations=("generation", "max"),
    )
    per_pool = per_pool.reset_index()
    rows = []
    for (level, policy), g in per_pool.groupby(keys, sort=False):
        rows.append(
            {
                "Level": LEVEL_NAMES.get(level, level),
                "Policy": policy_name(str(policy)),
                "Pools per replication": int(g["row"].nunique()),
                # The founders' generation 0 is not bred: "Generations" read one short.
                "Generations bred": int(g["generations"].max()),
                "Creatives a pool held (mean)": f"{g['held'].mean():,.1f}",
                "Still serving at the end (mean)": f"{g['alive'].mean():,.1f}",
            }
        )
    return pd.DataFrame(rows)


def shown_policy(frame: pd.DataFrame, level: str) -> str:
    """The policy whose pool the report lists at ``level``: a learner, Thompson if it ran.

    The uniform split judges its pool too, but never exploits it (as the app's view).
    """
    policies = list(dict.fromkeys(frame.loc[frame["level"] == level, "policy"]))
    learners = [p for p in policies if p != "uniform" and not is_reference(p)]
    return "thompson" if "thompson" in policies else (learners or policies)[0]


def final_pools(frame: pd.DataFrame, level: str, policy: str) -> pd.DataFrame:
    """What each slot held when the run ended: one policy, its first replication.

    Parameters
    ----------
    frame : DataFrame
        The stored ``generations`` table.
    level, policy : str

    Returns
    -------
    table : DataFrame
        One row per (audience, slot): ``Audience``, ``Slot`` (from 1), ``Creative``,
        ``Born in generation`` (0: a founder), ``Born at (impressions)``,
        ``Impressions``, ``CTR (observed)`` while it lived, ``True CTR`` (the world's
        expected CTR over the audience, which a real experiment never sees).
    """
    rows = frame[(frame["level"] == level) & (frame["policy"] == policy)]
    for unit in _units(rows):
        rows = rows[rows[unit] == rows[unit].min()]
    alive = rows[rows["retired_at"].isna()].sort_values(["row", "slot"], kind="stable")

    def pct(v: float) -> str:
        return f"{100 * v:.2f} %" if np.isfinite(v) else "–"

    return pd.DataFrame(
        {
            "Audience": ["Everyone" if r == "all" else r for r in alive["row"]],
            "Slot": [int(j) + 1 for j in alive["slot"]],
            "Creative": list(alive["label"]),
            "Born in generation": [int(g) for g in alive["generation"]],
            "Born at (impressions)": [f"{int(b):,}" for b in alive["born_at"]],
            "Impressions": [f"{int(n):,}" for n in alive["impressions"]],
            "CTR (observed)": [pct(float(v)) for v in alive["ctr"]],
            "True CTR": [pct(float(v)) for v in alive["true_ctr"]],
        }
    )
