"""Policy specs: parsed once into a frozen record; what a policy needs is declared on its class."""

import dataclasses

import pytest

from simulation.config import ExperimentConfig, applies, canonical_policy
from simulation.policies import CONTEXTUAL, POLICIES, PolicySpec, make_policy
from simulation.policies.linear import LinUCB
from simulation.policies.special import PerSegment


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("thompson", PolicySpec(name="thompson")),
        ("segment:ucb1", PolicySpec(name="ucb1", per_segment=True)),
        ("oracle", PolicySpec(name="oracle")),
        (
            "lin_ucb(alpha=0.5, ridge=2.0)",
            PolicySpec(name="lin_ucb", params=(("alpha", 0.5), ("ridge", 2.0))),
        ),
        (
            "segment:thompson(prior_alpha=2.0)",
            PolicySpec(name="thompson", per_segment=True, params=(("prior_alpha", 2.0),)),
        ),
    ],
)
def test_parse_and_str_round_trip(text, spec):
    assert PolicySpec.parse(text) == spec
    assert str(spec) == text
    assert PolicySpec.parse(str(spec)) == spec
    assert hash(spec) == hash(PolicySpec.parse(text))  # frozen: usable as a cache key


def test_whitespace_is_not_canonical_but_parses():
    spec = PolicySpec.parse(" segment: ucb1 ")
    assert spec == PolicySpec(name="ucb1", per_segment=True) and str(spec) == "segment:ucb1"


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        (3, TypeError, "policy names must be str"),
        ("nope", ValueError, "unknown policy 'nope'"),
        ("per_segment", ValueError, "unknown policy 'per_segment'"),  # the wrapper, not a policy
        ("segment:oracle", ValueError, "cannot run per segment"),
        ("segment:segment:ucb1", ValueError, "must look like"),
        ("lin_ucb(beta=1)", ValueError, r"unknown hyperparameter\(s\) \['beta'\]"),
        ("lin_ucb(alpha=1000.0)", ValueError, "`alpha` must be a float"),
        ("lin_ucb(alpha=)", ValueError, "`alpha` must be a literal"),
        ("lin_ucb(alpha)", ValueError, "must be KEY=VALUE"),
        ("lin_ucb(alpha=1.0, alpha=2.0)", ValueError, "duplicate keys"),
        ("lin_ucb(alpha=[1])", TypeError, "must be int, float, bool or str"),
        ("ucb1(alpha=1e9)", ValueError, r"ucb1 takes alpha \(a float in \[0, 100\]\)\.$"),
        ("uniform(epsilon=0.1)", ValueError, "uniform takes no settings"),
        (
            "thompson(prior_beta=0)",
            ValueError,
            r"prior_alpha \(a float in \(0, 1e6\]\), prior_beta",
        ),
        ("epsilon_greedy(epsilon=True)", ValueError, "epsilon_greedy takes epsilon"),
        ("lin_ts(propensity_draws=10000000)", ValueError, r"an int in \[1, 100,000\]"),
        ("ucb1(alpha=" + "1" * 200 + ")", ValueError, "at most 200 characters"),
    ],
)
def test_bad_specs(text, error, match):
    with pytest.raises(error, match=match):
        PolicySpec.parse(text)


def test_needs_are_declared_on_the_classes():
    assert {"lin_ucb", "lin_ts", "per_segment"} == CONTEXTUAL
    assert [n for n, c in POLICIES.items() if c.needs_truth] == ["oracle"]
    assert {n for n, c in POLICIES.items() if not c.learns} == {"uniform", "oracle"}
    assert {n for n, c in POLICIES.items() if not c.per_segment_ok} == {"oracle", "per_segment"}
    assert all(c.uses_ground_truth == c.needs_truth for c in POLICIES.values())
    # A per-segment copy reads the contexts (its segment columns) whatever its base.
    assert PolicySpec.parse("segment:ucb1").needs_contexts
    assert not PolicySpec.parse("ucb1").needs_contexts
    assert PolicySpec.parse("oracle").needs_truth and not PolicySpec.parse("oracle").learns


def test_build_and_make_policy():
    policy = make_policy("segment:thompson(prior_alpha=2.0)", n_segments=4)
    assert isinstance(policy, PerSegment)
    assert (policy.base, policy.n_segments, policy.base_params) == (
        "thompson",
        4,
        {"prior_alpha": 2.0},
    )
    lin = make_policy(PolicySpec.parse("lin_ucb(alpha=0.5)"))
    assert isinstance(lin, LinUCB) and lin.alpha == 0.5 and lin.ridge == 1.0


def test_config_keeps_the_strings_and_parses_them_once():
    config = ExperimentConfig(policies=("thompson", "segment:ucb1", "lin_ts"))
    assert config.policies == ("thompson", "segment:ucb1", "lin_ts")
    assert [str(s) for s in config.policy_specs] == list(config.policies)
    assert [s.needs_contexts for s in config.policy_specs] == [False, True, True]


