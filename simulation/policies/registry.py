"""The policy registry: a new policy is one class plus one line here."""

from __future__ import annotations

from simulation.policies.base import Policy
from simulation.policies.context_free import EpsilonGreedy, Thompson, ThompsonValue, Ucb1, Uniform
from simulation.policies.linear import LinTS, LinUCB
from simulation.policies.spec import PolicySpec
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

#: Policies that read the contexts (the others only count rows), from their classes.
CONTEXTUAL: frozenset[str] = frozenset(n for n, cls in POLICIES.items() if cls.needs_contexts)


def make_policy(spec: str | PolicySpec, *, n_segments: int = 6) -> Policy:
    """Build a policy from a spec: a name, ``segment:NAME``, or a :class:`PolicySpec`.

    Parameters
    ----------
    spec : str or PolicySpec
        Text in the grammar of :mod:`simulation.policies.spec` (a key of
        :data:`POLICIES`, or ``"segment:" + key``, optionally with
        hyperparameters), or an already parsed spec.
    n_segments : int, default=6
        Used by per-segment specs.

    Returns
    -------
    policy : Policy
        Not yet reset.
    """
    parsed = spec if isinstance(spec, PolicySpec) else PolicySpec.parse(spec)
    return parsed.build(n_segments=n_segments)
