"""Run persistence: save every experiment, list, reload, export and delete it.

The engine hands over plain data (a config dict, a seed, summary and time-series frames, extra
tables, optionally an impression-level Parquet log); this module knows nothing of its internals.

Where runs live
---------------
``RunStore.open(root)`` uses ``root`` if given, else ``$ADLAB_HOME``, else ``~/.adlab``. Each run is
a directory ``root/runs/<run_id>/`` of Parquet files and a ``meta.json``; ``root/catalog.duckdb``
holds one row per run (metadata, key summary metrics, the summary itself as JSON) for listing and
querying. See :mod:`simulation.store.paths` for the full layout.

Atomicity and concurrency
-------------------------
*The published directory is the source of truth; the DuckDB file is a catalogue rebuilt from it.*

- **Write, then publish in one step.** ``save`` writes every file into a fresh work dir
  ``root/tmp/<run_id>.<pid>.<random>/`` (each file fsynced), then ``os.rename``-s the whole
  directory to ``root/runs/<run_id>``. A rename within one file system is atomic: other processes
  see either no run or a complete one. Only afterwards is the catalogue row inserted.
- **Killed at any moment.** Before the rename, the run exists only under ``tmp/`` and is never
  listed; ``runs/`` and the catalogue are untouched, so earlier runs cannot be damaged. After the
  rename but before the catalogue insert, the run is complete and the next ``list()`` adds it.
  A DuckDB transaction cut short by SIGKILL is rolled back by DuckDB's write-ahead log on the next
  open. The writer holds an ``flock`` on its work dir; the kernel drops it when the process dies,
  so ``open`` removes work dirs whose lock it can take (and that are older than ``stale_after``
  seconds, which covers the instant between ``mkdir`` and ``flock``). Live writers are never hit.
- **Two writers.** Run ids carry a microsecond timestamp and 32 random bits, so the renames never
  collide. DuckDB allows one writing process per file, so the catalogue is opened only for the
  milliseconds an operation needs and a refused connection is retried with jittered back-off
  (:class:`simulation.store.catalog.Catalog`). Even if the catalogue stays busy past the timeout
  (another process may hold it open for minutes, even read-only), nothing fails: ``open`` defers
  its sync, ``save`` has already published the run (the next sync catalogues it, so no run is
  lost) and ``list()`` reads the run folders; :meth:`RunStore.catalog_busy` says it happened.
- **Stopped or failing mid-save.** Any exception out of ``save`` (a full disk, Ctrl-C, SIGTERM
  while it waits for the catalogue) means the run is not in the store: before the rename the work
  dir is removed, after it the run is unpublished again (renamed into ``tmp/`` and removed), so a
  caller that was told "not saved" never finds it listed.
- **Reconciling.** ``list()`` (and ``open``) compares ``runs/`` with the catalogue while holding
  the catalogue lock, adds missing rows and drops rows whose directory is gone, then reports only
  runs whose directory exists. Because publishing precedes inserting and deleting (a rename of
  the directory into ``tmp/``) precedes removing the row, a row without a directory always means
  a deleted run, never one in flight. ``load`` reads only the directory and never waits for the
  catalogue lock.

Damage
------
Files can still be damaged by hand, by a full disk or by a broken copy. The catalogue is a
cache: if DuckDB cannot open or read it, or its tables are not ours, it is moved aside
(``catalog.duckdb.unreadable-*``) and rebuilt from ``runs/``; if even that fails, ``list()``
reads the run folders directly. A run whose ``meta.json`` or tables do not match what the store
wrote (see :mod:`simulation.store.integrity`) is *damaged*: ``list()`` keeps it, with the reason
in its ``damaged`` column, while ``load`` and ``export`` raise :class:`RunDamagedError` (a
``LookupError``) for it alone. ``list()`` re-reads a run whenever the names, sizes or
modification times of its files differ from when it was catalogued; :meth:`RunStore.check`
reads every table in full and, with ``repair=True``, moves damaged runs to ``quarantine/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from simulation.store.catalog import Catalog, CatalogDamagedError, StoreBusyError
from simulation.store.export import export_run
from simulation.store.fs import (
    checkpoint,
    clean_stale,
    fsync_dir,
    locked_workdir,
    write_json,
    write_parquet,
)
from simulation.store.integrity import (
    RunDamagedError,
    RunNotFoundError,
    check_file,
    check_files,
    describe_file,
    expected_files,
    read_frame,
    read_meta,
    signature,
)
from simulation.store.meta import SOURCES, build_meta, catalog_row, damaged_row
from simulation.store.paths import (
    CATALOG_NAME,
    QUARANTINE_DIR,
    RUNS_DIR,
    TMP_DIR,
    check_run_id,
    resolve_root,
    store_exists,
)
from simulation.store.sweeps import clean_stale_sweeps

__all__ = [
    "SOURCES",
    "RunDamagedError",
    "RunNotFoundError",
    "RunStore",
    "StoreBusyError",
    "StoreNotFoundError",
    "StoredRun",
]

#: Columns of :meth:`RunStore.list`.
LIST_COLUMNS: tuple[str, ...] = (
    "run_id",
    "created_at",
    "name",
    "source",
    "seed",
    "n_rows",
    "best",
    "best_clear",
    "its_ctr",
    "its_roas",
    "damaged",
)

#: How many of the runs an ambiguous prefix matches its error names (the rest are counted).
_SHOWN_MATCHES = 5


class StoreNotFoundError(LookupError):
    """``RunStore.open(..., create=False)`` found no run store at the path.

    Attributes
    ----------
    root : Path
        Where the store was looked for.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(f"no run store at {root}")
        self.root = root


