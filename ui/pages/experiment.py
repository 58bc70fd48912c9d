"""Experiment page: run the bandit experiment and read off what personalization bought.

The page leads with the like-for-like uplift (each level against the generic one, the same
policy on the same users and draws): observed with its interval and what the interval covers,
beside the true (expected) uplift, labelled as such. Headlines use observed values only.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from simulation.config import LEVELS, OBJECTIVES
from simulation.engine.generated import applies
from simulation.generated.policies import GENERATED_POLICIES
from simulation.interval_words import (
    headline_note,
    metrics_over,
    one_replication,
    tile_help,
    tile_interval_notes,
    tile_refusal_note,
    tiles_over,
    uplift_caption,
)
from simulation.learning_speed import (
    MEASURED_SEEDS,
    MEASURED_UP_TO,
    impressions_to_separate,
    longer_run,
)
from simulation.metrics import interval_over
from simulation.policies.spec import PolicySpec
from simulation.store.report import VERDICT_NAMES, best_intervals, best_note, best_rivals
from simulation.uplift_text import OBSERVED_COLUMN
from simulation.winners import (
    component_differences,
    creative_labels,
    no_events_note,
    segment_allocation,
    true_segment_rates,
    winner_verdict,
)
from ui import cache, charts, generated_view, generations, runner, state
from ui.fmt import (
    LEVEL_NAMES,
    best_pair,
    budget_stop_text,
    escape_markdown,
    money,
    multiple,
    pct,
    policy_name,
    rounded_count,
    scale_text,
    skipped_text,
)
from ui.forms import (
    APP_POLICIES,
    DEFAULT_BUDGET,
    DEFAULT_CONFIG,
    MAX_LOG_ROWS,
    experiment_config,
    log_rows,
)
from ui.tables import (
    METRIC_INTERVALS,
    WINNER_LISTS,
    best_row,
    markdown_table,
    metrics_refusal,
    metrics_table,
    table_height,
    uplift_labels,
    winners,
    winners_table,
)
from ui.uplift import uplift_display, uplift_headline, world_caveat

#: Seconds between looks at a running experiment's progress.
POLL_EVERY = 0.5
OBJECTIVE_NAMES = {"ctr": "Clicks (CTR)", "roas": "Return on ad spend (ROAS)"}
PRICING_NAMES = {"cpm": "Per 1,000 impressions (CPM)", "cpc": "Per click (CPC)"}
FORM_KEYS = (
    "ex-levels", "ex-policies", "ex-impressions", "ex-batch", "ex-seeds", "ex-objective",
    "ex-cap", "ex-budget", "ex-variants", "ex-pricing", "ex-delay", "ex-checkpoints", "ex-log",
    "ex-worlds", "ex-regen", *(f"ex-own-{kind}" for kind in state.OWN_INPUTS),
)  # fmt: skip


def _form():
    d = DEFAULT_CONFIG
    # Outside the form: a toggle inside a form cannot rerun the page, so the budget field
    # could not show that it is off.
    st.toggle("Cap the spend", key=state.keep("ex-cap", False))
    with st.form("experiment"):
        st.multiselect(
            "Personalization levels", list(LEVELS), format_func=LEVEL_NAMES.get,
            key=state.keep("ex-levels", list(d.levels)),
        )  # fmt: skip
        st.multiselect(
            "Policies (how each experiment decides which ad to show)", list(APP_POLICIES),
            format_func=policy_name, key=state.keep("ex-policies", list(d.policies)),
        )  # fmt: skip
        c1, c2, c3, c3w = st.columns(4)
        # No min/max on the numbers: the browser would refuse a value out of range behind a
        # hover icon; ui.forms checks them and the reason shows beside the Run button.
        c1.number_input(
            "Impressions per policy and level", step=10_000,
            key=state.keep("ex-impressions", d.n_impressions),
        )  # fmt: skip
        c2.number_input(
            "Batch size (impressions between learning updates)", step=100,
            key=state.keep("ex-batch", d.batch_size),
        )  # fmt: skip
        c3.number_input(
            "Seeds (repeats, for the 95 % bands)", step=1, key=state.keep("ex-seeds", d.n_seeds)
        )
        c3w.number_input(
            "Worlds (hidden parameters redrawn)", step=1,
            key=state.keep("ex-worlds", d.n_worlds),
            help="Repeat the experiment in worlds whose hidden response parameters and "
            "creatives are drawn afresh (the audience stays). The intervals are then over "
            "the world means, each world's seeds averaged first (seeds of one world share "
            "its parameters, so they are not independent): they cover world-to-world "
            "variation, not only luck within one world.",
        )  # fmt: skip
        c4, c5 = st.columns(2)
        c4.radio(
            "Objective", list(OBJECTIVES), format_func=OBJECTIVE_NAMES.get, horizontal=True,
            key=state.keep("ex-objective", d.objective),
        )  # fmt: skip
        capped = bool(st.session_state.get("ex-cap"))
        c5.number_input(
            "Budget per policy and level (USD)", step=100.0,
            key=state.keep("ex-budget", DEFAULT_BUDGET), disabled=not capped,
        )  # fmt: skip
        with st.expander("More settings"):
            # Two per row: four to a row cut off the Pricing choices.
            e1, e2 = st.columns(2)
            e3, e4 = st.columns(2)
            e1.number_input(
                "Variants per level", step=1, key=state.keep("ex-variants", d.n_variants)
            )
            e2.selectbox(
                "Pricing", ["cpm", "cpc"], format_func=PRICING_NAMES.get,
                key=state.keep("ex-pricing", d.pricing),
            )  # fmt: skip
            e3.number_input(
                "Conversion delay (impressions)", step=1,
                key=state.keep("ex-delay", d.conversion_delay),
            )  # fmt: skip
            e4.number_input(
                "Chart points", step=1, key=state.keep("ex-checkpoints", d.n_checkpoints)
            )
            st.number_input(
                "Regenerate the pools every (impressions; 0: fixed pools)", step=10_000,
                key=state.keep("ex-regen", 0),
                help="Every so many impressions each policy's weakest generic and segment "
                "creatives (by what it observed) are retired, and children of its best, one "
                "or two components changed and checked by the guardrails, take their place.",
            )  # fmt: skip
            st.toggle(
                f"Keep the impression-level log for off-policy evaluation (up to "
                f"{MAX_LOG_ROWS:,} rows)", key=state.keep("ex-log", False),
                help="Every impression of the pool levels (generic, segment, user) with its "
                "propensity and every creative's true expected reward. The generated level "
                "is not logged: its compositions have no propensities.",
            )  # fmt: skip
        _own_inputs()
        submitted = st.form_submit_button("Run experiment", type="primary")
        offer = _longer_offer()
        if offer is not None:
            # A submit button of the form, so the run takes the settings as the form shows
            # them: one outside it saw only the last submitted values (edits typed since
            # were ignored, Seeds 2 on screen ran 3).
            st.form_submit_button(
                f"Run the longer experiment ({offer:,} impressions)",
                on_click=_run_longer,
                args=(offer,),
            )
    state.remember(*FORM_KEYS)
    return submitted


def _run_longer(offer: int) -> None:
    """``on_click`` of the longer run: the form's settings as submitted, ``offer`` impressions."""
    st.session_state["ex-impressions"] = offer
    st.session_state["ex-run-longer"] = True


