"""Bandit policies with one array contract (see :mod:`simulation.policies.base`)."""

from simulation.policies.base import Policy
from simulation.policies.registry import CONTEXTUAL, POLICIES, make_policy
from simulation.policies.spec import PolicySpec

__all__ = ["CONTEXTUAL", "POLICIES", "Policy", "PolicySpec", "make_policy"]
