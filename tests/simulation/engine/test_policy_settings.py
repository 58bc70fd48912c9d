"""Policy settings in experiments: built from the full spec, keyed so variants compare fairly.

A spec's settings reach the policy the engine builds; its random stream is named by the spec
without settings, so a spec without settings draws as it always did (the pins hold that) and
variants of one policy meet the same users and outcome draws as distinct rows.
"""

import numpy as np
import pandas as pd
import pytest

from simulation.config import ExperimentConfig
from simulation.engine import core as engine
from simulation.engine.core import run_experiment
from simulation.policies.context_free import EpsilonGreedy
from simulation.scenario import build_scenario

SMALL = ExperimentConfig(
    n_users=2_000,
    n_segments=3,
    policies=("uniform",),
    n_impressions=6_000,
    batch_size=500,
    n_seeds=2,
    n_checkpoints=6,
)
VARIANTS = ("epsilon_greedy(epsilon=0.05)", "epsilon_greedy(epsilon=0.2)")


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(SMALL)


@pytest.fixture(scope="module")
def variants(scenario):
    config = SMALL.replace(policies=(*VARIANTS, "epsilon_greedy", "uniform"))
    return run_experiment(config, scenario=scenario)


def test_the_engine_builds_each_policy_from_its_full_spec(scenario, monkeypatch):
    built = []

    def spy(spec, **kwargs):
        policy = make(spec, **kwargs)
        built.append(policy)
        return policy

    make = engine.make_policy
    monkeypatch.setattr(engine, "make_policy", spy)
    config = SMALL.replace(
        policies=("epsilon_greedy(epsilon=0.3)", "segment:thompson(prior_alpha=2, prior_beta=3)"),
        n_seeds=1,
        levels=("generic",),
        n_impressions=1_000,
    )
    run_experiment(config, scenario=scenario, n_jobs=1)
    eps, per_segment = built
    assert isinstance(eps, EpsilonGreedy) and eps.epsilon == 0.3
    assert per_segment.base_params == {"prior_alpha": 2, "prior_beta": 3}
    assert all(c.prior_alpha == 2 and c.prior_beta == 3 for c in per_segment.copies_)


def test_variants_are_distinct_rows_named_by_their_canonical_spec(variants):
    summary = variants.summary_frame()
    assert list(dict.fromkeys(summary["policy"])) == [*VARIANTS, "epsilon_greedy", "uniform"]
    assert (summary.groupby("policy").size() == 2 * 3).all()  # seeds x levels each
    uplift = variants.uplift_frame()
    for spec in VARIANTS:  # paired across levels with itself, never with another variant
        rows = uplift[uplift["policy"] == spec]
        assert len(rows) and (rows["baseline"] == f"generic · {spec}").all()


def test_variants_meet_the_same_users(variants):
    # Common random numbers: every policy of a (seed, level) is served the same visitors,
    # so each segment's impressions, and the true CTR of whatever was shown aside, its
    # visitors' count, are identical across the variants.
    seg = variants.segment_frame()
    per_user_stream = seg.groupby(["seed", "level", "segment", "policy"])["impressions"].sum()
    table = per_user_stream.unstack("policy")
    for spec in (*VARIANTS, "epsilon_greedy"):
        np.testing.assert_array_equal(table[spec], table["uniform"])
    # ... while they do not play alike (their settings reached them).
    alloc = variants.allocation
    assert not np.array_equal(alloc[:, :, 0], alloc[:, :, 1])


def test_settings_equal_to_the_defaults_give_the_bare_specs_numbers(scenario, variants):
    # Same class, same values, same stream: the settings written out change nothing.
    config = SMALL.replace(policies=("epsilon_greedy(epsilon=0.1)", "uniform"))
    written = run_experiment(config, scenario=scenario)
    np.testing.assert_array_equal(written.series[:, :, 0], variants.series[:, :, 2])
    np.testing.assert_array_equal(written.allocation[:, :, 0], variants.allocation[:, :, 2])


def test_adding_a_variant_does_not_change_the_others(scenario, variants):
    alone = run_experiment(SMALL.replace(policies=("epsilon_greedy",)), scenario=scenario)
    np.testing.assert_array_equal(alone.series[:, :, 0], variants.series[:, :, 2])


def _shares(result, pi: int) -> np.ndarray:
    """Final share of impressions per arm, (n_seeds, n_levels, n_arms)."""
    final = result.allocation[:, :, pi, -1, :]
    return final / final.sum(axis=-1, keepdims=True)


def test_epsilon_one_always_explores_and_zero_never(scenario, tmp_path):
    config = SMALL.replace(
        policies=("epsilon_greedy(epsilon=1)", "epsilon_greedy(epsilon=0)"), n_variants=5
    )
    result = run_experiment(config, scenario=scenario)
    # Always exploring is the A/B split: each arm's share within 6 binomial standard
    # deviations of 1/5 over 6,000 impressions (sd 0.005; the largest of 30 cells' |z|
    # exceeds 4 about once in 500 runs).
    assert np.abs(_shares(result, 0) - 0.2).max() < 6 * np.sqrt(0.2 * 0.8 / 6_000)
    # Never exploring: the logged propensity of each shown arm is 1 / (arms tied for the
    # best mean), at least 1/5, never the epsilon / 5 of an exploring draw; epsilon=1's is
    # exactly 1/5 everywhere.
    path = tmp_path / "logs.parquet"
    run_experiment(config.replace(n_seeds=1, n_impressions=2_000), scenario=scenario,
                   log_path=path)  # fmt: skip
    logs = pd.read_parquet(path, columns=["policy", "pscore"])
    greedy = logs.loc[logs["policy"] == "epsilon_greedy(epsilon=0)", "pscore"]
    explore = logs.loc[logs["policy"] == "epsilon_greedy(epsilon=1)", "pscore"]
    assert len(greedy) == len(explore) == 3 * 2_000
    assert (greedy >= 0.2 - 1e-12).all() and (greedy == 1.0).any()
    np.testing.assert_allclose(explore, 0.2)


def test_a_thompson_prior_changes_the_early_allocation(scenario):
    # A prior of a million clicks and a million misses on every arm: this run's few
    # thousand impressions cannot move the posteriors apart (their means stay within about
    # 1e-3 of 0.5, their sds are 3.5e-4), so it splits like the A/B test. The default flat
    # prior chases the first clicks instead.
    config = SMALL.replace(
        policies=("thompson(prior_alpha=1000000, prior_beta=1000000)", "thompson"),
        n_impressions=2_000,
    )
    result = run_experiment(config, scenario=scenario)
    sd = np.sqrt(0.2 * 0.8 / 2_000)  # binomial, per (seed, level, arm) cell
    assert np.abs(_shares(result, 0) - 0.2).max() < 6 * sd
    assert np.abs(_shares(result, 1) - 0.2).max() > 6 * sd
