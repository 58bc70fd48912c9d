"""The [world] table, the ground truth laid open, and where personalization's sign comes from."""

import json

import numpy as np
import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.config import ExperimentConfig, load_config
from simulation.engine.core import run_experiment
from simulation.ground_truth import world_report
from simulation.scenario import build_scenario
from simulation.world import WorldConfig

# User-dependent effects only: no jitter, no global content effects, no locale
# penalty, so any difference between levels is personalization.
ONLY_USER_EFFECTS = WorldConfig(
    jitter=0.0,
    category_appeal_sd=0.0,
    tone_sd=0.0,
    layout_sd=0.0,
    tone_offer_sd=0.0,
    tone_offer_strength=0.0,
    discount_click=0.0,
    free_shipping_click=0.0,
    greeting_cost=0.0,
    language_mismatch=0.0,
)
SMALL = ExperimentConfig(
    n_users=2_000,
    n_segments=3,
    n_variants=3,
    policies=("uniform", "thompson"),
    n_impressions=4_000,
    batch_size=500,
    n_seeds=2,
    n_checkpoints=4,
)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"personalization_scale": -0.1}, "`personalization_scale` must be a float in"),
        ({"jitter": 1.0}, "`jitter` must be a float in"),
        ({"base_ctr": 0.0}, "`base_ctr` must be a float in"),
        ({"keyword_click": float("nan")}, "`keyword_click` must be a float in"),
        ({"tone_sd": "0.1"}, "`tone_sd` must be a float in"),
        ({"interest_click": True}, "`interest_click` must be a float in"),
    ],
)
def test_bad_world_values(changes, match):
    with pytest.raises(ValueError, match=match):
        WorldConfig(**changes)


def test_bad_world_types_and_keys():
    with pytest.raises(TypeError, match="`localized_control` must be a bool"):
        WorldConfig(localized_control=1)
    with pytest.raises(ValueError, match=r"unknown world key 'nope'; known keys are"):
        WorldConfig.from_dict({"nope": 1})
    with pytest.raises(TypeError, match="`world` must be a WorldConfig"):
        ExperimentConfig(world={"jitter": 0.1})


