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


@pytest.fixture(autouse=True, scope="session")
def _isolated_run_store(tmp_path_factory):
    """No test writes to the user's ~/.adlab: the default store is a temp folder."""
    home = tmp_path_factory.mktemp("adlab-home")
    old = os.environ.get("ADLAB_HOME")
    os.environ["ADLAB_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("ADLAB_HOME", None)
    else:
        os.environ["ADLAB_HOME"] = old
