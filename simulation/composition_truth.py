"""The generated level laid open: what each user's own best composition is worth.

:func:`composition_report` reads a world built with the ``generated`` level and tells,
before anything runs, how much composing each user's ad can earn at most and how
personal that best ad is. Per objective (clicks, net value), for all users and per
segment, over a sample of users:

- the mean expected CTR and ROAS of each user's exact best composition (what the
  ``oracle`` policy serves, :func:`simulation.engine.generated.best_compositions`), and of
  compositions drawn uniformly among the valid ones (what ``uniform`` serves; a Monte
  Carlo mean over ``draws`` compositions per user, its standard error beside it);
- how many different best compositions the users have, and the share of the most
  common one: 1 and 100 % when the world gives personalization nothing to work with
  (every user's best ad is the same), many when it does.

Everything is an expectation: no impressions are drawn. The gap between the two means
is what a learner at the generated level can close (docs/generated.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.engine.generated import best_compositions, composed_expectations
from simulation.generated.search import sample_valid
from simulation.rng import stream
from simulation.scenario import Scenario

__all__ = [
    "COMPOSITION_COLUMNS",
    "OBJECTIVE_NAMES",
    "composition_outcomes",
    "composition_report",
    "most_common_best",
    "segment_users",
]

#: Users of a segment its true outcomes are averaged over, at most (the first ones; users
#: are drawn i.i.d.).
SEGMENT_USERS = 2_000

#: The objectives a run can optimize, and what the report calls them.
OBJECTIVE_NAMES = {"ctr": "clicks", "roas": "net value"}

COMPOSITION_COLUMNS = (
    "objective", "scope", "segment", "segment_name", "users",
    "true_best_ctr", "true_random_ctr", "true_random_ctr_se", "true_best_roas", "true_random_roas",
    "distinct_best", "top_share", "top_composition",
)  # fmt: skip

#: Most users sampled, and most random compositions drawn per user (bounds the work).
MAX_SAMPLE = 50_000
MAX_DRAWS = 256


def _summaries(
    ctr: np.ndarray, revenue: np.ndarray, cost: np.ndarray
) -> tuple[float, float, float]:
    """Mean CTR, its standard error over users, and ROAS (mean revenue / mean spend).

    Each argument is of shape (n_users, n_draws); a user's draws are averaged first,
    so the standard error is over users (whose mean is what the report estimates).
    """
    per_user = ctr.mean(axis=1)
    se = per_user.std(ddof=1) / np.sqrt(per_user.size) if per_user.size > 1 else np.nan
    return float(per_user.mean()), float(se), float(revenue.mean() / cost.mean())


def _readable(scenario: Scenario, combo: np.ndarray) -> str:
    space = scenario.levels["generated"].space
    names = space.level_names
    if not names:
        return " · ".join(str(int(i)) for i in combo)
    return " · ".join(f"{axis}={names[j][int(i)]}" for j, (axis, i) in
                      enumerate(zip(space.axis_names, combo)))  # fmt: skip


def composition_report(scenario: Scenario, *, sample: int = 2_000, draws: int = 32) -> pd.DataFrame:
    """Each user's best composition against random ones, per objective and segment.

    Parameters
    ----------
    scenario : Scenario
        A world built with the ``generated`` level.
    sample : int, default=2_000
        Users (the first ones; users are drawn i.i.d.), in ``[2, MAX_SAMPLE]``.
    draws : int, default=32
        Random valid compositions per sampled user, in ``[1, MAX_DRAWS]``; drawn from
        the world's seed (same world, same table).

    Returns
    -------
    DataFrame
        Columns :data:`COMPOSITION_COLUMNS`; per objective one row for all users
        (``scope`` "all", ``segment`` -1) then one per segment with sampled users.
        ``top_composition`` names each axis's level.
    """
    if "generated" not in scenario.levels:
        raise ValueError("the world has no generated level: build it with 'generated' in levels.")
    if not 2 <= sample <= MAX_SAMPLE:
        raise ValueError(f"`sample` must be in [2, {MAX_SAMPLE}]; got {sample!r}.")
    if not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"`draws` must be in [1, {MAX_DRAWS}]; got {draws!r}.")
    space = scenario.levels["generated"].space
    users = np.arange(min(sample, scenario.population.n_users))
    labels = scenario.segmentation.labels[users]
    names = [p.name for p in scenario.segmentation.profiles]
    # Uniform's compositions do not depend on the objective: one draw serves both.
    rng = stream(scenario.config.seed, "composition-truth")
    random_combos = sample_valid(space, users.size * draws, rng)
    rand = composed_expectations(scenario, np.repeat(users, draws), random_combos)
    rand_ctr = rand.ctr.reshape(users.size, draws)
    rand_rev = rand.revenue.reshape(users.size, draws)
    rand_cost = rand.cost.reshape(users.size, draws)
    rows = []
    for objective, objective_name in OBJECTIVE_NAMES.items():
        best = best_compositions(scenario, objective, users)
        top = composed_expectations(scenario, users, best)
        scopes = [("all", -1, "all users", np.ones(users.size, dtype=bool))]
        scopes += [
            ("segment", s, names[s], labels == s)
            for s in range(scenario.segmentation.n_segments)
            if (labels == s).any()
        ]
        for scope, segment, name, mask in scopes:
            true_best_ctr, _, true_best_roas = _summaries(
                top.ctr[mask], top.revenue[mask], top.cost[mask]
            )
            true_random_ctr, random_se, true_random_roas = _summaries(
                rand_ctr[mask], rand_rev[mask], rand_cost[mask]
            )
            distinct, counts = np.unique(best[mask], axis=0, return_counts=True)
            rows.append(
                {
                    "objective": objective_name,
                    "scope": scope,
                    "segment": segment,
                    "segment_name": name,
                    "users": int(mask.sum()),
                    "true_best_ctr": true_best_ctr,
                    "true_random_ctr": true_random_ctr,
                    "true_random_ctr_se": random_se,
                    "true_best_roas": true_best_roas,
                    "true_random_roas": true_random_roas,
                    "distinct_best": int(distinct.shape[0]),
                    "top_share": float(counts.max() / counts.sum()),
                    "top_composition": _readable(scenario, distinct[int(np.argmax(counts))]),
                }
            )
    return pd.DataFrame(rows, columns=list(COMPOSITION_COLUMNS))


def composition_outcomes(
    scenario: Scenario, users: np.ndarray, combos: np.ndarray
) -> tuple[float, float]:
    """Mean true CTR and ROAS of showing ``combos`` to ``users``.

    Parameters
    ----------
    users : ndarray of shape (n,), int
    combos : ndarray of shape (n_axes,) or (n, n_axes), int
        One composition for every user, or one each.

    Returns
    -------
    ctr, roas : float
        The users' mean expected CTR, and expected revenue over expected spend.
    """
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    combos = np.asarray(combos, dtype=np.int64)
    if combos.ndim == 1:
        combos = np.repeat(combos[None], users.size, axis=0)
    exp = composed_expectations(scenario, users, combos)
    return float(exp.ctr.mean()), float(exp.revenue.mean() / exp.cost.mean())


def most_common_best(
    scenario: Scenario, users: np.ndarray, objective: str = "ctr"
) -> tuple[np.ndarray, float, np.ndarray]:
    """The composition most of ``users`` have as their own best.

    Parameters
    ----------
    users : ndarray of shape (n,), int
        At least one.
    objective : {"ctr", "roas"}

    Returns
    -------
    combo : ndarray of shape (n_axes,), int64
    share : float
        The share of ``users`` whose best it is.
    best : ndarray of shape (n, n_axes), int64
        Each user's own best composition.
    """
    best = best_compositions(scenario, objective, users)
    distinct, counts = np.unique(best, axis=0, return_counts=True)
    top = int(np.argmax(counts))
    return distinct[top], float(counts[top] / counts.sum()), best


def segment_users(scenario: Scenario, segment: int, limit: int = SEGMENT_USERS) -> np.ndarray:
    """The first ``limit`` users of ``segment``, ndarray of shape (n,), int."""
    return np.flatnonzero(scenario.segmentation.labels == segment)[:limit]
