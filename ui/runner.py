"""Run an experiment from the app: cached by its frozen config, saved to the run store.

A run goes in a thread of its own (:class:`BackgroundRun`), so the page stays live: it
polls the run's progress, shows an estimate of the time left and a Stop button, and draws
the checkpoints tallied so far (:meth:`BackgroundRun.live_frame`, from the engine's
:class:`~simulation.engine.live.LiveSeries`). The page keeps its run in
``st.session_state``; nothing here holds state between sessions.

When a session's run ends: when it finishes; when its Stop button is pressed; when the
same session starts another run; when the browser session ends (a watchdog beside the run
asks the page's ``alive()`` check every :data:`SESSION_CHECK_EVERY` seconds and stops the
run at the first answer that the session is gone: closing the tab, or losing the
connection, ends the run and its workers within about a second: there is no grace period
for a reconnection); and, as a last resort, when the session's state is garbage collected.
A stopped run ends its worker processes within a second and saves nothing: the stop is
checked before saving, and a save under way (atomic in the run store) is finished, never cut.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig
from simulation.engine.core import ExperimentResult, RunCancelled, run_experiment
from simulation.engine.generated import skipped_pairs
from simulation.engine.live import LiveSeries
from simulation.inputs import InputsRejected, read_inputs
from ui import cache
from ui.fmt import cap_text

__all__ = [
    "DEFAULT_RATE",
    "EARLY_WAIT",
    "GENERATED_COST",
    "LIVE_CHARTS_AFTER",
    "SESSION_CHECK_EVERY",
    "SYNC_WAIT",
    "BackgroundRun",
    "early_wait",
    "estimate_seconds",
    "failure_text",
    "keep_early",
    "live_charts_after",
    "run_and_save",
    "run_impressions",
    "run_label",
    "run_work",
    "served_only",
    "sync_wait",
    "tables_of",
    "work_rate",
]

#: Impressions per second (summed over seeds, levels and policies) assumed for the time
#: estimate before the session's first run measures its own. Measured 2026-12-03 on a
#: 2-core machine (``bench/generated_run_time.py``): the default experiment (3 seeds x 3
#: levels x 5 policies x 300,000 impressions, 13.5 million) in 1.75 s on its first run in a
#: fresh process (7.7 million/s; 1.24 s warm), and the app's engine runs about 1.5x slower
#: than a script's (docs/generated.md), so 5 million/s. It was 500,000/s, measured before
#: the engine was compiled, and told users 27 s for a run of under 2. Runs with the
#: generated level, or linear policies at the per-user level, are slower.
DEFAULT_RATE = 5_000_000.0
#: What an impression of the generated level costs, in impressions of a pool level: the
#: estimate's weight for it. Measured 2026-12-03 on a 2-core machine (docs/generated.md,
#: *Measured*): CPU per impression 1.83 us at the generated level (uniform and mvt_ts, three
#: seeds) against 0.164 us at a pool level (five policies). Without it, a run with the
#: generated level after one without was estimated three times too short.
GENERATED_COST = 11.0
#: Seconds the page waits for a run before drawing its progress instead: a short run's
#: results appear in the same page load. ``ADLAB_RUN_WAIT`` overrides it (tests wait longer).
SYNC_WAIT = 2.0
#: Seconds between the watchdog's looks at the run's browser session.
SESSION_CHECK_EVERY = 0.1


#: Seconds a run must be expected to last (elapsed + time left) for the page to draw its
#: charts while it runs; ``ADLAB_LIVE_CHARTS_AFTER`` overrides it (tests draw them at once).
LIVE_CHARTS_AFTER = 10.0


def live_charts_after() -> float:
    """:data:`LIVE_CHARTS_AFTER`, or ``$ADLAB_LIVE_CHARTS_AFTER`` seconds when set."""
    try:
        return float(os.environ.get("ADLAB_LIVE_CHARTS_AFTER", LIVE_CHARTS_AFTER))
    except ValueError:
        return LIVE_CHARTS_AFTER


#: Seconds (from the click) the click's page load may wait for a run's pool levels when
#: they are expected by then: only that page load draws them (the poll does not rerun the
#: page for them), so results due a little after :data:`SYNC_WAIT` were otherwise first
#: seen with the whole run. ``ADLAB_EARLY_WAIT`` overrides it; so does ``ADLAB_RUN_WAIT``
#: (tests that shorten the click's wait shorten this one too).
EARLY_WAIT = 5.0


def early_wait() -> float:
    """:data:`EARLY_WAIT`, or ``$ADLAB_EARLY_WAIT``, else ``$ADLAB_RUN_WAIT``, seconds when set."""
    for name in ("ADLAB_EARLY_WAIT", "ADLAB_RUN_WAIT"):
        if name in os.environ:
            try:
                return float(os.environ[name])
            except ValueError:
                break
    return EARLY_WAIT


def sync_wait() -> float:
    """:data:`SYNC_WAIT`, or ``$ADLAB_RUN_WAIT`` seconds when set."""
    try:
        return float(os.environ.get("ADLAB_RUN_WAIT", SYNC_WAIT))
    except ValueError:
        return SYNC_WAIT


def run_impressions(config: ExperimentConfig) -> int:
    """Impressions a run serves in all: seeds x worlds x pairs played x impressions.

    A (level, policy) pair that does not apply, such as ``mvt_ts`` at a pool level, is not
    played and serves none.
    """
    pairs = len(config.levels) * len(config.policies) - len(skipped_pairs(config))
    return config.n_seeds * config.n_worlds * pairs * config.n_impressions


def run_work(config: ExperimentConfig) -> float:
    """The run's cost in pool-level impressions.

    :func:`run_impressions` with each generated-level impression weighted by
    :data:`GENERATED_COST`.
    """
    skipped = skipped_pairs(config)
    weights = [
        GENERATED_COST if level == "generated" else 1.0
        for level in config.levels
        for policy in config.policies
        if (level, policy) not in skipped
    ]
    return config.n_seeds * config.n_worlds * config.n_impressions * sum(weights)


def work_rate(config: ExperimentConfig, rate: float) -> float:
    """A run's measured impressions/s as pool-level impressions/s (what the estimate takes)."""
    return rate * run_work(config) / max(run_impressions(config), 1)