def _has_learner(config) -> bool:
    """Whether a chosen policy learns from rewards (the advice compares those with the A/B split).

    The A/B split (uniform) and the oracle do not; the composing policies say so as the
    pool ones do.
    """
    return any(
        GENERATED_POLICIES[name].learns
        if name in GENERATED_POLICIES
        else PolicySpec.parse(name).learns
        for name in config.policies
    )


def _longer_offer() -> int | None:
    """The longer horizon to offer for the form's submitted settings, or None.

    None while a run is in progress, for settings that do not make a config, when no chosen
    policy learns (nothing to separate from the A/B split) or when the run is long enough.
    """
    if st.session_state.get("ex-job") is not None:
        return None
    try:
        config = _config_from_state()
    except ValueError:
        return None
    if not _has_learner(config):
        return None
    return longer_run(config.objective, config.n_impressions)


def _own_inputs() -> None:
    """Checkboxes for this tab's uploads (segments, catalogue, templates); off without one."""
    available = state.own_inputs()
    columns = st.columns(len(state.OWN_INPUTS))
    for column, (kind, (_, label)) in zip(columns, state.OWN_INPUTS.items()):
        key = state.keep(f"ex-own-{kind}", False)
        if kind not in available:
            st.session_state[key] = False
        where = "Audience" if kind == "segments" else "Creatives"
        column.checkbox(
            label,
            key=key,
            disabled=kind not in available,
            help=f"Upload your {kind} on the {where} page first."
            if kind not in available
            else f"Run on {available[kind][0]} (recorded with the run, with its content hash).",
        )


def _config_from_state():
    s = st.session_state
    own = [kind for kind in state.OWN_INPUTS if s.get(f"ex-own-{kind}")]
    return experiment_config(
        state.world_settings(),
        levels=s["ex-levels"], policies=s["ex-policies"], n_impressions=s["ex-impressions"],
        batch_size=s["ex-batch"], n_seeds=s["ex-seeds"], n_worlds=s["ex-worlds"],
        objective=s["ex-objective"],
        budget=s["ex-budget"] if s["ex-cap"] else None, pricing=s["ex-pricing"],
        conversion_delay=s["ex-delay"], n_variants=s["ex-variants"],
        n_checkpoints=s["ex-checkpoints"], own_files=state.own_input_paths(own) or None,
        regenerate_every=s["ex-regen"],
    )  # fmt: skip


