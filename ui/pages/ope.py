"""Off-policy evaluation page: what another policy would have earned, from a log alone."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from simulation.naming import saved_run_name
from simulation.ope.estimators import DM_INTERVAL_NOTE, ESTIMATORS
from simulation.ope.evaluate import OPEReport, evaluate_policy
from simulation.ope.obd import BEHAVIOR_POLICIES, CAMPAIGNS, load_obd, obd_dir
from simulation.policies import POLICIES
from simulation.policies.rules import SEGMENT_COLUMN, append_segment, rules_from_rows
from simulation.store.integrity import expected_files
from ui import cache, charts, ope_columns
from ui.fmt import LEVEL_NAMES, escape_markdown, policy_name
from ui.forms import ope_numbers, policy_settings, policy_spec, reward_range
from ui.policy_form import range_words, setting_label, setting_problems
from ui.uploads import (
    UploadError,
    format_mb,
    max_log_upload_bytes,
    parse_log_upload,
    uploader_mb,
)

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
    "switch_dr": "Switch-DR (DR's correction only where the weight is at most the number of ads)",
    "sndr": "SNDR (self-normalized DR)",
}
TARGETS = ("A built-in policy", "A rule you write")
#: The table's interval for a clipped estimate: the clipped interval (often one point)
#: would read as certainty for an estimate out of range (the warning above the table).
CLIPPED_INTERVAL = "— (clipped: see the warning above for why)"
#: The rule's default creative, as its messages name it (the box's own label).
DEFAULT_BOX = "the 'Everyone else gets creative' box"


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
        # Each run's metadata says whether it kept a log: no run is read in full to list them.
        try:
            meta, _ = cache.saved_summary(str(store.root), run_id)
            if "log.parquet" in expected_files(meta):
                out.append((run_id, meta))
        except (LookupError, ValueError):
            continue
    return out


#: Where the log comes from: the value kept in the session, and its label (the bundled
#: Open Bandit Dataset sample is offered beside the upload, so the label says so).
LOG_SOURCES = {
    "A saved simulated run": "A saved simulated run",
    "Upload a log": "Upload a log or use the bundled sample",
}


def _saved_source():
    runs = _runs_with_logs()
    if not runs:
        st.info(
            "No saved run has an impression-level log yet. On the Experiment page, open "
            "**More settings**, switch on *Keep the impression-level log*, and run a small "
            "experiment; or pick the second choice above to upload a log of your own or use "
            "the bundled Open Bandit Dataset sample."
        )
        return None, None
    # Named as the Results page names them: a run saved without a name by its settings.
    labels = {
        run_id: f"{saved_run_name(meta.get('name'), meta.get('config', {}))} ({run_id})"
        for run_id, meta in runs
    }
    run_id = st.selectbox("Saved run", list(labels), format_func=labels.get, key="ope-run")
    config = dict(runs)[run_id]["config"]
    c1, c2 = st.columns(2)
    level = c1.selectbox(
        "Level logged", list(config["levels"]), key="ope-level",
        format_func=lambda v: LEVEL_NAMES.get(v, v),
    )  # fmt: skip
    logging = c2.selectbox(
        "Logging policy (whose choices the log holds)", list(config["policies"]),
        format_func=policy_name, key="ope-logging",
    )  # fmt: skip
    root = str(cache.run_store().root)
    try:
        log = cache.saved_log(root, run_id, level, logging)
    except ValueError as exc:
        st.error(f"That log could not be read: {escape_markdown(exc)}")
        return None, None
    return ("run", root, run_id, level, logging), log


def _log_cap() -> int:
    """The log upload cap in bytes: ADLAB_MAX_LOG_MB, never above the server's ceiling."""
    server = int(st.get_option("server.maxUploadSize")) * 2**20
    try:
        cap = max_log_upload_bytes()
    except ValueError as exc:
        cap = None
        st.warning(escape_markdown(f"{exc} Using the server's limit instead."))
    return server if cap is None else min(cap, server)


