"""The Creatives page's Compose tab: any composition of the generated level, rendered.

The generated level composes each impression's ad from ten components; the engine sees
their indices, the studio renders them. Here a user picks the components for a segment,
sees the ad (or, for a composition the constraints refuse, every rule it breaks: such a
composition is never served), and its true expected CTR and ROAS on the segment's users
beside those of each user's own best composition (what the oracle serves). It starts from
the composition most of the segment's users have as their best, under clicks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from simulation.composition_truth import SEGMENT_USERS, composition_outcomes, segment_users
from simulation.config import ExperimentConfig
from ui import cache, state
from ui.fmt import AXIS_LABELS, component_name, escape_markdown, pct


def _config() -> ExperimentConfig:
    # The hidden world's scale too: the true outcomes and the best composition depend on it.
    return state.world_settings().config()


def _level_name(level, axis: int, index: int, tone: int, language: int) -> str:
    """A component level as a marketer reads it (the space's names are the engine's)."""
    space = level.space
    name = space.level_names[axis][index]
    if space.axis_names[axis] == "cta":
        # The level is an index into the tone's calls to action: name its words for the
        # tone and language chosen (the language's box is below; its current choice).
        words = level.call_to_action(tone, language, index)
        return f"“{words}”" if words else "(none for this tone)"
    return component_name(space.axis_names[axis], name)


def _keys(config: ExperimentConfig, axis_names, segment: int) -> list[str]:
    # Per world and segment: each starts from its own best composition.
    world = f"{config.seed}.{config.n_users}.{config.n_segments}"
    scale = config.world.personalization_scale
    if scale != 1:  # another scale has other best compositions (the default keeps its keys)
        world += f"x{scale:g}"
    return [f"cmp-{world}-{segment}-{axis}" for axis in axis_names]


def _restart(keys: list[str]) -> None:
    for key in keys:
        st.session_state.pop(key, None)
        st.session_state.pop(f"keep:{key}", None)


def render(card: Callable) -> None:
    """Draw the tab; ``card(creative, size)`` draws a creative as the Gallery does."""
    st.markdown(
        "The **generated** level composes each viewer's ad from ten components, and the "
        "learner (mvt_ts) chooses them per impression. Pick them yourself: the ad as a "
        "viewer of the segment sees it, and what it would truly earn on the segment's users "
        "against each user's own best composition (the oracle's). It starts from the "
        "composition most of the segment's users have as their best under clicks."
    )
    config = _config()
    scenario = cache.scenario(config)
    level = scenario.levels["generated"]
    space = level.space
    profiles = scenario.segmentation.profiles
    # Choices are kept across pages (``state.keep``); a segment of an older, larger
    # audience falls back to the first.
    if st.session_state.get("keep:cmp-segment", 0) >= len(profiles):
        st.session_state.pop("keep:cmp-segment")
        st.session_state.pop("cmp-segment", None)
    segment = st.selectbox(
        "Written for", range(len(profiles)), key=state.keep("cmp-segment", 0),
        format_func=lambda s: profiles[s].name,
    )  # fmt: skip
    with st.spinner("Finding each user's best composition…"):
        best, share, best_ctr, best_roas = cache.segment_best(config, int(segment))
    keys = _keys(config, space.axis_names, int(segment))
    st.button(
        "Start again from the segment's best", on_click=_restart, args=(keys,), key="cmp-restart"
    )
    columns = st.columns(5)
    combo = []
    axes = list(space.axis_names)
    # The language box comes after the call to action's: its current choice names the words.
    lang_key, lang_best = keys[axes.index("language")], best[axes.index("language")]
    language = int(
        st.session_state.get(lang_key, st.session_state.get(f"keep:{lang_key}", lang_best))
    )
    for j, (axis, key) in enumerate(zip(space.axis_names, keys, strict=True)):
        at = axes.index("tone")
        tone = combo[at] if len(combo) > at else best[at]
        combo.append(
            columns[j % 5].selectbox(
                AXIS_LABELS.get(axis, axis.capitalize()),
                range(space.n_levels[j]),
                key=state.keep(key, best[j]),
                format_func=lambda i, j=j, t=int(tone): _level_name(level, j, i, t, language),
            )
        )
    combo = np.array(combo, dtype=np.int64)
    state.remember("cmp-segment", *keys)
    st.caption(
        f"The starting point is the best composition of {100 * share:.0f} % of the "
        f"segment's users (the first {SEGMENT_USERS:,} of them at most); the others' best "
        "differ in a component or more."
    )

    def names(axis: int, index: int) -> tuple[str, str]:
        # As the boxes above read: "Search printed *none*", not the engine's "keyword none".
        label = AXIS_LABELS.get(space.axis_names[axis], space.axis_names[axis].capitalize())
        return label, _level_name(level, axis, index, int(combo[axes.index("tone")]), language)

    broken = space.conflict_text(combo, mark="*", names=names)
    if broken:
        st.error(
            "Not a valid composition, so never served: "
            + broken
            + ". The rules: the offer fits the product, a headline style needs its slot "
            "(a greeting or a search is printed only by its own headline, or both together "
            "in the body beside a plain headline, for tones that have such a body and a "
            "greeting headline), calls to action exist per tone, and the guardrails "
            "(palette contrast, banned claims, text length).",
            icon=":material/block:",
        )
        return
    users = segment_users(scenario, int(segment))
    ctr, roas = composition_outcomes(scenario, users, combo)
    left, right = st.columns([1, 1])
    with left:
        card(level.compose(combo, profiles[int(segment)].to_audience()), cache.preview_size("feed"))
    with right:
        st.metric("True CTR on the segment's users", pct(ctr, 3),
                  delta=f"{100 * (ctr - best_ctr):+.3f} pp against each user's best",
                  delta_color="normal")  # fmt: skip
        st.metric("True ROAS on the segment's users", f"{roas:.2f}×")
        st.caption(
            escape_markdown(
                f"Each user's own best composition: {pct(best_ctr, 3)} CTR, ROAS "
                f"{best_roas:.2f}× (true, expected; over {users.size:,} users of the segment). "
                "The greeting and the search are each viewer's own (their time of day, "
                "their search naming the product; none is printed for a viewer who made "
                "no such search, and a “greeting + search” ad greets that viewer in its "
                "greeting headline instead): the ad shows the segment's typical viewer's."
            )
        )
