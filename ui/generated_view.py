"""The generated level's outputs: what mvt_ts believes about each component, what it served.

Shown under the results of a run with the generated level, on the Experiment page (from
the run) and on the Results page (from the tables saved with the run). Only ``mvt_ts``
has beliefs; what each policy served, component by component, is shown for every policy
that played the level.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from creative.components import AXES
from simulation.display import PALETTE
from simulation.gap_closed import gap_sentences, local_note
from simulation.generated.compositions import level_names_from_effects, readable_compositions
from ui import cache
from ui.fmt import AXIS_LABELS, component_name, escape_markdown, pct, policy_name

__all__ = ["effects_spec", "readable", "render", "served_shares", "served_spec"]

#: Columns of the effects chart's data.
EFFECT_COLUMNS = ["axis", "component", "estimate", "low", "high", "true"]
#: The effects are shown per this many impressions: 0.0003 clicks an impression reads 0.30.
PER_IMPRESSIONS = 1_000
#: The effects chart's x-axis title by objective.
EFFECT_UNITS = {
    "ctr": f"change in clicks per {PER_IMPRESSIONS:,} impressions",
    "roas": f"change in net value (USD) per {PER_IMPRESSIONS:,} impressions",
}


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its axes, components and policies named as a marketer reads them."""
    out = frame.copy()
    out["component"] = [component_name(a, c) for a, c in zip(out["axis"], out["component"])]
    out["axis"] = [AXIS_LABELS.get(a, a.capitalize()) for a in out["axis"]]
    if "policy" in out:
        out["policy"] = [policy_name(p) for p in out["policy"]]
    return out


def _component_y() -> dict:
    # The components in the space's order, one row each; long product names need a wider
    # label column than Vega's default (180 px, cut by the app's theme to about 100).
    return {
        "field": "component",
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": {"labelLimit": 260},
    }


def _axis_rows(axes: list[str]) -> dict:
    # One panel per axis, in the space's order (Vega-Lite sorts by name unless told), its
    # name above the panel: a name written sideways overlaps the next when the panel is
    # shorter than the name (two components: greeting, keyword, language).
    header = {
        "labelAngle": 0,
        "labelOrient": "top",
        "labelAlign": "left",
        "labelAnchor": "start",
        "labelFontWeight": "bold",
        "labelFontSize": 12,
    }
    return {"field": "axis", "type": "nominal", "title": None, "sort": axes, "header": header}


def effects_spec(axes: list[str], unit: str) -> dict:
    """Vega-Lite spec of the component effects chart: one panel per axis, in ``axes`` order.

    Each component's estimate (dot) with its 95 % interval (rule), and the true effect
    (red diamond), on a shared x axis titled ``unit``.
    """
    y = _component_y()
    x = {"field": "low", "type": "quantitative", "title": unit}
    return {
        "facet": {"row": _axis_rows(axes)},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 420,
            "layer": [
                {"mark": "rule", "encoding": {"y": y, "x": x, "x2": {"field": "high"}}},
                {"mark": {"type": "point", "filled": True},
                 "encoding": {"y": y, "x": {"field": "estimate", "type": "quantitative"}}},
                {"mark": {"type": "point", "shape": "diamond", "color": "#d62728"},
                 "encoding": {"y": y, "x": {"field": "true", "type": "quantitative"}}},
            ],
        },
    }  # fmt: skip


def served_shares(served: pd.DataFrame, group: str) -> pd.DataFrame:
    """Each policy's share of ``group``'s impressions per component, averaged over seeds.

    Parameters
    ----------
    served : DataFrame
        ``ExperimentResult.component_allocation_frame()`` (or the saved table).
    group : str
        A segment's name or ``"all"``.

    Returns
    -------
    DataFrame
        Columns ``axis, component, policy, share``, components in the space's order.
    """
    rows = served[served["segment"] == group]
    return rows.groupby(["axis", "component", "policy"], sort=False)["share"].mean().reset_index()


def served_spec(axes: list[str]) -> dict:
    """Vega-Lite spec of the served-components chart: one panel per axis, in ``axes`` order.

    A bar per (component, policy): the share of the impressions served with it, side by
    side within each component, so the learner's choices sit beside uniform's and the
    oracle's.
    """
    y = _component_y()
    return {
        "facet": {"row": _axis_rows(axes)},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 420,
            # Thin bands: the product axis alone has dozens of components.
            "height": {"step": 12},
            "mark": "bar",
            "encoding": {
                "y": y,
                "yOffset": {"field": "policy", "type": "nominal"},
                "x": {"field": "share", "type": "quantitative", "title": "share of impressions",
                      "axis": {"format": "%"}},
                # Vega cuts legend labels at 160 px: "Multivariate Thompson (mvt_ts)" lost
                # its name.
                "color": {"field": "policy", "type": "nominal", "title": "Policy",
                          "scale": {"range": list(PALETTE)}, "legend": {"labelLimit": 400}},
                "tooltip": [{"field": "policy"}, {"field": "component"},
                            {"field": "share", "format": ".1%"}],
            },
        },
    }  # fmt: skip


