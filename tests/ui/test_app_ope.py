"""Off-policy evaluation page: saved simulated logs, uploaded logs, estimates and the truth."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ui import cache
from ui.uploads import UploadError, parse_log_upload


def _csv_log(n: int = 400, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    action = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "action": action,
            "reward": (rng.random(n) < 0.05 + 0.05 * action).astype(int),
            "propensity": np.full(n, 1 / 3),
            "x_0": rng.random(n),
        }
    )
    return frame.to_csv(index=False).encode()


def test_default_render_without_logs(app, open_page):
    at = open_page(app, "ope")
    assert at.title[0].value == "Off-policy evaluation"
    assert any("No saved run has an impression-level log" in i.value for i in at.info)
    at.radio(key="ope-source").set_value("Upload a log").run()
    assert not at.exception


def test_saved_simulated_log_is_evaluated_against_the_truth(
    app, open_page, run_small_experiment, small_world
):
    at = open_page(app, "experiment")
    run_small_experiment(
        at, **{"ex-log": True, "ex-levels": ["segment"], "ex-policies": ["uniform", "thompson"]}
    )
    assert not at.error
    at.switch_page("ui/pages/ope.py").run()
    assert not at.exception
    assert at.selectbox(key="ope-logging").value == "uniform"
    # The level reads as on every other page, the run's own name kept as the value.
    assert at.selectbox(key="ope-level").value == "segment"
    assert at.selectbox(key="ope-level").options == ["Per segment"]
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert labels == [
        "Logging policy's value (observed)",
        "True value of the policy",
        "Rows (train / evaluate)",
    ]
    assert at.metric[1].value != "unknown"
    table = at.dataframe[0].value
    assert len(table) == 4
    assert {"Estimate", "95 % interval", "Error vs truth", "Interval covers truth"} <= set(
        table.columns
    )
    assert len(at.get("vega_lite_chart")) == 1
    # The chart names the estimators as the table does ("IPS (inverse propensity)", not "ips").
    (chart,) = at.get("vega_lite_chart")
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
    (estimates,) = [f for f in frames if "estimator" in f]
    assert list(estimates["estimator"]) == list(table["Estimator"])
    assert "IPS (inverse propensity)" in list(table["Estimator"])
    # Writing a rule: each column the rule can name is described, and each segment named.
    at.radio(key="ope-target").set_value("A rule you write").run()
    assert not at.exception
    columns, segments = (d.value for d in at.dataframe[:2])
    n_segments = 3  # the test world's
    assert list(segments["Segment"]) == list(range(n_segments))
    _, segmentation = cache.world(small_world)
    assert list(segments["Name"]) == [p.name for p in segmentation.profiles]
    meaning = dict(zip(columns["Column"], columns["Meaning"], strict=True))
    assert meaning["x_1"] == f"1 if in segment 1 ({segmentation.profiles[1].name}), else 0"
    assert meaning[f"x_{n_segments + 5}"] == "1 if browsing mostly on a phone, else 0"
    assert meaning["segment"].startswith("the segment's number, 0 to 2")


def test_uploaded_log_path_estimates_without_truth(app, open_page):
    data = _csv_log()
    log = parse_log_upload("mine.csv", data)
    app.session_state["ope-upload"] = ("mine.csv", hashlib.sha256(data).hexdigest(), log)
    app.session_state["ope-source"] = "Upload a log"
    at = open_page(app, "ope")
    assert any("Using mine" in s.value for s in at.success)
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception and not at.error
    assert at.metric[1].value == "unknown"
    assert "Error vs truth" not in at.dataframe[0].value.columns
    # DM (a default estimator): what its interval leaves out is said under the results.
    assert any("refits its reward model on each resample" in c.value for c in at.caption)


def test_no_estimator_is_an_error(app, open_page):
    data = _csv_log()
    app.session_state["ope-upload"] = ("m.csv", "x", parse_log_upload("m.csv", data))
    app.session_state["ope-source"] = "Upload a log"
    at = open_page(app, "ope")
    at.multiselect[0].set_value([])
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert any("at least one estimator" in e.value for e in at.error)


def _plain(text: str) -> str:
    """Markdown-escaped text (ui.fmt.escape_markdown) as the reader sees it."""
    return text.replace("\\", "").replace("\u2060", "")


def _with_upload(app, open_page):
    data = _csv_log()
    app.session_state["ope-upload"] = ("m.csv", "x", parse_log_upload("m.csv", data))
    app.session_state["ope-source"] = "Upload a log"
    return open_page(app, "ope")


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("ope-n-bootstrap", 0, "Bootstrap resamples must be between 50 and 5,000; got 0."),
        ("ope-n-bootstrap", 100_000,
         "Bootstrap resamples must be between 50 and 5,000; got 100,000."),
        ("ope-seed", -1, "Seed must be between 0 and 4,294,967,295; got -1."),
        ("ope-seed", 2**32, "Seed must be between 0 and 4,294,967,295; got 4,294,967,296."),
    ],
)  # fmt: skip
def test_a_number_out_of_range_is_refused_in_words_and_nothing_estimated(
    app, open_page, key, value, reason
):
    # The inputs have no min/max: the browser would only redden the box, and Estimate
    # would silently do nothing. The reason is said under the button instead.
    at = _with_upload(app, open_page)
    at.number_input(key=key).set_value(value)
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception
    assert [_plain(e.value) for e in at.error] == [reason]
    assert "ope-report" not in at.session_state and not at.metric
    # Back in range, the same form estimates.
    at.number_input(key=key).set_value(50 if key == "ope-n-bootstrap" else 7)
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.error and "ope-report" in at.session_state


def test_upload_error_is_shown_and_the_previous_log_kept(app, open_page):
    data = _csv_log()
    app.session_state["ope-upload"] = ("good.csv", "x", parse_log_upload("good.csv", data))
    app.session_state["ope-error"] = "bad.csv: row 3: `propensity` must be in (0, 1]"
    app.session_state["ope-source"] = "Upload a log"
    at = open_page(app, "ope")
    assert any("row 3" in e.value for e in at.error)
    assert any("Using good" in s.value for s in at.success)


def _upload(at, name: str, data: bytes):
    at.radio(key="ope-source").set_value("Upload a log").run()
    at.file_uploader(key="ope-file").set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_a_log_whose_actions_do_not_count_from_0_is_refused_on_the_page(app, open_page):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"action": rng.integers(100, 104, 5_000), "reward": rng.integers(0, 2, 5_000),
         "propensity": 0.25}
    )  # fmt: skip
    at = _upload(open_page(app, "ope"), "ids.csv", frame.to_csv(index=False).encode())
    errors = [e.value.replace("\\", "").replace("\u2060", "") for e in at.error]
    assert any(
        "That log was not used" in e and "`action` must number the ads from 0" in e
        and "found 4 ads numbered 100 to 103" in e
        for e in errors
    ), errors  # fmt: skip
    assert "ope-upload" not in at.session_state
    assert not any("104 ads" in c.value for c in at.caption)
    # The same ads numbered 0-3 are used; a gap (ad 2 never shown) is named, not refused.
    at = _upload(at, "ok.csv", frame.assign(action=frame.action - 100).to_csv(index=False).encode())
    assert not at.error and any("4 ads (numbered 0 to 3)" in c.value for c in at.caption)
    gap = frame.assign(action=np.where(frame.action == 102, 103, frame.action) - 100)
    at = _upload(at, "gap.csv", gap.to_csv(index=False).encode())
    assert not at.error
    assert any("4 ads (numbered 0 to 3; 1 never shown in the log)" in c.value for c in at.caption)


def test_a_log_that_is_not_utf8_is_refused_in_words_under_the_uploader(app, open_page):
    data = "action,reward,propensity\n0,1,0.5\n1,0,0.5\n\x95,0,0.5\n".encode("latin-1")
    at = _upload(open_page(app, "ope"), "latin.csv", data)
    errors = [e.value.replace("\\", "").replace("\u2060", "") for e in at.error]
    assert errors == ["That log was not used: latin.csv: the file is not UTF-8 text."], errors


def _frame_bytes(frame: pd.DataFrame, fmt: str = "csv") -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


BASE = pd.DataFrame({"action": [0, 1, 2], "reward": [0, 1, 0], "propensity": [0.3, 0.3, 0.4]})
BAD_LOGS = [
    ("log.csv", b"", "empty"),
    ("log.json", _frame_bytes(BASE), "expected a .csv or .parquet"),
    ("log.csv", _frame_bytes(BASE.drop(columns="propensity")), "propensity"),
    ("log.csv", _frame_bytes(BASE.assign(propensity=[0.3, 0.0, 0.4])), "propensity"),
    ("log.csv", _frame_bytes(BASE.assign(reward=["a", "b", "c"])), "reward"),
    ("log.parquet", b"not parquet at all", "log.parquet"),
    # The Audience uploader's words, not the codec's ("can't decode byte 0x95 ...").
    ("log.csv", "action,reward,propensity,x_c\n0,1,0.5,\x95\n".encode("latin-1"),
     r"^log.csv: the file is not UTF-8 text\.$"),
    # Rows count from 1 like the Audience page's; an empty cell is said in words.
    ("log.csv", b"action,reward,propensity\n0,1,0.5\n1,,0.5\n",
     r"^row 2: `reward` must be a number; got an empty cell \(or NaN\)\.$"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "reason"), BAD_LOGS)
def test_bad_logs_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(UploadError, match=reason) as info:
        parse_log_upload(name, data)
    assert "adlab-upload-" not in str(info.value)


def test_good_logs_parse_from_csv_and_parquet():
    for fmt in ("csv", "parquet"):
        log = parse_log_upload(f"log.{fmt}", _frame_bytes(BASE, fmt))
        assert log.n_rounds == 3 and log.n_arms == 3


def test_an_estimate_outside_the_values_range_is_shown_clipped_and_said_so(app, open_page):
    # The audit's log: propensity 0.2 on each of 5 ads, but ad 0 logged half the time and
    # clicked 90 % of the time, so IPS comes out above 1, a click rate no policy can have.
    rng = np.random.default_rng(0)
    action = np.where(rng.random(400) < 0.5, 0, rng.integers(1, 5, 400))
    reward = np.where(action == 0, rng.random(400) < 0.9, rng.random(400) < 0.05).astype(int)
    data = _frame_bytes(pd.DataFrame({"action": action, "reward": reward, "propensity": 0.2}))
    app.session_state["ope-upload"] = ("bad.csv", "y", parse_log_upload("bad.csv", data))
    app.session_state["ope-source"] = "Upload a log"
    at = open_page(app, "ope")
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    clipped = table[table["Estimate"].str.endswith("(clipped)")]
    assert len(clipped) >= 1
    assert any("the unclipped estimate was" in w.value for w in at.warning)
    # Each clip's warning names the estimator as the table does ("IPS (inverse propensity)
    # clipped to 1", not "Ips clipped to 1"), and its interval is no point ("1.0000 –
    # 1.0000" read as certainty) but says why there is none.
    notes = [w.value for w in at.warning if "the unclipped estimate was" in w.value]
    assert sorted(n.split(" clipped to ")[0] for n in notes) == sorted(clipped["Estimator"])
    assert clipped["95 % interval"].str.startswith("— (clipped: ").all()
    # A note points only to warnings the page shows: this log's propensities are wrong,
    # so each weighted estimate's note names the propensity warning, which is there.
    others = [w.value for w in at.warning if "the unclipped estimate was" not in w.value]
    for note in notes:
        if "propensity warning" in note:
            assert any(w.startswith("The logged propensities cannot be right") for w in others)
        if "too-little-data warning" in note:
            assert any(w.startswith("Too little data") for w in others)
    assert any("propensity warning" in n for n in notes)
    # Every other estimate sits inside its interval.
    rest = table[~table["Estimate"].str.endswith("(clipped)")]
    assert len(rest) >= 1
    for estimate, interval in zip(rest["Estimate"], rest["95 % interval"], strict=True):
        low, high = (float(x) for x in interval.split(" – "))
        assert low <= float(estimate.split()[0]) <= high


def test_a_built_in_policys_settings_are_offered_checked_and_named(app, open_page):
    # One box per setting the policy's spec takes, labelled in words; a bad value is
    # refused in one line of words under its box (no backticks, no spec, the range once),
    # nothing estimated.
    at = _with_upload(app, open_page)
    at.selectbox(key="ope-policy").set_value("epsilon_greedy").run()
    box = at.number_input(key="ope-setting-epsilon_greedy-epsilon")
    assert box.label == "Exploration share ε"
    assert box.value == 0.1 and "Between 0 and 1" in box.help
    box.set_value(5.0)
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Exploration share ε must be between 0 and 1; got 5."]
    assert "ope-report" not in at.session_state
    at.number_input(key="ope-setting-epsilon_greedy-epsilon").set_value(0.05)
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception and not at.error
    _, report, _ = at.session_state["ope-report"]
    assert report.policy == "epsilon_greedy(epsilon=0.05)"  # the spec, canonical
    assert any("ε-greedy (epsilon=0.05)" in _plain(c.value) for c in at.caption)
    # Another policy shows its own settings; one without settings says so.
    at.selectbox(key="ope-policy").set_value("lin_ts").run()
    keys = {b.key for b in at.number_input}
    assert {"ope-setting-lin_ts-v", "ope-setting-lin_ts-ridge"} <= keys
    assert at.number_input(key="ope-setting-lin_ts-ridge").label == "Ridge (regularization)"
    assert at.number_input(key="ope-setting-lin_ts-propensity_draws").value == 1000
    at.selectbox(key="ope-policy").set_value("uniform").run()
    assert any("has no settings" in c.value for c in at.caption)


def test_untouched_settings_give_the_bare_name():
    from ui.forms import policy_settings, policy_spec

    for name in ("thompson", "lin_ucb", "uniform"):
        defaults = {key: default for key, default, _ in policy_settings(name)}
        assert policy_spec(name, defaults) == name
    assert policy_spec("thompson", {"prior_alpha": 2.0, "prior_beta": 1.0}) == (
        "thompson(prior_alpha=2.0)"
    )
