"""The batched experiment loop.

For every replication seed and personalization level, impressions arrive in
batches of ``batch_size``. Each round: draw the batch's users, compute the
expected outcome of every arm for every user (ground truth), then let every
policy choose arms for the *same* users and realize outcomes from the *same*
uniforms (common random numbers, so policy differences are paired), and update
the policies (after ``conversion_delay`` impressions).

The rounds are processed a chunk (about 65,000 impressions) at a time: the
chunk's users and uniforms are drawn and its ground truth looked up at once
(from audience-wide tables kept per world, or computed for the chunk), each
policy plays the chunk's batches in order, and what it served is totalled
afterwards in one compiled pass (:mod:`simulation.engine.tally`). The draws are the
same whatever the chunk size.

Memory does not grow with the number of impressions: totals are kept per
(seed, level, policy), copied into a time series at checkpoints, with
cumulative allocation per arm and final totals per (segment, arm).
Impression-level logs are written only on request, streamed in chunks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from simulation.config import ExperimentConfig
from simulation.engine.routes import compiled_route
from simulation.engine.tally import (
    SEGMENT_METRICS,
    SERIES_METRICS,
    ServedRows,
    batch_totals,
    fused_totals,
    warm_up,
)
from simulation.metrics import add_rates, safe_ratio
from simulation.policies import CONTEXTUAL, Policy, make_policy
from simulation.policies.context_free import counting_kernels
from simulation.policies.linear import load_kernels
from simulation.response import Expectations
from simulation.rng import stream
from simulation.scenario import Scenario, build_scenario

__all__ = [
    "BASELINE_METRICS",
    "SEGMENT_METRICS",
    "SERIES_METRICS",
    "ExperimentResult",
    "run_experiment",
]

#: Columns of the generic yardstick: each generic creative's expected totals had
#: it been shown at every impression.
BASELINE_METRICS: tuple[str, ...] = (
    "expected_clicks",
    "expected_conversions",
    "expected_revenue",
    "expected_spend",
)
_M = {name: i for i, name in enumerate(SERIES_METRICS)}
_B = {name: i for i, name in enumerate(BASELINE_METRICS)}

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ExperimentResult:
    """Everything an experiment measured, as arrays with readable views.

    Attributes
    ----------
    config : ExperimentConfig
    levels, policies : tuple of str
    checkpoints : ndarray of shape (n_checkpoints,)
        Impressions served (per policy, before any budget stop) at each checkpoint.
    series : ndarray of shape (n_seeds, n_levels, n_policies, n_checkpoints, n_metrics)
        Cumulative totals of :data:`SERIES_METRICS`.
    allocation : ndarray of shape (n_seeds, n_levels, n_policies, n_checkpoints, n_arms)
        Cumulative impressions per arm.
    segment_stats : ndarray of shape (n_seeds, n_levels, n_policies, n_segments, n_arms, 5)
        Final totals of :data:`SEGMENT_METRICS` per segment and arm.
    generic_baseline : ndarray of shape (n_seeds, n_generic_arms, 4) or None
        :data:`BASELINE_METRICS` of each generic creative had it been shown at
        every impression (for uplift); None without the generic level.
    arm_labels : dict of str to tuple of str
        Per level.
    segment_names : tuple of str
    elapsed_seconds : float
    """

    config: ExperimentConfig
    levels: tuple[str, ...]
    policies: tuple[str, ...]
    checkpoints: np.ndarray
    series: np.ndarray
    allocation: np.ndarray
    segment_stats: np.ndarray
    generic_baseline: np.ndarray | None
    arm_labels: dict[str, tuple[str, ...]]
    segment_names: tuple[str, ...]
    elapsed_seconds: float

    @property
    def n_seeds(self) -> int:
        """Number of replications."""
        return int(self.series.shape[0])

    def _baseline_rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Best generic creative's expected CTR and ROAS per seed, each (n_seeds,)."""
        if self.generic_baseline is None:
            nan = np.full(self.n_seeds, np.nan)
            return nan, nan
        b = self.generic_baseline
        impressions = self.checkpoints[-1]
        ctr = (b[:, :, _B["expected_clicks"]] / impressions).max(axis=1)
        revenue, spend = b[:, :, _B["expected_revenue"]], b[:, :, _B["expected_spend"]]
        roas = safe_ratio(revenue, spend).max(axis=1)
        return ctr, roas

    def summary_frame(self) -> pd.DataFrame:
        """One row per (policy, level, seed) with totals, rates, regret and uplift.

        ``uplift_ctr`` and ``uplift_roas`` compare the policy's *expected* CTR
        and ROAS over the impressions it served with those of the best single
        generic creative over the same users (expectations, not noisy draws).
        """
        final = self.series[:, :, :, -1, :]
        base_ctr, base_roas = self._baseline_rates()
        rows = []
        for s in range(self.n_seeds):
            for li, level in enumerate(self.levels):
                for pi, policy in enumerate(self.policies):
                    t = final[s, li, pi]
                    exp_ctr = safe_ratio(t[_M["expected_clicks"]], t[_M["impressions"]])
                    exp_roas = safe_ratio(t[_M["expected_revenue"]], t[_M["expected_spend"]])
                    rows.append(
                        {
                            "policy": policy,
                            "level": level,
                            "seed": s,
                            **{m: t[_M[m]] for m in SERIES_METRICS[:6]},
                            "expected_ctr": float(exp_ctr),
                            "expected_roas": float(exp_roas),
                            "uplift_ctr": float(safe_ratio(exp_ctr, base_ctr[s]) - 1.0),
                            "uplift_roas": float(safe_ratio(exp_roas, base_roas[s]) - 1.0),
                        }
                    )
        frame = add_rates(pd.DataFrame(rows))
        frame["impressions"] = frame["impressions"].astype(np.int64)
        frame["clicks"] = frame["clicks"].astype(np.int64)
        frame["conversions"] = frame["conversions"].astype(np.int64)
        cols = [
            "policy", "level", "seed", "impressions", "clicks", "conversions", "spend",
            "revenue", "ctr", "cvr", "cpa", "roas", "regret", "expected_ctr", "expected_roas",
            "uplift_ctr", "uplift_roas",
        ]  # fmt: skip
        return frame[cols]

    def timeseries_frame(self) -> pd.DataFrame:
        """Long table: one row per (seed, level, policy, checkpoint) with cumulative metrics."""
        n_s, n_l, n_p, n_c, _ = self.series.shape
        idx = np.indices((n_s, n_l, n_p, n_c)).reshape(4, -1)
        flat = self.series.reshape(-1, len(SERIES_METRICS))
        frame = pd.DataFrame(flat, columns=list(SERIES_METRICS))
        frame.insert(0, "step", self.checkpoints[idx[3]])
        frame.insert(0, "policy", np.asarray(self.policies, dtype=object)[idx[2]])
        frame.insert(0, "level", np.asarray(self.levels, dtype=object)[idx[1]])
        frame.insert(0, "seed", idx[0])
        return add_rates(frame)

    def allocation_frame(self) -> pd.DataFrame:
        """Long table of cumulative impressions per arm at each checkpoint."""
        n_s, n_l, n_p, n_c, n_a = self.allocation.shape
        idx = np.indices((n_s, n_l, n_p, n_c, n_a)).reshape(5, -1)
        labels = {lv: self.arm_labels[lv] for lv in self.levels}
        return pd.DataFrame(
            {
                "seed": idx[0],
                "level": np.asarray(self.levels, dtype=object)[idx[1]],
                "policy": np.asarray(self.policies, dtype=object)[idx[2]],
                "step": self.checkpoints[idx[3]],
                "arm": idx[4],
                "arm_label": [labels[self.levels[li]][a] for li, a in zip(idx[1], idx[4])],
                "impressions": self.allocation.reshape(-1),
            }
        )

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
        frame.insert(0, "seed", idx[0])
        return add_rates(frame)


