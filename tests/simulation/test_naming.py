"""Run names from settings: one run by its main settings, several by what differs."""

from __future__ import annotations

import pytest

from simulation.config import ExperimentConfig
from simulation.naming import differing_settings, format_setting, run_label


def test_two_runs_differing_in_budget_and_delay_get_different_labels():
    a = ExperimentConfig(budget=500.0).to_dict()
    b = ExperimentConfig(budget=None, conversion_delay=2_000).to_dict()
    assert differing_settings([a, b]) == ["budget", "conversion_delay"]
    la, lb = run_label([a, b])
    assert la != lb
    assert la == "budget $500 · delay 0"
    assert lb == "no spend cap · delay 2,000"


def test_a_single_run_is_named_by_its_main_settings():
    (label,) = run_label([ExperimentConfig().to_dict()])
    assert label == (
        "Uniform, ε-greedy, UCB1, Thompson, LinUCB · generic/segment/user · "
        "300k impressions · 3 seeds · CTR objective"
    )
    assert "None" not in label


def test_saved_lists_equal_live_tuples_and_same_settings_are_said():
    live = ExperimentConfig().to_dict() | {"levels": ("generic", "segment", "user")}
    assert run_label([live, ExperimentConfig().to_dict()]) == ["same settings"] * 2


def test_unknown_and_missing_keys_are_shown_not_dropped():
    labels = run_label([{"seed": 1, "future_key": "abc123"}, {"seed": 1}])
    assert labels == ["future_key=abc123", "future_key –"]
    assert format_setting("x", "y" * 60).endswith("…")


@pytest.mark.parametrize("bad", ["ucb1", {"seed": 1}, [1, 2]])
def test_bad_input_is_a_type_error(bad):
    with pytest.raises(TypeError, match="`configs` must be a sequence of mappings"):
        run_label(bad)


def test_every_setting_a_comparison_may_differ_in_reads_as_words():
    a = {"n_worlds": 1, "levels": ["generic", "segment", "user"], "regenerate_every": None,
         "segments_file": None, "space": "default"}  # fmt: skip
    b = {"n_worlds": 2, "levels": ["segment", "user", "generic"], "regenerate_every": 20_000,
         "segments_file": "/tmp/mine.csv", "space": "hill48"}  # fmt: skip
    # The same levels in another order are the same run: not a difference.
    assert run_label([a, b]) == [
        "1 world · fixed pools · clustered segments · default space",
        "2 worlds · regenerated every 20,000 · own segments · hill48 space",
    ]
    assert "=" not in " ".join(run_label([a, b]))


def test_runs_that_differ_in_policies_are_told_apart_by_their_readable_names():
    a = ExperimentConfig(policies=("uniform", "thompson")).to_dict()
    b = ExperimentConfig(policies=("uniform", "segment:thompson", "mvt_ts"),
                         levels=("generic", "generated")).to_dict()  # fmt: skip
    la, lb = run_label([a, b])
    assert la.startswith("Uniform, Thompson · ")
    assert lb.startswith("Uniform, Thompson per segment, Multivariate Thompson · ")
    assert "_" not in la + lb and "+" not in la + lb  # no spec leaks into a label


def test_every_registered_policy_has_a_short_name():
    from simulation.display import SHORT_POLICY_NAMES
    from simulation.policies import POLICIES

    # per_segment is written "segment:NAME" and named from NAME.
    assert set(POLICIES) - {"per_segment"} <= set(SHORT_POLICY_NAMES)


def test_a_world_of_another_personalization_scale_is_named_by_it():
    from simulation.world import WorldConfig

    default = ExperimentConfig().to_dict()
    null = ExperimentConfig(world=WorldConfig(personalization_scale=0.0)).to_dict()
    (label,) = run_label([null])
    assert label.endswith(" · personalization scale 0")
    assert "personalization" not in run_label([default])[0]  # the default world is not said
    assert run_label([default, null]) == ["default world", "personalization scale 0"]
    # Other world settings are a table the World page lays open: named as such, the scale
    # still by name.
    other = ExperimentConfig(world=WorldConfig(personalization_scale=2.0, jitter=0.0)).to_dict()
    jitter = ExperimentConfig(world=WorldConfig(jitter=0.0)).to_dict()
    assert run_label([null, other, jitter]) == [
        "personalization scale 0",
        "personalization scale 2, other world settings",
        "other world settings",
    ]