def _bundled_sample() -> None:
    """The Open Bandit Dataset sample bundled beside the repository, one click away."""
    st.markdown(
        "**Or use the bundled sample**: the Open Bandit Dataset (ZOZOTOWN fashion "
        "recommendations, 10,000 rows, 80 items, clicks as the reward), logged by a "
        "uniform-random or a Bernoulli Thompson sampling policy."
    )
    c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    behavior = c1.selectbox(
        "Logging policy of the sample", BEHAVIOR_POLICIES, key="ope-obd-policy",
        format_func={"random": "uniform random", "bts": "Bernoulli Thompson sampling"}.get,
    )  # fmt: skip
    campaign = c2.selectbox("Campaign", CAMPAIGNS, key="ope-obd-campaign")
    if c3.button("Use the bundled sample", key="ope-obd-use"):
        root = obd_dir()
        path = root / behavior / campaign / f"{campaign}.csv"
        if not path.is_file():
            st.session_state["ope-obd-error"] = (
                f"The bundled sample is not on this machine: {path} is missing. Set "
                "ADLAB_OBD_DIR to the folder that holds random/ and bts/, or upload a log."
            )
        else:
            try:
                with st.spinner("Reading the sample…"):
                    log = load_obd(behavior, campaign, data_dir=root)
            except ValueError as exc:
                st.session_state["ope-obd-error"] = f"The bundled sample could not be read: {exc}"
            else:
                name = f"the bundled sample ({behavior}/{campaign})"
                st.session_state["ope-upload"] = (name, f"obd:{behavior}/{campaign}", log)
                st.session_state.pop("ope-obd-error", None)
                st.session_state.pop("ope-error", None)
    if st.session_state.get("ope-obd-error"):
        st.error(escape_markdown(st.session_state["ope-obd-error"]))


def _upload_source():
    cap = _log_cap()
    st.markdown(
        "A CSV or Parquet file with one row per impression: `action` (the ad shown, "
        "numbered from 0), "
        "`reward` (e.g. 1 for a click), `propensity` (the probability the logging policy "
        "gave that ad) and optional context columns `x_*` and `segment`; an Open Bandit "
        f"Dataset CSV or an adlab log also works. Up to {format_mb(cap)} (the "
        "`ADLAB_MAX_LOG_MB` setting): a larger file turns red in the box and is not read "
        "(point at it for the reason)."
    )
    file = st.file_uploader(
        f"Log file (CSV or Parquet, up to {format_mb(cap)})", type=["csv", "parquet"],
        key="ope-file",
        # The drop zone then states this cap, not the server's ceiling.
        max_upload_size=uploader_mb(cap),
    )  # fmt: skip
    if file is not None and st.session_state.get("ope-file-id") != file.file_id:
        st.session_state["ope-file-id"] = file.file_id
        data = file.getvalue()
        try:
            log = parse_log_upload(file.name, data, max_bytes=cap)
        except UploadError as exc:
            st.session_state["ope-error"] = str(exc)
        else:
            digest = hashlib.sha256(data).hexdigest()
            st.session_state["ope-upload"] = (file.name, digest, log)
            st.session_state.pop("ope-error", None)
    if st.session_state.get("ope-error"):
        kept = " The previous log is kept." if st.session_state.get("ope-upload") else ""
        st.error(f"That log was not used: {escape_markdown(st.session_state['ope-error'])}{kept}")
    _bundled_sample()
    upload = st.session_state.get("ope-upload")
    if not upload:
        return None, None
    name, digest, log = upload
    st.success(f"Using {escape_markdown(name)}.")
    return ("upload", digest), log


def rule_log(log):
    """``log`` with its segment as a last context column, when it has one (rules read it)."""
    if log.segment is None or SEGMENT_COLUMN in log.feature_names:
        return log
    context, names = append_segment(log.context, log.feature_names, log.segment)
    return dataclasses.replace(log, context=context, feature_names=names)


def _columns_of(log) -> tuple[str, ...]:
    return log.feature_names or tuple(f"x_{j}" for j in range(log.n_features))


def _starter_rules(columns: tuple[str, ...], n_arms: int) -> pd.DataFrame:
    """A first row to edit: segment 0, else the first context column."""
    if SEGMENT_COLUMN in columns:
        when = f"{SEGMENT_COLUMN} == 0"
    elif columns:
        when = f"{columns[0]} == 1"
    else:
        when = ""
    return pd.DataFrame({"when": [when], "creative": [min(1, n_arms - 1)]})


def _evaluate(log, policy, name: str, estimators, train_fraction, n_bootstrap, seed, declared=None):
    """Run :func:`evaluate_policy` (its report carries the support of its estimate).

    ``declared`` is the reward range typed for an uploaded log (:func:`ui.forms.reward_range`),
    as ``python -m simulation ope --reward-range`` passes it; None: the range from the log.
    """
    return evaluate_policy(
        log, policy, policy_name=name, estimators=tuple(estimators),
        train_fraction=float(train_fraction), rng=np.random.default_rng(int(seed)),
        n_bootstrap=int(n_bootstrap), reward_range=declared,
    )  # fmt: skip


