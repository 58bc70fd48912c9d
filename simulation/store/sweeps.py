"""Sweeps in the run store: ``root/sweeps/<sweep_id>/`` beside the runs.

Layout::

    sweeps/<sweep_id>/
        grid.toml       the grid file, as given
        sweep.parquet   the sweep table (simulation.sweep.table)
        meta.json       created_at, name, the command's --out folder (out), counts, digests

A sweep is assembled in ``sweeps/.tmp-<sweep_id>.<pid>.<random>/`` (each file
fsynced, the folder ``flock``-ed by its writer) and published by renaming that
folder, so a sweep is either absent or complete. A killed writer's folder is
removed by the next :meth:`RunStore.open` once it is ``stale_after`` seconds
old (:func:`clean_stale_sweeps`). :func:`check_sweeps` reads every saved sweep
and can move damaged ones to ``quarantine/sweeps/``.
Saving the same grid's same table again returns the id already saved (and records a
new name given with it). This
module is independent of the runs' DuckDB catalogue: sweeps are listed from
their folders.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.store.fs import clean_stale, locked_workdir
from simulation.store.integrity import clean_name
from simulation.store.paths import QUARANTINE_DIR, SWEEPS_DIR, new_run_id, resolve_root

__all__ = [
    "SWEEPS_DIR",
    "SWEEP_COUNT_COLUMNS",
    "SWEEP_LIST_COLUMNS",
    "check_sweeps",
    "clean_stale_sweeps",
    "list_sweeps",
    "load_sweep",
    "rename_sweep",
    "save_sweep",
    "sweep_folders",
]

#: Name prefix of the folders sweeps are assembled in.
_TMP_PREFIX = ".tmp-"

#: Columns of :func:`list_sweeps`.
SWEEP_LIST_COLUMNS: tuple[str, ...] = (
    "sweep_id", "created_at", "name", "n_points", "n_runs", "parameters", "n_rows",
)  # fmt: skip

#: Columns of :func:`list_sweeps` that hold counts (nullable integers: a record may lack one).
SWEEP_COUNT_COLUMNS: tuple[str, ...] = ("n_points", "n_runs", "n_rows")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _table_digest(table: pd.DataFrame) -> str:
    return hashlib.sha256(table.to_csv(index=False).encode("utf-8")).hexdigest()


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _replace_meta(folder: Path, record: dict[str, Any]) -> None:
    """Rewrite ``folder/meta.json`` atomically: readers see the old or the new one."""
    tmp = folder / f".meta.json.tmp-{os.getpid()}"
    try:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, folder / "meta.json")
    finally:
        tmp.unlink(missing_ok=True)


def save_sweep(
    root: str | os.PathLike[str] | None,
    *,
    grid_text: str,
    table: pd.DataFrame,
    meta: dict[str, Any],
    name: str | None = None,
) -> str:
    """Save a finished sweep; return its id.

    Parameters
    ----------
    root : str or path-like or None
        The store root (None: ``$ADLAB_HOME``, else ``~/.adlab``).
    grid_text : str
        The grid file's text.
    table : DataFrame
        The sweep table.
    meta : dict
        JSON-able facts to keep: pass ``outcome.store_meta(plan, out)``
        (:meth:`simulation.sweep.runner.SweepOutcome.store_meta`), as the command and the
        app do, so the sweep lists alike (the grid's ``fingerprint``, ``n_points``,
        ``n_runs``, ``parameters``, ``worlds``; ``out``, the folder the command ran it in,
        only where that folder outlives the save). A key left out is blank in
        :func:`list_sweeps`.
    name : str, optional
        A name for ``runs list --sweeps``, kept as a run's name is
        (:func:`simulation.store.integrity.clean_name`: ANSI escapes, control characters
        and bidirectional overrides removed, then surrounding blanks; nothing left is no
        name). When this grid's identical table is already saved, a name given here
        replaces its name (None keeps it).

    Returns
    -------
    sweep_id : str
        Shaped like a run id (``20261122-074044-123456-3f9a2c1b``); the existing
        id when this grid's identical table is already saved.

    Raises
    ------
    TypeError
        For a ``name`` that is not a str or None (before anything is written).
    ValueError
        For a ``name`` longer than
        :data:`~simulation.store.integrity.MAX_STORED_NAME` (before anything is written).
    """
    # Printed to terminals by `runs list --sweeps`, as run names are: cleaned the same way.
    name = clean_name(name)
    folder = resolve_root(root) / SWEEPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    digest = _table_digest(table)
    for existing in sorted(folder.iterdir()):
        old = _read_meta(existing) if not existing.name.startswith(".") else None
        if old and old.get("table_sha256") == digest and old.get("grid_text") == grid_text:
            if name is not None and old.get("name") != name:
                # The user named this sweep now: dropping the name would be silent.
                _replace_meta(existing, {**old, "name": name})
            return existing.name
    sweep_id = new_run_id()
    # Locked while it lives, so clean_stale_sweeps never takes a live writer's folder; the
    # context removes whatever is left of it (nothing, once it is renamed into place).
    with locked_workdir(folder, f"{_TMP_PREFIX}{sweep_id}") as tmp:
        (tmp / "grid.toml").write_text(grid_text, encoding="utf-8")
        table.to_parquet(tmp / "sweep.parquet", index=False)
        record = {
            **meta,
            "sweep_id": sweep_id,
            "created_at": datetime.now(UTC).isoformat(),
            "name": name,
            "n_rows": len(table),
            "table_sha256": digest,
            "grid_text": grid_text,
        }
        (tmp / "meta.json").write_text(
            json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        for item in tmp.iterdir():
            _fsync(item)
        os.rename(tmp, folder / sweep_id)
    return sweep_id


def clean_stale_sweeps(root: str | os.PathLike[str] | None, grace: float) -> list[Path]:
    """Remove the work folders of sweep saves that were killed (``sweeps/.tmp-*``).

    Parameters
    ----------
    root : str or path-like or None
        The store root.
    grace : float
        Only folders older than this many seconds, and locked by nobody, are removed.

    Returns
    -------
    removed : list of Path
    """
    return clean_stale(resolve_root(root) / SWEEPS_DIR, grace, prefixes=(_TMP_PREFIX,))


def _sweep_damage(path: Path) -> str | None:
    """Why the saved sweep at ``path`` cannot be read, or None if it can."""
    meta = _read_meta(path)
    if meta is None:
        return "meta.json is missing or unreadable"
    try:
        (path / "grid.toml").read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        return f"grid.toml cannot be read ({exc})"
    try:
        table = pd.read_parquet(path / "sweep.parquet")
    except Exception as exc:  # pyarrow raises many types for a damaged file
        return f"sweep.parquet cannot be read ({type(exc).__name__}: {exc})"
    if meta.get("n_rows") is not None and len(table) != meta["n_rows"]:
        return f"sweep.parquet holds {len(table):,} rows; {meta['n_rows']:,} were saved"
    return None


def sweep_folders(root: str | os.PathLike[str] | None) -> list[Path]:
    """Every saved sweep's folder, readable or not, newest first (work folders skipped)."""
    folder = resolve_root(root) / SWEEPS_DIR
    if not folder.is_dir():
        return []
    # A leading dot: the work folder of a save in progress (or killed); files are strays.
    found = [p for p in folder.iterdir() if not p.name.startswith(".") and p.is_dir()]
    return sorted(found, reverse=True)


