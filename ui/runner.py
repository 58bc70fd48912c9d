"""Run an experiment from the app: cached by its frozen config, saved to the run store."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulation.config import ExperimentConfig
from simulation.engine.core import ExperimentResult, run_experiment
from ui import cache

__all__ = ["run_and_save", "run_label", "tables_of", "throttled"]


def run_label(config: ExperimentConfig) -> str:
    """A short readable name for a run."""
    levels = "/".join(config.levels)
    return (
        f"{len(config.policies)} policies × {levels}, {config.n_impressions:,} impressions, "
        f"{config.n_seeds} seed{'s' if config.n_seeds > 1 else ''}, {config.objective.upper()}"
    )


def tables_of(result: ExperimentResult) -> dict[str, Any]:
    """The extra tables saved with a run."""
    return {
        "allocation": result.allocation_frame(),
        "segments": result.segment_frame(),
        "uplift": result.uplift_frame(),
    }


def run_and_save(
    config: ExperimentConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
    keep_log: bool = False,
) -> tuple[ExperimentResult, Callable[[], tuple[str | None, str | None]]]:
    """Run (or recall from the cache); saving to the run store is returned, to call next.

    The page draws the charts first and saves after, so the user does not wait for the
    store. A result recalled from the cache that was already saved (and is still in the
    store) is not saved again: its run id is returned.

    Returns
    -------
    result : ExperimentResult
    save : callable
        ``save()``, called once, stores the run and returns ``(run_id, warning)``:
        ``run_id`` is None when saving failed, and ``warning`` says why.
    """
    if keep_log:
        # A log is a side effect the cache cannot replay: run afresh. The directory
        # lives until the run (and its log) is saved.
        tmp = tempfile.TemporaryDirectory(prefix="adlab-log-")
        log = Path(tmp.name) / "log.parquet"
        try:
            result = run_experiment(
                config, scenario=cache.scenario(config), progress=progress, log_path=log
            )
        except BaseException:
            tmp.cleanup()
            raise

        def save_with_log() -> tuple[str | None, str | None]:
            try:
                return _save(config, result, log)
            finally:
                tmp.cleanup()

        return result, save_with_log

    result = cache.experiment(config, progress)

    def save() -> tuple[str | None, str | None]:
        # The same experiment again is the same run (same seed, same numbers): list it once.
        run_id, warning = cache.saved_run_id(config, result), None
        if run_id is None:
            run_id, warning = _save(config, result, None)
            if run_id is not None:
                cache.remember_saved_run(config, result, run_id)
        return run_id, warning

    return result, save


def _save(
    config: ExperimentConfig, result: ExperimentResult, log: Path | None
) -> tuple[str | None, str | None]:
    try:
        store = cache.run_store()
        run_id = store.save(
            config=config.to_dict(),
            seed=config.seed,
            summary=result.summary_frame(),
            timeseries=result.timeseries_frame(),
            tables=tables_of(result),
            log_path=log,
            source="app",
            name=run_label(config),
        )
    except Exception as exc:
        return None, f"The run was not saved to the run store ({type(exc).__name__}: {exc})."
    return run_id, None


def throttled(callback: Callable[[float, str], None], every: float = 0.5):
    """Wrap ``callback(fraction, text)`` as a throttled ``progress(done, total)``.

    Calls go through at most every ``every`` seconds (each redraws the bar in the browser,
    which competes with the simulation for the same cores). The last call always goes
    through; a failing callback never stops the run.
    """
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < every:
            return
        last[0] = now
        # A progress bar must never stop a run.
        with contextlib.suppress(Exception):
            callback(min(done / max(total, 1), 1.0), f"Simulating… {done:,} of {total:,} batches")

    return progress
