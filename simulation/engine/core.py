"""The batched experiment loop.

For every replication seed and personalization level, impressions arrive in
batches of ``batch_size``. Each round: draw the batch's users, compute the
expected outcome of every arm for every user (ground truth), then let every
policy choose arms for the *same* users and realize outcomes from the *same*
uniforms (common random numbers, so policy differences are paired), and update
the policies (after ``conversion_delay`` impressions).

The rounds are processed a chunk (about 65,000 impressions) at a time: the
chunk's users and uniforms are drawn and its ground truth looked up at once
(:mod:`simulation.engine.chunks`), each policy plays the chunk's batches in
order on its route (:mod:`simulation.engine.routes`: compiled, or its own
``select`` and ``update``), and what it served is totalled afterwards in one
compiled pass (:mod:`simulation.engine.tally`). The draws are the same whatever
the chunk size.

Memory does not grow with the number of impressions: totals are kept per
(seed, level, policy), copied into a time series at checkpoints, with
cumulative allocation per arm and final totals per (segment, arm).
Impression-level logs are written only on request, streamed in chunks.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from simulation import compiled
from simulation.config import ExperimentConfig, applies
from simulation.engine.chunks import (
    Chunk,
    Tables,
    Truth,
    audience_tables,
    draw_chunks,
)
from simulation.engine.chunks import chunk_truth as _chunk_truth  # noqa: F401 (tests use it)
from simulation.engine.generated import (
    GeneratedOutputs,
    drop_skipped,
    fork_safe,
    generated_outputs,
    generated_route,
    generated_tables,
)
from simulation.engine.live import LiveSeries, _WorldLive
from simulation.engine.regen import POOL_LEVELS, regen_route, regeneration_batches
from simulation.engine.routes import (
    ChunkRoute,
    CompiledRoute,
    LogTarget,
    PythonRoute,
    compiled_route,
)
from simulation.engine.tally import (
    SEGMENT_METRICS,
    SERIES_METRICS,
    ServedRows,
    batch_totals,
    fused_totals,
)
from simulation.gap_closed import gap_closed, gap_has_rows, with_expected_reward
from simulation.metrics import add_rates, like_for_like_uplift, safe_ratio
from simulation.policies import PolicySpec, make_policy
from simulation.policies.base import Policy, learning_scale
from simulation.rng import stream
from simulation.scenario import Scenario, build_scenario

if TYPE_CHECKING:
    from simulation.composition_truth import LanguageFloor

__all__ = [
    "SEGMENT_METRICS",
    "SERIES_METRICS",
    "SUMMARY_COLUMNS",
    "TIMESERIES_METRICS",
    "ExperimentResult",
    "RunCancelled",
    "experiment_tables",
    "run_experiment",
    "world_seed",
]

_M = {name: i for i, name in enumerate(SERIES_METRICS)}
#: Columns of :meth:`ExperimentResult.timeseries_frame` before its rates: the
#: published time series (expected conversions are in the summary only).
TIMESERIES_METRICS: tuple[str, ...] = tuple(
    m for m in SERIES_METRICS if m != "expected_conversions"
)

#: Columns of :meth:`ExperimentResult.summary_frame`, in order (``world`` comes before
#: ``seed`` with several worlds): one list for ``run --out``'s ``summary.csv``, the stored
#: summary and its export, so the same run never reads as two different tables.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "policy", "level", "seed", "impressions", "clicks", "conversions", "spend", "revenue",
    "ctr", "cvr", "cpa", "roas", "regret", "expected_ctr", "expected_roas",
    "expected_conversions", "expected_revenue", "stopped_at_impression",
)  # fmt: skip

ProgressFn = Callable[[int, int], None]
#: ``sink(replication, level, first, rows)``: a unit's checkpoints ``first ..`` just
#: tallied, ``rows`` of shape (n_policies, k, len(SERIES_METRICS)) (see :class:`LiveSeries`).
CheckpointSink = Callable[[int, int, int, np.ndarray], None]


class RunCancelled(Exception):
    """A run was stopped through its ``stop`` event; nothing of it is returned."""


def _memoized_frame(method):
    """A frame method of :class:`ExperimentResult`, built once per result and arguments.

    The frames are pure functions of the result's (read-only) arrays; the app builds
    several of them twice (for the page and for the run store) and the summary six
    times. Each call returns a copy, which its caller may change.
    """

    @functools.wraps(method)
    def frame(self, *args, **kwargs):
        key = (method.__name__, args, tuple(sorted(kwargs.items())))
        built = self._frames.get(key)
        if built is None:
            built = self._frames[key] = method(self, *args, **kwargs)
        return built.copy()

    return frame


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ExperimentResult:
    """Everything an experiment measured, as arrays with readable views.

    Attributes
    ----------
    config : ExperimentConfig
    levels, policies : tuple of str
    checkpoints : ndarray of shape (n_checkpoints,)
        Impressions served (per policy, before any budget stop) at each checkpoint.
    series : ndarray of shape (n_replications, n_levels, n_policies, n_checkpoints, n_metrics)
        Cumulative totals of :data:`SERIES_METRICS`. Replications are world-major:
        replication ``r`` is seed ``r % n_seeds`` of world ``r // n_seeds``.
    allocation : ndarray of shape (n_replications, n_levels, n_policies, n_checkpoints, n_arms)
        Cumulative impressions per arm.
    segment_stats : ndarray of shape (n_replications, n_levels, n_policies, n_segments, n_arms, 5)
        Final totals of :data:`SEGMENT_METRICS` per segment and arm.
    arm_labels : dict of str to tuple of str
        Per level (of world 0).
    segment_names : tuple of str
    elapsed_seconds : float
    n_worlds : int, default=1
    world_arm_labels : tuple of dict, default=()
        Each world's ``arm_labels`` (empty for one world).
    generations : DataFrame or None, default=None
        The regenerated pools' lineage (``config.regenerate_every``), see
        :meth:`generations_frame`; None for fixed pools.
    world_floors : tuple of LanguageFloor or None, default=()
        Each world's localized floor (:func:`simulation.composition_truth.language_floor`,
        true), for a run in several worlds whose gap-closed table has rows (the generated
        level, ``uniform`` and another policy that composes): the worlds other than the
        first are not kept, so their floors are taken while they are at hand. None for a
        world whose generated level has no language axis
        (:func:`simulation.composition_truth.language_is_axis` False, ``hill48``): its
        table has no share from the floor, so none is drawn. Empty otherwise (one world's
        floor is read from its scenario).
    """

    config: ExperimentConfig
    levels: tuple[str, ...]
    policies: tuple[str, ...]
    checkpoints: np.ndarray
    series: np.ndarray
    allocation: np.ndarray
    segment_stats: np.ndarray
    arm_labels: dict[str, tuple[str, ...]]
    segment_names: tuple[str, ...]
    elapsed_seconds: float

    n_worlds: int = 1
    world_arm_labels: tuple[dict[str, tuple[str, ...]], ...] = ()
    generated: GeneratedOutputs | None = None
    generations: pd.DataFrame | None = None
    world_floors: tuple[LanguageFloor | None, ...] = ()
    #: Frames built so far (see :func:`_memoized_frame`).
    _frames: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Read-only, like the config: the frames are memoized from these arrays, so an
        # in-place edit (``result.series *= 100`` in a notebook) would leave the frames
        # telling another story than the arrays. Copy an array to work on it.
        for array in (self.checkpoints, self.series, self.allocation, self.segment_stats):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False

    def generations_frame(self) -> pd.DataFrame:
        """Every creative a regenerating pool held: generation, lineage and what it earned.

        One row per (level, policy, seed, creative) (``world`` before ``seed``
        with several worlds) with :data:`simulation.engine.regen.LINEAGE_COLUMNS`:
        the generation it was born in (0: the founders), its row (``all`` at the
        generic level, else the segment) and slot, its ``node`` (its number in
        the unit's lineage) and its parent's (``parent_node``, -1 for founders),
        its creative id and its parent's (None for founders), the axes it
        changed, a readable label and its composition (``combo``: a level index
        per axis of the studio's component space, space-separated; "" for a
        founder no composition matches), when it was born and retired
        (impressions; NaN while alive), its observed totals, CTR and ROAS while
        it lived, and its true mean CTR over the row's users (NaN when the
        audience is too large for an audience-wide table). Empty without
        regeneration.
        """
        if self.generations is None:
            return pd.DataFrame()
        return self.generations.copy()

    @_memoized_frame
    def component_effects_frame(self) -> pd.DataFrame:
        """mvt_ts's per-component effect estimates with 95 % intervals beside the true effects.

        One row per (policy, seed, segment or "all", component level) of the
        generated level (world 0 of a multi-world run); empty without it.
        See :meth:`simulation.engine.generated.GeneratedOutputs.effects_frame`.
        """
        if self.generated is None:
            return pd.DataFrame()
        return self.generated.effects_frame()

    @_memoized_frame
    def component_allocation_frame(self) -> pd.DataFrame:
        """What each policy served at the generated level, component by component.

        One row per (policy, seed, segment or "all", component level): impressions
        served with that component and their share of the group's (world 0 of a
        multi-world run); empty without the generated level. See
        :meth:`simulation.engine.generated.GeneratedOutputs.served_frame`.
        """
        if self.generated is None:
            return pd.DataFrame()
        return self.generated.served_frame()

    @_memoized_frame
    def top_creatives_frame(self) -> pd.DataFrame:
        """Each segment's most-served composition at the generated level (empty without it)."""
        if self.generated is None:
            return pd.DataFrame()
        return self.generated.top_frame()

    @property
    def n_replications(self) -> int:
        """Replications over all worlds (the leading axis of the arrays)."""
        return int(self.series.shape[0])

    @property
    def n_seeds(self) -> int:
        """Replications per world."""
        return self.n_replications // self.n_worlds

    def _replication_columns(self, replication: np.ndarray) -> dict[str, np.ndarray]:
        """``world`` (only with several worlds) and ``seed`` of replication indices."""
        replication = np.asarray(replication)
        cols = {"seed": replication % self.n_seeds}
        if self.n_worlds > 1:
            cols = {"world": replication // self.n_seeds, **cols}
        return cols

    @_memoized_frame
    def summary_frame(self) -> pd.DataFrame:
        """One row per (policy, level, seed) (and world, with several) with totals and rates.

        Observed totals and rates, regret, and the expected (true) values of the
        impressions served: ``expected_ctr``, ``expected_roas``,
        ``expected_conversions`` and ``expected_revenue`` (sums of the shown
        pairs' expectations, not noisy draws). A ``world`` column comes before
        ``seed`` when the experiment ran in several worlds.
        """
        final = self.series[:, :, :, -1, :]
        rows = []
        for r in range(self.n_replications):
            for li, level in enumerate(self.levels):
                for pi, policy in enumerate(self.policies):
                    t = final[r, li, pi]
                    exp_ctr = safe_ratio(t[_M["expected_clicks"]], t[_M["impressions"]])
                    exp_roas = safe_ratio(t[_M["expected_revenue"]], t[_M["expected_spend"]])
                    rows.append(
                        {
                            "policy": policy,
                            "level": level,
                            **{k: int(v) for k, v in self._replication_columns(r).items()},
                            **{m: t[_M[m]] for m in SERIES_METRICS[:6]},
                            "expected_ctr": float(exp_ctr),
                            "expected_roas": float(exp_roas),
                            "expected_conversions": float(t[_M["expected_conversions"]]),
                            "expected_revenue": float(t[_M["expected_revenue"]]),
                        }
                    )
        frame = add_rates(pd.DataFrame(rows))
        frame["stopped_at_impression"] = self.stopped_at().reshape(-1)
        frame["impressions"] = frame["impressions"].astype(np.int64)
        frame["clicks"] = frame["clicks"].astype(np.int64)
        frame["conversions"] = frame["conversions"].astype(np.int64)
        cols = list(SUMMARY_COLUMNS)
        if self.n_worlds > 1:
            cols.insert(cols.index("seed"), "world")
        return drop_skipped(frame[cols], self.config)

    @_memoized_frame
    def gap_closed_frame(
        self, *, alpha: float = 0.05, floor: tuple[float, float] | None = None
    ) -> pd.DataFrame:
        """The share of the uniform -> oracle gap each policy closed at the generated level.

        :func:`simulation.gap_closed.gap_closed` of :meth:`summary_frame`
        (``gap_closed.csv``); empty without the generated level or ``uniform``. With
        ``floor`` (the world's localized floor and its standard error in the objective's
        reward, ``composition_truth.language_floor(world).reward(objective)``; one world
        only) also the share from that floor and the language's share of the gap.
        """
        summary = self.summary_frame()
        if floor is not None:
            summary = with_expected_reward(summary, self.timeseries_frame())
        return gap_closed(summary, alpha=alpha, floor=floor)

    @_memoized_frame
    def uplift_frame(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """Like-for-like uplift of each level over the generic one (``uplift.csv``).

        :func:`simulation.metrics.like_for_like_uplift` of :meth:`summary_frame`
        under the config's objective: observed paired changes with their
        interval (over seeds; over world means with several worlds), beside the
        expected (true) change.
        """
        return like_for_like_uplift(
            self.summary_frame(), objective=self.config.objective, alpha=alpha
        )

    def stopped_at(self) -> np.ndarray:
        """Impressions served before the budget stopped each run (NaN: not stopped).

        A spend cap leaves the rows after the budget ran out unserved, so a run
        the budget stopped served fewer than ``config.n_impressions``.

        Returns
        -------
        stopped : ndarray of shape (n_replications, n_levels, n_policies)
            Float (NaN where the run served every impression). ``n_replications``
            is ``n_worlds * n_seeds``, world-major: replication ``r`` is seed
            ``r % n_seeds`` of world ``r // n_seeds``, as in :attr:`series`.
        """
        served = self.series[:, :, :, -1, _M["impressions"]]
        return np.where(served < self.config.n_impressions, served, np.nan)

    @_memoized_frame
    def timeseries_frame(self) -> pd.DataFrame:
        """Long table: one row per (seed, level, policy, checkpoint) with cumulative metrics.

        Columns :data:`TIMESERIES_METRICS` (``world`` before ``seed`` with several worlds).
        """
        n_s, n_l, n_p, n_c, _ = self.series.shape
        idx = np.indices((n_s, n_l, n_p, n_c)).reshape(4, -1)
        keep = [_M[m] for m in TIMESERIES_METRICS]
        flat = self.series[..., keep].reshape(-1, len(keep))
        frame = pd.DataFrame(flat, columns=list(TIMESERIES_METRICS))
        frame.insert(0, "step", self.checkpoints[idx[3]])
        frame.insert(0, "policy", np.asarray(self.policies, dtype=object)[idx[2]])
        frame.insert(0, "level", np.asarray(self.levels, dtype=object)[idx[1]])
        for i, (name, values) in enumerate(self._replication_columns(idx[0]).items()):
            frame.insert(i, name, values)
        return drop_skipped(add_rates(frame), self.config)

    @_memoized_frame
    def allocation_frame(self) -> pd.DataFrame:
        """Long table of cumulative impressions per arm at each checkpoint."""
        n_s, n_l, n_p, n_c, n_a = self.allocation.shape
        idx = np.indices((n_s, n_l, n_p, n_c, n_a)).reshape(5, -1)
        per_world = self.world_arm_labels or (self.arm_labels,)
        world = idx[0] // self.n_seeds
        frame = pd.DataFrame(
            {
                **self._replication_columns(idx[0]),
                "level": np.asarray(self.levels, dtype=object)[idx[1]],
                "policy": np.asarray(self.policies, dtype=object)[idx[2]],
                "step": self.checkpoints[idx[3]],
                "arm": idx[4],
                # Levels with fewer arms than the widest (generated: one) pad with "".
                "arm_label": [
                    _arm_label(per_world[w][self.levels[li]], a)
                    for w, li, a in zip(world, idx[1], idx[4])
                ],
                "impressions": self.allocation.reshape(-1),
            }
        )
        return drop_skipped(frame, self.config)

    @_memoized_frame
    def segment_frame(self) -> pd.DataFrame:
        """Final totals per (seed, level, policy, segment, arm), with rates."""
        shape = self.segment_stats.shape[:5]
        idx = np.indices(shape).reshape(5, -1)
        frame = pd.DataFrame(
            self.segment_stats.reshape(-1, len(SEGMENT_METRICS)), columns=list(SEGMENT_METRICS)
        )
        frame.insert(0, "arm", idx[4])
        frame.insert(0, "segment", idx[3])
        frame.insert(0, "policy", np.asarray(self.policies, dtype=object)[idx[2]])
        frame.insert(0, "level", np.asarray(self.levels, dtype=object)[idx[1]])
        for i, (name, values) in enumerate(self._replication_columns(idx[0]).items()):
            frame.insert(i, name, values)
        return drop_skipped(add_rates(frame), self.config)


def _level_arm_labels(scenario: Scenario, config: ExperimentConfig, level: str) -> tuple[str, ...]:
    """The names of ``level``'s arms in the result: its creatives', or its slots'.

    A regenerated pool's arm is a slot whose creative is retired and replaced
    during the run (the lineage, ``generations.csv``, says which held it when), so
    naming it after its founding creative would be wrong for most of the run; it is
    "Slot 1", "Slot 2", ... as the app's charts name it. Fixed pools keep their
    creatives' names.
    """
    labels = scenario.levels[level].arm_labels
    if config.regenerate_every is not None and level in POOL_LEVELS:
        return tuple(f"Slot {a + 1}" for a in range(len(labels)))
    return labels


def _arm_label(labels: tuple[str, ...], arm: int) -> str:
    """Label of ``arm``, or "" past the level's arms (levels narrower than the widest)."""
    return labels[arm] if arm < len(labels) else ""


#: Largest (users x arms) for which a level's expectations are computed once
#: for the whole audience instead of per batch (4 arrays of float64 each).
_TABLE_CELLS = 4_000_000


def _checkpoint_batches(n_batches: int, n_checkpoints: int) -> np.ndarray:
    """Indices of the batches after which the series is recorded (always the last)."""
    marks = np.unique(np.round(np.linspace(1, n_batches, min(n_checkpoints, n_batches))))
    return marks.astype(np.int64) - 1


def _reward_scale(scenario: Scenario, policy: Policy) -> tuple[float, float]:
    """``(low, span)`` of the ROAS objective's reward ``(net value - low) / span`` for ``policy``.

    :func:`simulation.policies.base.learning_scale` over the range of net value
    the response allows, ``[-max_cost, max_revenue]`` (written into a bandit log
    too, so off-policy evaluation trains a policy on the same scale).
    """
    return learning_scale(policy, *_value_range(scenario))


def _value_range(scenario: Scenario) -> tuple[float, float]:
    """The smallest and largest net value (USD) of one impression in ``scenario``."""
    return -scenario.response.max_cost, scenario.response.max_revenue


def experiment_tables(scenario: Scenario, config: ExperimentConfig) -> dict[str, Tables]:
    """The audience-wide tables ``config``'s levels read in ``scenario``, built once per world.

    Each level's contexts and ground truth, and the generated level's exact oracle (its
    first build takes seconds). Kept in the scenario's memo: :func:`run_experiment` calls
    this first, and the app calls it ahead of time, in the background, so a first run in a
    new world does not wait for them.

    Returns
    -------
    tables : dict of str to Tables
        By level name; a pool level is missing when its tables would be too large (its
        truth is then computed per chunk).
    """
    levels = tuple(lv for lv in config.levels if lv in scenario.levels)
    table_levels = tuple(lv for lv in levels if lv != "generated")
    tables = audience_tables(scenario, table_levels, config.objective, _TABLE_CELLS)
    if "generated" in levels:  # its own tables (the exact oracle)
        tables = {**tables, "generated": generated_tables(scenario, config.objective)}
    return tables


def run_experiment(
    config: ExperimentConfig,
    *,
    scenario: Scenario | None = None,
    progress: ProgressFn | None = None,
    log_path: str | Path | None = None,
    n_jobs: int | None = None,
    stop: threading.Event | None = None,
    live: LiveSeries | None = None,
    early: Callable[[ExperimentResult], None] | None = None,
) -> ExperimentResult:
    """Run every (seed, level, policy) of ``config``.

    Parameters
    ----------
    config : ExperimentConfig
    scenario : Scenario, optional
        The world to use (built from ``config`` when omitted).
    progress : callable, optional
        ``progress(done, total)`` after every chunk: impressions served so far and in
        all, over seeds, levels and the policies played at each level (a pair that
        does not apply, such as ``mvt_ts`` at a pool level, serves none).
    log_path : str or Path, optional
        Write impression-level logged bandit feedback (with propensities and
        the true expected reward of every arm) to this Parquet file.
    n_jobs : int, optional
        Worker processes, each running one (seed, level) unit at a time.
        Default: as many as there are cores and units (1 when logging, which
        streams to one file). Results do not depend on it: every unit's draws
        come from its own named streams.
    stop : threading.Event, optional
        Set it (from another thread) to end the run: it is checked after every
        chunk (about 65,000 impressions) here and in the workers, and the
        workers are ended within a second.
    live : LiveSeries, optional
        Receives each unit's checkpoints as they are tallied (from the workers
        through the progress queue), for another thread to read while the run
        is under way. The result does not depend on it.
    early : callable, optional
        ``early(result)`` is called once, from this thread, as soon as every pool level
        (generic, segment, user) has finished, when the run also has the generated level
        (whose units take several times as long): ``result`` is those levels' part of
        the run, the same numbers as a run of ``config`` without the generated level.
        The app draws it while the generated level runs. The pool levels' units run
        first then, and the workers at a lower priority (``nice`` +10), so that drawing
        them gets the cores while the generated level runs. Called before this function
        returns; never for a run of several worlds or with ``log_path``. A failing
        ``early`` never stops the run.

    With ``config.n_worlds > 1`` the experiment runs once per world (see
    :func:`world_seed`) on the same audience, and the results are stacked
    world-major along the replication axis.

    Returns
    -------
    result : ExperimentResult

    Raises
    ------
    RunCancelled
        When ``stop`` was set before the run finished (a log being written is
        removed; nothing else was written).
    """
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs < 1
    ):
        raise ValueError(
            f"`n_jobs` must be a whole number of processes, 1 or more; got {n_jobs!r}."
        )
    if log_path is not None:  # checked before the run, not after it
        target = Path(log_path)
        if target.is_dir():
            raise ValueError(f"`log_path` must name a file; {target} is a folder.")
        if not target.parent.is_dir():
            raise ValueError(f"`log_path`'s folder {target.parent} does not exist.")
    if config.n_worlds > 1:
        return _run_worlds(config, scenario=scenario, progress=progress, log_path=log_path,
                           n_jobs=n_jobs, stop=stop, live=live)  # fmt: skip
    started = time.perf_counter()
    scenario = scenario if scenario is not None else build_scenario(config)
    check_scenario(config, scenario)
    levels = tuple(lv for lv in config.levels if lv in scenario.levels)
    n_seeds, n_levels, n_pol = config.n_seeds, len(levels), len(config.policies)
    n_arms = max(scenario.levels[lv].n_arms for lv in levels)
    n_seg = scenario.segmentation.n_segments
    ckpt_batches = _checkpoint_batches(config.n_batches, config.n_checkpoints)
    n_ckpt = ckpt_batches.size
    total_impressions = n_seeds * config.n_impressions * _pairs_played(config, levels)
    tables = experiment_tables(scenario, config)  # before any fork
    job = _SeedJob(scenario, tables, config, levels, ckpt_batches, (n_pol, n_ckpt, n_arms, n_seg))
    # Units of work are (seed, level) pairs: finer than seeds, so two workers
    # stay busy to the end (3 seeds x 3 levels balance better than 3 seeds).
    units = [(s, li) for s in range(n_seeds) for li in range(n_levels)]
    if n_jobs is None:
        n_jobs = 1 if log_path is not None else min(len(units), os.cpu_count() or 1)
    if log_path is not None and n_jobs != 1:
        raise ValueError("logging streams to one file: use n_jobs=1 with log_path.")
    # Workers are forked so they inherit the world without pickling it; only on
    # Linux, where fork from a threaded process (the app's server) is dependable.
    parallel = n_jobs > 1 and len(units) > 1 and sys.platform.startswith("linux") and fork_safe()
    counter = _Progress(progress, total_impressions, stop)
    counter.check()
    ckpt_impressions = np.minimum((ckpt_batches + 1) * config.batch_size, config.n_impressions)
    if live is not None:
        live._start(config, levels, ckpt_impressions, n_seeds, len(SERIES_METRICS))
    sink = None if live is None else live._add
    # Compiled kernels are loaded before forking, so workers inherit them (the
    # linear ones only when a linear policy runs: loading them takes a second or two).
    compiled.warm_up("tally")
    compiled.warm_up("counting")
    if any(spec.name in ("lin_ucb", "lin_ts") for spec in config.policy_specs):
        compiled.warm_up("linear")
    if "generated" in levels and "mvt_ts" in config.policies:
        # mvt_ts's component effects read the space's valid-composition means: counted
        # here once, every unit (forked or not) reads them instead of counting its own.
        _ = scenario.levels["generated"].space.valid_feature_means
    # The policies' matrices are small: BLAS threads only contend (and spin) for
    # the cores, so the loop runs single-threaded BLAS (set once here: forked
    # workers inherit it; per unit it cost a scan of the loaded libraries).
    # A logged run writes its units in order: its levels are not shown early.
    shown_early = _early_levels(config, levels) if early is not None and log_path is None else ()
    on_early = None
    if shown_early:

        def on_early(done: dict) -> None:
            keep = [li for li in range(n_levels) if levels[li] in shown_early]
            part = {(s, keep.index(li)): out for (s, li), out in done.items()}
            sub = config.replace(levels=shown_early)
            # A view of the run, never its end: a failure here must not stop it.
            with contextlib.suppress(Exception):
                early(_assemble(scenario, sub, shown_early, part, ckpt_impressions, started))

    # In one process the units run seed by seed (a log is written in that order), unless
    # the pool levels go first to be shown early.
    order = _unit_order(units, levels, pools_first=bool(shown_early))
    if not parallel and not shown_early:
        order = units
    first = [u for u in order if levels[u[1]] in shown_early]
    with _SINGLE_THREADED_BLAS:
        if parallel:
            outputs = _run_parallel(job, order, n_jobs, counter, stop, sink, first, on_early)
        else:
            outputs = _run_sequential(job, order, counter, log_path, scenario.n_features, n_arms,
                                      sink, first, on_early)  # fmt: skip
    done = dict(zip(order, outputs))  # outputs are keyed by unit
    return _assemble(scenario, config, levels, done, ckpt_impressions, started)


def _early_levels(config: ExperimentConfig, levels: tuple[str, ...]) -> tuple[str, ...]:
    """The pool levels a run with the generated level can show first (empty: none to show)."""
    if "generated" not in levels:
        return ()
    return tuple(
        lv for lv in levels if lv != "generated" and any(applies(lv, p) for p in config.policies)
    )


def _unit_order(
    units: list[tuple[int, int]], levels: tuple[str, ...], pools_first: bool = False
) -> list[tuple[int, int]]:
    """The order in which the (seed, level) units run.

    Longest first: the generated level's (its policies compose every impression, its
    truth is computed per batch; several times a pool level's), so that in parallel the
    last to start are short and the workers finish together (seed-major, the last
    generated unit could start last and leave the other core idle for most of it).

    With ``pools_first`` (the pool levels' results are shown before the rest) the pool
    levels' units go first: they end as early as they would without the generated level.
    The generated units may then leave a core idle at the end (on two cores, the third of
    the default experiment's three: its warm run took 2.5-2.8 s against 2.1-2.3 s in a
    script), which drawing the pool levels' results uses meanwhile in the app.
    """
    generated = [u for u in units if levels[u[1]] == "generated"]
    pools = [u for u in units if levels[u[1]] != "generated"]
    return pools + generated if pools_first else generated + pools


def _assemble(
    scenario: Scenario,
    config: ExperimentConfig,
    levels: tuple[str, ...],
    done: dict[tuple[int, int], tuple],
    ckpt_impressions: np.ndarray,
    started: float,
) -> ExperimentResult:
    """The result of the units ``done`` (keyed by (seed, level index in ``levels``))."""
    n_seeds, n_pol, n_ckpt = config.n_seeds, len(config.policies), ckpt_impressions.size
    n_arms = max(scenario.levels[lv].n_arms for lv in levels)
    n_seg = scenario.segmentation.n_segments
    series = np.zeros((n_seeds, len(levels), n_pol, n_ckpt, len(SERIES_METRICS)))
    allocation = np.zeros((n_seeds, len(levels), n_pol, n_ckpt, n_arms))
    seg_stats = np.zeros((n_seeds, len(levels), n_pol, n_seg, n_arms, len(SEGMENT_METRICS)))
    states, lineages = {}, []
    for s in range(n_seeds):
        for li in range(len(levels)):
            ser, alloc, seg, extras, lineage = done[s, li]
            # A unit's arrays are as wide as the run's widest level: a run shown early
            # without the generated level may be narrower (its arms are first).
            series[s, li] = ser
            allocation[s, li] = alloc[..., :n_arms]
            seg_stats[s, li] = seg[..., :n_arms, :]
            states.update({(s, pi): state for pi, state in extras.items()})
            for pi, frame in lineage.items():
                lineages.append(frame.assign(level=levels[li], policy=config.policies[pi], seed=s))
    generated = generated_outputs(scenario, config, states) if "generated" in levels else None
    return ExperimentResult(
        config=config,
        levels=levels,
        policies=config.policies,
        checkpoints=ckpt_impressions,
        series=series,
        allocation=allocation,
        segment_stats=seg_stats,
        arm_labels={lv: _level_arm_labels(scenario, config, lv) for lv in levels},
        segment_names=tuple(p.name for p in scenario.segmentation.profiles),
        elapsed_seconds=time.perf_counter() - started,
        generated=generated,
        generations=_lineage_frame(lineages, config),
    )


def _lineage_frame(frames: list[pd.DataFrame], config: ExperimentConfig) -> pd.DataFrame | None:
    """The units' lineage tables as one, keys first (None without regeneration)."""
    if config.regenerate_every is None or not frames:
        return None
    frame = pd.concat(frames, ignore_index=True)
    keys = ["level", "policy", *(["world"] if "world" in frame else []), "seed"]
    return frame.loc[:, [*keys, *(c for c in frame.columns if c not in keys)]]


#: The settings a scenario's world is built from (:func:`simulation.scenario.build_scenario`).
WORLD_SETTINGS: tuple[str, ...] = (
    "seed", "n_users", "n_segments", "n_variants", "pricing", "world", "space",
    "segments_file", "catalogue_file", "templates_file",
)  # fmt: skip


def check_scenario(config: ExperimentConfig, scenario: Scenario) -> None:
    """Refuse a scenario built for another world than ``config``'s, or without its levels.

    A world built with seed 0 run under ``seed=5`` would report seed 0's numbers as the
    run of seed 5, and a level the world lacks would be dropped: both silently.

    Raises
    ------
    TypeError
        When ``scenario`` is not a :class:`~simulation.scenario.Scenario`.
    ValueError
        Naming the first setting that differs, or the missing levels.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"`scenario` must be a Scenario (build_scenario); got {type(scenario).__name__}."
        )
    built = scenario.config
    for key in WORLD_SETTINGS:
        if getattr(built, key) != getattr(config, key):
            raise ValueError(
                f"`scenario` was built for another world: {key} {getattr(built, key)!r} there, "
                f"{getattr(config, key)!r} in `config`; pass build_scenario(config), or no "
                "scenario."
            )
    missing = [lv for lv in config.levels if lv not in scenario.levels]
    if missing:
        raise ValueError(
            f"`scenario` has no level {missing} of `config` (it was built with levels "
            f"{list(scenario.levels)}); pass build_scenario(config), or no scenario."
        )


def world_seed(seed: int, world: int) -> int:
    """The seed whose streams draw world ``world`` of an experiment seeded ``seed``.

    World 0 is ``seed`` itself (a one-world run is unchanged); world ``w > 0``
    takes its seed from the named stream ``("world", w)`` of ``seed``, so its
    hidden response parameters, creatives and replication draws are
    independent of every other world's.
    """
    if world == 0:
        return int(seed)
    return int(stream(seed, "world", world).integers(0, 2**32))


def _run_worlds(
    config: ExperimentConfig,
    *,
    scenario: Scenario | None,
    progress: ProgressFn | None,
    log_path: str | Path | None,
    n_jobs: int | None,
    stop: threading.Event | None,
    live: LiveSeries | None = None,
) -> ExperimentResult:
    """:func:`run_experiment` once per world on one audience; results stacked world-major."""
    if log_path is not None:
        raise ValueError(f"`n_worlds` must be 1 when logging impressions; got {config.n_worlds}.")
    started = time.perf_counter()
    base = scenario if scenario is not None else build_scenario(config)
    check_scenario(config, base)
    audience = (base.population, base.segmentation)
    one = config.replace(n_worlds=1)
    levels = tuple(lv for lv in config.levels if lv in base.levels)
    per_world = config.n_seeds * config.n_impressions * _pairs_played(config, levels)
    total = per_world * config.n_worlds
    results, floors = [], []
    for w in range(config.n_worlds):
        cfg = one.replace(seed=world_seed(config.seed, w))
        scen = base if w == 0 else build_scenario(cfg, world=audience)

        def tick(done: int, _total: int, offset: int = w * per_world) -> None:
            progress(offset + done, total)

        results.append(
            run_experiment(
                cfg,
                scenario=scen,
                progress=None if progress is None else tick,
                n_jobs=n_jobs,
                stop=stop,
                live=None if live is None else _WorldLive(live, config, w * config.n_seeds),
            )
        )
        if gap_has_rows(config):
            # The gap table's floor is each world's own, and this world is dropped next.
            # Without a language axis (hill48) the table has no share from it (only a
            # local_note), so its draws, over every user, would be thrown away.
            from simulation.composition_truth import language_floor, language_is_axis

            floors.append(language_floor(scen) if language_is_axis(scen) else None)
    first = results[0]
    return ExperimentResult(
        config=config,
        levels=first.levels,
        policies=first.policies,
        checkpoints=first.checkpoints,
        series=np.concatenate([r.series for r in results]),
        allocation=np.concatenate([r.allocation for r in results]),
        segment_stats=np.concatenate([r.segment_stats for r in results]),
        arm_labels=first.arm_labels,
        segment_names=first.segment_names,
        elapsed_seconds=time.perf_counter() - started,
        n_worlds=config.n_worlds,
        world_arm_labels=tuple(r.arm_labels for r in results),
        generated=first.generated,
        generations=_lineage_frame(
            [
                r.generations.assign(world=w)
                for w, r in enumerate(results)
                if r.generations is not None
            ],
            config,
        ),
        world_floors=tuple(floors),
    )


class _SingleThreadedBlas:
    """Single-threaded BLAS while any run is under way in this process.

    The BLAS thread count is process-wide, so runs in concurrent threads share
    one limit: the first to enter sets it, the last to leave restores the
    original (each setting and restoring its own would leave the count to
    whichever thread left last).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._limiter = None

    def __enter__(self) -> None:
        with self._lock:
            if self._active == 0:
                self._limiter = threadpool_limits(limits=1, user_api="blas")
            self._active += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


#: Process-wide, as the setting it guards.
_SINGLE_THREADED_BLAS = _SingleThreadedBlas()


def _pairs_played(config: ExperimentConfig, levels: tuple[str, ...]) -> int:
    """The (level, policy) pairs of ``levels`` that are played (not skipped)."""
    return sum(applies(lv, p) for lv in levels for p in config.policies)


class _Progress:
    """Counts impressions served, reports them to the caller and ends a stopped run."""

    def __init__(self, callback: ProgressFn | None, total: int, stop=None) -> None:
        self.callback, self.total, self.done, self.stop = callback, total, 0, stop

    def check(self) -> None:
        """Raise :class:`RunCancelled` if the run's stop event is set."""
        if self.stop is not None and self.stop.is_set():
            raise RunCancelled("the run was stopped before it finished.")

    def tick(self, count: int = 1) -> None:
        self.done += count
        if self.callback is not None:
            self.callback(self.done, self.total)
        # Called after every chunk: the place a stopped run ends.
        self.check()


@dataclass(frozen=True, slots=True, eq=False)
class _SeedJob:
    """Everything a (seed, level) unit needs; run in this process or a forked worker."""

    scenario: Scenario
    tables: dict[str, Tables]
    config: ExperimentConfig
    levels: tuple[str, ...]
    ckpt_batches: np.ndarray
    dims: tuple[int, int, int, int]  # n_policies, n_checkpoints, n_arms, n_segments

    def run_unit(
        self, s: int, li: int, writer, tick: Callable[[int], None],
        sink: CheckpointSink | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict, dict]:  # fmt: skip
        """Level ``li`` of replication ``s`` (its checkpoints go to ``sink`` as they are tallied).

        Returns
        -------
        series, allocation, segment_stats : ndarray
            This (seed, level)'s slices of the result arrays.
        extras : dict of int to tuple
            Generated routes' final states, per policy index.
        lineage : dict of int to DataFrame
            Regenerated pools' lineages, per policy index.
        """
        n_pol, n_ckpt, n_arms, n_seg = self.dims
        out = _UnitOutput(
            series=np.zeros((n_pol, n_ckpt, len(SERIES_METRICS))),
            allocation=np.zeros((n_pol, n_ckpt, n_arms)),
            segment_stats=np.zeros((n_pol, n_seg, n_arms, len(SEGMENT_METRICS))),
        )
        _run_level(self, s, li, out, writer, tick, sink)
        return out.series, out.allocation, out.segment_stats, out.extras, out.lineage


def _run_sequential(
    job: _SeedJob,
    units: list[tuple[int, int]],
    counter: _Progress,
    log_path: str | Path | None,
    n_features: int,
    n_arms: int,
    sink: CheckpointSink | None = None,
    early: list[tuple[int, int]] = (),
    on_early: Callable[[dict], None] | None = None,
) -> list:
    """Run the units in this process, streaming the bandit log when asked.

    ``on_early({unit: output})`` is called once the units ``early`` are all done.
    """
    writer = None
    if log_path is not None:
        from simulation.ope.logs import BanditLogWriter

        writer = BanditLogWriter(
            log_path, n_features=n_features, n_arms=n_arms, value_range=_value_range(job.scenario)
        )
    try:
        outputs, waiting = [], set(early) if on_early is not None else set()
        for s, li in units:
            outputs.append(job.run_unit(s, li, writer, counter.tick, sink))
            waiting.discard((s, li))
            if on_early is not None and early and not waiting:
                on_early({u: out for u, out in zip(units, outputs) if u in set(early)})
                on_early = None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    return outputs


#: In a forked worker only: its run's job, progress queue, stop event and whether
#: to send its checkpoints (a live series is attached), installed by
#: :func:`_start_worker` from the pool's initializer arguments (inherited through
#: fork, never pickled) before the worker runs any unit. The parent never sets it,
#: so concurrent runs in one process cannot see each other's jobs.
_WORKER_JOB: tuple[_SeedJob, object, object, bool] | None = None


#: How much lower a worker's priority is while its run's early results are drawn.
EARLY_NICE = 10


#: Linux's prctl option that sends the child a signal when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Make this forked worker end when the run's process dies, however it dies.

    A parent killed without cleaning up (SIGKILL, a crash) would otherwise leave its
    workers blocked forever on the progress pipe nobody reads. Linux sends SIGKILL on the
    parent's death (the worker holds nothing worth saving: its results went to the dead
    parent); elsewhere the workers still end with their pool on every orderly stop.
    """
    # The parent's Python SIGTERM handler (the command line's "stop like Ctrl-C") is
    # inherited by fork: a worker told to terminate should simply end.
    with contextlib.suppress(ValueError):  # not the main thread (cannot be, after fork)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above was made
        os._exit(1)


def _start_worker(
    job: _SeedJob, queue, stop, live: bool = False, nice: int = 0, parent: int | None = None
) -> None:
    global _WORKER_JOB
    _WORKER_JOB = (job, queue, stop, live)
    if parent is not None:
        _die_with_parent(parent)
    if nice:
        # The run's caller draws the early results meanwhile (the app's server and the
        # browser, on the same cores): at nice +10 the workers get about a tenth of a
        # core each while that drawing wants it, and all of it otherwise.
        with contextlib.suppress(OSError):
            os.nice(nice)


def _fork_worker(s: int, li: int):
    job, queue, stop, live = _WORKER_JOB

    def tick(count: int = 1) -> None:
        # Called after every chunk: a stopped run's workers end here.
        if stop.is_set():
            raise RunCancelled("the run was stopped before it finished.")
        # One queue message per chunk (tens of batches): one per batch would cost
        # more than the batch.
        queue.put(count)

    def sink(s: int, li: int, first: int, rows: np.ndarray) -> None:
        # Only the new checkpoints: (policies x k x metrics) floats, sent at once.
        queue.put((s, li, first, rows))

    return job.run_unit(s, li, None, tick, sink if live else None)


def _run_parallel(
    job: _SeedJob,
    units: list[tuple[int, int]],
    n_jobs: int,
    counter: _Progress,
    stop: threading.Event | None = None,
    sink: CheckpointSink | None = None,
    early: list[tuple[int, int]] = (),
    on_early: Callable[[dict], None] | None = None,
) -> list:
    """Run the (seed, level) units in forked worker processes, relaying their progress.

    The pool's workers are this run's alone: each gets ``job``, the run's
    progress queue and its stop event as its initializer's arguments when it
    is forked. A stopped or failed run ends its workers within a second.
    With a ``sink``, the workers also send their checkpoints through the
    queue as they tally them (tuples, where progress reports are ints).
    ``on_early({unit: output})`` is called once, here, as soon as the units ``early`` are
    all done, and at the latest before returning.
    """
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    worker_stop = ctx.Event()
    pool = ProcessPoolExecutor(
        max_workers=min(n_jobs, len(units)),
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(
            job,
            queue,
            worker_stop,
            sink is not None,
            EARLY_NICE if on_early else 0,
            os.getpid(),
        ),
    )

    def relay() -> None:
        while not queue.empty():
            item = queue.get()
            if isinstance(item, tuple):
                sink(*item)
            else:
                counter.tick(item)

    finished = False
    try:
        futures = [pool.submit(_fork_worker, s, li) for s, li in units]
        waiting = [futures[units.index(u)] for u in early] if on_early is not None else []

        def hand_over_early() -> None:
            nonlocal waiting
            if waiting and all(f.done() for f in waiting):
                relay()  # their last progress reports, sent before they returned
                ready = {u: f.result() for u, f in zip(early, waiting)}
                waiting = []
                on_early(ready)

        # Relay progress every 20 ms; returns as soon as the last unit is done.
        while wait(futures, timeout=0.02).not_done:
            counter.check()
            relay()
            hand_over_early()
        results = [f.result() for f in futures]
        relay()
        hand_over_early()  # when they ended together: still once, before the result
        finished = True
        return results
    finally:
        if finished:
            # After a clean run the workers only have to exit: not waiting for
            # that (~25 ms for copies of a large server process) lets the results go on.
            pool.shutdown(wait=False)
        else:
            _end_workers(pool, worker_stop)


def _end_workers(pool: ProcessPoolExecutor, worker_stop, grace: float = 0.5) -> None:
    """End a stopped or failed run's workers: ask, wait ``grace`` seconds, then terminate.

    Workers see ``worker_stop`` after their current chunk; one still busy after
    ``grace`` (a slow chunk) is terminated, so none outlives the run by more
    than about a second. The pool is discarded, so a worker killed mid-write
    cannot hurt anyone.
    """
    worker_stop.set()
    # The executor forgets its processes on shutdown: take them first (there is
    # no public accessor).
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for proc in processes:
        proc.join(max(deadline - time.monotonic(), 0.0))
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(0.5)


#: Rows drawn and looked up at once: many small batches share one gather of the
#: ground truth and one pass of bookkeeping (numpy call overhead dominated the
#: per-batch loop), while memory stays flat in the number of impressions.
_CHUNK_ROWS = 1 << 16


def _run_level(
    job: _SeedJob, s: int, li: int, out: _UnitOutput, writer, tick,
    sink: CheckpointSink | None = None,
) -> None:  # fmt: skip
    """One (seed, level): every policy on the same users and uniforms, chunk by chunk."""
    scenario, config, level_name = job.scenario, job.config, job.levels[li]
    # Specs that read contexts (the rest get zero-width ones), from the parsed specs:
    # settings in a spec's text do not change what it reads.
    parsed = {str(spec): spec for spec in config.policy_specs}
    contextual = [spec in parsed and parsed[spec].needs_contexts for spec in config.policies]
    routes = [
        _route(job, s, level_name, spec, parsed.get(spec), ctx, writer)
        for spec, ctx in zip(config.policies, contextual)
    ]
    tallies = [_Tally(job, out, pi) for pi in range(len(routes))]
    n_played = sum(applies(level_name, spec) for spec in config.policies)
    for route, tally in zip(routes, tallies):
        route.observe(tally)  # a regenerating pool judges on the observed totals
    chunks = draw_chunks(
        scenario, job.tables.get(level_name), config, s, level_name,
        any(contextual) or writer is not None, _CHUNK_ROWS,
        regeneration_batches(config) if level_name in POOL_LEVELS else None,
    )  # fmt: skip
    sent = 0  # checkpoints handed to the sink
    for chunk in chunks:
        for route, tally in zip(routes, tallies):
            shown = route.play(chunk)
            # A generated route totals the compositions it served (one arm per row),
            # a regenerating one its own pool's truth; the rest the chunk itself.
            tally.add(route.served(chunk), shown)
        if sink is not None:
            reached = int(np.searchsorted(job.ckpt_batches, chunk.first_batch + chunk.n_batches))
            if reached > sent:
                sink(s, li, sent, out.series[:, sent:reached].copy())
                sent = reached
        # Impressions, not batches: levels play different numbers of policies (the
        # generated level two of the default six), so batches would weigh them alike.
        tick(chunk.n_rows * n_played)
    for tally in tallies:
        tally.finish()
    for pi, route in enumerate(routes):
        state, lineage = route.final_state(), route.lineage()
        if state is not None:  # the generated level's outputs
            out.extras[pi] = state
        if lineage is not None:  # a regenerated pool's creatives
            out.lineage[pi] = lineage


def _route(
    job: _SeedJob,
    s: int,
    level_name: str,
    spec: str,
    parsed: PolicySpec | None,
    contextual: bool,
    writer,
) -> ChunkRoute:
    """A freshly reset policy ``spec`` of the unit, on its route.

    ``parsed`` is ``spec`` parsed (None for a composing policy, ``mvt_ts``). The policy is
    built from it, settings and all; its random stream is named by the spec without its
    settings (:attr:`PolicySpec.stream_name`), so a spec without settings draws what it
    always drew and variants of one policy share their draws as well as their users.
    """
    scenario, config = job.scenario, job.config
    name = spec if parsed is None else parsed.stream_name
    rng = stream(config.seed, "replication", s, "policy", level_name, name)
    if level_name == "generated" or parsed is None:
        return generated_route(scenario, config, level_name, spec, rng)  # or a skipped pair's
    n_features = scenario.n_features if contextual else 0
    policy = make_policy(parsed, n_segments=scenario.segmentation.n_segments)
    policy = policy.reset(scenario.levels[level_name].n_arms, n_features)
    # In the plain case, context-free and linear policies play whole chunks in compiled code.
    compiled = None if writer is not None else compiled_route(policy, config)
    if compiled is not None:
        route = CompiledRoute(compiled, policy, rng, contextual)
    else:
        route = _python_route(job, s, level_name, spec, name, policy, rng, contextual, writer)
    if config.regenerate_every is not None and level_name in POOL_LEVELS:
        table = job.tables.get(level_name)
        audience_truth = table is not None and table.truth is not None
        return regen_route(route, policy, scenario, config, s, level_name, name, audience_truth)
    return route


def _python_route(job, s, level_name, spec, name, policy, rng, contextual, writer) -> PythonRoute:
    """The policy's own ``select`` and ``update`` (with budget, delay and bandit log).

    A logged unit's propensities draw from a stream of their own (``"log"`` in
    place of ``"policy"``), so logging leaves the policy's draws, and so every
    result, as they are without the log.
    """
    scenario, config = job.scenario, job.config
    log = None
    if writer is not None:
        log_rng = stream(config.seed, "replication", s, "log", level_name, name)
        log = LogTarget(writer, s, level_name, spec, log_rng)
    return PythonRoute(
        policy=policy,
        rng=rng,
        contextual=contextual,
        response=scenario.response,
        objective=config.objective,
        batch_size=config.batch_size,
        budget=None if config.budget is None else float(config.budget),
        conversion_delay=config.conversion_delay,
        reward_scale=_reward_scale(scenario, policy),
        log=log,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _UnitOutput:
    """A (seed, level)'s slices of the result arrays, filled as its chunks are played.

    Attributes
    ----------
    series : ndarray of shape (n_policies, n_checkpoints, len(SERIES_METRICS))
    allocation : ndarray of shape (n_policies, n_checkpoints, n_arms)
    segment_stats : ndarray of shape (n_policies, n_segments, n_arms, len(SEGMENT_METRICS))
    extras : dict of int to tuple
        Per policy index: a generated route's final state (:meth:`GeneratedRoute.final_state`).
    lineage : dict of int to DataFrame
        Per policy index: a regenerated pool's lineage (:meth:`RegenRoute.lineage`).
    """

    series: np.ndarray
    allocation: np.ndarray
    segment_stats: np.ndarray
    extras: dict = field(default_factory=dict)
    lineage: dict = field(default_factory=dict)


class _Tally:
    """One policy's running totals in a unit, written to its output at checkpoints."""

    def __init__(self, job: _SeedJob, out: _UnitOutput, pi: int) -> None:
        self.scenario = job.scenario
        ckpt_batches, n_batches = job.ckpt_batches, job.config.n_batches
        self.series, self.allocation = out.series[pi], out.allocation[pi]
        self.segment_stats = out.segment_stats[pi]
        self.is_ckpt = np.zeros(n_batches, dtype=bool)
        self.is_ckpt[ckpt_batches] = True
        self.ckpt_index = np.cumsum(self.is_ckpt) - 1  # checkpoint number of each checkpoint batch
        self.totals = np.zeros(len(SERIES_METRICS))
        self.counts: np.ndarray | None = None  # per arm, once the arm count is known
        self.cells: np.ndarray | None = None  # (n_segments * n_arms, len(SEGMENT_METRICS))

    def add(self, chunk: Chunk, shown: np.ndarray) -> None:
        """Add what the policy served in ``chunk`` (arm per row, -1: not served)."""
        truth = chunk.truth
        k = truth.n_arms
        n_seg = self.segment_stats.shape[0]
        if self.counts is None:
            self.counts = np.zeros(k)
            self.cells = np.zeros((n_seg * k, len(SEGMENT_METRICS)))
        batch_of_row = chunk.batch_of_row()
        # One compiled pass gathers the shown pairs' expectations, realizes their
        # outcomes and totals them (rows a budget left unserved are skipped).
        response = self.scenario.response
        fused = fused_totals(
            shown, chunk.keys, chunk.segments, batch_of_row, chunk.uniforms,
            (truth.ctr, truth.cvr, truth.value, truth.cost, truth.reward, truth.best),
            response.params.cpc if response.pricing == "cpc" else None,
            chunk.n_batches, k, n_seg,
        )  # fmt: skip
        per_batch, per_arm, per_cell = fused
        cum = self.totals + np.cumsum(per_batch, axis=0)
        cum_counts = self.counts + np.cumsum(per_arm, axis=0)
        batches = slice(chunk.first_batch, chunk.first_batch + chunk.n_batches)
        marks = np.flatnonzero(self.is_ckpt[batches])
        at = self.ckpt_index[batches][marks]
        self.series[at] = cum[marks]
        self.allocation[at, :k] = cum_counts[marks]
        self.totals[:] = cum[-1]
        self.counts[:] = cum_counts[-1]
        self.cells += per_cell

    def finish(self) -> None:
        """Write the final per-(segment, arm) totals."""
        if self.cells is not None:
            k = self.counts.size
            n_seg = self.segment_stats.shape[0]
            self.segment_stats[:, :k, :] = self.cells.reshape(n_seg, k, len(SEGMENT_METRICS))


