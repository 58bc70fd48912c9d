"""Every example in the library's docstrings runs and prints what it says.

Examples are documentation users copy; one that no longer matches the code (a composition
that the printed-slot rule made invalid, an escaped string in a raw docstring) misleads
them. pytest does not collect doctests by default, so this test does.
"""

from __future__ import annotations

import doctest
import importlib
import re
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


# --- the Python blocks of docs/*.md ----------------------------------------------------
# tests/test_readme.py runs the README's block; the docs' pages hold more, which users copy
# as they are. Each block is either run here or named with the reason it is not.

DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _python_blocks() -> dict[tuple[str, int], str]:
    """Every ```python block of docs/*.md by (page, its index among the page's blocks)."""
    blocks = {}
    for path in sorted(DOCS.glob("*.md")):
        found = _FENCE.findall(path.read_text(encoding="utf-8"))
        python = [body for lang, body in found if lang == "python"]
        blocks.update({(path.name, i): body for i, body in enumerate(python)})
    return blocks


#: Blocks that run as written, in seconds.
RUNS = {("claims-and-disclosure.md", 0), ("creative-studio.md", 0), ("experiments.md", 0)}
#: Blocks that run as written but take longer (a reward model fitted on the OBD sample).
RUNS_SLOW = {("ope.md", 0), ("ope.md", 1)}
#: Blocks not run here, and why.
NOT_RUN = {
    ("ope.md", 2): "continues the block before it on an adlab log (one with segments)",
    ("replication.md", 0): "20 environments of 10,000 steps: minutes",
    ("run-store.md", 0): "reads the user's own store, and its last line shows an error",
    ("sweeps.md", 0): "runs a sweep: minutes",
}


def test_every_python_block_of_the_docs_is_run_or_says_why_not():
    assert set(_python_blocks()) == RUNS | RUNS_SLOW | set(NOT_RUN)


def _run_block(key, tmp_path, monkeypatch):
    # In an empty folder, with the bundled OBD sample as the "my_log.csv" ope.md reads.
    from simulation.ope.obd import obd_dir

    sample = obd_dir() / "random" / "all" / "all.csv"
    if not sample.is_file():
        pytest.skip(f"the Open Bandit Dataset sample is not at {sample}")
    (tmp_path / "my_log.csv").write_bytes(sample.read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "store"))
    code = compile(_python_blocks()[key], f"docs/{key[0]} block {key[1]}", "exec")
    exec(code, {"__name__": "docs_example"})  # the docs' own code, as a user runs it


@pytest.mark.parametrize("key", sorted(RUNS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_docs_python_block_runs(key, tmp_path, monkeypatch):
    _run_block(key, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(RUNS_SLOW), ids=lambda k: f"{k[0]}-{k[1]}")
def test_docs_python_block_runs_slow(key, tmp_path, monkeypatch):
    _run_block(key, tmp_path, monkeypatch)
