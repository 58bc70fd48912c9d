"""The true component effects: over the valid compositions, held to brute force."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.generated import composed_expectations, true_component_effects
from simulation.generated.space import ComponentSpace
from simulation.generated.valid_mix import valid_mix
from simulation.inputs import resolve_inputs
from simulation.scenario import build_scenario


def _random_space(rng: np.random.Generator) -> ComponentSpace:
    n_levels = (3, 2, 4, 2, 3)
    total = sum(n_levels)
    level_mask = rng.random(total) > 0.1
    pair = rng.random((total, total)) > 0.3
    pair_mask = pair & pair.T
    return ComponentSpace(
        axis_names=tuple("abcde"), n_levels=n_levels, level_mask=level_mask, pair_mask=pair_mask
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("read", [(0, 2), (1, 3, 4), (), (0, 1, 2, 3, 4)])
def test_valid_mix_counts_the_enumerated_valid_compositions(seed, read):
    space = _random_space(np.random.default_rng(seed))
    cells, weights = valid_mix(space, read)
    valid = space.enumerate_valid()
    flat = space.flat(valid)
    read = list(read)
    expected = np.zeros_like(weights)
    for g, cell in enumerate(cells):
        rows = (valid[:, read] == cell[read]).all(axis=1)
        np.add.at(expected[:, g], flat[rows].ravel(), 1.0)
    np.testing.assert_array_equal(weights, expected)
    # Every valid composition is in one cell, and no empty cell is listed.
    first_axis = weights[space.axis_of == 0]
    assert first_axis.sum() == len(valid) and (first_axis.sum(axis=0) > 0).all()
    assert np.unique(cells[:, read], axis=0).shape[0] == len(cells)


def test_valid_mix_refuses_an_axis_outside_the_space():
    space = _random_space(np.random.default_rng(0))
    with pytest.raises(ValueError, match="`read` must hold axes in"):
        valid_mix(space, [5])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    # One product: the studio's constraints (greeting and keyword need their headline
    # styles, offers the product allows) over an enumerable space.
    path = tmp_path_factory.mktemp("cat") / "catalogue.csv"
    path.write_text("name,category,price\nRain Jacket,outdoors,129\n")

    def build(**kw):
        base = dict(n_users=100, n_segments=2, levels=("generated",), policies=("uniform",),
                    catalogue_file=str(path))  # fmt: skip
        config, _ = resolve_inputs(ExperimentConfig(**(base | kw)))
        return build_scenario(config)

    return build


@pytest.mark.parametrize(
    ("objective", "pricing"), [("ctr", "cpm"), ("roas", "cpm"), ("roas", "cpc")]
)
def test_true_effects_are_the_brute_force_means_over_valid_compositions(small, objective, pricing):
    sc = small(pricing=pricing)
    space = sc.levels["generated"].space
    valid = space.enumerate_valid()
    assert 0 < len(valid) < space.n_raw  # the constraints bite
    flat = space.flat(valid)
    # n_users above every segment's size: all members, so the sample is the segment.
    got = true_component_effects(sc, objective, np.random.default_rng(0), n_users=1_000)
    labels = sc.segmentation.labels
    rows, sizes, scale = [], [], 0.0
    for s in range(sc.segmentation.n_segments):
        members = np.flatnonzero(labels == s)
        users = np.repeat(members, len(valid))
        combos = np.tile(valid, (members.size, 1))
        reward = composed_expectations(sc, users, combos).reward(objective)[:, 0]
        mean = reward.reshape(members.size, len(valid)).mean(axis=0)  # per composition
        scale = max(scale, float(np.abs(mean).max()))
        effect = np.full(space.n_levels_total, np.nan)
        for m in range(space.n_levels_total):
            with_m = (flat == m).any(axis=1)
            if with_m.any():
                effect[m] = mean[with_m].mean() - mean.mean()
        rows.append(effect)
        sizes.append(members.size)
    rows = np.array(rows)
    expected = np.vstack([rows, np.array(sizes) / sum(sizes) @ rows])
    # The truth sums the response's logit terms in another order than expectations():
    # rounding of ~1e-10 of the reward itself, far below any effect (~1e-2 of it).
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8 * scale)


def test_a_greeting_is_credited_only_where_its_headline_prints_it(small):
    # The studio's greeting prints only in the greeting headline or in the greet_search
    # body (beside a plain headline): the valid compositions with the greeting are exactly
    # those of the two styles, so the greeting's effect is their count-weighted mean.
    # (Averaged over unconstrained compositions, the greeting was credited in headlines
    # that never print it, and every headline's effect was 0.)
    sc = small()
    space = sc.levels["generated"].space
    names = dict(zip(space.axis_names, space.level_names, strict=True))
    greeting = space.offsets[space.axis_names.index("greeting")] + names["greeting"].index("timely")
    headline = space.offsets[space.axis_names.index("headline")]
    styled = headline + names["headline"].index("greeting")
    both = headline + names["headline"].index("greet_search")
    level = sc.levels["generated"]
    _, weights = valid_mix(space, [int(a) for a in level.factor_axis if a >= 0])
    n_headlines = space.n_levels[space.axis_names.index("headline")]
    others = [h for h in range(headline, headline + n_headlines) if h not in (styled, both)]
    timely = weights[greeting] > 0
    assert timely.any() and (weights[np.ix_(others, timely)] == 0).all()
    assert weights[both].sum() > 0
    np.testing.assert_array_equal(weights[styled] + weights[both], weights[greeting])
    effects = true_component_effects(sc, "ctr", np.random.default_rng(1))
    n_styled, n_both = weights[styled].sum(), weights[both].sum()
    np.testing.assert_allclose(
        effects[:, greeting],
        (n_styled * effects[:, styled] + n_both * effects[:, both]) / (n_styled + n_both),
        rtol=1e-9,
    )
