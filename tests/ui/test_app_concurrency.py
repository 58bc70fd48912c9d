"""Sessions running experiments at once (issue #17): each shows and saves its own numbers."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from simulation.engine.core import run_experiment
from simulation.scenario import build_scenario
from simulation.store.run_store import RunStore
from ui import cache
from ui.forms import DEFAULT_CONFIG, WorldSettings

APP = str(Path(__file__).resolve().parents[2] / "app.py")
#: One world seed per session; the app runs its experiments with the world's seed.
SEEDS = (100, 101, 102, 103)


@pytest.fixture
def no_magic():
    """Streamlit's "magic" parses each page with ``ast.parse``; the server does that once,
    under a lock, for every session, but each AppTest has its own script cache, and
    CPython 3.11's ``ast.parse`` is not safe in concurrent threads ("AST constructor
    recursion depth mismatch"). The pages use no magic, so it is switched off here."""
    old = st_config.get_option("runner.magicEnabled")
    st_config.set_option("runner.magicEnabled", False)
    yield
    st_config.set_option("runner.magicEnabled", old)


def test_concurrent_sessions_save_their_own_results(
    adlab_home, small_world, open_page, run_small_experiment, no_magic
):
    worlds = {
        seed: WorldSettings(seed=seed, n_users=small_world.n_users, n_segments=3) for seed in SEEDS
    }
    # Worlds built beforehand (the form's runs use 3 creative variants), so the sessions'
    # clicks reach the engine together instead of staggered by their world builds.
    built = {
        seed: cache.scenario(
            DEFAULT_CONFIG.replace(
                seed=seed, n_users=w.n_users, n_segments=w.n_segments, n_variants=3
            )
        )
        for seed, w in worlds.items()
    }
    pages = {
        seed: open_page(AppTest.from_file(APP, default_timeout=300), "experiment", world=w)
        for seed, w in worlds.items()
    }
    barrier = threading.Barrier(len(SEEDS))
    sessions: dict[int, AppTest | BaseException] = {}

    def target(seed: int) -> None:
        barrier.wait()
        try:
            sessions[seed] = run_small_experiment(pages[seed])
        except BaseException as exc:  # reported below, not lost in the thread
            sessions[seed] = exc

    threads = [threading.Thread(target=target, args=(seed,)) for seed in SEEDS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not any(t.is_alive() for t in threads), "a session did not finish"

    store = RunStore.open(adlab_home)
    run_ids = set()
    for seed in SEEDS:
        at = sessions[seed]
        assert not isinstance(at, BaseException), f"seed {seed}: {at!r}"
        assert not at.exception and not at.error, (seed, at.exception, at.error)
        assert "ex-current" in at.session_state, f"seed {seed}: no run shown"
        current = at.session_state["ex-current"]
        config = current["config"]
        assert config.seed == seed
        assert cache.scenario(config) is built[seed]  # no world build staggered the runs
        # Its solo result: the same config run alone, in a world built afresh.
        solo = run_experiment(config, scenario=build_scenario(config))
        np.testing.assert_array_equal(current["result"].series, solo.series, err_msg=str(seed))
        saved = store.load(current["run_id"])
        assert saved.seed == seed
        expected = solo.summary_frame()
        np.testing.assert_array_equal(saved.summary["clicks"], expected["clicks"])
        np.testing.assert_array_equal(saved.summary["conversions"], expected["conversions"])
        run_ids.add(current["run_id"])
    assert len(run_ids) == len(SEEDS)
    assert len(store.list()) == len(SEEDS)
