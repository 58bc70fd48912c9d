"""The generated level's library: the component space, the pairwise model and its policies."""

from simulation.generated.model import PairwiseModel, design
from simulation.generated.policies import (
    GENERATED_POLICIES,
    GeneratedPolicy,
    MvtThompson,
    Oracle,
    Uniform,
)
from simulation.generated.space import ComponentSpace, hill48_space

__all__ = [
    "GENERATED_POLICIES",
    "ComponentSpace",
    "GeneratedPolicy",
    "MvtThompson",
    "Oracle",
    "PairwiseModel",
    "Uniform",
    "design",
    "hill48_space",
]
