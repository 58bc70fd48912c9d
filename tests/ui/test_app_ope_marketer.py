"""OPE page for a marketer: the bundled sample, the log cap, rule tables, thin-data warnings."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest

from simulation.ope.evaluate import evaluate_policy
from simulation.policies.rules import append_segment, rules_from_rows
from ui.uploads import (
    LOG_CAP_ENV,
    MAX_LOG_UPLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    UploadError,
    max_log_upload_bytes,
    parse_log_upload,
    uploader_mb,
)

UPLOAD = "Upload a log"
RULE = "A rule you write"


def _log_csv(n: int, seed: int = 0, *, truth: bool = True) -> bytes:
    """A uniform-random log over 3 creatives, with segments, a context and the true rates."""
    rng = np.random.default_rng(seed)
    segment = rng.integers(0, 3, n)
    x = rng.random(n)
    q = np.column_stack([np.full(n, 0.10), 0.05 + 0.20 * x, 0.08 + 0.15 * (segment == 2)])
    action = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "segment": segment,
            "x_0": x,
            "action": action,
            "reward": (rng.random(n) < q[np.arange(n), action]).astype(int),
            "propensity": np.full(n, 1 / 3),
        }
    )
    if truth:
        for k in range(3):
            frame[f"q_true_{k}"] = q[:, k]
    return frame.to_csv(index=False).encode()


def _upload(at, name: str, data: bytes):
    at.radio(key="ope-source").set_value(UPLOAD).run()
    at.file_uploader(key="ope-file").set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def _estimate(at):
    next(b for b in at.button if b.label == "Estimate").click().run()
    assert not at.exception, at.exception
    return at


def _plain(text: str) -> str:
    """Markdown-escaped text (ui.fmt.escape_markdown) as the reader sees it."""
    return text.replace("\\", "").replace("\u2060", "")


def _estimates(at) -> pd.DataFrame | None:
    """The table of estimates (the rule editor is a data frame too)."""
    tables = [d.value for d in at.dataframe if "Estimator" in d.value.columns]
    return tables[0] if tables else None


def _main_kinds(at) -> list[str]:
    """Element types of the main area in page order (the uploader's neighbours)."""
    return [node.type for node in at.main if hasattr(node, "type")]


# ---------------------------------------------------------------- the log upload cap


def test_log_cap_is_200_mib_by_default_and_set_by_the_environment(monkeypatch):
    monkeypatch.delenv(LOG_CAP_ENV, raising=False)
    assert max_log_upload_bytes() == MAX_LOG_UPLOAD_BYTES == 200 * 2**20
    # Logs get their own cap; segment and template files keep 5 MiB.
    assert MAX_UPLOAD_BYTES == 5 * 2**20 < 50 * 2**20 <= MAX_LOG_UPLOAD_BYTES
    monkeypatch.setenv(LOG_CAP_ENV, "64")
    assert max_log_upload_bytes() == 64 * 2**20
    for bad in ("lots", "0", "-5", "nan", "5000"):
        monkeypatch.setenv(LOG_CAP_ENV, bad)
        with pytest.raises(ValueError, match="ADLAB_MAX_LOG_MB` must be a number of MiB"):
            max_log_upload_bytes()


def test_a_log_over_the_cap_is_refused_with_its_size(monkeypatch):
    data = _log_csv(200)
    with pytest.raises(UploadError, match=r"log.csv: the file is 0.0\d MB; the limit is"):
        parse_log_upload("log.csv", data, max_bytes=len(data) - 1)
    assert parse_log_upload("log.csv", data, max_bytes=len(data)).n_rounds == 200
    monkeypatch.setenv(LOG_CAP_ENV, "1")
    big = b"action,reward,propensity\n" + b"0,0,1\n" * (2**20 // 6 + 1)
    with pytest.raises(UploadError, match=r"the file is 1.00 MB; the limit is 1 MB"):
        parse_log_upload("big.csv", big)


def test_the_streamlit_server_cap_lets_every_uploader_cap_through():
    """The server's ceiling is the largest cap: each uploader's own cap is the one that binds."""
    import tomllib
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    server_mib = tomllib.loads(config.read_text())["server"]["maxUploadSize"]
    assert server_mib == uploader_mb(MAX_LOG_UPLOAD_BYTES) >= uploader_mb(MAX_UPLOAD_BYTES)


@pytest.mark.parametrize(
    ("max_bytes", "mb"), [(5 * 2**20, 5), (200 * 2**20, 200), (1, 1), (int(1.5 * 2**20), 2)]
)
def test_a_drop_zone_cap_is_whole_mb_never_below_the_apps(max_bytes, mb):
    # Rounded up: a file between the two is let through and refused in words by the check.
    assert uploader_mb(max_bytes) == mb


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "5"])
def test_a_drop_zone_cap_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="`max_bytes` must be a positive int"):
        uploader_mb(bad)