def check_sweeps(root: str | os.PathLike[str] | None, *, repair: bool = False) -> pd.DataFrame:
    """Read every saved sweep in full and report the damaged ones; optionally move them aside.

    Parameters
    ----------
    root : str or path-like or None
        The store root.
    repair : bool
        Move each damaged sweep to ``root/quarantine/sweeps/<sweep_id>`` (kept, never listed).

    Returns
    -------
    damaged : DataFrame
        One row per damaged sweep: ``sweep_id``, ``reason`` and ``moved_to`` (None without
        ``repair``). Empty for healthy sweeps.
    """
    folder = resolve_root(root) / SWEEPS_DIR
    rows = []
    for path in sweep_folders(root):
        reason = _sweep_damage(path)
        if reason is not None:
            rows.append({"sweep_id": path.name, "reason": reason, "moved_to": None})
    if repair and rows:
        quarantine = resolve_root(root) / QUARANTINE_DIR / SWEEPS_DIR
        quarantine.mkdir(parents=True, exist_ok=True)
        for row in rows:
            dst = quarantine / row["sweep_id"]
            if dst.exists():
                dst = quarantine / f"{row['sweep_id']}.{os.urandom(4).hex()}"
            try:
                os.rename(folder / row["sweep_id"], dst)
            except FileNotFoundError:
                continue  # deleted meanwhile
            row["moved_to"] = dst
    return pd.DataFrame(rows, columns=["sweep_id", "reason", "moved_to"])


