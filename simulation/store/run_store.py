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
  (:class:`simulation.store.catalog.Catalog`). Even if the catalogue stays busy past the timeout,
  ``save`` has already published the run and the next ``list()`` picks it up, so no run is lost.
- **Reconciling.** ``list()`` (and ``open``) compares ``runs/`` with the catalogue while holding
  the catalogue lock, adds missing rows and drops rows whose directory is gone, then reports only
  runs whose directory exists. Because publishing precedes inserting and deleting (a rename of
  the directory into ``tmp/``) precedes removing the row, a row without a directory always means
  a deleted run, never one in flight. ``load`` reads only the directory and never waits for the
  catalogue lock.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from simulation.store.catalog import Catalog, StoreBusyError
from simulation.store.export import export_run
from simulation.store.fs import (
    checkpoint,
    clean_stale,
    fsync_dir,
    locked_workdir,
    write_json,
    write_parquet,
)
from simulation.store.meta import SOURCES, build_meta, catalog_row
from simulation.store.paths import (
    CATALOG_NAME,
    RUNS_DIR,
    TMP_DIR,
    check_run_id,
    resolve_root,
)

__all__ = ["SOURCES", "RunNotFoundError", "RunStore", "StoreBusyError", "StoredRun"]

#: Columns of :meth:`RunStore.list`.
LIST_COLUMNS: tuple[str, ...] = (
    "run_id",
    "created_at",
    "name",
    "source",
    "seed",
    "n_rows",
    "mean_ctr",
    "mean_roas",
)


class RunNotFoundError(LookupError):
    """No published run has the given id."""


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
    def created_at(self) -> pd.Timestamp:
        """Creation time (UTC)."""
        return pd.Timestamp(self.meta["created_at"])


