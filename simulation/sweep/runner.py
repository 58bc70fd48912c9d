"""Run a sweep's experiments on local processes or a Dask cluster; store each as it finishes.

Folder layout (``out``)::

    grid.toml               the grid file, as given (a different grid here is refused)
    runs/<run_key>.parquet  one finished run's summary (written atomically, never partial)
    sweep.parquet           the table (simulation.sweep.table), written when every run is done
    sweep.csv               the same table as CSV

A run's file is named by the SHA-256 of its resolved config, so re-running the
same command after a kill (or a lost worker) skips every run already stored
and the final table is the same, byte for byte: each run's seed comes from its
grid point, and rows are sorted canonically before writing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import re
import shutil
import signal
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.config import ExperimentConfig
from simulation.sweep.grid import SweepPlan, SweepRun, grid_fingerprint
from simulation.sweep.table import build_table, run_rows, write_table

__all__ = [
    "BACKENDS",
    "ClusterStop",
    "SchedulerUnreachableError",
    "SweepConflictError",
    "SweepOutcome",
    "check_folder",
    "check_scheduler_address",
    "connect_scheduler",
    "execute_run",
    "prepare_folder",
    "run_sweep",
    "stored_keys",
]

BACKENDS: tuple[str, ...] = ("local", "dask")
#: How long to wait for a remote Dask scheduler to answer (seconds): a scheduler that is
#: up answers within a second or two, even across a network; a wrong address should not
#: keep the user waiting half a minute.
SCHEDULER_TIMEOUT = 10.0
#: A Dask scheduler address: ``protocol://host:port`` (host a name, IPv4 or [IPv6]).
SCHEDULER_ADDRESS = re.compile(
    r"(tcp|tls|ws|wss|ucx)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})"
)
GRID_NAME = "grid.toml"
#: What the forkserver imports once for the local pool's workers (each forked from it loaded).
WORKER_PRELOAD: tuple[str, ...] = ("__main__", "simulation.engine", "threadpoolctl")
RUNS_DIR = "runs"
#: How often a run on a Dask worker asks the scheduler whether its sweep was stopped
#: (seconds): one small request each time, and a stopped run ends within this (plus a chunk).
CLUSTER_STOP_INTERVAL = 0.5
#: How long a stopped sweep's event stays on the scheduler (seconds) before the scheduler
#: clears it, which forgets it: long enough for every run in flight to see it (each asks
#: every ``CLUSTER_STOP_INTERVAL`` after a chunk, within a second or so), and a shared
#: scheduler does not keep one entry per stop for its life.
STOP_EVENT_GRACE = 120.0

#: ``progress(done, total)``: runs finished (stored ones included) out of all runs.
SweepProgress = Callable[[int, int], None]


class SweepConflictError(ValueError):
    """The output folder holds a different sweep (or other files)."""


class SchedulerUnreachableError(ConnectionError):
    """No Dask scheduler answered at the given address."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepOutcome:
    """What a call of :func:`run_sweep` did.

    Attributes
    ----------
    table : DataFrame or None
        The sweep table; None when stopped before every run was done.
    n_runs, n_skipped, n_executed : int
        All runs, runs found already stored, runs executed by this call.
    run_seconds : float
        Sum of the executed runs' own times (each run's ``elapsed_seconds``).
    wall_seconds : float
        Time from the first submission to the last stored result.
    stopped : bool
    """

    table: pd.DataFrame | None
    n_runs: int
    n_skipped: int
    n_executed: int
    run_seconds: float
    wall_seconds: float
    stopped: bool

    def store_meta(self, plan: SweepPlan, out: str | Path | None) -> dict:
        """What the run store keeps of this sweep beside its table (``save_sweep``'s meta).

        One place for the command and the app, so a sweep saved by either lists alike.

        Parameters
        ----------
        plan : SweepPlan
        out : str or Path or None
            The folder the sweep ran in, recorded as ``out`` when it outlives the save
            (the command's ``--out``, the user's, with its runs). None records none: the
            app's resume folder is removed once the sweep is saved
            (:mod:`simulation.sweep.workdir`), and the sweep then lives in the store alone.
        """
        meta = {
            "fingerprint": plan.fingerprint,
            "parameters": list(plan.keys),
            "n_points": len(plan.points),
            "n_runs": self.n_runs,
            "worlds": plan.worlds,
        }
        if out is not None:
            meta["out"] = str(out)
        return meta