def test_a_too_large_upload_is_refused_inline_under_the_uploader(app, open_page, monkeypatch):
    monkeypatch.setenv(LOG_CAP_ENV, "1")
    at = open_page(app, "ope")
    big = _log_csv(40_000, truth=False)
    assert len(big) > 2**20
    _upload(at, "big.csv", big)
    errors = [_plain(e.value) for e in at.error]
    assert any("big.csv: the file is" in e and "the limit is 1 MB" in e for e in errors), errors
    assert any("up to 1 MB" in u.label for u in at.file_uploader)
    # The refusal sits right under the uploader, not only in a hover tooltip.
    kinds = _main_kinds(at)
    assert kinds[kinds.index("file_uploader") + 1] == "error", kinds
    assert "ope-upload" not in at.session_state
    # A file under the cap is then used, and the refusal is gone.
    _upload(at, "small.csv", _log_csv(300))
    assert not at.error
    assert any("Using small.csv" in _plain(s.value) for s in at.success)


# ---------------------------------------------------------------- the bundled sample


def test_bundled_sample_button_loads_and_evaluates(app, open_page, obd_dir, monkeypatch):
    monkeypatch.setenv("ADLAB_OBD_DIR", str(obd_dir))
    at = open_page(app, "ope")
    at.radio(key="ope-source").set_value(UPLOAD).run()
    at.selectbox(key="ope-obd-policy").set_value("random")
    at.selectbox(key="ope-obd-campaign").set_value("men")
    at.button(key="ope-obd-use").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Using the bundled sample (random/men)" in _plain(s.value) for s in at.success)
    assert any("ground truth unknown" in _plain(c.value) for c in at.caption)
    _estimate(at)
    assert not at.error
    assert at.metric[1].value == "unknown"
    assert len(_estimates(at)) == 4
    assert any("Effective sample size" in _plain(c.value) for c in at.caption)


def test_missing_sample_is_said_inline(app, open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("ADLAB_OBD_DIR", str(tmp_path / "nowhere"))
    at = open_page(app, "ope")
    at.radio(key="ope-source").set_value(UPLOAD).run()
    at.button(key="ope-obd-use").click().run()
    assert not at.exception
    errors = [_plain(e.value) for e in at.error]
    assert any("not on this machine" in e and "ADLAB_OBD_DIR" in e for e in errors), errors
    assert "ope-upload" not in at.session_state


# ---------------------------------------------------------------- rule tables


RULES = pd.DataFrame({"when": ["segment == 2", "x_0 >= 0.5"], "creative": [2, 1]})


def test_a_rule_table_is_evaluated_like_calling_evaluate_policy(app, open_page):
    data = _log_csv(6_000, seed=1)
    app.session_state["ope-rules-start"] = RULES
    at = _upload(open_page(app, "ope"), "mine.csv", data)
    at.radio(key="ope-target").set_value(RULE).run()
    # An uploaded log's columns are its own: the page says it cannot describe them.
    assert any("adlab cannot say what they mean" in c.value for c in at.caption)
    at.number_input(key="ope-rule-default").set_value(0)
    _estimate(at)
    assert not at.error, [e.value for e in at.error]
    shown = _estimates(at)

    # The same evaluation, called directly: segment appended, rule parsed, train share 0.
    log = parse_log_upload("mine.csv", data)
    context, names = append_segment(log.context, log.feature_names, log.segment)
    log = dataclasses.replace(log, context=context, feature_names=names)
    policy = rules_from_rows(
        zip(RULES["when"], RULES["creative"], strict=True),
        columns=names, n_arms=log.n_arms, default=0,
    )  # fmt: skip
    estimators = tuple(at.multiselect[0].value)
    report = evaluate_policy(
        log, policy, policy_name="rule", estimators=estimators, train_fraction=0.0,
        rng=np.random.default_rng(0), n_bootstrap=500,
    )  # fmt: skip
    assert shown["Estimate"].tolist() == [f"{v:.4f}" for v in report.estimate]
    assert shown["95 % interval"].tolist() == [
        f"{lo:.4f} – {hi:.4f}" for lo, hi in zip(report.low, report.high, strict=True)
    ]
    assert at.metric[1].value == f"{report.truth:.4f}"
    assert at.metric[2].value == f"0 / {log.n_rounds:,}"
    # The rule is shown in words, and its support is the rows where it agrees with the log.
    text = _plain(" ".join(m.value for m in at.markdown))
    assert "segment == 2 → creative 2" in text and "everyone else → creative 0" in text
    agree = int((policy.choose(log.context) == log.action).sum())
    # A deterministic rule on a uniform log: weights are 0 or 3, so ESS = the agreeing rows.
    assert any(f"Effective sample size {agree:,} of 6,000" in _plain(c.value) for c in at.caption)


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ("age >= 30", "unknown column 'age'"),
        ("segment = 2", "bad operator '='"),
        ("segment == 2", "row 1: creative 99 is out of range (the log has 3 creatives, 0 to 2)"),
    ],
)
def test_a_bad_rule_table_says_why(app, open_page, when, reason):
    creative = 99 if "out of range" in reason else 1
    app.session_state["ope-rules-start"] = pd.DataFrame({"when": [when], "creative": [creative]})
    at = _upload(open_page(app, "ope"), "mine.csv", _log_csv(300))
    at.radio(key="ope-target").set_value(RULE).run()
    _estimate(at)
    errors = [_plain(e.value) for e in at.error]
    assert any("rule table has a problem" in e and reason in e for e in errors), errors
    assert _estimates(at) is None


