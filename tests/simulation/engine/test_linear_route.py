"""LinUCB's and LinTS's compiled whole-chunk loop against their select and update."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine import core as engine
from simulation.engine.routes import LinearRoute, compiled_route
from simulation.policies import POLICIES
from simulation.policies.linear import _kernels
from simulation.scenario import build_scenario

pytestmark = pytest.mark.skipif(
    not hasattr(_kernels(), "play_linear"), reason="numba (compiled kernels) not installed"
)
PLAIN = ExperimentConfig(n_impressions=20_000, batch_size=500)


@pytest.mark.parametrize("name", ["lin_ucb", "lin_ts"])
@pytest.mark.parametrize("frozen", [False, True])
def test_play_is_select_then_update_batch_by_batch(frozen, name):
    k, d, n_batches, batch = 5, 8, 30, 400
    rng = np.random.default_rng(5)
    table = (rng.random((300, d)) < 0.3).astype(float)
    table[:, 0] = 1.0
    table.flags.writeable = not frozen  # the engine's audience tables are read-only
    rows = rng.integers(0, 300, size=n_batches * batch)
    ctr = rng.uniform(0.01, 0.3, size=(300, k))
    click_u = rng.random(n_batches * batch)
    offsets = np.arange(n_batches + 1, dtype=np.int64) * batch

    fast = POLICIES[name]().reset(k, d)
    route = compiled_route(fast, PLAIN)
    assert route is not None
    shown = route.play(
        fast, offsets, rows, ctr.ravel(), click_u, np.random.default_rng(9), contexts=(table, rows)
    )

    slow = POLICIES[name]().reset(k, d)
    policy_rng = np.random.default_rng(9)
    expected = np.empty_like(shown)
    for j in range(n_batches):
        sl = slice(j * batch, (j + 1) * batch)
        x = table[rows[sl]]
        arms = slow.select(x, policy_rng)
        expected[sl] = arms
        slow.update(x, arms, (click_u[sl] < ctr[rows[sl], arms]) * 1.0)
    np.testing.assert_array_equal(shown, expected)
    assert len(set(shown.tolist())) > 1  # it learned something, not one arm throughout
    for name in ("A_", "b_", "A_inv_", "theta_", "_packed"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))


@pytest.mark.parametrize("name", ["lin_ucb", "lin_ts"])
def test_no_route_outside_the_plain_case(name):
    policy = POLICIES[name]().reset(5, 4)
    assert compiled_route(policy, PLAIN) is not None
    for change in ({"objective": "roas"}, {"budget": 50.0}, {"conversion_delay": 2_000}):
        assert compiled_route(policy, PLAIN.replace(**change)) is None


@pytest.mark.parametrize("name", ["lin_ucb", "lin_ts"])
@pytest.mark.parametrize("n_users", [2_000, 40_000])  # audience tables kept, or per chunk
def test_engine_results_do_not_depend_on_the_route(n_users, name, monkeypatch):
    config = ExperimentConfig(
        n_users=n_users, n_impressions=12_000, batch_size=500, n_seeds=1,
        policies=(name, "segment:ucb1"),
    )  # fmt: skip
    if n_users > 2_000:
        monkeypatch.setattr(engine, "_TABLE_CELLS", 1)  # forces per-chunk contexts and truth
    scenario = build_scenario(config)
    calls = []
    play = LinearRoute.play

    def spy(self, *args, **kwargs):
        calls.append(1)
        return play(self, *args, **kwargs)

    monkeypatch.setattr(LinearRoute, "play", spy)
    fast = engine.run_experiment(config, scenario=scenario, n_jobs=1)
    assert calls  # the route was taken
    original = engine.compiled_route
    monkeypatch.setattr(
        engine,
        "compiled_route",
        lambda policy, config: None if policy.name == name else original(policy, config),
    )
    slow = engine.run_experiment(config, scenario=scenario, n_jobs=1)
    np.testing.assert_array_equal(fast.allocation, slow.allocation)
    np.testing.assert_allclose(fast.series, slow.series, rtol=1e-12)
