"""World page: the ground truth laid open, before anything runs.

What ``python -m simulation world`` writes, for the audience and creatives the other pages
use: every arm's components, product, price and expected CTR, conversion rate, order value
and ROAS; how far the best arm is above the median one; and what each mechanism of the
response contributes. These are the simulator's true (expected) values, which a real
experiment never sees: a user can see why an ad will win before running anything.
"""

from __future__ import annotations

import dataclasses

import altair as alt
import pandas as pd
import streamlit as st

from simulation.display import mechanism_name
from simulation.ground_truth import world_report
from simulation.world import WORLD_BOUNDS
from ui import cache, state
from ui.fmt import LEVEL_NAMES, escape_markdown, pct, plain_codes, scale_text
from ui.forms import SCALE_LABEL, world_scale

#: Arm columns shown, with their headers.
ARM_VIEW = {
    "level": "Level", "segment": "Segment", "arm": "Arm", "label": "Creative",
    "category": "Category", "product": "Product", "price": "Price ($)", "tone": "Tone",
    "offer": "Offer", "layout": "Layout", "keyword": "Keyword", "true_ctr": "True CTR",
    "true_cvr": "True conversion rate", "true_order_value": "True order value ($)",
    "true_roas": "True ROAS",
}  # fmt: skip


#: Width of the spreads table's *What is compared* column: the table fits a 1280 px window.
SCOPE_PX = 300

#: The spreads' metrics, readable.
SPREAD_METRICS = {
    "ctr": "CTR",
    "conversions_per_1k": "Conversions per 1k",
    "roas": "ROAS",
}


def _spread_value(metric: str, value: float) -> str:
    if metric == "ctr":
        return pct(value)
    if metric == "roas":
        return f"{value:.2f}×"
    return f"{value:.2f}"


def _spread_scope(scope: str, segment_names: list[str]) -> str:
    # "level segment: its arms, segment 3" -> "Per segment: its arms, <segment 3's name>".
    if scope.startswith("level "):
        level, rest = scope.removeprefix("level ").split(":", 1)
        scope = f"{LEVEL_NAMES.get(level, level)}:{rest}"
    head, sep, last = scope.rpartition(", segment ")
    if sep and last.isdigit() and int(last) < len(segment_names):
        scope = f"{head}, {segment_names[int(last)]}"
    return scope


def spreads_table(spreads: pd.DataFrame, segment_names: list[str]) -> pd.DataFrame:
    """``WorldReport.spreads`` with readable headers, scopes and values.

    Parameters
    ----------
    spreads : DataFrame
        Columns ``scope, n_arms, metric, best, median, worst, best_over_median``.
    segment_names : list of str
        Segment ``k``'s name at position ``k`` (scopes name segments by number).

    Returns
    -------
    DataFrame
        One row per row of ``spreads``, in order; values as text in each metric's unit.
    """
    values = {
        col: [_spread_value(m, v) for m, v in zip(spreads["metric"], spreads[col], strict=True)]
        for col in ("best", "median", "worst")
    }
    return pd.DataFrame(
        {
            "What is compared": [_spread_scope(x, segment_names) for x in spreads["scope"]],
            "Arms": spreads["n_arms"].to_numpy(),
            "Metric": spreads["metric"].map(lambda m: SPREAD_METRICS.get(m, m)).to_numpy(),
            "Best": values["best"],
            "Median": values["median"],
            "Worst": values["worst"],
            "Best ÷ median": [f"{v:.2f}×" for v in spreads["best_over_median"]],
        }
    )


def mechanism_labels(mechanisms: pd.DataFrame) -> pd.Series:
    """Each row's mechanism as the chart names it (``simulation.display.mechanism_name``).

    The built-in bonus for personalized copy is marked "(off: 0)" when it adds nothing at
    any level: the world has no such bonus, and the chart shows that rather than hiding it.

    Parameters
    ----------
    mechanisms : DataFrame
        ``WorldReport.mechanisms``: one row per (level, mechanism).

    Returns
    -------
    labels : Series of str, aligned with ``mechanisms``
    """
    bonus = mechanisms[mechanisms["mechanism"] == "personalized"]
    terms = ["click_logit_mean", "click_logit_sd", "conv_logit_mean"]
    off = bool((bonus[terms].to_numpy() == 0.0).all())
    return mechanisms["mechanism"].map(lambda m: mechanism_name(m, off=off))


#: Room for the longest mechanism name ("built-in bonus for personalized copy (off: 0)",
#: about 250 px in Streamlit's 12 px axis labels).
MECHANISM_LABEL_PX = 320
#: Width of each level's panel: the names and three panels fit the app's page at 1280 px
#: wide (about 820 px of content); at 260 px the third panel ran off the page.
MECHANISM_PANEL_PX = 140


