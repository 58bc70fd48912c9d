"""The generated level laid open: what each user's own best composition is worth.

:func:`composition_report` reads a world built with the ``generated`` level and tells,
before anything runs, how much composing each user's ad can earn at most and how
personal that best ad is. Per objective (clicks, net value), for all users and per
segment, over a sample of users:

- the mean expected CTR and ROAS of each user's exact best composition (what the
  ``oracle`` policy serves, :func:`simulation.engine.generated.best_compositions`), and of
  compositions drawn uniformly among the valid ones (what ``uniform`` serves; a Monte
  Carlo mean over ``draws`` compositions per user, its standard error beside it);
- the same for compositions drawn uniformly among the valid ones *written in the
  viewer's language* (``true_random_local_*``): the language is an axis like any other,
  so ``uniform`` writes about half its ads in a language the viewer does not read,
  while every pool level is localized. The gap from this reference to the best is the
  part of the uniform-to-best gap that is not learning the viewer's language
  (issue #14; docs/generated.md);
- how many different best compositions the users have, and the share of the most
  common one: 1 and 100 % when the world gives personalization nothing to work with
  (every user's best ad is the same), many when it does.

Everything is an expectation: no impressions are drawn. The gap between the two means
is what a learner at the generated level can close (docs/generated.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.engine.generated import best_compositions, composed_expectations
from simulation.gap_closed import NO_LANGUAGE_NOTE
from simulation.generated.search import sample_valid
from simulation.generated.space import ComponentSpace
from simulation.rng import stream
from simulation.scenario import FACTORS, Scenario

__all__ = [
    "COMPOSITION_COLUMNS",
    "FLOOR_COMPOSITIONS",
    "OBJECTIVE_NAMES",
    "LanguageFloor",
    "RandomOutcomes",
    "composition_outcomes",
    "composition_report",
    "gap_with_floor",
    "language_floor",
    "language_is_axis",
    "localized_valid",
    "most_common_best",
    "random_outcomes",
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
    "true_random_local_ctr", "true_random_local_ctr_se", "true_random_local_roas",
    "distinct_best", "top_share", "top_composition",
)  # fmt: skip

#: Most users sampled, and most random compositions drawn per user (bounds the work).
MAX_SAMPLE = 50_000
MAX_DRAWS = 256


@dataclass(frozen=True, slots=True)
class RandomOutcomes:
    """True (expected) outcomes of random valid compositions, per user and draw.

    Attributes
    ----------
    ctr, revenue, cost : ndarray of shape (n_users, n_draws)
        Expected click rate, revenue per impression and cost per impression (USD) of
        each drawn composition for its user; NaN rows for users no such composition
        reaches (a viewer whose language no valid composition is written in).
    """

    ctr: np.ndarray
    revenue: np.ndarray
    cost: np.ndarray

    @property
    def net_value(self) -> float:
        """Mean expected net value per impression (revenue - cost, USD) over users and draws."""
        return float((self.revenue - self.cost).mean())


def localized_valid(
    scenario: Scenario, users: np.ndarray, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Compositions drawn uniformly among the valid ones written in each viewer's language.

    For a viewer of language ``k``: uniform over the valid compositions whose language
    axis prints ``k`` (exactly: the space with the other languages' levels masked out,
    sampled as ``uniform`` samples). Without a language axis every composition prints
    the level's one language value (``-1``, the viewer's own, in both built-in spaces).

    Parameters
    ----------
    scenario : Scenario
        A world built with the ``generated`` level.
    users : ndarray of shape (n,), int
    draws : int
        Compositions per user.
    rng : numpy.random.Generator

    Returns
    -------
    combos : ndarray of shape (n * draws, n_axes), int64
        ``draws`` rows per user, in the order of ``users`` (as ``np.repeat(users, draws)``).
    reached : ndarray of shape (n,), bool
        False for users whose language no valid composition prints (their rows are
        level 0 of every axis and mean nothing).
    """
    level = scenario.levels["generated"]
    space = level.space
    f = FACTORS.index("language")
    axis = int(level.factor_axis[f])
    values = level.factor_values[f]
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    language = scenario.population.language[users]
    combos = np.zeros((users.size, draws, space.n_axes), dtype=np.int64)
    reached = np.zeros(users.size, dtype=bool)
    for k in np.unique(language):
        who = np.flatnonzero(language == k)
        prints_k = (values == k) | (values < 0)  # -1: the viewer's own language
        if axis < 0:
            if not prints_k[0]:
                continue
            sub = space
        else:
            mask = space.level_mask.copy()
            mask[space.offsets[axis] : space.offsets[axis + 1]] &= prints_k
            sub = ComponentSpace(
                axis_names=space.axis_names,
                n_levels=space.n_levels,
                level_mask=mask,
                pair_mask=space.pair_mask,
                level_names=space.level_names,
            )
        try:
            drawn = sample_valid(sub, who.size * draws, rng)
        except ValueError:  # no valid composition prints language k
            continue
        combos[who] = drawn.reshape(who.size, draws, space.n_axes)
        reached[who] = True
    return combos.reshape(users.size * draws, space.n_axes), reached


