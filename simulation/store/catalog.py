"""The DuckDB catalogue of the run store: one row per published run, opened only briefly.

DuckDB lets one process at a time open a database file for writing, and a second process that
tries gets ``IOException: Could not set lock on file``. The catalogue therefore never keeps a
connection: every operation connects, does its work in one transaction and closes, and a
connection refused because of the lock is retried with jittered exponential back-off. The
catalogue is a cache of ``runs/`` (see :mod:`simulation.store`), so a damaged or outdated file
is moved aside and rebuilt instead of failing the caller: a file DuckDB cannot open or read
(truncated, overwritten), and one whose tables are not the expected ones (wrong schema).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

__all__ = ["COLUMNS", "Catalog", "CatalogDamagedError", "StoreBusyError"]

#: Bump when the table layout changes; an older catalogue is then rebuilt from ``runs/``.
#: 3: best, its_ctr, its_roas replace mean_ctr, mean_roas; 4: best_clear (a schema-3
#: catalogue named a best even when every pair tied); 5: best_clear is False also when the
#: best's interval was refused (too few events, or too wide), as the report says (the
#: columns are schema 4's: a schema-4 catalogue marked such a best clear).
SCHEMA_VERSION = "5"

#: Columns of the ``runs`` table, in order.
COLUMNS: tuple[str, ...] = (
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
    "config_json",
    "meta_json",
    "summary_json",
    "damaged",
    "files_sig",
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS catalog_info (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP,      -- UTC, naive: avoids the pytz dependency of TIMESTAMPTZ
    name VARCHAR,
    source VARCHAR,
    seed BIGINT,
    n_rows BIGINT,             -- rows of the summary table
    best VARCHAR,              -- best learner by the objective, 'policy @ level'; NULL if none
    best_clear BOOLEAN,        -- its interval shown, overlapping no other learner's; NULL: no best
    its_ctr DOUBLE,            -- that pair's observed CTR (mean over replications), else NULL
    its_roas DOUBLE,           -- that pair's observed ROAS, else NULL
    config_json VARCHAR,
    meta_json VARCHAR,
    summary_json VARCHAR,      -- the summary table as JSON records, for queries across runs
    damaged VARCHAR,           -- why the run cannot be read, NULL for a healthy run
    files_sig VARCHAR          -- digest of the run's file names, sizes and mtimes when read
);
INSERT OR IGNORE INTO catalog_info VALUES ('schema_version', '{SCHEMA_VERSION}');
"""


class StoreBusyError(TimeoutError):
    """The catalogue stayed locked by other processes for longer than the timeout."""


def _is_lock_error(exc: BaseException) -> bool:
    # Only the refusal of the file lock; "Could not read block ..." from a damaged file is not.
    text = str(exc).lower()
    return isinstance(exc, duckdb.IOException) and (
        "could not set lock" in text or "conflicting lock" in text
    )


class CatalogDamagedError(Exception):
    """The catalogue file could not be used even after it was moved aside and recreated."""


