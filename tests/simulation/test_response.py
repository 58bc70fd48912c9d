import numpy as np
import pytest

from creative.attributes import encode_attributes
from creative.vocabulary import LAYOUTS, OFFER_DISCOUNT
from simulation.config import ExperimentConfig
from simulation.population import KEYWORDS, generate_population
from simulation.response import (
    MECHANISMS,
    PRICE_REFERENCE,
    ArmContent,
    ResponseModel,
    sample_response_params,
)
from simulation.rng import stream
from simulation.scenario import build_scenario
from simulation.world import WorldConfig


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(ExperimentConfig(n_users=20_000))


def _expectations(scenario, level):
    users = scenario.population
    lvl = scenario.levels[level]
    return scenario.response.expectations(
        users, lvl.arm_attributes(users, scenario.segmentation.labels)
    )


def test_sampled_rates_match_expectations(scenario, rng):
    exp = _expectations(scenario, "user")
    n = exp.ctr.shape[0]
    total_clicks = total_conv = 0.0
    exp_clicks = exp_conv = 0.0
    for _ in range(20):  # 400,000 impressions of arm 0
        arms = np.zeros(n, dtype=int)
        click, conv, _revenue, _cost = scenario.response.realize(
            exp, arms, scenario.response.draw_uniforms(n, rng)
        )
        total_clicks += click.sum()
        total_conv += conv.sum()
        exp_clicks += exp.ctr[:, 0].sum()
        exp_conv += (exp.ctr[:, 0] * exp.cvr[:, 0]).sum()
    # Sums of independent Bernoullis: the variance is at most the mean.
    assert abs(total_clicks - exp_clicks) < 5 * np.sqrt(exp_clicks)
    assert abs(total_conv - exp_conv) < 5 * np.sqrt(exp_conv)


@pytest.mark.parametrize("level", ["generic", "segment", "user"])
def test_defaults_inside_calibrated_ranges(scenario, level):
    exp = _expectations(scenario, level)
    ctr = exp.ctr.mean(axis=0)
    cvr = (exp.ctr * exp.cvr).sum(axis=0) / exp.ctr.sum(axis=0)
    roas = exp.revenue.mean(axis=0) / exp.cost.mean(axis=0)
    cpm = exp.cost.mean() * 1000
    # Published social-ad ranges (docs/calibration.md): CTR 0.5-3 %, conversion
    # after click 2-10 % on average, CPM $5-25, ROAS 1-5. A single dear product
    # converts less (the price term: a $229 vacuum about half as often as a $50 item).
    assert ((ctr > 0.005) & (ctr < 0.03)).all()
    assert 0.02 < cvr.mean() < 0.10
    assert ((cvr > 0.01) & (cvr < 0.15)).all()
    assert 5 < cpm < 25
    assert ((roas > 0.7) & (roas < 5.5)).all()


def test_discounts_trade_clicks_for_order_value(scenario):
    # The best arm for CTR is not always the best for net value.
    exp = _expectations(scenario, "user")
    by_ctr = exp.reward("ctr").argmax(axis=1)
    by_value = exp.reward("roas").argmax(axis=1)
    assert (by_ctr != by_value).mean() > 0.05


def test_bad_arm_attributes(scenario):
    with pytest.raises(ValueError, match="`arm_attributes` must have shape"):
        scenario.response.expectations(scenario.population, np.zeros((3, 7)))


def test_expectations_are_the_sum_of_the_named_terms(scenario):
    # The fast path (one einsum) and the per-mechanism terms the world report
    # shows are the same model.
    users = scenario.population.take(np.arange(2_000))
    labels = scenario.segmentation.labels[:2_000]
    for name, level in scenario.levels.items():
        arms = level.arm_attributes(users, labels)
        exp = scenario.response.expectations(users, arms)
        terms = scenario.response.terms(users, arms)
        assert set(terms) == set(MECHANISMS), name
        p = scenario.response.params
        click = p.ctr_bias + sum(t[0] for t in terms.values())
        conv = p.cvr_bias + sum(t[1] for t in terms.values())
        # rtol: user traits are float32, summed in another order.
        np.testing.assert_allclose(exp.ctr, 1 / (1 + np.exp(-click)), rtol=1e-7)
        np.testing.assert_allclose(exp.cvr, 1 / (1 + np.exp(-conv)), rtol=1e-7)


def test_order_value_is_the_shown_products_price_net_of_the_offer(scenario):
    level = scenario.levels["segment"]
    users = scenario.population.take(np.arange(500))
    labels = scenario.segmentation.labels[:500]
    exp = scenario.response.expectations(users, level.arm_attributes(users, labels))
    for i in range(0, 500, 50):
        for arm, c in enumerate(level.creatives[labels[i]]):
            kept = 1 - OFFER_DISCOUNT[c.offer] if c.offer.startswith("discount") else 1.0
            if c.offer == "free_shipping":
                kept = 1 - scenario.response.params.free_shipping_cost
            assert exp.order_value[i, arm] == pytest.approx(c.price * kept)


def _pinned(**changes):
    # No jitter and no global content noise: every difference is a mechanism.
    zero = dict.fromkeys(("category_appeal_sd", "tone_sd", "layout_sd", "tone_offer_sd"), 0.0)
    world = WorldConfig(jitter=0.0, **zero).replace(**changes)
    return ResponseModel(sample_response_params(np.random.default_rng(0), world))


