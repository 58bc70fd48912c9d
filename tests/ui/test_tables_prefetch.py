"""The page builds a run's tables ahead of the click, once, and a run waits for that build."""

from __future__ import annotations

import threading
import time

from simulation.engine import core
from ui import cache
from ui.forms import DEFAULT_CONFIG

#: A small world of its own (no other test's cached world), with the generated level.
CONFIG = DEFAULT_CONFIG.replace(
    seed=811,
    n_users=1_500,
    n_segments=3,
    n_variants=3,
    n_impressions=2_000,
    n_seeds=1,
    levels=("generic", "generated"),
    policies=("uniform", "mvt_ts"),
)


def test_prefetch_builds_the_generated_oracle_before_the_click(monkeypatch):
    monkeypatch.setenv("ADLAB_PREFETCH", "1")
    world = cache.scenario(CONFIG)
    key = ("generated_tables", CONFIG.objective)
    assert key not in world.memo
    cache.prefetch_scenario(CONFIG)
    deadline = time.monotonic() + 120
    while key not in world.memo and time.monotonic() < deadline:
        time.sleep(0.05)
    assert key in world.memo  # built in the background, with no run started
    # The run then reads the same tables: nothing is built again.
    tables = world.memo[key]
    result = cache.experiment(CONFIG)
    assert world.memo[key] is tables
    assert "generated" in result.levels


def test_a_run_during_the_build_waits_for_it_instead_of_building_again(monkeypatch):
    config = CONFIG.replace(objective="roas", seed=812)
    calls, release = [], threading.Event()
    real = core.experiment_tables

    def slow_tables(scenario, cfg):
        calls.append(cfg)
        release.wait(10)  # the page's prefetch, still building when Run is pressed
        return real(scenario, cfg)

    monkeypatch.setattr(cache, "experiment_tables", slow_tables)
    first = threading.Thread(target=cache.tables, args=(config,))
    first.start()
    while not calls:
        time.sleep(0.01)
    second = threading.Thread(target=cache.tables, args=(config,))
    second.start()
    time.sleep(0.3)
    assert second.is_alive()  # waiting for the build under way
    release.set()
    first.join(30)
    second.join(30)
    assert len(calls) == 1
    assert ("generated_tables", "roas") in cache.scenario(config).memo
