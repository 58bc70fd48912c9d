"""Experiment page: run the bandit experiment and read off what personalization bought.

The page leads with the like-for-like uplift (each level against the generic one, the same
policy on the same users and draws): observed with its interval and what the interval covers,
beside the true (expected) uplift, labelled as such. Headlines use observed values only.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from creative.components import AXES, compose
from simulation.config import LEVELS, MAX_WORLDS, OBJECTIVES
from simulation.metrics import interval_over
from simulation.winners import component_differences, segment_allocation, true_segment_rates
from ui import cache, charts, runner, state
from ui.fmt import (
    LEVEL_NAMES,
    escape_markdown,
    money,
    multiple,
    pct,
    policy_name,
)
from ui.forms import APP_POLICIES, DEFAULT_CONFIG, MAX_LOG_ROWS, experiment_config, log_rows
from ui.tables import best_row, metrics_table, winners, winners_table
from ui.uplift import uplift_display, uplift_sentence

OBJECTIVE_NAMES = {"ctr": "Clicks (CTR)", "roas": "Return on ad spend (ROAS)"}
PRICING_NAMES = {"cpm": "Per 1,000 impressions (CPM)", "cpc": "Per click (CPC)"}
FORM_KEYS = (
    "ex-levels", "ex-policies", "ex-impressions", "ex-batch", "ex-seeds", "ex-objective",
    "ex-cap", "ex-budget", "ex-variants", "ex-pricing", "ex-delay", "ex-checkpoints", "ex-log",
    "ex-worlds",
)  # fmt: skip


def _form():
    d = DEFAULT_CONFIG
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
        c1.number_input(
            "Impressions per policy and level", min_value=1, max_value=20_000_000, step=10_000,
            key=state.keep("ex-impressions", d.n_impressions),
        )  # fmt: skip
        c2.number_input(
            "Batch size (impressions between learning updates)", min_value=1,
            max_value=1_000_000, step=100, key=state.keep("ex-batch", d.batch_size),
        )  # fmt: skip
        c3.number_input(
            "Seeds (repeats, for the 95 % bands)", min_value=1, max_value=20,
            key=state.keep("ex-seeds", d.n_seeds),
        )  # fmt: skip
        c3w.number_input(
            "Worlds (hidden parameters redrawn)", min_value=1, max_value=MAX_WORLDS,
            key=state.keep("ex-worlds", d.n_worlds),
            help="Repeat the experiment in worlds whose hidden response parameters and "
            "creatives are drawn afresh (the audience stays), so the intervals include "
            "world-to-world variation, not only luck within one world.",
        )  # fmt: skip
        c4, c5, c6 = st.columns(3)
        c4.radio(
            "Objective", list(OBJECTIVES), format_func=OBJECTIVE_NAMES.get, horizontal=True,
            key=state.keep("ex-objective", d.objective),
        )  # fmt: skip
        c5.toggle("Cap the spend", key=state.keep("ex-cap", False))
        c6.number_input(
            "Budget per policy and level (USD)", min_value=0.0, max_value=1e9, step=100.0,
            key=state.keep("ex-budget", 500.0),
        )  # fmt: skip
        with st.expander("More settings"):
            # Two per row: four to a row cut off the Pricing choices.
            e1, e2 = st.columns(2)
            e3, e4 = st.columns(2)
            e1.number_input(
                "Variants per level", min_value=2, max_value=20,
                key=state.keep("ex-variants", d.n_variants),
            )  # fmt: skip
            e2.selectbox(
                "Pricing", ["cpm", "cpc"], format_func=PRICING_NAMES.get,
                key=state.keep("ex-pricing", d.pricing),
            )  # fmt: skip
            e3.number_input(
                "Conversion delay (impressions)", min_value=0, max_value=10_000_000,
                key=state.keep("ex-delay", d.conversion_delay),
            )  # fmt: skip
            e4.number_input(
                "Chart points", min_value=2, max_value=500,
                key=state.keep("ex-checkpoints", d.n_checkpoints),
            )  # fmt: skip
            st.toggle(
                f"Keep the impression-level log for off-policy evaluation (up to "
                f"{MAX_LOG_ROWS:,} rows)", key=state.keep("ex-log", False),
            )  # fmt: skip
        submitted = st.form_submit_button("Run experiment", type="primary")
    state.remember(*FORM_KEYS)
    return submitted


def _config_from_state():
    s = st.session_state
    return experiment_config(
        state.world_settings(),
        levels=s["ex-levels"], policies=s["ex-policies"], n_impressions=s["ex-impressions"],
        batch_size=s["ex-batch"], n_seeds=s["ex-seeds"], n_worlds=s["ex-worlds"],
        objective=s["ex-objective"],
        budget=s["ex-budget"] if s["ex-cap"] else None, pricing=s["ex-pricing"],
        conversion_delay=s["ex-delay"], n_variants=s["ex-variants"],
        n_checkpoints=s["ex-checkpoints"],
    )  # fmt: skip


def _run():
    """Run the form's experiment; returns the pending save to the run store (None: no run)."""
    try:
        config = _config_from_state()
        if st.session_state["ex-cap"] and not st.session_state["ex-budget"]:
            raise ValueError("Set a budget above $0, or switch off the spend cap.")
        keep_log = bool(st.session_state["ex-log"])
        if keep_log and log_rows(config) > MAX_LOG_ROWS:
            raise ValueError(
                f"The log would have {log_rows(config):,} rows (seeds × levels × policies × "
                f"impressions); the app keeps at most {MAX_LOG_ROWS:,}. Lower the impressions "
                "or switch the log off (the command line has no such limit)."
            )
    except ValueError as exc:
        st.error(escape_markdown(exc))
        return None
    bar = st.progress(0.0, text="Building the audience and creatives…")
    try:
        result, save = runner.run_and_save(
            config, progress=runner.throttled(lambda f, t: bar.progress(f, text=t)),
            keep_log=keep_log,
        )  # fmt: skip
    except (ValueError, MemoryError) as exc:
        bar.empty()
        st.error(f"The experiment could not run: {escape_markdown(exc)}")
        return None
    bar.empty()
    entry = {"label": runner.run_label(config), "config": config, "result": result,
             "run_id": None}  # fmt: skip
    state.add_session_run(entry)
    st.session_state["ex-current"] = entry
    return save


