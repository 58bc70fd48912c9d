"""adlab's simulator.

Synthetic audiences, a ground-truth ad funnel, bandit policies, a vectorized
experiment engine, a run store and off-policy evaluation.
"""

from simulation.config import PRESETS, ExperimentConfig, load_config
from simulation.engine.core import ExperimentResult, run_experiment
from simulation.policies import POLICIES, make_policy
from simulation.scenario import Scenario, build_scenario

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