def mechanisms_chart(mechanisms: pd.DataFrame) -> alt.FacetChart:
    """Each mechanism's lift of the expected CTR, one bar per mechanism, a panel per level."""
    data = mechanisms.assign(
        Level=mechanisms["level"].map(lambda v: LEVEL_NAMES.get(v, v)),
        Mechanism=mechanism_labels(mechanisms),
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "ctr_lift:Q",
                title="Lift of the expected CTR",
                axis=alt.Axis(format="+.1%", tickCount=4),
            ),
            # The whole name, "(off: 0)" included: at Vega's default limit of 180 px it was
            # cut ("built-in bonus for…"). The axis is shared, so the names show once, left.
            y=alt.Y(
                "Mechanism:N",
                title=None,
                sort="-x",
                axis=alt.Axis(labelOverlap=False, labelLimit=MECHANISM_LABEL_PX),
            ),
            color=alt.Color("kind:N", title="Kind", legend=alt.Legend(orient="bottom")),
            tooltip=[
                "Mechanism:N",
                alt.Tooltip("what:N", title="What it is"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("ctr_lift:Q", title="CTR lift", format="+.2%"),
                alt.Tooltip("conversions_lift:Q", title="Conversions lift", format="+.2%"),
            ],
        )
        # A row per mechanism: at a fixed 220 px, Vega dropped every other label.
        .properties(width=MECHANISM_PANEL_PX, height=alt.Step(20))
        .facet(
            column=alt.Column("Level:N", title=None, sort=list(LEVEL_NAMES.values())),
            spacing=12,
        )
        .resolve_scale(y="shared")
    )


def compositions_table(compositions: pd.DataFrame) -> pd.DataFrame:
    """``WorldReport.compositions`` with readable headers and values.

    Parameters
    ----------
    compositions : DataFrame
        Columns :data:`simulation.composition_truth.COMPOSITION_COLUMNS`.

    Returns
    -------
    DataFrame
        One row per row of ``compositions``, in order; rates as text.
    """
    return pd.DataFrame(
        {
            "Objective": compositions["objective"].to_numpy(),
            "Who": compositions["segment_name"].to_numpy(),
            "Users": compositions["users"].to_numpy(),
            "Best: true CTR": [pct(v, 3) for v in compositions["true_best_ctr"]],
            "Random: true CTR": [
                f"{pct(v, 3)} ± {100 * se:.3f}"
                for v, se in zip(
                    compositions["true_random_ctr"], compositions["true_random_ctr_se"], strict=True
                )
            ],
            "Random in the viewer's language: true CTR": [
                f"{pct(v, 3)} ± {100 * se:.3f}"
                for v, se in zip(
                    compositions["true_random_local_ctr"],
                    compositions["true_random_local_ctr_se"],
                    strict=True,
                )
            ],
            "Best: true ROAS": [f"{v:.2f}×" for v in compositions["true_best_roas"]],
            "Random: true ROAS": [f"{v:.2f}×" for v in compositions["true_random_roas"]],
            "Random in the viewer's language: true ROAS": [
                f"{v:.2f}×" for v in compositions["true_random_local_roas"]
            ],
            "Different best compositions": compositions["distinct_best"].to_numpy(),
            "Most common best": [
                f"{100 * share:.0f} %: {combo}"
                for share, combo in zip(
                    compositions["top_share"], compositions["top_composition"], strict=True
                )
            ],
        }
    )


#: What each objective's panel of :func:`compositions_chart` measures: column, title, format.
_COMPOSITION_MEASURES = {
    "clicks": ("ctr", "True CTR", ".2%"),
    "net value": ("roas", "True ROAS", ".2f"),
}


#: The bars of :func:`compositions_chart`: the key of their ``true_{key}_*`` columns, name.
_COMPOSITION_BARS = (
    ("best", "each user's best"),
    ("random_local", "random, viewer's language"),
    ("random", "random"),
)
_BAR_NAMES = [name for _, name in _COMPOSITION_BARS]
#: Room for the longest segment name (sixty characters, about 330 px in 12 px axis labels).
COMPOSITION_LABEL_PX = 360
#: Width of each objective's panel: the names and both panels fit the page at a 1280 px
#: window (about 800 px); at 260 px the net-value panel ran some 60 px past the page.
COMPOSITION_PANEL_PX = 200