def _run():
    """Start the form's experiment in the background; errors show beside the Run button."""
    try:
        config = _config_from_state()
        keep_log = bool(st.session_state["ex-log"])
        if keep_log and not log_rows(config):
            raise ValueError(
                "The impression-level log records the pool levels (generic, segment, user) "
                "and none of them is selected: the generated level's compositions are not "
                "logged. Add a pool level or switch the log off."
            )
        if keep_log and log_rows(config) > MAX_LOG_ROWS:
            raise ValueError(
                f"The log would have {log_rows(config):,} rows (seeds × pool levels × policies "
                f"× impressions); the app keeps at most {MAX_LOG_ROWS:,}. Lower the impressions "
                "or switch the log off (the command line has no such limit)."
            )
    except ValueError as exc:
        st.error(escape_markdown(exc))
        return
    old = st.session_state.get("ex-job")
    if old is not None:
        old.stop()  # one run per session: a new run ends the previous one
    st.session_state.pop("ex-stopped", None)
    # The run ends with this browser session (closing the tab stops it and its workers).
    job = runner.BackgroundRun(config, keep_log=keep_log, alive=state.session_liveness())
    st.session_state["ex-job"] = job
    # A short run is shown at once; a longer one continues in the background and the
    # progress area below polls it. A run with the generated level shows its other levels
    # as soon as they are done (the generated level takes several times as long).
    job.wait_ready(runner.sync_wait(), early=True)
    # Only this page load draws the pool levels' results (the poll does not rerun the page
    # for them): when they are due shortly, they are worth the wait.
    due, until = job.early_due(), runner.early_wait()
    if due and job.elapsed() + due <= until:
        job.wait_ready(until - job.elapsed(), early=True)
    _collect(job)


def _collect(job) -> bool:
    """Take a computed or ended run off the session's hands; True if it is either.

    A computed run may still be being saved: its entry is drawn meanwhile and
    :func:`ui.state.settle_run` fills in its run id once the save is done.
    """
    if job.result is None and job.status == "running":
        return False
    st.session_state.pop("ex-job", None)
    st.session_state.pop("ex-live-for", None)
    if job.result is not None:
        rate = job.rate()  # kept as pool-level impressions/s, what the estimate reads
        if rate:
            st.session_state["ex-rate"] = runner.work_rate(job.config, rate)
        entry = {"label": job.label, "config": job.config, "result": job.result,
                 "run_id": None, "warning": None, "saving": job}  # fmt: skip
        state.add_session_run(entry)
        st.session_state["ex-current"] = entry
    elif job.status == "stopped" and job.early is not None:
        # The pool levels were done: their results are complete, kept and saved as the
        # run without the generated level; only the generated level's part is dropped.
        entry = {"label": runner.run_label(job.early.config), "config": job.early.config,
                 "result": job.early, "stopped_from": job.config}  # fmt: skip
        entry["run_id"], entry["warning"] = runner.keep_early(job)
        state.add_session_run(entry)
        st.session_state["ex-current"] = entry
        why = f" ({job.reason})" if job.reason else ""
        st.session_state["ex-stopped"] = (
            f"Stopped{why} after {job.elapsed():.1f} s, before the generated level finished: "
            "nothing of it was kept. The other levels had finished: their results below are "
            "complete, saved as the run without the generated level."
        )
    elif job.status == "stopped":
        why = f" ({job.reason})" if job.reason else ""
        st.session_state["ex-stopped"] = (
            f"Stopped{why} after {job.impressions_done:,} of "
            f"{runner.run_impressions(job.config):,} impressions "
            f"({job.elapsed():.1f} s); nothing was saved."
        )
    else:
        st.session_state["ex-stopped"] = f"The experiment could not run: {job.error}"
    return True


def _estimate(config) -> None:
    """The expected run time, before the run (from the session's last measured rate)."""
    rate = st.session_state.get("ex-rate")
    seconds = runner.estimate_seconds(config, rate)
    source = "measured on your last run" if rate else "a typical rate on a 2-core machine"
    slower = (
        f"; an impression of the generated level takes about {runner.GENERATED_COST:.0f} "
        "times as long"
        if "generated" in config.levels
        else ""
    )
    st.caption(
        f"Estimated run time: about {_duration(seconds)} for "
        f"{runner.run_impressions(config):,} impressions in all "
        f"({rounded_count(rate or runner.DEFAULT_RATE)} impressions/s at the pool levels, "
        f"{source}{slower})."
    )
    skipped = skipped_text(config)
    if skipped:
        st.caption(skipped)  # fixed names only, no user text