#: Largest (users x arms) for which a level's expectations are computed once
#: for the whole audience instead of per batch (4 arrays of float64 each).
_TABLE_CELLS = 4_000_000


@dataclass(frozen=True, slots=True, eq=False)
class _Truth:
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
    def of(cls, exp: Expectations, objective: str) -> _Truth:
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

    def add_baseline(self, acc: np.ndarray, weights: np.ndarray) -> None:
        """Add each arm's :data:`BASELINE_METRICS` had it been shown at every row.

        Parameters
        ----------
        acc : ndarray of shape (n_arms, len(BASELINE_METRICS))
            Accumulator, updated in place.
        weights : ndarray of shape (n_rows,)
            How many impressions went to each row.
        """
        k = self.n_arms
        ctr = self.ctr.reshape(-1, k)
        clicks_conv = ctr * self.cvr.reshape(-1, k)
        acc[:, _B["expected_clicks"]] += weights @ ctr
        acc[:, _B["expected_conversions"]] += weights @ clicks_conv
        acc[:, _B["expected_revenue"]] += weights @ (clicks_conv * self.value.reshape(-1, k))
        acc[:, _B["expected_spend"]] += weights @ self.cost.reshape(-1, k)


@dataclass(frozen=True, slots=True, eq=False)
class _Tables:
    """Per-user contexts and, when small enough, per-(user, arm) ground truth."""

    contexts: np.ndarray  # (n_users, n_features)
    truth: _Truth | None  # rows are users, or None: computed per chunk


