"""The policy registry: a new policy is one class plus one line here."""

from __future__ import annotations

from simulation.policies.base import Policy
from simulation.policies.context_free import EpsilonGreedy, Thompson, ThompsonValue, Ucb1, Uniform
from simulation.policies.linear import LinTS, LinUCB
from simulation.policies.special import Oracle, PerSegment

__all__ = ["CONTEXTUAL", "POLICIES", "make_policy"]

POLICIES: dict[str, type[Policy]] = {
    "uniform": Uniform,
    "epsilon_greedy": EpsilonGreedy,
    "ucb1": Ucb1,
    "thompson": Thompson,
    "thompson_value": ThompsonValue,
    "lin_ucb": LinUCB,
    "lin_ts": LinTS,
    "per_segment": PerSegment,
    "oracle": Oracle,
}

#: Policies that read the contexts (the others only count rows).
CONTEXTUAL: frozenset[str] = frozenset({"lin_ucb", "lin_ts", "per_segment"})


def make_policy(spec: str, *, n_segments: int = 6) -> Policy:
    """Build a policy from a name, or ``segment:NAME`` for one copy per segment.

    Parameters
    ----------
    spec : str
        A key of :data:`POLICIES`, or ``"segment:" + key``.
    n_segments : int, default=6
        Used by ``segment:`` specs.

    Returns
    -------
    policy : Policy
        Not yet reset.
    """
    if spec.startswith("segment:"):
        return PerSegment(base=spec.removeprefix("segment:"), n_segments=n_segments)
    if spec not in POLICIES:
        raise ValueError(f"unknown policy {spec!r}; choose from {sorted(POLICIES)}.")
    return POLICIES[spec]()