def test_world_table_round_trips_through_toml_and_json(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('preset = "quick"\n[world]\npersonalization_scale = 0\nkeyword_click = 0.2\n')
    config = load_config(path)
    assert config.world.personalization_scale == 0 and config.world.keyword_click == 0.2
    assert config.world.interest_click == WorldConfig().interest_click  # rest from defaults
    again = ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and hash(again) == hash(config)
    path.write_text("[world]\nbogus = 1\n")
    with pytest.raises(ValueError, match="unknown world key"):
        load_config(path)


def _expected_uplift(world: WorldConfig) -> pd.DataFrame:
    """Expected CTR of each (level, policy, seed) relative to the generic level's, paired."""
    summary = run_experiment(SMALL.replace(world=world)).summary_frame()
    wide = summary.pivot_table(index=["policy", "seed"], columns="level", values="expected_ctr")
    return wide[["segment", "user"]].div(wide["generic"], axis=0) - 1.0


def test_personalization_helps_where_users_answer_their_own_interests():
    uplift = _expected_uplift(ONLY_USER_EFFECTS)
    assert (uplift["user"] > 0.03).all()  # interest + keyword + greeting match
    assert (uplift["segment"] > 0).all()


def test_personalization_hurts_where_users_shun_their_own_interests():
    # A world of saturation: people already own what they searched for.
    world = ONLY_USER_EFFECTS.replace(
        interest_click=-0.3, top_interest_click=-0.1, keyword_click=-0.3, greeting_match=-0.2
    )
    uplift = _expected_uplift(world)
    assert (uplift["user"] < -0.03).all()
    assert (uplift["segment"] < 0).all()


def test_at_scale_zero_the_expected_uplift_is_zero():
    # The same policy at each level against itself at the generic level, same
    # seed: with users' traits irrelevant, content that differs only in its
    # user-matched parts (category, keyword, greeting, offer, tone, layout for
    # the viewer) earns exactly what the control earns.
    uplift = _expected_uplift(ONLY_USER_EFFECTS.replace(personalization_scale=0.0))
    np.testing.assert_allclose(uplift.to_numpy(), 0.0, atol=1e-12)


def test_report_tables_describe_every_arm_and_mechanism():
    scenario = build_scenario(SMALL)
    report = world_report(scenario, content_sample=300)
    arms = report.arms
    n_rows = 3 * (1 + scenario.segmentation.n_segments) * SMALL.n_variants
    assert len(arms) == n_rows and arms[["true_ctr", "true_cvr", "true_roas"]].notna().all().all()
    generic = arms[(arms.level == "generic") & (arms.segment == "all")]
    creatives = scenario.levels["generic"].creatives[0]
    assert list(generic["price"]) == [c.price for c in creatives]
    np.testing.assert_allclose(
        generic["true_roas"],
        generic["true_revenue_per_impression"] / generic["true_cost_per_impression"],
    )
    spreads = report.spreads
    assert (spreads["best_over_median"] >= 1.0).all()
    mech = report.mechanisms
    personalized = mech[mech.mechanism == "personalized"]
    assert (personalized["click_logit_mean"] == 0).all()  # no built-in bonus by default
    assert set(mech["kind"]) == {"content", "user-dependent", "locale", "built-in bonus"}


def test_world_command_writes_the_tables(tmp_path, capsys):
    config = tmp_path / "w.toml"
    config.write_text("n_users = 1000\nn_segments = 2\nn_variants = 2\n[world]\njitter = 0\n")
    out = tmp_path / "world"
    assert cli.main(["world", "--config", str(config), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["arms.csv", "spreads.csv", "mechanisms.csv", "world.json"]
    )
    assert json.loads((out / "world.json").read_text())["config"]["world"]["jitter"] == 0
    columns = set(pd.read_csv(out / "arms.csv").columns)
    assert {"product", "price", "true_ctr", "true_cvr", "true_order_value", "true_roas"} <= columns
    # Every expected value is named true: none reads as an observed rate.
    assert not columns & {"ctr", "cvr", "order_value", "roas"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".world.tmp")]
    printed = capsys.readouterr().out
    assert "true (expected) spread, all users: the best arm's value over the median" in printed
    assert printed.splitlines()[2].split() == ["metric", "conversions", "CTR", "ROAS"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "nope"], "invalid choice"),
        (["--config", "missing.toml"], "config file not found"),
        (["--seed", "-1"], "error: seed must be an int"),
        ([], "required: --out"),
    ],
)
def test_world_command_bad_input(tmp_path, capsys, argv, message):
    out = tmp_path / "o"
    extra = [] if not argv else ["--out", str(out)]
    assert cli.main(["world", *argv, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]
    assert "`" not in err[0]  # plain text: the library's markdown backticks dropped
    assert list(tmp_path.iterdir()) == []


def test_at_scale_zero_the_observed_user_uplift_interval_covers_zero():
    # The same mechanism seen from the experiment's side: with users' traits
    # irrelevant the true uplift is exactly 0 (above), and every level plays alike on
    # the same draws (common random numbers), so each replication's paired ratio is
    # exactly 1: the observed uplift is 0, and with no spread there is no interval
    # (a point "+0.0 % – +0.0 %" would read as certainty), said in the note.
    cfg = SMALL.replace(world=ONLY_USER_EFFECTS.replace(personalization_scale=0.0), n_seeds=4)
    table = run_experiment(cfg).uplift_frame()
    rows = table[(table["level"] == "user") & (table["policy"] == "uniform")]
    assert set(rows["metric"]) == {"ctr", "roas", "conversions", "revenue"}
    ctr = rows[rows["metric"] == "ctr"].iloc[0]
    assert ctr["n_pairs"] == 4 and ctr["interval_over"] == "4 seeds × 1 world"
    assert ctr["observed"] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(ctr["ci_low"]) and np.isnan(ctr["ci_high"])
    assert ctr["interval_note"].startswith("every replication gave the same ratio")
    assert ctr["expected"] == pytest.approx(0.0, abs=1e-12)
