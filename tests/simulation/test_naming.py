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
        "uniform+epsilon_greedy+ucb1+thompson+lin_ucb · generic/segment/user · "
        "300k impressions · 3 seeds · CTR objective"
    )
    assert "None" not in label


def test_saved_lists_equal_live_tuples_and_same_settings_are_said():
    live = ExperimentConfig().to_dict() | {"levels": ("generic", "segment", "user")}
    assert run_label([live, ExperimentConfig().to_dict()]) == ["same settings"] * 2


def test_unknown_and_missing_keys_are_shown_not_dropped():
    labels = run_label([{"seed": 1, "segments_file": "abc123"}, {"seed": 1}])
    assert labels == ["segments_file=abc123", "segments_file –"]
    assert format_setting("x", "y" * 60).endswith("…")


@pytest.mark.parametrize("bad", ["ucb1", {"seed": 1}, [1, 2]])
def test_bad_input_is_a_type_error(bad):
    with pytest.raises(TypeError, match="`configs` must be a sequence of mappings"):
        run_label(bad)