class RunStore:
    """A directory of saved runs with a DuckDB catalogue; create with :meth:`open`.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> store = RunStore.open(tempfile.mkdtemp())
    >>> run_id = store.save(config={"policy": "ucb1"}, seed=7,
    ...                     summary=pd.DataFrame({"policy": ["ucb1"], "ctr": [0.031]}),
    ...                     timeseries=pd.DataFrame({"round": [0, 1], "ctr": [0.03, 0.032]}))
    >>> store.list()["mean_ctr"].tolist()
    [0.031]
    >>> store.load(run_id).config
    {'policy': 'ucb1'}
    """

    def __init__(self, root: Path, *, lock_timeout: float, stale_after: float) -> None:
        self.root = root
        self.runs_dir = root / RUNS_DIR
        self.tmp_dir = root / TMP_DIR
        self.stale_after = stale_after
        self._catalog = Catalog(root / CATALOG_NAME, timeout=lock_timeout)

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float = 30.0,
        stale_after: float = 60.0,
    ) -> RunStore:
        """Open (creating if needed) the store at ``root``, ``$ADLAB_HOME`` or ``~/.adlab``.

        Parameters
        ----------
        root : str or path-like or None
            Store directory; see :func:`simulation.store.paths.resolve_root`.
        lock_timeout : float
            Seconds to wait for the catalogue while other processes use it.
        stale_after : float
            Work dirs of dead writers are removed once they are this many seconds old.

        Returns
        -------
        store : RunStore

        Raises
        ------
        OSError
            If the directories cannot be created (for example, a read-only location).
        """
        store = cls(resolve_root(root), lock_timeout=lock_timeout, stale_after=stale_after)
        store.runs_dir.mkdir(parents=True, exist_ok=True)
        store.tmp_dir.mkdir(exist_ok=True)
        clean_stale(store.tmp_dir, stale_after)
        with store._catalog.connect() as con:
            store._sync(con)
        return store

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
    ) -> str:
        """Save one run atomically and return its id.

        Parameters
        ----------
        config : Mapping
            The resolved config as JSON data (numpy scalars/arrays and paths are converted).
        seed : int
            The run's seed, in [0, 2**63).
        summary : DataFrame
            One row per policy (or arm); ``ctr`` and ``roas`` columns, if present, are averaged
            into :meth:`list`.
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
            A readable label.

        Returns
        -------
        run_id : str
        """
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
            write_json(meta, work / "meta.json")
            fsync_dir(work)
            checkpoint("meta")
            # The publishing step: before it nothing is visible, after it everything is.
            os.rename(work, self.runs_dir / run_id)
            fsync_dir(self.runs_dir)
        checkpoint("published")
        try:
            with self._catalog.connect() as con:
                Catalog.upsert(con, [catalog_row(meta, summary)])
                checkpoint("catalogued")
        except StoreBusyError:
            pass  # published already; the next list() adds the catalogue row
        if log_src is not None:
            log_src.unlink(missing_ok=True)
        return run_id

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
        src = self._run_dir(run_id)
        # Unpublish with one rename into tmp/, then tidy up; a kill after the rename leaves
        # only an unlocked work dir that the next open() removes.
        dst = self.tmp_dir / f"{run_id}.deleted.{os.getpid()}.{os.urandom(4).hex()}"
        try:
            os.rename(src, dst)
        except FileNotFoundError:
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}") from None
        try:
            with self._catalog.connect() as con:
                Catalog.remove(con, [run_id])
        except StoreBusyError:
            pass  # list() drops rows whose directory is gone
        shutil.rmtree(dst, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        try:
            check_run_id(run_id)
        except ValueError:
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}") from None
        path = self.runs_dir / run_id
        if not (path / "meta.json").is_file():
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}")
        return path

    def _published(self) -> set[str]:
        ids = set()
        for entry in os.scandir(self.runs_dir):
            try:
                check_run_id(entry.name)
            except ValueError:
                continue  # not ours (e.g. a file the user dropped here)
            ids.add(entry.name)
        return ids

    def _row_from_dir(self, run_id: str) -> dict[str, Any] | None:
        try:
            meta = json.loads((self.runs_dir / run_id / "meta.json").read_text("utf-8"))
            summary = pd.read_parquet(self.runs_dir / run_id / "summary.parquet")
        except (OSError, ValueError):
            return None  # deleted meanwhile, or not a run written by us
        return catalog_row(meta, summary)

    def _sync(self, con) -> set[str]:
        # Called with the catalogue lock held: see "Reconciling" in the module docstring.
        published = self._published()
        known = Catalog.ids(con)
        rows = []
        for run_id in sorted(published - known):
            row = self._row_from_dir(run_id)
            if row is None:
                published.discard(run_id)
            else:
                rows.append(row)
        Catalog.upsert(con, rows)
        Catalog.remove(con, known - published)
        return published

    def list(self) -> pd.DataFrame:
        """Return one row per complete run, newest first.

        If other processes keep the catalogue locked past the timeout, the listing is read from
        the run directories instead (slower, same result), so listing never fails for that.

        Returns
        -------
        runs : DataFrame
            Columns ``run_id``, ``created_at`` (UTC), ``name``, ``source``, ``seed``, ``n_rows``
            (rows of the summary), ``mean_ctr`` and ``mean_roas`` (NaN when the summary has no
            such column).
        """
        try:
            with self._catalog.connect() as con:
                published = self._sync(con)
                frame = Catalog.frame(con, LIST_COLUMNS)
        except StoreBusyError:
            rows = [self._row_from_dir(run_id) for run_id in self._published()]
            frame = pd.DataFrame([r for r in rows if r is not None], columns=list(LIST_COLUMNS))
            frame = frame.sort_values("run_id", ascending=False)
            published = set(frame["run_id"])
        frame = frame[frame["run_id"].isin(published)].reset_index(drop=True)
        frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.tz_localize("UTC")
        return frame

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
        raise RunNotFoundError(f"{prefix!r} matches {len(matches)} runs: {', '.join(matches[:5])}")

    def load(self, run_id: str) -> StoredRun:
        """Read a run back.

        Raises
        ------
        RunNotFoundError
            If no published run has this id (including one deleted while being read).
        """
        path = self._run_dir(run_id)
        try:
            meta = json.loads((path / "meta.json").read_text("utf-8"))
            tables = {
                name: pd.read_parquet(path / "tables" / f"{name}.parquet")
                for name in meta["tables"]
            }
            summary = pd.read_parquet(path / "summary.parquet")
            timeseries = pd.read_parquet(path / "timeseries.parquet")
        except FileNotFoundError:
            raise RunNotFoundError(f"run {run_id!r} was deleted while being read") from None
        log = path / "log.parquet"
        return StoredRun(
            run_id=run_id,
            meta=MappingProxyType(meta),
            summary=summary,
            timeseries=timeseries,
            tables=MappingProxyType(tables),
            log_path=log if log.is_file() else None,
        )

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
        return export_run(self._run_dir(run_id), Path(out_dir), fmt, overwrite=overwrite)