def _check_inputs(inputs: object) -> dict[str, dict[str, str]]:
    """``inputs`` of :meth:`RunStore.save` as plain data, or a TypeError/ValueError."""
    if inputs is None:
        return {}
    if not isinstance(inputs, Mapping):
        raise TypeError(f"`inputs` must be a mapping or None; got {type(inputs).__name__}.")
    out = {}
    for kind, entry in inputs.items():
        if (
            not isinstance(kind, str)
            or not isinstance(entry, Mapping)
            or not isinstance(entry.get("path"), str)
            or not isinstance(entry.get("sha256"), str)
            or len(entry["sha256"]) != 64
            or any(c not in "0123456789abcdef" for c in entry["sha256"])
        ):
            raise ValueError(
                "`inputs` must map a kind to {'path': str, 'sha256': 64 hex digits}; "
                f"got {kind!r}: {entry!r}."
            )
        out[kind] = {"path": entry["path"], "sha256": entry["sha256"]}
    return out


# eq=False: comparing DataFrame fields with == is elementwise and ambiguous; identity it is.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StoredRun:
    """One saved run, as read back from the store.

    Attributes
    ----------
    run_id : str
        The run's id.
    meta : Mapping
        Read-only metadata: ``config``, ``seed``, ``created_at`` (ISO 8601, UTC), ``name``,
        ``source``, ``versions`` (package -> version or None), ``python``, ``tables``, row counts.
    summary : DataFrame
        The summary table, as saved.
    timeseries : DataFrame
        The time series, as saved.
    tables : Mapping of str to DataFrame
        Extra tables by name.
    log_path : Path or None
        The impression-level Parquet log inside the store, if one was saved (not loaded).
    """

    run_id: str
    meta: Mapping[str, Any]
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    log_path: Path | None

    @property
    def config(self) -> Mapping[str, Any]:
        """The resolved experiment config, as saved (tuples come back as lists)."""
        return self.meta["config"]

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.meta["seed"]

    @property
    def inputs(self) -> Mapping[str, Mapping[str, str]]:
        """The user's files the run used: kind -> ``{"path", "sha256"}`` (empty: none)."""
        inputs = self.meta.get("inputs")
        return inputs if isinstance(inputs, Mapping) else {}

    @property
    def created_at(self) -> pd.Timestamp:
        """Creation time (UTC)."""
        return pd.Timestamp(self.meta["created_at"])


