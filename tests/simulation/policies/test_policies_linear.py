"""The linear policies: state against its definition, compiled kernels against numpy, ties, laws."""

import numpy as np
import pytest
from reference import linear as reference
from scipy.stats import norm

from simulation.policies import POLICIES
from simulation.policies.linear import TIE_TOLERANCE
from simulation.policies.linear import _kernels as compiled_kernels

#: The policies run on the compiled kernels, and on the numpy references of the tests.
BACKENDS = ["numpy", "numba"]


def _kernels(backend: str = "numba"):
    return reference.KERNELS if backend == "numpy" else compiled_kernels()


def _trained(name, rng, *, n_arms=6, n_features=5, n_rows=400, backend="auto", **kw):
    """A policy after two batches with random arms and rewards, plus the data it saw."""
    policy = POLICIES[name](**kw).reset(n_arms, n_features)
    policy._backend = _kernels(backend)
    x = rng.standard_normal((n_rows, n_features))
    arms = rng.integers(0, n_arms, n_rows)
    rewards = rng.random(n_rows)
    half = n_rows // 2
    policy.update(x[:half], arms[:half], rewards[:half])
    policy.update(x[half:], arms[half:], rewards[half:])
    return policy, x, arms, rewards


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("n_arms", "n_features"), [(1, 1), (6, 5), (40, 30)])
def test_state_is_the_ridge_regression(backend, n_arms, n_features, rng):
    ridge = 0.5
    policy, x, arms, rewards = _trained(
        "lin_ucb", rng, n_arms=n_arms, n_features=n_features, ridge=ridge, backend=backend
    )
    for k in range(n_arms):
        xk, rk = x[arms == k], rewards[arms == k]
        A = ridge * np.eye(n_features) + xk.T @ xk
        np.testing.assert_allclose(policy.A_[k], A, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(policy.A_inv_[k], np.linalg.inv(A), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(policy.theta_[k], np.linalg.solve(A, xk.T @ rk), atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_rows", [0, 1, 63, 64, 65, 1000])
def test_mean_and_width_match_the_definition(backend, n_rows, rng):
    policy, *_ = _trained("lin_ucb", rng, n_arms=7, n_features=9, backend=backend)
    x = rng.standard_normal((n_rows, 9))
    mean, width = policy._mean_and_width(x)
    assert mean.shape == width.shape == (n_rows, 7)
    np.testing.assert_allclose(mean, x @ policy.theta_.T, rtol=1e-12, atol=1e-12)
    exact = np.sqrt(np.einsum("nd,kde,ne->nk", x, policy.A_inv_, x))
    # The quadratic form is a float32 GEMM (see the module docstring): relative
    # error about 1e-6, far below anything that matters to a decision.
    np.testing.assert_allclose(width, exact, rtol=2e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_width_stays_accurate_with_collinear_contexts_and_many_rows(backend, rng):
    # Two one-hot groups (segment and age band, as in the app) make A nearly
    # singular along their difference: the float32 quadratic form then loses
    # relative accuracy in proportion to the rows per arm (module docstring).
    n_arms, n = 6, 120_000

    def contexts(size):
        x = np.zeros((size, 20))
        x[np.arange(size), rng.integers(0, 6, size)] = 1.0
        x[np.arange(size), 6 + rng.integers(0, 5, size)] = 1.0
        x[:, 11:] = rng.random((size, 9)) < 0.3
        return x

    policy = POLICIES["lin_ucb"]().reset(n_arms, 20)
    policy._backend = _kernels(backend)
    for _ in range(n // 10_000):
        policy.update(contexts(10_000), rng.integers(0, n_arms, 10_000), rng.random(10_000))
    x = contexts(2_000)
    _, width = policy._mean_and_width(x)
    exact = np.sqrt(np.einsum("nd,kde,ne->nk", x, policy.A_inv_, x))
    np.testing.assert_allclose(width, exact, rtol=1e-4)
    assert np.abs(width - exact).max() < 1e-6


def test_compiled_kernels_match_numpy(rng):
    compiled, ref_kernels = _kernels("numba"), _kernels("numpy")
    n_arms, d, n = 9, 12, 300
    m = d * (d + 1) // 2
    x = rng.standard_normal((n, d))
    arms = rng.integers(0, n_arms - 1, n)  # the last arm gets no rows
    rewards = rng.random(n)
    states = []
    for kernels in (compiled, ref_kernels):
        A = np.broadcast_to(np.eye(d), (n_arms, d, d)).copy()
        b = np.zeros((n_arms, d))
        touched = np.zeros(n_arms, dtype=bool)
        kernels.accumulate(x, arms, rewards, A, b, touched)
        A_inv, theta = np.zeros_like(A), np.zeros_like(b)
        packed = np.zeros((n_arms, m), np.float32)
        failed = np.zeros(n_arms, dtype=bool)
        kernels.refresh(A, b, touched, A_inv, theta, packed, failed)
        # Arms 2 and 5 in one state (arm 5 a copy of arm 2): 5 is 2's alias.
        A_inv[5], theta[5], packed[5] = A_inv[2], theta[2], packed[2]
        alias = np.empty(n_arms, dtype=np.int64)
        kernels.alias(packed, theta, alias)
        mean, quad = np.empty((n_arms, n)), np.empty((n_arms, n))
        no_arms = np.empty(0, dtype=np.int64)
        kernels.score(
            x, packed, theta, alias, 0.0, np.empty((0, 0)), np.empty(0), no_arms, mean, quad
        )
        np.testing.assert_array_equal(alias, [0, 1, 2, 3, 4, 2, 6, 7, 8])
        np.testing.assert_array_equal(mean[5], mean[2])
        np.testing.assert_array_equal(quad[5], quad[2])
        states.append((A, b, touched, A_inv, theta, packed, failed, mean, quad))
    for i, (got, want) in enumerate(zip(*states)):
        if got.dtype == bool:
            np.testing.assert_array_equal(got, want)
        else:
            # The packed inverse and the quadratic form are float32 quantities.
            float32 = got.dtype == np.float32 or i == len(states[0]) - 1
            np.testing.assert_allclose(got, want, rtol=1e-5 if float32 else 1e-9)
    assert not states[0][2][-1] and not states[0][6].any()


@pytest.mark.parametrize("noisy", [False, True])
def test_compiled_pick_matches_numpy_including_ties(noisy, rng):
    # One-hot rows make mean = theta[k, j] and quad = A_inv[k, j, j] exactly;
    # coarse values then give many exact ties and, on arm 1, near ties
    # (closer than TIE_TOLERANCE).
    n_arms, d, n = 5, 4, 3000
    j, jj = np.triu_indices(d)
    theta = rng.integers(0, 3, (n_arms, d)) / 2.0
    packed = np.where(j == jj, rng.integers(0, 2, (n_arms, j.size)), 0).astype(np.float32)
    # On feature 0, arms 1 and 2 lead every other arm and tie (zero width, so
    # even with noise), arm 1 only nearly.
    theta[1:3, 0] = 2.0
    theta[1, 0] += TIE_TOLERANCE / 3
    packed[1:3, 0] = 0.0
    x = np.eye(d)[rng.integers(0, d, n)]
    noise = rng.standard_normal((n_arms, n)) if noisy else np.empty((0, 0))
    u = rng.random(n)
    picks = []
    for backend in ("numba", "numpy"):
        out = np.empty(n, dtype=np.int64)
        none = np.empty((0, 0))
        alias = np.arange(n_arms)
        _kernels(backend).score(x, packed, theta, alias, 0.7, noise, u, out, none, none)
        picks.append(out)
    np.testing.assert_array_equal(picks[0], picks[1])
    assert {1, 2} <= set(picks[0][x[:, 0] == 1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["lin_ucb", "lin_ts"])
def test_ties_are_broken_uniformly(backend, name, rng):
    # Zero contexts give every arm the same score (the prior mean, zero width).
    n_arms, n = 5, 50_000
    policy = POLICIES[name]().reset(n_arms, 3)
    policy._backend = _kernels(backend)
    policy.update(rng.standard_normal((100, 3)), rng.integers(0, n_arms, 100), rng.random(100))
    freq = np.bincount(policy.select(np.zeros((n, 3)), rng), minlength=n_arms) / n
    se = np.sqrt(0.2 * 0.8 / n)
    np.testing.assert_allclose(freq, 0.2, atol=5 * se)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("n_arms", "n_features", "pair"), [(4, 3, [1, 3]), (37, 30, [2, 35])])
def test_lin_ucb_splits_evenly_between_arms_in_identical_states(
    backend, n_arms, n_features, pair, rng
):
    # Two arms are forgotten (back to the prior) while the others learn that
    # they pay nothing on average (rewards of +-0.01: the bonus scales with the
    # rewards' spread, so it must not be zero): the two identical prior arms
    # must share the rows evenly
    # (their float32 quadratic forms must come out bit-identical wherever the
    # GEMM puts them), and action_probabilities must say so.
    policy = POLICIES["lin_ucb"]().reset(n_arms, n_features)
    policy._backend = _kernels(backend)
    x = np.abs(rng.standard_normal((100 * n_arms, n_features)))
    rewards = rng.choice([-0.01, 0.01], size=100 * n_arms)
    policy.update(x, np.tile(np.arange(n_arms), 100), rewards)
    policy.forget(np.array(pair))
    rows = np.abs(rng.standard_normal((40_000, n_features)))
    arms = policy.select(rows, rng)
    assert set(np.unique(arms)) == set(pair)
    share = (arms == pair[0]).mean()
    assert abs(share - 0.5) < 5 * np.sqrt(0.25 / arms.size)
    probs = policy.action_probabilities(rows[:100], rng)
    np.testing.assert_allclose(probs[:, pair], 0.5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lin_ts_draws_independently_across_arms(backend, rng):
    # With one context repeated, arm 0 beats arm 1 with probability
    # Phi((m0 - m1) / (v sqrt(w0^2 + w1^2))) only if the two draws are
    # independent (a shared normal, as in MABWiser 2.7.4, gives another law).
    v = 0.25
    policy = POLICIES["lin_ts"](v=v).reset(2, 2)
    policy._backend = _kernels(backend)
    policy.A_[:] = [np.diag([2.0, 3.0]), np.diag([5.0, 1.0])]
    policy.b_[:] = [[0.3, 0.1], [0.2, 0.4]]
    policy._refresh(np.array([True, True]))
    x = np.ones((1, 2))
    mean, width = policy._mean_and_width(x)
    exact = norm.cdf((mean[0, 0] - mean[0, 1]) / (v * np.hypot(width[0, 0], width[0, 1])))
    assert 0.2 < exact < 0.3  # informative; a shared normal would give about 1e-8
    n = 100_000
    share = (policy.select(np.repeat(x, n, axis=0), rng) == 0).mean()
    assert abs(share - exact) < 5 * np.sqrt(exact * (1 - exact) / n) + 1e-4


def test_refresh_falls_back_when_cholesky_fails():
    # An indefinite A (not reachable through update with ridge > 0) has no
    # Cholesky factor; the general inverse takes over for that arm.
    policy = POLICIES["lin_ucb"]().reset(3, 2)
    policy.A_[1] = np.array([[1.0, 2.0], [2.0, 1.0]])
    policy.b_[1] = [1.0, 0.0]
    policy._refresh(np.array([False, True, False]))
    np.testing.assert_allclose(policy.A_inv_[1], np.linalg.inv(policy.A_[1]))
    np.testing.assert_allclose(policy.theta_[1], np.linalg.solve(policy.A_[1], [1.0, 0.0]))
    np.testing.assert_allclose(policy.A_inv_[0], np.eye(2))


@pytest.mark.parametrize("name", ["lin_ucb", "lin_ts"])
def test_same_decisions_for_contiguous_and_strided_inputs(name, rng):
    policy, *_ = _trained(name, rng)
    x = rng.standard_normal((50, 10))[:, ::2]  # a non-contiguous view
    a = policy.select(x, np.random.default_rng(1))
    b = policy.select(np.ascontiguousarray(x), np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
