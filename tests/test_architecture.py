"""Layers point one way: app/ui -> simulation -> creative (STYLE.md convention 1)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {"__main__.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _modules(package: str):
    return sorted(p for p in (ROOT / package).rglob("*.py") if p.name not in ENTRY_POINTS)


@pytest.mark.parametrize("path", _modules("creative"), ids=lambda p: p.name)
def test_creative_imports_no_other_layer(path):
    assert not _imports(path) & {"simulation", "ui", "streamlit", "app"}


@pytest.mark.parametrize("path", _modules("simulation"), ids=lambda p: p.name)
def test_simulation_never_imports_the_ui(path):
    assert not _imports(path) & {"ui", "streamlit", "app"}


def test_only_scenario_imports_creative_inside_simulation():
    users = {p.name for p in _modules("simulation") if "creative" in _imports(p)}
    # report.py renders the winning creatives into the HTML report; inputs.py reads the
    # user's segments, catalogue and templates with the studio's bounded readers;
    # common.py and fs.py share the studio's SIGTERM and folder helpers (one copy).
    allowed = {"scenario.py", "population.py", "response.py", "report.py", "inputs.py"}
    allowed |= {"common.py", "fs.py"}
    # display.py re-exports the studio's word mapping (creative.vocabulary.component_name),
    # so the app, the report and the contact sheets name a code alike; simulation -> creative
    # is the allowed direction of the arrow.
    allowed |= {"display.py"}
    assert users <= allowed
