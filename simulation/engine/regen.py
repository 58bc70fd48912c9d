"""The self-improving pool: regenerate a pool level's weakest creatives every G impressions.

With ``config.regenerate_every = G`` each (seed, pool level, policy) keeps its
own pool of creatives (its own ground truth, since policies pick different
winners). At every multiple of G impressions, rounded to whole batches, the
pool is judged on what it *observed* since each creative was born (never on
the ground truth):

1. each slot's reward per impression (clicks under the CTR objective, net value
   under ROAS), pooled over the level's rows (segments), shrunk towards the
   pool's mean by :data:`PRIOR_IMPRESSIONS` so a barely-served creative counts
   as average rather than as best or worst on noise;
2. the weakest :func:`n_retired` slots (a quarter of the pool, at least one)
   are retired; the ``i``-th weakest gets a child of the ``i``-th best;
3. a child changes one or two components (equally likely) of its parent's
   composition, drawn uniformly among the other levels of uniformly chosen
   axes (not the language) and rejection-sampled until the composition is valid
   in the space (:class:`simulation.scenario.PoolComposer`), passes the
   guardrails in every language it is written in, and differs from every
   composition of the row; a child that fails is never served;
4. the policy forgets the retired slots (:meth:`Policy.forget`) and the pool's
   ground truth is recomputed.

Every creative's generation, parent and changed axes, and what it earned while
it lived, go into the lineage (:meth:`Regeneration.lineage`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig
from simulation.engine.chunks import Chunk, Truth
from simulation.engine.routes import ChunkRoute
from simulation.engine.tally import SEGMENT_METRICS
from simulation.metrics import safe_ratio
from simulation.policies import Policy
from simulation.rng import stream
from simulation.scenario import Level, PoolComposer, Scenario, pool_composer

__all__ = [
    "LINEAGE_COLUMNS",
    "MAX_TRIES",
    "POOL_LEVELS",
    "PRIOR_IMPRESSIONS",
    "RegenRoute",
    "Regeneration",
    "n_retired",
    "regeneration_batches",
]

#: Levels whose pools regenerate.
POOL_LEVELS: tuple[str, ...] = ("generic", "segment")
#: Pseudo-impressions of the pool's mean in each slot's judged reward.
PRIOR_IMPRESSIONS: float = 500.0
#: Mutations tried per child before giving up (the first half must also be new to the row).
MAX_TRIES: int = 400
_C = {name: i for i, name in enumerate(SEGMENT_METRICS)}

#: Columns of the lineage table (:meth:`ExperimentResult.generations_frame` adds
#: ``level, policy, seed`` and ``world`` with several worlds in front).
LINEAGE_COLUMNS: tuple[str, ...] = (
    "generation", "row", "slot", "node", "parent_node", "creative_id", "parent_id", "changed",
    "label", "combo", "composable",
    "born_at", "retired_at", "impressions", "clicks", "conversions", "spend", "revenue",
    "ctr", "roas", "true_ctr",
)  # fmt: skip


def n_retired(n_arms: int) -> int:
    """Slots retired per generation: a quarter of the pool, at least one."""
    return max(1, n_arms // 4)


def regeneration_batches(config: ExperimentConfig) -> int | None:
    """Batches per generation (``regenerate_every`` rounded to whole batches), or None."""
    if config.regenerate_every is None:
        return None
    return max(1, round(config.regenerate_every / config.batch_size))


@dataclass(eq=False)
class Regeneration:
    """One (seed, pool level, policy)'s pool: its creatives, their truth and their lineage.

    Attributes
    ----------
    scenario : Scenario
    composer : PoolComposer
    level : Level
        The pool as it stands (arrays replaced as children are born).
    objective : str
    rng : numpy.random.Generator
        Draws the mutations (its own stream: the policy's draws are unchanged).
    audience_truth : bool
        Keep the pool's truth for the whole audience (else per chunk).
    combos : ndarray of shape (n_rows, n_arms, n_axes), int64
    valid : ndarray of shape (n_rows, n_arms), bool
        Whether the slot's composition is known (founders without one are never parents).
    """

    scenario: Scenario
    composer: PoolComposer
    level: Level
    objective: str
    rng: np.random.Generator
    audience_truth: bool
    combos: np.ndarray = field(init=False)
    valid: np.ndarray = field(init=False)
    truth: Truth | None = field(init=False, default=None)
    generation: int = field(init=False, default=0)
    records: list = field(init=False, default_factory=list)
    current: np.ndarray = field(init=False)  # (n_rows, n_arms) index into records
    birth: np.ndarray = field(init=False)  # (n_rows, n_arms, n_cell_metrics)
    creatives: dict = field(init=False, default_factory=dict)  # creative id -> Creative
    row_names: tuple = field(init=False, default=())

    def __post_init__(self) -> None:
        c = self.composer
        self.combos = c.founders.copy()
        self.valid = c.founder_valid.copy()
        n_rows, k = self.valid.shape
        self.current = np.zeros((n_rows, k), dtype=np.int64)
        self.birth = np.zeros((n_rows, k, len(SEGMENT_METRICS)))
        names = c.row_names(tuple(p.name for p in self.scenario.segmentation.profiles))
        self.row_names = names
        self._refresh_truth()
        for r in range(n_rows):
            for j in range(k):
                cr = self.level.creatives[max(c.entries[r][0][0], 0)][j]
                self.creatives[cr.creative_id] = cr
                self.current[r, j] = self._record(r, j, cr.creative_id, -1, "", 0)
                if not self.valid[r, j]:
                    self.records[-1]["label"] = c.creative_label(cr)

    def _record(self, r: int, j: int, cid: str, parent: int, changed: str, at: int) -> int:
        self.records.append(
            {
                "generation": self.generation,
                "row": self.row_names[r],
                "slot": j,
                # Lineage by position: a creative id can recur (a child may recreate
                # the content of a creative retired earlier).
                "node": len(self.records),
                "parent_node": parent,
                "creative_id": cid,
                "parent_id": None if parent < 0 else self.records[parent]["creative_id"],
                "changed": changed,
                "label": self.composer.label(self.combos[r, j]),
                # The composition, one level per axis (language: the first written).
                "combo": " ".join(str(int(x)) for x in self.combos[r, j])
                if self.valid[r, j]
                else "",
                # A founder's composition is read as served, and its copy was drawn apart
                # from the studio's rules: it may be one the studio never composes (a call
                # to action its tone lacks in the space); a child always is one.
                "composable": bool(
                    self.valid[r, j] and self.composer.is_valid(r, self.combos[r, j])[0]
                ),
                "born_at": at,
                "retired_at": None,
                "true_ctr": self._true_ctr(r, j),
            }
        )
        return len(self.records) - 1

    def _true_ctr(self, r: int, j: int) -> float:
        """The creative's mean true CTR over its row's users (NaN without the audience table)."""
        if self.truth is None:
            return float("nan")
        ctr = self.truth.ctr.reshape(-1, self.truth.n_arms)[:, j]
        if self.composer.level == "segment":
            ctr = ctr[self.scenario.segmentation.labels == r]
        return float(ctr.mean()) if ctr.size else float("nan")

    def _refresh_truth(self) -> None:
        if not self.audience_truth:
            return
        pop, labels = self.scenario.population, self.scenario.segmentation.labels
        exp = self.scenario.response.expectations(pop, self.level.arm_attributes(pop, labels))
        self.truth = Truth.of(exp, self.objective)

    def chunk(self, chunk: Chunk) -> Chunk:
        """``chunk`` with this pool's ground truth in place of the fixed pool's."""
        if self.truth is not None:
            return dataclasses.replace(chunk, truth=self.truth, keys=chunk.users)
        users = self.scenario.population.take(chunk.users)
        labels = self.scenario.segmentation.labels[chunk.users]
        exp = self.scenario.response.expectations(users, self.level.arm_attributes(users, labels))
        return dataclasses.replace(
            chunk, truth=Truth.of(exp, self.objective), keys=np.arange(chunk.n_rows)
        )

    def _observed(self, cells: np.ndarray | None) -> np.ndarray:
        """Totals per (row, slot) since birth, ndarray of shape (n_rows, n_arms, n_metrics)."""
        n_rows, k = self.valid.shape
        if cells is None:
            return np.zeros((n_rows, k, len(SEGMENT_METRICS)))
        per_seg = cells.reshape(-1, k, len(SEGMENT_METRICS))
        now = per_seg.sum(axis=0, keepdims=True) if n_rows == 1 else per_seg
        return now - self.birth

    def _close(self, index: int, stats: np.ndarray, at: int | None) -> None:
        rec = self.records[index]
        rec["retired_at"] = at
        for m, name in enumerate(SEGMENT_METRICS):
            rec[name] = float(stats[m])

    def regenerate(self, policy: Policy, cells: np.ndarray | None, at: int) -> np.ndarray:
        """Retire the weakest slots, breed children of the best; return the retired slots.

        Parameters
        ----------
        policy : Policy
            Forgets the retired slots.
        cells : ndarray of shape (n_segments * n_arms, len(SEGMENT_METRICS)) or None
            The policy's observed totals per (segment, arm) so far (the engine's tally).
        at : int
            Impressions served so far (the children's birth).
        """
        self.generation += 1
        observed = self._observed(cells)
        retired, parents = self._judge(observed.sum(axis=0))
        now = observed + self.birth
        for j, p in zip(retired.tolist(), parents.tolist()):
            for r in range(self.valid.shape[0]):
                child = self._child(r, p)
                if child is None:
                    continue  # no valid mutation found: the slot keeps its creative
                combo, changed, creatives = child
                self._close(self.current[r, j], observed[r, j], at)
                self.combos[r, j], self.valid[r, j] = combo, True
                self.level = self.composer.place(self.level, r, j, creatives)
                self.birth[r, j] = now[r, j]
                self.creatives[creatives[0].creative_id] = creatives[0]
                self.current[r, j] = self._record(
                    r, j, creatives[0].creative_id, int(self.current[r, p]), changed, at
                )
        self._refresh_truth()
        for index in self.current[:, retired].ravel().tolist():
            rec = self.records[index]
            if rec["born_at"] == at:
                r = self.row_names.index(rec["row"])
                rec["true_ctr"] = self._true_ctr(r, rec["slot"])
        policy.forget(retired)
        return retired

    def _judge(self, per_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Retired slots (weakest first) and their parents (best first), from observed totals."""
        n = per_slot[:, _C["impressions"]]
        if self.objective == "ctr":
            reward = per_slot[:, _C["clicks"]]
        else:
            reward = per_slot[:, _C["revenue"]] - per_slot[:, _C["spend"]]
        mean = float(reward.sum() / n.sum()) if n.sum() > 0 else 0.0
        score = (reward + PRIOR_IMPRESSIONS * mean) / (n + PRIOR_IMPRESSIONS)
        order = np.argsort(score, kind="stable")  # weakest first; ties by slot
        m = n_retired(score.size)
        retired = order[:m]
        # Parents: the best slots whose compositions are known in every row.
        best = [j for j in order[::-1].tolist() if self.valid[:, j].all() and j not in retired]
        if not best:
            best = [j for j in order[::-1].tolist() if j not in retired]
        parents = np.array([best[i % len(best)] for i in range(m)], dtype=np.int64)
        return retired.astype(np.int64), parents

    def _child(self, r: int, p: int) -> tuple[np.ndarray, str, tuple] | None:
        """A mutation of row ``r``'s slot ``p``: (combo, changed axes, creatives), or None."""
        if not self.valid[r, p]:
            return None
        parent = self.combos[r, p]
        axes = self.composer.mutable_axes
        n_levels = np.asarray(self.composer.space.n_levels)
        names = self.composer.space.axis_names
        for attempt in range(MAX_TRIES):
            n_change = int(self.rng.integers(1, 3))
            chosen = np.sort(self.rng.choice(axes, size=n_change, replace=False))
            combo = parent.copy()
            for a in chosen.tolist():
                step = int(self.rng.integers(0, n_levels[a] - 1))
                combo[a] = step + (step >= parent[a])  # any other level, uniformly
            # The first half of the tries also asks for a composition new to the row.
            if attempt < MAX_TRIES // 2 and (self.combos[r] == combo).all(axis=1).any():
                continue
            creatives = self.composer.compose(r, combo)
            if creatives is not None:
                return combo, ",".join(names[a] for a in chosen.tolist()), creatives
        return None

    def lineage(self, cells: np.ndarray | None) -> pd.DataFrame:
        """Every creative the pool held, with what it earned while it lived.

        Parameters
        ----------
        cells : ndarray or None
            The policy's final observed totals per (segment, arm).

        Returns
        -------
        lineage : DataFrame
            Columns :data:`LINEAGE_COLUMNS`; ``retired_at`` is NaN for the living.
        """
        observed = self._observed(cells)
        for r in range(self.current.shape[0]):
            for j in range(self.current.shape[1]):
                self._close(self.current[r, j], observed[r, j], None)
        frame = pd.DataFrame(self.records)
        frame["retired_at"] = frame["retired_at"].astype("float64")
        frame["ctr"] = safe_ratio(frame["clicks"].to_numpy(), frame["impressions"].to_numpy())
        frame["roas"] = safe_ratio(frame["revenue"].to_numpy(), frame["spend"].to_numpy())
        return frame.loc[:, list(LINEAGE_COLUMNS)]


@dataclass(eq=False)
class RegenRoute(ChunkRoute):
    """A pool policy's route with its own regenerating pool.

    Plays each chunk on the pool's ground truth; at a chunk that starts a new
    generation, regenerates first from the tally's observed totals. The engine
    splits chunks at generation boundaries (``draw_chunks(..., break_every=...)``).

    Attributes
    ----------
    inner : ChunkRoute
        The policy's own route, played on the pool's truth.
    policy : Policy
    pool : Regeneration
    every : int
        Batches per generation.
    batch_size : int
    tally : simulation.engine.core._Tally or None
        The engine's tally of this policy, given by :meth:`observe` before the first chunk.
    """

    inner: ChunkRoute
    policy: Policy
    pool: Regeneration
    every: int
    batch_size: int
    tally: object = None
    _last: Chunk | None = field(default=None, init=False, repr=False)

    def observe(self, tally) -> None:
        """Keep the engine's tally: generations are judged on its observed totals."""
        self.tally = tally

    def play(self, chunk: Chunk) -> np.ndarray:
        """Regenerate if a generation starts here, then play the chunk on the pool's truth."""
        if chunk.first_batch > 0 and chunk.first_batch % self.every == 0:
            retired = self.pool.regenerate(
                self.policy, self.tally.cells, chunk.first_batch * self.batch_size
            )
            self.inner.drop_pending(retired)
        self._last = self.pool.chunk(chunk)
        return self.inner.play(self._last)

    def served(self, chunk: Chunk) -> Chunk:
        """The chunk as played (with the pool's truth), for the engine's tally."""
        return self._last if self._last is not None else chunk

    def lineage(self) -> pd.DataFrame:
        """:meth:`Regeneration.lineage` at the end of the run."""
        return self.pool.lineage(self.tally.cells)


def regen_route(
    inner: ChunkRoute,
    policy: Policy,
    scenario: Scenario,
    config: ExperimentConfig,
    s: int,
    level_name: str,
    spec: str,
    audience_truth: bool,
) -> RegenRoute:
    """Wrap ``inner`` (the policy's route) in its own regenerating pool.

    ``spec`` names the pool's random stream: the policy's spec without its settings
    (:attr:`simulation.policies.PolicySpec.stream_name`), as the policy's own stream.
    """
    pool = Regeneration(
        scenario=scenario,
        composer=pool_composer(scenario, level_name),
        level=scenario.levels[level_name],
        objective=config.objective,
        rng=stream(config.seed, "replication", s, "regenerate", level_name, spec),
        audience_truth=audience_truth,
    )
    return RegenRoute(
        inner=inner,
        policy=policy,
        pool=pool,
        every=regeneration_batches(config),
        batch_size=config.batch_size,
    )
