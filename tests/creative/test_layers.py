import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "creative"
LIBRARY = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__main__.py")


def imported_roots(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_modules_never_import_outer_layers(path):
    forbidden = {"simulation", "ui", "app", "streamlit"}
    assert not forbidden & set(imported_roots(path)), path.name


def test_only_the_entry_point_imports_simulation():
    assert "simulation" in set(imported_roots(PACKAGE / "__main__.py"))


def test_import_has_no_side_effects():
    import subprocess
    import sys

    # The bundled templates are read on first use, not at import (a fresh interpreter:
    # this one's cache may be warm from other tests).
    code = (
        "import creative, creative.templates as t; print(t.default_templates.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=PACKAGE.parent,
    )  # fmt: skip
    assert out.stdout.strip() == "0", out.stderr


def test_public_api_is_exported():
    import creative

    for name in creative.__all__:
        assert hasattr(creative, name), name


def test_docstring_examples_run():
    import doctest

    import creative.generate

    result = doctest.testmod(creative.generate, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0