def _learning_speed(config) -> None:
    """How many impressions the policies need to separate here, and a longer run if short."""
    if not _has_learner(config):
        return  # only the A/B split or the oracle: no learning to wait for
    need = impressions_to_separate(config.objective)
    have = config.n_impressions
    objective = config.objective.upper()
    if need is None:
        st.caption(
            f"In the default world the learning policies did not separate from the A/B split "
            f"within {MEASURED_UP_TO:,} impressions per policy and level in our measurement "
            f"({objective} objective, {MEASURED_SEEDS} seeds, bench/separation.py); "
            f"this run has {have:,}."
        )
    else:
        st.caption(
            f"In the default world the learning policies needed about {need:,} impressions per "
            f"policy and level to beat the A/B split by more than luck at every level "
            f"({objective} objective, {MEASURED_SEEDS} seeds, measured with bench/separation.py); "
            f"this run has {have:,}."
        )
    offer = longer_run(config.objective, have)
    if offer is None:
        return
    # One decimal: 750,000 against the default 300,000 is 2.5 times, not "2" (a whole
    # number rounded half to even).
    ratio = round(offer / have, 1)
    takes = f"about {ratio:g} times as long" if ratio >= 2 else "a little longer"
    if need is None:
        st.info(
            f"With {have:,} impressions the learning policies are not expected to beat the A/B "
            f"split by more than luck, and in our measurement they had not by {offer:,} either: "
            "the charts will mostly show exploration. **Run the longer experiment** (under "
            f"**Run experiment**, with the form's other settings as they are) takes {takes} "
            "and may still not separate them."
        )
    else:
        st.info(
            f"With {have:,} impressions the learning policies are not yet expected to beat the "
            "A/B split by more than luck: the charts will mostly show exploration. "
            + (
                "The default is kept shorter so that its charts appear within about 2 s. "
                if have == DEFAULT_CONFIG.n_impressions
                else ""
            )
            + f"**Run the longer experiment** (under **Run experiment**, with the form's other "
            f"settings as they are) takes {takes}."
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 0.1):.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


def _progress_area() -> None:
    """The running experiment: progress, time left, a Stop button and its charts so far.

    Fragments rerun on their own, never the rest of the page: the progress twice a
    second and the charts' fragment once a second, which draws them only for a run
    expected to be long (:func:`_live_charts`). Both exist from the page load on: a run
    found to be long while it ran used to rerun the page to add the charts' fragment, and
    after that rerun, asked for by the poll, the progress and its Stop button were
    sometimes gone for the rest of the run (once in about thirty runs of the browser test
    with early results, and once in CI; Streamlit 1.67, Chromium).
    """
    job = st.session_state.get("ex-job")
    if job is None:
        return
    # Early results are drawn by a page load that finds them (:func:`_early_entry`): the
    # click's own, which waits for them (the default experiment's come within its 2 s), or
    # any later one. The poll does not rerun the page for them: drawn from a rerun the poll
    # asked for, while the poll goes on, the charts and tables stayed grey placeholders
    # until the run ended (Streamlit 1.67, a fresh browser session; seen in Chromium).
    drawn_early = job.early is not None

    page_load = [True]  # the fragment's first call is this page load's

    @st.fragment(run_every=POLL_EVERY)
    def poll() -> None:
        job = st.session_state.get("ex-job")
        eta = None if job is None else job.eta_seconds()
        # A page load that draws early results draws them first (the run's time left,
        # measured mostly on the pool levels, is short of the generated level's).
        draws_early = page_load[0] and job is not None and job.early is not None
        page_load[0] = False
        if eta is not None and eta < POLL_EVERY and not draws_early:
            # About to end: wait for the result here rather than for the next poll, which
            # would leave it unseen for 0.25 s on average (a Stop or a page switch waits
            # as long, at most, in this last half-second only).
            job.wait_ready(POLL_EVERY)
        if job is None or _collect(job):
            st.rerun(scope="app")  # ended: draw its results (or why it stopped)
            return
        eta = job.eta_seconds()
        left = "measuring the speed…" if eta is None else f"about {_duration(eta)} left"
        doing = "Simulating the generated level" if job.early is not None else "Simulating"
        st.progress(
            job.fraction,
            text=f"{doing}… {job.impressions_done:,} of "
            f"{runner.run_impressions(job.config):,} impressions · {left}",
        )
        st.caption(
            "You can leave this page: the run goes on in the background while this browser "
            "tab is open (closing the tab stops it; nothing is saved then)."
        )
        if st.button("Stop", key="ex-stop"):
            job.stop()
            job.wait(2.0)
            _collect(job)
            st.rerun(scope="app")

    @st.fragment(run_every=1.0)
    def live() -> None:
        job = st.session_state.get("ex-job")
        if job is not None and job.status == "running" and _long_run(job):
            _live_charts(job, drawn_early)

    poll()
    live()


def _long_run(job) -> bool:
    """Whether ``job`` is expected to last :func:`ui.runner.live_charts_after` s or more.

    A run that has lasted that long already is, whether or not its length can be told
    yet (:meth:`ui.runner.BackgroundRun.expected_seconds`). Sticky for the run: an
    estimate that moves back under the threshold keeps the live charts drawn rather than
    taking them away.
    """
    if st.session_state.get("ex-live-for") is job:
        return True
    if job.lasts(runner.live_charts_after()):
        st.session_state["ex-live-for"] = job
        return True
    return False


