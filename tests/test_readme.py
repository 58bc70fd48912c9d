"""The README is the door: short, its Python example runs, its and the docs' links resolve."""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250
#: The pages the README's depth moved into (issue #12): each must be linked from the README.
MOVED_PAGES = (
    "world.md",
    "experiments.md",
    "app.md",
    "creative-studio.md",
    "run-store.md",
    "ope.md",
    "performance.md",
    "replication.md",
    "architecture.md",
)

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang == language]


def _prose(text: str) -> str:
    """The text outside fenced blocks and inline code, where Markdown links live."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m) for m in re.findall(r"^#{1,6} +(.+?) *$", text, re.MULTILINE)}


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_slug_matches_github_rules():
    assert _slug("The run command: `python -m simulation run`") == (
        "the-run-command-python--m-simulation-run"
    )
    assert _slug("How well does it work? The Open Bandit Dataset check") == (
        "how-well-does-it-work-the-open-bandit-dataset-check"
    )
    assert _slug("One chunk's path through the engine") == "one-chunks-path-through-the-engine"


def test_readme_is_at_most_250_lines():
    n_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_README_LINES, f"README.md has {n_lines} lines; move depth into docs/."


def test_readme_keeps_the_door_open():
    text = README.read_text(encoding="utf-8")
    for command in ("make run", "make test", "make test-fast"):
        assert command in text
    assert "](docs/screenshot-experiment.png)" in text


@pytest.mark.parametrize("page", MOVED_PAGES)
def test_every_moved_page_exists_and_is_linked_from_the_readme(page):
    assert (DOCS / page).is_file()
    targets = {t.split("#")[0] for t in LINK.findall(_prose(README.read_text(encoding="utf-8")))}
    assert f"docs/{page}" in targets


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files_and_headings(path):
    links = LINK.findall(_prose(path.read_text(encoding="utf-8")))
    assert links or path.name != "README.md"
    broken = []
    for target in links:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{path.name}: {broken}"


def test_readme_has_one_python_example_with_its_output():
    text = README.read_text(encoding="utf-8")
    assert len(_blocks(text, "python")) == 1
    assert len(_blocks(text, "text")) >= 1


@pytest.mark.slow
def test_readme_python_example_runs_and_prints_the_table_shown():
    """Run the README's Python block; its table has the rows and columns the README shows."""
    text = README.read_text(encoding="utf-8")
    (code,) = _blocks(text, "python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    printed = out.getvalue().splitlines()
    # The output block right after the example; figures may differ, the shape may not.
    after = text[text.index(code) + len(code) + len("```") :]
    shown = _blocks(after, "text")[0].splitlines()
    assert printed[0].split() == shown[0].split()  # the columns
    assert len(printed) == len(shown)  # header, index names, one row per (level, policy)

    def labels(lines):
        # Every row label: the level (when it starts a group) and the policy. Which policy
        # is a level's best ("best (NAME)") depends on the draws, so NAME is not compared.
        rows = [line.split()[: len(line.split()) - 4] for line in lines[2:]]
        return [[re.sub(r"^\(.*\)$", "(…)", word) for word in row] for row in rows]

    assert labels(printed) == labels(shown)