#: Where the warning of an undeclared range (``OPEReport.bounds_warning``) sends the reader
#: on this page: its box, where the command's words name the ``--reward-range`` flag.
RANGE_BOX = "Reward range"
RANGE_ADVICE = f"Declare the range in the **{RANGE_BOX}** box above Estimate."


def _reward_range_box():
    """The optional reward range of an uploaded log, with a slot under it for its error.

    A foreign log does not say what its rewards can be: without it the observed range is
    used, and a rare large reward the rows missed falls outside the clip and the intervals.
    """
    c1, c2 = st.columns([2, 3])
    text = c1.text_input(
        f"{RANGE_BOX} (optional)", key="ope-reward-range", placeholder="LOW,HIGH, e.g. -1,500",
        help="The lowest and highest reward one impression can have, as two numbers "
        "(`--reward-range LOW,HIGH` of `python -m simulation ope`); it must contain every "
        "reward in the log. Estimates and intervals are clipped to it. Blank: the rewards the "
        "log shows (0 to 1 for clicks).",
    )  # fmt: skip
    return text, c2.empty()


def _column_help(columns: tuple[str, ...], run_config) -> None:
    """What each column means and which segment is which, where adlab knows it."""
    if run_config is None:
        st.caption(
            "These columns come from the file: adlab cannot say what they mean (the log's "
            "own documentation can)."
        )
        return
    n_segments = int(run_config.get("n_segments", 0))
    names = ope_columns.run_segment_names(run_config)
    table = ope_columns.column_table(columns, n_segments, names)
    if table is None:
        return
    with st.expander("What the columns mean, and which segment is which"):
        c1, c2 = st.columns([3, 2])
        c1.dataframe(table, hide_index=True, width="stretch")
        c2.dataframe(ope_columns.segment_table(n_segments, names), hide_index=True,
                     width="stretch")  # fmt: skip


def _settings_form(policy: str) -> tuple[dict[str, object], dict[str, object]]:
    """One number box per setting the policy's spec takes, each with a slot under it.

    Returns ({setting: value}, {setting: an empty slot under its box}). No min/max in the
    browser (as for the other numbers): out of range, the box would only redden and
    Estimate do nothing. The page writes why in the box's slot, in words
    (:func:`ui.policy_form.setting_problems`).
    """
    fields = policy_settings(policy)
    if not fields:
        st.caption(f"{policy_name(policy)} has no settings.")
        return {}, {}
    columns = st.columns(len(fields))
    values, slots = {}, {}
    for column, (key, default, words) in zip(columns, fields, strict=True):
        is_int = isinstance(default, int) and not isinstance(default, bool)
        values[key] = column.number_input(
            setting_label(policy, key), value=default, step=1 if is_int else None,
            format=None if is_int else "%g", key=f"ope-setting-{policy}-{key}",
            help=f"{range_words(words)[:1].upper()}{range_words(words)[1:]} (default "
            f"{default:g}); `{key}` in a spec, as `python -m simulation ope --policy` takes it.",
        )  # fmt: skip
        slots[key] = column.empty()
    return values, slots


