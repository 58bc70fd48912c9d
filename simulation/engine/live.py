"""The time series of a run while it is under way: checkpoints as they are tallied.

Pass a :class:`LiveSeries` to :func:`simulation.engine.run_experiment` and read it from
another thread: each (seed, level) unit hands over the checkpoints it has completed after
every chunk (from a forked worker, through the run's progress queue: only the new
checkpoints, a few hundred bytes). The rows are copies of what the unit writes into its
own part of the final result, so every partial series is a prefix of the final one; the
final result itself is assembled as before, whether or not a live series is attached.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig

__all__ = ["LiveSeries"]


class LiveSeries:
    """Cumulative totals per (replication, level, policy, checkpoint) tallied so far.

    Thread-safe: the run writes, any thread reads. Empty until the run has started (and
    for a run recalled from a cache, which tallies nothing).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: ExperimentConfig | None = None
        self._levels: tuple[str, ...] = ()
        self._checkpoints = np.zeros(0, dtype=np.int64)
        self._n_worlds = 1
        self._series: np.ndarray | None = None  # NaN where not tallied yet
        self._filled: np.ndarray | None = None  # (n_replications, n_levels) checkpoints

    def _start(
        self,
        config: ExperimentConfig,
        levels: tuple[str, ...],
        checkpoints: np.ndarray,
        n_replications: int,
        n_metrics: int,
        n_worlds: int = 1,
    ) -> None:
        """Size the series (the engine calls it once per run; later calls are ignored)."""
        with self._lock:
            if self._series is not None:
                return
            self._config, self._levels, self._n_worlds = config, levels, n_worlds
            self._checkpoints = np.asarray(checkpoints)
            shape = (n_replications, len(levels), len(config.policies), checkpoints.size)
            self._series = np.full((*shape, n_metrics), np.nan)
            self._filled = np.zeros(shape[:2], dtype=np.int64)

    def _add(self, replication: int, level: int, first: int, rows: np.ndarray) -> None:
        """Checkpoints ``first ..`` of a unit: ``rows`` of shape (n_policies, k, n_metrics)."""
        with self._lock:
            end = first + rows.shape[1]
            self._series[replication, level, :, first:end] = rows
            self._filled[replication, level] = max(self._filled[replication, level], end)

    @property
    def checkpoints(self) -> np.ndarray:
        """Impressions at each checkpoint of the run, shape (n_checkpoints,) (empty before it)."""
        return self._checkpoints

    def filled(self) -> np.ndarray:
        """Checkpoints tallied per (replication, level), shape (n_replications, n_levels)."""
        with self._lock:
            return np.zeros((0, 0), np.int64) if self._filled is None else self._filled.copy()

    def timeseries_frame(self) -> pd.DataFrame:
        """The checkpoints tallied so far, in the columns of the final ``timeseries_frame``.

        Built by :meth:`ExperimentResult.timeseries_frame` itself on the partial series;
        rows of checkpoints not reached yet are left out (empty before the run starts).
        """
        # The engine imports this module; the frame builder is the result's own.
        from simulation.engine.core import ExperimentResult

        with self._lock:
            if self._series is None:
                return pd.DataFrame()
            series = self._series.copy()
            config, levels, n_worlds = self._config, self._levels, self._n_worlds
        empty = np.zeros((*series.shape[:3], 0, 0))
        partial = ExperimentResult(
            config=config, levels=levels, policies=config.policies,
            checkpoints=self._checkpoints, series=series, allocation=empty,
            segment_stats=empty, arm_labels={}, segment_names=(),
            elapsed_seconds=0.0, n_worlds=n_worlds,
        )  # fmt: skip
        frame = partial.timeseries_frame()
        return frame[frame["impressions"].notna()].reset_index(drop=True)


class _WorldLive:
    """World ``offset // n_seeds`` of a multi-world run's :class:`LiveSeries`."""

    def __init__(self, live: LiveSeries, config: ExperimentConfig, offset: int) -> None:
        self.live, self.config, self.offset = live, config, offset

    def _start(self, config, levels, checkpoints, n_replications, n_metrics, n_worlds=1) -> None:
        self.live._start(
            self.config, levels, checkpoints, n_replications * self.config.n_worlds, n_metrics,
            self.config.n_worlds,
        )  # fmt: skip

    def _add(self, replication: int, level: int, first: int, rows: np.ndarray) -> None:
        self.live._add(replication + self.offset, level, first, rows)