def estimate_seconds(config: ExperimentConfig, rate: float | None) -> float:
    """Expected run time of ``config`` at ``rate`` pool-level impressions/s.

    ``rate`` is :func:`work_rate` of a measured run (the default rate if None); the
    generated level's impressions count :data:`GENERATED_COST` each (:func:`run_work`).
    """
    return run_work(config) / (rate if rate and rate > 0 else DEFAULT_RATE)


def served_only(frame: pd.DataFrame) -> pd.DataFrame:
    """End each run's points where a spend cap stopped serving, for the charts.

    Works on :meth:`ExperimentResult.timeseries_frame` (cumulative ``impressions`` per
    ``step``) and on :meth:`ExperimentResult.allocation_frame` (per-arm ``impressions``,
    summed per step). Checkpoints while the run served every impression are kept; of
    those after a stop only the first is kept, drawn at the impression where serving
    stopped (its totals are the final ones), so the lines end where the spending ended.
    """
    runs = [frame[k] for k in ("seed", "level", "policy")]
    if "arm" in frame.columns:
        served = frame.groupby([*runs, frame["step"]], sort=False)["impressions"].transform("sum")
    else:
        served = frame["impressions"]
    short = served < frame["step"]
    if not short.any():
        return frame
    first_short = frame["step"].where(short).groupby(runs, sort=False).transform("min")
    keep = ~short | (frame["step"] == first_short)
    out = frame[keep].copy()
    moved = short[keep]
    out.loc[moved, "step"] = served[keep][moved].round().astype(out["step"].dtype)
    return out


