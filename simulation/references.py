"""Reference policies: the ones that read the true expected rewards (the oracle).

A reference bounds what a learner could reach; it is not a choice a marketer could make,
so a run's "best" (the headline's uplift, the report's tiles, ``runs list``) is never one.
The set is read from the registries' classes, not kept by hand: a new policy that reads
the truth is a reference by its own flag.
"""

from __future__ import annotations

from simulation.generated.policies import GENERATED_POLICIES
from simulation.policies.registry import POLICIES
from simulation.policies.spec import SEGMENT_PREFIX

__all__ = ["REFERENCE_POLICIES", "is_reference"]

#: Names of the policies (fixed-pool and generated level) that read the true expected rewards.
REFERENCE_POLICIES: frozenset[str] = frozenset(
    name
    for registry in (POLICIES, GENERATED_POLICIES)
    for name, cls in registry.items()
    if getattr(cls, "needs_truth", False) or getattr(cls, "uses_ground_truth", False)
)


def is_reference(spec: str) -> bool:
    """Whether a policy spec, as a summary names it, is a reference (reads the truth).

    Parameters
    ----------
    spec : str
        ``NAME``, ``NAME(k=v, ...)`` or ``segment:NAME...``, as in a summary's ``policy``.

    Returns
    -------
    reference : bool

    Examples
    --------
    >>> is_reference("oracle"), is_reference("thompson"), is_reference("lin_ucb(alpha=2.0)")
    (True, False, False)
    """
    name = str(spec).removeprefix(SEGMENT_PREFIX).partition("(")[0].strip()
    return name in REFERENCE_POLICIES