def _rule_form(log, run_config=None) -> tuple[object, str | None]:
    """The rule table editor; returns (a RulePolicy or None, the parse error or None).

    ``run_config`` is the saved run's configuration when the log is one (None for an
    upload): the columns are then described.
    """
    columns = _columns_of(log)
    st.markdown(
        "Write the rule as rows of **when → creative**, tried top to bottom (the first "
        "match wins): a condition is `column operator number`, e.g. `segment == 2` or "
        f"`x_3 >= 0.5`, with `==`, `!=`, `<`, `<=`, `>`, `>=`. Creatives are numbered "
        f"0 to {log.n_arms - 1}, as in the log; everyone else gets the creative in the box "
        f"under the table. The log's {len(columns)} columns (copy names from here):"
    )
    # A code block shows the names as plain text (no Markdown), ready to copy.
    st.code(", ".join(columns) or "(none)", language=None, wrap_lines=True,
            height=None if len(columns) <= 20 else 110)  # fmt: skip
    _column_help(columns, run_config)
    start = st.session_state.setdefault("ope-rules-start", _starter_rules(columns, log.n_arms))
    table = st.data_editor(
        start, num_rows="dynamic", hide_index=True, key="ope-rules", width="stretch",
        column_config={
            "when": st.column_config.TextColumn("When", required=True),
            # No min/max: the grid would silently turn 99 into the largest creative;
            # the rule's check refuses it with the log's range instead.
            "creative": st.column_config.NumberColumn("Creative", step=1, required=True),
        },
    )  # fmt: skip
    # No min/max (here and below): out of range, the browser would only redden the box
    # and Estimate would do nothing; the rule's check says why beside the button instead.
    default = st.number_input(
        "Everyone else gets creative", value=0, step=1, key="ope-rule-default",
        help="A row 'else' in the table is refused: this box says what everyone else gets.",
    )  # fmt: skip
    rows = list(zip(table["when"].tolist(), table["creative"].tolist(), strict=True))
    try:
        rule = rules_from_rows(
            rows, columns=columns, n_arms=log.n_arms, default=default, default_name=DEFAULT_BOX
        )
        return rule, None
    except (ValueError, TypeError) as exc:
        return None, str(exc)


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
        "Log", list(LOG_SOURCES), horizontal=True, key="ope-source", format_func=LOG_SOURCES.get
    )
    if source_kind == "A saved simulated run":
        source, log = _saved_source()
    else:
        source, log = _upload_source()
    if log is None:
        return
    # An ad the logging policy never showed is a legitimate gap in the numbering, but
    # nothing can be learned about it from the log: say so beside the count.
    unseen = log.n_arms - int(np.count_nonzero(np.bincount(log.action, minlength=log.n_arms)))
    st.caption(
        f"{log.n_rounds:,} logged impressions, {log.n_arms} ads (numbered 0 to "
        f"{log.n_arms - 1}{f'; {unseen} never shown in the log' if unseen else ''}), "
        f"{log.n_features} context features; ground truth "
        f"{'known' if log.expected_reward is not None else 'unknown'}."
    )
    target = st.radio("Policy to evaluate", TARGETS, horizontal=True, key="ope-target")
    is_rule = target == TARGETS[1]
    if is_rule:
        log = rule_log(log)
    policy = "rule"
    if not is_rule:
        # Outside the form: the settings under it follow the policy chosen at once.
        policy = st.selectbox(
            "Built-in policy", list(OPE_POLICIES), format_func=policy_name, key="ope-policy",
            index=list(OPE_POLICIES).index("thompson") if "thompson" in OPE_POLICIES else 0,
        )  # fmt: skip
    with st.form("ope"):
        rule, rule_error, settings, slots = None, None, {}, {}
        if is_rule:
            run_config = (
                cache.saved_summary(source[1], source[2])[0]["config"]
                if source[0] == "run"
                else None
            )
            rule, rule_error = _rule_form(log, run_config)
        else:
            settings, slots = _settings_form(policy)
        estimators = st.multiselect(
            "Estimators", list(ESTIMATORS), default=DEFAULT_ESTIMATORS,
            format_func=lambda e: ESTIMATOR_NAMES.get(e, e),
        )  # fmt: skip
        c3, c4, c5 = st.columns(3)
        if is_rule:
            train_fraction = 0.0
            c3.caption("Rules do not learn: every row of the log evaluates the rule.")
        else:
            train_fraction = c3.slider(
                "Share of the log used to train the policy", 0.0, 0.9, 0.5, 0.05,
                help="The policy learns from this share of the log's rows, drawn at random "
                "(the same rows every time), replaying them; it is evaluated on the rest.",
            )  # fmt: skip
        n_bootstrap = c4.number_input(
            "Bootstrap resamples", value=500, step=50, key="ope-n-bootstrap"
        )
        seed = c5.number_input("Seed", value=0, step=1, key="ope-seed")
        # For any log, as the command line takes it; a saved run's log rarely needs it
        # (its metadata gives the range), an uploaded one often does.
        range_text, range_slot = _reward_range_box()
        submitted = st.form_submit_button("Estimate", type="primary")
    key = (source, target)
    if submitted:
        # A setting out of range is said under its own box, in words, and nothing runs.
        problems = {} if is_rule else setting_problems(policy, settings)
        for setting, problem in problems.items():
            slots[setting].error(problem)
        try:
            n_bootstrap, seed = ope_numbers(n_bootstrap=n_bootstrap, seed=seed)
            spec = policy if is_rule or problems else policy_spec(policy, settings)
            numbers_error = None
        except ValueError as exc:
            numbers_error = str(exc)
        try:
            declared = reward_range(range_text, log.reward)
        except ValueError as exc:  # said beside its box, in one line; nothing runs
            range_slot.error(escape_markdown(exc))
            problems = {**problems, "reward range": str(exc)}
        if problems:
            pass  # each said under its own box above; nothing runs
        elif not estimators:
            st.error("Choose at least one estimator.")
        elif numbers_error is not None:
            st.error(escape_markdown(numbers_error))
        elif is_rule and rule is None:
            st.error(f"The rule table has a problem: {escape_markdown(rule_error)}")
        elif log.n_rounds - int(train_fraction * log.n_rounds) < 2:
            st.error("Too few rows are left to evaluate on; lower the training share.")
        else:
            # A built-in policy goes in as its spec, built as run --policies builds it.
            target_policy = rule if is_rule else spec
            try:
                with st.spinner("Estimating…"):
                    report = _evaluate(
                        log, target_policy, spec, estimators, train_fraction, n_bootstrap,
                        seed, declared,
                    )  # fmt: skip
            except (ValueError, TypeError) as exc:
                st.error(f"The policy could not be evaluated on this log: {escape_markdown(exc)}")
            else:
                described = rule.describe() if is_rule else None
                st.session_state["ope-report"] = (key, report, described)
    stored = st.session_state.get("ope-report")
    if stored is None or stored[0] != key:
        return
    _, report, described = stored
    _show(report, described)