def render(
    effects: pd.DataFrame,
    top: pd.DataFrame,
    *,
    served: pd.DataFrame | None = None,
    gap: pd.DataFrame | None = None,
    scenario=None,
    objective: str,
    key: str,
) -> None:
    """Draw the gap closed, the effects chart, what each policy served and the top creatives.

    Parameters
    ----------
    effects : DataFrame
        ``ExperimentResult.component_effects_frame()`` (or the saved table of that name).
    top : DataFrame
        ``ExperimentResult.top_creatives_frame()`` (or the saved table).
    served : DataFrame, optional
        ``ExperimentResult.component_allocation_frame()`` (or the saved table; runs saved
        before it was kept have none).
    gap : DataFrame, optional
        :func:`simulation.gap_closed.gap_closed` of the run's summary: how much of the
        uniform -> oracle gap each policy closed (nothing is said without it or when empty).
    scenario : Scenario, optional
        The run's world: the creatives are composed and rendered from it. Without it
        (a saved run) they are listed by their components instead.
    objective : {"ctr", "roas"}
        The run's objective: the effects are in clicks, or net value, per 1,000 impressions.
    key : str
        Prefix of the widgets' keys (one view per page).
    """
    served = pd.DataFrame() if served is None else served
    if gap is not None and not gap.empty:
        st.markdown(
            "**How close to the best composition** (generated level): the share of uniform's "
            "regret a policy avoided, on the same viewers and draws; 0 % is composing at "
            "random, 100 % serving each impression its best composition (the oracle). "
            + local_note(gap)
            + " ".join(escape_markdown(s) for s in gap_sentences(gap, policy_name))
        )
    if effects.empty and served.empty:
        return
    groups = list(dict.fromkeys((effects if not effects.empty else served)["segment"]))
    group = st.selectbox("Segment", groups, index=groups.index("all"), key=f"{key}-effects-segment")
    if not effects.empty:
        st.markdown(
            "**What the learner believes about each component** (generated level, mvt_ts, "
            "first seed): the expected reward of the ads with a component, against the "
            "average of the ads that can be served, with its 95 % interval; the diamond is "
            "the true effect. A call to action is the tone's first, second or third: its words "
            "change with the tone."
        )
        data = effects[(effects["seed"] == 0) & (effects["segment"] == group)]
        # A data frame: a dict such as {"values": rows} is read as a table of one column.
        rows = readable(data[EFFECT_COLUMNS].reset_index(drop=True))
        values = ["estimate", "low", "high", "true"]
        rows[values] = rows[values] * PER_IMPRESSIONS
        unit = EFFECT_UNITS["roas" if objective == "roas" else "ctr"]
        st.vega_lite_chart(rows, effects_spec(list(dict.fromkeys(rows["axis"])), unit))
    if not served.empty:
        st.markdown(
            "**What each policy served, component by component** (generated level, mean over "
            "seeds): the share of the segment's impressions whose ad had each component. "
            f"{policy_name('uniform')} shows what the constraints leave; the oracle, where "
            "it ran, what the truth asks for (where components are equally good, as calls to "
            "action and palettes are to the simulated viewers, its pick among them is "
            "arbitrary)."
        )
        shares = readable(served_shares(served, group))
        st.vega_lite_chart(shares, served_spec(list(dict.fromkeys(shares["axis"]))))
    if top.empty:
        return
    top = top[(top["policy"] == "mvt_ts") & (top["seed"] == 0)]
    # Only the studio's own space makes whole creatives (hill48's three axes do not).
    if top.empty or not set(AXES) <= set(top.columns):
        return
    st.markdown("**The creative each segment was served most** (mvt_ts, first seed)")
    if scenario is None:
        shown = readable_compositions(top, level_names_from_effects(effects))
        shown = shown[["segment", *AXES, "share"]].copy()
        for axis in AXES:  # named as in the charts above, not by the engine's codes
            shown[axis] = [component_name(axis, str(v)) for v in shown[axis]]
        shown = shown.rename(
            columns={
                "segment": "Segment",
                "share": "share of its impressions",
                **{a: AXIS_LABELS.get(a, a.capitalize()) for a in AXES},
            }
        )
        st.dataframe(shown, hide_index=True, width="stretch")
        return
    profiles = {p.name: p for p in scenario.segmentation.profiles}
    cols = st.columns(min(len(top), 3))
    for i, row in enumerate(top.to_dict("records")):
        # Composed with the run's own catalogue and templates (the level holds them).
        combo = [row[a] for a in AXES]
        audience = profiles[row["segment"]].to_audience()
        creative = scenario.levels["generated"].compose(combo, audience)
        png = cache.preview_png(creative, cache.preview_size("feed"))
        with cols[i % len(cols)]:
            st.image(png, output_format="PNG", width="stretch")
            st.caption(f"{escape_markdown(row['segment'])}: {pct(row['share'])} of its impressions")