def test_a_default_creative_beyond_the_log_is_refused_not_clamped(app, open_page):
    app.session_state["ope-rules-start"] = RULES
    at = _upload(open_page(app, "ope"), "mine.csv", _log_csv(300))
    at.radio(key="ope-target").set_value(RULE).run()
    at.number_input(key="ope-rule-default").set_value(99)
    _estimate(at)
    errors = [_plain(e.value) for e in at.error]
    assert errors == [
        "The rule table has a problem: the 'Everyone else gets creative' box: creative 99 is "
        "out of range (the log has 3 creatives, 0 to 2)."
    ], errors
    assert _estimates(at) is None


def test_an_else_row_names_the_everyone_else_box(app, open_page):
    app.session_state["ope-rules-start"] = pd.DataFrame({"when": ["else"], "creative": [1]})
    at = _upload(open_page(app, "ope"), "mine.csv", _log_csv(300))
    at.radio(key="ope-target").set_value(RULE).run()
    _estimate(at)
    errors = [_plain(e.value) for e in at.error]
    assert errors == [
        "The rule table has a problem: row 1: an 'else' row, but everyone else already gets "
        "creative 0 from the 'Everyone else gets creative' box; remove the row (and set its "
        "creative in the 'Everyone else gets creative' box)."
    ], errors
    assert _estimates(at) is None


def test_the_rule_table_does_not_clamp_a_creative_beyond_the_log(app, open_page):
    # The grid clamps a typed value to its column's max_value without a word (99 became
    # the last creative): the creative column has no bounds, so 99 reaches the rule's
    # check, which refuses it (test_a_bad_rule_table_says_why, "out of range").
    at = _upload(open_page(app, "ope"), "mine.csv", _log_csv(300))
    at.radio(key="ope-target").set_value(RULE).run()
    (editor,) = [d for d in at.dataframe if d.proto.editing_mode]
    creative = json.loads(editor.proto.columns)["creative"]["type_config"]
    assert creative["type"] == "number"
    assert "max_value" not in creative and "min_value" not in creative


# ---------------------------------------------------------------- thin data


def test_thin_data_warning_on_a_tiny_log_not_on_a_big_one(app, open_page):
    at = _upload(open_page(app, "ope"), "tiny.csv", _log_csv(40))
    at.selectbox(key="ope-policy").set_value("uniform")
    _estimate(at)
    warnings = [w.value for w in at.warning]
    assert any("Too little data behind this estimate" in w for w in warnings), warnings
    assert any("clicks (under 30)" in w and "rough range" in w for w in warnings)

    at = _upload(open_page(app, "ope"), "big.csv", _log_csv(20_000, seed=2))
    at.selectbox(key="ope-policy").set_value("uniform")
    _estimate(at)
    assert not at.warning, [w.value for w in at.warning]
    # Uniform on a uniform log: every weight is 1, so the ESS is the evaluation rows.
    assert any("Effective sample size 10,000 of 10,000" in _plain(c.value) for c in at.caption)


def test_a_rule_on_a_creative_never_logged_is_not_supported_not_zero(app, open_page):
    # Only creatives 0 and 1 were shown (q_true_* declares 3): a rule giving everyone
    # creative 2 has no row to learn from, and IPS 0 with [0, 0] would be a confident lie.
    frame = pd.read_csv(io.BytesIO(_log_csv(600)))
    frame["action"] = frame["action"] % 2
    frame["propensity"] = 0.5
    app.session_state["ope-rules-start"] = pd.DataFrame({"when": ["segment == 0"], "creative": [2]})
    at = _upload(open_page(app, "ope"), "two.csv", frame.to_csv(index=False).encode())
    at.radio(key="ope-target").set_value(RULE).run()
    at.number_input(key="ope-rule-default").set_value(2)
    _estimate(at)
    errors = [_plain(e.value) for e in at.error]
    assert any("is not supported by the log" in e and "never show: 2)" in e for e in errors), errors
    assert _estimates(at) is None
