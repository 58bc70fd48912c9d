"""Every example in the library's docstrings runs and prints what it says.

Examples are documentation users copy; one that no longer matches the code (a composition
that the printed-slot rule made invalid, an escaped string in a raw docstring) misleads
them. pytest does not collect doctests by default, so this test does.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _library_modules() -> list[str]:
    names = []
    for package in ("creative", "simulation"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _library_modules()


def test_the_examples_are_found():
    # The sweep sees the modules and their examples (so the test below can fail).
    assert len(MODULES) > 50
    attempted = sum(
        doctest.testmod(importlib.import_module(m), report=False).attempted
        for m in ("creative.components", "creative.generate", "simulation.store.integrity")
    )
    assert attempted >= 10


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        report=False,
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail in {module}"
