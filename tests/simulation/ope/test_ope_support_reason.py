"""The thin-support warning says only what set it off (ESS, or the events)."""

from __future__ import annotations

import numpy as np

from simulation.ope.support import MIN_CLICKS, MIN_ESS, support_of

RARELY = "rarely shows what this policy would show"


def _uniform_log(n, n_clicks, n_arms=4):
    action = np.arange(n) % n_arms
    reward = np.zeros(n)
    reward[:n_clicks] = 1.0
    return action, np.full(n, 1 / n_arms), reward


def test_the_logging_policy_on_its_own_log_with_few_clicks_is_not_told_the_log_rarely_shows_it():
    action, pscore, reward = _uniform_log(5_000, MIN_CLICKS - 1)
    support = support_of(action, pscore, reward, np.full((5_000, 4), 0.25))
    assert support.ess == 5_000 and support.clicks < MIN_CLICKS
    (warning,) = support.warnings()
    assert "Too little data" in warning and f"{MIN_CLICKS - 1} clicks" in warning
    assert RARELY not in warning and "effective sample size" not in warning


def test_a_short_effective_sample_is_told_the_log_rarely_shows_the_policy_s_choices():
    action, pscore, _ = _uniform_log(5_000, 2_000)
    # A deterministic policy that agrees with the log on a quarter of the rows: weights 4.
    # Take MIN_ESS - 1 agreeing rows out of a short log so the ESS is under the floor.
    m = 4 * (MIN_ESS - 1)
    dist = np.zeros((m, 4))
    dist[:, 0] = 1.0
    support = support_of(action[:m], pscore[:m], np.ones(m), dist)
    assert support.ess < MIN_ESS and support.clicks >= MIN_CLICKS
    (warning,) = [w for w in support.warnings() if "Too little data" in w]
    assert RARELY in warning and "clicks (under" not in warning