def _count(value: object) -> int | None:
    """A count read from meta.json, or None when it is missing or not a whole number."""
    if isinstance(value, bool):  # a bool is an int to Python, never a count here
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _parameters(value: object) -> str:
    """The grid keys read from meta.json, comma-separated ("" when missing or malformed)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return ""
    return ", ".join(value)


def list_sweeps(root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Saved sweeps, newest first (columns :data:`SWEEP_LIST_COLUMNS`).

    The counts (:data:`SWEEP_COUNT_COLUMNS`) are nullable integers (``Int64``): a sweep
    saved without one (an older or hand-made record) has ``<NA>`` there, and the others
    stay integers rather than turning into floats beside a NaN.
    """
    folder = resolve_root(root) / SWEEPS_DIR
    rows = []
    if folder.is_dir():
        for item in folder.iterdir():
            meta = None if item.name.startswith(".") else _read_meta(item)
            if meta is None:
                continue
            rows.append(
                {
                    "sweep_id": item.name,
                    "created_at": pd.Timestamp(meta.get("created_at")),
                    "name": meta.get("name"),
                    "n_points": _count(meta.get("n_points")),
                    "n_runs": _count(meta.get("n_runs")),
                    "parameters": _parameters(meta.get("parameters")),
                    "n_rows": _count(meta.get("n_rows")),
                }
            )
    frame = pd.DataFrame(rows, columns=list(SWEEP_LIST_COLUMNS))
    # Set explicitly: pandas infers float64 for a column of ints with one None.
    frame = frame.astype({column: "Int64" for column in SWEEP_COUNT_COLUMNS})
    return frame.sort_values("sweep_id", ascending=False, ignore_index=True)


def load_sweep(
    root: str | os.PathLike[str] | None, sweep_id: str
) -> tuple[pd.DataFrame, str, dict[str, Any]]:
    """Read a saved sweep back.

    Parameters
    ----------
    root : str or path-like or None
    sweep_id : str
        A full id or a prefix matching exactly one sweep.

    Returns
    -------
    table : DataFrame
    grid_text : str
    meta : dict

    Raises
    ------
    LookupError
        No sweep, or several, match ``sweep_id``.
    """
    folder = resolve_root(root) / SWEEPS_DIR
    ids = list_sweeps(root)["sweep_id"].tolist()
    hits = [i for i in ids if isinstance(sweep_id, str) and sweep_id and i.startswith(sweep_id)]
    if len(hits) != 1:
        what = "no sweep" if not hits else f"{len(hits)} sweeps"
        raise LookupError(f"{what} match {sweep_id!r}.")
    path = folder / hits[0]
    table = pd.read_parquet(path / "sweep.parquet")
    return table, (path / "grid.toml").read_text(encoding="utf-8"), _read_meta(path) or {}


def rename_sweep(root: str | os.PathLike[str] | None, sweep_id: str, name: str | None) -> str:
    """Give a saved sweep a new name (None, or nothing left once cleaned, removes it).

    Parameters
    ----------
    root : str or path-like or None
    sweep_id : str
        A full id or a prefix matching exactly one sweep, as :func:`load_sweep` takes.
    name : str or None
        Kept as :func:`save_sweep` keeps a name
        (:func:`simulation.store.integrity.clean_name`).

    Returns
    -------
    sweep_id : str
        The full id of the renamed sweep.

    Raises
    ------
    LookupError
        No sweep, or several, match ``sweep_id``, or its record cannot be read.
    TypeError
        For a ``name`` that is not a str or None (before anything is written).
    """
    name = clean_name(name)
    ids = list_sweeps(root)["sweep_id"].tolist()
    hits = [i for i in ids if isinstance(sweep_id, str) and sweep_id and i.startswith(sweep_id)]
    if len(hits) != 1:
        what = "no sweep" if not hits else f"{len(hits)} sweeps"
        raise LookupError(f"{what} match {sweep_id!r}.")
    folder = resolve_root(root) / SWEEPS_DIR / hits[0]
    meta = _read_meta(folder)
    if meta is None:  # listed a moment ago: removed or damaged since
        raise LookupError(f"sweep {hits[0]!r} has no readable record.")
    # Only meta.json changes, atomically: the table and its digest stay as they were.
    _replace_meta(folder, {**meta, "name": name})
    return hits[0]