def _live_charts(job, early_drawn: bool = False) -> None:
    """The cumulative CTR and ROAS of the checkpoints tallied so far, marked as in progress.

    Only for a run expected to last :func:`ui.runner.live_charts_after` seconds or more
    (:func:`_long_run`, the caller's check): redrawing them every second costs the server
    and the browser CPU the run needs (measured on two cores: a run of about 5 s showed its
    results 0.5 s later with them, docs/app.md), and a short run's results are about to
    replace them anyway.
    """
    total = runner.run_impressions(job.config)
    # Once the pool levels' results are drawn (complete, below), only the generated level
    # is still under way: the live charts show it alone.
    levels = ("generated",) if early_drawn else job.config.levels
    st.subheader("Live: the generated level so far" if early_drawn else "Live: the run so far")
    st.markdown(f"**In progress — {job.impressions_done:,} of {total:,} impressions**")
    frame = job.live_frame()
    if not frame.empty:
        frame = frame[frame["level"].isin(levels)]
    if frame.empty:
        st.caption(
            "The charts start at each (seed, level)'s first chart point "
            f"({job.config.n_impressions // max(job.config.n_checkpoints, 1):,} impressions or so)."
        )
        return
    n_seeds = job.config.n_seeds * job.config.n_worlds
    st.caption(_coverage(frame, job.config, n_seeds, levels))
    grid, n = job.checkpoints(), job.config.n_impressions
    for metric, title in (("ctr", "click-through rate"), ("roas", "return on ad spend")):
        st.markdown(f"**Cumulative {title}** (in progress)")
        data = charts.live_bands_data(frame, metric, n_replications=n_seeds, checkpoints=grid)
        st.vega_lite_chart(data, charts.live_bands_spec(metric, n))


def _coverage(frame, config, n_seeds: int, levels=None) -> str:
    """What the partial curves cover: per level, the seeds under way and how far they are.

    ``levels``: those drawn (default: the run's).
    """
    runs = [c for c in ("world", "seed") if c in frame]
    reached = frame.groupby(["level", *runs], sort=False)["step"].max()
    word = "replications" if config.n_worlds > 1 else "seeds"
    parts = []
    for level in levels or config.levels:
        if level not in reached.index.get_level_values(0):
            parts.append(f"{LEVEL_NAMES.get(level, level)}: not started")
            continue
        steps = reached.loc[level]
        lo, hi = int(steps.min()), int(steps.max())
        span = f"{hi:,}" if lo == hi else f"{lo:,}–{hi:,}"
        parts.append(
            f"{LEVEL_NAMES.get(level, level)}: {steps.size} of {n_seeds} {word}, at {span}"
        )
    # Level names and numbers only (the app's own words): nothing to escape.
    return (
        f"Each line is the mean of the {word} that have reached its point (out of "
        f"{config.n_impressions:,} impressions per policy and level), dashed where not all "
        f"{n_seeds} have yet; the shaded 95 % band appears only where all have. So far: "
        + "; ".join(parts)
        + ". The "
        "finished run's charts, uplift and tables replace these when it ends."
    )


def _uplift(result, early: bool = False) -> None:
    """The page's lead: like-for-like uplift, observed (with its interval) beside the truth."""
    st.subheader("What personalization did, like for like")
    uplift = result.uplift_frame()
    if uplift.empty and early and "generic" in result.levels:
        # Only the generic level is in so far: the generated level is compared with it.
        st.info("The generated level is compared with the generic level when it ends.")
        return
    if uplift.empty:
        st.info(
            "Run the generic level too: uplift compares each level with it, the same policy on "
            "the same visitors."
        )
        return
    # One replication: the sentences give observed values and one note says why there is
    # no interval (each sentence said it before).
    note = headline_note(result.summary_frame())
    lines = uplift_headline(uplift, result.config.objective, interval_noted=note is not None)
    st.markdown(
        "**Observed** (best policy at each level against the best at the generic level): "
        + (
            " ".join(escape_markdown(line) for line in lines)
            or "no level ran a learner at both it and the generic level."
        )
    )
    if note and lines:
        st.caption(note)  # the app's own words and numbers
    caveat = world_caveat(result.summary_frame()) if lines else None
    if caveat:
        st.caption(escape_markdown(caveat))
    shown = uplift_display(uplift, interval_noted=one_replication(result.summary_frame()))
    st.table(
        markdown_table(
            shown, intervals=(OBSERVED_COLUMN,), headers=uplift_labels(result.summary_frame())
        ),
        hide_index=True,
        height=table_height(len(shown)),
    )
    st.caption(uplift_caption(result.summary_frame()))


