"""Audience page: the simulated users, their segments, and the user's own segments file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

# The split population_from_segments draws with (private there): the table shows the
# counts a run will have, not a re-derivation that could drift from them.
from simulation.population import _segment_counts
from ui import cache, charts, state
from ui.fmt import escape_markdown, pct
from ui.forms import world_settings
from ui.tables import segment_table
from ui.uploads import (
    MAX_UPLOAD_BYTES,
    UploadError,
    format_mb,
    parse_segments_upload,
    uploader_mb,
)

UPLOAD_KEY = "uploaded_segments"  # (file name, list of Audience) or absent


def _settings_form() -> None:
    current = state.world_settings()
    with st.form("audience-settings"):
        c1, c2, c3 = st.columns(3)
        # No min/max: the browser would refuse a value out of range behind a hover icon and
        # keep the old one; ui.forms checks them and the reason shows under the button.
        n_users = c1.number_input(
            "Population size", step=1_000, value=current.n_users,
            help="Simulated users that impressions are drawn from (100 to 500,000).",
        )  # fmt: skip
        n_segments = c2.number_input(
            "Segments", step=1, value=current.n_segments,
            help="Groups found by k-means clustering of the users' features (1 to 50).",
        )  # fmt: skip
        seed = c3.number_input(
            "Seed", step=1, value=current.seed,
            help="The same seed gives the same users, segments and creatives.",
        )  # fmt: skip
        if st.form_submit_button("Generate audience", type="primary"):
            try:
                # The World page's scale is not on this form: a new audience keeps it.
                settings = world_settings(
                    n_users=n_users, n_segments=n_segments, seed=seed,
                    personalization_scale=current.personalization_scale,
                )  # fmt: skip
            except (TypeError, ValueError) as exc:
                st.error(f"The audience was not changed: {escape_markdown(exc)}")
            else:
                state.set_world(settings)


def segment_users(audiences, n_users: int) -> list[int]:
    """Users each uploaded segment gets in a run of ``n_users``: the engine's own split.

    Parameters
    ----------
    audiences : sequence of Audience
        The uploaded segments; ``size`` is relative.
    n_users : int

    Returns
    -------
    counts : list of int, one per segment
        Summing to ``n_users`` (largest remainder, at least one user each), as
        :func:`simulation.population.population_from_segments` draws them.
    """
    sizes = np.array([a.size for a in audiences], dtype=np.float64)
    return [int(c) for c in _segment_counts(sizes, int(n_users))]


def _upload() -> None:
    st.subheader("Your own segments (optional)")
    st.markdown(
        "Upload a CSV with one row per segment (columns `audience_id`, `name`, "
        "`top_interests` separated by `;`, `keywords`, `active_hours`, `mobile_share`, "
        "`price_sensitivity`, `language`, `size`). They appear on the Creatives page, so you "
        "can see the ads adlab would write for them, and the Experiment page can run on them "
        f"(**Use my segments**). Files up to {format_mb(MAX_UPLOAD_BYTES)}: a larger one "
        "turns red in the box and is not read (point at it for the reason)."
    )
    file = st.file_uploader(
        f"Segments file (CSV or TOML, up to {format_mb(MAX_UPLOAD_BYTES)})",
        type=["csv", "toml"],
        # The drop zone then states this cap, not the server's (it said "400MB per file").
        max_upload_size=uploader_mb(MAX_UPLOAD_BYTES),
        key="segments-file",
        on_change=state.forget_on_removal("segments-file", UPLOAD_KEY),
    )
    if state.new_upload("segments-file", file):
        try:
            audiences = parse_segments_upload(file.name, file.getvalue())
        except UploadError as exc:
            state.upload_refused("segments-file")  # the segments in use before stay
            st.session_state["segments-error"] = str(exc)
        else:
            st.session_state[UPLOAD_KEY] = (file.name, audiences)
            state.upload_accepted("segments-file", file.file_id)
            st.session_state.pop("segments-error", None)
    if st.session_state.get("segments-error"):
        kept = st.session_state.get(UPLOAD_KEY)
        st.error(
            f"That file was not used: {escape_markdown(st.session_state['segments-error'])} "
            + (
                f"The previous segments ({escape_markdown(kept[0])}) are kept."
                if kept
                else "No segments file is in use: the pages use the generated segments."
            )
        )
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded:
        name, audiences = uploaded
        plural = "s" if len(audiences) != 1 else ""
        st.success(f"Using {len(audiences)} segment{plural} from {escape_markdown(name)}.")
        n_users = state.world_settings().n_users
        frame = pd.DataFrame(
            {
                "Id": [a.audience_id for a in audiences],
                "Name": [a.name for a in audiences],
                # The file's sizes are relative (30/40/30); a run draws the audience's users
                # in proportion to them, with the engine's own split.
                "Relative size": [a.size for a in audiences],
                "Users in a run": segment_users(audiences, n_users),
                "Top interests": [", ".join(a.top_interests) for a in audiences],
                "Keywords": [", ".join(a.keywords) for a in audiences],
                "Active": [a.active_hours or "–" for a in audiences],
                "On mobile": [pct(a.mobile_share, 0) for a in audiences],
                "Price sensitivity": [f"{a.price_sensitivity:.2f}" for a in audiences],
                "Language": [a.language for a in audiences],
            }
        )
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={"Users in a run": st.column_config.NumberColumn(format="localized")},
        )
        st.caption(
            f"Users in a run: how many of the {n_users:,} simulated users (the population size "
            "above) each segment gets when an experiment runs on these segments (**Use my "
            "segments**), in proportion to the file's relative sizes."
        )
        if st.button("Remove uploaded segments"):
            st.session_state.pop(UPLOAD_KEY, None)
            st.rerun()


def render() -> None:
    """Draw the page."""
    st.title("Audience")
    st.markdown(
        "Who sees the ads. adlab simulates a population of users (age, region, device, "
        "language, interests, when they are online, how much they care about price) and "
        "groups them into **segments** with similar habits. Personalized ads are written for "
        "these segments, so this is where personalization starts: the clearer the groups, "
        "the more a tailored ad can gain over one ad for everyone."
    )
    _settings_form()
    settings = state.world_settings()
    population, segmentation = cache.world(settings)
    profiles = segmentation.profiles
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Users", f"{population.n_users:,}")
    c2.metric("Segments", f"{segmentation.n_segments}")
    c3.metric("On mobile", pct(float(population.mobile.mean()), 0))
    c4.metric("Korean speakers", pct(float(population.language.mean()), 0))

    st.subheader("Segments")
    st.dataframe(
        segment_table(segmentation.to_frame()),
        hide_index=True,
        width="stretch",
        column_config={
            "Active": st.column_config.TextColumn(
                help="The part of the day this segment is online more than the audience as a "
                "whole (most people are online most in the evening; the chart below has the "
                "shares). Its ads greet for it. The name says it only when the difference is "
                "large (15 % more or above)."
            )
        },
    )
    # One under the other, each the page's width: side by side at 1280 px, the long segment
    # names squeezed the size bars to a sliver and cut the online chart's legend.
    st.markdown("**Segment sizes**")
    st.altair_chart(charts.segment_sizes_chart(segmentation.to_frame()), width="stretch")
    st.markdown("**When each segment is online**")
    st.altair_chart(charts.active_hours_chart(profiles), width="stretch")
    st.markdown("**Interests by segment** (share of the segment holding each interest)")
    st.altair_chart(charts.interest_heatmap(profiles), width="stretch")
    _upload()


render()
