"""Policy specs: parsed once into a frozen record; what a policy needs is declared on its class."""

import pytest

from simulation.config import ExperimentConfig
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
        (("lin_ucb(alpha=0.5)",), "not supported in experiments yet"),
        ((" thompson",), "must be written 'thompson'"),
    ],
)
def test_config_rejects_specs_the_engine_cannot_run(policies, match):
    with pytest.raises(ValueError, match=match):
        ExperimentConfig(policies=policies)
