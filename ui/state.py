"""Per-tab session state: the shared world, persistent widget values and this session's runs.

Streamlit drops a widget's state when its page is not shown, so values that must survive a
page switch are copied to plain keys (``keep:<key>``) and restored before the widget is drawn.
Every browser tab has its own session, hence its own copy of all of this.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.forms import WorldSettings
from ui.uploads import segments_csv, write_input

__all__ = [
    "OWN_INPUTS",
    "add_session_run",
    "forget_on_removal",
    "keep",
    "new_upload",
    "own_input_paths",
    "own_inputs",
    "remember",
    "session_liveness",
    "session_runs",
    "set_world",
    "settle_run",
    "upload_accepted",
    "upload_refused",
    "world_settings",
]

#: Kinds of the user's own inputs -> (config field, checkbox label on the Experiment page).
OWN_INPUTS: dict[str, tuple[str, str]] = {
    "segments": ("segments_file", "Use my segments"),
    "catalogue": ("catalogue_file", "Use my catalogue"),
    "templates": ("templates_file", "Use my templates"),
}

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


def forget_on_removal(
    widget: str, *keys: str, guard: Callable[[], bool] | None = None
) -> Callable[[], None]:
    """``on_change`` of file uploader ``widget``: its × drops what that file put in use.

    Pages record an upload as ``{widget}-id`` (the file seen) and, once it is accepted,
    ``{widget}-used`` (:func:`new_upload`, :func:`upload_accepted`); the widget's value
    becoming None then takes ``keys``, the state the file set, out of use. A page switch
    also empties the widget, but without ``on_change``: the upload stays in use across
    pages. A refused file's × leaves the file in use before it (the refused one never
    was). ``guard``, when given, is asked before the used file's state goes: False keeps
    it in use (the guard says why).

    Choosing another file in the same box passes through None too (the box sends "no
    file" before it uploads the new one, Streamlit 1.67), so the state is set aside
    (``{widget}-withdrawn``) rather than dropped: a refused new file gives it back
    (:func:`upload_refused`). It is dropped for good by the next run that brings no new
    file (:func:`new_upload`), so a × followed by anything else forgets the file.
    """

    def forget() -> None:
        if st.session_state.get(widget) is not None:
            return
        used = st.session_state.get(f"{widget}-used")
        if (
            used is not None
            and used == st.session_state.get(f"{widget}-id")
            and (guard is None or guard())
        ):
            st.session_state[f"{widget}-withdrawn"] = {
                key: st.session_state.pop(key)
                for key in (*keys, f"{widget}-used")
                if key in st.session_state
            }
            # The run this callback starts is the removal's own: the stash outlives it.
            st.session_state[f"{widget}-withdrawn-fresh"] = True
        st.session_state.pop(f"{widget}-id", None)

    return forget


def new_upload(widget: str, file: Any) -> bool:
    """Whether ``file`` (the value of uploader ``widget``) is a file not yet read.

    Records it as seen (``{widget}-id``). Also ends a removal's grace: state set aside by
    :func:`forget_on_removal` is dropped at the first run after the removal's own that
    brings no new file (the user did something else: the × stands).
    """
    fresh = st.session_state.pop(f"{widget}-withdrawn-fresh", False)
    if file is None or st.session_state.get(f"{widget}-id") == file.file_id:
        if not (fresh and file is None):
            st.session_state.pop(f"{widget}-withdrawn", None)
        return False
    st.session_state[f"{widget}-id"] = file.file_id
    return True


def upload_accepted(widget: str, file_id: str) -> None:
    """Record that uploader ``widget``'s file ``file_id`` is in use (what it replaced goes)."""
    st.session_state[f"{widget}-used"] = file_id
    st.session_state.pop(f"{widget}-withdrawn", None)


def upload_refused(widget: str) -> None:
    """A new file of uploader ``widget`` was refused: the file in use before it stays.

    When choosing the new file took the previous one out of use (:func:`forget_on_removal`),
    its state comes back.
    """
    st.session_state.update(st.session_state.pop(f"{widget}-withdrawn", None) or {})


def world_settings() -> WorldSettings:
    """The world of this tab: its audience (the Audience page) and scale (the World page).

    Defaults until one of those pages changes them.
    """
    return st.session_state.get(_WORLD) or WorldSettings()


def set_world(settings: WorldSettings) -> None:
    """Make ``settings`` the audience and hidden world every page uses."""
    st.session_state[_WORLD] = settings


def session_runs() -> list[dict[str, Any]]:
    """Runs made in this tab, newest last (each saved, or its saving failed).

    Each is a dict with ``label``, ``config``, ``result`` and ``run_id`` (None if saving
    failed). A run still being saved is waited for (:func:`settle_run`).
    """
    runs = st.session_state.setdefault(_RUNS, [])
    for entry in runs:
        settle_run(entry)
    return runs


def settle_run(entry: dict[str, Any]) -> None:
    """Wait for ``entry``'s run to be saved, then fill in its ``run_id`` and ``warning``.

    An entry drawn as soon as its result was computed holds its run under ``"saving"``
    (a :class:`ui.runner.BackgroundRun` still saving it) until then; others are left as
    they are.
    """
    job = entry.get("saving")
    if job is None:
        return
    job.wait()
    del entry["saving"]
    entry["run_id"] = job.run_id
    entry["warning"] = job.warning
    if job.run_id is None and job.warning is None:  # saving itself failed unexpectedly
        entry["warning"] = f"The run was not saved to the run store ({job.error})."


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


def own_inputs() -> dict[str, tuple[str, bytes]]:
    """Uploads of this tab an experiment can use: kind -> (file name, content).

    Segments are the Audience page's upload (written back as CSV, as parsed), the
    catalogue and the templates the Creatives page's uploads.
    """
    out: dict[str, tuple[str, bytes]] = {}
    segments = st.session_state.get("uploaded_segments")
    if segments:
        out["segments"] = (segments[0], segments_csv(segments[1]))
    catalogue = st.session_state.get("uploaded_catalogue")
    if catalogue:
        out["catalogue"] = (catalogue[0], catalogue[1])
    templates = st.session_state.get("templates")
    if templates:
        out["templates"] = (templates[0], templates[1])
    return out


def own_input_paths(kinds: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Write this tab's uploads of ``kinds`` to its private folder; config field -> path.

    The folder is made once per tab (``tempfile.mkdtemp``) and kept in the session.
    """
    available = own_inputs()
    folder = st.session_state.get("own-inputs-dir")
    if folder is None:
        folder = st.session_state["own-inputs-dir"] = tempfile.mkdtemp(prefix="adlab-session-")
    return {
        OWN_INPUTS[kind][0]: write_input(folder, *available[kind])
        for kind in kinds
        if kind in available
    }


def session_liveness() -> Callable[[], bool] | None:
    """``alive()``: whether this browser session is still connected (None outside a server).

    Streamlit's runtime keeps a session active while its browser tab is connected; a closed
    tab's session becomes inactive at once (its state is kept a while for a reconnection).
    Safe to call from any thread.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)
