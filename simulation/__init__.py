"""adlab's simulator.

Synthetic audiences, a ground-truth ad funnel, bandit policies, a vectorized
experiment engine, a run store and off-policy evaluation.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulation.config import PRESETS, ExperimentConfig, load_config
    from simulation.engine.core import ExperimentResult, run_experiment
    from simulation.policies import POLICIES, make_policy
    from simulation.scenario import Scenario, build_scenario

#: Where each name of the package's API lives. Imported on first use (PEP 562): the
#: engine's import takes seconds, and ``python -m simulation`` imports this package
#: before its command line can catch a Ctrl-C or print ``--help``.
_EXPORTS: dict[str, str] = {
    "PRESETS": "simulation.config",
    "ExperimentConfig": "simulation.config",
    "load_config": "simulation.config",
    "ExperimentResult": "simulation.engine.core",
    "run_experiment": "simulation.engine.core",
    "POLICIES": "simulation.policies",
    "make_policy": "simulation.policies",
    "Scenario": "simulation.scenario",
    "build_scenario": "simulation.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # once: later lookups skip this function
        return value
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "POLICIES",
    "PRESETS",
    "ExperimentConfig",
    "ExperimentResult",
    "Scenario",
    "build_scenario",
    "load_config",
    "make_policy",
    "run_experiment",
]
