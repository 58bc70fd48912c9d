"""The run store: run folders of Parquet tables, a DuckDB catalogue, export."""

from simulation.store.run_store import (
    SOURCES,
    RunNotFoundError,
    RunStore,
    StoreBusyError,
    StoredRun,
)

__all__ = ["SOURCES", "RunNotFoundError", "RunStore", "StoreBusyError", "StoredRun"]
