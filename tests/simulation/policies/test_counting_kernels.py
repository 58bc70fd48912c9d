"""The compiled context-free kernels against the numpy references and the policies' contract."""

from __future__ import annotations

import numpy as np
import pytest
from reference.prob_best import prob_best_beta

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.routes import CountingRoute, compiled_route
from simulation.policies import POLICIES, prob_best
from simulation.policies import context_free as cf
from simulation.scenario import build_scenario

kernels = cf.counting_kernels()


def test_constants_match_the_numpy_quadrature():
    assert kernels._TAIL == prob_best._TAIL
    assert kernels._GRID_BUDGET == prob_best._GRID_BUDGET
    assert kernels._MIN_POINTS == prob_best._MIN_POINTS
    np.testing.assert_array_equal(kernels._TAIL_Z, prob_best._TAIL_Z)


def _posteriors(rng: np.random.Generator, n_cases: int):
    """Random Beta posteriors: few to a million pulls, CTRs 0.1 % to 90 %, some a < 1."""
    for case in range(n_cases):
        k = int(rng.integers(1, 25))
        pulls = rng.integers(0, 10 ** int(rng.integers(0, 7)), size=k)
        clicks = rng.binomial(pulls, rng.uniform(0.001, 0.9, size=k))
        a = 1.0 + clicks
        b = 1.0 + pulls - clicks
        if case % 5 == 0:
            a = a * 0.3  # unbounded density at 0: the exact-CDF branch
        yield a, b


def test_beta_prob_best_matches_prob_best_beta():
    # Same grid and same arithmetic; only summation order differs (1e-13 seen).
    rng = np.random.default_rng(20261122)
    for a, b in _posteriors(rng, 400):
        ref = prob_best_beta(a, b)
        out = np.empty(a.size)
        kernels.beta_prob_best(a, b, out)
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10)
        assert out.sum() == pytest.approx(1.0, abs=1e-12)


def test_beta_prob_best_single_contender_and_single_arm():
    out = np.empty(3)
    kernels.beta_prob_best(np.array([1e5, 10.0, 1.0]), np.array([1.0, 1e5, 1e5]), out)
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0])
    one = np.empty(1)
    kernels.beta_prob_best(np.array([2.0]), np.array([3.0]), one)
    np.testing.assert_array_equal(one, [1.0])


@pytest.mark.parametrize("name", ["uniform", "epsilon_greedy", "ucb1", "thompson"])
def test_play_counting_is_select_then_update(name):
    """Whole batches in the kernel = the policy's select and update, batch by batch."""
    k, n_batches, batch = 6, 40, 500
    rng = np.random.default_rng(7)
    ctr = rng.uniform(0.01, 0.2, size=(50, k))
    keys = rng.integers(0, 50, size=n_batches * batch)
    click_u = rng.random(n_batches * batch)
    offsets = np.arange(n_batches + 1, dtype=np.int64) * batch

    fast = POLICIES[name]().reset(k)
    route = compiled_route(fast, ExperimentConfig(n_impressions=20_000, batch_size=batch))
    assert route is not None
    shown = route.play(fast, offsets, keys, ctr.ravel(), click_u, np.random.default_rng(3))

    # The reference: the policy's own select and update, batch by batch.
    slow = POLICIES[name]().reset(k)
    policy_rng = np.random.default_rng(3)
    expected = np.empty_like(shown)
    for j in range(n_batches):
        rows = slice(j * batch, (j + 1) * batch)
        arms = slow.select(np.empty((batch, 0)), policy_rng)
        expected[rows] = arms
        slow.update(np.empty((batch, 0)), arms, (click_u[rows] < ctr[keys[rows], arms]) * 1.0)
    np.testing.assert_array_equal(shown, expected)
    np.testing.assert_array_equal(fast.pulls_, slow.pulls_)
    np.testing.assert_array_equal(fast.reward_sum_, slow.reward_sum_)


@pytest.mark.parametrize(
    "change",
    [
        {"objective": "roas"},
        {"budget": 50.0},
        {"conversion_delay": 2_000},
        {"batch_size": 100},  # Thompson draws Beta variates for small batches
    ],
)
def test_no_route_outside_the_plain_case(change):
    base = {"n_impressions": 20_000, "batch_size": 1_000}
    config = ExperimentConfig(**{**base, **change})
    policy = POLICIES["thompson"]().reset(5)
    assert compiled_route(policy, config) is None
    if "batch_size" in change:
        assert compiled_route(POLICIES["ucb1"]().reset(5), config) is not None


