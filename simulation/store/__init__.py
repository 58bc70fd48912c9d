"""The run store: run folders of Parquet tables, a DuckDB catalogue, export."""

from simulation.store.run_store import (
    SOURCES,
    RunDamagedError,
    RunNotFoundError,
    RunStore,
    StoreBusyError,
    StoredRun,
)

__all__ = [
    "SOURCES",
    "RunDamagedError",
    "RunNotFoundError",
    "RunStore",
    "StoreBusyError",
    "StoredRun",
]