def _level_tables(
    scenario: Scenario, level_name: str, contexts: np.ndarray, objective: str, max_cells: int
) -> _Tables:
    level = scenario.levels[level_name]
    pop = scenario.population
    if pop.n_users * level.n_arms > max_cells:
        return _Tables(contexts=contexts, truth=None)
    labels = scenario.segmentation.labels
    exp = scenario.response.expectations(pop, level.arm_attributes(pop, labels))
    return _Tables(contexts=contexts, truth=_Truth.of(exp, objective))


def _audience_tables(
    scenario: Scenario, levels: tuple[str, ...], objective: str, max_cells: int
) -> dict[str, _Tables]:
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
) -> dict[str, _Tables]:
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


def _chunk_truth(scenario: Scenario, level_name: str, idx: np.ndarray, objective: str) -> _Truth:
    """Ground truth of the users ``idx`` (n,) computed now, one row per entry of ``idx``."""
    users = scenario.population.take(idx)
    level = scenario.levels[level_name]
    exp = scenario.response.expectations(
        users, level.arm_attributes(users, scenario.segmentation.labels[idx])
    )
    return _Truth.of(exp, objective)


def _checkpoint_batches(n_batches: int, n_checkpoints: int) -> np.ndarray:
    """Indices of the batches after which the series is recorded (always the last)."""
    marks = np.unique(np.round(np.linspace(1, n_batches, min(n_checkpoints, n_batches))))
    return marks.astype(np.int64) - 1


def _reward_scale(scenario: Scenario) -> tuple[float, float]:
    """Affine map of net value to [0, 1] for the ROAS objective (argmax-preserving)."""
    low = -scenario.response.max_cost
    high = scenario.response.max_revenue
    return low, high - low


