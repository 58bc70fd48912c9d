import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.prob_best import prob_best_beta

from simulation.policies.prob_best import prob_best_normal

params = st.lists(st.tuples(st.floats(0.5, 5_000), st.floats(0.5, 50_000)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(params)
def test_beta_probabilities_on_simplex(ab):
    a, b = np.array(ab).T
    p = prob_best_beta(a, b)
    assert p.shape == a.shape
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(), 1.0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(params, st.randoms(use_true_random=False))
def test_beta_permutation_equivariant(ab, random):
    a, b = np.array(ab).T
    perm = np.arange(a.size)
    random.shuffle(perm)
    np.testing.assert_allclose(
        prob_best_beta(a[perm], b[perm]), prob_best_beta(a, b)[perm], atol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1000), st.floats(1, 1000), st.floats(1.5, 10))
def test_beta_dominance(a, b, factor):
    # An arm with more successes and no more failures is at least as likely best.
    p = prob_best_beta(np.array([a, a * factor]), np.array([b, b]))
    assert p[1] >= p[0] - 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5, 5), st.floats(1e-4, 3)), min_size=1, max_size=10),
)
def test_normal_probabilities_on_simplex(ms):
    m, s = np.array(ms).T
    p = prob_best_normal(m, s)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(), 1.0, atol=1e-9)
