"""Off-policy evaluation page: what another policy would have earned, from a log alone."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from simulation.ope.estimators import ESTIMATORS
from simulation.policies import POLICIES
from ui import cache, charts
from ui.fmt import escape_markdown, policy_name
from ui.uploads import MAX_UPLOAD_BYTES, UploadError, parse_log_upload

#: Policies that can be evaluated from a log (the oracle reads the ground truth; the
#: per-segment wrapper needs the engine's context layout).
OPE_POLICIES = tuple(
    name for name, cls in POLICIES.items()
    if not getattr(cls, "uses_ground_truth", False) and name != "per_segment"
)  # fmt: skip
DEFAULT_ESTIMATORS = [e for e in ("ips", "snips", "dm", "dr") if e in ESTIMATORS]
ESTIMATOR_NAMES = {
    "ips": "IPS (inverse propensity)",
    "snips": "SNIPS (self-normalized IPS)",
    "dm": "DM (reward model)",
    "dr": "DR (doubly robust)",
    "switch_dr": "Switch-DR",
    "sndr": "SNDR (self-normalized DR)",
}


def _runs_with_logs() -> list[tuple[str, object]]:
    try:
        store = cache.run_store()
        listing = store.list().head(50)
    except Exception as exc:
        st.warning(
            escape_markdown(f"The run store could not be read ({type(exc).__name__}: {exc}).")
        )
        return []
    out = []
    for run_id in listing["run_id"]:
        try:
            run = cache.stored_run(str(store.root), run_id)
        except LookupError:
            continue
        if run.log_path is not None:
            out.append((run_id, run))
    return out


def _saved_source():
    runs = _runs_with_logs()
    if not runs:
        st.info(
            "No saved run has an impression-level log yet. On the Experiment page, open "
            "**More settings**, switch on *Keep the impression-level log*, and run a small "
            "experiment; or upload a log here."
        )
        return None, None
    labels = {run_id: f"{run.meta.get('name') or 'run'} ({run_id})" for run_id, run in runs}
    run_id = st.selectbox("Saved run", list(labels), format_func=labels.get, key="ope-run")
    run = dict(runs)[run_id]
    c1, c2 = st.columns(2)
    level = c1.selectbox("Level logged", list(run.config["levels"]), key="ope-level")
    logging = c2.selectbox(
        "Logging policy (whose choices the log holds)", list(run.config["policies"]),
        format_func=policy_name, key="ope-logging",
    )  # fmt: skip
    root = str(cache.run_store().root)
    try:
        log = cache.saved_log(root, run_id, level, logging)
    except ValueError as exc:
        st.error(f"That log could not be read: {escape_markdown(exc)}")
        return None, None
    return ("run", root, run_id, level, logging), log


def _upload_source():
    st.markdown(
        "A CSV or Parquet file with one row per impression: `action` (the ad shown, from 0), "
        "`reward` (e.g. 1 for a click), `propensity` (the probability the logging policy "
        "gave that ad) and optional context columns `x_*`; an Open Bandit Dataset CSV or an "
        f"adlab log also works. Up to {MAX_UPLOAD_BYTES // 2**20} MB."
    )
    file = st.file_uploader("Log file", type=["csv", "parquet"], key="ope-file")
    if file is not None and st.session_state.get("ope-file-id") != file.file_id:
        st.session_state["ope-file-id"] = file.file_id
        data = file.getvalue()
        try:
            log = parse_log_upload(file.name, data)
        except UploadError as exc:
            st.session_state["ope-error"] = str(exc)
        else:
            digest = hashlib.sha256(data).hexdigest()
            st.session_state["ope-upload"] = (file.name, digest, log)
            st.session_state.pop("ope-error", None)
    if st.session_state.get("ope-error"):
        st.error(
            f"That log was not used: {escape_markdown(st.session_state['ope-error'])} "
            "The previous log is kept."
        )
    upload = st.session_state.get("ope-upload")
    if not upload:
        return None, None
    name, digest, log = upload
    st.success(f"Using {escape_markdown(name)}.")
    return ("upload", digest), log


def render() -> None:
    """Draw the page."""
    st.title("Off-policy evaluation")
    st.markdown(
        "Would another policy have done better, without running it live? A log of what the "
        "current policy showed and how people reacted is enough, if it records the "
        "**propensity** (the chance the policy had of showing that ad). Estimators re-weight "
        "the logged outcomes towards the new policy's choices: IPS and SNIPS by the ratio of "
        "probabilities, DM with a model of the reward, DR with both. On simulated logs the "
        "true value is known, so you can see how close each estimator gets."
    )
    source_kind = st.radio(
        "Log", ["A saved simulated run", "Upload a log"], horizontal=True, key="ope-source"
    )
    if source_kind == "A saved simulated run":
        source, log = _saved_source()
    else:
        source, log = _upload_source()
    if log is None:
        return
    st.caption(
        f"{log.n_rounds:,} logged impressions, {log.n_arms} ads, {log.n_features} context "
        f"features; ground truth {'known' if log.expected_reward is not None else 'unknown'}."
    )
    with st.form("ope"):
        c1, c2 = st.columns(2)
        policy = c1.selectbox(
            "Policy to evaluate", list(OPE_POLICIES), format_func=policy_name,
            index=list(OPE_POLICIES).index("thompson") if "thompson" in OPE_POLICIES else 0,
        )  # fmt: skip
        estimators = c2.multiselect(
            "Estimators", list(ESTIMATORS), default=DEFAULT_ESTIMATORS,
            format_func=lambda e: ESTIMATOR_NAMES.get(e, e),
        )  # fmt: skip
        c3, c4, c5 = st.columns(3)
        train_fraction = c3.slider(
            "Share of the log used to train the policy", 0.0, 0.9, 0.5, 0.05,
            help="The policy learns from the first part of the log (replaying it); it is "
            "evaluated on the rest.",
        )  # fmt: skip
        n_bootstrap = c4.number_input("Bootstrap resamples", 50, 5_000, 500, step=50)
        seed = c5.number_input("Seed", 0, 2**32 - 1, 0)
        submitted = st.form_submit_button("Estimate", type="primary")
    if submitted:
        if not estimators:
            st.error("Choose at least one estimator.")
        elif log.n_rounds - int(train_fraction * log.n_rounds) < 2:
            st.error("Too few rows are left to evaluate on; lower the training share.")
        else:
            try:
                report = cache.ope_report(
                    source, policy, tuple(estimators), float(train_fraction),
                    int(n_bootstrap), int(seed), _log=log,
                )  # fmt: skip
            except (ValueError, TypeError) as exc:
                st.error(f"The policy could not be evaluated on this log: {escape_markdown(exc)}")
            else:
                st.session_state["ope-report"] = (source, report)
    stored = st.session_state.get("ope-report")
    if stored is None or stored[0] != source:
        return
    report = stored[1]
    c1, c2, c3 = st.columns(3)
    c1.metric("Logging policy's value", f"{report.logging_value:.4f}",
              help="Mean observed reward on the evaluation rows.")  # fmt: skip
    c2.metric("True value of the policy", "unknown" if report.truth is None
              else f"{report.truth:.4f}")  # fmt: skip
    c3.metric("Rows (train / evaluate)", f"{report.n_train:,} / {report.n_eval:,}")
    frame = report.to_frame()
    shown = pd.DataFrame(
        {
            "Estimator": frame["estimator"].map(lambda e: ESTIMATOR_NAMES.get(e, e)),
            "Estimate": frame["estimate"].map("{:.4f}".format),
            "95 % interval": [
                f"{lo:.4f} – {hi:.4f}" for lo, hi in zip(frame.ci_low, frame.ci_high)
            ],
        }
    )
    if report.truth is not None:
        shown["Error vs truth"] = frame["error"].map("{:+.4f}".format)
        shown["Interval covers truth"] = frame["covered"].map({True: "yes", False: "no"})
    st.dataframe(shown, hide_index=True, width="stretch")
    st.altair_chart(charts.ope_chart(frame, report.truth, report.logging_value), width="stretch")
    st.caption(
        f"Policy {escape_markdown(policy_name(report.policy))}; values are mean reward per "
        "impression (clicks for CTR logs, scaled net value for ROAS logs)."
    )


render()