def run_experiment(
    config: ExperimentConfig,
    *,
    scenario: Scenario | None = None,
    progress: ProgressFn | None = None,
    log_path: str | Path | None = None,
    n_jobs: int | None = None,
) -> ExperimentResult:
    """Run every (seed, level, policy) of ``config``.

    Parameters
    ----------
    config : ExperimentConfig
    scenario : Scenario, optional
        The world to use (built from ``config`` when omitted).
    progress : callable, optional
        ``progress(done, total)`` as batches complete (over all seeds and levels).
    log_path : str or Path, optional
        Write impression-level logged bandit feedback (with propensities and
        the true expected reward of every arm) to this Parquet file.
    n_jobs : int, optional
        Worker processes, each running one (seed, level) unit at a time.
        Default: as many as there are cores and units (1 when logging, which
        streams to one file). Results do not depend on it: every unit's draws
        come from its own named streams.

    Returns
    -------
    result : ExperimentResult
    """
    started = time.perf_counter()
    scenario = scenario if scenario is not None else build_scenario(config)
    levels = tuple(lv for lv in config.levels if lv in scenario.levels)
    n_seeds, n_levels, n_pol = config.n_seeds, len(levels), len(config.policies)
    n_arms = max(scenario.levels[lv].n_arms for lv in levels)
    n_seg = scenario.segmentation.n_segments
    ckpt_batches = _checkpoint_batches(config.n_batches, config.n_checkpoints)
    n_ckpt = ckpt_batches.size
    series = np.zeros((n_seeds, n_levels, n_pol, n_ckpt, len(SERIES_METRICS)))
    allocation = np.zeros((n_seeds, n_levels, n_pol, n_ckpt, n_arms))
    seg_stats = np.zeros((n_seeds, n_levels, n_pol, n_seg, n_arms, len(SEGMENT_METRICS)))
    has_generic = "generic" in scenario.levels
    n_generic = scenario.levels["generic"].n_arms if has_generic else 0
    baseline = np.zeros((n_seeds, n_generic, len(BASELINE_METRICS))) if has_generic else None
    total_units = n_seeds * n_levels * config.n_batches
    # The best generic creative is the yardstick of uplift, so the generic
    # level's expectations are needed even when it is not among the levels run.
    table_levels = (*levels, "generic") if has_generic and "generic" not in levels else levels
    tables = _audience_tables(scenario, table_levels, config.objective, _TABLE_CELLS)
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
    parallel = n_jobs > 1 and len(units) > 1 and sys.platform.startswith("linux")
    counter = _Progress(progress, total_units)
    # Compiled kernels are loaded before forking, so workers inherit them (the
    # linear ones only when a linear policy runs: loading them takes a second or two).
    warm_up()
    counting_kernels()
    if any(spec.split(":")[-1] in ("lin_ucb", "lin_ts") for spec in config.policies):
        load_kernels()
    # The policies' matrices are small: BLAS threads only contend (and spin) for
    # the cores, so the loop runs single-threaded BLAS (set once here: forked
    # workers inherit it; per unit it cost a scan of the loaded libraries).
    with _SINGLE_THREADED_BLAS:
        if parallel:
            outputs = _run_parallel(job, units, n_jobs, counter)
        else:
            outputs = _run_sequential(job, units, counter, log_path, scenario.n_features, n_arms)
    for (s, li), (ser, alloc, seg, base) in zip(units, outputs):
        series[s, li], allocation[s, li], seg_stats[s, li] = ser, alloc, seg
        if baseline is not None and base is not None:
            baseline[s] = base
    ckpt_impressions = np.minimum((ckpt_batches + 1) * config.batch_size, config.n_impressions)
    return ExperimentResult(
        config=config,
        levels=levels,
        policies=config.policies,
        checkpoints=ckpt_impressions,
        series=series,
        allocation=allocation,
        segment_stats=seg_stats,
        generic_baseline=baseline,
        arm_labels={lv: scenario.levels[lv].arm_labels for lv in levels},
        segment_names=tuple(p.name for p in scenario.segmentation.profiles),
        elapsed_seconds=time.perf_counter() - started,
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


class _Progress:
    """Counts finished batches and reports them to the caller's callback."""

    def __init__(self, callback: ProgressFn | None, total: int) -> None:
        self.callback, self.total, self.done = callback, total, 0

    def tick(self, count: int = 1) -> None:
        self.done += count
        if self.callback is not None:
            self.callback(self.done, self.total)


@dataclass(frozen=True, slots=True, eq=False)
class _SeedJob:
    """Everything a (seed, level) unit needs; run in this process or a forked worker."""

    scenario: Scenario
    tables: dict[str, _Tables]
    config: ExperimentConfig
    levels: tuple[str, ...]
    ckpt_batches: np.ndarray
    dims: tuple[int, int, int, int]  # n_policies, n_checkpoints, n_arms, n_segments

    def run_unit(
        self, s: int, li: int, writer, tick: Callable[[int], None]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Level ``li`` of replication ``s``.

        Returns
        -------
        series, allocation, segment_stats : ndarray
            This (seed, level)'s slices of the result arrays.
        baseline : ndarray of shape (n_generic_arms, 4) or None
            The seed's generic yardstick, from the unit that accumulates it
            (the generic level, else the first level), None from the others.
        """
        n_pol, n_ckpt, n_arms, n_seg = self.dims
        series = np.zeros((n_pol, n_ckpt, len(SERIES_METRICS)))
        allocation = np.zeros((n_pol, n_ckpt, n_arms))
        seg = np.zeros((n_pol, n_seg, n_arms, len(SEGMENT_METRICS)))
        level_name = self.levels[li]
        generic = self.scenario.levels.get("generic")
        # The first level also accumulates the generic yardstick when the
        # generic level itself is not run.
        extra = li == 0 and generic is not None and "generic" not in self.levels
        bears = generic is not None and (level_name == "generic" or extra)
        baseline = np.zeros((generic.n_arms, len(BASELINE_METRICS))) if bears else None
        _run_level(
            self.scenario,
            self.tables.get(level_name),
            extra,
            self.tables.get("generic"),
            self.config,
            s,
            level_name,
            self.ckpt_batches,
            series,
            allocation,
            seg,
            baseline,
            writer,
            tick,
        )
        return series, allocation, seg, baseline


def _run_sequential(
    job: _SeedJob,
    units: list[tuple[int, int]],
    counter: _Progress,
    log_path: str | Path | None,
    n_features: int,
    n_arms: int,
) -> list:
    """Run the units in this process, streaming the bandit log when asked."""
    writer = None
    if log_path is not None:
        from simulation.ope.logs import BanditLogWriter

        writer = BanditLogWriter(log_path, n_features=n_features, n_arms=n_arms)
    try:
        outputs = [job.run_unit(s, li, writer, counter.tick) for s, li in units]
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    return outputs


#: In a forked worker only: its run's job and progress queue, installed by
#: :func:`_start_worker` from the pool's initializer arguments (inherited through
#: fork, never pickled) before the worker runs any unit. The parent never sets it,
#: so concurrent runs in one process cannot see each other's jobs.
_WORKER_JOB: tuple[_SeedJob, object] | None = None


def _start_worker(job: _SeedJob, queue) -> None:
    global _WORKER_JOB
    _WORKER_JOB = (job, queue)


def _fork_worker(s: int, li: int):
    job, queue = _WORKER_JOB
    pending = [0]

    def tick(count: int = 1) -> None:
        # Report in small bundles: a queue message per batch would cost more
        # than the batch.
        pending[0] += count
        if pending[0] >= 5:
            queue.put(pending[0])
            pending[0] = 0

    out = job.run_unit(s, li, None, tick)
    if pending[0]:
        queue.put(pending[0])
    return out


def _run_parallel(
    job: _SeedJob, units: list[tuple[int, int]], n_jobs: int, counter: _Progress
) -> list:
    """Run the (seed, level) units in forked worker processes, relaying their progress.

    The pool's workers are this run's alone: each gets ``job`` and the run's
    progress queue as its initializer's arguments when it is forked.
    """
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    pool = ProcessPoolExecutor(
        max_workers=min(n_jobs, len(units)),
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(job, queue),
    )
    finished = False
    try:
        futures = [pool.submit(_fork_worker, s, li) for s, li in units]
        # Relay progress every 20 ms; returns as soon as the last unit is done.
        while wait(futures, timeout=0.02).not_done:
            while not queue.empty():
                counter.tick(queue.get())
        results = [f.result() for f in futures]
        while not queue.empty():
            counter.tick(queue.get())
        finished = True
        return results
    finally:
        # After a clean run the workers only have to exit: not waiting for that
        # (~25 ms for copies of a large server process) lets the results go on.
        pool.shutdown(wait=not finished, cancel_futures=not finished)


#: Rows drawn and looked up at once: many small batches share one gather of the
#: ground truth and one pass of bookkeeping (numpy call overhead dominated the
#: per-batch loop), while memory stays flat in the number of impressions.
_CHUNK_ROWS = 1 << 16


def _run_level(
    scenario: Scenario,
    tables: _Tables | None,
    add_generic_baseline: bool,
    generic_tables: _Tables | None,
    config: ExperimentConfig,
    s: int,
    level_name: str,
    ckpt_batches: np.ndarray,
    series: np.ndarray,
    allocation: np.ndarray,
    seg_stats: np.ndarray,
    baseline: np.ndarray | None,
    writer,
    tick: Callable[[int], None],
) -> None:
    """One (seed, level): every policy on the same users and uniforms.

    Batches are processed a chunk (about :data:`_CHUNK_ROWS` impressions) at a
    time: the chunk's users, uniforms and expectations are drawn and gathered
    once, each policy then plays the chunk's batches in order (choose, realize
    the click it learns from, update), and the metrics of everything it served
    are totalled per batch afterwards in a few vectorized passes.
    """
    level = scenario.levels[level_name]
    k = level.n_arms
    n_seg = scenario.segmentation.n_segments
    labels = scenario.segmentation.labels
    seed = config.seed
    # Re-created for every level: the same users and uniforms at every level.
    users_rng = stream(seed, "replication", s, "users")
    outcome_rng = stream(seed, "replication", s, "outcomes")
    policies: list[Policy] = []
    policy_rngs = []
    # Context-free policies get zero-width contexts: copying the batch's
    # feature rows for them would be pure overhead.
    contextual = [spec in CONTEXTUAL or spec.startswith("segment:") for spec in config.policies]
    need_features = any(contextual) or writer is not None
    empty = np.empty((config.batch_size, 0))
    for spec, ctx in zip(config.policies, contextual):
        pol = make_policy(spec, n_segments=n_seg).reset(k, scenario.n_features if ctx else 0)
        policies.append(pol)
        policy_rngs.append(stream(seed, "replication", s, "policy", level_name, spec))
    n_pol = len(policies)
    # In the plain case, context-free and linear policies play whole chunks in compiled code.
    routes = [None if writer is not None else compiled_route(pol, config) for pol in policies]
    n_met = len(SERIES_METRICS)
    totals = np.zeros((n_pol, n_met))
    counts = np.zeros((n_pol, k))
    seg_tot = np.zeros((n_pol, n_seg * k * len(SEGMENT_METRICS)))
    remaining = np.full(n_pol, np.inf if config.budget is None else float(config.budget))
    capped = config.budget is not None
    pending: list[deque] = [deque() for _ in range(n_pol)]
    low, span = _reward_scale(scenario)
    ckpt_local = np.zeros(config.n_batches, dtype=bool)
    ckpt_local[ckpt_batches] = True
    ckpt_index = np.cumsum(ckpt_local) - 1  # checkpoint number of each checkpoint batch
    per_chunk = max(1, _CHUNK_ROWS // config.batch_size)
    for b0 in range(0, config.n_batches, per_chunk):
        b1 = min(b0 + per_chunk, config.n_batches)
        # Batch sizes and offsets within the chunk; only the very last batch may be short.
        sizes = np.minimum(
            config.batch_size,
            config.n_impressions - np.arange(b0, b1) * config.batch_size,
        )
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        n_rows = int(offsets[-1])
        # Drawn batch by batch, as the streams were always consumed, so results
        # do not depend on the chunk size.
        idx = np.concatenate(
            [users_rng.integers(0, scenario.population.n_users, size=n) for n in sizes]
        )
        uniforms = np.concatenate(
            [scenario.response.draw_uniforms(int(n), outcome_rng) for n in sizes], axis=1
        )
        segs = labels[idx].astype(np.int64)  # one dtype for the compiled kernels
        if tables is not None and tables.truth is not None:
            # Gathered batch by batch below: a batch's rows stay in cache from
            # the gather to the policy, a whole chunk's (16 MB) would not.
            contexts = None
            truth, keys = tables.truth, idx
        else:
            contexts = scenario.contexts(idx) if need_features else None
            truth, keys = _chunk_truth(scenario, level_name, idx, config.objective), None
        if baseline is not None and (level_name == "generic" or add_generic_baseline):
            if level_name == "generic":
                g_truth, g_keys = truth, keys
            elif generic_tables is not None and generic_tables.truth is not None:
                g_truth, g_keys = generic_tables.truth, idx
            else:
                g_truth, g_keys = _chunk_truth(scenario, "generic", idx, config.objective), None
            # Impressions per row of the truth table: a user drawn twice counts twice.
            weights = (
                np.ones(n_rows)
                if g_keys is None
                else np.bincount(g_keys, minlength=g_truth.best.size).astype(np.float64)
            )
            g_truth.add_baseline(baseline, weights)
        # Row of ``truth`` of each chunk row.
        keys = np.arange(n_rows) if keys is None else keys
        batch_of_row = np.repeat(np.arange(b1 - b0), sizes)
        for pi, pol in enumerate(policies):
            rng = policy_rngs[pi]
            if routes[pi] is not None:
                ctx = None
                if contextual[pi]:
                    ctx = (tables.contexts, idx) if contexts is None else (contexts, keys)
                shown = routes[pi].play(
                    pol, offsets, keys, truth.ctr, uniforms[0], rng, contexts=ctx
                )
                _tally_chunk(
                    scenario, truth, keys, uniforms, shown, segs, batch_of_row, b1 - b0,
                    totals[pi], counts[pi], seg_tot[pi],
                    series[pi], allocation[pi], ckpt_local[b0:b1], ckpt_index[b0:b1],
                )  # fmt: skip
                continue
            # Arm shown at each row of the chunk; -1 where the budget had run out.
            shown = np.full(n_rows, -1, dtype=np.int64)
            for j in range(b1 - b0):
                if remaining[pi] <= 0:
                    break
                lo, n = int(offsets[j]), int(sizes[j])
                sl = slice(lo, lo + n)
                x_full = None
                if contextual[pi] or writer is not None:
                    x_full = contexts[sl] if contexts is not None else tables.contexts[idx[sl]]
                x = x_full if contextual[pi] else empty[:n]
                if pol.uses_ground_truth:
                    pol.set_ground_truth(truth.reward_rows(keys[sl]))
                arms = pol.select(x, rng)
                fi = keys[sl] * k + arms
                m = n
                if capped or config.objective != "ctr" or writer is not None:
                    click, conv, revenue, cost = scenario.response.outcomes(
                        truth.ctr[fi],
                        truth.cvr[fi],
                        truth.value[fi],
                        truth.cost[fi],
                        uniforms[:, sl],
                    )
                    if capped:
                        # Serve impressions until the budget runs out (the one that
                        # crosses the cap is still paid for, as on ad platforms).
                        spent = np.cumsum(cost)
                        m = int(min(n, np.searchsorted(spent, remaining[pi], side="left") + 1))
                        remaining[pi] -= spent[m - 1]
                    if config.objective == "ctr":
                        reward = click[:m].astype(np.float64)
                    else:
                        reward = (revenue[:m] - cost[:m] - low) / span
                else:
                    # Only the click is needed to learn from: the rest is totalled below.
                    reward = (uniforms[0, sl] < truth.ctr[fi]).astype(np.float64)
                a = arms[:m]
                shown[lo : lo + m] = a
                if writer is not None:
                    probs = pol.action_probabilities(x[:m], rng)
                    rows = np.arange(m)
                    writer.write(
                        impression=b0 * config.batch_size + lo + rows,
                        seed=s,
                        level=level_name,
                        policy=config.policies[pi],
                        segment=segs[sl][:m],
                        context=x_full[:m],
                        action=a,
                        pscore=probs[rows, a],
                        click=click[:m],
                        conversion=conv[:m],
                        revenue=revenue[:m],
                        cost=cost[:m],
                        reward=reward,
                        expected_reward=_pad(truth.reward_rows(keys[sl][:m]), writer.n_arms),
                    )
                if config.conversion_delay == 0:
                    pol.update(x[:m], a, reward)
                else:
                    end = (b0 + j) * config.batch_size + n
                    queue = pending[pi]
                    queue.append((end + config.conversion_delay, x[:m], a, reward))
                    while queue and queue[0][0] <= end:
                        _, xq, aq, rq = queue.popleft()
                        pol.update(xq, aq, rq)
            _tally_chunk(
                scenario, truth, keys, uniforms, shown, segs, batch_of_row, b1 - b0,
                totals[pi], counts[pi], seg_tot[pi],
                series[pi], allocation[pi], ckpt_local[b0:b1], ckpt_index[b0:b1],
            )  # fmt: skip
        tick(b1 - b0)
    seg_stats[:, :, :k, :] = seg_tot.reshape(n_pol, n_seg, k, len(SEGMENT_METRICS))


def _tally_chunk(
    scenario: Scenario,
    truth: _Truth,
    keys: np.ndarray,
    uniforms: np.ndarray,
    shown: np.ndarray,
    segs: np.ndarray,
    batch_of_row: np.ndarray,
    n_batches: int,
    totals: np.ndarray,
    counts: np.ndarray,
    seg_tot: np.ndarray,
    series: np.ndarray,
    allocation: np.ndarray,
    is_ckpt: np.ndarray,
    ckpt_index: np.ndarray,
) -> None:
    """Add one policy's chunk to its running totals and record the chunk's checkpoints.

    Parameters
    ----------
    truth : _Truth
    keys : ndarray of shape (n_rows,)
        Row of ``truth`` of each row of the chunk.
    uniforms : ndarray of shape (3, n_rows)
    shown : ndarray of shape (n_rows,)
        Arm shown per row of the chunk, -1 for rows not served.
    segs, batch_of_row : ndarray of shape (n_rows,)
        Segment and batch (within the chunk) of each row.
    totals : ndarray of shape (n_metrics,)
    counts : ndarray of shape (n_arms,)
    seg_tot : ndarray of shape (n_segments * n_arms * 5,)
        Running totals, updated in place.
    series : ndarray of shape (n_checkpoints, n_metrics)
    allocation : ndarray of shape (n_checkpoints, max_arms)
        This policy's slices of the result, written at the chunk's checkpoints.
    is_ckpt, ckpt_index : ndarray of shape (n_batches,)
        Whether each of the chunk's batches ends at a checkpoint, and which.
    """
    k = truth.n_arms
    n_cells = seg_tot.size // len(SEGMENT_METRICS)
    # One compiled pass gathers the shown pairs' expectations, realizes their
    # outcomes and totals them (rows a budget left unserved are skipped).
    response = scenario.response
    fused = fused_totals(
        shown, keys, segs, batch_of_row, uniforms,
        (truth.ctr, truth.cvr, truth.value, truth.cost, truth.reward, truth.best),
        response.params.cpc if response.pricing == "cpc" else None,
        n_batches, k, n_cells // k,
    )  # fmt: skip
    if fused is None:  # no numba
        fused = _gathered_totals(
            scenario, truth, keys, uniforms, shown, segs, batch_of_row, n_batches, n_cells
        )
    per_batch, per_arm, per_cell = fused
    cum = totals + np.cumsum(per_batch, axis=0)
    cum_counts = counts + np.cumsum(per_arm, axis=0)
    marks = np.flatnonzero(is_ckpt)
    series[ckpt_index[marks]] = cum[marks]
    allocation[ckpt_index[marks], :k] = cum_counts[marks]
    totals[:] = cum[-1]
    counts[:] = cum_counts[-1]
    seg_tot += per_cell.ravel()


def _gathered_totals(
    scenario: Scenario,
    truth: _Truth,
    keys: np.ndarray,
    uniforms: np.ndarray,
    shown: np.ndarray,
    segs: np.ndarray,
    batch_of_row: np.ndarray,
    n_batches: int,
    n_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_tally_chunk`'s totals by explicit gathers (without numba).

    Also the reference the fused kernel is tested against.
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


def _pad(values: np.ndarray, width: int) -> np.ndarray:
    if values.shape[1] == width:
        return values
    out = np.full((values.shape[0], width), np.nan)
    out[:, : values.shape[1]] = values
    return out
