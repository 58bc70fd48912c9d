import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

from simulation.ope.reward_model import fit_reward_model


def make_data(rng, n=600, d=2, n_arms=3):
    x = rng.normal(size=(n, d))
    a = rng.integers(0, n_arms, size=n)
    logits = x[:, 0] * np.array([1.5, 0.0, -1.5])[a] - 0.5
    r = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(float)
    return x, a, r


def test_shape_and_probability_range():
    rng = np.random.default_rng(0)
    x, a, r = make_data(rng)
    q = fit_reward_model(x, a, r, n_arms=3, rng=rng)
    assert q.shape == (600, 3)
    assert ((q >= 0) & (q <= 1)).all()


def test_learns_the_arm_by_context_interaction():
    rng = np.random.default_rng(1)
    x, a, r = make_data(rng, n=3000)
    q = fit_reward_model(x, a, r, n_arms=3, rng=rng)
    high_x = x[:, 0] > 1
    # Arm 0 pays for large x, arm 2 for small x.
    assert q[high_x, 0].mean() > q[high_x, 2].mean() + 0.3
    assert q[~high_x & (x[:, 0] < -1), 2].mean() > q[x[:, 0] < -1, 0].mean() + 0.3


def test_cross_fitting_never_predicts_a_row_it_was_fit_on():
    # A 1-nearest-neighbour regressor reproduces its training rewards exactly;
    # cross-fitted predictions of distinct continuous rewards therefore never
    # equal the row's own reward.
    rng = np.random.default_rng(2)
    n = 200
    x = rng.normal(size=(n, 2))
    a = rng.integers(0, 2, size=n)
    r = rng.normal(size=n)
    q = fit_reward_model(
        x, a, r, n_arms=2, rng=rng, model=KNeighborsRegressor(n_neighbors=1), n_folds=4
    )
    assert not np.isclose(q[np.arange(n), a], r).any()


def test_single_class_fold_falls_back_to_mean():
    rng = np.random.default_rng(3)
    n = 100
    x = rng.normal(size=(n, 2))
    a = np.repeat([0, 1], n // 2)
    r = np.where(a == 0, 1.0, 0.0)  # arm 0 always pays, arm 1 never: one class per arm
    q = fit_reward_model(x, a, r, n_arms=3, rng=rng)
    assert np.allclose(q[:, 0], 1.0) and np.allclose(q[:, 1], 0.0)
    # Arm 2 is never logged: the fold's overall training mean, near 0.5.
    assert np.all(np.abs(q[:, 2] - 0.5) < 0.1)


def test_regressor_for_continuous_rewards_and_no_features():
    rng = np.random.default_rng(4)
    n = 400
    a = rng.integers(0, 2, size=n)
    r = np.where(a == 0, 3.0, -1.0) + rng.normal(scale=0.1, size=n)
    q = fit_reward_model(np.empty((n, 0)), a, r, n_arms=2, rng=rng, model=Ridge())
    assert np.allclose(q[:, 0], 3.0, atol=0.1) and np.allclose(q[:, 1], -1.0, atol=0.1)


def test_joint_mode():
    rng = np.random.default_rng(5)
    x, a, r = make_data(rng, n=400)
    q = fit_reward_model(x, a, r, n_arms=3, rng=rng, mode="joint", n_folds=2)
    assert q.shape == (400, 3) and ((q >= 0) & (q <= 1)).all()


def test_same_seed_same_predictions():
    x, a, r = make_data(np.random.default_rng(6), n=200)
    one = fit_reward_model(x, a, r, n_arms=3, rng=np.random.default_rng(7), n_folds=2)
    two = fit_reward_model(x, a, r, n_arms=3, rng=np.random.default_rng(7), n_folds=2)
    assert np.array_equal(one, two)


X, A, R = make_data(np.random.default_rng(0), n=20)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(context=X[:, 0]), ValueError, r"`context` must be a 2-d array"),
        (dict(action=A[:5]), ValueError, r"`action` and `reward` must have shape \(20,\)"),
        (dict(action=A + 3), ValueError, r"`action` must hold integers in \[0, 3\)"),
        (dict(action=A.astype(float)), ValueError, r"`action` must hold integers"),
        (dict(mode="both"), ValueError, r"`mode` must be one of"),
        (dict(n_folds=1), ValueError, r"`n_folds` must be an int in \[2, n_rounds=20\]"),
        (dict(n_folds=21), ValueError, r"`n_folds` must be an int in \[2, n_rounds=20\]"),
        (dict(n_folds=2.0), TypeError, r"`n_folds` must be an int"),
        (dict(n_arms=0), ValueError, r"`n_arms` must be an int >= 1"),
        (dict(rng=1), TypeError, r"`rng` must be a numpy.random.Generator"),
    ],
)
def test_bad_inputs(kwargs, exc, match):
    args = dict(context=X, action=A, reward=R, n_arms=3, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(exc, match=match):
        fit_reward_model(args.pop("context"), args.pop("action"), args.pop("reward"), **args)


def test_fit_reward_model_is_cross_fits_predictions_and_refit_checks_its_weight():
    from simulation.ope.reward_model import cross_fit

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 2))
    a = rng.integers(0, 3, 300)
    r = (rng.random(300) < 0.3).astype(float)
    q = fit_reward_model(x, a, r, n_arms=3, rng=np.random.default_rng(4))
    model = cross_fit(x, a, r, n_arms=3, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(model.q, q)
    # One linearized fit per (fold, arm): 5 folds x 3 arms, each on rows of its arm.
    assert len(model.fits) == 15
    assert all((a[f.train] == f.arm).all() for f in model.fits)
    terms, slope = model.refit_terms(np.full((300, 3), 1 / 3))
    assert terms.shape == slope.shape == (300,) and abs(terms.mean()) < 1e-12
    with pytest.raises(ValueError, match=r"`weight` must have the shape of `q` \(300, 3\)"):
        model.refit_terms(np.ones((300, 2)))