def _save(entry, save) -> None:
    """Store the run just drawn (after the charts: the user need not wait for it)."""
    run_id, warning = save()
    entry["run_id"] = run_id
    if warning:
        st.warning(escape_markdown(warning))
    elif run_id:
        st.caption(f"Saved as run {escape_markdown(run_id)} (see the Results page).")


def _uplift(result) -> None:
    """The page's lead: like-for-like uplift, observed (with its interval) beside the truth."""
    st.subheader("What personalization did, like for like")
    uplift = result.uplift_frame()
    if uplift.empty:
        st.info(
            "Run the generic level too: uplift compares each level with it, the same policy on "
            "the same visitors."
        )
        return
    objective = result.config.objective
    best = uplift[uplift["policy"].str.startswith("best (") & (uplift["metric"] == objective)]
    lines = [uplift_sentence(row, row["level"], objective) for _, row in best.iterrows()]
    st.markdown(
        "**Observed** (best policy at each level against the best at the generic level): "
        + " ".join(escape_markdown(line[0].upper() + line[1:]) for line in lines)
    )
    st.dataframe(uplift_display(uplift), hide_index=True, width="stretch")
    st.caption(
        "Observed: the paired change measured in this run (geometric mean of the per-seed "
        "ratios; its 95 % interval covers the replications named). True (expected): the same "
        "comparison on the simulator's expected values, which a real experiment never sees."
    )


def _headline(result) -> None:
    summary = result.summary_frame()
    objective = result.config.objective
    best = best_row(summary, objective)
    st.subheader("The best policy's observed numbers")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Best CTR (observed)", pct(best["ctr"]),
        help="Clicks per impression of the best policy and level (mean over the replications).",
    )  # fmt: skip
    c2.metric("Its ROAS (observed)", multiple(best["roas"]),
              help="Revenue per dollar of ad spend.")  # fmt: skip
    c3.metric("Spend", money(best["spend"], 0), help="Ad spend of that policy and level.")
    c4.metric("Revenue", money(best["revenue"], 0))
    level = LEVEL_NAMES.get(best["level"], best["level"]).lower()
    st.caption(
        f"Best: {escape_markdown(policy_name(best['policy']))} at the "
        f"{escape_markdown(level)} level. Simulated in {result.elapsed_seconds:.1f} s."
    )


