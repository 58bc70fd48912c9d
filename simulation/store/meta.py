"""What is recorded about a run: argument checks, ``meta.json`` and the catalogue row."""

from __future__ import annotations

import functools
import json
import os
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simulation.store.integrity import FORMAT_VERSION, clean_name
from simulation.store.paths import check_table_name, created_at_of, new_run_id
from simulation.store.report import best_row, clear_best_note

__all__ = [
    "FORMAT_VERSION",
    "SOURCES",
    "VERSIONED_PACKAGES",
    "build_meta",
    "catalog_row",
    "damaged_row",
]

#: Allowed values of ``source`` in :meth:`RunStore.save`.
SOURCES: tuple[str, ...] = ("cli", "app")
#: Packages whose versions are recorded with every run.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "adlab",
    "numpy",
    "pandas",
    "scikit-learn",
    "pillow",
    "streamlit",
    "duckdb",
    "pyarrow",
)
_MAX_SEED = 2**63  # the catalogue stores seeds as BIGINT


def _json_default(obj: object) -> object:
    # Configs arrive as plain data, but numpy scalars and paths slip in easily; anything else
    # is refused rather than stringified, so a saved config always means what it says.
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"`config` values must be JSON data; got {type(obj).__name__}: {obj!r}.")


@functools.cache
def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _best(
    meta: Mapping[str, Any], flat: pd.DataFrame
) -> tuple[str | None, bool | None, float, float]:
    """The run's best (policy, level) by its objective, whether it is clearly best, its rates.

    As the run's headline names it (:func:`simulation.store.report.best_row`): never a mean
    over levels and policies, which would mix what the levels compare, and never a reference
    that knows the truth. Clearly best as the report's headline judges it
    (:func:`simulation.store.report.clear_best_note`): no other learner's 95 % interval over
    the replications overlaps its own, so a tie, overlapping intervals or a single
    replication (no interval) make it not clearly best, and so does an interval refused
    (too few clicks or conversions in a replication, or too wide: the report's tiles show
    none). ``(None, None, nan, nan)`` for a summary
    without level, policy, ctr and roas (not made by the experiment engine), or where only
    references ran.
    """
    none = (None, None, float("nan"), float("nan"))
    if not {"level", "policy", "ctr", "roas"} <= set(flat.columns):
        return none
    config = meta.get("config")
    objective = config.get("objective", "ctr") if isinstance(config, Mapping) else "ctr"
    try:
        row = best_row(flat, objective)
        if row is None:
            return none
        clear = not clear_best_note(flat, row, objective)
    except (TypeError, ValueError):  # non-numeric metrics: a summary not made by the engine
        return none
    name = f"{row['policy']} @ {row['level']}"
    return name, clear, float(row["ctr"]), float(row["roas"])


def catalog_row(
    meta: Mapping[str, Any], summary: pd.DataFrame, sig: str | None = None
) -> dict[str, Any]:
    """Return the catalogue row of a run from its ``meta.json`` content and summary table.

    ``sig`` is the run folder's :func:`~simulation.store.integrity.signature` when it was read.
    """
    flat = summary if isinstance(summary.index, pd.RangeIndex) else summary.reset_index()
    best, best_clear, its_ctr, its_roas = _best(meta, flat)
    return {
        "run_id": meta["run_id"],
        "created_at": datetime.fromisoformat(meta["created_at"]).replace(tzinfo=None),
        "name": meta["name"],
        "source": meta["source"],
        "seed": meta["seed"],
        "n_rows": len(summary),
        "best": best,
        "best_clear": best_clear,
        "its_ctr": its_ctr,
        "its_roas": its_roas,
        "config_json": json.dumps(meta["config"], sort_keys=True),
        "meta_json": json.dumps(meta, sort_keys=True),
        "summary_json": flat.to_json(orient="records", date_format="iso", default_handler=str),
        "damaged": None,
        "files_sig": sig,
    }


def damaged_row(run_id: str, reason: str, sig: str | None) -> dict[str, Any]:
    """Return the catalogue row of a damaged run: its id, creation time (from the id) and why."""
    return {
        "run_id": run_id,
        "created_at": created_at_of(run_id),
        "name": None,
        "source": None,
        "seed": None,
        "n_rows": None,
        "best": None,
        "best_clear": None,
        "its_ctr": None,
        "its_roas": None,
        "config_json": None,
        "meta_json": None,
        "summary_json": None,
        "damaged": reason,
        "files_sig": sig,
    }


def _check_frame(value: object, what: str) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"`{what}` must be a pandas DataFrame; got {type(value).__name__}.")
    return value


def build_meta(*, config, seed, summary, timeseries, tables, log_path, source, name):
    """Validate the arguments of ``RunStore.save`` and return ``(meta, tables, log_path)``.

    Everything that can be checked is checked here, before a single file is written.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"`config` must be a mapping; got {type(config).__name__}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"`seed` must be an int; got {type(seed).__name__}.")
    if not 0 <= int(seed) < _MAX_SEED:
        raise ValueError(f"`seed` must be an int in [0, 2**63); got {seed}.")
    _check_frame(summary, "summary")
    _check_frame(timeseries, "timeseries")
    tables = dict(tables or {})
    for key, frame in tables.items():
        check_table_name(key)
        _check_frame(frame, f"tables[{key!r}]")
    if source not in SOURCES:
        raise ValueError(f"`source` must be one of {SOURCES}; got {source!r}.")
    # Names are printed to terminals: escape sequences and control characters go.
    name = clean_name(name)
    log_src, log_rows = None, None
    if log_path is not None:
        log_src = Path(log_path)
        try:
            log_rows = pq.read_metadata(log_src).num_rows
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"`log_path` must be a readable Parquet file; got {log_src}: {exc}"
            ) from exc
    # Serialise the config now so a bad value fails before anything is written.
    config = json.loads(json.dumps(dict(config), default=_json_default))
    now = datetime.now(UTC)
    run_id = new_run_id(now)  # the id carries the creation time, even if meta.json is lost
    meta = {
        "format_version": FORMAT_VERSION,
        "run_id": run_id,
        "created_at": now.isoformat(),
        "name": name,
        "source": source,
        "seed": int(seed),
        "config": config,
        "versions": dict(_package_versions()),
        "python": platform.python_version(),
        "tables": sorted(tables),
        "summary_rows": len(summary),
        "timeseries_rows": len(timeseries),
        "log_rows": log_rows,
    }
    return meta, tables, log_src