def _gathered_totals(
    scenario: Scenario,
    truth: Truth,
    keys: np.ndarray,
    uniforms: np.ndarray,
    shown: np.ndarray,
    segs: np.ndarray,
    batch_of_row: np.ndarray,
    n_batches: int,
    n_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`_Tally.add`'s totals by explicit gathers and ``response.outcomes``.

    The reference the fused kernel is tested against (the engine uses the fused one).
    """
    k = truth.n_arms
    served = shown >= 0
    if served.all():
        # The usual case (no budget stop): no row selection to gather through.
        a, key, u, batch, seg = shown, keys, uniforms, batch_of_row, segs
    else:
        rows = np.flatnonzero(served)
        a, key, u, batch, seg = (
            shown[rows],
            keys[rows],
            uniforms[:, rows],
            batch_of_row[rows],
            segs[rows],
        )
    fi = key * k + a
    p_click, p_conv, value = truth.ctr[fi], truth.cvr[fi], truth.value[fi]
    exp_cost = truth.cost[fi]
    click, conv, revenue, cost = scenario.response.outcomes(p_click, p_conv, value, exp_cost, u)
    # One integer type for every array: the compiled kernel is built once.
    served_rows = ServedRows(
        batch=batch, arm=a, segment=seg.astype(np.int64), truth_row=key, click=click,
        conversion=conv, cost=cost, revenue=revenue, p_click=p_click, p_conversion=p_conv,
        order_value=value, expected_cost=exp_cost,
    )  # fmt: skip
    return batch_totals(served_rows, truth.reward, truth.best, n_batches, k, n_cells // k)
