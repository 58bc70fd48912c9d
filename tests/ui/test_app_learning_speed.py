"""Experiment page: the learning-speed advice quotes the measured horizon and offers it."""

from __future__ import annotations

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
