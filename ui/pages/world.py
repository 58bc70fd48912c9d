"""World page: the ground truth laid open, before anything runs.

What ``python -m simulation world`` writes, for the audience and creatives the other pages
use: every arm's components, product, price and expected CTR, conversion rate, order value
and ROAS; how far the best arm is above the median one; and what each mechanism of the
response contributes. These are the simulator's true (expected) values, which a real
experiment never sees: a user can see why an ad will win before running anything.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from simulation.ground_truth import world_report
from ui import cache, state
from ui.fmt import LEVEL_NAMES, escape_markdown
from ui.forms import DEFAULT_CONFIG

#: Arm columns shown, with their headers.
ARM_VIEW = {
    "level": "Level", "segment": "Segment", "arm": "Arm", "label": "Creative",
    "category": "Category", "product": "Product", "price": "Price ($)", "tone": "Tone",
    "offer": "Offer", "layout": "Layout", "keyword": "Keyword", "ctr": "True CTR",
    "cvr": "True conversion rate", "order_value": "True order value ($)", "roas": "True ROAS",
}  # fmt: skip


def mechanisms_chart(mechanisms: pd.DataFrame) -> alt.FacetChart:
    """Each mechanism's lift of the expected CTR, one bar per mechanism, a panel per level."""
    data = mechanisms.assign(Level=mechanisms["level"].map(lambda v: LEVEL_NAMES.get(v, v)))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("ctr_lift:Q", title="Lift of the expected CTR", axis=alt.Axis(format="+.1%")),
            y=alt.Y("mechanism:N", title=None, sort="-x"),
            color=alt.Color("kind:N", title="Kind", legend=alt.Legend(orient="bottom")),
            tooltip=[
                "mechanism:N",
                "what:N",
                "kind:N",
                alt.Tooltip("ctr_lift:Q", title="CTR lift", format="+.2%"),
                alt.Tooltip("conversions_lift:Q", title="Conversions lift", format="+.2%"),
            ],
        )
        .properties(width=260, height=220)
        .facet(column=alt.Column("Level:N", title=None, sort=list(LEVEL_NAMES.values())))
    )


def _report():
    """The world report of this tab's audience, kept per audience in the session."""
    w = state.world_settings()
    config = DEFAULT_CONFIG.replace(seed=w.seed, n_users=w.n_users, n_segments=w.n_segments)
    kept = st.session_state.get("world-report")
    if kept is not None and kept[0] == config:
        return kept[1]
    with st.spinner("Computing every arm's expected outcome…"):
        report = world_report(cache.scenario(config))
    st.session_state["world-report"] = (config, report)
    return report


def render() -> None:
    """Draw the page."""
    st.title("World")
    st.markdown(
        "The simulator's **true (expected)** values for the audience and creatives of the "
        "other pages, before any experiment: which ad should win, by how much, and why. A "
        "real experiment only sees noisy observations of these. The effect sizes and their "
        "sources are in `docs/calibration.md`."
    )
    w = state.world_settings()
    st.caption(
        f"Audience: {w.n_users:,} simulated users in {w.n_segments} segments, seed {w.seed} "
        "(change it on the Audience page)."
    )
    if not st.button("Lay the world open", type="primary", key="world-open") and (
        st.session_state.get("world-report") is None
    ):
        st.info("Press **Lay the world open** to compute every arm's expected outcome.")
        return
    report = _report()
    st.subheader("Every arm, true (expected) values")
    arms = report.arms[[c for c in ARM_VIEW if c in report.arms]].rename(columns=ARM_VIEW)
    arms["Level"] = arms["Level"].map(lambda v: LEVEL_NAMES.get(v, v))
    st.dataframe(
        arms,
        hide_index=True,
        width="stretch",
        column_config={
            "True CTR": st.column_config.NumberColumn(format="percent"),
            "True conversion rate": st.column_config.NumberColumn(format="percent"),
            "True ROAS": st.column_config.NumberColumn(format="%.2f×"),
        },
    )
    st.subheader("How far the best arm is above the median one")
    st.dataframe(report.spreads, hide_index=True, width="stretch")
    st.subheader("What each mechanism contributes")
    st.markdown(
        "Each bar is a mechanism's lift of the expected CTR at that level (content effects "
        "apply to everyone; user-dependent ones depend on the viewer)."
    )
    st.altair_chart(mechanisms_chart(report.mechanisms), width="stretch")
    with st.expander("The mechanisms' table"):
        st.dataframe(report.mechanisms, hide_index=True, width="stretch")
    st.caption(escape_markdown("Written by the command line too: python -m simulation world."))


render()
