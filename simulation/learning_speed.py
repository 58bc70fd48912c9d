"""How many impressions the learning policies need to separate from the A/B split.

Measured, not derived: in the default world (``PRESETS["default"]``, its
policies and levels) the smallest horizon on a grid at which the best learning
policy's observed objective beats the uniform split's with a paired 95 %
interval over seeds excluding zero, at every level. Measured with::

    python bench/separation.py --seeds 4 --impressions 1000000

(see ``docs/performance.md``, "Learning speed in the default world", for the
table, the date and the share of the uniform -> oracle gap each policy
closes). Re-measure when the world's defaults or the policies change.

Provisional: the bench run above did not finish in the session that wrote
this module (a shared, loaded machine), so both entries are the longest
horizon of the grid, :data:`MEASURED_UP_TO`, an upper stand-in (the issue
measured the old policies closing 1-23 % of the gap at 300,000) until the
run's numbers replace them.
"""

from __future__ import annotations

from simulation.config import OBJECTIVES

__all__ = ["IMPRESSIONS_TO_SEPARATE", "MEASURED_UP_TO", "impressions_to_separate"]

#: Longest horizon measured; a level that had not separated by then counts as this.
MEASURED_UP_TO: int = 1_000_000

#: Impressions per policy and level until the policies separate, by objective.
IMPRESSIONS_TO_SEPARATE: dict[str, int] = {"ctr": MEASURED_UP_TO, "roas": MEASURED_UP_TO}


def impressions_to_separate(objective: str) -> int:
    """Impressions per policy and level the policies need to separate under ``objective``.

    Parameters
    ----------
    objective : {"ctr", "roas"}

    Returns
    -------
    n_impressions : int
        From :data:`IMPRESSIONS_TO_SEPARATE` (at most :data:`MEASURED_UP_TO`).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"`objective` must be one of {list(OBJECTIVES)}; got {objective!r}.")
    return IMPRESSIONS_TO_SEPARATE[objective]
