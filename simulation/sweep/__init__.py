"""Sweeps: many experiments over a grid of settings, on local processes or a Dask cluster."""

from simulation.sweep.grid import MAX_RUNS, GridPoint, SweepPlan, SweepRun, load_grid, parse_grid
from simulation.sweep.runner import (
    BACKENDS,
    SchedulerUnreachableError,
    SweepConflictError,
    SweepOutcome,
    check_folder,
    execute_run,
    prepare_folder,
    run_sweep,
)
from simulation.sweep.table import HEADLINE, UPLIFT_OF, build_table, write_table

__all__ = [
    "BACKENDS",
    "HEADLINE",
    "MAX_RUNS",
    "UPLIFT_OF",
    "GridPoint",
    "SchedulerUnreachableError",
    "SweepConflictError",
    "SweepOutcome",
    "SweepPlan",
    "SweepRun",
    "build_table",
    "check_folder",
    "execute_run",
    "load_grid",
    "parse_grid",
    "prepare_folder",
    "run_sweep",
    "write_table",
]
