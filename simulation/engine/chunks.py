"""Chunks of batches: the users, uniforms and ground truth every policy plays.

The rounds of a (seed, level) are processed a chunk (about 65,000 impressions)
at a time: the chunk's users and uniforms are drawn and its ground truth looked
up at once (from audience-wide tables kept per world, or computed for the
chunk). The draws are the same whatever the chunk size: users and uniforms are
drawn batch by batch from the unit's named streams, as they always were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from simulation.config import ExperimentConfig
from simulation.response import Expectations
from simulation.rng import stream
from simulation.scenario import Scenario

__all__ = [
    "Chunk",
    "Tables",
    "Truth",
    "audience_tables",
    "chunk_truth",
    "draw_chunks",
]


@dataclass(frozen=True, slots=True, eq=False)
class Truth:
    """Ground truth of (row, arm) pairs, raveled: entry ``row * n_arms + arm``.

    Rows are users (a whole-audience table) or the rows of one chunk.
    Gathering ``flat[row * n_arms + arm]`` is about twice as fast as 2-D
    fancy indexing, and only the shown pairs are ever gathered.
    """

    n_arms: int
    ctr: np.ndarray  # (n_rows * n_arms,) P(click)
    cvr: np.ndarray  # P(convert | click)
    value: np.ndarray  # expected order value (USD)
    cost: np.ndarray  # expected cost of the impression (USD)
    reward: np.ndarray  # expected reward for the objective
    best: np.ndarray  # (n_rows,) the best arm's expected reward

    @classmethod
    def of(cls, exp: Expectations, objective: str) -> Truth:
        """Ravel ``exp`` (arrays of shape (n_rows, n_arms)) for ``objective``."""
        shape = exp.ctr.shape
        reward = exp.reward(objective)
        return cls(
            n_arms=shape[1],
            ctr=np.ascontiguousarray(exp.ctr).ravel(),
            cvr=np.ascontiguousarray(np.broadcast_to(exp.cvr, shape)).ravel(),
            value=np.ascontiguousarray(np.broadcast_to(exp.order_value, shape)).ravel(),
            cost=np.ascontiguousarray(np.broadcast_to(exp.cost, shape)).ravel(),
            reward=np.ascontiguousarray(reward).ravel(),
            best=reward.max(axis=1),
        )

    def reward_rows(self, rows: np.ndarray) -> np.ndarray:
        """Expected reward of every arm for ``rows`` (n,), ndarray of shape (n, n_arms)."""
        return self.reward.reshape(-1, self.n_arms)[rows]


@dataclass(frozen=True, slots=True, eq=False)
class Tables:
    """Per-user contexts and, when small enough, per-(user, arm) ground truth."""

    contexts: np.ndarray  # (n_users, n_features)
    truth: Truth | None  # rows are users, or None: computed per chunk


def _level_tables(
    scenario: Scenario, level_name: str, contexts: np.ndarray, objective: str, max_cells: int
) -> Tables:
    level = scenario.levels[level_name]
    pop = scenario.population
    if pop.n_users * level.n_arms > max_cells:
        return Tables(contexts=contexts, truth=None)
    labels = scenario.segmentation.labels
    exp = scenario.response.expectations(pop, level.arm_attributes(pop, labels))
    return Tables(contexts=contexts, truth=Truth.of(exp, objective))


def audience_tables(
    scenario: Scenario, levels: tuple[str, ...], objective: str, max_cells: int
) -> dict[str, Tables]:
    """Whole-audience contexts and ground truth of ``levels`` (empty when too large).

    ``max_cells`` bounds (users x arms) of a level's truth table (more: computed per
    chunk instead) and, times 4, (users x features) of the contexts.

    Kept in the (immutable) scenario's memo: running another experiment in the
    same world, as the app does, skips recomputing them, and they are freed with
    the world. The arrays are read-only.
    """
    key = ("audience_tables", levels, objective, max_cells)
    if key not in scenario.memo:
        scenario.memo[key] = _compute_audience_tables(scenario, levels, objective, max_cells)
    return scenario.memo[key]


def _compute_audience_tables(
    scenario: Scenario, levels: tuple[str, ...], objective: str, max_cells: int
) -> dict[str, Tables]:
    n_users = scenario.population.n_users
    if n_users * scenario.n_features > 4 * max_cells:
        return {}
    contexts = scenario.contexts(np.arange(n_users))
    tables = {lv: _level_tables(scenario, lv, contexts, objective, max_cells) for lv in levels}
    for table in tables.values():
        arrays = [table.contexts]
        if table.truth is not None:
            t = table.truth
            arrays += [t.ctr, t.cvr, t.value, t.cost, t.reward, t.best]
        for array in arrays:
            array.flags.writeable = False
    return tables


def chunk_truth(scenario: Scenario, level_name: str, idx: np.ndarray, objective: str) -> Truth:
    """Ground truth of the users ``idx`` (n,) computed now, one row per entry of ``idx``."""
    users = scenario.population.take(idx)
    level = scenario.levels[level_name]
    exp = scenario.response.expectations(
        users, level.arm_attributes(users, scenario.segmentation.labels[idx])
    )
    return Truth.of(exp, objective)


@dataclass(frozen=True, slots=True, eq=False)
class Chunk:
    """Consecutive batches of one (seed, level), drawn once for every policy.

    Attributes
    ----------
    first_batch : int
        Index of the chunk's first batch in the run.
    offsets : ndarray of shape (n_batches + 1,), int64
        Batch ``j`` is rows ``offsets[j]:offsets[j + 1]``; only the run's last
        batch may be short.
    users : ndarray of shape (n_rows,), int64
        The user of each impression.
    uniforms : ndarray of shape (3, n_rows)
        The response's click, conversion and basket uniforms (common to all policies).
    segments : ndarray of shape (n_rows,), int64
    truth : Truth
        Ground truth of the audience (rows are users) or of this chunk's rows.
    keys : ndarray of shape (n_rows,), int64
        Row of ``truth`` of each impression.
    context_table : ndarray of shape (n_table, n_features) or None
        Contexts: impression ``i``'s is ``context_table[context_rows[i]]``, or
        ``context_table[i]`` when ``context_rows`` is None. None: not needed.
    context_rows : ndarray of shape (n_rows,), int64, or None
    """

    first_batch: int
    offsets: np.ndarray
    users: np.ndarray
    uniforms: np.ndarray
    segments: np.ndarray
    truth: Truth
    keys: np.ndarray
    context_table: np.ndarray | None
    context_rows: np.ndarray | None

    @property
    def n_batches(self) -> int:
        """Batches in the chunk."""
        return self.offsets.size - 1

    @property
    def n_rows(self) -> int:
        """Impressions in the chunk."""
        return int(self.offsets[-1])

    def batch_of_row(self) -> np.ndarray:
        """Batch (within the chunk) of each row, ndarray of shape (n_rows,)."""
        return np.repeat(np.arange(self.n_batches), np.diff(self.offsets))

    def contexts(self, rows: slice) -> np.ndarray:
        """Contexts of the impressions ``rows``, ndarray of shape (n, n_features)."""
        if self.context_rows is None:
            return self.context_table[rows]
        return self.context_table[self.context_rows[rows]]

    def context_source(self) -> tuple[np.ndarray, np.ndarray]:
        """``(table, rows)``: impression ``i``'s context is ``table[rows[i]]``."""
        rows = self.keys if self.context_rows is None else self.context_rows
        return self.context_table, rows


