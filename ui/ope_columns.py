"""What a log's columns mean, for the Off-policy evaluation page's rule editor.

A rule reads columns by name (``x_3 >= 0.5``, ``segment == 2``); the names alone say
nothing, so the editor shows what each one is. Only a saved simulated run's log is
described: its context is the engine's (:func:`simulation.display.context_feature_meanings`)
and its segments are rebuilt from its configuration. An uploaded log's columns are the
file's own, which adlab cannot interpret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from simulation.display import context_feature_meanings
from simulation.policies.rules import SEGMENT_COLUMN
from ui import cache
from ui.forms import WorldSettings

__all__ = ["column_table", "run_segment_names", "segment_table"]


def run_segment_names(config: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The segments' names of a saved run, by number, or None when they cannot be rebuilt.

    A run on the user's segments file names them as the file does (segment ``i`` is the
    file's row ``i``); otherwise the audience is rebuilt from the seed, size and number of
    segments, through the Audience page's cache (the same streams as the run's).

    Parameters
    ----------
    config : Mapping
        The run's saved configuration (``StoredRun.config``).
    """
    try:
        if config.get("segments_file"):
            from creative.audience_io import read_audiences

            return tuple(a.name for a in read_audiences(config["segments_file"]))
        settings = WorldSettings(
            seed=int(config["seed"]),
            n_users=int(config["n_users"]),
            n_segments=int(config["n_segments"]),
        )
        _, segmentation = cache.world(settings)
    except (KeyError, TypeError, ValueError, OSError):
        # A run saved by an older version, or whose segments file is gone: the numbers stay.
        return None
    return tuple(p.name for p in segmentation.profiles)


def column_table(
    columns: Sequence[str], n_segments: int, names: tuple[str, ...] | None
) -> pd.DataFrame | None:
    """One row per column of a saved run's log: its name and what it means.

    Parameters
    ----------
    columns : sequence of str
        The log's context columns (``x_0 .. x_{d-1}``), then ``segment`` when it has one.
    n_segments : int
        The run's number of segments.
    names : tuple of str or None
        The segments' names, by number (:func:`run_segment_names`).

    Returns
    -------
    table : DataFrame with columns ``Column`` and ``Meaning``, or None
        None when the columns do not follow the engine's layout.
    """
    x_columns = [c for c in columns if c != SEGMENT_COLUMN]
    meanings = context_feature_meanings(n_segments, len(x_columns), names)
    if meanings is None or x_columns != [f"x_{j}" for j in range(len(x_columns))]:
        return None
    rows = list(zip(x_columns, meanings, strict=True))
    if SEGMENT_COLUMN in columns:
        rows.append((SEGMENT_COLUMN, f"the segment's number, 0 to {n_segments - 1} (below)"))
    return pd.DataFrame(rows, columns=["Column", "Meaning"])


def segment_table(n_segments: int, names: tuple[str, ...] | None) -> pd.DataFrame:
    """Segment numbers with their names (``–`` where the name is not known).

    Returns
    -------
    table : DataFrame of shape (n_segments, 2), columns ``Segment`` and ``Name``
    """
    known = names if names is not None and len(names) == n_segments else None
    return pd.DataFrame(
        {
            "Segment": range(n_segments),
            "Name": list(known) if known is not None else ["–"] * n_segments,
        }
    )