def _headline(result, early: bool = False) -> None:
    summary = result.summary_frame()
    objective = result.config.objective
    best = best_row(summary, objective)
    st.subheader("The best policy's observed numbers")
    if best is None:
        st.info("Only the oracle ran: it knows the truth, so it is a yardstick, not a best.")
        return
    c1, c2, c3, c4 = st.columns(4)
    over = interval_over(summary)
    # The tiles carry the interval alone (with what it covers it was cut off at 1400 px);
    # the caption under them names the replications it covers, once. An interval on a
    # handful of events is refused, in the uplift cells' words.
    intervals = best_intervals(summary, best)
    notes = tile_interval_notes(summary, best, intervals)
    tiles = best_pair(best, objective, intervals, notes=notes)
    for column, (label, value, span) in zip((c1, c2), tiles, strict=True):
        column.metric(
            label, value, span, delta_color="off", delta_arrow="off",
            help=tile_help("roas" if "ROAS" in label else "ctr", objective),
        )  # fmt: skip
    c3.metric(
        "Spend (observed)", money(best["spend"], 0),
        help=f"Ad spend of that policy and level (mean over {over}).",
    )  # fmt: skip
    c4.metric(
        "Revenue (observed)", money(best["revenue"], 0),
        help=f"Revenue of that policy and level (mean over {over}).",
    )  # fmt: skip
    level = LEVEL_NAMES.get(best["level"], best["level"]).lower()
    took = (
        f"These levels took {result.elapsed_seconds:.1f} s; the generated level is still running."
        if early
        else f"Simulated in {result.elapsed_seconds:.1f} s."
    )
    note = best_note(*best_rivals(summary, best, objective), level_names=LEVEL_NAMES)
    if objective in notes:  # no interval shown: none to overlap or not
        note = tile_refusal_note(notes[objective])
    st.caption(
        f"Best: {escape_markdown(policy_name(best['policy']))} at the "
        # The app's own words and numbers: nothing to escape.
        f"{escape_markdown(level)} level ({tiles_over(summary)}). "
        + (f"{escape_markdown(note)} " if note else "")
        + took
    )


def _winners(result) -> None:
    # "Leading": a segment's best-observed creative is a winner only when its margin's
    # interval excludes 0; the verdict says which.
    st.subheader("Leading creative per segment, and why")
    if "segment" not in result.levels:
        st.info("Run the per-segment level to see each segment's leading creative.")
        return
    if "segment" in generations.regenerated_levels(result):
        # The founders' previews and truths would name creatives the slots no longer held.
        st.info(generations.SLOT_NOTE)
        _segment_allocation(result, lambda segment, arm: f"Slot {arm + 1}")
        return
    objective = result.config.objective
    table = winners(result.segment_frame(), objective)
    scen = cache.scenario(result.config)
    level = scen.levels["segment"]
    names = result.segment_names
    truth = true_segment_rates(scen, objective)
    size = cache.preview_size("feed")
    columns = st.columns(min(3, max(len(table), 1)))
    rate = pct if objective == "ctr" else multiple
    labels = [creative_labels(c) for c in level.creatives]
    for i, row in enumerate(table.itertuples(index=False)):
        creative = level.creatives[row.segment][row.arm]
        # The card's numbers are observed (the report's say so too), unlike the truth below.
        numbers = (
            f"observed CTR **{pct(row.ctr)}**, ROAS **{multiple(row.roas)}** · "
            f"{row.impressions:,} impressions"
        )
        with columns[i % len(columns)]:
            st.image(cache.preview_png(creative, size), output_format="PNG", width="stretch")
            if row.runner_up < 0:
                st.markdown(f"**{escape_markdown(names[row.segment])}** · {numbers}")
                continue
            other = level.creatives[row.segment][row.runner_up]
            said = winner_verdict(row.n_seeds, row.margin_low, row.no_events)
            verdict = {
                "clear": "a clear winner.",
                "unclear": "not yet clear (the interval includes 0).",
                "no interval": "no interval with one seed: it may be luck.",
                # Both rates 0: the first of them is only first in the table's order.
                "no events": no_events_note(objective),
            }[said]
            st.markdown(
                f"**{escape_markdown(names[row.segment])}** · {VERDICT_NAMES[said]} · "
                f"{escape_markdown(labels[row.segment][row.arm])} · {numbers}"
            )
            seeds = f"{row.n_seeds} seed{'s' if row.n_seeds != 1 else ''}"
            st.caption(
                f"Runner-up: {escape_markdown(labels[row.segment][row.runner_up])}, "
                f"{objective.upper()} {rate(getattr(row, f'runner_up_{objective}'))} "
                f"(observed). Margin {escape_markdown(winners_margin(row, objective))} over "
                f"{seeds}: "
                + verdict
                + f" The world's truth: {rate(truth[row.segment, row.arm])} vs "
                f"{rate(truth[row.segment, row.runner_up])}."
            )
            diffs = component_differences(creative, other)
            if diffs:
                st.markdown(
                    "What differs: "
                    + "; ".join(
                        f"{escape_markdown(k)} **{escape_markdown(x)}** vs {escape_markdown(y)}"
                        for k, x, y in diffs[:6]
                    )
                )
    one_seed = bool(len(table)) and int(table["n_seeds"].max()) < 2
    st.markdown(
        "**Leaders with reasons** "
        + (
            "(observed: the seed's rate, pooled over policies; one seed: no interval, so no "
            "*Winner*)"
            if one_seed
            else "(observed: each seed's rate, pooled over policies, then the mean over "
            "seeds; *Winner* only when the margin's 95 % interval excludes 0)"
        )
    )
    leaders = winners_table(table, level.creatives, names, truth, objective)
    st.table(
        markdown_table(leaders, lists=WINNER_LISTS),
        hide_index=True,
    )
    _segment_allocation(result, lambda s, a: labels[s][a])


