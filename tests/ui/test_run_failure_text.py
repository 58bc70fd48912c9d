"""What the Experiment page says of a run that failed."""

from simulation.inputs import InputsRejected
from ui.runner import failure_text


def test_inputs_that_cannot_make_the_ads_are_shown_as_their_sentence():
    sentence = "only 0 of the 5 generic en ads the experiment needs (n_variants) passed"
    assert failure_text(InputsRejected(sentence)) == sentence


def test_any_other_failure_keeps_its_exception_name():
    assert failure_text(ValueError("bad")) == "ValueError: bad"