def random_outcomes(
    scenario: Scenario, users: np.ndarray, draws: int = 32, *, localized: bool = False
) -> RandomOutcomes:
    """True outcomes of ``draws`` random valid compositions for each of ``users``.

    Seeded by the world (same world, same draws). ``localized=False`` is what
    ``uniform`` serves; ``localized=True`` draws among the compositions written in the
    viewer's language (:func:`localized_valid`), from a stream of its own so the plain
    draws do not move. When the language is no axis of the space (``hill48``), every
    composition is already in the viewer's language and the two are the same draws.

    Parameters
    ----------
    scenario : Scenario
        A world built with the ``generated`` level.
    users : ndarray of shape (n,), int
    draws : int, default=32
    localized : bool, default=False

    Returns
    -------
    RandomOutcomes
        Arrays of shape (n, draws).
    """
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ValueError(f"`draws` must be an int >= 1; got {draws!r}.")
    level = scenario.levels["generated"]
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    reached = np.ones(users.size, dtype=bool)
    if localized and language_is_axis(scenario):
        rng = stream(scenario.config.seed, "composition-truth-localized")
        combos, reached = localized_valid(scenario, users, draws, rng)
    else:
        rng = stream(scenario.config.seed, "composition-truth")
        combos = sample_valid(level.space, users.size * draws, rng)
    exp = composed_expectations(scenario, np.repeat(users, draws), combos)
    return RandomOutcomes(
        *(
            np.where(reached[:, None], a.reshape(users.size, draws), np.nan)
            for a in (exp.ctr, exp.revenue, exp.cost)
        )
    )


def language_is_axis(scenario: Scenario) -> bool:
    """Whether the generated level's ads can be in a language the viewer does not read.

    False when the language is no axis of the space and every ad is written in the
    viewer's own (``hill48``): random ads in the viewer's language are then ``uniform``'s
    own draws, and the localized floor has nothing to take out of the gap.

    Parameters
    ----------
    scenario : Scenario
        A world built with the ``generated`` level.
    """
    level = scenario.levels["generated"]
    f = FACTORS.index("language")
    return not (level.factor_axis[f] < 0 and level.factor_values[f][0] < 0)


#: Random compositions :func:`language_floor` averages over, at most (the world report's
#: default 2,000 users x 32 draws): every user of the audience, fewer draws each in a
#: larger one, so its cost stays that of the report's whatever the audience's size.
FLOOR_COMPOSITIONS = 64_000


@dataclass(frozen=True, slots=True)
class LanguageFloor:
    """True reward per impression of a random valid composition in the viewer's language.

    The floor the generated level's gap is also measured from (issue #14): what
    ``uniform`` would earn if it did not draw the language. A constant of the world.

    Attributes
    ----------
    ctr, ctr_se : float
        Mean expected clicks per impression over every user of the audience, and its
        Monte Carlo standard error (over users, each user's draws averaged first, as
        the world report's ``true_random_local_ctr_se``).
    net_value, net_value_se : float
        The same for the expected net value per impression (revenue - cost, USD).
    users, draws : int
        Users averaged over (the whole audience) and compositions drawn for each.
    language_axis : bool, default=True
        :func:`language_is_axis`. False: the floor is ``uniform``'s own reference (the
        same draws as the plain one), and a run's gap table gives no share from it.
    """

    ctr: float
    ctr_se: float
    net_value: float
    net_value_se: float
    users: int
    draws: int
    language_axis: bool = True

    def reward(self, objective: str) -> tuple[float, float]:
        """(floor, its standard error) in ``objective``'s reward: clicks or net value."""
        if objective == "ctr":
            return self.ctr, self.ctr_se
        if objective == "roas":
            return self.net_value, self.net_value_se
        raise ValueError(f"`objective` must be 'ctr' or 'roas'; got {objective!r}.")


