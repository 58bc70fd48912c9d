"""A policy's settings as a person reads them: box labels and one-line range messages.

No Streamlit here. The ranges come from each class's ``param_ranges`` (what a spec accepts),
so a label's message and the command line's refusal never disagree; only the words differ:
a spec names ``epsilon``, the box says "Exploration share ε".
"""

from __future__ import annotations

import math
import re

from simulation.policies import POLICIES

__all__ = ["SETTING_LABELS", "range_words", "setting_label", "setting_problems"]

#: Box labels of the policies' settings, by (policy, setting) or by setting alone; the
#: meanings are those of docs/experiments.md's "Policy settings" table.
SETTING_LABELS: dict[tuple[str, str] | str, str] = {
    "epsilon": "Exploration share ε",
    ("ucb1", "alpha"): "Exploration bonus scale α",
    ("lin_ucb", "alpha"): "Exploration width α (reward SDs)",
    "prior_alpha": "Prior α (successes)",
    "prior_beta": "Prior β (failures)",
    "prior_mean": "Prior mean value per impression",
    "prior_variance": "Prior variance",
    "ridge": "Ridge (regularization)",
    "v": "Posterior scale v (reward SDs)",
    "propensity_draws": "Draws per propensity",
}

_RANGE = re.compile(r"^(a float|an int) in ([\[(])\s*(.+?)\s*,\s*(.+?)\s*([\])])$")


def setting_label(policy: str, key: str) -> str:
    """The box label of ``policy``'s setting ``key``; the key itself when it has none.

    Examples
    --------
    >>> setting_label("epsilon_greedy", "epsilon"), setting_label("lin_ucb", "alpha")
    ('Exploration share ε', 'Exploration width α (reward SDs)')
    """
    return SETTING_LABELS.get((policy, key), SETTING_LABELS.get(key, key))


def _number(text: str) -> str:
    value = float(text.replace(",", ""))
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:g}"


def range_words(words: str) -> str:
    """A ``param_ranges`` entry in words; text it does not recognize is returned as given.

    ``"a float in (0, 1e6]"`` -> ``"above 0 and at most 1,000,000"``.

    Examples
    --------
    >>> range_words("a float in [0, 1]"), range_words("an int in [1, 100,000]")
    ('between 0 and 1', 'a whole number between 1 and 100,000')
    """
    match = _RANGE.match(words.strip())
    if match is None:
        return words
    kind, opening, low, high, closing = match.groups()
    low, high = _number(low), _number(high)
    if opening == "[" and closing == "]":
        text = f"between {low} and {high}"
    else:
        text = (
            f"{'at least' if opening == '[' else 'above'} {low} and "
            f"{'at most' if closing == ']' else 'below'} {high}"
        )
    return f"a whole number {text}" if kind == "an int" else text


def _shown(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return str(value)


def setting_problems(policy: str, values: dict[str, object]) -> dict[str, str]:
    """Each of ``values`` that ``policy`` refuses, with why in one line of words.

    Each setting is checked alone by the policy class (the check a spec runs), so a box's
    message is about that box: "Exploration share ε must be between 0 and 1; got 5.".

    Parameters
    ----------
    policy : str
        A key of :data:`simulation.policies.POLICIES`.
    values : dict
        Setting -> the box's value; keys the policy does not take are ignored.

    Returns
    -------
    problems : dict
        Setting -> message, in ``values``' order; empty when every value is in range.
    """
    cls = POLICIES[policy]
    ranges = dict(cls.param_ranges)
    problems = {}
    for key, value in values.items():
        if key not in ranges:
            continue
        try:
            cls(**{key: value})
        except (ValueError, TypeError):
            problems[key] = (
                f"{setting_label(policy, key)} must be {range_words(ranges[key])}; "
                f"got {_shown(value)}."
            )
    return problems
