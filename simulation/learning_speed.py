"""How many impressions the learning policies need to separate from the A/B split.

Measured, not derived: in the default world (``PRESETS["default"]``, its
policies, levels and 3 seeds) the smallest horizon on a grid at which the best
learning policy's observed objective beats the uniform split's with a paired
95 % interval over seeds excluding zero, at every level. Measured on
2026-12-05 (after the template rewrite and per-user pricing, a user-level ad's
order value being the price of the product it shows) with::

    PYTHONPATH=. python bench/separation.py --seeds 3 --impressions 1000000 --objectives ctr
    PYTHONPATH=. python bench/separation.py --seeds 3 --impressions 1000000 --objectives roas

(see ``docs/performance.md``, "Learning speed in the default world", for the
table and the share of the uniform -> oracle gap each policy closes).
Re-measure when the world's defaults, the copy or the policies change.

Under CTR the per-user level separated at 300,000 impressions, the generic level at
500,000 and the segment level at 750,000, so the policies separate at every level by
750,000 (on 2026-12-03, before these changes: by 500,000, the segment level then at
200,000).
Under ROAS the per-user level did not separate within the measured 1,000,000
impressions (nor, on 2026-12-02, within 3,000,000, ``--impressions 3000000``),
recorded as ``None``: no number is claimed for it.
"""

from __future__ import annotations

from simulation.config import OBJECTIVES

__all__ = [
    "IMPRESSIONS_TO_SEPARATE",
    "MEASURED_SEEDS",
    "MEASURED_UP_TO",
    "impressions_to_separate",
    "longer_run",
]

#: Longest horizon measured (impressions per policy and level).
MEASURED_UP_TO: int = 1_000_000

#: Seeds of the measurement (those of the default experiment): the paired interval's sample.
MEASURED_SEEDS: int = 3

#: Impressions per policy and level until the policies separate at every level, by
#: objective; ``None``: they did not separate within :data:`MEASURED_UP_TO`.
IMPRESSIONS_TO_SEPARATE: dict[str, int | None] = {"ctr": 750_000, "roas": None}


def impressions_to_separate(objective: str) -> int | None:
    """Impressions per policy and level the policies need to separate under ``objective``.

    Parameters
    ----------
    objective : {"ctr", "roas"}

    Returns
    -------
    n_impressions : int or None
        From :data:`IMPRESSIONS_TO_SEPARATE`: a measured horizon of at most
        :data:`MEASURED_UP_TO`, or ``None`` when the policies did not separate
        within :data:`MEASURED_UP_TO` impressions in the measurement.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"`objective` must be one of {list(OBJECTIVES)}; got {objective!r}.")
    return IMPRESSIONS_TO_SEPARATE[objective]


def longer_run(objective: str, n_impressions: int) -> int | None:
    """The horizon to offer instead of ``n_impressions``, or ``None`` if it is long enough.

    Parameters
    ----------
    objective : {"ctr", "roas"}
    n_impressions : int
        Impressions per policy and level of the run at hand, at least 1.

    Returns
    -------
    n_longer : int or None
        The measured horizon to separate when the run is shorter than it; when
        the policies did not separate within :data:`MEASURED_UP_TO`, that
        horizon if the run is shorter than it (the longest one measured); else
        ``None``.
    """
    if isinstance(n_impressions, bool) or not isinstance(n_impressions, int):
        raise TypeError(f"`n_impressions` must be an int; got {type(n_impressions).__name__}.")
    if n_impressions < 1:
        raise ValueError(f"`n_impressions` must be at least 1; got {n_impressions}.")
    need = impressions_to_separate(objective)
    target = MEASURED_UP_TO if need is None else need
    return target if n_impressions < target else None
