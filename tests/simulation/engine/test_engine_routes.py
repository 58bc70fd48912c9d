"""The engine's one route protocol: compiled and Python routes play the same chunk alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.chunks import audience_tables, draw_chunks
from simulation.engine.generated import GeneratedRoute, SkippedRoute
from simulation.engine.regen import RegenRoute
from simulation.engine.routes import (
    ChunkRoute,
    CompiledRoute,
    CountingRoute,
    PythonRoute,
    compiled_route,
)
from simulation.policies import POLICIES
from simulation.policies.context_free import Ucb1, counting_kernels
from simulation.scenario import build_scenario

pytestmark = pytest.mark.skipif(counting_kernels() is None, reason="numba not installed")
CONFIG = ExperimentConfig(
    n_users=2_000, n_segments=3, n_impressions=8_000, batch_size=500, levels=("segment",)
)


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(CONFIG)


def _python_route(policy, rng, scenario):
    return PythonRoute(
        policy=policy, rng=rng, contextual=False, response=scenario.response, objective="ctr",
        batch_size=CONFIG.batch_size, budget=None, conversion_delay=0, reward_scale=(0.0, 1.0),
    )  # fmt: skip


@pytest.mark.parametrize("name", ["uniform", "epsilon_greedy", "ucb1", "thompson"])
@pytest.mark.parametrize("chunk_rows", [1_500, 1 << 16])  # several chunks, or one
def test_compiled_and_python_routes_play_a_chunk_alike(scenario, name, chunk_rows):
    k = scenario.levels["segment"].n_arms
    tables = audience_tables(scenario, ("segment",), "ctr", 4_000_000)["segment"]
    fast, slow = POLICIES[name]().reset(k), POLICIES[name]().reset(k)
    compiled = compiled_route(fast, CONFIG)
    assert compiled is not None
    routes = (
        CompiledRoute(compiled, fast, np.random.default_rng(4), contextual=False),
        _python_route(slow, np.random.default_rng(4), scenario),
    )
    shown = [[], []]
    for chunk in draw_chunks(scenario, tables, CONFIG, 0, "segment", False, chunk_rows):
        for i, route in enumerate(routes):
            shown[i].append(route.play(chunk))
    np.testing.assert_array_equal(np.concatenate(shown[0]), np.concatenate(shown[1]))
    assert np.concatenate(shown[0]).size == CONFIG.n_impressions
    np.testing.assert_array_equal(fast.pulls_, slow.pulls_)


def test_a_policy_says_how_it_is_compiled(scenario):
    # A new counting policy joins the compiled route by its own method: no engine edit.
    @dataclass(kw_only=True, eq=False)
    class GreedierUcb(Ucb1):
        name = "greedier_ucb"

        def counting_kernel(self, config):
            return "ucb1", 0.5, 0.0

    route = compiled_route(GreedierUcb().reset(4), CONFIG)
    assert isinstance(route, CountingRoute)
    assert (route.code, route.param_a) == (counting_kernels().POLICY_CODES["ucb1"], 0.5)
    # Policies without a kernel method, or that decline, play batch by batch.
    assert compiled_route(POLICIES["oracle"]().reset(4), CONFIG) is None
    assert compiled_route(POLICIES["thompson"]().reset(4), CONFIG.replace(batch_size=50)) is None


@pytest.mark.parametrize(
    "cls", [CompiledRoute, PythonRoute, GeneratedRoute, SkippedRoute, RegenRoute]
)
def test_every_route_is_a_chunk_route(cls):
    # The engine calls every hook on every route: none may be missing.
    assert issubclass(cls, ChunkRoute)


def test_a_route_s_hooks_do_nothing_unless_overridden(scenario):
    tables = audience_tables(scenario, ("segment",), "ctr", 4_000_000)["segment"]
    k = scenario.levels["segment"].n_arms
    policy = POLICIES["thompson"]().reset(k)
    route = _python_route(policy, np.random.default_rng(4), scenario)
    chunk = next(iter(draw_chunks(scenario, tables, CONFIG, 0, "segment", False, 1_500)))
    route.observe(object())
    route.play(chunk)
    assert route.served(chunk) is chunk
    assert route.final_state() is None
    assert route.lineage() is None
    assert SkippedRoute().served(chunk) is chunk

    class Silent(ChunkRoute):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Silent()
