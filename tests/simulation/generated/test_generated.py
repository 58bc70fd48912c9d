"""The generated level's library: space, search, oracle, mvt_ts posterior and learning."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from creative.components import component_axes
from simulation.generated import (
    GENERATED_POLICIES,
    ComponentSpace,
    MvtThompson,
    Oracle,
    PairwiseModel,
    Uniform,
    design,
    hill48_space,
    search,
)
from simulation.generated.model import n_params
from simulation.generated.policies import annealed_scale

#: Fixed scales (the closed-form references assume a zero-mean prior of known variance).
FIXED_PRIOR = {"prior_var": 1.0, "prior_var_user": 0.25, "prior_var_pair": 0.25}


def default_space() -> ComponentSpace:
    return ComponentSpace.from_axes(component_axes())


def small_space(rng: np.random.Generator, n_levels=(3, 4, 2, 3), p_forbid=0.15) -> ComponentSpace:
    """A small space with random pairwise constraints (symmetric, never within an axis)."""
    offsets = np.concatenate([[0], np.cumsum(n_levels)])
    total = offsets[-1]
    mask = rng.random((total, total)) > p_forbid
    mask = np.triu(mask, 1)
    mask = mask | mask.T
    np.fill_diagonal(mask, True)
    return ComponentSpace(
        axis_names=tuple(f"a{i}" for i in range(len(n_levels))),
        n_levels=n_levels,
        pair_mask=mask,
    )


def random_model(space, d, rng, pair_scale=0.5) -> PairwiseModel:
    total = space.n_levels_total
    theta = np.concatenate(
        [
            rng.normal(size=total),
            rng.normal(size=d * total) * 0.5,
            rng.normal(size=space.n_pair_features) * pair_scale,
        ]
    )
    return PairwiseModel(space=space, theta=theta, n_user_features=d)


def brute_force(model: PairwiseModel, contexts):
    valid = model.space.enumerate_valid()
    scores = np.stack([model.expected(np.repeat(x[None], len(valid), 0), valid) for x in contexts])
    return valid, scores


# -- the space ---------------------------------------------------------------------------


def test_default_space_has_over_ten_thousand_valid_compositions():
    space = default_space()
    assert space.n_axes == 10
    # 290,160 of 2,520,000 at the time of writing; the issue asks for >= 10,000.
    assert space.count_valid() >= 10_000


def test_count_and_is_valid_agree_with_enumeration(rng):
    space = small_space(rng)
    grids = np.array(list(itertools.product(*[range(k) for k in space.n_levels])))
    brute = [
        all(space.pair_mask[a, b] for a, b in itertools.combinations(g + space.offsets[:-1], 2))
        for g in grids
    ]
    assert space.is_valid(grids).tolist() == brute
    assert space.count_valid() == sum(brute) == len(space.enumerate_valid())


def test_conflicts_name_every_broken_constraint_and_only_those(rng):
    space = default_space()
    combos = rng.integers(0, np.array(space.n_levels), size=(3_000, space.n_axes))
    valid = space.is_valid(combos)
    assert valid.any() and not valid.all()
    for combo, ok in zip(combos, valid, strict=True):
        broken = space.conflicts(combo)
        assert (not broken) == ok
        g = combo + space.offsets[:-1]
        for axis, level, other, other_level in broken:
            assert combo[axis] == level
            if other < 0:
                assert not space.level_mask[g[axis]]
            else:
                assert axis < other and combo[other] == other_level
                assert not space.pair_mask[g[axis], g[other]]
        # Nothing left out: every pair the masks refuse is named.
        refused = sum(
            not space.pair_mask[g[i], g[j]] for i, j in itertools.combinations(range(10), 2)
        ) + sum(not space.level_mask[x] for x in g)
        assert len(broken) == refused
        assert (space.conflict_text(combo) == "") == ok
    # Named by axis and level, as a reader would say it.
    combo = np.zeros(space.n_axes, dtype=np.int64)
    combo[list(space.axis_names).index("headline")] = 2  # keyword
    combo[list(space.axis_names).index("keyword")] = 0  # none
    assert "headline 'keyword' cannot go with keyword 'none'" in space.conflict_text(combo)
    assert "headline *keyword*" in space.conflict_text(combo, mark="*")


def test_encode_and_pair_features_index_each_block_once(rng):
    space = small_space(rng)
    combos = space.enumerate_valid()
    main = space.encode(combos)
    assert (main.sum(axis=1) == space.n_axes).all()
    pairs = space.encode_pairs(combos)
    assert (pairs.sum(axis=1) == space.n_axes * (space.n_axes - 1) // 2).all()
    # Distinct compositions have distinct pairwise rows: the indexing is injective.
    assert len({r.tobytes() for r in pairs}) == len(combos)
    assert space.n_pair_features == sum(a * b for a, b in itertools.combinations(space.n_levels, 2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"axis_names": ("a",), "n_levels": ()}, "n_levels"),
        ({"axis_names": ("a",), "n_levels": (0,)}, "n_levels"),
        ({"axis_names": ("a", "b"), "n_levels": (2,)}, "axis_names"),
        ({"axis_names": ("a",), "n_levels": (2,), "level_mask": np.ones(3, bool)}, "level_mask"),
        (
            {"axis_names": ("a", "b"), "n_levels": (2, 2), "pair_mask": np.eye(4, k=1) > 0},
            "pair_mask",
        ),
    ],
)
def test_bad_spaces_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ComponentSpace(**kwargs)


def test_uniform_sampling_is_uniform_over_valid(rng):
    space = small_space(rng)
    valid = space.enumerate_valid()
    combos = search.sample_valid(space, 40_000, rng)
    assert space.is_valid(combos).all()
    keys = {tuple(c): i for i, c in enumerate(valid)}
    counts = np.bincount([keys[tuple(c)] for c in combos], minlength=len(valid))
    # Chi-square with len(valid) - 1 df; 99.9 % quantile is below df + 5 sqrt(2 df) here.
    expected = len(combos) / len(valid)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    df = len(valid) - 1
    assert chi2 < df + 5 * np.sqrt(2 * df)


# -- search and oracle -------------------------------------------------------------------


def test_oracle_equals_brute_force(rng):
    space = small_space(rng, n_levels=(3, 4, 3, 2, 3))
    model = random_model(space, 3, rng)
    x = rng.normal(size=(60, 3))
    oracle = Oracle(truth=model).reset(space, 3)
    picked = oracle.select(x, rng)
    _, scores = brute_force(model, x)
    assert space.is_valid(picked).all()
    np.testing.assert_allclose(model.expected(x, picked), scores.max(axis=1), atol=1e-9)


def test_exact_argmax_on_the_default_space_beats_every_hill_climb(rng):
    # Too big to enumerate: hold branch and bound to many independent climbs.
    space = default_space()
    model = random_model(space, 2, rng, pair_scale=0.3)
    x = rng.normal(size=(4, 2))
    u, pt = model.unary(x), model.pair_table()
    exact, exact_scores = search.exact_argmax(space, u, pt, rng)
    _, climb_scores = search.hill_climb(space, u, pt, rng, n_restarts=50)
    assert space.is_valid(exact).all()
    np.testing.assert_allclose(search.score(space, u, pt, exact), exact_scores)
    assert (exact_scores >= climb_scores - 1e-9).all()


def test_hill_climb_finds_the_argmax_with_restarts(rng):
    # Strong pairwise terms make local optima; with 5 restarts the climb should still
    # find the exact argmax for most users. Constraints as sparse as the default space's
    # (17 forbidden pairs of 2,701): one-axis moves cannot cross a fragmented space.
    space = small_space(rng, n_levels=(4, 4, 3, 3, 2), p_forbid=0.03)
    model = random_model(space, 2, rng, pair_scale=0.8)
    x = rng.normal(size=(300, 2))
    _, scores = brute_force(model, x)
    combos, found = search.hill_climb(space, model.unary(x), model.pair_table(), rng, n_restarts=5)
    assert space.is_valid(combos).all()
    np.testing.assert_allclose(model.expected(x, combos), found, atol=1e-9)
    # Measured 0.71-0.99 over seeds 0-7 (one restart: 0.28-0.96); 0.6 leaves room.
    assert np.isclose(found, scores.max(axis=1)).mean() >= 0.6
    # One restart is a local optimum: never above the best, and worse more often.
    _, single = search.hill_climb(space, model.unary(x), model.pair_table(), rng, n_restarts=1)
    assert (
        np.isclose(single, scores.max(axis=1)).mean()
        <= np.isclose(found, scores.max(axis=1)).mean()
    )


# -- mvt_ts ------------------------------------------------------------------------------


def reference_posterior(z, y, prior_var, noise_var):
    precision = np.diag(1.0 / prior_var) + z.T @ z / noise_var
    cov = np.linalg.inv(precision)
    return cov @ (z.T @ y / noise_var), cov


def test_full_posterior_equals_closed_form_bayesian_regression(rng):
    space = small_space(rng)
    d = 2
    policy = MvtThompson(covariance="full", noise_var=0.3, **FIXED_PRIOR).reset(space, d)
    zs, ys = [], []
    for _ in range(4):
        x = rng.normal(size=(50, d))
        c = search.sample_valid(space, 50, rng)
        y = rng.normal(size=50)
        policy.update(x, c, y)
        zs.append(design(space, x, c))
        ys.append(y)
    mean, cov = reference_posterior(
        np.vstack(zs), np.concatenate(ys), policy.prior_var_vector_, 0.3
    )
    np.testing.assert_allclose(policy.posterior_mean_, mean, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(policy.covariance_, cov, rtol=1e-7, atol=1e-9)


def test_full_posterior_draws_have_the_posterior_moments(rng):
    space = hill48_space()
    policy = MvtThompson(covariance="full", noise_var=0.25, **FIXED_PRIOR).reset(space, 0)
    x = np.zeros((200, 0))
    c = search.sample_valid(space, 200, rng)
    policy.update(x, c, rng.random(200))
    draws = np.stack([policy.draw(rng) for _ in range(4000)])
    # 4,000 draws: the sample mean is within 5 standard errors of the posterior mean.
    se = np.sqrt(np.diag(policy.covariance_) / len(draws))
    assert (np.abs(draws.mean(axis=0) - policy.posterior_mean_) < 5 * se).all()


def _taught_alike(rng, *settings: dict) -> list[MvtThompson]:
    """One hill48 learner per ``settings``, each taught the same 200 impressions."""
    space = hill48_space()
    x, c = np.zeros((200, 0)), search.sample_valid(space, 200, rng)
    y = rng.random(200)
    policies = []
    for extra in settings:
        policy = MvtThompson(noise_var=0.25, **FIXED_PRIOR, **extra).reset(space, 0)
        policy.update(x, c, y)
        policies.append(policy)
    return policies


@pytest.mark.parametrize("covariance", ["full", "diagonal"])
def test_a_tempered_draw_scales_the_deviation_from_the_posterior_mean(covariance, rng):
    plain, tempered = _taught_alike(
        rng,
        {"covariance": covariance, "draw_scale": 1.0},
        {"covariance": covariance, "draw_scale": 0.5},
    )
    np.testing.assert_array_equal(plain.posterior_mean_, tempered.posterior_mean_)
    # The same normals: the tempered draw is the mean plus half the plain draw's deviation.
    a = plain.draw(np.random.default_rng(7))
    b = tempered.draw(np.random.default_rng(7))
    np.testing.assert_allclose(b - tempered.posterior_mean_, 0.5 * (a - plain.posterior_mean_))
    with pytest.raises(ValueError, match="draw_scale"):
        MvtThompson(draw_scale=0.0)


def test_the_annealed_scale_is_one_until_anneal_after_then_falls_as_a_square_root():
    assert annealed_scale(None, 10**9) == 1.0
    assert annealed_scale(1_000, 0) == annealed_scale(1_000, 1_000) == 1.0
    assert annealed_scale(1_000, 4_000) == pytest.approx(0.5)
    assert annealed_scale(250_000, 1_000_000) == pytest.approx(0.5)
    for bad in (0, 0.5, True, "1", 1e13):
        with pytest.raises(ValueError, match="anneal_after"):
            MvtThompson(anneal_after=bad)


@pytest.mark.parametrize("covariance", ["full", "diagonal"])
def test_an_annealed_draw_shrinks_its_deviation_with_the_impressions_taught(covariance, rng):
    tempered, annealed = _taught_alike(
        rng, *({"covariance": covariance, "draw_scale": 0.8, "anneal_after": after}
               for after in (None, 50.0))
    )  # fmt: skip
    np.testing.assert_array_equal(tempered.posterior_mean_, annealed.posterior_mean_)
    # 200 impressions taught, annealing after 50: half the tempered deviation (0.8 -> 0.4).
    assert annealed.current_draw_scale() == pytest.approx(0.4)
    assert annealed.current_draw_scale(n_seen=10) == 0.8
    a = tempered.draw(np.random.default_rng(7))
    b = annealed.draw(np.random.default_rng(7))
    np.testing.assert_allclose(b - annealed.posterior_mean_, 0.5 * (a - tempered.posterior_mean_))
    # An explicit scale is used as given (the effect estimates' untempered draws).
    np.testing.assert_array_equal(
        annealed.draw(np.random.default_rng(7), 1.0), tempered.draw(np.random.default_rng(7), 1.0)
    )


def test_diagonal_posterior_is_exact_when_rows_touch_one_parameter(rng):
    # One axis, no interactions: each row touches one main effect, so the factorized
    # update is the conjugate one.
    space = ComponentSpace(axis_names=("a",), n_levels=(6,))
    policy = MvtThompson(covariance="diagonal", noise_var=0.5, **FIXED_PRIOR).reset(space, 0)
    c = rng.integers(0, 6, size=(300, 1))
    y = rng.normal(size=300) + c[:, 0] * 0.1
    x = np.zeros((300, 0))
    for s in range(0, 300, 50):
        policy.update(x[s : s + 50], c[s : s + 50], y[s : s + 50])
    mean, cov = reference_posterior(design(space, x, c), y, policy.prior_var_vector_, 0.5)
    np.testing.assert_allclose(policy.posterior_mean_, mean, rtol=1e-9)
    np.testing.assert_allclose(policy.var_, np.diag(cov), rtol=1e-9)


def test_diagonal_posterior_mean_approaches_the_truth(rng):
    space = small_space(rng)
    model = random_model(space, 2, rng, pair_scale=0.2)
    policy = MvtThompson(covariance="diagonal", noise_var=0.25, **FIXED_PRIOR).reset(space, 2)
    for _ in range(40):
        x = rng.normal(size=(500, 2))
        c = search.sample_valid(space, 500, rng)
        policy.update(x, c, model.expected(x, c) + rng.normal(scale=0.5, size=500))
    x = rng.normal(size=(2000, 2))
    c = search.sample_valid(space, 2000, rng)
    truth = model.expected(x, c)
    learned = PairwiseModel(space=space, theta=policy.posterior_mean_, n_user_features=2)
    # The model is identified only up to per-axis constants: compare centred predictions.
    err = (learned.expected(x, c) - truth) - (learned.expected(x, c) - truth).mean()
    assert np.sqrt((err**2).mean()) < 0.25 * truth.std()


def _clicks_after_a_batch_without_one(covariance: str, rng) -> MvtThompson:
    # One axis of three levels with click rates 5 %, 1 %, 1 %; the first batch of 50
    # impressions brings no click (as 8 % of such batches do at a 5 % rate), then 100
    # batches of 100 uniform impressions.
    space = ComponentSpace(axis_names=("a",), n_levels=(3,))
    policy = MvtThompson(covariance=covariance).reset(space, 0)
    rate = np.array([0.05, 0.01, 0.01])
    policy.update(np.zeros((50, 0)), rng.integers(0, 3, size=(50, 1)), np.zeros(50))
    for _ in range(100):
        c = rng.integers(0, 3, size=(100, 1))
        policy.update(np.zeros((100, 0)), c, (rng.random(100) < rate[c[:, 0]]).astype(float))
    return policy


@pytest.mark.parametrize("covariance", ["full", "diagonal"])
def test_a_first_batch_without_a_click_does_not_freeze_the_learner(covariance, rng):
    # The automatic prior and noise come from the first rewards taught; from a batch of
    # zeros they were zero and the posterior never moved (the main effects stayed
    # within 1e-12 of each other). ~3,300 impressions per level: the 4-point gap in
    # rate has a standard error of about 0.3 points, so 2 points is a loose bound.
    policy = _clicks_after_a_batch_without_one(covariance, rng)
    mean = policy.posterior_mean_
    assert mean[0] - max(mean[1], mean[2]) > 0.02, mean
    assert policy.n_seen_ == 50 + 100 * 100  # the held batch was taught too
    assert policy.noise_var_ > 1e-3


def test_rows_wait_while_every_reward_is_the_same_then_are_all_taught(rng, monkeypatch):
    import simulation.generated.policies as policies

    space = ComponentSpace(axis_names=("a",), n_levels=(3,))
    policy = MvtThompson(covariance="diagonal").reset(space, 0)
    before = policy.posterior_mean_.copy()
    for _ in range(3):
        policy.update(np.zeros((10, 0)), rng.integers(0, 3, size=(10, 1)), np.zeros(10))
    assert policy.n_seen_ == 0 and len(policy.held_) == 3
    np.testing.assert_array_equal(policy.posterior_mean_, before)
    policy.update(np.zeros((10, 0)), rng.integers(0, 3, size=(10, 1)), np.eye(10)[0])
    assert policy.n_seen_ == 40 and policy.held_ == []
    # At most _MAX_HELD rows wait; then they are taught with the rule of succession's
    # rate, 1 / (n + 2), so the noise variance is not zero.
    monkeypatch.setattr(policies, "_MAX_HELD", 25)
    policy = MvtThompson(covariance="diagonal").reset(space, 0)
    for _ in range(3):
        policy.update(np.zeros((10, 0)), rng.integers(0, 3, size=(10, 1)), np.zeros(10))
    assert policy.n_seen_ == 30
    rate = 1 / 32
    assert policy.noise_var_ == pytest.approx(rate * (1 - rate) * 1e4 / (1e4 + 30))


def test_search_under_a_draw_matches_enumeration(rng):
    space = small_space(rng, p_forbid=0.03)
    policy = MvtThompson(exact_max=1).reset(space, 2)  # forces the hill-climb
    exact = MvtThompson().reset(space, 2)
    assert policy.valid_ is None and exact.valid_ is not None
    theta = rng.normal(size=n_params(space, 2))
    x = rng.normal(size=(200, 2))
    _, s_exact = exact.best(theta, x, rng)
    model = PairwiseModel(space=space, theta=theta, n_user_features=2)
    _, brute = brute_force(model, x)
    np.testing.assert_allclose(s_exact, brute.max(axis=1), atol=1e-9)
    _, s_climb = policy.best(theta, x, rng)
    assert (s_climb <= s_exact + 1e-9).all()
    assert np.isclose(s_climb, s_exact).mean() >= 0.6


@pytest.mark.parametrize("name", sorted(GENERATED_POLICIES))
def test_no_policy_ever_selects_an_invalid_composition(name, rng):
    space = default_space()
    model = random_model(space, 3, rng, pair_scale=0.1)
    kwargs = {"truth": model} if name == "oracle" else {}
    policy = GENERATED_POLICIES[name](**kwargs).reset(space, 3)
    for _ in range(3):
        x = rng.normal(size=(64, 3))
        combos = policy.select(x, rng)
        assert combos.shape == (64, space.n_axes) and combos.dtype == np.int64
        assert space.is_valid(combos).all()
        policy.update(x, combos, rng.random(64))


@pytest.mark.parametrize("name", sorted(GENERATED_POLICIES))
@pytest.mark.parametrize("space_of", [default_space, hill48_space])
def test_an_empty_batch_selects_nothing_and_teaches_nothing(name, space_of, rng):
    space = space_of()
    model = random_model(space, 3, rng, pair_scale=0.1)
    kwargs = {"truth": model} if name == "oracle" else {}
    policy = GENERATED_POLICIES[name](**kwargs).reset(space, 3)
    mean_before = policy.mean_.copy() if hasattr(policy, "mean_") else None
    combos = policy.select(np.empty((0, 3)), rng)
    assert combos.shape == (0, space.n_axes) and combos.dtype == np.int64
    policy.update(np.empty((0, 3)), combos, np.empty(0))
    assert getattr(policy, "n_seen_", 0) == 0
    if mean_before is not None:
        np.testing.assert_array_equal(policy.mean_, mean_before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"noise_var": 0.0}, "noise_var"),
        ({"prior_var": -1.0}, "prior_var"),
        ({"covariance": "dense"}, "covariance"),
        ({"n_restarts": 0}, "n_restarts"),
    ],
)
def test_bad_mvt_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MvtThompson(**kwargs)


def test_contract_errors(rng):
    space = hill48_space()
    with pytest.raises(RuntimeError, match="reset"):
        Uniform().select(np.zeros((2, 0)), rng)
    policy = MvtThompson().reset(space, 1)
    with pytest.raises(ValueError, match="user_contexts"):
        policy.select(np.zeros((2, 3)), rng)
    with pytest.raises(ValueError, match="combos"):
        policy.update(np.zeros((2, 1)), np.zeros((2, 3), int), np.zeros(2))


def test_mvt_ts_learns_faster_than_uniform_on_a_pinned_world():
    # A small world with a known best composition per user (2 user features, pairwise
    # interactions). Bernoulli-like noise (sd 0.3) around the expected reward.
    rng = np.random.default_rng(20240614)
    space = small_space(rng, n_levels=(4, 3, 3, 4))
    model = random_model(space, 2, rng, pair_scale=0.3)
    model = PairwiseModel(space=space, theta=model.theta * 0.05, n_user_features=2)
    policies = {"uniform": Uniform().reset(space, 2), "mvt_ts": MvtThompson().reset(space, 2)}
    oracle = Oracle(truth=model).reset(space, 2)
    regret = {}
    for name, policy in policies.items():
        for _ in range(40):  # 40 batches of 250: 10,000 impressions
            x = rng.normal(size=(250, 2))
            c = policy.select(x, rng)
            policy.update(x, c, model.expected(x, c) + rng.normal(scale=0.3, size=250))
        x = rng.normal(size=(2000, 2))
        best = model.expected(x, oracle.select(x, rng))
        # Simple regret: the gap of the current choice (one more posterior draw for mvt_ts).
        regret[name] = float((best - model.expected(x, policy.select(x, rng))).mean())
    # Uniform's regret is the mean gap to the best over the valid space; after 10,000
    # impressions the learner's draw should be within a quarter of that.
    assert regret["mvt_ts"] < 0.25 * regret["uniform"], regret


def test_compiled_update_matches_the_numpy_reference_with_tied_and_fixed_cells(rng):
    from tests.reference import generated as ref

    space = small_space(rng)
    d, total = 3, space.n_levels_total
    tied = rng.normal(size=(2, d, total))
    mask = rng.random((d, total)) < 0.6
    policy = MvtThompson(
        covariance="diagonal", noise_var=0.4, tied=tied, user_mask=mask, **FIXED_PRIOR
    ).reset(space, d)
    x = rng.normal(size=(80, d)) * (rng.random((80, d)) < 0.7)
    c = search.sample_valid(space, 80, rng)
    y = rng.normal(size=80)
    mu0, var0 = policy.mean_.copy(), policy.var_.copy()
    policy.update(x, c, y)
    xb = np.einsum("nd,kdt->nkt", x, tied)
    mu, var = ref.diagonal_update(mu0, var0, space, x, xb, c, y, 0.4)
    np.testing.assert_allclose(policy.mean_, mu, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(policy.var_, var, rtol=1e-9, atol=1e-15)
    assert (policy.var_[total : total * (1 + d)][~mask.ravel()] == 0).all()


def test_compiled_update_skips_whole_fixed_blocks_like_the_reference(rng):
    # The engine's shape of mask: whole (feature, axis) blocks and pairs of axes fixed
    # at zero, which the kernel does not visit at all (free_blocks).
    from simulation.generated.model import free_blocks
    from tests.reference import generated as ref

    space = small_space(rng)
    d, total, o = 3, space.n_levels_total, space.offsets
    mask = rng.random((d, total)) < 0.6
    mask[0] = False  # feature 0 interacts with no axis
    mask[1, : o[2]] = False  # feature 1 with axes 2 and 3 only
    mask[1, o[3] :] = False  # ... then with axis 2 only
    pair_blocks = np.ones((4, 4), bool)
    pair_blocks[0, :] = pair_blocks[:, 0] = False
    pair_blocks[2, 3] = pair_blocks[3, 2] = False
    policy = MvtThompson(
        covariance="diagonal", noise_var=0.4, user_mask=mask, pair_blocks=pair_blocks,
        **FIXED_PRIOR,
    ).reset(space, d)  # fmt: skip
    user_ptr, user_axis, pair_a, pair_b = free_blocks(space, d, policy.prior_var_vector_)
    assert user_axis[user_ptr[1] : user_ptr[2]].tolist() == [2]
    assert user_ptr[1] == 0  # nothing for feature 0
    assert list(zip(pair_a.tolist(), pair_b.tolist(), strict=True)) == [(1, 2), (1, 3)]
    x = rng.normal(size=(80, d)) * (rng.random((80, d)) < 0.7)
    c = search.sample_valid(space, 80, rng)
    y = rng.normal(size=80)
    mu0, var0 = policy.mean_.copy(), policy.var_.copy()
    policy.update(x, c, y)
    mu, var = ref.diagonal_update(mu0, var0, space, x, np.zeros((80, 0, total)), c, y, 0.4)
    np.testing.assert_allclose(policy.mean_, mu, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(policy.var_, var, rtol=1e-9, atol=1e-15)


def _warm_climb_held_to_the_reference(space, n_rows, rng):
    # A random model's climb from the first valid composition, held to the numpy
    # reference move for move and to the model's scores; returns the climb's
    # compositions and scores and each row's exact best score (brute force).
    from tests.reference import generated as ref

    model = random_model(space, 2, rng, pair_scale=0.3)
    x = rng.normal(size=(n_rows, 2))
    u, pt = model.unary(x), model.pair_table()
    start = space.enumerate_valid()[0]
    combos, scores = search.warm_climb(space, u, pt, start)
    np.testing.assert_array_equal(combos, ref.warm_climb(space, u, pt, start))
    np.testing.assert_allclose(model.expected(x, combos), scores, atol=1e-9)
    _, brute = brute_force(model, x)
    return combos, scores, brute.max(axis=1)


def test_warm_climb_matches_the_numpy_reference_and_enumeration(rng):
    space = small_space(rng, p_forbid=0.03)
    _, scores, best = _warm_climb_held_to_the_reference(space, 100, rng)
    assert (scores <= best + 1e-9).all()
    # A local search from one start: most rows still reach the exact best here.
    assert np.isclose(scores, best).mean() >= 0.5


def test_reprior_matches_the_numpy_reference_and_is_exact_for_one_weight_rows(rng):
    from tests.reference import generated as ref

    # One axis, no user features: every row touches one weight, so the diagonal
    # posterior is exact, and so must the re-based one be under the new prior.
    space = ComponentSpace(axis_names=("a",), n_levels=(6,), pair_mask=np.ones((6, 6), bool))
    policy = MvtThompson(covariance="diagonal", track_scale=False).reset(space, 0)
    c = rng.integers(0, 6, size=(300, 1))
    effects = rng.normal(scale=0.5, size=6)
    y = effects[c[:, 0]] + rng.normal(scale=0.2, size=300)
    policy.update(np.zeros((300, 0)), c, y)
    mu, var = policy.mean_.copy(), policy.var_.copy()
    v0, mu0 = policy.prior_var_vector_.copy(), policy.prior_mean_
    tau = policy._scales(policy.noise_var_)
    mult, block = policy.prior_mult_, policy.block_
    assert tau[0] == pytest.approx(ref.em_main_scale(mu, var, mu0, v0, mult, block), rel=1e-12)
    policy._reprior(tau)
    want = ref.reprior(mu, var, mu0, v0, mult, block, policy.block_free_, tau)
    np.testing.assert_allclose(policy.mean_, want[0], rtol=1e-10)
    np.testing.assert_allclose(policy.var_, want[1], rtol=1e-10)
    np.testing.assert_allclose(policy.prior_var_vector_, want[2], rtol=1e-10)
    # The exact conjugate posterior of each level under the new prior.
    v1, noise = policy.prior_var_vector_, policy.noise_var_
    n = np.bincount(c[:, 0], minlength=6)
    s = np.bincount(c[:, 0], weights=y, minlength=6)
    exact_var = 1.0 / (n / noise + 1.0 / v1)
    np.testing.assert_allclose(policy.var_, exact_var, rtol=1e-9)
    np.testing.assert_allclose(policy.mean_, exact_var * (s / noise + mu0 / v1), rtol=1e-9)


def test_reprior_leaves_fixed_cells_and_given_blocks_alone(rng):
    # The compiled re-prior visits runs of weights (free_runs): fixed cells (user mask,
    # pair blocks) and a block whose scale was given (pairs here) must stay as they are.
    from tests.reference import generated as ref

    space = small_space(rng)
    d, total = 2, space.n_levels_total
    mask = rng.random((d, total)) < 0.5
    pair_blocks = np.ones((4, 4), bool)
    pair_blocks[1, 2] = pair_blocks[2, 1] = False
    policy = MvtThompson(
        covariance="diagonal", prior_var_pair=0.01, user_mask=mask, pair_blocks=pair_blocks
    ).reset(space, d)
    for _ in range(3):
        x = rng.normal(size=(200, d))
        c = search.sample_valid(space, 200, rng)
        policy.update(x, c, rng.random(200))
    mu, var, v0 = policy.mean_.copy(), policy.var_.copy(), policy.prior_var_vector_.copy()
    tau = policy._scales(policy.noise_var_) * rng.uniform(0.5, 2.0, size=policy.block_free_.size)
    policy._reprior(tau)
    want = ref.reprior(
        mu, var, policy.prior_mean_, v0, policy.prior_mult_, policy.block_, policy.block_free_, tau
    )
    np.testing.assert_allclose(policy.mean_, want[0], rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(policy.var_, want[1], rtol=1e-10, atol=1e-300)
    np.testing.assert_array_equal(policy.prior_var_vector_, want[2])
    pairs = slice(total * (1 + d), policy.n_base_)
    np.testing.assert_array_equal(policy.var_[pairs], var[pairs])  # the given block


def test_tracked_scale_finds_the_scale_of_resolved_main_effects(rng):
    # Main effects of sd 1 under noise sd 0.1: the starting prior (sd 0.1 x the
    # reward's sd, about 0.14) is far too small; the EM steps bring the main block's
    # prior sd to the effects' scale (within a factor 2), and without them it stays.
    space = ComponentSpace(
        axis_names=("a", "b"), n_levels=(8, 8), pair_mask=np.ones((16, 16), bool)
    )
    effects = rng.normal(size=16)
    sd = {}
    for track in (True, False):
        policy = MvtThompson(
            covariance="diagonal", track_scale=track, pair_interactions=False
        ).reset(space, 0)
        for _ in range(20):
            c = rng.integers(0, 8, size=(500, 2))
            y = effects[c[:, 0]] + effects[8 + c[:, 1]] + rng.normal(scale=0.1, size=500)
            policy.update(np.zeros((500, 0)), c, y)
        sd[track] = float(np.sqrt(policy.prior_var_vector_[:16].mean()))
    spread = float(np.sqrt(np.mean(effects**2)))
    assert 0.5 * spread < sd[True] < 2.0 * spread, (sd, spread)
    assert sd[False] < 0.25 * spread, (sd, spread)


def test_threaded_warm_climb_equals_the_serial_one(rng):
    space = default_space()
    total = space.n_levels_total
    u = rng.normal(size=(1500, total))
    pt = np.where(space.pair_index >= 0, rng.normal(scale=0.3, size=(total, total)), 0.0)
    pt = (pt + pt.T) / 2
    start = search.sample_valid(space, 1, rng)[0]
    serial = search.warm_climb(space, u, pt, start)
    for n_threads in (2, 3):
        combos, scores = search.warm_climb(space, u, pt, start, n_threads=n_threads)
        np.testing.assert_array_equal(combos, serial[0])
        np.testing.assert_array_equal(scores, serial[1])
    with pytest.raises(ValueError, match="n_threads"):
        search.warm_climb(space, u, pt, start, n_threads=0)


def test_mean_start_is_the_better_of_hill_climb_and_warm_climb(rng):
    # mvt_ts's start in one compiled call must be what the two public climbs give.
    space = default_space()
    total = space.n_levels_total
    pt = np.where(space.pair_index >= 0, rng.normal(scale=0.3, size=(total, total)), 0.0)
    pt = (pt + pt.T) / 2
    previous = None
    for _ in range(6):
        u = rng.normal(size=(1, total))
        seed = int(rng.integers(0, 2**32))
        got = search.mean_start(
            space, u, pt, np.random.default_rng(seed), previous, n_restarts=3, max_sweeps=4
        )
        want, value = search.hill_climb(
            space, u, pt, np.random.default_rng(seed), n_restarts=3, max_sweeps=4
        )
        if previous is not None:
            again, v2 = search.warm_climb(space, u, pt, previous)
            if v2[0] > value[0]:
                want = again
        np.testing.assert_array_equal(got, want[0])
        previous = got
    with pytest.raises(ValueError, match="valid composition"):
        search.mean_start(space, u, pt, rng, np.full(space.n_axes, -1))


def test_the_climb_leaves_a_constraints_trap_that_single_axis_moves_cannot(rng):
    # The default space's trap, in miniature: search keywords are printed in English
    # only, so (Korean copy, search keyword) is forbidden. For a Korean speaker who
    # values Korean copy (+3) far above the keyword (+1), a climb from (English,
    # keyword) can move neither axis alone: Korean is forbidden beside the keyword, and
    # dropping the keyword loses 1. The two-axis repair move takes both at once.
    mask = np.ones((6, 6), dtype=bool)
    ko, keyword = 1, 3  # flat levels: English 0, Korean 1, no keyword 2, keyword 3; other 4, 5
    mask[ko, keyword] = mask[keyword, ko] = False
    space = ComponentSpace(
        axis_names=("language", "keyword", "other"), n_levels=(2, 2, 2), pair_mask=mask
    )
    u = np.zeros((2, 6))
    u[:, ko], u[:, keyword], u[:, 5] = 3.0, 1.0, 0.5
    u[1, ko] = 0.5  # a second user for whom the keyword is worth more than Korean copy
    pt = np.zeros((6, 6))
    start = np.array([0, 1, 0])  # English, keyword, other level 0
    combos, scores = search.warm_climb(space, u, pt, start)
    np.testing.assert_array_equal(combos, [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_allclose(scores, [3.5, 1.5])
    from tests.reference import generated as ref

    np.testing.assert_array_equal(ref.warm_climb(space, u, pt, start), combos)


def test_mvt_ts_learns_to_serve_korean_copy_across_the_keyword_trap():
    # The trap end to end, through the learner's own climb (exact_max=1 forces the climb
    # on this small space). Search keywords exist in English only: (Korean, keyword) is
    # forbidden. Korean speakers (30 %) value Korean copy (+1) above the keyword (+0.3);
    # English speakers value English copy (+1) and the keyword. The batch's mean user
    # starts every climb from (English, keyword); without the two-axis move no Korean
    # speaker ever gets Korean copy, whatever the learner believes.
    en, ko, keyword = 0, 1, 3  # flat levels: language 0-1, keyword 2-3, tone 4-6
    mask = np.ones((7, 7), dtype=bool)
    mask[ko, keyword] = mask[keyword, ko] = False
    space = ComponentSpace(
        axis_names=("language", "keyword", "tone"), n_levels=(2, 2, 3), pair_mask=mask
    )
    theta = np.zeros(n_params(space, 2))
    theta[keyword] = 0.3
    theta[7 + ko] = 1.0  # user block, feature 0 (Korean speaker) x Korean copy
    theta[7 + 7 + en] = 1.0  # feature 1 (English speaker) x English copy
    theta[4:7] = 0.05, 0.0, -0.05
    truth = PairwiseModel(space=space, theta=theta, n_user_features=2)
    rng = np.random.default_rng(7)

    def users(n):
        korean = rng.random(n) < 0.3
        return np.stack([korean, ~korean], axis=1).astype(float), korean

    policy = MvtThompson(exact_max=1, noise_var=0.09, **FIXED_PRIOR).reset(space, 2)
    for _ in range(30):
        x, _ = users(200)
        c = policy.select(x, rng)
        policy.update(x, c, truth.expected(x, c) + rng.normal(scale=0.3, size=200))
    x, korean = users(1000)
    served, _ = policy.best(policy.posterior_mean_, x, rng)
    assert (served[korean, :2] == [1, 0]).all(axis=1).mean() > 0.95  # Korean, no keyword
    assert (served[~korean, :2] == [0, 1]).all(axis=1).mean() > 0.95  # English, keyword


def test_warm_climb_with_repairs_matches_the_reference_on_tightly_constrained_spaces(rng):
    # Many forbidden pairs, so traps (and repair moves) are common; the compiled climb
    # and the reference make the same moves, and the climb never leaves the valid set.
    n_equal_to_best = 0
    for _ in range(4):
        space = small_space(rng, n_levels=(4, 3, 5, 2, 3), p_forbid=0.25)
        combos, scores, best = _warm_climb_held_to_the_reference(space, 60, rng)
        assert space.is_valid(combos).all()
        n_equal_to_best += np.isclose(scores, best).sum()
    assert n_equal_to_best >= 0.5 * 4 * 60


def test_warm_climb_refuses_an_invalid_start(rng):
    space = small_space(rng, p_forbid=0.3)
    total = space.n_levels_total
    u, pt = rng.normal(size=(5, total)), np.zeros((total, total))
    grids = np.stack(np.meshgrid(*map(np.arange, space.n_levels), indexing="ij"), -1)
    combos = grids.reshape(-1, space.n_axes)
    valid = space.is_valid(combos)
    assert valid.any() and not valid.all()
    search.warm_climb(space, u, pt, combos[valid][0])
    with pytest.raises(ValueError, match="valid composition"):
        search.warm_climb(space, u, pt, combos[~valid][0])
    out_of_range = combos[valid][0].copy()
    out_of_range[1] = space.n_levels[1]
    with pytest.raises(ValueError, match="valid composition"):
        search.warm_climb(space, u, pt, out_of_range)


def test_unary_scores_match_the_matrix_product(rng):
    from simulation.generated.model import unary_scores

    x = rng.normal(size=(50, 7)) * (rng.random((50, 7)) < 0.4)
    w, base = rng.normal(size=(7, 11)), rng.normal(size=11)
    np.testing.assert_allclose(unary_scores(base, x, w), base + x @ w, rtol=1e-12, atol=1e-12)


def test_unary_scores_mean_is_numpys_mean_bit_for_bit(rng):
    # mvt_ts climbs from the mean user's scores: the fused mean must not move a bit.
    from simulation.generated.model import unary_scores, unary_scores_mean

    for n in (1, 7, 1000, 9000):
        x = rng.normal(size=(n, 5)) * (rng.random((n, 5)) < 0.5)
        w, base = rng.normal(size=(5, 13)) * 1e3, rng.normal(size=13)
        u, mean = unary_scores_mean(base, x, w)
        np.testing.assert_array_equal(u, unary_scores(base, x, w))
        np.testing.assert_array_equal(mean, u.mean(axis=0))


def test_sparse_tied_values_match_the_dense_patterns(rng):
    from simulation.generated.model import tied_sparse, tied_values

    space = small_space(rng)
    d, total = 5, space.n_levels_total
    # Mostly empty patterns, as the engine's (one feature per pattern and level), and
    # one with no cell at all.
    tied = rng.normal(size=(3, d, total)) * (rng.random((3, d, total)) < 0.15)
    tied[2] = 0.0
    x = rng.normal(size=(40, d)) * (rng.random((40, d)) < 0.5)
    c = search.sample_valid(space, 40, rng).astype(np.int64)
    want = np.take_along_axis(
        np.einsum("nd,kdt->nkt", x, tied), space.flat(c)[:, None, :], axis=2
    ).sum(axis=2)
    got = tied_values(x, *tied_sparse(tied), c, space.offsets)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert (got[:, 2] == 0).all()
    indptr, pattern, feature, value, k = tied_sparse(tied)
    assert indptr[-1] == pattern.size == feature.size == value.size == np.count_nonzero(tied)
    assert k == 3


def _pair_world(rng, pair_sd: float):
    """Three axes of four levels, all valid, no user features; pair effects on axes 0-1 only.

    Effects small against the noise (sd 0.1 against 1), as clicks' are. Returns the
    space, a reward function of compositions and the pair effects' variance once
    centred on both axes (what main effects cannot absorb: what a scale can find).
    """
    space = ComponentSpace(
        axis_names=("a", "b", "c"), n_levels=(4, 4, 4), pair_mask=np.ones((12, 12), bool)
    )
    main = rng.normal(scale=0.1, size=12)
    pair01 = rng.normal(scale=pair_sd, size=(4, 4))
    centred = pair01 - pair01.mean(0) - pair01.mean(1)[:, None] + pair01.mean()

    def reward(c):
        y = main[c[:, 0]] + main[4 + c[:, 1]] + main[8 + c[:, 2]] + pair01[c[:, 0], c[:, 1]]
        return y + rng.normal(scale=1.0, size=len(c))

    return space, reward, float((centred**2).mean())


def _trained(space, reward, rng, **settings) -> MvtThompson:
    policy = MvtThompson(covariance="diagonal", **settings).reset(space, 0)
    for _ in range(100):  # 100,000 uniform rows: about 6,000 per pair cell
        c = search.sample_valid(space, 1000, rng)
        policy.update(np.zeros((1000, 0)), c, reward(c))
    return policy


def _pair_block_scales(policy) -> dict[tuple[int, int], float]:
    n_axes = policy.space_.n_axes
    return {
        (a, b): float(
            np.median(policy.prior_var_vector_[policy.block_ == 4 + n_axes + a * n_axes + b])
        )
        for a, b in ((0, 1), (0, 2), (1, 2))
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relevance_keeps_the_pair_block_that_matters_and_shrinks_the_others(seed):
    # The block with effects keeps a scale within a factor 2 of their (centred)
    # variance (seen: within 25 %); the two without fall below 1 % of it (seen: at the
    # floor, about 1e-6 of the starting scale).
    rng = np.random.default_rng(seed)
    space, reward, variance = _pair_world(rng, pair_sd=0.1)
    tau = _pair_block_scales(_trained(space, reward, rng))
    assert 0.5 * variance < tau[(0, 1)] < 2.0 * variance, (tau, variance)
    assert max(tau[(0, 2)], tau[(1, 2)]) < 0.01 * variance, (tau, variance)
    # Without relevance every pairwise cell keeps the one shared (automatic) scale.
    flat = _trained(space, reward, rng, relevance=False)
    pairs = flat.prior_var_vector_[flat.block_ == 2]
    assert pairs.size == space.n_pair_features and np.allclose(pairs, pairs[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relevance_keeps_no_pair_block_when_no_pair_matters(seed):
    # The world where it must not: main effects only. Every pair block ends below 5 %
    # of the centred variance pairs of sd 0.1 would have (0.01 x 9 / 16); seen: at most
    # 1e-4, the level noise alone leaves in 6,000 rows per cell.
    rng = np.random.default_rng(seed)
    space, reward, variance = _pair_world(rng, pair_sd=0.0)
    assert variance == 0.0
    tau = _pair_block_scales(_trained(space, reward, rng))
    assert max(tau.values()) < 0.05 * 0.01 * 9 / 16, tau


def test_relevance_scales_match_the_numpy_reference(rng):
    from simulation.generated.model import relevance_scales
    from tests.reference import generated as ref

    n, n_blocks = 200, 9
    block = rng.integers(0, n_blocks, size=n)
    prior_var = rng.uniform(0.5, 2.0, size=n) * (rng.random(n) < 0.9)
    var = prior_var * rng.uniform(0.1, 1.0, size=n)
    mu, mu0 = rng.normal(size=n), rng.normal(scale=0.1, size=n)
    mult = rng.uniform(0.5, 1.5, size=n)
    free = rng.random(n_blocks) < 0.8
    tau = rng.uniform(0.5, 1.5, size=n_blocks)
    want = ref.relevance_scales(mu, var, mu0, prior_var, mult, block, free, tau, 1e-6)
    got = tau.copy()
    relevance_scales(mu, var, prior_var, mu0, mult, block, free, got, 1e-6)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert (got[:4] == tau[:4]).all()


def test_composing_policies_say_whether_they_learn_as_the_pool_ones_do():
    # The Experiment page's learning-speed advice reads it (none for uniform/oracle alone).
    from simulation.generated.policies import GENERATED_POLICIES
    from simulation.policies import POLICIES

    for name, cls in GENERATED_POLICIES.items():
        if name in POLICIES:
            assert cls.learns == POLICIES[name].learns, name
    assert GENERATED_POLICIES["mvt_ts"].learns
    assert not GENERATED_POLICIES["uniform"].learns and not GENERATED_POLICIES["oracle"].learns