def _one_arm(users, keyword, category="fitness", **kw):
    attrs = encode_attributes(
        category=category,
        tone=kw.get("tone", "informative"),
        offer=kw.get("offer", "none"),
        greeting=None,
        layout="hero",
        language="en",
        audience_kind="generic",
    )
    return ArmContent(
        attributes=attrs[None, :],
        price=np.array([45.0]),
        keyword=np.array([keyword]),
        layout=np.array([LAYOUTS.index("hero")]),
    )


def test_a_keyword_lifts_clicks_only_for_those_who_searched_it(scenario):
    users = scenario.population
    model = _pinned()
    code = KEYWORDS.index("yoga mat")
    with_kw = model.expectations(users, _one_arm(users, code)).ctr[:, 0]
    without = model.expectations(users, _one_arm(users, -1)).ctr[:, 0]
    searched = (users.keywords == code).any(axis=1)
    assert searched.sum() > 20 and (~searched).sum() > 20
    np.testing.assert_allclose(with_kw[~searched], without[~searched], rtol=1e-12)
    lift = with_kw[searched] / without[searched] - 1
    # keyword_click = 0.05 on the logit: about +5 % at rates near 1 %.
    assert np.all((lift > 0.045) & (lift < 0.055))


def test_tone_and_offer_interact():
    # Non-additive: the lift of money off depends on the tone it comes with.
    model = _pinned()
    users = generate_population(1_000, stream(0, "population"))

    def ctr(tone, offer):
        return model.expectations(users, _one_arm(users, -1, tone=tone, offer=offer)).ctr.mean()

    urgent = ctr("urgent", "discount_20") / ctr("urgent", "none")
    premium = ctr("premium", "discount_20") / ctr("premium", "none")
    # tone_offer_strength 0.04 each way: the two lifts differ by about 8 %.
    assert urgent / premium == pytest.approx(np.exp(0.08), rel=0.01)


@pytest.mark.parametrize("level", ["generic", "segment", "user"])
def test_at_scale_zero_users_traits_do_not_matter(level):
    # personalization_scale = 0: viewers who read the same language expect the
    # same CTR and conversion rate from the same content, whoever they are
    # (interests, searches, age, region, price sensitivity, hours, device).
    config = ExperimentConfig(
        n_users=2_000, n_segments=3, n_variants=3, world=WorldConfig(personalization_scale=0.0)
    )
    scen = build_scenario(config)
    users = scen.population
    if level == "user":
        # Content follows the viewer's top interest and the product their search names
        # (its price): hold both fixed.
        users = users.take(np.flatnonzero(users.top_interest == users.top_interest[0]))
        arms = scen.levels[level].arm_attributes(users, np.zeros(users.n_users, dtype=int))
        users = users.take(np.flatnonzero(arms.price[:, 0] == arms.price[0, 0]))
    # Everyone is shown segment 0's variants at the segment level.
    arms = scen.levels[level].arm_attributes(users, np.zeros(users.n_users, dtype=int))
    exp = scen.response.expectations(users, arms)
    for lang in (0, 1):
        rows = users.language == lang
        assert rows.sum() >= 2
        for rate in (exp.ctr, exp.cvr):
            np.testing.assert_allclose(rate[rows], np.broadcast_to(rate[rows][0], rate[rows].shape))
    # ... while at the default scale they do.
    default = build_scenario(config.replace(world=WorldConfig()))
    exp = default.response.expectations(users, arms)
    assert exp.ctr[users.language == 0].std(axis=0).min() > 0


def test_a_spread_of_prices_around_the_reference_lifts_conversions(scenario):
    # docs/calibration.md's price row: at the user level the price term averages about zero
    # but spreads across viewers, and conversion rates of a few percent sit on the convex
    # part of the logistic curve, so the spread itself raises mean conversions. Here three
    # arms differ only in price: the reference and e^±0.5 around it (a cheap and a dear one
    # whose geometric mean is the reference).
    users = scenario.population.take(np.arange(2_000))
    model = _pinned()
    base = _one_arm(users, keyword=-1)
    prices = PRICE_REFERENCE * np.exp([-0.5, 0.0, 0.5])
    arms = ArmContent(
        attributes=np.repeat(base.attributes, 3, axis=0),
        price=prices,
        keyword=np.repeat(base.keyword, 3),
        layout=np.repeat(base.layout, 3),
    )
    price_term = model.terms(users, arms)["price"][1]
    np.testing.assert_allclose(price_term[:, 0] + price_term[:, 2], 0.0, atol=1e-12)
    np.testing.assert_allclose(price_term[:, 1], 0.0, atol=1e-12)
    exp = model.expectations(users, arms)
    conversions = exp.ctr * exp.cvr
    # Dearer still converts fewer clicks ...
    assert (exp.cvr[:, 0] > exp.cvr[:, 1]).all() and (exp.cvr[:, 1] > exp.cvr[:, 2]).all()
    # ... yet the cheap and dear pair converts more on average than two $50 ads would.
    assert (exp.cvr < 0.5).all()  # the convex side of the curve
    assert ((conversions[:, 0] + conversions[:, 2]) / 2 > conversions[:, 1]).all()
