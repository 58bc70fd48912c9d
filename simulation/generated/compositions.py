"""Compositions as people read them: component names instead of level indices.

The engine records each segment's most-served composition as one level index per axis
(``ExperimentResult.top_creatives_frame()``), which renders exactly; tables for people
(``top_creatives.csv``, the Results page) name the components instead. The names come
from the component space, or, for a saved run, from its component effects table, which
lists every level of every axis in index order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["level_names_from_effects", "readable_compositions"]


def level_names_from_effects(effects: pd.DataFrame) -> dict[str, list[str]]:
    """Axis -> its level names in index order, read off a component effects table.

    Parameters
    ----------
    effects : DataFrame
        ``ExperimentResult.component_effects_frame()``: one row per (policy, seed, segment,
        level) with columns ``axis`` and ``component``; every group lists the levels of
        every axis in index order.

    Returns
    -------
    names : dict of str to list of str
        Empty for an empty table.
    """
    if effects.empty:
        return {}
    first = effects.iloc[0]
    keys = [k for k in ("world", "policy", "seed", "segment") if k in effects]
    one = effects[(effects[keys] == first[keys]).all(axis=1)]
    return {axis: list(rows["component"]) for axis, rows in one.groupby("axis", sort=False)}


def readable_compositions(top: pd.DataFrame, names: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """``top`` with each named axis's level index replaced by the level's name.

    Parameters
    ----------
    top : DataFrame
        One composition per row: one integer column per axis (other columns kept).
    names : mapping of str to sequence of str
        Axis -> level names in index order; axes not in it keep their indices.

    Returns
    -------
    readable : DataFrame
        A copy (``top`` itself when nothing is named).
    """
    axes = [a for a in names if a in top]
    if top.empty or not axes:
        return top
    out = top.copy()
    for axis in axes:
        levels = list(names[axis])
        out[axis] = [levels[int(i)] for i in out[axis]]
    return out
