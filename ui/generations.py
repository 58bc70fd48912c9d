"""The Generations view: a regenerated pool over time, its lineage and its last creatives.

Shown on the Experiment page below the results when the run regenerated its
pools (``regenerate_every``), and on the Results page for a reloaded run from its
stored ``generations`` table (:func:`render_saved`). Chart builders return figures;
:func:`render` draws them with a lineage table and the pool at the end, rendered.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from simulation.config import ExperimentConfig
from simulation.scenario import pool_composer
from ui import cache
from ui.charts import PALETTE
from ui.fmt import LEVEL_NAMES, escape_markdown, multiple, pct, plain_codes, policy_name
from ui.tables import markdown_table, table_height

__all__ = [
    "LINEAGE_COUNTS",
    "LINEAGE_HEADERS",
    "NO_LINEAGE_NOTE",
    "OLD_LINEAGE_NOTE",
    "SLOT_NOTE",
    "final_pool",
    "fitness_chart",
    "generations_span",
    "lineage_table",
    "pool_chart",
    "pool_creatives",
    "regenerated_levels",
    "render",
    "render_saved",
]

#: Said wherever a regenerated level's arms are shown: an arm is a slot, not a creative.
SLOT_NOTE = (
    "This level's pools regenerated: the creative in a slot changes across generations (and "
    "differs by policy and seed), so its arms are named by slot. The **Generations** view "
    "below shows which creative held each slot, and when."
)


#: Said for a saved run whose founders were read before their copy was (no ``composable``
#: column): *Changed* then compared a founder's child with the first headline style and
#: call to action the founder's tone allows, not with the founder as served.
OLD_LINEAGE_NOTE = (
    "Saved before 2026-12-05: a founder's composition there took the first headline "
    "style and call to action its tone allows, so *Changed* can leave out how a founder's "
    "child differs from the founder as served in its wording or button."
)

#: Said for a saved run that regenerated but whose lineage is not in the store.
NO_LINEAGE_NOTE = (
    "This run regenerated its pools, but the store holds no lineage for it (its "
    "`generations` table), so there is no Generations view."
)


def regenerated_levels(result) -> frozenset[str]:
    """The levels whose pools regenerated in ``result`` (empty for fixed pools)."""
    if not result.config.regenerate_every:
        return frozenset()
    return frozenset(result.generations_frame()["level"])


def _selected(frame: pd.DataFrame, end: int) -> pd.DataFrame:
    data = frame.copy()
    data["until"] = data["retired_at"].fillna(end)
    # The engine's codes in words: "social_proof · discount_10" read as code.
    data["label"] = data["label"].map(plain_codes)
    # Slots count from 1, as the allocation charts name them.
    data["Slot"] = [f"Slot {j + 1}" for j in data["slot"]]
    data["parent"] = data["parent_node"].map(dict(zip(data["node"], data["label"])))
    data["parent"] = data["parent"].fillna("(founder)")
    # The table names a parent by its row there (a slot gets one creative per generation).
    place = {n: f"Slot {j + 1}, gen. {g}" for n, j, g in
             zip(data["node"], data["slot"], data["generation"])}  # fmt: skip
    data["parent_place"] = data["parent_node"].map(place).fillna("(founder)")
    data["changed"] = data["changed"].replace("", "(founder)").str.replace(",", ", ")
    data["lived"] = [
        f"{int(b):,} – " + ("end (alive)" if pd.isna(r) else f"{int(r):,}")
        for b, r in zip(data["born_at"], data["retired_at"])
    ]
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
    slots = sorted(set(data["slot"]))
    return (
        alt.Chart(data)
        .mark_bar(stroke="white", strokeWidth=2)
        .encode(
            x=alt.X("born_at:Q", title="Impressions", axis=alt.Axis(format="~s"),
                    scale=alt.Scale(domain=[0, end], nice=False)),
            x2="until:Q",
            y=alt.Y("Slot:N", title=None, sort=[f"Slot {j + 1}" for j in slots]),
            color=alt.Color("ctr:Q", title="Observed CTR", scale=alt.Scale(scheme="viridis"),
                            legend=alt.Legend(format=".2%")),
            tooltip=[
                *_who(),
                alt.Tooltip("lived:N", title="Lived (impressions)"),
                alt.Tooltip("impressions:Q", title="Impressions", format=","),
                alt.Tooltip("ctr:Q", title="CTR", format=".2%"),
                alt.Tooltip("roas:Q", title="ROAS", format=".2f"),
                alt.Tooltip("true_ctr:Q", title="True CTR", format=".2%"),
            ],
        )
        # Streamlit fits the whole chart (axes included) into this height.
        .properties(height=80 + 32 * len(slots))
    )  # fmt: skip


def _who() -> list[alt.Tooltip]:
    """Tooltip lines naming a creative: what it is, its slot, generation and parentage."""
    return [
        alt.Tooltip("label:N", title="Creative"),
        alt.Tooltip("Slot:N"),
        alt.Tooltip("generation:Q", title="Generation"),
        alt.Tooltip("parent:N", title="Parent"),
        alt.Tooltip("changed:N", title="Changed"),
    ]


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
            .mark_rule(color=PALETTE[6], opacity=0.6)
            .encode(
                x=alt.X("parent_generation:Q"),
                x2="generation:Q",
                y=alt.Y("parent_value:Q"),
                y2=f"{metric}:Q",
            )
        )
        points = (
            alt.Chart(data)
            .mark_circle(color=PALETTE[0], opacity=0.8)
            .encode(
                x=alt.X("generation:Q", title="Generation (0: founders)",
                        axis=alt.Axis(tickMinStep=1, format="d")),
                y=alt.Y(f"{metric}:Q", title=title, axis=alt.Axis(format=fmt)),
                size=alt.Size("impressions:Q", title="Impressions", legend=None),
                tooltip=[
                    *_who(),
                    alt.Tooltip(f"{metric}:Q", title=title, format=fmt),
                    alt.Tooltip("impressions:Q", title="Impressions", format=","),
                ],
            )
        )  # fmt: skip
        panels.append(alt.layer(rules, points).properties(width=320, height=220))
    return alt.hconcat(*panels)


#: Lineage table columns, readable; what each creative earned first, then where it came from.
LINEAGE_HEADERS: tuple[str, ...] = (
    "Generation", "Slot", "Creative", "Impressions", "Observed CTR", "Observed ROAS",
    "True CTR", "Parent", "Changed", "Lived (impressions)",
)  # fmt: skip
#: Cells of :func:`lineage_table` that read "value (its counts)": the counts go on a line of
#: their own (:func:`ui.tables.markdown_table`).
LINEAGE_COUNTS: tuple[str, ...] = ("Observed CTR", "Observed ROAS")


#: Joins a number to its word ("168 clicks", "Slot 1"), so a narrow cell never splits them.
_NBSP = "\u00a0"


def _count(n: float, one: str, many: str) -> str:
    n = int(n)
    return f"{n:,}{_NBSP}{one if n == 1 else many}"


def _observed(rate: str, count: float, one: str, many: str) -> str:
    # A rate with no event behind it says so: "0.00×" alone reads as a measured zero.
    if int(count) == 0:
        return f"{rate} (no {many})"
    return f"{rate} ({_count(count, one, many)})"


def lineage_table(frame: pd.DataFrame, end: int) -> pd.DataFrame:
    """Readable lineage: one row per creative, what it earned, its parent and what changed.

    The observed CTR and ROAS are the creative's own while it lived, with no interval: the
    clicks and sales beside them say how much each rests on (a ROAS of 5.71× from five
    sales moves a lot with a sixth).

    Parameters
    ----------
    frame : DataFrame
        One (level, policy, seed, row)'s rows of ``ExperimentResult.generations_frame()``.
    end : int
        Impressions of the run (where living creatives' lives end).

    Returns
    -------
    DataFrame of shape (n_creatives, 10)
        Text, columns :data:`LINEAGE_HEADERS`; in the frame's order.
    """
    data = _selected(frame, end)
    return pd.DataFrame(
        {
            "Generation": [str(int(g)) for g in data["generation"]],
            "Slot": data["Slot"].str.replace(" ", _NBSP).to_numpy(),
            "Creative": data["label"].to_numpy(),
            "Impressions": [f"{int(n):,}" for n in data["impressions"]],
            "Observed CTR": [
                _observed(pct(r), c, "click", "clicks")
                for r, c in zip(data["ctr"], data["clicks"], strict=True)
            ],
            "Observed ROAS": [
                _observed(multiple(r), c, "sale", "sales")
                for r, c in zip(data["roas"], data["conversions"], strict=True)
            ],
            "True CTR": [pct(v) for v in data["true_ctr"]],
            "Parent": data["parent_place"].to_numpy(),
            "Changed": data["changed"].to_numpy(),
            "Lived (impressions)": data["lived"].to_numpy(),
        },
        columns=list(LINEAGE_HEADERS),
    )


def final_pool(frame: pd.DataFrame) -> pd.DataFrame:
    """The creatives alive when the run ended, one per slot, in slot order.

    Parameters
    ----------
    frame : DataFrame
        One (level, policy, seed, row)'s rows of ``ExperimentResult.generations_frame()``.

    Returns
    -------
    DataFrame
        The rows of ``frame`` never retired, sorted by slot.
    """
    return frame[frame["retired_at"].isna()].sort_values("slot", kind="stable")


def pool_creatives(scenario, level: str, row: str, alive: pd.DataFrame) -> list:
    """The creatives of ``alive``'s rows as the row's viewers saw them.

    A founder is the level's own creative in its slot; a child is its composition written
    again by the level's :class:`simulation.scenario.PoolComposer` (the same catalogue,
    templates and guardrails the run wrote it with). Where a row is written in several
    languages (the generic level's localized control), the first one's.

    Parameters
    ----------
    scenario : Scenario
        The run's world (world 0 of a multi-world run).
    level : {"generic", "segment"}
    row : str
        The lineage row: "all" at the generic level, else a segment's name.
    alive : DataFrame
        Rows of :func:`final_pool`.

    Returns
    -------
    list of Creative, one per row of ``alive``
    """
    composer = pool_composer(scenario, level)
    names = composer.row_names(tuple(p.name for p in scenario.segmentation.profiles))
    r = names.index(row)
    table_row = max(composer.entries[r][0][0], 0)
    out = []
    for generation, slot, combo in zip(
        alive["generation"], alive["slot"], alive["combo"], strict=True
    ):
        if int(generation) == 0:
            out.append(scenario.levels[level].creatives[table_row][int(slot)])
            continue
        composed = composer.compose(r, np.array(str(combo).split(), dtype=np.int64))
        if composed is None:  # the run served it, so it passed: a changed catalogue or rule
            raise ValueError(f"the run's child {combo!r} no longer composes in this world.")
        out.append(composed[0])
    return out


def _rendered_pool(config, level: str, row: str, data: pd.DataFrame) -> None:
    """The pool at the end of the run, rendered, each with what it earned."""
    alive = final_pool(data)
    try:
        scenario = cache.scenario(config)
        creatives = pool_creatives(scenario, level, row, alive)
    except (ValueError, OSError, LookupError) as exc:
        # A saved run's world is rebuilt from its config and files: one may be gone or
        # changed since. The lineage above is the run's own; only the images need the world.
        st.caption(escape_markdown(f"The pool at the end cannot be rendered: {exc}"))
        return
    languages = {getattr(c, "language", "en") for c in creatives}
    several = len(pool_composer(scenario, level).entries[0]) > 1
    st.markdown(
        "**The pool at the end**: the creative each slot held when the run ended, as it was "
        "served (feed placement)"
        + (
            "; shown in English, readers of Korean saw the same ad in Korean"
            if several and languages == {"en"}
            else ""
        )
        + "."
    )
    size = cache.preview_size("feed")
    cols = st.columns(min(3, max(len(alive), 1)))
    for i, (rec, creative) in enumerate(zip(alive.to_dict("records"), creatives, strict=True)):
        with cols[i % len(cols)]:
            st.image(cache.preview_png(creative, size), output_format="PNG", width="stretch")
            st.caption(
                escape_markdown(
                    f"Slot {int(rec['slot']) + 1}, gen. {int(rec['generation'])}: "
                    f"{plain_codes(rec['label'])}. Observed CTR "
                    f"{_observed(pct(rec['ctr']), rec['clicks'], 'click', 'clicks')}, ROAS "
                    f"{_observed(multiple(rec['roas']), rec['conversions'], 'sale', 'sales')}; "
                    f"true CTR {pct(rec['true_ctr'])}."
                )
            )


def render(result) -> None:
    """The Generations view of a result that regenerated its pools (nothing otherwise)."""
    frame = result.generations_frame()
    if frame.empty:
        return
    # One keyed container: the browser test finds (and screenshots) the view by its key.
    with st.container(key="ex-generations"):
        _view(frame, result.config, "ex")


def render_saved(config: dict, frame: pd.DataFrame | None) -> None:
    """The Generations view of a run reopened on the Results page, from what was saved.

    Parameters
    ----------
    config : dict
        The run's config as stored.
    frame : DataFrame or None
        The run's stored ``generations`` table (None where the store holds none). A run
        that regenerated without it, or whose config this adlab no longer reads, gets a
        one-line note.
    """
    if not config.get("regenerate_every"):
        return
    if frame is None or frame.empty:
        st.caption(NO_LINEAGE_NOTE)
        return
    try:
        run_config = ExperimentConfig.from_dict(dict(config))
    except (TypeError, ValueError) as exc:
        st.caption(
            escape_markdown(f"This run's Generations view cannot be shown: its config: {exc}")
        )
        return
    with st.container(key="rs-generations"):
        _view(frame, run_config, "rs")


def generations_span(n_bred: int) -> str:
    """How many generations a pool lived through, the founders' generation 0 counted.

    Parameters
    ----------
    n_bred : int
        The last generation born (0: no child was born).
    """
    if n_bred == 0:
        return "in one generation (the founders; no child was born)"
    bred = "1 bred" if n_bred == 1 else f"{n_bred:,} bred"
    return f"over {n_bred + 1:,} generations (the founders, generation 0, and {bred})"


def _view(frame: pd.DataFrame, config, key: str) -> None:
    st.subheader("Generations: the self-improving pool")
    every = config.regenerate_every
    st.caption(
        f"Every {every:,} impressions each policy retired the weakest quarter of its pool "
        "(by the clicks or net value it observed, never the ground truth) and bred children "
        "of its best: one or two components changed, every child checked by the guardrails."
    )
    # The level and policy names are long, a seed is a number, and a segment's name runs to
    # sixty characters: four to a row cut "Generic (same ads for everyone" and every
    # segment's name at 1280 px, so the audience gets a row of its own.
    c1, c2, c3 = st.columns([4, 4, 1])
    c4, _ = st.columns([3, 1])
    levels = list(dict.fromkeys(frame["level"]))
    level = c1.selectbox("Level", levels, format_func=LEVEL_NAMES.get, key=f"{key}-gen-level")
    at_level = frame[frame["level"] == level]
    policies = list(dict.fromkeys(at_level["policy"]))
    # A learning policy first: the uniform split judges its pool too, but never exploits it.
    learners = [p for p in policies if p != "uniform"]
    first = "thompson" if "thompson" in policies else (learners or policies)[0]
    policy = c2.selectbox(
        "Policy", policies, index=policies.index(first), format_func=policy_name,
        key=f"{key}-gen-policy",
    )  # fmt: skip
    at_policy = at_level[at_level["policy"] == policy]
    if "world" in at_policy:
        at_policy = at_policy[at_policy["world"] == 0]
    seed = c3.selectbox("Seed", sorted(set(at_policy["seed"])), key=f"{key}-gen-seed")
    at_seed = at_policy[at_policy["seed"] == seed]
    row = c4.selectbox(
        "Audience", list(dict.fromkeys(at_seed["row"])), key=f"{key}-gen-row",
        format_func=lambda r: "Everyone" if r == "all" else r,
    )  # fmt: skip
    data = at_seed[at_seed["row"] == row]
    end = config.n_impressions
    n_gen = int(data["generation"].max())
    level_name = LEVEL_NAMES.get(level, level).lower()
    st.markdown(
        f"**{escape_markdown(policy_name(policy))}** at the {escape_markdown(level_name)} level: "
        f"{len(data)} creatives in {data['slot'].nunique()} slots {generations_span(n_gen)}."
    )
    st.markdown(
        "**The pool over time**: each bar is one creative, from its birth to its retirement, "
        "coloured by the CTR observed while it lived."
    )
    st.altair_chart(pool_chart(data, end), width="stretch")
    st.markdown(
        "**Each creative's observed CTR and ROAS, by the generation it was born in**: a line "
        "joins a parent to its child; the larger the point, the more impressions it got."
    )
    st.altair_chart(fitness_chart(data), width="stretch")
    st.markdown(
        "**Lineage**: every creative the pool held, what it earned and where it came from. "
        "CTR and ROAS are observed while it lived, with no interval (the clicks and sales "
        "behind each are beside it); *True CTR* is the simulator's expected CTR of the "
        "creative over this audience, which a real experiment never sees."
    )
    # A static table whose cells wrap: as a data grid, Changed, Parent and Lived ran past
    # a 1280 px window and had to be scrolled to sideways.
    table = lineage_table(data, end)
    st.table(
        markdown_table(table, intervals=LINEAGE_COUNTS),
        hide_index=True,
        height=table_height(len(table)),
    )
    if "composable" not in data:
        st.caption(OLD_LINEAGE_NOTE)
    _rendered_pool(config, level, row, data)
