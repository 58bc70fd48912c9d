"""Experiment page: the learning-speed advice quotes the measured horizon and offers it."""

from __future__ import annotations

import pytest

from simulation.learning_speed import impressions_to_separate, longer_run


def _advice(at) -> tuple[list[str], list[str]]:
    captions = [c.value for c in at.caption if "A/B split" in c.value]
    buttons = [b.label for b in at.button if b.label.startswith("Run the longer experiment")]
    return captions, buttons


def test_the_advice_and_the_button_come_from_the_measurement(app, open_page):
    # Whatever the measured horizon is (docs/performance.md, simulation/learning_speed.py),
    # the sentence quotes it and the button offers it: they cannot disagree.
    at = open_page(app, "experiment", world=None)
    have = at.number_input(key="ex-impressions").value
    need = impressions_to_separate("ctr")
    offer = longer_run("ctr", have)
    captions, buttons = _advice(at)
    assert len(captions) == 1
    quoted = f"{need:,} impressions" if need is not None else "did not separate"
    assert quoted in captions[0] and f"this run has {have:,}" in captions[0]
    if offer is None:
        assert buttons == []
    else:
        assert buttons == [f"Run the longer experiment ({offer:,} impressions)"]


def test_the_longer_run_says_how_many_times_as_long_to_one_decimal(app, open_page):
    # 2.5 times as many impressions is said as 2.5, not rounded to a whole "2".
    at = open_page(app, "experiment", world=None)
    offer = longer_run("ctr", 1)
    have = offer * 2 // 5
    # The form's value as its own button sets it (a widget in a form commits on submit).
    at.session_state["ex-impressions"] = have
    at.run()
    assert not at.exception
    assert longer_run("ctr", have) == offer
    assert any("about 2.5 times as long" in i.value for i in at.info), [i.value for i in at.info]
    # A run just short of the horizon is "a little longer", not "about 1 times".
    at.session_state["ex-impressions"] = offer - 1_000
    at.run()
    assert any("takes a little longer" in i.value for i in at.info), [i.value for i in at.info]


def _longer_button(at):
    return next(b for b in at.button if b.label.startswith("Run the longer experiment"))


@pytest.mark.parametrize("policies", [["uniform"], ["uniform", "oracle"]])
@pytest.mark.parametrize("objective", ["ctr", "roas"])
def test_no_advice_when_no_chosen_policy_learns(app, open_page, policies, objective):
    # The advice is about learning policies against the A/B split: with none chosen
    # there is nothing to wait for, whatever the run's length.
    at = open_page(app, "experiment", world=None)
    at.session_state["ex-policies"] = policies
    at.session_state["ex-objective"] = objective
    at.session_state["ex-impressions"] = 1_000
    at.run()
    assert not at.exception, at.exception
    captions, buttons = _advice(at)
    assert captions == [] and buttons == []
    assert not any("learning policies" in i.value for i in at.info)


def test_one_learning_policy_brings_the_advice_back(app, open_page):
    at = open_page(app, "experiment", world=None)
    at.session_state["ex-policies"] = ["uniform", "thompson"]
    at.session_state["ex-objective"] = "roas"
    at.session_state["ex-impressions"] = 1_000
    at.run()
    captions, buttons = _advice(at)
    assert len(captions) == 1
    offer = longer_run("roas", 1_000)
    assert buttons == (
        [] if offer is None else [f"Run the longer experiment ({offer:,} impressions)"]
    )


def test_the_longer_run_takes_the_forms_settings_as_shown(app, open_page, monkeypatch):
    # The button submits the form (it is one of its submit buttons): edits typed since the
    # last run go with it, as the browser sends a form's values only on its own submit.
    from ui import runner

    started = []

    class Started(Exception):
        pass

    def start(config, **kwargs):
        started.append(config)
        raise Started

    monkeypatch.setattr(runner, "BackgroundRun", start)
    at = open_page(app, "experiment", world=None)
    at.session_state["ex-impressions"] = 1_000
    at.run()
    offer = longer_run(at.session_state["ex-objective"], 1_000)
    assert offer is not None
    run_button = next(b for b in at.button if b.label == "Run experiment")
    longer = _longer_button(at)
    assert longer.form_id and longer.form_id == run_button.form_id
    seeds = at.number_input(key="ex-seeds").value
    at.number_input(key="ex-seeds").set_value(seeds - 1)
    _longer_button(at).click().run()
    assert [(c.n_seeds, c.n_impressions) for c in started] == [(seeds - 1, offer)]