def test_engine_results_do_not_depend_on_the_route(monkeypatch):
    config = ExperimentConfig(
        n_users=2_000,
        n_impressions=30_000,
        batch_size=500,
        n_seeds=2,
        policies=("uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb"),
    )
    scenario = build_scenario(config)
    calls = []
    play = CountingRoute.play

    def spy(self, *args, **kwargs):
        calls.append(self.code)
        return play(self, *args, **kwargs)

    monkeypatch.setattr(CountingRoute, "play", spy)
    fast = run_experiment(config, scenario=scenario, n_jobs=1)
    assert sorted(set(calls)) == sorted(kernels.POLICY_CODES.values())  # the route was taken
    # No counting route: every policy plays batch by batch through select and update.
    monkeypatch.setattr("simulation.engine.routes.counting_kernels", lambda: None)
    slow = run_experiment(config, scenario=scenario, n_jobs=1)
    np.testing.assert_array_equal(fast.allocation, slow.allocation)
    np.testing.assert_allclose(fast.series, slow.series, rtol=1e-12)
    np.testing.assert_allclose(fast.segment_stats, slow.segment_stats, rtol=1e-12)


@pytest.mark.parametrize("pricing", ["cpm", "cpc"])
def test_fused_totals_match_gathered_totals(pricing):
    """The engine's fused tally = explicit gathers + ResponseModel.outcomes + batch_totals."""
    from simulation.engine import core as engine
    from simulation.engine.tally import fused_totals

    config = ExperimentConfig(n_users=2_000, pricing=pricing, objective="roas")
    scenario = build_scenario(config)
    truth = engine._chunk_truth(scenario, "user", np.arange(2_000), "roas")
    rng = np.random.default_rng(11)
    n, k, n_batches = 5_000, truth.n_arms, 7
    keys = rng.integers(0, 2_000, size=n)
    shown = rng.integers(0, k, size=n)
    segs = scenario.segmentation.labels[keys].astype(np.int64)
    batch = np.sort(rng.integers(0, n_batches, size=n))
    uniforms = rng.random((3, n))
    n_cells = scenario.segmentation.n_segments * k
    fused = fused_totals(
        shown, keys, segs, batch, uniforms,
        (truth.ctr, truth.cvr, truth.value, truth.cost, truth.reward, truth.best),
        scenario.response.params.cpc if pricing == "cpc" else None, n_batches, k, n_cells // k,
    )  # fmt: skip
    ref = engine._gathered_totals(
        scenario, truth, keys, uniforms, shown, segs, batch, n_batches, n_cells
    )
    assert ref[0][:, 1].sum() > 0 and ref[0][:, 4].sum() > 0  # clicks and revenue were realized
    for got, want in zip(fused, ref):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_fused_totals_skip_rows_a_budget_left_unserved():
    """Rows with arm -1 add nothing: the same totals as the served rows alone."""
    from simulation.engine import core as engine
    from simulation.engine.tally import fused_totals

    config = ExperimentConfig(n_users=2_000)
    scenario = build_scenario(config)
    truth = engine._chunk_truth(scenario, "segment", np.arange(2_000), "ctr")
    rng = np.random.default_rng(3)
    n, k = 4_000, truth.n_arms
    keys = rng.integers(0, 2_000, size=n)
    shown = rng.integers(0, k, size=n)
    shown[rng.random(n) < 0.3] = -1
    segs = scenario.segmentation.labels[keys].astype(np.int64)
    batch = np.sort(rng.integers(0, 4, size=n))
    uniforms = rng.random((3, n))
    n_cells = scenario.segmentation.n_segments * k
    tables = (truth.ctr, truth.cvr, truth.value, truth.cost, truth.reward, truth.best)
    got = fused_totals(shown, keys, segs, batch, uniforms, tables, None, 4, k, n_cells // k)
    ref = engine._gathered_totals(scenario, truth, keys, uniforms, shown, segs, batch, 4, n_cells)
    assert got[0][:, 0].sum() == (shown >= 0).sum()
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_one_numbering_and_one_warm_up_registry():
    from simulation import compiled

    assert kernels.POLICY_CODES == {
        "uniform": compiled.KernelCode.UNIFORM,
        "epsilon_greedy": compiled.KernelCode.EPSILON_GREEDY,
        "ucb1": compiled.KernelCode.UCB1,
        "thompson": compiled.KernelCode.THOMPSON,
    }
    compiled.warm_up_all()  # loads (cached) and is idempotent
    assert compiled.warm_up.cache_info().currsize >= len(compiled.WARM_UPS)
    with pytest.raises(ValueError, match="`name` must be one of"):
        compiled.warm_up("gpu")
