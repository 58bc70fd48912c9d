"""The server's settings in .streamlit/config.toml that the app relies on."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_the_server_neither_watches_nor_reruns_on_code_changes():
    # A watched change re-imports modules under open sessions: objects built before it
    # fail isinstance checks against the reloaded classes ("`world` must be a WorldConfig;
    # got WorldConfig."). Code changes are picked up by a restart instead.
    server = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["server"]
    assert server["fileWatcherType"] == "none"
    assert server["runOnSave"] is False
