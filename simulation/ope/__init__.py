"""Off-policy evaluation: estimators, reward model, logs, the Open Bandit Dataset, evaluation."""

from simulation.ope.estimators import (
    DM,
    DR,
    ESTIMATORS,
    IPS,
    SNDR,
    SNIPS,
    BaseEstimator,
    SwitchDR,
    check_ope_inputs,
)

__all__ = [
    "DM",
    "DR",
    "ESTIMATORS",
    "IPS",
    "SNDR",
    "SNIPS",
    "BaseEstimator",
    "SwitchDR",
    "check_ope_inputs",
]
