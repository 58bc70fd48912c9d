"""Checking a run folder: what ``meta.json`` must hold, and whether each file matches it.

A run is *damaged* when its ``meta.json`` is unreadable or not what the store writes, or when a
table it lists is missing, is not a readable Parquet file, or has other rows or columns than
``meta.json`` recorded. Damage is reported as :class:`RunDamagedError` with a one-line reason;
nothing here raises anything else for a bad file. A run folder that disappears while it is being
read was deleted, not damaged: that is :class:`RunNotFoundError`.

Three depths of checking, cheapest first:

- :func:`signature` stats the files (names, sizes, modification times). The catalogue keeps it,
  so ``list()`` notices a file that changed since the run was catalogued without reading it.
- :func:`check_files` reads ``meta.json`` and every Parquet footer (row count and column names).
- :func:`read_frame` reads a whole table, which also catches damage inside the data pages.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.store.paths import check_table_name

__all__ = [
    "MAX_STORED_NAME",
    "RunDamagedError",
    "RunNotFoundError",
    "check_file",
    "check_files",
    "clean_name",
    "clean_text",
    "expected_files",
    "read_frame",
    "read_meta",
    "signature",
]

FORMAT_VERSION = 1
_MAX_SEED = 2**63
# ANSI escape sequences (CSI ... final byte, OSC ... BEL/ST) and then any other control character
# or bidirectional override: names and reasons are printed to terminals.
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?)?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ROOT_FILES = ("summary.parquet", "timeseries.parquet", "log.parquet")


class RunNotFoundError(LookupError):
    """No published run has the given id."""


class RunDamagedError(LookupError):
    """A published run cannot be read as saved; ``reason`` says which file and why.

    Parameters
    ----------
    run_id : str
        The damaged run.
    reason : str
        One line, e.g. ``"summary.parquet is not a readable Parquet file"``.
    """

    def __init__(self, run_id: str, reason: str) -> None:
        super().__init__(f"run {run_id} is damaged: {reason}")
        self.run_id = run_id
        self.reason = reason


class _Gone(Exception):
    """The run folder vanished while being read (a concurrent delete)."""


def clean_text(text: object) -> str:
    r"""Return ``text`` without ANSI escape sequences and control characters.

    Examples
    --------
    >>> clean_text("\x1b[31mred\x1b[0m name\x07")
    'red name'
    """
    return _CONTROL.sub("", _ANSI.sub("", str(text)))


#: Longest name the store keeps (characters, once cleaned), from any caller. The
#: commands refuse more than 80 (``simulation.cli.common.MAX_NAME``); the app's own
#: names, which list a run's settings, run longer, so the store's bound is looser: it
#: only keeps a script's runaway string out of the catalogue and every listing.
MAX_STORED_NAME = 1_000


def clean_name(name: object) -> str | None:
    r"""Return a run's or a sweep's name as the store keeps it, or None for no name.

    Names are printed to terminals (``runs list``): ANSI escapes and control characters
    go (:func:`clean_text`), then surrounding blanks; a name left empty is no name.

    Parameters
    ----------
    name : str or None

    Returns
    -------
    name : str or None

    Raises
    ------
    TypeError
        For anything but a str or None.
    ValueError
        For a name longer than :data:`MAX_STORED_NAME` once cleaned.

    Examples
    --------
    >>> clean_name("  \x1b[31mscale study\x1b[0m\u202e ")
    'scale study'
    >>> clean_name("\x07") is None
    True
    """
    if name is None:
        return None
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str or None; got {type(name).__name__}.")
    cleaned = clean_text(name).strip()
    if len(cleaned) > MAX_STORED_NAME:
        raise ValueError(
            f"`name` must be at most {MAX_STORED_NAME:,} characters; got {len(cleaned):,}."
        )
    return cleaned or None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return clean_text(text[0] if text else type(exc).__name__)[:200]


def signature(run_dir: Path) -> str | None:
    """Return a digest of the names, sizes and modification times of a run's files.

    Returns
    -------
    sig : str or None
        ``None`` when the folder is missing or empty (not a run).
    """
    parts = []
    try:
        for sub in ("", "tables"):
            try:
                entries = list(os.scandir(run_dir / sub if sub else run_dir))
            except (FileNotFoundError, NotADirectoryError):
                if sub:
                    continue
                return None
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                parts.append(f"{sub}/{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    except FileNotFoundError:  # deleted meanwhile
        return None
    if not parts:
        return None
    return hashlib.blake2b("\n".join(sorted(parts)).encode(), digest_size=16).hexdigest()


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _meta_problem(meta: object, run_id: str) -> str | None:
    """Return why ``meta`` is not a valid ``meta.json`` of run ``run_id``, or None."""
    if not isinstance(meta, dict):
        return f"meta.json holds a {type(meta).__name__}, not an object"
    required = ("format_version", "run_id", "created_at", "name", "source", "seed", "config")
    missing = [k for k in (*required, "tables", "summary_rows", "timeseries_rows") if k not in meta]
    if missing:
        return f"meta.json lacks {', '.join(missing)}"
    if meta["format_version"] != FORMAT_VERSION:
        return f"meta.json has format_version {meta['format_version']!r}; expected {FORMAT_VERSION}"
    if meta["run_id"] != run_id:
        return f"meta.json names run {clean_text(meta['run_id'])!r}, not its folder's"
    try:
        datetime.fromisoformat(meta["created_at"])
    except (TypeError, ValueError):
        return "meta.json has an unreadable created_at"
    seed = meta["seed"]
    checks = (
        (meta["name"] is None or isinstance(meta["name"], str), "name"),
        (isinstance(meta["source"], str), "source"),
        (_is_count(seed) and seed < _MAX_SEED, "seed"),
        (isinstance(meta["config"], dict), "config"),
        (isinstance(meta["tables"], list), "tables"),
        (_is_count(meta["summary_rows"]), "summary_rows"),
        (_is_count(meta["timeseries_rows"]), "timeseries_rows"),
        (meta.get("log_rows") is None or _is_count(meta["log_rows"]), "log_rows"),
        (isinstance(meta.get("versions", {}), dict), "versions"),
    )
    bad = [key for ok, key in checks if not ok]
    if bad:
        return f"meta.json has a wrong type for {', '.join(bad)}"
    try:
        for table in meta["tables"]:
            check_table_name(table)
        expected_files(meta)
    except (TypeError, ValueError) as exc:
        return f"meta.json lists a bad file: {_first_line(exc)}"
    return None


def read_meta(run_dir: Path) -> dict[str, Any]:
    """Read and validate ``run_dir/meta.json``.

    Raises
    ------
    RunDamagedError
        If it is missing (while other files are there), unreadable or not what the store writes.
    RunNotFoundError
        If the run folder itself is gone.
    """
    run_id = run_dir.name
    try:
        text = (run_dir / "meta.json").read_bytes().decode("utf-8")
        meta = json.loads(text)
    except FileNotFoundError:
        if not run_dir.is_dir():
            raise RunNotFoundError(f"run {run_id!r} was deleted while being read") from None
        raise RunDamagedError(run_id, "meta.json is missing") from None
    except IsADirectoryError:
        raise RunDamagedError(run_id, "meta.json is a folder") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise RunDamagedError(run_id, f"meta.json is not valid JSON ({_first_line(exc)})") from None
    except OSError as exc:
        raise RunDamagedError(run_id, f"meta.json cannot be read ({_first_line(exc)})") from None
    problem = _meta_problem(meta, run_id)
    if problem is not None:
        raise RunDamagedError(run_id, problem)
    return meta


def expected_files(meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return ``{relative path: {"rows": int, "columns": [str, ...]}}`` of a run's Parquet files.

    Runs saved before ``files`` was recorded give row counts only (and none for extra tables).

    Raises
    ------
    ValueError
        If ``files`` names a path the store never writes (such as ``../x``).
    """
    files = meta.get("files")
    if files is None:
        out: dict[str, dict[str, Any]] = {
            "summary.parquet": {"rows": meta["summary_rows"]},
            "timeseries.parquet": {"rows": meta["timeseries_rows"]},
        }
        out.update({f"tables/{name}.parquet": {} for name in meta["tables"]})
        if meta.get("log_rows") is not None:
            out["log.parquet"] = {"rows": meta["log_rows"]}
        return out
    if not isinstance(files, dict):
        raise ValueError("`files` must be an object")
    allowed = {*_ROOT_FILES, *(f"tables/{name}.parquet" for name in meta["tables"])}
    for rel, expect in files.items():
        if rel not in allowed:
            raise ValueError(f"unexpected file {clean_text(rel)!r}")
        if not isinstance(expect, dict):
            raise ValueError(f"the entry of {rel} must be an object")
    missing = allowed - set(files) - {"log.parquet"}
    if missing:
        raise ValueError(f"no entry for {', '.join(sorted(missing))}")
    return files


