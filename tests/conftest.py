import os

import numpy as np
import pytest


@pytest.fixture
def seed() -> int:
    """Fixed seed for statistical tests; override with ADLAB_TEST_SEED to sweep."""
    return int(os.environ.get("ADLAB_TEST_SEED", "20261122"))


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)