def draw_chunks(
    scenario: Scenario,
    tables: Tables | None,
    config: ExperimentConfig,
    s: int,
    level_name: str,
    need_features: bool,
    chunk_rows: int,
    break_every: int | None = None,
) -> Iterator[Chunk]:
    """The chunks of level ``level_name`` of replication ``s``, in order.

    Parameters
    ----------
    tables : Tables or None
        The level's audience-wide tables, if kept.
    need_features : bool
        Whether contexts are needed (a contextual policy or a bandit log).
    chunk_rows : int
        About how many impressions a chunk holds (whole batches, at least one).
    break_every : int, optional
        Also end a chunk at every multiple of this many batches (where a
        regenerating pool changes its creatives).
    """
    # Re-created for every level: the same users and uniforms at every level.
    users_rng = stream(config.seed, "replication", s, "users")
    outcome_rng = stream(config.seed, "replication", s, "outcomes")
    labels = scenario.segmentation.labels
    n_users = scenario.population.n_users
    per_chunk = max(1, chunk_rows // config.batch_size)
    starts = range(0, config.n_batches, per_chunk)
    if break_every is not None:
        starts = sorted({*starts, *range(0, config.n_batches, break_every)})
    for b0, b1 in zip(starts, [*starts[1:], config.n_batches]):
        sizes = np.minimum(
            config.batch_size, config.n_impressions - np.arange(b0, b1) * config.batch_size
        )
        # Drawn batch by batch, as the streams were always consumed, so results
        # do not depend on the chunk size.
        users = np.concatenate([users_rng.integers(0, n_users, size=n) for n in sizes])
        uniforms = np.concatenate(
            [scenario.response.draw_uniforms(int(n), outcome_rng) for n in sizes], axis=1
        )
        if tables is not None and tables.truth is not None:
            # Contexts are gathered batch by batch where they are used: a batch's
            # rows stay in cache from the gather to the policy, a chunk's would not.
            truth, keys = tables.truth, users
            context_table, context_rows = tables.contexts, users
        else:
            truth = chunk_truth(scenario, level_name, users, config.objective)
            keys = np.arange(users.size)
            context_table = scenario.contexts(users) if need_features else None
            context_rows = None
        yield Chunk(
            first_batch=b0,
            offsets=np.concatenate([[0], np.cumsum(sizes)]),
            users=users,
            uniforms=uniforms,
            segments=labels[users].astype(np.int64),  # one dtype for the compiled kernels
            truth=truth,
            keys=keys,
            context_table=context_table,
            context_rows=context_rows,
        )
