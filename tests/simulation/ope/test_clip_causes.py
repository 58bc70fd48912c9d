"""A clipped estimate's note names only the causes this log shows, each by its warning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulation.ope.support import MIN_CLICKS, MIN_ESS, Support
from tests.simulation.ope.test_ope_propensity import _evaluate, audit_log

AMPLE = {"ess": 5_000.0, "clicks": 400, "n_eval": 5_000, "mean_weight": 1.0, "mean_weight_se": 0.01}
#: The bundled sample (random/all) under LinUCB: exact propensities, heavy weights, no click.
THIN = {**AMPLE, "ess": 73.0, "clicks": 0, "mean_weight": 1.17, "mean_weight_se": 0.2}
#: Propensities the log contradicts (ad 0 on half the rows, said 0.2), with ample support.
WRONG = {**AMPLE, "arm_ratio": (2.5, 0.6), "arm_share": (0.5, 0.5), "arm_pscore": (0.2, 0.8),
         "inconsistent_arms": (0,)}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "named"),
    [(THIN, {"weights"}), (WRONG, {"propensities"}), ({**WRONG, **THIN, "inconsistent_arms": (0,)},
     {"weights", "propensities"}), (AMPLE, set())],
    ids=["heavy-weights", "wrong-propensities", "both", "neither"],
)  # fmt: skip
def test_each_cause_is_named_only_when_its_warning_is_there(fields, named):
    support = Support(**fields)
    causes = " ".join(support.clip_causes())
    warnings = " ".join(support.warnings())
    assert ("propensity warning" in causes) == ("propensities" in named)
    assert ("propensities cannot be right" in warnings) == ("propensities" in named)
    assert ("too-little-data warning" in causes) == ("weights" in named)
    assert ("Too little data" in warnings) == ("weights" in named)


def test_the_bundled_samples_case_names_heavy_weights_and_zero_clicks_not_propensities():
    (cause,) = Support(**THIN).clip_causes()
    assert cause == (
        "a few heavy weights (an effective sample size of 73 of 5,000 rows and 0 clicks where "
        "the policy agrees with the log: the too-little-data warning)"
    )
    assert Support(**THIN).ess < MIN_ESS and Support(**THIN).clicks < MIN_CLICKS


@pytest.mark.parametrize(
    ("fields", "says", "never"),
    [
        (THIN, "here it comes from a few heavy weights", "propensit"),
        (WRONG, "here it comes from logged propensities that cannot be right", "heavy weights"),
        (AMPLE, "neither wrong propensities nor a few heavy weights were detected", "warning"),
    ],
    ids=["heavy-weights", "wrong-propensities", "neither"],
)
def test_a_clip_note_says_the_detected_cause_and_no_other(fields, says, never):
    report = _evaluate(audit_log())  # clips IPS (and others) above 1
    report = dataclasses.replace(report, support=Support(**fields))
    notes = [n for n, e in zip(report.clip_notes(), np.array(report.estimators)[report.clipped],
                               strict=True) if e != "dm"]  # fmt: skip
    assert notes
    for note in notes:
        assert says in note and never not in note.split("; ", 1)[1]
