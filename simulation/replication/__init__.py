"""Replication of Chapelle and Li (2011), Table 1: Thompson sampling against UCB."""

from simulation.replication.chapelle_li import (
    FEEDBACK_MODES,
    KERNEL_POLICIES,
    RETIRE_MODES,
    BernoulliSchedule,
    ReplicationResult,
    chapelle_li_schedule,
    has_numba,
    replicate,
    replicate_with_policy,
    stationary_schedule,
)

__all__ = [
    "FEEDBACK_MODES",
    "KERNEL_POLICIES",
    "RETIRE_MODES",
    "BernoulliSchedule",
    "ReplicationResult",
    "chapelle_li_schedule",
    "has_numba",
    "replicate",
    "replicate_with_policy",
    "stationary_schedule",
]