def _winners(result) -> None:
    st.subheader("Winning creative per segment, and why")
    if "segment" not in result.levels:
        st.info("Run the per-segment level to see each segment's winning creative.")
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
    for i, row in enumerate(table.itertuples(index=False)):
        creative = level.creatives[row.segment][row.arm]
        with columns[i % len(columns)]:
            st.image(cache.preview_png(creative, size), output_format="PNG", width="stretch")
            st.markdown(
                f"**{escape_markdown(names[row.segment])}** · CTR **{pct(row.ctr)}** · ROAS "
                f"**{multiple(row.roas)}** · {row.impressions:,} impressions"
            )
            if row.runner_up < 0:
                continue
            other = level.creatives[row.segment][row.runner_up]
            sure = row.margin_low > 0
            st.caption(
                f"Runner-up: creative {row.runner_up + 1} "
                f"({escape_markdown(other.product)}, {escape_markdown(other.tone)}), "
                f"{rate(getattr(row, f'runner_up_{objective}'))}. Margin "
                f"{escape_markdown(winners_margin(row, objective))} over {row.n_seeds} seeds: "
                + ("a clear winner." if sure else "not yet clear (the interval includes 0).")
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
    st.markdown("**Winners with reasons** (observed, pooled over policies and seeds)")
    st.dataframe(
        winners_table(table, level.creatives, names, truth, objective),
        hide_index=True,
        width="stretch",
    )
    st.markdown("**How each policy split each segment's impressions among its own creatives**")
    alloc = segment_allocation(result.segment_frame(), names)
    alloc["Creative"] = [
        f"{a + 1}. {level.creatives[s][a].product} · {level.creatives[s][a].tone}"
        for s, a in zip(alloc["segment"], alloc["arm"])
    ]
    policy = st.selectbox(
        "Policy", list(result.policies), format_func=policy_name, key="ex-seg-alloc-policy"
    )
    st.altair_chart(charts.segment_allocation_chart(alloc, policy))


def winners_margin(row, objective: str) -> str:
    """The winner's margin over the runner-up with its 95 % interval, as text."""
    from ui.fmt import interval
    from ui.tables import HEADLINE_METRICS

    fmt = HEADLINE_METRICS["ctr" if objective == "ctr" else "roas"][1]
    return interval(fmt, row.margin, row.margin_low, row.margin_high)


def _results(entry) -> None:
    result = entry["result"]
    _uplift(result)
    _headline(result)
    st.markdown(
        "**How to read the charts.** Each line is a policy learning which ad to show, on "
        "the same simulated visitors; the shaded band is the 95 % interval over the "
        "replications (seeds, and worlds when several ran). A line "
        "above the generic panel means personalization paid off. *Regret* counts the clicks "
        "(or value) lost against always showing each visitor their best ad: lower is better. "
        "The rate charts start after the first 5 % of impressions, where a few clicks more or "
        "less still swing the rate."
    )
    ts = result.timeseries_frame()
    # The band charts go as a data frame plus a spec built once per metric: building
    # and validating the Altair objects on every run cost ~0.1 s before the first chart.
    st.markdown("**Cumulative click-through rate**")
    st.vega_lite_chart(charts.metric_bands_data(ts, "ctr"), charts.metric_bands_spec("ctr"))
    st.markdown("**Cumulative return on ad spend**")
    st.vega_lite_chart(charts.metric_bands_data(ts, "roas"), charts.metric_bands_spec("roas"))
    st.markdown("**Cumulative regret**")
    st.vega_lite_chart(charts.metric_bands_data(ts, "regret"), charts.metric_bands_spec("regret"))

    st.markdown("**Which creatives each policy showed over time**")
    c1, c2 = st.columns(2)
    level = c1.selectbox("Level", list(result.levels), format_func=LEVEL_NAMES.get,
                         key="ex-alloc-level")  # fmt: skip
    policy = c2.selectbox("Policy", list(result.policies), format_func=policy_name,
                          key="ex-alloc-policy")  # fmt: skip
    st.altair_chart(
        charts.allocation_chart(result.allocation_frame(), level, policy), width="stretch"
    )
    over = interval_over(result.summary_frame())
    st.markdown(f"**Final metrics, observed** (mean, 95 % interval over {over} in brackets)")
    st.dataframe(metrics_table(result.summary_frame()), hide_index=True, width="stretch")
    _winners(result)
    _generated_outputs(result)
    if entry.get("run_id"):
        st.caption(f"Saved as run {escape_markdown(entry['run_id'])} (see the Results page).")


def _generated_outputs(result) -> None:
    """The generated level: what mvt_ts believes about each component, and what it served."""
    effects = result.component_effects_frame()
    if effects.empty:
        return
    st.markdown(
        "**What the learner believes about each component** (generated level, mvt_ts, first "
        "seed): the change in expected reward per impression from switching to a component, "
        "against the average of its kind, with its 95 % interval; the diamond is the true effect."
    )
    groups = list(dict.fromkeys(effects["segment"]))
    group = st.selectbox("Segment", groups, index=groups.index("all"), key="ex-effects-segment")
    data = effects[(effects["seed"] == 0) & (effects["segment"] == group)]
    rows = data[["axis", "component", "estimate", "low", "high", "true"]].to_dict("records")
    y = {"field": "component", "type": "nominal", "sort": None, "title": None}
    spec = {
        "facet": {"row": {"field": "axis", "type": "nominal", "sort": None, "title": None}},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 420,
            "layer": [
                {"mark": "rule", "encoding": {"y": y, "x": {"field": "low", "type": "quantitative",
                 "title": "effect per impression"}, "x2": {"field": "high"}}},
                {"mark": {"type": "point", "filled": True},
                 "encoding": {"y": y, "x": {"field": "estimate", "type": "quantitative"}}},
                {"mark": {"type": "point", "shape": "diamond", "color": "#d62728"},
                 "encoding": {"y": y, "x": {"field": "true", "type": "quantitative"}}},
            ],
        },
    }  # fmt: skip
    st.vega_lite_chart({"values": rows}, spec)
    top = result.top_creatives_frame()
    axes = [a for a in ("product", "tone", "offer", "headline") if a in top]
    top = top[(top["policy"] == "mvt_ts") & (top["seed"] == 0)] if not top.empty else top
    if top.empty or len(axes) < 4:  # only the studio's own space renders (not hill48)
        return
    st.markdown("**The creative each segment was served most** (mvt_ts, first seed)")
    profiles = {p.name: p for p in cache.scenario(result.config).segmentation.profiles}
    cols = st.columns(min(len(top), 3))
    for i, row in enumerate(top.to_dict("records")):
        creative = compose([row[a] for a in AXES], profiles[row["segment"]].to_audience())
        png = cache.preview_png(creative, cache.preview_size("feed"))
        with cols[i % len(cols)]:
            st.image(png, output_format="PNG", width="stretch")
            st.caption(f"{escape_markdown(row['segment'])}: {pct(row['share'])} of its impressions")


def render() -> None:
    """Draw the page."""
    st.title("Experiment")
    st.markdown(
        "Does personalization pay? adlab shows ads to simulated visitors and lets bandit "
        "**policies** learn which creative to show: the same ads for everyone (generic), one "
        "set per segment, or one ad per user. Each run repeats the experiment over several "
        "**seeds**, so you can see how much of a difference is luck."
    )
    w = state.world_settings()
    st.caption(
        f"Audience: {w.n_users:,} simulated users in {w.n_segments} segments, seed {w.seed} "
        "(change it on the Audience page)."
    )
    submitted = _form()
    # An invalid form is reported when it is submitted; nothing to prefetch until then.
    with contextlib.suppress(ValueError):
        cache.prefetch_scenario(_config_from_state())
    save = _run() if submitted else None
    entry = st.session_state.get("ex-current")
    if entry is not None:
        try:
            _results(entry)
        finally:
            # Saved even if drawing failed: a run is never lost to a chart.
            if save is not None:
                _save(entry, save)
    else:
        st.info("Choose the settings and press **Run experiment**.")


render()
