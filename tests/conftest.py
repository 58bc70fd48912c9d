import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# The fuzz tests draw the same examples on every run (derandomized), so the suite cannot
# fail on one run and pass on the next; ADLAB_HYPOTHESIS=explore draws new ones on every
# run to look for bugs, and prints what to pin with @example when one fails.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(
    "explore" if os.environ.get("ADLAB_HYPOTHESIS") == "explore" else "repeatable"
)


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


def obd_sample_dir() -> Path:
    """The Open Bandit Dataset sample: ``$ADLAB_OBD_DIR``, else ``<repo>/../shared/data/obd``."""
    env = os.environ.get("ADLAB_OBD_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "obd"


@pytest.fixture(scope="session")
def obd_dir() -> Path:
    """The OBD sample folder; skips where it is missing, fails in CI (``ADLAB_REQUIRE_OBD=1``).

    CI has the sample beside the checkout, so a test that needs it must run
    there rather than pass vacuously by skipping.
    """
    root = obd_sample_dir()
    if not (root / "random" / "all" / "all.csv").is_file():
        message = f"Open Bandit Dataset sample not found at {root} (set ADLAB_OBD_DIR)"
        if os.environ.get("ADLAB_REQUIRE_OBD") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return root
