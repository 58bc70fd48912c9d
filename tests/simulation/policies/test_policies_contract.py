"""One contract test over every registered policy (STYLE.md convention 4)."""

import numpy as np
import pytest

from simulation.policies import POLICIES, Policy
from simulation.policies.base import MAX_ARMS, MAX_FEATURES

K, D, N, S = 4, 8, 64, 3


def _make(name: str) -> Policy:
    if name == "per_segment":
        return POLICIES[name](base="thompson", n_segments=S)
    return POLICIES[name]()


def _contexts(rng: np.random.Generator, n: int = N) -> np.ndarray:
    x = rng.random((n, D))
    x[:, :S] = 0.0
    x[np.arange(n), rng.integers(0, S, n)] = 1.0
    return x


def _play(policy: Policy, rng: np.random.Generator, rounds: int = 5) -> list[np.ndarray]:
    data_rng = np.random.default_rng(7)
    out = []
    for _ in range(rounds):
        x = _contexts(data_rng)
        if policy.uses_ground_truth:
            policy.set_ground_truth(data_rng.random((N, K)))
        arms = policy.select(x, rng)
        out.append(arms)
        policy.update(x, arms, (data_rng.random(N) < 0.3 + 0.1 * arms).astype(float))
    return out


def _arm_state(policy: Policy) -> list[np.ndarray]:
    """Learned arrays with a leading arm axis (recursing into per-segment copies)."""
    arrays = []
    for name in dir(policy):
        if name.endswith("_") and not name.startswith("_"):
            value = getattr(policy, name)
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == K:
                arrays.append(value.copy())
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, Policy):
                        arrays.extend(_arm_state(item))
    return arrays


@pytest.fixture(params=sorted(POLICIES))
def name(request) -> str:
    return request.param


def test_shapes_ranges_and_simplex(name):
    rng = np.random.default_rng(0)
    policy = _make(name).reset(n_arms=K, n_features=D)
    _play(policy, rng)
    x = _contexts(rng)
    if policy.uses_ground_truth:
        policy.set_ground_truth(rng.random((N, K)))
    arms = policy.select(x, rng)
    assert arms.shape == (N,)
    assert np.issubdtype(arms.dtype, np.integer)
    assert arms.min() >= 0 and arms.max() < K
    probs = policy.action_probabilities(x, rng)
    assert probs.shape == (N, K)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)


def test_single_decision_is_exact_sequential_play(name):
    rng = np.random.default_rng(1)
    policy = _make(name).reset(n_arms=K, n_features=D)
    x = _contexts(rng, 1)
    if policy.uses_ground_truth:
        policy.set_ground_truth(rng.random((1, K)))
    assert policy.select(x, rng).shape == (1,)


def test_same_seed_same_trajectory(name):
    a = _play(_make(name).reset(K, D), np.random.default_rng(3))
    b = _play(_make(name).reset(K, D), np.random.default_rng(3))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_forget_resets_only_named_arms(name):
    policy = _make(name).reset(K, D)
    fresh = _arm_state(_make(name).reset(K, D))
    _play(policy, np.random.default_rng(4), rounds=8)
    before = _arm_state(policy)
    policy.forget(np.array([1]))
    after = _arm_state(policy)
    for f, b, a in zip(fresh, before, after):
        np.testing.assert_allclose(a[1], f[1])
        np.testing.assert_allclose(np.delete(a, 1, axis=0), np.delete(b, 1, axis=0))


def test_forget_rejects_out_of_range_arms(name):
    policy = _make(name).reset(K, D)
    with pytest.raises(ValueError, match="`arms` must be in"):
        policy.forget(np.array([K]))


def test_update_validates_shapes(name):
    policy = _make(name).reset(K, D)
    x = _contexts(np.random.default_rng(0), 4)
    with pytest.raises(ValueError, match="must have shape"):
        policy.update(x, np.zeros(3, dtype=int), np.zeros(4))
    with pytest.raises(ValueError, match="`arms` must be in"):
        policy.update(x, np.full(4, K), np.zeros(4))


