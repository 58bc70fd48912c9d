"""Every policy checks its inputs alike in select, action_probabilities and update."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.policies import POLICIES, make_policy
from simulation.policies.base import sample_from_probabilities
from simulation.policies.linear import LinTS

K, D = 3, 4
#: Every registered pool policy that can be built on its own, and a per-segment copy.
SPECS = [n for n, c in POLICIES.items() if not c.wraps_policies and not c.needs_truth]
SPECS += ["segment:lin_ucb"]


def _fitted(spec, n_features=D):
    return make_policy(spec, n_segments=2).reset(K, n_features)


def _calls(policy, x, rng):
    n = np.asarray(x).shape[0] if np.ndim(x) else 0
    return {
        "select": lambda: policy.select(x, rng),
        "action_probabilities": lambda: policy.action_probabilities(x, rng),
        "update": lambda: policy.update(x, np.zeros(n, dtype=int), np.zeros(n)),
    }


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", ["select", "action_probabilities", "update"])
def test_non_finite_contexts_are_refused_everywhere(spec, bad, method):
    policy = _fitted(spec)
    x = np.zeros((5, D))
    x[:, 0] = 1.0  # a valid one-hot segment for the per-segment copies
    x[3, 2] = bad
    with pytest.raises(ValueError, match=r"`contexts` must be finite; got .* at row 3, column 2"):
        _calls(policy, x, np.random.default_rng(0))[method]()


@pytest.mark.parametrize("spec", ["uniform", "epsilon_greedy", "ucb1", "thompson"])
@pytest.mark.parametrize("method", ["select", "action_probabilities", "update"])
def test_context_free_policies_take_the_width_they_were_reset_with_everywhere(spec, method):
    policy = _fitted(spec, n_features=0)
    with pytest.raises(ValueError, match=r"`contexts` must have shape \(n, 0\); got \(5, 2\)"):
        _calls(policy, np.zeros((5, 2)), np.random.default_rng(0))[method]()
    _calls(policy, np.zeros((5, 0)), np.random.default_rng(0))[method]()  # the right width


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)])
@pytest.mark.parametrize("method", ["select", "action_probabilities"])
def test_a_generator_is_required(spec, rng, method):
    policy = _fitted(spec)
    x = np.eye(5, D)
    with pytest.raises(TypeError, match=r"`rng` must be a numpy Generator"):
        _calls(policy, x, rng)[method]()


def test_per_segment_select_takes_a_list_of_lists():
    policy = _fitted("segment:thompson")
    rows = [[1.0, 0.0, 0.5, 0.5], [0.0, 1.0, 0.5, 0.5]]
    arms = policy.select(rows, np.random.default_rng(0))
    assert arms.shape == (2,)
    probs = policy.action_probabilities(rows, np.random.default_rng(0))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_contexts_that_are_not_numbers_are_a_type_error():
    with pytest.raises(TypeError, match=r"`contexts` must be a 2-D array of numbers"):
        _fitted("lin_ucb").select([["a", "b", "c", "d"]], np.random.default_rng(0))


def test_sample_from_probabilities_says_it_takes_rows_of_probabilities():
    rng = np.random.default_rng(0)
    arms = sample_from_probabilities(np.broadcast_to([0.2, 0.8], (6, 2)), rng)
    assert arms.shape == (6,) and set(arms) <= {0, 1}
    with pytest.raises(ValueError, match=r"`probs` must have shape \(n, n_arms\)"):
        sample_from_probabilities(np.array([0.2, 0.8]), rng)


def test_lin_ts_v_range_is_as_documented():
    LinTS(v=1e-9)  # the documented lower end, [1e-09, 100]
    with pytest.raises(ValueError, match=r"`v` must be a float in \[1e-09, 100"):
        LinTS(v=0.0)
