"""The Generations view: a regenerated pool over time, with lineage, CTR and ROAS.

Shown on the Experiment page below the results when the run regenerated its
pools (``regenerate_every``). Chart builders return figures; :func:`render`
draws them with a lineage table.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui.fmt import LEVEL_NAMES, escape_markdown, policy_name

__all__ = ["fitness_chart", "lineage_table", "pool_chart", "render"]


def _selected(frame: pd.DataFrame, end: int) -> pd.DataFrame:
    data = frame.copy()
    data["until"] = data["retired_at"].fillna(end)
    data["parent"] = data["parent_node"].map(dict(zip(data["node"], data["label"])))
    data["parent"] = data["parent"].fillna("(founder)")
    data["changed"] = data["changed"].replace("", "(founder)")
    return data


def pool_chart(frame: pd.DataFrame, end: int) -> alt.Chart:
    """The pool over time: one bar per creative from birth to retirement, coloured by CTR.

    Parameters
    ----------
    frame : DataFrame
        One (level, policy, seed, row)'s rows of ``ExperimentResult.generations_frame()``.
    end : int
        Impressions of the run (where living creatives' bars end).
    """
    data = _selected(frame, end)
    return (
        alt.Chart(data)
        .mark_bar(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("born_at:Q", title="Impressions", axis=alt.Axis(format="~s")),
            x2="until:Q",
            y=alt.Y("slot:O", title="Slot"),
            color=alt.Color("ctr:Q", title="Observed CTR", scale=alt.Scale(scheme="viridis"),
                            legend=alt.Legend(format=".2%")),
            tooltip=[
                alt.Tooltip("label:N", title="Creative"),
                alt.Tooltip("generation:Q", title="Generation"),
                alt.Tooltip("parent:N", title="Parent"),
                alt.Tooltip("changed:N", title="Changed"),
                alt.Tooltip("impressions:Q", title="Impressions", format=","),
                alt.Tooltip("ctr:Q", title="CTR", format=".2%"),
                alt.Tooltip("roas:Q", title="ROAS", format=".2f"),
                alt.Tooltip("true_ctr:Q", title="True CTR", format=".2%"),
            ],
        )
        .properties(height=max(120, 28 * data["slot"].nunique()))
    )  # fmt: skip


def fitness_chart(frame: pd.DataFrame) -> alt.HConcatChart:
    """Each creative's observed CTR and ROAS by the generation it was born in.

    Points sized by the impressions it got; parent -> child links drawn as rules
    from the parent's generation and value to the child's.
    """
    data = _selected(frame, 0)
    by_id = data.set_index("node")
    panels = []
    for metric, title, fmt in (("ctr", "Observed CTR", ".2%"), ("roas", "Observed ROAS", ".2f")):
        links = data[data["parent_node"].isin(by_id.index)].assign(
            parent_generation=lambda d: by_id.loc[d["parent_node"], "generation"].to_numpy(),
            parent_value=lambda d, m=metric: by_id.loc[d["parent_node"], m].to_numpy(),
        )
        rules = (
            alt.Chart(links)
            .mark_rule(opacity=0.35)
            .encode(
                x=alt.X("parent_generation:Q"),
                x2="generation:Q",
                y=alt.Y("parent_value:Q"),
                y2=f"{metric}:Q",
            )
        )
        points = (
            alt.Chart(data)
            .mark_circle()
            .encode(
                x=alt.X("generation:Q", title="Generation", axis=alt.Axis(tickMinStep=1)),
                y=alt.Y(f"{metric}:Q", title=title, axis=alt.Axis(format=fmt)),
                size=alt.Size("impressions:Q", title="Impressions", legend=None),
                tooltip=[
                    alt.Tooltip("label:N", title="Creative"),
                    alt.Tooltip("parent:N", title="Parent"),
                    alt.Tooltip("changed:N", title="Changed"),
                    alt.Tooltip(f"{metric}:Q", title=title, format=fmt),
                    alt.Tooltip("impressions:Q", format=","),
                ],
            )
        )
        panels.append(alt.layer(rules, points).properties(width=320, height=220))
    return alt.hconcat(*panels)


def lineage_table(frame: pd.DataFrame, end: int) -> pd.DataFrame:
    """Readable lineage: one row per creative, parent -> child, with what it earned."""
    data = _selected(frame, end)
    table = data.loc[
        :,
        ["generation", "slot", "label", "parent", "changed", "born_at", "retired_at",
         "impressions", "ctr", "roas", "true_ctr"],
    ]  # fmt: skip
    return table.rename(
        columns={
            "generation": "Generation", "slot": "Slot", "label": "Creative", "parent": "Parent",
            "changed": "Changed", "born_at": "Born at", "retired_at": "Retired at",
            "impressions": "Impressions", "ctr": "CTR", "roas": "ROAS", "true_ctr": "True CTR",
        }
    )  # fmt: skip


def render(result) -> None:
    """The Generations view of a result that regenerated its pools (nothing otherwise)."""
    frame = result.generations_frame()
    if frame.empty:
        return
    st.subheader("Generations: the self-improving pool")
    every = result.config.regenerate_every
    st.caption(
        f"Every {every:,} impressions each policy retired the weakest quarter of its pool "
        "(by the clicks or net value it observed, never the ground truth) and bred children "
        "of its best: one or two components changed, every child checked by the guardrails."
    )
    c1, c2, c3, c4 = st.columns(4)
    levels = list(dict.fromkeys(frame["level"]))
    level = c1.selectbox("Level", levels, format_func=LEVEL_NAMES.get, key="ex-gen-level")
    at_level = frame[frame["level"] == level]
    policy = c2.selectbox(
        "Policy", list(dict.fromkeys(at_level["policy"])), format_func=policy_name,
        key="ex-gen-policy",
    )  # fmt: skip
    at_policy = at_level[at_level["policy"] == policy]
    if "world" in at_policy:
        at_policy = at_policy[at_policy["world"] == 0]
    seed = c3.selectbox("Seed", sorted(set(at_policy["seed"])), key="ex-gen-seed")
    at_seed = at_policy[at_policy["seed"] == seed]
    row = c4.selectbox("Audience", list(dict.fromkeys(at_seed["row"])), key="ex-gen-row")
    data = at_seed[at_seed["row"] == row]
    end = result.config.n_impressions
    n_gen = int(data["generation"].max())
    st.markdown(
        f"**{escape_markdown(policy_name(policy))}** at the "
        f"{escape_markdown(LEVEL_NAMES.get(level, level))} level: {len(data)} creatives over "
        f"{n_gen} generations."
    )
    st.altair_chart(pool_chart(data, end), width="stretch")
    st.altair_chart(fitness_chart(data), width="stretch")
    st.dataframe(
        lineage_table(data, end),
        hide_index=True,
        width="stretch",
        column_config={
            "CTR": st.column_config.NumberColumn(format="percent"),
            "True CTR": st.column_config.NumberColumn(format="percent"),
            "ROAS": st.column_config.NumberColumn(format="%.2f"),
        },
    )
