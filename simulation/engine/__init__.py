"""The experiment engine: run_experiment and its result, chunk routes and compiled tallies."""

from simulation.engine.core import (
    BASELINE_METRICS,
    SEGMENT_METRICS,
    SERIES_METRICS,
    ExperimentResult,
    RunCancelled,
    run_experiment,
)

__all__ = [
    "BASELINE_METRICS",
    "SEGMENT_METRICS",
    "SERIES_METRICS",
    "ExperimentResult",
    "RunCancelled",
    "run_experiment",
]
