"""mvt_ts's component effects over the valid compositions: the truth's definition."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.generated import ComponentSpace, MvtThompson
from simulation.generated.effects import center_by_axis, contrast_matrix, valid_contrasts
from simulation.generated.model import design, n_params
from simulation.generated.space import hill48_space
from simulation.generated.valid_mix import valid_feature_means, valid_level_counts, valid_mix

#: Fixed scales (the references assume a zero-mean prior of known variance).
FIXED_PRIOR = {"prior_var": 1.0, "prior_var_user": 0.25, "prior_var_pair": 0.25}


def _constrained_space() -> ComponentSpace:
    """Four axes (3, 2, 4, 3 levels), five forbidden pairs, one level never valid (c1)."""
    n_levels = (3, 2, 4, 3)
    total = sum(n_levels)
    pair_mask = np.ones((total, total), bool)
    # Flat levels: a 0-2, b 3-4, c 5-8, d 9-11.
    for i, j in ((0, 4), (2, 5), (3, 8), (7, 11), (1, 10)):
        pair_mask[i, j] = pair_mask[j, i] = False
    level_mask = np.ones(total, bool)
    level_mask[6] = False
    return ComponentSpace(
        axis_names=tuple("abcd"), n_levels=n_levels, level_mask=level_mask, pair_mask=pair_mask
    )


def _random_space(seed: int) -> ComponentSpace:
    rng = np.random.default_rng(seed)
    n_levels = (3, 2, 4, 3, 2)
    total = sum(n_levels)
    pair = rng.random((total, total)) > 0.1
    return ComponentSpace(
        axis_names=tuple("abcde"), n_levels=n_levels, level_mask=rng.random(total) > 0.05,
        pair_mask=pair & pair.T,
    )  # fmt: skip


def _tied(space: ComponentSpace, d: int) -> np.ndarray:
    # One shared weight: user feature 0 x every level of axis 2, scaled by the level index.
    pattern = np.zeros((1, d, space.n_levels_total))
    lo, hi = space.offsets[2], space.offsets[3]
    pattern[0, 0, lo:hi] = np.arange(hi - lo, dtype=float)
    return pattern


def _brute_rows(space: ComponentSpace, policy: MvtThompson, x: np.ndarray) -> np.ndarray:
    """Each level's effect row by enumeration (NaN where no valid composition has it).

    The mean design row over the level's valid compositions minus that over all valid ones.
    """
    valid = space.enumerate_valid()
    z = policy._design(np.repeat(x[None], len(valid), axis=0), valid)
    flat = space.flat(valid)
    rows = np.full((space.n_levels_total, z.shape[1]), np.nan)
    for m in range(space.n_levels_total):
        with_m = (flat == m).any(axis=1)
        if with_m.any():
            rows[m] = z[with_m].mean(axis=0) - z.mean(axis=0)
    return rows


@pytest.mark.parametrize("seed", range(4))
def test_valid_feature_means_are_the_enumerated_means(seed):
    space = _random_space(seed)
    valid = space.enumerate_valid()
    assert 0 < len(valid) < space.n_raw  # the constraints bite
    levels, pairs = valid_feature_means(space)
    main, pair = space.encode(valid), space.encode_pairs(valid)
    for m in range(space.n_levels_total):
        with_m = main[:, m] == 1
        if not with_m.any():
            assert np.isnan(levels[m]).all() and np.isnan(pairs[m]).all()
            continue
        np.testing.assert_allclose(levels[m], main[with_m].mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(pairs[m], pair[with_m].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(levels[-1], main.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(pairs[-1], pair.mean(axis=0), atol=1e-12)
    np.testing.assert_array_equal(valid_level_counts(space), main.sum(axis=0))


@pytest.mark.parametrize("covariance", ["full", "diagonal"])
def test_effects_equal_brute_force_over_the_valid_compositions(covariance):
    space, d = _constrained_space(), 2
    rng = np.random.default_rng(1)
    policy = MvtThompson(
        covariance=covariance, noise_var=0.25, tied=_tied(space, d), **FIXED_PRIOR
    ).reset(space, d)
    valid = space.enumerate_valid()
    x = rng.normal(size=(600, d))
    policy.update(x, valid[rng.integers(0, len(valid), 600)], rng.normal(size=600))
    at = np.array([0.7, -1.1])
    est, sd = policy.component_effects(at)
    a = _brute_rows(space, policy, at)
    served = np.isfinite(a).all(axis=1)
    assert not served[6] and served.sum() == space.n_levels_total - 1
    cov = policy.covariance_
    np.testing.assert_allclose(est[served], a[served] @ policy.posterior_mean_, atol=1e-10)
    expected_sd = np.sqrt(np.einsum("mp,pq,mq->m", a[served], cov, a[served]))
    np.testing.assert_allclose(sd[served], expected_sd, rtol=1e-8)
    # A level no valid composition uses has no effect, not an invented one.
    assert np.isnan(est[6]) and np.isnan(sd[6])
    # Each composition counts once: weighted by the share of valid compositions
    # with each level, an axis's effects add up to zero.
    share = valid_level_counts(space) / len(valid)
    sums = np.add.reduceat(np.nan_to_num(share * est), space.offsets[:-1])
    np.testing.assert_allclose(sums, 0.0, atol=1e-10)


def _unconstrained_rows(space: ComponentSpace, d: int, x: np.ndarray) -> np.ndarray:
    """The estimate's definition before 2026-12-05, as it was computed.

    Every other axis uniform and independent, each level's row centred on the plain
    mean of its axis's.
    """
    total = space.n_levels_total
    raw = np.zeros((total, n_params(space, d)))
    raw[:, :total] = np.eye(total)
    for f in range(d):
        raw[:, total * (1 + f) : total * (2 + f)] = x[f] * np.eye(total)
    m, l_ = np.nonzero(space.pair_index >= 0)
    weight = 1.0 / np.asarray(space.n_levels, dtype=np.float64)[space.axis_of[l_]]
    np.add.at(raw, (m, total * (1 + d) + space.pair_index[m, l_]), weight)
    return center_by_axis(space, raw.T).T


def test_on_a_space_without_constraints_the_estimate_is_the_earlier_one():
    space, d = hill48_space(), 3
    x = np.array([0.5, -2.0, 1.5])
    np.testing.assert_allclose(
        contrast_matrix(space, d, x), _unconstrained_rows(space, d, x), atol=1e-12
    )
    # With a tied pattern too, through the policy's posterior.
    rng = np.random.default_rng(2)
    policy = MvtThompson(
        covariance="full", noise_var=0.25, tied=_tied(space, d), **FIXED_PRIOR
    ).reset(space, d)
    ctx = rng.normal(size=(300, d))
    combos = space.enumerate_valid()[rng.integers(0, 48, 300)]
    policy.update(ctx, combos, rng.normal(size=300))
    est, _ = policy.component_effects(x)
    tied = np.einsum("d,kdt->tk", x, policy.tied_)
    old = np.concatenate([_unconstrained_rows(space, d, x), center_by_axis(space, tied.T).T], 1)
    np.testing.assert_allclose(est, old @ policy.posterior_mean_, atol=1e-12)


def test_a_learner_taught_the_true_weights_reports_the_true_effects():
    # The truth computed as the engine computes the world's (valid_mix's cells over
    # the valid compositions, shares of each level's compositions in each cell), of
    # a linear truth; the learner fed that truth's noise-free rewards on valid
    # compositions. Its posterior mean need not be the truth's weights (one-hot main
    # effects are not identified), but every effect is: estimate and truth coincide.
    space, d = _constrained_space(), 1
    rng = np.random.default_rng(4)
    theta = rng.normal(size=n_params(space, d))
    x_user = np.array([0.8])
    valid = space.enumerate_valid()
    cells, weights = valid_mix(space, range(space.n_axes))
    reward = design(space, np.repeat(x_user[None], len(cells), 0), cells) @ theta
    counts = weights[space.axis_of == 0].sum(axis=0)
    rows = np.vstack([weights, counts[None]])
    with np.errstate(invalid="ignore", divide="ignore"):
        by_level = (rows / rows.sum(axis=1, keepdims=True)) @ reward
    truth = by_level[:-1] - by_level[-1]
    policy = MvtThompson(covariance="full", noise_var=1e-6, **FIXED_PRIOR).reset(space, d)
    n = 20_000
    ctx = rng.normal(size=(n, d))
    combos = valid[rng.integers(0, len(valid), n)]
    policy.update(ctx, combos, design(space, ctx, combos) @ theta)
    est, sd = policy.component_effects(x_user)
    np.testing.assert_array_equal(np.isnan(est), np.isnan(truth))
    ok = np.isfinite(truth)
    np.testing.assert_allclose(est[ok], truth[ok], atol=1e-4)
    assert sd[ok].max() < 1e-3
    # And not the unconstrained contrast, which differs from the truth here.
    old = _unconstrained_rows(space, d, x_user) @ policy.posterior_mean_
    assert np.abs(old[ok] - truth[ok]).max() > 1e-2


def test_valid_contrasts_of_a_space_without_constraints_are_plain_centring():
    space = hill48_space()
    levels, pairs = valid_contrasts(space)
    np.testing.assert_allclose(levels, center_by_axis(space, np.eye(space.n_levels_total)))
    assert pairs.shape == (space.n_levels_total, space.n_pair_features)
