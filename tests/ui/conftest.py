"""AppTest helpers: the app from its absolute path, a private run store, a small world."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui.fmt import WORD_JOINER
from ui.forms import WorldSettings

APP = str(Path(__file__).resolve().parents[2] / "app.py")
#: A world small enough that building it and running an experiment take about a second.
SMALL_WORLD = WorldSettings(seed=3, n_users=2_000, n_segments=3)
#: Seconds an AppTest run may take; ``ADLAB_APPTEST_TIMEOUT`` raises it on a loaded machine.
TIMEOUT = float(os.environ.get("ADLAB_APPTEST_TIMEOUT", "30"))


@pytest.fixture(autouse=True)
def adlab_home(tmp_path, monkeypatch) -> Path:
    """Every test saves runs to its own store, never to ~/.adlab."""
    home = tmp_path / "adlab-home"
    monkeypatch.setenv("ADLAB_HOME", str(home))
    monkeypatch.setenv("ADLAB_PREFETCH", "0")
    # Small runs are shown in the page load that started them (tests of the background
    # progress area lower this).
    monkeypatch.setenv("ADLAB_RUN_WAIT", "60")
    return home


@pytest.fixture
def app() -> AppTest:
    """The app, not yet run."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def _open_page(at: AppTest, page: str, world: WorldSettings | None = SMALL_WORLD) -> AppTest:
    """Run the app on ``ui/pages/<page>.py`` with the given shared world."""
    if world is not None:
        at.session_state["world"] = world
    at.run()
    at.switch_page(f"ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _run_small_experiment(at: AppTest, **overrides) -> AppTest:
    """Fill the Experiment form with a small config and press Run experiment."""
    values = {
        "ex-impressions": 4_000,
        "ex-batch": 500,
        "ex-seeds": 2,
        "ex-variants": 3,
        "ex-checkpoints": 8,
        "ex-policies": ["uniform", "thompson", "lin_ucb"],
        **overrides,
    }
    if "ex-cap" in values:
        # The cap toggle sits outside the form and reruns the page (it enables the budget).
        _widget(at, "ex-cap").set_value(values.pop("ex-cap"))
        at.run()
    for key, value in values.items():
        element = _widget(at, key)
        element.set_value(value)
    button = next(b for b in at.button if b.label == "Run experiment")
    button.click().run()
    # Tests that shorten ADLAB_RUN_WAIT (the Stop tests) want the run still going.
    if float(os.environ.get("ADLAB_RUN_WAIT", "0")) >= 10:
        _until_run_ends(at)
    return at


def _until_run_ends(at: AppTest, limit: float = 600.0) -> AppTest:
    """Rerun the page until its background run has ended, as the page's own poll would.

    The page waits ``ADLAB_RUN_WAIT`` seconds (60 here) for a run before it shows progress
    instead; on a loaded machine (several sessions at once, CI) a small run can take longer.
    """
    deadline = time.monotonic() + limit
    while "ex-job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    return at


def _widget(at: AppTest, key: str):
    for kind in ("number_input", "multiselect", "toggle", "radio", "selectbox", "slider"):
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise KeyError(key)


@pytest.fixture
def open_page():
    """``open_page(at, page, world=SMALL_WORLD)`` runs the app on a page."""
    return _open_page


@pytest.fixture
def run_small_experiment():
    """``run_small_experiment(at, **widget_values)`` fills the form and runs it."""
    return _run_small_experiment


@pytest.fixture
def small_world() -> WorldSettings:
    return SMALL_WORLD


def _unescaped(text: str) -> str:
    """What a reader sees of ``ui.tables.markdown_table``'s cell, on one line."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(WORD_JOINER, "")
    return text.replace("  \n", " ").replace("\u00a0", " ")


def _tables(at: AppTest) -> list[pd.DataFrame]:
    """The page's ``st.table`` tables as text a reader sees (headers and cells unescaped)."""
    frames = []
    for table in at.table:
        frame = table.value
        frames.append(
            pd.DataFrame(
                {_unescaped(str(c)): [_unescaped(str(v)) for v in frame[c]] for c in frame.columns}
            )
        )
    return frames


@pytest.fixture
def shown_tables():
    """``shown_tables(at)``: the page's ``st.table`` tables as a reader sees them."""
    return _tables
