"""Per-tab session state: the shared world, persistent widget values and this session's runs.

Streamlit drops a widget's state when its page is not shown, so values that must survive a
page switch are copied to plain keys (``keep:<key>``) and restored before the widget is drawn.
Every browser tab has its own session, hence its own copy of all of this.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.forms import WorldSettings

__all__ = ["add_session_run", "keep", "remember", "session_runs", "set_world", "world_settings"]

_WORLD = "world"
_RUNS = "session_runs"
MAX_SESSION_RUNS = 20


def keep(key: str, default: Any) -> str:
    """Restore widget ``key`` from its kept value (or ``default``) and return the key."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"keep:{key}", default)
    return key


def remember(*keys: str) -> None:
    """Copy the current values of widgets ``keys`` to their kept slots."""
    for key in keys:
        if key in st.session_state:
            st.session_state[f"keep:{key}"] = st.session_state[key]


def world_settings() -> WorldSettings:
    """The audience settings of this tab (defaults until the Audience page changes them)."""
    return st.session_state.get(_WORLD) or WorldSettings()


def set_world(settings: WorldSettings) -> None:
    """Make ``settings`` the audience every page uses."""
    st.session_state[_WORLD] = settings


def session_runs() -> list[dict[str, Any]]:
    """Runs made in this tab, newest last.

    Each is a dict with ``label``, ``config``, ``result`` and ``run_id`` (None if saving
    failed).
    """
    return st.session_state.setdefault(_RUNS, [])


def add_session_run(entry: dict[str, Any]) -> None:
    """Record a run of this tab (the oldest are dropped past ``MAX_SESSION_RUNS``).

    A run already listed (the same result, recalled from the cache, or the same saved run
    id) moves to the end instead of appearing twice.
    """
    runs = session_runs()
    run_id = entry.get("run_id")
    runs[:] = [
        r
        for r in runs
        if r.get("result") is not entry.get("result") and (not run_id or r.get("run_id") != run_id)
    ]
    runs.append(entry)
    del runs[:-MAX_SESSION_RUNS]
