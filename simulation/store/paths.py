"""Where the run store lives on disk, and how runs are named.

The store root is chosen in this order:

1. an explicit directory (``RunStore.open(root=...)`` or ``--store DIR`` on the command line);
2. the ``ADLAB_HOME`` environment variable;
3. ``~/.adlab``.

Layout under the root::

    catalog.duckdb              catalogue of runs (metadata + summaries); rebuilt from runs/ if lost
    runs/<run_id>/              one published, complete run (the source of truth)
        meta.json               config, seed, versions, created_at, name, source, ...
        summary.parquet         the summary table
        timeseries.parquet      the time series
        tables/<name>.parquet   extra tables ("allocation", "segments", ...)
        log.parquet             impression-level log, when one was saved
    tmp/                        runs being written or deleted; never read by list()/load()
    quarantine/<run_id>/        damaged runs moved aside by ``runs check --repair``
    sweeps/<sweep_id>/          saved sweeps (:mod:`simulation.store.sweeps`)
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "CATALOG_NAME",
    "ENV_VAR",
    "QUARANTINE_DIR",
    "RUNS_DIR",
    "SWEEPS_DIR",
    "TMP_DIR",
    "check_run_id",
    "check_table_name",
    "created_at_of",
    "new_run_id",
    "resolve_root",
    "store_exists",
]

#: Environment variable that overrides the default store root.
ENV_VAR = "ADLAB_HOME"
#: File name of the DuckDB catalogue inside the root.
CATALOG_NAME = "catalog.duckdb"
#: Sub-directory holding published runs.
RUNS_DIR = "runs"
#: Sub-directory holding runs in the middle of being written or deleted.
TMP_DIR = "tmp"
#: Sub-directory holding saved sweeps.
SWEEPS_DIR = "sweeps"
#: Sub-directory holding damaged runs moved aside by ``RunStore.check(repair=True)``.
QUARANTINE_DIR = "quarantine"

# A run id is a UTC timestamp to the microsecond plus 8 random hex digits: ids sort by creation
# time, and two processes saving in the same microsecond still differ (2**-32 collision odds, and
# the publishing rename refuses to overwrite, so even that case fails loudly rather than silently).
_RUN_ID = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{8}$")
# Table names become file names, so they are restricted to a portable, traversal-free alphabet.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def resolve_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the store root: ``root`` if given, else ``$ADLAB_HOME``, else ``~/.adlab``.

    Parameters
    ----------
    root : str or path-like or None
        Explicit store directory; ``~`` is expanded.

    Returns
    -------
    path : Path
        Absolute path of the store root (not created here).

    Raises
    ------
    ValueError
        If ``root`` is an empty string: it would silently mean the working folder.
    """
    if isinstance(root, str) and not root.strip():
        raise ValueError(f"`root` must be a folder path, not empty; got {root!r}.")
    if root is None:
        env = os.environ.get(ENV_VAR, "").strip()
        root = env if env else Path.home() / ".adlab"
    return Path(root).expanduser().resolve()


def store_exists(root: Path) -> bool:
    """Whether ``root`` holds a run store: its ``runs/``, its catalogue or its ``sweeps/``.

    Reading commands ask this first, so a mistyped ``--store`` is reported as missing
    instead of being created (empty) and listed as "no runs".
    """
    return (
        (root / RUNS_DIR).is_dir()
        or (root / CATALOG_NAME).is_file()
        or (root / SWEEPS_DIR).is_dir()
    )


def new_run_id(now: datetime | None = None) -> str:
    """Return a new run id such as ``20261122-074044-123456-3f9a2c1b``.

    Parameters
    ----------
    now : datetime or None
        Creation time (UTC); the current time when omitted.

    Returns
    -------
    run_id : str
        Sortable by creation time and unique across processes.
    """
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    return f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}"


def check_run_id(run_id: object) -> str:
    """Return ``run_id`` if it is well formed, else raise ``ValueError``.

    Checking the shape before touching the file system keeps ids such as ``../x`` out of paths.
    """
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise ValueError(
            f"`run_id` must look like '20261122-074044-123456-3f9a2c1b'; got {run_id!r}."
        )
    return run_id


def check_table_name(name: object) -> str:
    """Return ``name`` if it is a valid extra-table name, else raise ``ValueError``."""
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise ValueError(
            "table names must be 1-64 letters, digits, '_' or '-', starting with a letter or "
            f"digit; got {name!r}."
        )
    return name


def created_at_of(run_id: str) -> datetime:
    """Return the creation time (naive UTC) written into a well-formed run id."""
    return datetime.strptime(run_id[:22], "%Y%m%d-%H%M%S-%f")
