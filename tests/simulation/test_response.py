import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.scenario import build_scenario


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
    # Published social-ad ranges (README, "Calibration"): CTR 0.5-3 %,
    # conversion after click 2-10 %, CPM $5-25, ROAS 1-5.
    assert ((ctr > 0.005) & (ctr < 0.03)).all()
    assert ((cvr > 0.02) & (cvr < 0.10)).all()
    assert 5 < cpm < 25
    assert ((roas > 0.7) & (roas < 5.5)).all()


def test_personalization_uplift_positive_and_modest(scenario):
    best = {
        lv: _expectations(scenario, lv).ctr.mean(axis=0).max()
        for lv in ("generic", "segment", "user")
    }
    uplift_user = best["user"] / best["generic"] - 1
    uplift_segment = best["segment"] / best["generic"] - 1
    # Industry reports: personalization lifts CTR by single to low double-digit
    # percent, not multiples.
    assert 0.0 < uplift_segment < 0.25
    assert 0.03 < uplift_user < 0.30


def test_discounts_trade_clicks_for_order_value(scenario):
    # The best arm for CTR is not always the best for net value.
    exp = _expectations(scenario, "user")
    by_ctr = exp.reward("ctr").argmax(axis=1)
    by_value = exp.reward("roas").argmax(axis=1)
    assert (by_ctr != by_value).mean() > 0.05


def test_bad_arm_attributes(scenario):
    with pytest.raises(ValueError, match="`arm_attributes` must have shape"):
        scenario.response.expectations(scenario.population, np.zeros((3, 7)))