def language_floor(scenario: Scenario) -> LanguageFloor:
    """The localized floor of the generated level's gap, once per world (kept in its memo).

    :func:`random_outcomes` with ``localized=True`` (the world report's reference, from
    its own stream: no other number moves) over every user of the audience, since a
    run's viewers are drawn uniformly from it, with ``min(32, FLOOR_COMPOSITIONS //
    n_users)`` draws each (at least 1). For an audience of at most 2,000 users these are
    exactly the world report's draws, so the floor is its ``true_random_local_ctr``.

    Parameters
    ----------
    scenario : Scenario
        A world built with the ``generated`` level.

    Returns
    -------
    LanguageFloor
        NaN values when a viewer's language has no valid composition.
    """
    if "generated" not in scenario.levels:
        raise ValueError("the world has no generated level: build it with 'generated' in levels.")
    key = ("language_floor",)
    if key not in scenario.memo:
        n = int(scenario.population.n_users)
        draws = int(min(32, max(1, FLOOR_COMPOSITIONS // n)))
        r = random_outcomes(scenario, np.arange(n), draws, localized=True)
        values = []
        for per_draw in (r.ctr, r.revenue - r.cost):
            per_user = per_draw.mean(axis=1)  # NaN for a user no composition reaches
            se = per_user.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            values += [float(per_user.mean()), float(se)]
        scenario.memo[key] = LanguageFloor(
            *values, users=n, draws=draws, language_axis=language_is_axis(scenario)
        )
    return scenario.memo[key]


def gap_with_floor(result, scenario: Scenario | None) -> pd.DataFrame:
    """A run's gap-closed table with the share from its world's localized floor.

    :meth:`~simulation.engine.core.ExperimentResult.gap_closed_frame` with ``floor``
    the :func:`language_floor` of ``scenario`` in the run's objective. The floor is
    computed only when the table has rows. A run in several worlds has one floor per
    world, taken by the engine while each world was built
    (``result.world_floors``): each replication is measured from its own world's
    floor, and ``local_floor`` is their mean (``scenario`` is not needed then).

    When the language is no axis of the space (:func:`language_is_axis`, ``hill48``),
    the floor is ``uniform``'s own reference: a share from it would differ from the
    share only by the floor's Monte Carlo noise, and the language's share would be that
    noise, labelled true. The table then has no share from the floor (NaN) and
    ``local_note`` says why (:data:`simulation.gap_closed.NO_LANGUAGE_NOTE`).

    Parameters
    ----------
    result : ExperimentResult
    scenario : Scenario or None
        The world the run served (one world); None gives the table without the floor
        for a run in one world.

    Returns
    -------
    DataFrame
        :data:`simulation.gap_closed.GAP_COLUMNS`.
    """
    plain = result.gap_closed_frame()
    objective = result.config.objective
    if plain.empty:
        return plain
    if result.n_worlds > 1:
        if len(result.world_floors) != result.n_worlds:  # a result built by hand
            return plain
        # None: a world without a language axis, whose floor the engine never drew.
        if not all(f is not None and f.language_axis for f in result.world_floors):
            return plain.assign(local_note=NO_LANGUAGE_NOTE)
        floors = tuple(f.reward(objective) for f in result.world_floors)
        return result.gap_closed_frame(floor=floors)
    if scenario is None:
        return plain
    if not language_is_axis(scenario):
        return plain.assign(local_note=NO_LANGUAGE_NOTE)
    return result.gap_closed_frame(floor=language_floor(scenario).reward(objective))


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
        ``true_random_local_*`` are the random reference drawn in each viewer's
        language (:func:`random_outcomes`, ``localized=True``; NaN for a scope with a
        user no valid composition is written for). ``top_composition`` names each
        axis's level.
    """
    if "generated" not in scenario.levels:
        raise ValueError("the world has no generated level: build it with 'generated' in levels.")
    if not 2 <= sample <= MAX_SAMPLE:
        raise ValueError(f"`sample` must be in [2, {MAX_SAMPLE}]; got {sample!r}.")
    if not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"`draws` must be in [1, {MAX_DRAWS}]; got {draws!r}.")
    users = np.arange(min(sample, scenario.population.n_users))
    labels = scenario.segmentation.labels[users]
    names = [p.name for p in scenario.segmentation.profiles]
    # Uniform's compositions do not depend on the objective: one draw serves both.
    rand = random_outcomes(scenario, users, draws)
    local = random_outcomes(scenario, users, draws, localized=True)
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
                rand.ctr[mask], rand.revenue[mask], rand.cost[mask]
            )
            local_ctr, local_se, local_roas = _summaries(
                local.ctr[mask], local.revenue[mask], local.cost[mask]
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
                    "true_random_local_ctr": local_ctr,
                    "true_random_local_ctr_se": local_se,
                    "true_random_local_roas": local_roas,
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