@pytest.mark.parametrize(
    ("policies", "match"),
    [
        (("segment:oracle",), "cannot run per segment"),
        (("per_segment",), "unknown policy"),
        ((" thompson",), "must be written 'thompson'"),
        (("thompson(prior_alpha=2,prior_beta=3)",), "must be written 'thompson\\(prior_alpha"),
        (("ucb1(beta=1)",), r"unknown hyperparameter\(s\) \['beta'\] of 'ucb1'; ucb1 takes alpha"),
        (("mvt_ts(alpha=1)",), "mvt_ts takes no settings"),
    ],
)
def test_config_rejects_specs_the_engine_cannot_run(policies, match):
    with pytest.raises(ValueError, match=match):
        ExperimentConfig(policies=policies)


def test_bad_settings_are_one_line_naming_the_settings_and_their_ranges():
    for text in ("epsilon_greedy(epsilon=1.5)", "lin_ucb(gamma=1)", "thompson(prior_alpha=-1)"):
        with pytest.raises(ValueError) as info:
            PolicySpec.parse(text)
        message = str(info.value)
        assert "\n" not in message
        cls = PolicySpec.parse(text.partition("(")[0]).policy_class
        assert all(f"{k} ({r})" in message for k, r in cls.param_ranges)


@pytest.mark.parametrize("name", sorted(n for n, c in POLICIES.items() if not c.wraps_policies))
def test_param_ranges_name_every_setting_of_the_class(name):
    # What the error lists is what a spec may set: no setting missing, none invented.
    cls = POLICIES[name]
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    assert {k for k, _ in cls.param_ranges} == fields


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("epsilon_greedy(epsilon=0.5)", 0.5, 1.5),
        ("ucb1(alpha=100)", 100, 100.5),
        ("thompson(prior_alpha=1e6)", 1e6, 2e6),
        ("lin_ts(v=1e-09)", 1e-9, 0.0),
    ],
)
def test_the_stated_ranges_are_the_checked_ones(text, inside, outside):
    spec = PolicySpec.parse(text)
    key = spec.params[0][0]
    PolicySpec(name=spec.name, params=((key, inside),))
    with pytest.raises(ValueError, match=f"`{key}` must be"):
        PolicySpec(name=spec.name, params=((key, outside),))


def test_stream_name_is_the_spec_without_its_settings():
    assert PolicySpec.parse("epsilon_greedy(epsilon=0.05)").stream_name == "epsilon_greedy"
    assert PolicySpec.parse("segment:thompson(prior_alpha=2)").stream_name == "segment:thompson"
    assert PolicySpec.parse("lin_ucb").stream_name == "lin_ucb"


def test_config_takes_settings_and_keeps_variants_apart():
    config = ExperimentConfig(
        policies=("epsilon_greedy(epsilon=0.05)", "epsilon_greedy(epsilon=0.2)", "mvt_ts"),
        levels=("generic", "generated"),
    )
    assert [s.params for s in config.policy_specs] == [(("epsilon", 0.05),), (("epsilon", 0.2),)]
    assert applies("generic", "epsilon_greedy(epsilon=0.05)")
    assert not applies("generated", "epsilon_greedy(epsilon=0.05)")
    assert applies("user", "segment:lin_ucb(alpha=0.3)")


def test_canonical_text_at_the_boundary():
    # TOML and the command line take a spec as typed; the config keeps one spelling.
    config = ExperimentConfig.from_dict(
        {"policies": ["thompson( prior_alpha=2,prior_beta=3 )", "epsilon_greedy(epsilon=.05)"]}
    )
    assert config.policies == (
        "thompson(prior_alpha=2, prior_beta=3)",
        "epsilon_greedy(epsilon=0.05)",
    )
    with pytest.raises(ValueError, match="duplicates"):
        ExperimentConfig.from_dict({"policies": ["ucb1(alpha=0.5)", "ucb1(alpha=.5)"]})
    assert canonical_policy("nonsense(") == "nonsense("  # left for the check to name


def test_a_stored_config_with_settings_round_trips():
    config = ExperimentConfig(policies=("uniform", "segment:lin_ucb(alpha=0.3)"))
    assert ExperimentConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "pair",
    [
        ("epsilon_greedy", "epsilon_greedy(epsilon=0.1)"),
        ("lin_ts(v=1.0)", "lin_ts(ridge=1.0)"),
        ("segment:thompson", "segment:thompson(prior_alpha=1, prior_beta=1.0)"),
    ],
)
def test_a_policy_listed_twice_with_its_defaults_written_out_is_refused(pair):
    with pytest.raises(ValueError, match=r"`policies` lists one policy twice: .* defaults"):
        ExperimentConfig(policies=pair)


@pytest.mark.parametrize(
    "pair",
    [
        ("epsilon_greedy", "epsilon_greedy(epsilon=0.2)"),
        ("thompson", "segment:thompson"),
        ("lin_ucb", "lin_ts"),
    ],
)
def test_different_policies_or_settings_are_two_rows(pair):
    assert ExperimentConfig(policies=pair).policies == pair


def test_settings_fill_in_the_defaults():
    spec = PolicySpec.parse("lin_ts(v=0.5)")
    assert spec.settings == (("propensity_draws", 1000), ("ridge", 1.0), ("v", 0.5))
    assert PolicySpec.parse("uniform").settings == ()