def _show(report: OPEReport, described: list[str] | None) -> None:
    """The estimates, their support (with warnings, simulation.ope.support), table and chart."""
    support = report.support
    if support.unsupported:
        # No estimate at all rather than IPS 0 with the interval [0, 0].
        st.error(escape_markdown(support.not_supported_message(report.policy)))
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Logging policy's value (observed)", f"{report.logging_value:.4f}",
              help="Mean observed reward on the evaluation rows.")  # fmt: skip
    c2.metric("True value of the policy", "unknown" if report.truth is None
              else f"{report.truth:.4f}")  # fmt: skip
    c3.metric("Rows (train / evaluate)", f"{report.n_train:,} / {report.n_eval:,}")
    st.caption(
        f"Effective sample size {support.ess:,.0f} of {support.n_eval:,} evaluation rows; "
        f"{support.clicks:,} {support.events} (rewards above 0) where the policy agrees with "
        "the log."
    )
    for warning in support.warnings():  # the package's own words, no user text: no escaping
        st.warning(warning)
    # An estimate outside the range the value can take is shown clipped, and said so with
    # the unclipped one, as the command prints it.
    for note in report.clip_notes(ESTIMATOR_NAMES):  # named as in the table below
        st.warning(note[0].upper() + note[1:] + ".")
    # A foreign log's range is only the observed one; none once a range is declared. The
    # page's own control, not the command's flag.
    bounds_warning = report.bounds_warning(RANGE_ADVICE)
    if bounds_warning is not None:
        st.warning(bounds_warning)
    frame = report.to_frame()
    # Only a clipped *estimate* hides its interval; a bound cut alone leaves a true interval.
    cuts = report.estimate_clipped
    shown = pd.DataFrame(
        {
            "Estimator": frame["estimator"].map(lambda e: ESTIMATOR_NAMES.get(e, e)),
            "Estimate": [
                f"{value:.4f}" + (" (clipped)" if cut else "")
                for value, cut in zip(frame["estimate"], cuts, strict=True)
            ],
            # A clipped estimate's interval is clipped too, often to a point ("1.0000 –
            # 1.0000"), which reads as certainty for an estimate the warning calls wrong.
            "95 % interval": [
                CLIPPED_INTERVAL if cut else f"{lo:.4f} – {hi:.4f}"
                for lo, hi, cut in zip(frame.ci_low, frame.ci_high, cuts, strict=True)
            ],
        }
    )
    if report.truth is not None:
        shown["Error vs truth"] = frame["error"].map("{:+.4f}".format)
        shown["Interval covers truth"] = [
            "–" if cut else ("yes" if covered else "no")
            for covered, cut in zip(frame["covered"], cuts, strict=True)
        ]
    st.dataframe(shown, hide_index=True, width="stretch")
    # The chart names the estimators as the table does ("IPS (inverse propensity)", not "ips"),
    # and draws no interval for a clipped estimate, as the table shows none.
    named = frame.assign(estimator=shown["Estimator"].to_numpy())
    named.loc[cuts, ["ci_low", "ci_high"]] = np.nan
    st.altair_chart(charts.ope_chart(named, report.truth, report.logging_value), width="stretch")
    if described is not None:
        st.markdown("**The rule evaluated**")
        st.markdown("\n".join(f"- {escape_markdown(line)}" for line in described))
        who = "the rule above"
    else:
        who = f"policy {escape_markdown(policy_name(report.policy))}"
    dm = f" {DM_INTERVAL_NOTE}" if "dm" in set(frame["estimator"]) else ""
    st.caption(
        f"Estimates for {who}; values are mean reward per impression (clicks for CTR logs, "
        f"net value in USD for ROAS logs). Intervals are {report.bounds_note()}.{dm}"
    )


render()
