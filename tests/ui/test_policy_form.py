"""Policy settings in words: every setting has a label, and a bad value one line about it."""

from __future__ import annotations

import pytest

from simulation.policies import POLICIES
from ui.forms import policy_spec
from ui.policy_form import range_words, setting_label, setting_problems


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_setting_a_spec_takes_has_a_label_and_a_range_in_words(name):
    for key, words in POLICIES[name].param_ranges:
        assert setting_label(name, key) != key, f"{name}.{key} has no label"
        said = range_words(words)
        assert said != words and "[" not in said and "(" not in said, said


@pytest.mark.parametrize(
    ("policy", "values", "message"),
    [
        ("epsilon_greedy", {"epsilon": 5.0}, "Exploration share ε must be between 0 and 1; got 5."),
        ("thompson", {"prior_alpha": 0.0, "prior_beta": 1.0},
         "Prior α (successes) must be above 0 and at most 1,000,000; got 0."),
        ("lin_ts", {"propensity_draws": 0},
         "Draws per propensity must be a whole number between 1 and 100,000; got 0."),
        ("lin_ucb", {"alpha": -1.0, "ridge": 1.0},
         "Exploration width α (reward SDs) must be between 0 and 100; got -1."),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_of_words_about_its_own_box(policy, values, message):
    problems = setting_problems(policy, values)
    assert list(problems.values()) == [message]
    assert "`" not in message and policy not in message  # no backticks, no spec
    with pytest.raises(ValueError) as err:
        policy_spec(policy, values)
    assert str(err.value) == message


def test_values_in_range_have_no_problem_and_unknown_keys_are_ignored():
    assert setting_problems("epsilon_greedy", {"epsilon": 1.0, "typo": 9}) == {}
    assert setting_problems("uniform", {}) == {}