def test_update_refuses_fractional_arms_and_non_finite_rewards(name):
    # 1.7 would silently be arm 1, and one NaN poisons every estimate after it.
    policy = _make(name).reset(K, D)
    x = _contexts(np.random.default_rng(0), 4)
    with pytest.raises(ValueError, match="`arms` must be whole numbers"):
        policy.update(x, np.array([0, 1, 1.7, 2]), np.zeros(4))
    with pytest.raises(ValueError, match="`rewards` must be finite"):
        policy.update(x, np.zeros(4, dtype=int), np.array([0.0, np.nan, 1.0, 0.0]))
    with pytest.raises(ValueError, match="`arms` must be whole numbers"):
        policy.forget(np.array([1.5]))


def test_a_unit_reward_policy_refuses_rewards_outside_zero_one(name):
    policy = _make(name).reset(K, D)
    x = _contexts(np.random.default_rng(0), 4)
    dollars = np.array([0.0, 36.8, -0.016, 1.0])
    if policy.unit_rewards:
        with pytest.raises(ValueError, match=r"learns rewards in \[0, 1\]"):
            policy.update(x, np.zeros(4, dtype=int), dollars)
    else:  # value learners take dollars
        policy.update(x, np.zeros(4, dtype=int), dollars)


def test_select_before_reset_says_so(name):
    x = _contexts(np.random.default_rng(0), 4)
    with pytest.raises(RuntimeError, match="must be reset"):
        _make(name).select(x, np.random.default_rng(0))


def test_reset_validates_sizes(name):
    # Bounded above too: reset(10**12) was a 7.28 TiB MemoryError, not a refusal.
    for n_arms in (0, True, MAX_ARMS + 1, 10**12):
        with pytest.raises(ValueError) as caught:
            _make(name).reset(n_arms, D)
        assert str(caught.value) == f"`n_arms` must be an int in [1, 1,000]; got {n_arms!r}."
    with pytest.raises(ValueError) as caught:
        _make(name).reset(2, MAX_FEATURES + 1)
    assert str(caught.value) == "`n_features` must be an int in [0, 1,024]; got 1025."


def test_the_bounds_hold_every_log_a_reader_accepts():
    # OPE trains a policy on a log: any log its reader accepts must fit a policy,
    # the segment column a rule reads included, and a linear policy's matrices too.
    from simulation.ope.limits import MAX_ARMS as LOG_ARMS
    from simulation.ope.limits import MAX_CONTEXT_FEATURES
    from simulation.policies.linear import MAX_LINEAR_CELLS

    assert MAX_ARMS >= LOG_ARMS
    assert MAX_FEATURES >= MAX_CONTEXT_FEATURES + 1
    assert LOG_ARMS * (MAX_CONTEXT_FEATURES + 1) ** 2 <= MAX_LINEAR_CELLS


@pytest.mark.parametrize("linear", ["lin_ucb", "lin_ts"])
def test_a_linear_policy_refuses_matrices_it_cannot_hold(linear):
    # Two (n_arms, d, d) matrices: refused before they are allocated.
    with pytest.raises(ValueError) as caught:
        _make(linear).reset(1_000, 300)
    assert str(caught.value).endswith(
        "keeps a 300 x 300 matrix per arm: 1,000 arms x 300² features is 90,000,000 cells, "
        "more than 67,108,864; use fewer arms or features."
    )


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("epsilon_greedy", {"epsilon": 1.5}, r"`epsilon` must be a float in \[0.0, 1.0\]"),
        ("epsilon_greedy", {"epsilon": -0.1}, "`epsilon` must be"),
        ("ucb1", {"alpha": -1.0}, "`alpha` must be"),
        ("thompson", {"prior_alpha": 0.0}, "`prior_alpha` must be"),
        ("thompson_value", {"prior_variance": 0.0}, "`prior_variance` must be"),
        ("lin_ucb", {"ridge": 0.0}, "`ridge` must be"),
        ("lin_ts", {"propensity_draws": 0}, "`propensity_draws` must be"),
        ("per_segment", {"base": "oracle"}, "`base` must be one of"),
        ("per_segment", {"n_segments": 0}, "`n_segments` must be"),
    ],
)
def test_bad_hyperparameters(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        POLICIES[name](**kwargs)


def test_typo_in_hyperparameter_is_an_error():
    with pytest.raises(TypeError):
        POLICIES["epsilon_greedy"](epsilonn=0.2)


def test_linear_policies_need_features():
    with pytest.raises(ValueError, match="needs n_features >= 1"):
        POLICIES["lin_ucb"]().reset(3, 0)