class RunStore:
    """A directory of saved runs with a DuckDB catalogue; create with :meth:`open`.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> store = RunStore.open(tempfile.mkdtemp())
    >>> summary = pd.DataFrame({"level": ["generic", "user"], "policy": ["ucb1", "ucb1"],
    ...                         "ctr": [0.031, 0.035], "roas": [1.9, 1.7]})
    >>> run_id = store.save(config={"objective": "roas"}, seed=7, summary=summary,
    ...                     timeseries=pd.DataFrame({"round": [0, 1], "ctr": [0.03, 0.032]}))
    >>> store.list()[["best", "best_clear", "its_ctr", "its_roas"]].values.tolist()
    [['ucb1 @ generic', False, 0.031, 1.9]]
    >>> store.load(run_id).config
    {'objective': 'roas'}
    """

    def __init__(self, root: Path, *, lock_timeout: float, stale_after: float) -> None:
        self.root = root
        self.runs_dir = root / RUNS_DIR
        self.tmp_dir = root / TMP_DIR
        self.stale_after = stale_after
        self._catalog = Catalog(root / CATALOG_NAME, timeout=lock_timeout)
        self._busy = False
        #: For callers in one process that must check, then save, as one step (the app saves
        #: each result once); the store's own operations are safe across processes without it.
        self.save_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        lock_timeout: float = 5.0,
        stale_after: float = 60.0,
    ) -> RunStore:
        """Open (creating if needed) the store at ``root``, ``$ADLAB_HOME`` or ``~/.adlab``.

        Parameters
        ----------
        root : str or path-like or None
            Store directory; see :func:`simulation.store.paths.resolve_root`.
        create : bool
            Create the store if it does not exist. False for reading: a mistyped path then
            raises :class:`StoreNotFoundError` instead of leaving a new, empty store behind.
        lock_timeout : float
            Seconds to wait for the catalogue while other processes use it. Past it nothing
            fails: the work the catalogue would have done is deferred or read from the run
            folders (see :meth:`catalog_busy`). Other writers hold it for milliseconds; a
            wait is long only when a process keeps it open, so reading commands pass ~1 s.
        stale_after : float
            Work dirs of dead writers are removed once they are this many seconds old.

        Returns
        -------
        store : RunStore

        Raises
        ------
        OSError
            If the directories cannot be created (for example, a read-only location).
        StoreNotFoundError
            If ``create`` is False and ``root`` holds no store (no ``runs/``, catalogue or
            ``sweeps/``).
        """
        store = cls(resolve_root(root), lock_timeout=lock_timeout, stale_after=stale_after)
        if create:
            store.runs_dir.mkdir(parents=True, exist_ok=True)
            store.tmp_dir.mkdir(exist_ok=True)
        elif not store_exists(store.root):
            raise StoreNotFoundError(store.root)
        if store.tmp_dir.is_dir():
            clean_stale(store.tmp_dir, stale_after)
        clean_stale_sweeps(store.root, stale_after)
        # Busy: the sync is deferred to the next open or list(); damaged: list() reads folders.
        with contextlib.suppress(StoreBusyError, CatalogDamagedError):
            store._with_catalog(store._sync)
        return store

    def catalog_busy(self) -> bool:
        """Whether the last catalogue operation found it held by another process past the wait.

        The run folders were read (or the catalogue's part of a save deferred) instead; a
        command line says so in one line.
        """
        return self._busy

    def catalog_moved_aside(self) -> list[Path]:
        """Catalogue files this store moved aside as unreadable since it was opened."""
        return list(self._catalog.moved_aside)

    def _with_catalog(self, operation):
        """Return ``operation(con)`` under the catalogue lock.

        A catalogue that fails mid-operation (a damaged page, a wrong table) is moved aside and
        the operation retried once on a fresh one, which the sync then fills from ``runs/``.

        Raises
        ------
        StoreBusyError
            If other processes hold the catalogue past the timeout (or, when the previous
            operation found it busy, at the one try).
        CatalogDamagedError
            If even a fresh catalogue fails.
        """
        # Found busy last time: a process is holding it open, not a writer for milliseconds;
        # one try, then the fallback, instead of the full wait at every step.
        timeout = 0.0 if self._busy else None
        for attempt in range(2):
            try:
                with self._catalog.connect(timeout) as con:
                    result = operation(con)
                self._busy = False
                return result
            except StoreBusyError:
                self._busy = True
                raise
            except duckdb.Error as exc:
                if attempt:
                    raise CatalogDamagedError(
                        f"the run catalogue {self._catalog.path}: {exc}"
                    ) from exc
                self._catalog.reset("unreadable")
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writing -------------------------------------------------------------------------------

    def save(
        self,
        *,
        config: Mapping[str, Any],
        seed: int,
        summary: pd.DataFrame,
        timeseries: pd.DataFrame,
        tables: Mapping[str, pd.DataFrame] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        source: str = "cli",
        name: str | None = None,
        inputs: Mapping[str, Mapping[str, str]] | None = None,
    ) -> str:
        """Save one run atomically and return its id.

        Parameters
        ----------
        config : Mapping
            The resolved config as JSON data (numpy scalars/arrays and paths are converted).
        seed : int
            The run's seed, in [0, 2**63).
        summary : DataFrame
            One row per policy (or arm); with ``level``, ``policy``, ``ctr`` and ``roas``
            columns (as the engine writes it) :meth:`list` names its best pair.
        timeseries : DataFrame
            Per-round metrics, any length.
        tables : Mapping of str to DataFrame or None
            Extra tables such as ``"allocation"`` or ``"segments"``.
        log_path : path-like or None
            An impression-level Parquet file to move into the store. It is linked or copied in,
            and the original is removed only after the run is published.
        source : {"cli", "app"}
            Where the run was started.
        name : str or None
            A readable label, at most
            :data:`~simulation.store.integrity.MAX_STORED_NAME` (1,000) characters once
            control characters are removed.
        inputs : Mapping or None
            The user's files the run used: kind (``"segments"``, ``"catalogue"``,
            ``"templates"``) -> ``{"path": str, "sha256": hex str}``; kept as
            ``meta["inputs"]`` (``{}`` when None).

        Returns
        -------
        run_id : str

        Raises
        ------
        ValueError, TypeError
            For a bad input (a name too long, a seed out of range, a summary that is not
            a DataFrame), before anything is written.
        OSError
            If a file cannot be written (a full disk: ``errno.ENOSPC``); the store is left as
            it was. Any exception, a stop (``KeyboardInterrupt``) included, means the run was
            not saved: one raised after publishing unpublishes the run again.
        """
        inputs = _check_inputs(inputs)
        meta, tables, log_src = build_meta(
            config=config,
            seed=seed,
            summary=summary,
            timeseries=timeseries,
            tables=tables,
            log_path=log_path,
            source=source,
            name=name,
        )
        meta["inputs"] = inputs
        run_id = meta["run_id"]
        with locked_workdir(self.tmp_dir, run_id) as work:
            checkpoint("start")
            write_parquet(summary, work / "summary.parquet")
            checkpoint("summary")
            write_parquet(timeseries, work / "timeseries.parquet")
            checkpoint("timeseries")
            if tables:
                (work / "tables").mkdir()
                for table_name, frame in tables.items():
                    write_parquet(frame, work / "tables" / f"{table_name}.parquet")
                fsync_dir(work / "tables")
            checkpoint("tables")
            if log_src is not None:
                self._take_log(log_src, work / "log.parquet")
            checkpoint("log")
            # Rows and columns of every file, as written: later damage shows as a mismatch.
            meta["files"] = {
                p.relative_to(work).as_posix(): describe_file(p)
                for p in sorted(work.rglob("*.parquet"))
            }
            write_json(meta, work / "meta.json")
            fsync_dir(work)
            checkpoint("meta")
            # The publishing step: before it nothing is visible, after it everything is.
            os.rename(work, self.runs_dir / run_id)
            try:
                fsync_dir(self.runs_dir)
            except BaseException:
                self._unpublish(run_id)
                raise
        try:
            checkpoint("published")
            row = catalog_row(meta, summary, signature(self.runs_dir / run_id))

            def insert(con) -> None:
                Catalog.upsert(con, [row])
                checkpoint("catalogued")

            # Busy or broken: the run is published anyway and the next sync adds the row.
            with contextlib.suppress(StoreBusyError, CatalogDamagedError):
                self._with_catalog(insert)
        except BaseException:
            # Stopped (or failed) after publishing: the caller hears "not saved", so it is not.
            self._unpublish(run_id)
            raise
        if log_src is not None:
            log_src.unlink(missing_ok=True)
        return run_id

    def _unpublish(self, run_id: str) -> None:
        """Take a just-published run back out of ``runs/``.

        Its catalogue row, if any, goes with the next sync: a row without a folder is a
        deleted run.
        """
        dst = self.tmp_dir / f"{run_id}.unsaved.{os.getpid()}.{os.urandom(4).hex()}"
        with contextlib.suppress(OSError):
            os.rename(self.runs_dir / run_id, dst)
            shutil.rmtree(dst, ignore_errors=True)

    @staticmethod
    def _take_log(src: Path, dst: Path) -> None:
        # A hard link costs nothing and leaves the original in place until the run is published;
        # across file systems (or where links are refused) fall back to a copy.
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
            fd = os.open(dst, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def delete(self, run_id: str) -> None:
        """Delete a run; it disappears from :meth:`list` at once.

        Raises
        ------
        RunNotFoundError
            If no published run has this id.
        """
        src = self._run_dir(run_id, require_meta=False)
        # Unpublish with one rename into tmp/, then tidy up; a kill after the rename leaves
        # only an unlocked work dir that the next open() removes.
        dst = self.tmp_dir / f"{run_id}.deleted.{os.getpid()}.{os.urandom(4).hex()}"
        try:
            os.rename(src, dst)
        except FileNotFoundError:
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}") from None
        with contextlib.suppress(StoreBusyError, CatalogDamagedError):  # list() drops the row
            self._with_catalog(lambda con: Catalog.remove(con, [run_id]))
        shutil.rmtree(dst, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------

    def _run_dir(self, run_id: str, *, require_meta: bool = True) -> Path:
        try:
            check_run_id(run_id)
        except ValueError:
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}") from None
        path = self.runs_dir / run_id
        if signature(path) is None:  # missing, or an empty folder: not a run
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}")
        if require_meta and not (path / "meta.json").is_file():
            read_meta(path)  # raises RunDamagedError with the reason
        return path

    def _published(self) -> dict[str, str]:
        """Return ``{run_id: signature}`` of every run folder (empty and foreign ones skipped)."""
        found = {}
        if not self.runs_dir.is_dir():
            return found  # a store opened for reading that holds only sweeps
        for entry in os.scandir(self.runs_dir):
            try:
                check_run_id(entry.name)
            except ValueError:
                continue  # not ours (e.g. a file the user dropped here)
            sig = signature(Path(entry.path))
            if sig is not None:
                found[entry.name] = sig
        return found

    def _row_from_dir(self, run_id: str, sig: str | None) -> dict[str, Any] | None:
        """The catalogue row of a run folder: healthy, damaged (with why), or None if gone."""
        path = self.runs_dir / run_id
        try:
            meta = read_meta(path)
            check_files(path, meta)
            summary = read_frame(path, "summary.parquet", meta)
        except RunDamagedError as exc:
            return damaged_row(run_id, exc.reason, sig)
        except RunNotFoundError:
            return None  # deleted meanwhile
        return catalog_row(meta, summary, sig)

    def _sync(self, con) -> set[str]:
        # Called with the catalogue lock held: see "Reconciling" in the module docstring.
        published = self._published()
        known = Catalog.signatures(con)
        rows = []
        for run_id in sorted(published):
            if known.get(run_id, "") == published[run_id]:
                continue  # catalogued, and no file changed since
            row = self._row_from_dir(run_id, published[run_id])
            if row is None:
                del published[run_id]
            else:
                rows.append(row)
        Catalog.upsert(con, rows)
        Catalog.remove(con, set(known) - set(published))
        return set(published)

    def list(self) -> pd.DataFrame:
        """Return one row per run, newest first; damaged runs included, with the reason.

        Never fails because of the catalogue: if other processes keep it locked past the
        timeout, or it cannot be rebuilt, the listing is read from the run folders instead
        (slower, same result). A damaged run never hides the others.

        Returns
        -------
        runs : DataFrame
            Columns ``run_id``, ``created_at`` (UTC), ``name``, ``source``, ``seed``, ``n_rows``
            (rows of the summary); ``best``, the run's best policy and level by its objective
            (``"thompson @ user"``, never a reference that knows the truth); ``best_clear``,
            whether it is clearly best as the run's report judges it (no other learner's 95 %
            interval overlaps its own: False for a tie or a single replication, None where
            ``best`` is None); with ``its_ctr``
            and ``its_roas``, that pair's observed CTR and ROAS (means over replications):
            never a mean over levels and policies, which would mix what the levels compare
            (None and NaN for a summary without ``level``, ``policy``, ``ctr`` and ``roas``);
            and ``damaged``: None for a healthy run, else why it cannot be read (its other
            columns, except ``run_id`` and ``created_at``, are then missing).
        """

        def read(con) -> tuple[set[str], pd.DataFrame]:
            return self._sync(con), Catalog.frame(con, LIST_COLUMNS)

        try:
            published, frame = self._with_catalog(read)
        except (StoreBusyError, CatalogDamagedError):
            found = self._published()
            rows = [self._row_from_dir(run_id, sig) for run_id, sig in found.items()]
            frame = pd.DataFrame([r for r in rows if r is not None], columns=list(LIST_COLUMNS))
            frame = frame.sort_values("run_id", ascending=False)
            published = set(frame["run_id"])
        frame = frame[frame["run_id"].isin(published)].reset_index(drop=True)
        frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.tz_localize("UTC")
        frame["seed"] = frame["seed"].astype("Int64")
        frame["n_rows"] = frame["n_rows"].astype("Int64")
        for column in ("its_ctr", "its_roas"):
            frame[column] = frame[column].astype("float64")
        for column in ("name", "source", "best", "damaged"):  # None, not NaN, where missing
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        # True/False/None whichever way it was read (DuckDB's nullable booleans, or dicts).
        frame["best_clear"] = pd.Series(
            [None if pd.isna(v) else bool(v) for v in frame["best_clear"]],
            index=frame.index,
            dtype=object,
        )
        return frame

    def check(self, *, repair: bool = False) -> pd.DataFrame:
        """Read every run in full and report the damaged ones; optionally move them aside.

        Deeper than :meth:`list`: every table is read, so damage inside a file whose size and
        time did not change is found too. A catalogue that cannot be used is rebuilt either way.

        Parameters
        ----------
        repair : bool
            Move each damaged run to ``root/quarantine/<run_id>`` (kept for inspection, never
            listed again) and drop its catalogue row.

        Returns
        -------
        damaged : DataFrame
            One row per damaged run: ``run_id``, ``reason`` and ``moved_to`` (the quarantine
            folder, or None without ``repair``). Empty for a healthy store.
        """
        rows = []
        for run_id in sorted(self._published(), reverse=True):
            try:
                self.load(run_id)
            except RunDamagedError as exc:
                rows.append({"run_id": run_id, "reason": exc.reason, "moved_to": None})
            except RunNotFoundError:
                continue  # deleted meanwhile
        if repair and rows:
            quarantine = self.root / QUARANTINE_DIR
            quarantine.mkdir(exist_ok=True)
            for row in rows:
                dst = quarantine / row["run_id"]
                if dst.exists():
                    dst = quarantine / f"{row['run_id']}.{os.urandom(4).hex()}"
                try:
                    os.rename(self.runs_dir / row["run_id"], dst)
                except FileNotFoundError:
                    continue  # deleted meanwhile
                row["moved_to"] = dst
            fsync_dir(self.runs_dir)
        self.list()  # re-sync: quarantined rows dropped, a damaged catalogue rebuilt
        return pd.DataFrame(rows, columns=["run_id", "reason", "moved_to"])

    def resolve(self, prefix: str) -> str:
        """Return the one run id that starts with ``prefix`` (ids are long to type).

        Raises
        ------
        RunNotFoundError
            If no run, or more than one, matches.
        """
        matches = sorted(i for i in self._published() if i.startswith(prefix)) if prefix else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RunNotFoundError(f"no run with id {prefix!r} in {self.root}")
        shown = matches[:_SHOWN_MATCHES]
        # Say how many are not shown: five ids under "matches 6 runs" read as a miscount.
        more = len(matches) - len(shown)
        rest = f" and {more} more" if more else ""
        raise RunNotFoundError(
            f"{prefix!r} matches {len(matches)} runs: {', '.join(shown)}{rest}; type more of the id"
        )

    def load(self, run_id: str) -> StoredRun:
        """Read a run back.

        Raises
        ------
        RunNotFoundError
            If no published run has this id (including one deleted while being read).
        RunDamagedError
            If the run's ``meta.json`` or one of its tables is missing, unreadable or not of
            the recorded shape; the message says which file and why.
        """
        path = self._run_dir(run_id)
        meta = read_meta(path)
        files = expected_files(meta)
        tables = {name: read_frame(path, f"tables/{name}.parquet", meta) for name in meta["tables"]}
        summary = read_frame(path, "summary.parquet", meta)
        timeseries = read_frame(path, "timeseries.parquet", meta)
        log = path / "log.parquet"
        if "log.parquet" in files:
            check_file(path, "log.parquet", files["log.parquet"])
        return StoredRun(
            run_id=run_id,
            meta=MappingProxyType(meta),
            summary=summary,
            timeseries=timeseries,
            tables=MappingProxyType(tables),
            log_path=log if "log.parquet" in files else None,
        )

    def load_summary(self, run_id: str) -> tuple[Mapping[str, Any], pd.DataFrame]:
        """Read a run's metadata and summary alone (what a listing needs), checked as ``load`` does.

        Returns
        -------
        meta : Mapping
            Read-only, as :attr:`StoredRun.meta`.
        summary : DataFrame

        Raises
        ------
        RunNotFoundError, RunDamagedError
            As :meth:`load`, for these two files.
        """
        path = self._run_dir(run_id)
        meta = read_meta(path)
        return MappingProxyType(meta), read_frame(path, "summary.parquet", meta)

    def export(
        self,
        run_id: str,
        out_dir: str | os.PathLike[str],
        fmt: str = "csv",
        *,
        overwrite: bool = False,
    ) -> list[Path]:
        """Write a run's tables to ``out_dir/<run_id>/`` as CSV or Parquet.

        The files are staged in a hidden directory inside ``out_dir`` and renamed into place in
        one step, so a failed export leaves nothing behind.

        Parameters
        ----------
        run_id : str
            The run to export.
        out_dir : path-like
            Parent directory (created if missing).
        fmt : {"csv", "parquet"}
            File format of the tables; ``meta.json`` is always JSON.
        overwrite : bool
            Replace an earlier export of the same run instead of raising ``FileExistsError``.

        Returns
        -------
        paths : list of Path
            The written files, sorted.
        """
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"`fmt` must be 'csv' or 'parquet'; got {fmt!r}.")
        if isinstance(out_dir, str) and not out_dir.strip():
            # pathlib reads '' as the working folder: refuse rather than guess.
            raise ValueError(f"`out_dir` must be a folder path, not empty; got {out_dir!r}.")
        out = Path(out_dir).expanduser().resolve()
        if out == self.root or self.root in out.parents:
            raise ValueError(f"`out_dir` must be outside the run store {self.root}; got {out}.")
        path = self._run_dir(run_id)
        meta = read_meta(path)
        check_files(path, meta)  # a missing or broken table fails here, not silently
        try:
            files = sorted(expected_files(meta))
            return export_run(path, out, fmt, files=files, overwrite=overwrite)
        except pa.ArrowException as exc:  # damage inside a table whose footer was fine
            raise RunDamagedError(run_id, f"a table cannot be read ({exc})") from None