def execute_run(
    config: dict, *, limit_threads: bool = True, stop_event: str | None = None
) -> tuple[pd.DataFrame, float]:
    """Run one experiment (single process) and return its summary and own time.

    Module-level and fed plain data, so process pools and Dask workers can call it.

    Parameters
    ----------
    config : dict
        :meth:`ExperimentConfig.to_dict` of the resolved config.
    limit_threads : bool, default=True
        Run with one thread per native pool (BLAS, OpenMP). False when the
        process has been limited once already (:func:`_limit_worker_threads`):
        each limit scans the loaded libraries, 4-5 ms, a tenth of a short run.
    stop_event : str, optional
        Name of a ``dask.distributed.Event`` (on a Dask worker only): the run ends
        with :class:`~simulation.engine.RunCancelled` soon after it is set
        (:class:`ClusterStop`). Dask cannot interrupt a task that is running, so a
        stopped sweep's runs in flight end themselves.

    Returns
    -------
    summary : DataFrame
        One row per (policy, level, seed).
    elapsed_seconds : float
    """
    from threadpoolctl import threadpool_limits

    from simulation.engine import run_experiment

    stop = ClusterStop(stop_event) if stop_event is not None else None
    # One run per worker, one thread per run: k-means' OpenMP threads would only
    # contend with the other workers for the same cores.
    with threadpool_limits(limits=1) if limit_threads else contextlib.nullcontext():
        result = run_experiment(ExperimentConfig.from_dict(config), n_jobs=1, stop=stop)
    return result.summary_frame(), float(result.elapsed_seconds)


class ClusterStop:
    """A sweep's stop as a run on a Dask worker sees it: a named ``distributed.Event``.

    The engine calls :meth:`is_set` after every chunk; the scheduler is asked at most
    every ``interval`` seconds (a chunk can take milliseconds), and once set it stays set.

    Parameters
    ----------
    name : str
        The event's name, set by the sweep's client when it stops.
    interval : float, default=CLUSTER_STOP_INTERVAL
    """

    def __init__(self, name: str, interval: float = CLUSTER_STOP_INTERVAL) -> None:
        from distributed import Event

        self._event = Event(name)
        self._interval = interval
        self._next = 0.0
        self._set = False

    def is_set(self) -> bool:
        """Whether the sweep was stopped (asks the scheduler when the last answer is old)."""
        now = time.monotonic()
        if not self._set and now >= self._next:
            self._next = now + self._interval
            # A failed question (a scheduler briefly unreachable) is not a stop: the run
            # goes on and asks again; a scheduler gone for good ends its workers anyway.
            with contextlib.suppress(Exception):
                self._set = bool(self._event.is_set())
        return self._set


def _limit_worker_threads() -> None:
    """Initializer of a local worker process: one thread per native pool, for good.

    The engine is imported first, so its BLAS and OpenMP libraries are loaded
    (runs load no others) and the limit reaches them. Ctrl-C is ignored here: it
    reaches every process of the terminal's group, and the parent alone decides
    what stopping means (it terminates its workers), so no worker prints a traceback.
    """
    from threadpoolctl import threadpool_limits

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import simulation.engine  # noqa: F401

    threadpool_limits(limits=1)


def _run_path(out: Path, key: str) -> Path:
    return out / RUNS_DIR / f"{key}.parquet"


def stored_keys(out: str | Path) -> set[str]:
    """Run keys already stored in ``out/runs/``."""
    folder = Path(out) / RUNS_DIR
    if not folder.is_dir():
        return set()
    return {p.stem for p in folder.glob("*.parquet") if not p.name.startswith(".")}