class _Shared:
    """What the run's thread writes and the page reads (the thread holds only this)."""

    def __init__(self, total: int) -> None:
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.total, self.done = total, 0
        self.started = time.perf_counter()
        self.first_tick: tuple[float, int] | None = None
        self.last_tick: tuple[float, int] | None = None
        # Progress when the early results came: the rest, the generated level, goes at a
        # rate of its own (several times slower per impression than the pool levels').
        self.early_tick: tuple[float, int] | None = None
        self.status = "running"  # running, finished, stopped, failed
        # Set when the result is there (before it is saved) or the run ended otherwise.
        self.ready = threading.Event()
        self.result: ExperimentResult | None = None
        # The pool levels' part of a run with the generated level, while that one runs;
        # ``shown`` is set when it is there, or the result is, or the run ended.
        self.early: ExperimentResult | None = None
        self.shown = threading.Event()
        self.run_id: str | None = None
        self.warning: str | None = None
        self.error: str | None = None
        self.reason: str | None = None  # why a run stopped, when not by its Stop button
        self.live = LiveSeries()


class BackgroundRun:
    """One experiment of one session, running in a thread of its own.

    :meth:`stop` stops the run; so does ``alive()`` answering False (the browser session
    ended), and dropping the last reference to it (the session's state being garbage
    collected).

    Parameters
    ----------
    config : ExperimentConfig
    keep_log : bool
        Also keep the impression-level log (saved with the run).
    alive : callable, optional
        ``alive() -> bool``: whether the session that started the run is still there
        (:func:`ui.state.session_liveness`); None: no watchdog.
    """

    def __init__(
        self,
        config: ExperimentConfig,
        *,
        keep_log: bool = False,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        self.config, self.keep_log = config, keep_log
        self.label = run_label(config)
        self._shared = _Shared(run_impressions(config))  # the engine's count, until it reports
        weakref.finalize(self, self._shared.stop.set)
        self._thread = threading.Thread(
            target=_work, args=(self._shared, config, keep_log), name="adlab-run", daemon=True
        )
        self._thread.start()
        if alive is not None:
            threading.Thread(
                target=_watch, args=(self._shared, alive), name="adlab-run-watch", daemon=True
            ).start()

    @property
    def status(self) -> str:
        """``"running"``, ``"finished"``, ``"stopped"`` or ``"failed"``."""
        return self._shared.status

    @property
    def result(self) -> ExperimentResult | None:
        """The run's result, as soon as it is computed (None until then).

        It is there before the run is saved (:attr:`status` is still ``"running"`` while it
        is saved): the page draws it meanwhile, then :meth:`wait` s for the save.
        """
        return self._shared.result

    @property
    def early(self) -> ExperimentResult | None:
        """The pool levels' results of a run with the generated level, before it ends.

        Set while the generated level still runs (its units take several times as long);
        the same numbers as those levels' part of :attr:`result` (see
        :func:`simulation.engine.core.run_experiment`'s ``early``). None for other runs,
        and for a run recalled from the cache.
        """
        return self._shared.early

    @property
    def run_id(self) -> str | None:
        """The run store's id of the finished run (None if not saved)."""
        return self._shared.run_id

    @property
    def warning(self) -> str | None:
        """Why a finished run was not saved, if it was not."""
        return self._shared.warning

    @property
    def error(self) -> str | None:
        """Why a failed run failed."""
        return self._shared.error

    @property
    def reason(self) -> str | None:
        """Why the run stopped when its Stop button did not stop it (else None)."""
        return self._shared.reason

    def live_frame(self) -> pd.DataFrame:
        """The checkpoints tallied so far (a partial ``timeseries_frame``, ends at spend caps).

        Empty before the first checkpoint of any (seed, level), and for a run recalled from
        the cache (it tallies nothing: its result is there at once).
        """
        frame = self._shared.live.timeseries_frame()
        return frame if frame.empty else served_only(frame)

    def checkpoints(self) -> np.ndarray:
        """Impressions at each checkpoint of the whole run, shape (n_checkpoints,)."""
        return self._shared.live.checkpoints

    @property
    def fraction(self) -> float:
        """Share of the impressions served, in [0, 1]."""
        sh = self._shared
        return min(sh.done / max(sh.total, 1), 1.0)

    @property
    def impressions_done(self) -> int:
        """Impressions served so far (over seeds, levels and policies)."""
        return int(self.fraction * run_impressions(self.config))

    def rate(self) -> float | None:
        """Measured impressions per second (None until two progress reports)."""
        return self._rate_since(self._shared.first_tick)

    def _rate_since(self, tick: tuple[float, int] | None, least: float = 0.0) -> float | None:
        """Impressions per second from progress report ``tick`` to the last one.

        None without both, or when they are less than ``least`` seconds apart.
        """
        sh = self._shared
        if tick is None or sh.last_tick is None or sh.last_tick[0] - tick[0] <= least:
            return None
        (t0, d0), (t1, d1) = tick, sh.last_tick
        # The engine counts impressions; scaled to this run's count all the same.
        per_report = run_impressions(self.config) / max(sh.total, 1)
        return (d1 - d0) * per_report / (t1 - t0)

    def eta_seconds(self) -> float | None:
        """Seconds left at the measured rate (None before it is measured).

        Once the pool levels' results came early, at the rate measured since then: what
        is left is the generated level, whose impressions take several times as long. Until
        that rate is measured the time left is unknown (None), not the pool levels' rate:
        that said "about 1 s left" of a generated level taking 20 s, and the progress poll,
        taking the run to be about to end, waited half a second for it on every poll.
        """
        early = self._shared.early_tick
        rate = self._rate_since(early, least=0.2) if early is not None else self.rate()
        if not rate:  # not measured yet, or no progress since it was
            return None
        return max(run_impressions(self.config) - self.impressions_done, 0) / rate

    def expected_seconds(self) -> float | None:
        """The run's expected length in all, elapsed included (None before it can be told).

        What the page decides on whether to draw live charts (:func:`live_charts_after`).
        Before the early results, or for a run without them: the time elapsed plus
        :meth:`eta_seconds`. After them: the rest (the generated level) at the rate the pool
        levels went, each generated impression weighted by :data:`GENERATED_COST`, as the
        estimate before a run weighs it. Not the rate measured since the early results: for
        the first seconds the page draws them and the workers run at a lower priority (the
        engine's ``early``), so that rate is several times too slow. In a new browser session,
        which loads its chart code then, it made the default experiment's generated level,
        about 3 s of work, look like 9-13 s, and the page drew live charts that took the
        cores from the workers (the whole run's charts came about 1.4 s later: docs/app.md).
        """
        sh = self._shared
        early = sh.early_tick
        if early is None:
            eta = self.eta_seconds()
            return None if eta is None else self.elapsed() + eta
        pool_seconds = early[0] - sh.started
        if pool_seconds <= 0 or early[1] <= 0:
            return None
        per_report = run_impressions(self.config) / max(sh.total, 1)
        pool_rate = early[1] * per_report / pool_seconds  # impressions/s, nearly all pool ones
        left = max(run_impressions(self.config) - self.impressions_done, 0)
        return self.elapsed() + left * GENERATED_COST / pool_rate

    def early_due(self) -> float | None:
        """Seconds until the pool levels' results are expected; 0 once they are in.

        None for a run that shows none early (no generated level beside a pool level, several
        worlds, or a kept log: :func:`simulation.engine.core.run_experiment`'s ``early``),
        for one that ended without them, and before its rate is measured. The pool levels'
        units run first, so their impressions are about all those served until then.
        """
        sh, config = self._shared, self.config
        if sh.early is not None:
            return 0.0
        if sh.status != "running" or sh.result is not None:
            return None
        if "generated" not in config.levels or config.n_worlds > 1 or self.keep_log:
            return None
        skipped = skipped_pairs(config)
        pairs = sum(
            (level, policy) not in skipped
            for level in config.levels
            if level != "generated"
            for policy in config.policies
        )
        rate = self.rate()
        if not pairs or not rate:
            return None
        pool = config.n_seeds * config.n_impressions * pairs
        return max(pool - self.impressions_done, 0) / rate

    def lasts(self, seconds: float) -> bool:
        """Whether the run has lasted, or is expected to last, ``seconds`` or more in all."""
        expected = self.expected_seconds()
        return self.elapsed() >= seconds or (expected is not None and expected >= seconds)

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self._shared.started

    def stop(self) -> None:
        """Ask the run to stop (it ends within about a second; nothing is saved)."""
        self._shared.stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for the run to end (saved); True if it has."""
        return self._shared.finished.wait(timeout)

    def wait_ready(self, timeout: float | None = None, *, early: bool = False) -> bool:
        """Wait up to ``timeout`` seconds for the result (or the run's end); True if there.

        With ``early``, :attr:`early` results will do too.
        """
        return (self._shared.shown if early else self._shared.ready).wait(timeout)


def _watch(shared: _Shared, alive: Callable[[], bool]) -> None:
    """Stop the run as soon as ``alive()`` says False (until the run ends)."""
    while not shared.finished.wait(SESSION_CHECK_EVERY):
        try:
            here = bool(alive())
        except Exception:  # a failing check never stops a run
            here = True
        if not here:
            shared.reason = "the browser session ended"
            shared.stop.set()
            return


def _work(shared: _Shared, config: ExperimentConfig, keep_log: bool) -> None:
    """The run's thread: run, save, record the outcome (never raises)."""

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        shared.done, shared.total = done, total
        if shared.first_tick is None:
            shared.first_tick = (now, done)
        shared.last_tick = (now, done)

    def early(result: ExperimentResult) -> None:
        shared.early_tick = (time.perf_counter(), shared.done)
        shared.early = result
        shared.shown.set()

    try:
        result, save = run_and_save(
            config, progress=progress, keep_log=keep_log, stop=shared.stop, live=shared.live,
            early=early,
        )  # fmt: skip
        if shared.stop.is_set():
            raise RunCancelled("stopped before saving.")
        # The page draws the result while it is saved (building and writing the tables took
        # 0.4-1.3 s in the app on a busy machine): the charts need not wait for the store.
        shared.result = result
        shared.ready.set()
        shared.shown.set()
        shared.run_id, shared.warning = save()
        shared.status = "finished"
    except RunCancelled:
        shared.status = "stopped"
    except BaseException as exc:  # reported on the page, never lost in a thread
        shared.error, shared.status = failure_text(exc), "failed"
    finally:
        shared.ready.set()
        shared.shown.set()
        shared.finished.set()


def failure_text(exc: BaseException) -> str:
    """What the page says of a run that failed.

    Inputs that cannot make the ads (:class:`~simulation.inputs.InputsRejected`) are the
    user's to change, and their message says how: it is shown as written. Anything else
    keeps its exception's name, which is what a bug report needs.

    Examples
    --------
    >>> failure_text(InputsRejected("only 0 of the 5 generic en ads ..."))
    'only 0 of the 5 generic en ads ...'
    >>> failure_text(KeyError("x"))
    "KeyError: 'x'"
    """
    if isinstance(exc, InputsRejected):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def run_label(config: ExperimentConfig) -> str:
    """A short readable name for a run (what tells two of a session's runs apart).

    It names the audience size and the user's own input files too: two runs differing only
    in those got the same name in the Results page's pickers; and the hidden world's
    personalization scale when it is not the default 1 (a run in the world with nothing to
    personalize is told apart from one in the default world).
    """
    levels = "/".join(config.levels)
    label = (
        f"{len(config.policies)} policies × {levels}, {config.n_impressions:,} impressions, "
        f"{config.n_seeds} seed{'s' if config.n_seeds > 1 else ''}, {config.objective.upper()}, "
        f"{config.n_users:,} users"
    )
    own = [kind for kind in ("segments", "catalogue", "templates")
           if getattr(config, f"{kind}_file") is not None]  # fmt: skip
    if own:
        label += f", own {'/'.join(own)}"
    if config.n_worlds > 1:
        label += f", {config.n_worlds} worlds"
    if config.budget is not None:
        label += f", {cap_text(config.budget)} spend cap"
    if config.regenerate_every:
        label += f", regenerated every {config.regenerate_every:,}"
    if config.world.personalization_scale != 1:  # e.g. the null check's world (scale 0)
        label += f", personalization scale {config.world.personalization_scale:g}"
    return label


def tables_of(result: ExperimentResult) -> dict[str, Any]:
    """The extra tables saved with a run."""
    tables = {
        "allocation": result.allocation_frame(),
        "segments": result.segment_frame(),
        "uplift": result.uplift_frame(),
    }
    if result.generations is not None:  # the regenerated pools' lineage
        tables["generations"] = result.generations_frame()
    if result.generated is not None:  # mvt_ts's beliefs, what each policy served
        tables["component_effects"] = result.component_effects_frame()
        tables["top_creatives"] = result.top_creatives_frame()
        tables["component_allocation"] = result.component_allocation_frame()
        gap = cache.gap_table(result)  # with the world's floor, which a saved run cannot rebuild
        if not gap.empty:
            tables["gap_closed"] = gap
    return tables


def run_and_save(
    config: ExperimentConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
    keep_log: bool = False,
    stop: threading.Event | None = None,
    live: LiveSeries | None = None,
    early: Callable[[ExperimentResult], None] | None = None,
) -> tuple[ExperimentResult, Callable[[], tuple[str | None, str | None]]]:
    """Run (or recall from the cache); saving to the run store is returned, to call next.

    ``early`` receives the pool levels' results of a run with the generated level before
    the run ends (not with ``keep_log``: a logged run is one process, in order).

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
            cache.tables(config)  # or wait for the page's prefetch of them
            result = run_experiment(
                config, scenario=cache.scenario(config), progress=progress, log_path=log,
                stop=stop, live=live,
            )  # fmt: skip
        except BaseException:
            tmp.cleanup()
            raise

        def save_with_log() -> tuple[str | None, str | None]:
            try:
                return _save(config, result, log)
            finally:
                tmp.cleanup()

        return result, save_with_log

    result = cache.experiment(config, progress, stop, live, early)
    return result, lambda: _save_once(config, result)


def keep_early(job: BackgroundRun) -> tuple[str | None, str | None]:
    """Keep a stopped run's early results: the run without its generated level, complete.

    They are that run's result (:attr:`BackgroundRun.early`), so they are cached as it
    (running it again recalls them) and saved to the run store as it, once.

    Returns
    -------
    run_id, warning : str or None
        As a save: ``run_id`` is None when saving failed, and ``warning`` says why.
    """
    result = job.early
    if result is None:
        raise ValueError("this run has no early results to keep.")
    cache.remember_result(result.config, result)
    return _save_once(result.config, result)


def _save_once(config: ExperimentConfig, result: ExperimentResult) -> tuple[str | None, str | None]:
    # The same experiment again is the same run (same seed, same numbers): list it once.
    # A cached result is shared by every session, and two of them may finish it at once:
    # check, save and remember under the store's lock, or both see "not saved" and save
    # it twice. The lock lives on the store object the app keeps per location (the result
    # is a frozen, slotted record, and nothing here may hold module-level state).
    with cache.run_store().save_lock:
        run_id, warning = cache.saved_run_id(config, result), None
        if run_id is None:
            run_id, warning = _save(config, result, None)
            if run_id is not None:
                cache.remember_saved_run(config, result, run_id)
    return run_id, warning


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
            inputs=read_inputs(config).files,
        )
    except Exception as exc:
        return None, f"The run was not saved to the run store ({type(exc).__name__}: {exc})."
    return run_id, None
