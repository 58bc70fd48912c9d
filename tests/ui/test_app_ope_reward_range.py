"""The Off-policy evaluation page declares a reward range, as ``ope --reward-range`` does.

The audit: for an uploaded log whose rewards are not clicks, the page only warned that the
observed range is used and the intervals may be too narrow; the command line could declare
the range (``--reward-range LOW,HIGH``), the page could not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui.forms import reward_range
from ui.uploads import parse_log_upload

REWARDS = np.array([0.0, 2.5, 7.0])


def _order_value_log(n: int = 600, seed: int = 0) -> bytes:
    """A foreign log whose reward is an order value: 0 mostly, else 2.5 or 7."""
    rng = np.random.default_rng(seed)
    action = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "action": action,
            "reward": np.where(rng.random(n) < 0.2, rng.choice([2.5, 7.0], n), 0.0),
            "propensity": np.full(n, 1 / 3),
            "x_0": rng.random(n),
        }
    )
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("   ", None), (None, None), ("0,10", (0.0, 10.0)), (" -1 , 7 ", (-1.0, 7.0)),
     ("0,7", (0.0, 7.0)), ("-2.5e1,1e3", (-25.0, 1000.0))],
)  # fmt: skip
def test_a_declared_range_is_read_as_the_command_line_reads_it(text, expected):
    assert reward_range(text, REWARDS) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("10", "must be LOW,HIGH"),
        ("0,5,10", "must be LOW,HIGH"),
        ("a,b", "must be LOW,HIGH"),
        ("10,0", "must be LOW,HIGH: two finite numbers with LOW < HIGH; got '10,0'"),
        ("3,3", "must be LOW,HIGH"),
        ("0,inf", "must be LOW,HIGH"),
        ("nan,1", "must be LOW,HIGH"),
        ("0,5", r"Reward range \[0, 5\] leaves out rewards the log holds \(they run from 0 to 7\)"),
        ("1,10", r"leaves out rewards .*from 0 to 7"),
    ],
)
def test_a_bad_range_is_refused_in_one_line(text, reason):
    with pytest.raises(ValueError, match=reason) as caught:
        reward_range(text, REWARDS)
    assert "\n" not in str(caught.value)


def _estimate(at, text: str):
    at.text_input(key="ope-reward-range").set_value(text)
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception, at.exception


def _plain(text: str) -> str:
    return text.replace("\\", "").replace("\u2060", "")


def test_a_declared_range_reaches_the_evaluation_and_the_warning_goes(app, open_page):
    data = _order_value_log()
    app.session_state["ope-upload"] = ("orders.csv", "x", parse_log_upload("orders.csv", data))
    app.session_state["ope-source"] = "Upload a log"
    at = open_page(app, "ope")
    _estimate(at, "")
    report = at.session_state["ope-report"][1]
    assert report.bounds_source == "observed" and report.bounds == (0.0, 7.0)
    warnings = [_plain(w.value) for w in at.warning if "observed one" in _plain(w.value)]
    assert len(warnings) == 1 and "Reward range" in warnings[0]
    # The page's box, not the command's flag (the audit: the app told its users to pass
    # --reward-range on a command line they were not using).
    assert "--reward-range" not in warnings[0] and "command line" not in warnings[0]
    assert warnings[0].endswith("Declare the range in the **Reward range** box above Estimate.")
    _estimate(at, "0,50")
    report = at.session_state["ope-report"][1]
    assert report.bounds_source == "declared" and report.bounds == (0.0, 50.0)
    assert not [w for w in at.warning if "observed one" in _plain(w.value)]
    assert not at.error


def test_a_range_leaving_out_a_reward_is_refused_beside_its_box_and_nothing_runs(app, open_page):
    data = _order_value_log()
    app.session_state["ope-upload"] = ("orders.csv", "x", parse_log_upload("orders.csv", data))
    app.session_state["ope-source"] = "Upload a log"
    at = open_page(app, "ope")
    _estimate(at, "0,5")
    assert [_plain(e.value) for e in at.error] == [
        "Reward range [0, 5] leaves out rewards the log holds (they run from 0 to 7); "
        "declare a range that contains every reward."
    ]
    assert "ope-report" not in at.session_state and not at.metric