def compositions_chart(compositions: pd.DataFrame) -> alt.HConcatChart:
    """Each user's best composition against random ones: a panel per objective.

    Under clicks the bars are the true CTR, under net value the true ROAS (what each
    objective is after), for all users and each segment; a bar for the best, one for
    random compositions in the viewer's language, one for random ones (what ``uniform``
    serves, half of them in a language the viewer does not read).
    """
    panels = []
    for i, (objective, (column, title, fmt)) in enumerate(_COMPOSITION_MEASURES.items()):
        rows = compositions[compositions["objective"] == objective]
        long = pd.concat(
            [
                pd.DataFrame(
                    {
                        "Who": rows["segment_name"],
                        "Composition": name,
                        "value": rows[f"true_{key}_{column}"],
                    }
                )
                for key, name in _COMPOSITION_BARS
            ]
        )
        panels.append(
            alt.Chart(long, title=f"Under {objective}")
            .mark_bar()
            .encode(
                x=alt.X("value:Q", title=title, axis=alt.Axis(format=fmt)),
                # Segment names run to sixty characters (the default 180 px cut them); the
                # panels share the rows, so only the first one names them.
                y=alt.Y(
                    "Who:N",
                    title=None,
                    sort=list(rows["segment_name"]),
                    axis=alt.Axis(labelLimit=COMPOSITION_LABEL_PX, labels=i == 0, ticks=i == 0),
                ),
                yOffset=alt.YOffset("Composition:N", sort=_BAR_NAMES),
                color=alt.Color(
                    "Composition:N",
                    sort=_BAR_NAMES,
                    legend=alt.Legend(orient="bottom"),
                ),
                tooltip=["Who:N", "Composition:N", alt.Tooltip("value:Q", title=title, format=fmt)],
            )
            .properties(width=COMPOSITION_PANEL_PX)
        )
    return alt.hconcat(*panels)


def language_share_text(compositions: pd.DataFrame) -> str:
    """How much of the random-to-best gap, all users, is the viewer's language, per objective.

    Under clicks the gap in true CTR, under net value in true ROAS (the measures of
    :func:`compositions_chart`): ``(random in the viewer's language - random) / (best -
    random)``. True values, over the sampled users; random ones are Monte Carlo means.
    """
    parts = []
    for objective, (column, _, _) in _COMPOSITION_MEASURES.items():
        rows = compositions[
            (compositions["objective"] == objective) & (compositions["scope"] == "all")
        ]
        if rows.empty:
            continue
        row = rows.iloc[0]
        best, plain, local = (row[f"true_{k}_{column}"] for k in ("best", "random", "random_local"))
        name = "CTR" if column == "ctr" else "ROAS"
        if pd.isna(local) or best <= plain:
            parts.append(f"Under {objective}: no gap from random to the best to share out.")
            continue
        share = 100 * (local - plain) / (best - plain)
        parts.append(
            f"Under {objective}: random compositions in the viewer's language already close "
            f"{share:.0f} % of the gap in true {name} from random to each user's best; the "
            "rest is the gap a learner must find beyond the language."
        )
    return " ".join(parts)


def _compositions(compositions: pd.DataFrame) -> None:
    """The generated level: each user's best composition against random valid ones."""
    st.subheader("Generated level: each user's best composition")
    every = compositions[compositions["scope"] == "all"]
    st.markdown(
        "What composing each viewer's ad could earn at most: each user's exact best "
        "composition under the run's objective (what the **oracle** serves) against "
        "compositions drawn at random among the valid ones (what **uniform** serves; ± one "
        "standard error of its Monte Carlo mean). The gap between them is what a learner "
        "such as mvt_ts can close. When every user's best composition is the same, composing "
        "per user has nothing to work with that one ad for everyone would not get.\n\n"
        "The language is one of the components, so about half of uniform's ads are in a "
        "language the viewer does not read, while every other level's ads are in the "
        "viewer's language. The middle bar draws random compositions **in the viewer's "
        "language**: the gap from random to it is learning the viewer's language, the gap "
        "from it to the best is the rest."
    )
    st.caption(
        " ".join(
            f"Under {row.objective}: "
            + (
                f"the same best composition for all {row.users:,} users sampled."
                if row.distinct_best == 1
                else f"{row.distinct_best:,} different best compositions among the "
                f"{row.users:,} users sampled, the most common one {100 * row.top_share:.0f} % "
                "of them."
            )
            for row in every.itertuples(index=False)
        )
    )
    st.caption(language_share_text(compositions))
    st.altair_chart(compositions_chart(compositions))
    with st.expander("The compositions' table"):
        st.dataframe(compositions_table(compositions), hide_index=True, width="stretch")