def _store_run(out: Path, key: str, summary: pd.DataFrame, elapsed: float) -> None:
    """Write one run's summary atomically (temporary name, fsync, rename)."""
    path = _run_path(out, key)
    tmp = path.with_name(f".{key}.tmp-{os.getpid()}")
    frame = summary.assign(elapsed_seconds=elapsed)
    try:
        frame.to_parquet(tmp, index=False)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load_run(out: Path, key: str) -> pd.DataFrame:
    return pd.read_parquet(_run_path(out, key)).drop(columns="elapsed_seconds")


def check_folder(out: str | Path, plan: SweepPlan, *, force: bool) -> None:
    """Check that ``out`` may hold this sweep, writing nothing.

    Raises
    ------
    SweepConflictError
        ``out`` holds a sweep of a different grid (unless ``force``), or files of
        something else, or is not a folder.
    OSError
        ``out`` cannot be read.
    """
    out = Path(out)
    grid_file = out / GRID_NAME
    if out.exists() and not out.is_dir():
        raise SweepConflictError(f"--out {out} exists and is not a folder.")
    if grid_file.is_file():
        try:
            old = grid_fingerprint(tomllib.loads(grid_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError, OSError, UnicodeDecodeError):
            old = None
        if old != plan.fingerprint and not force:
            raise SweepConflictError(
                f"{out} holds a sweep of a different grid ({grid_file}); use another --out, "
                "or pass --force to run this grid there (stored runs whose settings are "
                "unchanged are reused)."
            )
    elif out.is_dir() and any(out.iterdir()) and not force:
        raise SweepConflictError(
            f"--out {out} is not empty and holds no sweep; choose an empty or new folder."
        )


def _first_missing(path: Path) -> Path | None:
    """The topmost folder of ``path`` that does not exist (what ``mkdir(parents=True)`` makes)."""
    missing = None
    for folder in (path, *path.parents):
        if folder.exists() or folder.is_symlink():
            break
        missing = folder
    return missing


def prepare_folder(out: str | Path, plan: SweepPlan, grid_text: str, *, force: bool) -> Path:
    """Check ``out`` may hold this sweep (:func:`check_folder`), then set it up.

    Creates ``out`` with ``grid.toml`` and ``runs/``. Nothing is written when a check
    fails; when the setting up itself fails (no permission, a full disk, Ctrl-C), what
    this call created is removed again (never a folder that was there before, nor
    an earlier sweep's runs).

    Raises
    ------
    SweepConflictError
        As :func:`check_folder`.
    OSError
        ``out`` cannot be created or written.
    """
    out = Path(out)
    check_folder(out, plan, force=force)
    grid_file = out / GRID_NAME
    # Noted before anything is made: the folders, and grid.toml if new, are this call's.
    created = _first_missing(out.absolute() / RUNS_DIR)
    new_grid = not grid_file.exists()
    # A changed grid (or a changed input file, which changes run keys) makes an old
    # table wrong until the new one is written: removed before the new grid.toml is
    # written, so a stop in between never leaves the new grid beside the old table.
    if force or not {run.run_key for run in plan.runs} <= stored_keys(out):
        for name in ("sweep.parquet", "sweep.csv"):
            (out / name).unlink(missing_ok=True)
    try:
        (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        for stale in (out / RUNS_DIR).glob(".*.tmp-*"):
            stale.unlink(missing_ok=True)
        if not grid_file.is_file() or grid_file.read_text(encoding="utf-8") != grid_text:
            tmp = out / f".{GRID_NAME}.tmp-{os.getpid()}"
            try:
                tmp.write_text(grid_text, encoding="utf-8")
                os.replace(tmp, grid_file)
            finally:
                tmp.unlink(missing_ok=True)
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        elif new_grid:
            grid_file.unlink(missing_ok=True)
        raise
    return out


def _start_forkserver(preload: list[str]) -> multiprocessing.context.BaseContext:
    """The forkserver context, its server started now with SIGINT ignored.

    Processes forked from it (the local pool's workers, a LocalCluster's Dask workers)
    inherit the ignored SIGINT: Ctrl-C reaches the terminal's whole group, and the
    parent alone decides what stopping means (it stops its workers), so no worker dies
    printing a traceback. The server imports ``preload`` once (it does not start
    threads) and each worker is forked from it already loaded: a fresh worker's own
    import took 3-7 s. Starting it does not wait for those imports.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    with _sigint_ignored():
        multiprocessing.forkserver.ensure_running()
    return context


def _local_results(
    runs: list[SweepRun], workers: int, stop: threading.Event
) -> Iterator[tuple[SweepRun, pd.DataFrame, float]]:
    # forkserver: workers start from a clean process, not a copy of a threaded
    # parent (the app's server), already loaded and ignoring Ctrl-C.
    context = _start_forkserver([*WORKER_PRELOAD])
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_limit_worker_threads
    )
    try:
        # Submitting starts the workers, each forked by the server once its imports are
        # done (a few seconds). A stop in that window would leave a half-started worker
        # failing loudly after this process is gone: it takes effect once they are up.
        with _signals_deferred():
            pending = {
                pool.submit(execute_run, run.config.to_dict(), limit_threads=False): run
                for run in runs
            }
        while pending:
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                run = pending.pop(future)
                yield (run, *future.result())
            if stop.is_set():
                # The app's Stop: as the command's interrupt, end the runs in flight now
                # rather than let the shutdown below wait for them (a minute for a long
                # run, with the page still saying "running"); the finished are stored.
                _terminate_workers(pool)
                return
    except BaseException:
        # Ctrl-C, SIGTERM (turned into KeyboardInterrupt by the command) or an error:
        # stop now. Queued runs are cancelled and the runs in flight are terminated,
        # not waited for (their results could not be stored any more); what finished
        # is already stored.
        _terminate_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel a pool's queued calls and terminate its worker processes at once (SIGTERM)."""
    # ProcessPoolExecutor has no public way to stop running calls before Python 3.14
    # (terminate_workers); its process table is the one handle on them.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # The pool's own thread cancels the queued calls (cancelling them here races with
    # it: on 3.11 it then fails on a cancelled future as the pool breaks).
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM (main thread only); deliver the first one held on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: held.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held:
            signal.raise_signal(held[0])


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while processes that should inherit that are started (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet_distributed() -> Iterator[None]:
    """Silence dask.distributed's loggers (and asyncio's) while a cluster is shut down."""
    loggers = [logging.getLogger(name) for name in ("distributed", "asyncio", "tornado")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def check_scheduler_address(address: str) -> str:
    """Return ``address`` if it is a Dask scheduler address, else raise ValueError.

    Checked before anything is written or connected: ``tcp://host:port`` (also
    ``tls``, ``ws``, ``wss``, ``ucx``), a port in [1, 65535].
    """
    match = SCHEDULER_ADDRESS.fullmatch(address) if isinstance(address, str) else None
    if match is None or not 1 <= int(match.group(3)) <= 65535:
        raise ValueError(
            f"--scheduler must be a Dask scheduler address such as tcp://10.0.0.5:8786 "
            f"(protocol://host:port); got {address!r}"
        )
    return address


def connect_scheduler(address: str):
    """A ``dask.distributed.Client`` of the scheduler at ``address``.

    Raises
    ------
    ValueError
        ``address`` is not a scheduler address (:func:`check_scheduler_address`).
    SchedulerUnreachableError
        Nothing answered within :data:`SCHEDULER_TIMEOUT` seconds.
    """
    from dask.distributed import Client

    check_scheduler_address(address)
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT)
    except OSError as exc:  # distributed's own timeout is an OSError too
        raise SchedulerUnreachableError(
            f"no Dask scheduler answered at {address} within {SCHEDULER_TIMEOUT:.0f} s"
        ) from exc


def _dask_results(
    runs: list[SweepRun],
    workers: int,
    scheduler: str | None,
    stop: threading.Event,
    client=None,
) -> Iterator[tuple[SweepRun, pd.DataFrame, float]]:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    ending = False
    futures = []
    # This sweep's own stop, seen by its runs on the workers (a scheduler may be shared).
    stop_name = f"adlab-sweep-stop-{uuid.uuid4().hex}"
    with contextlib.ExitStack() as stack:
        try:
            if client is None and scheduler is None:
                # The cluster's workers are forked from a forkserver started with SIGINT
                # ignored, so Ctrl-C (which reaches the terminal's whole group) leaves them
                # alone and the parent closes them. The parent itself holds Ctrl-C and
                # SIGTERM while the cluster starts: interrupted half-way, LocalCluster
                # leaves workers starting with no one to close them (and a traceback at
                # exit); held, the stop takes effect as soon as it is up. The server
                # preloads only distributed, so that is 2 s (the engine too made it 8 s
                # under load); each worker imports the engine with its first run.
                _start_forkserver(["distributed"])
                # For the cluster's life: a worker restarted after a crash is forked too.
                stack.enter_context(
                    dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
                )
                with _signals_deferred():
                    cluster = LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        host="127.0.0.1",
                        # Our own cluster: its shutdown chatter is noise: slow workers
                        # killed on close, and, when a stop lands while the cluster starts
                        # on a loaded machine, a worker's "Failed to communicate with
                        # scheduler during heartbeat" traceback (logged at ERROR). A run's
                        # own error still reaches the sweep through its future.
                        silence_logs=logging.CRITICAL,
                    )
                    client = Client(cluster)
            elif client is None:
                client = connect_scheduler(scheduler)
            by_key = {}
            for run in runs:
                # retries: a run lost with its worker is run again elsewhere.
                future = client.submit(
                    execute_run,
                    run.config.to_dict(),
                    stop_event=stop_name,
                    key=f"adlab-run-{run.run_key}",
                    retries=2,
                )
                by_key[future.key] = run
                futures.append(future)
            queue = as_completed(futures)
            # Polled, not iterated: the app's Stop must be seen while every run is still
            # in flight (iterating waits for the next run to finish: minutes for long ones).
            while not queue.is_empty():
                if stop.is_set():
                    ending = True
                    return
                for future in queue.next_batch(block=False):
                    yield (by_key[future.key], *future.result())
                stop.wait(0.1)
        except BaseException:
            # Ctrl-C, SIGTERM (a KeyboardInterrupt in the command) or an error: stop now.
            ending = True
            raise
        finally:
            _close_dask(client, cluster, futures, stop_name if ending else None)


def _event_clearer():
    """A coroutine function the scheduler runs in the background to forget a stop event.

    ``clear(name, delay, dask_scheduler)`` waits ``delay`` seconds, then clears the
    ``distributed.Event`` ``name`` through the route ``Event.clear`` uses, which removes
    an event no one waits on (this sweep's runs only ask ``is_set``). Made here, a local
    function, so it is sent by value: a shared scheduler need not have adlab installed.
    """

    async def clear(name: str, delay: float, dask_scheduler=None) -> None:
        import asyncio

        await asyncio.sleep(delay)
        dask_scheduler.handlers["event_clear"](name=name)

    return clear


def _close_dask(client, cluster, futures: list, stop_name: str | None) -> None:
    """End the sweep's runs (when ``stop_name`` is given), close the client and our cluster.

    Stopping is two steps, because Dask cannot interrupt a running task: the futures are
    cancelled (``force``: queued runs never start, and the scheduler forgets them even if
    another client shares a key), and the event ``stop_name`` is set, which the runs in
    flight check after each chunk (:class:`ClusterStop`): they end within a second, on
    our LocalCluster (whose close would otherwise wait for busy workers, then kill them)
    as on a shared cluster (whose workers would otherwise run them to the end, for no one).
    The scheduler clears (so forgets) the event ``STOP_EVENT_GRACE`` seconds later.
    A sweep that ends without a stop never sets its event, and asking ``is_set`` of an
    event the scheduler does not hold leaves nothing there.
    """
    # After a stop, closing may kill busy workers and the nanny logs each one:
    # the user asked to stop, so the one line the command prints is the news.
    with _quiet_distributed() if stop_name is not None else contextlib.nullcontext():
        if stop_name is not None and client is not None:
            from distributed import Event

            with contextlib.suppress(Exception):
                client.cancel(futures, force=True, reason="the sweep was stopped")
            with contextlib.suppress(Exception):
                Event(stop_name, client=client).set()
            # The scheduler keeps a set event until it is cleared (distributed has no
            # delete: clearing an event no one waits on removes it). Cleared now, the
            # runs in flight would not see the stop, and this client is about to go:
            # the scheduler clears it itself, once they have had time to. Failing
            # (a scheduler that refuses to run functions) leaves the event, as before.
            with contextlib.suppress(Exception):
                client.run_on_scheduler(
                    _event_clearer(), name=stop_name, delay=STOP_EVENT_GRACE, wait=False
                )
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: SweepProgress | None = None,
    stop: threading.Event | None = None,
    client=None,
) -> SweepOutcome:
    """Run every run of ``plan`` not yet stored in ``out``, then write the table.

    ``out`` must have been set up by :func:`prepare_folder` (else FileNotFoundError,
    before any run).

    Parameters
    ----------
    plan : SweepPlan
    out : str or Path
    backend : {"local", "dask"}, default="local"
        ``local``: a pool of ``workers`` processes on this machine. ``dask``: the
        dask.distributed cluster at ``scheduler``, or a LocalCluster of
        ``workers`` single-threaded processes on 127.0.0.1 when it is None.
    workers : int, optional
        Default: all cores.
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``).
    client : dask.distributed.Client, optional
        A client already connected (:func:`connect_scheduler`, so an unreachable
        scheduler is known before the folder is written); used instead of
        ``scheduler``, and closed when the sweep ends.
    progress : callable, optional
        ``progress(done, total)`` after each stored run (and once at the start).
    stop : threading.Event, optional
        Checked every half second (a tenth on Dask): when set, no further runs start,
        the table is not written, ``table`` is None and ``stopped`` True (what finished
        is stored; run again to resume). The runs in flight are ended at once, as for a
        KeyboardInterrupt (their work is lost), so the call returns within seconds, not
        when the longest run would have ended: the local pool's workers are terminated;
        on Dask the futures are cancelled and the runs end themselves within a second
        (:class:`ClusterStop`). A KeyboardInterrupt stops the same way, then propagates.

    Returns
    -------
    outcome : SweepOutcome
    """
    if backend not in BACKENDS:
        raise ValueError(f"`backend` must be one of {list(BACKENDS)}; got {backend!r}.")
    out = Path(out)
    if not (out / RUNS_DIR).is_dir():
        # Checked before any run starts: the runs' results are stored there as they come.
        raise FileNotFoundError(
            f"{out} is not a sweep folder (no {RUNS_DIR}/ in it); call "
            "prepare_folder(out, plan, grid_text, force=False) first."
        )
    stop = stop if stop is not None else threading.Event()
    workers = workers or os.cpu_count() or 1
    done = stored_keys(out)
    pending: dict[str, SweepRun] = {}
    for run in plan.runs:
        if run.run_key not in done:
            pending.setdefault(run.run_key, run)
    total = len({run.run_key for run in plan.runs})
    finished = total - len(pending)
    skipped = finished
    if progress is not None:
        progress(finished, total)
    run_seconds = 0.0
    tabulated: dict[str, pd.DataFrame] = {}
    started = time.perf_counter()
    if pending:
        todo = list(pending.values())
        if backend == "local":
            results = _local_results(todo, min(workers, len(todo)), stop)
        else:
            results = _dask_results(todo, workers, scheduler, stop, client)
        for run, summary, elapsed in results:
            _store_run(out, run.run_key, summary, elapsed)
            # Tabulated now, while the workers run the next ones, not all at the end.
            tabulated[run.run_key] = run_rows(run, summary)
            run_seconds += elapsed
            finished += 1
            if progress is not None:
                progress(finished, total)
    wall = time.perf_counter() - started
    executed = finished - skipped
    if finished < total:
        return SweepOutcome(
            table=None,
            n_runs=total,
            n_skipped=skipped,
            n_executed=executed,
            run_seconds=run_seconds,
            wall_seconds=wall,
            stopped=True,
        )
    stored = {run.run_key for run in plan.runs} - set(tabulated)
    summaries = {key: _load_run(out, key) for key in stored}
    table = build_table(plan, summaries, rows=tabulated)
    write_table(table, out)
    return SweepOutcome(
        table=table,
        n_runs=total,
        n_skipped=skipped,
        n_executed=executed,
        run_seconds=run_seconds,
        wall_seconds=wall,
        stopped=False,
    )