def _segment_allocation(result, label) -> None:
    """Each policy's split of each segment's impressions, arms named ``label(segment, arm)``."""
    st.markdown("**How each policy split each segment's impressions among its own creatives**")
    alloc = segment_allocation(result.segment_frame(), result.segment_names)
    alloc["Creative"] = [label(s, a) for s, a in zip(alloc["segment"], alloc["arm"])]
    policy = st.selectbox(
        "Policy", list(result.policies), format_func=policy_name, key="ex-seg-alloc-policy"
    )
    st.altair_chart(charts.segment_allocation_chart(alloc, policy))


def winners_margin(row, objective: str) -> str:
    """The winner's margin over the runner-up with its 95 % interval, as text."""
    from ui.fmt import interval
    from ui.tables import HEADLINE_METRICS

    fmt = HEADLINE_METRICS["ctr" if objective == "ctr" else "roas"][1]  # pp, or ROAS
    return interval(fmt, row.margin, row.margin_low, row.margin_high)


def _early_entry() -> dict | None:
    """The running experiment's pool levels, done before its generated level (else None)."""
    job = st.session_state.get("ex-job")
    if job is None or job.early is None or job.result is not None:
        return None
    return {"label": job.label, "config": job.config, "result": job.early, "early": True}


def _results(entry, say_skipped: bool = True) -> None:
    result = entry["result"]
    if entry.get("early"):
        st.info(
            "**The generated level is still running.** Below are the other levels' results, "
            "complete: they will not change. The generated level's lines, its comparisons "
            "and its creatives join them when it ends.",
            icon=":material/hourglass_top:",
        )
    skipped = skipped_text(result.config) if say_skipped else None
    if skipped:
        st.caption(skipped)  # fixed names only, no user text
    _uplift(result, early=bool(entry.get("early")))
    _headline(result, early=bool(entry.get("early")))
    # One replication draws no band: the note must not describe one.
    band = (
        "with one replication there is no shaded band"
        if one_replication(result.summary_frame())
        else "the shaded band is the 95 % interval over the seeds (over the world means when "
        "several worlds ran)"
    )
    st.markdown(
        "**How to read the charts.** Each line is a policy learning which ad to show, on "
        f"the same simulated visitors; {band}. A line "
        "above the generic panel means personalization paid off. *Regret* counts the clicks "
        "(or value) lost against always showing each visitor the best ad of that level (the "
        "best of its pool; at the generated level, the best composition): lower is better. "
        "Each panel's regret has its own yardstick and its own scale: compare policies within "
        "a panel, and levels with the uplift above. "
        "The rate charts start after the first 5 % of impressions, where a few clicks more or "
        "less still swing the rate, and their axis covers the lines: bands wider than that "
        "are cut at its edges."
    )
    ts = runner.served_only(result.timeseries_frame())
    # The band charts go as a data frame plus a spec built once per metric: building
    # and validating the Altair objects on every run cost ~0.1 s before the first chart.
    headings = {
        "ctr": "**Cumulative click-through rate**",
        "roas": "**Cumulative return on ad spend**",
        "regret": "**Cumulative regret** (clicks or value lost against each level's best)",
    }
    for metric, heading in headings.items():
        st.markdown(heading)
        data = charts.metric_bands_data(ts, metric)
        domain = charts.metric_bands_domain(data, metric)
        st.vega_lite_chart(data, charts.metric_bands_spec(metric, domain))

    # Pools only: the generated level composes a new creative per impression (its
    # most-served ones are shown below), and a pair that does not apply served nothing.
    pool_levels = [
        lv
        for lv in result.levels
        if lv != "generated" and any(applies(lv, p) for p in result.policies)
    ]
    if pool_levels:
        st.markdown("**Which creatives each policy showed over time**")
        c1, c2 = st.columns(2)
        level = c1.selectbox("Level", pool_levels, format_func=LEVEL_NAMES.get,
                             key="ex-alloc-level")  # fmt: skip
        playing = [p for p in result.policies if applies(level, p)]
        policy = c2.selectbox("Policy", playing, format_func=policy_name,
                              key="ex-alloc-policy")  # fmt: skip
        slots = level in generations.regenerated_levels(result)
        st.altair_chart(
            charts.allocation_chart(
                runner.served_only(result.allocation_frame()), level, policy, slots=slots
            ),
            width="stretch",
        )
        if slots:
            st.caption(generations.SLOT_NOTE)
    st.markdown(f"**Final metrics, observed** ({metrics_over(result.summary_frame())})")
    metrics = metrics_table(result.summary_frame())
    st.table(
        markdown_table(metrics, intervals=METRIC_INTERVALS),
        hide_index=True,
        height=table_height(len(metrics)),
    )
    if rule := metrics_refusal(metrics):
        st.caption(rule)
    _winners(result)
    if result.generated is not None:
        generated_view.render(
            result.component_effects_frame(),
            result.top_creatives_frame(),
            served=result.component_allocation_frame(),
            gap=cache.gap_table(result),
            scenario=cache.scenario(result.config),
            objective=result.config.objective,
            key="ex",
        )
    generations.render(result)
    # The charts above are on their way to the browser; the run was saved meanwhile.
    state.settle_run(entry)
    if entry.get("run_id"):
        st.caption(f"Saved as run {escape_markdown(entry['run_id'])} (see the Results page).")