def _report(with_generated: bool = False):
    """The world report of this tab's world, kept per world (audience and scale) in the session."""
    config = state.world_settings().config()
    kept = st.session_state.get("world-report")
    if kept is not None and kept[0] == config and kept[2] == with_generated:
        return kept[1]
    with st.spinner("Computing every arm's expected outcome…"):
        report = world_report(cache.scenario(config), generated=with_generated)
    st.session_state["world-report"] = (config, report, with_generated)
    return report


#: The scale box's widget key (its value is the shared world's while the page is shown).
SCALE_KEY = "world-scale"


def _scale_control() -> None:
    """*Personalization in the world*: set the hidden world's scale every page uses.

    A valid value becomes the shared world's at once (the report below follows it); an
    invalid one is refused beside the box, in words, and the world stays as it was.
    """
    current = state.world_settings()
    if SCALE_KEY not in st.session_state:  # dropped on a page switch: show the world in use
        st.session_state[SCALE_KEY] = float(current.personalization_scale)
    low, high = WORLD_BOUNDS["personalization_scale"]
    box, words = st.columns([1, 2])
    # No min/max: the browser would refuse a value out of range behind a hover icon and
    # keep the old one; ui.forms.world_scale checks it and the reason shows beside the box.
    value = box.number_input(
        SCALE_LABEL,
        step=0.5,
        format="%.2f",
        key=SCALE_KEY,
        help=(
            "Multiplies every user-dependent effect of the hidden response: interests, the "
            "viewer's own searches, tone by age and region, offers by price sensitivity, "
            "greetings by active hours, layout by device. 0: users' traits do not change how "
            "they respond to an ad, so there is nothing to personalize (the language they "
            f"read still counts: that is locale); 1: the default world; up to {high:g}. "
            "The Experiment page runs in this world and each run records it; the Compose "
            "tab uses it too (the Sweeps page varies it in its own grid)."
        ),
    )
    try:
        scale = world_scale(value)
    except ValueError as exc:
        words.error(f"The world was not changed: {escape_markdown(exc)}")
        return
    if scale != current.personalization_scale:
        state.set_world(dataclasses.replace(current, personalization_scale=scale))
    words.caption(
        f"World: {scale_text(scale)}. 0 leaves nothing to personalize, 1 is the default "
        f"world, {low:g} to {high:g} allowed. The check that when the world gives "
        "personalization nothing to work with, adlab reports nothing: set 0, then run the "
        "Experiment page."
    )


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
    _scale_control()
    with_generated = st.checkbox(
        "With the generated level (each user's own best composition; a few seconds more)",
        key=state.keep("world-generated", False),
    )
    state.remember("world-generated")  # kept when the user visits another page and returns
    if not st.button("Lay the world open", type="primary", key="world-open") and (
        st.session_state.get("world-report") is None
    ):
        st.info("Press **Lay the world open** to compute every arm's expected outcome.")
        return
    report = _report(with_generated)
    st.subheader("Every arm, true (expected) values")
    arms = report.arms[[c for c in ARM_VIEW if c in report.arms]].rename(columns=ARM_VIEW)
    arms["Level"] = arms["Level"].map(lambda v: LEVEL_NAMES.get(v, v))
    # Tones and offers in words ("social proof", "10 % off"), not the engine's codes.
    for column in ("Creative", "Tone", "Offer"):
        arms[column] = arms[column].map(plain_codes)
    # Segments by name, as in the tables below ("all" for the generic level's rows): one
    # column of text, not numbers mixed with "all".
    names = [p.name for p in cache.world(state.world_settings())[1].profiles]
    arms["Segment"] = [
        names[int(v)] if str(v).isdigit() and int(v) < len(names) else str(v)
        for v in arms["Segment"]
    ]
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
    st.dataframe(
        spreads_table(report.spreads, names),
        hide_index=True,
        width="stretch",
        # Sized to its longest scope (about 500 px), the first column pushed Worst and
        # Best ÷ median past a 1280 px window; the whole scope shows on hover.
        column_config={"What is compared": st.column_config.TextColumn(width=SCOPE_PX)},
    )
    st.subheader("What each mechanism contributes")
    st.markdown(
        "Each bar is a mechanism's lift of the expected CTR at that level (content effects "
        "apply to everyone; user-dependent ones depend on the viewer)."
    )
    st.altair_chart(mechanisms_chart(report.mechanisms), width="stretch")
    with st.expander("The mechanisms' table"):
        # The readable name first; the engine's key stays, as the command line writes it.
        table = report.mechanisms.copy()
        table.insert(0, "Mechanism", mechanism_labels(table))
        st.dataframe(table, hide_index=True, width="stretch")
    if report.compositions is not None:
        _compositions(report.compositions)
    st.caption(escape_markdown("Written by the command line too: python -m simulation world."))


render()