class Catalog:
    """Short-lived, retrying access to the catalogue file.

    Parameters
    ----------
    path : Path
        The DuckDB file (created on first use).
    timeout : float
        Seconds to keep retrying a connection refused because another process holds the lock.
    """

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        # Jitter only spreads retries of competing processes apart; it is not a simulation draw.
        self._jitter = random.Random()
        self._schema_checked = False
        #: Files this instance moved aside because they could not be used (newest last).
        self.moved_aside: list[Path] = []

    def _connect_once(self) -> duckdb.DuckDBPyConnection:
        """Connect and make sure the tables are ours; move a damaged file aside and start anew."""
        for attempt in range(2):
            try:
                return self._connect_checked()
            except duckdb.Error as exc:
                if _is_lock_error(exc):
                    raise
                if attempt:
                    raise CatalogDamagedError(f"the run catalogue {self.path}: {exc}") from exc
                # Unreadable file (damaged, or written by an incompatible DuckDB): keep it for
                # inspection and start a fresh catalogue; runs/ is the source of truth.
                self.reset("unreadable")
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect_checked(self) -> duckdb.DuckDBPyConnection:
        # The schema check costs a few queries; once per instance is enough unless the file
        # has vanished (e.g. deleted by hand to force a rebuild).
        fresh = not self.path.exists()
        con = duckdb.connect(str(self.path))
        if self._schema_checked and not fresh:
            return con
        try:
            version = con.execute(
                "SELECT value FROM duckdb_tables() t, catalog_info c "
                "WHERE t.table_name = 'runs' AND c.key = 'schema_version'"
            ).fetchall()
            columns = [
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs' "
                    "ORDER BY column_index"
                ).fetchall()
            ]
            outdated = bool(version) and version[0][0] != SCHEMA_VERSION
            # Other columns, or a runs table without our version row: not ours to trust.
            foreign = bool(columns) and (tuple(columns) != COLUMNS or not version)
            if outdated or foreign:
                con.execute("DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS catalog_info;")
            con.execute(_SCHEMA)
        except duckdb.CatalogException:
            con.execute("DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS catalog_info;")
            con.execute(_SCHEMA)
        except BaseException:
            con.close()
            raise
        self._schema_checked = True
        return con

    def reset(self, why: str) -> None:
        """Move the catalogue file aside (kept for inspection); the next connect starts anew."""
        self._move_aside(why)
        self._schema_checked = False

    def _move_aside(self, why: str) -> None:
        stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
        for suffix in ("", ".wal"):
            src = Path(f"{self.path}{suffix}")
            dst = Path(f"{self.path}.{why}-{stamp}-{self._jitter.getrandbits(32):08x}{suffix}")
            # Another process may be moving the same file aside right now.
            with contextlib.suppress(FileNotFoundError):
                src.replace(dst)
                if not suffix:
                    self.moved_aside.append(dst)

    @contextmanager
    def connect(self, timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a connection holding the database lock; commit on success, close always.

        Parameters
        ----------
        timeout : float or None
            Seconds to keep retrying a refused lock (0: one try); None: the ``timeout`` given
            to the catalogue.

        Raises
        ------
        StoreBusyError
            If the lock could not be taken within the timeout.
        """
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        wait = 0.005
        while True:
            try:
                con = self._connect_once()
                break
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"the run catalogue {self.path} stayed locked by another process for "
                        f"{timeout:g} s"
                    ) from exc
                time.sleep(wait * (0.5 + self._jitter.random()))
                wait = min(wait * 2, 0.25)
        try:
            con.execute("BEGIN TRANSACTION")
            yield con
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # keep the original error, not the rollback's
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    @staticmethod
    def ids(con: duckdb.DuckDBPyConnection) -> set[str]:
        """Return the run ids present in the catalogue."""
        return {row[0] for row in con.execute("SELECT run_id FROM runs").fetchall()}

    @staticmethod
    def signatures(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
        """Return ``{run_id: files_sig}`` of every catalogued run."""
        return dict(con.execute("SELECT run_id, files_sig FROM runs").fetchall())

    @staticmethod
    def upsert(con: duckdb.DuckDBPyConnection, rows: Iterable[dict]) -> None:
        """Insert or replace catalogue rows (dicts keyed by :data:`COLUMNS`)."""
        frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
        if frame.empty:
            return
        # One set-based insert from a DataFrame: executemany costs milliseconds per row, which
        # adds up when a lost catalogue is rebuilt from hundreds of runs. NaN becomes NULL.
        con.register("_new_rows", frame)
        try:
            con.execute("INSERT OR REPLACE INTO runs SELECT * FROM _new_rows")
        finally:
            con.unregister("_new_rows")

    @staticmethod
    def remove(con: duckdb.DuckDBPyConnection, run_ids: Iterable[str]) -> None:
        """Delete the rows of ``run_ids`` (missing ids are ignored)."""
        ids = list(run_ids)
        if ids:
            con.execute("DELETE FROM runs WHERE list_contains(?, run_id)", [ids])

    @staticmethod
    def frame(con: duckdb.DuckDBPyConnection, columns: Iterable[str]) -> pd.DataFrame:
        """Return the chosen columns of every row, newest run first."""
        cols = ", ".join(columns)
        return con.execute(f"SELECT {cols} FROM runs ORDER BY run_id DESC").df()