def _audience_text() -> str:
    """The audience the run will use: the clustered segments, or the user's own.

    The form's **Use my segments** box reaches the session when the form is submitted, so
    before that the caption says what ticking it would change.
    """
    w = state.world_settings()
    s = st.session_state
    uploaded = s.get("uploaded_segments")  # (file name, audiences): the Audience page's
    if not uploaded:
        return (
            f"Audience: {w.n_users:,} simulated users in {w.n_segments} segments, seed "
            f"{w.seed} (change it on the Audience page)."
        )
    name, audiences = uploaded
    n_own = len(audiences)
    yours = f"your {n_own} segment{'s' if n_own != 1 else ''} from {escape_markdown(name)}"
    # The box's value, or its kept value when the page has just been opened again.
    if s.get("ex-own-segments", s.get("keep:ex-own-segments")):
        return (
            f"Audience: {w.n_users:,} simulated users drawn around {yours} (**Use my "
            f"segments**), seed {w.seed}."
        )
    return (
        f"Audience: {w.n_users:,} simulated users in {w.n_segments} segments, seed {w.seed} "
        f"(change it on the Audience page); tick **Use my segments** to run on {yours} instead."
    )


def _world_text() -> str | None:
    """Which hidden world runs, when it is not the default one (None for the default)."""
    w = state.world_settings()
    if w.is_default_world:
        return None
    return f"World: {scale_text(w.personalization_scale)} (change it on the World page)."


def render() -> None:
    """Draw the page."""
    st.title("Experiment")
    st.markdown(
        "Does personalization pay? adlab shows ads to simulated visitors and lets bandit "
        "**policies** learn which creative to show: the same ads for everyone (generic), one "
        "set per segment, or one ad per user. Each run repeats the experiment over several "
        "**seeds**, so you can see how much of a difference is luck."
    )
    st.caption(_audience_text())
    if world_text := _world_text():
        st.caption(world_text)
    submitted = _form()
    config = None
    # An invalid form is reported when it is submitted; nothing to prefetch until then.
    with contextlib.suppress(ValueError):
        config = _config_from_state()
        cache.prefetch_scenario(config)
    estimated = False
    # The longer run's button (in the form) set its impressions before this run.
    if st.session_state.pop("ex-run-longer", False) or submitted:
        _run()
    # Also right after a run that finished within the click's wait: drawn only on the next
    # rerun, these lines pushed the results down under the reader's eyes (a page jump).
    if config is not None and st.session_state.get("ex-job") is None:
        _estimate(config)
        estimated = True
        _learning_speed(config)
    _progress_area()
    if st.session_state.get("ex-stopped"):
        st.warning(escape_markdown(st.session_state["ex-stopped"]))
    entry = _early_entry() or st.session_state.get("ex-current")
    if entry is not None:
        # Kept from a stopped run of the form's settings: the stop message says why.
        kept_from = entry.get("stopped_from")
        if config != entry["config"] and (kept_from is None or config != kept_from):
            st.warning(
                f"**These results are out of date:** {_what_changed(config, entry['config'])} "
                "since this run. Press **Run experiment** to run the new settings.",
                icon=":material/warning:",
            )
        _budget_stops(entry["result"])
        # The estimate under the form already says what does not run for these settings.
        _results(entry, say_skipped=not (estimated and config == entry["config"]))
        if entry.get("warning"):
            st.warning(escape_markdown(entry["warning"]))
    elif st.session_state.get("ex-job") is None:
        st.info("Choose the settings and press **Run experiment**.")


def _what_changed(config, ran) -> str:
    """What moved since the run shown: the form, the audience or the hidden world, or several."""
    people = ("seed", "n_users", "n_segments")
    audience = config is not None and any(getattr(config, k) != getattr(ran, k) for k in people)
    world = config is not None and (
        config.world.personalization_scale != ran.world.personalization_scale
    )
    form = config is None or (
        config.replace(
            **{k: getattr(ran, k) for k in people},
            world=config.world.replace(personalization_scale=ran.world.personalization_scale),
        )
        != ran
    )
    moved = [
        *(["the settings above"] if form else []),
        *(["the audience (Audience page)"] if audience else []),
        *(["the world's personalization scale (World page)"] if world else []),
    ]
    if len(moved) == 1:
        return f"{moved[0]} has changed" if not form else "the settings above have changed"
    return f"{', '.join(moved[:-1])} and {moved[-1]} have changed"


def _budget_stops(result) -> None:
    """Say which runs the spend cap stopped, and after how many impressions."""
    config = result.config
    text = budget_stop_text(result.summary_frame(), config.budget, config.n_impressions)
    if text:
        st.warning(escape_markdown(text), icon=":material/payments:")


render()
