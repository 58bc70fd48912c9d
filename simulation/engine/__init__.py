"""The experiment engine: run_experiment and its result, chunk routes and compiled tallies."""

from simulation.engine.core import (
    SEGMENT_METRICS,
    SERIES_METRICS,
    ExperimentResult,
    RunCancelled,
    run_experiment,
)

__all__ = [
    "SEGMENT_METRICS",
    "SERIES_METRICS",
    "ExperimentResult",
    "RunCancelled",
    "run_experiment",
]