def describe_file(path: Path) -> dict[str, Any]:
    """Return the ``files`` entry of a Parquet file just written: its rows and column names."""
    md = pq.read_metadata(path)
    return {"rows": md.num_rows, "columns": list(md.schema.to_arrow_schema().names)}


def _open_failure(run_dir: Path, rel: str, exc: BaseException) -> Exception:
    if isinstance(exc, FileNotFoundError):
        if not run_dir.is_dir():
            return RunNotFoundError(f"run {run_dir.name!r} was deleted while being read")
        return RunDamagedError(run_dir.name, f"{rel} is missing")
    return RunDamagedError(
        run_dir.name, f"{rel} is not a readable Parquet file ({_first_line(exc)})"
    )


def check_file(run_dir: Path, rel: str, expect: Mapping[str, Any]) -> None:
    """Check one Parquet file's footer against its ``files`` entry ``expect``.

    Raises
    ------
    RunDamagedError, RunNotFoundError
    """
    try:
        md = pq.read_metadata(run_dir / rel)
        names = list(md.schema.to_arrow_schema().names)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _open_failure(run_dir, rel, exc) from None
    rows = expect.get("rows")
    if rows is not None and md.num_rows != rows:
        raise RunDamagedError(run_dir.name, f"{rel} has {md.num_rows} rows; meta.json says {rows}")
    columns = expect.get("columns")
    if columns is not None and names != list(columns):
        raise RunDamagedError(
            run_dir.name,
            f"{rel} has columns {clean_text(names)[:120]}; meta.json says "
            f"{clean_text(list(columns))[:120]}",
        )


def check_files(run_dir: Path, meta: Mapping[str, Any]) -> None:
    """Check that every Parquet file of a run is there, readable and of the recorded shape.

    Reads only the footers, so it costs about a millisecond per file whatever its size.

    Raises
    ------
    RunDamagedError, RunNotFoundError
    """
    for rel, expect in expected_files(meta).items():
        check_file(run_dir, rel, expect)


def read_frame(run_dir: Path, rel: str, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Read one table of a run in full, checking it against ``meta.json``.

    Raises
    ------
    RunDamagedError, RunNotFoundError
    """
    check_file(run_dir, rel, expected_files(meta).get(rel, {}))
    try:
        return pd.read_parquet(run_dir / rel)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _open_failure(run_dir, rel, exc) from None
