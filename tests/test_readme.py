"""The README is the door: short, its Python example runs, its and the docs' links resolve."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np
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


NUMBER = re.compile(r"^-?\d+\.(\d+)$")


def _differences(printed: list[str], shown: list[str]) -> list[str]:
    """Where ``printed`` differs from ``shown`` beyond the rounding of the shown figures.

    Words must be equal; a number shown with d decimals may differ by one unit in its last
    place (10**-d): both are the same value rounded to d places, and a change far below
    that (a float's last bits on another processor) can still carry it across a rounding
    boundary. Anything more is a figure the README no longer prints.
    """
    if len(printed) != len(shown):
        return [f"{len(printed)} lines printed, {len(shown)} shown"]
    out = []
    for i, (got, want) in enumerate(zip(printed, shown, strict=True)):
        got_words, want_words = got.split(), want.split()
        if len(got_words) != len(want_words):
            out.append(f"line {i}: {got!r} vs {want!r}")
            continue
        for a, b in zip(got_words, want_words, strict=True):
            number = NUMBER.match(b)
            if number is None:
                same = a == b
            else:
                unit = 10.0 ** -len(number.group(1))
                same = NUMBER.match(a) is not None and abs(float(a) - float(b)) <= unit * 1.001
            if not same:
                out.append(f"line {i}: {a} printed, {b} shown ({got.strip()!r})")
    return out


def test_differences_allow_the_rounding_and_nothing_more():
    shown = ["  level  observed", "segment     0.030  1.1369"]
    assert _differences(["  level  observed", "segment     0.031  1.1368"], shown) == []
    assert _differences(["  level  observed", "segment     0.032  1.1369"], shown)
    assert _differences(["  level  observed", "segment     0.030  1.1371"], shown)
    assert _differences(["  level  observed", "user     0.030  1.1369"], shown)
    assert _differences(["  level  observed"], shown)


@pytest.mark.slow
def test_readme_python_example_prints_the_output_shown():
    """Run the README's Python block; it prints the README's output, to its rounding.

    The example has a fixed seed and the engine's numbers are pinned
    (``tests/simulation/pins``), so a change that moves them must update the README's
    output in the same commit; every word (which policy is a level's best included) and
    every figure is compared.
    """
    text = README.read_text(encoding="utf-8")
    (code,) = _blocks(text, "python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    printed = [line.rstrip() for line in out.getvalue().splitlines()]
    # The output block right after the example.
    after = text[text.index(code) + len(code) + len("```") :]
    shown = _blocks(after, "text")[0].splitlines()
    assert len(shown) == 20  # the two tables: 2 header lines + 9 rows, 1 header + 8 rows
    assert not _differences(printed, shown), "\n".join(_differences(printed, shown))


#: What the policy tables of the README and docs/experiments.md say runs: UCB1's index and
#: the linear policies' widths, each in the reward's standard deviations.
UCB1_INDEX = "mean + `alpha`·sd·sqrt(8 ln t / n)"
LINEAR_WIDTHS = ("`alpha`·σ·sqrt(xᵀA⁻¹x)", "(`v`·σ)²A⁻¹")


def _table_rows(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| {name} |")]


@pytest.mark.parametrize("path", [README, DOCS / "experiments.md"], ids=lambda p: p.name)
def test_the_policy_tables_state_the_index_that_runs(path):
    text = path.read_text(encoding="utf-8")
    what_it_does = _table_rows(text, "`ucb1`")[0]  # the policy table comes first
    assert UCB1_INDEX in what_it_does
    (linear,) = _table_rows(text, "`lin_ucb`, `lin_ts`")
    assert all(width in linear for width in LINEAR_WIDTHS)
    assert "pooled over arms" in linear


def test_the_settings_table_says_what_each_width_multiplies():
    text = (DOCS / "experiments.md").read_text(encoding="utf-8")
    (_, ucb1) = _table_rows(text, "`ucb1`")  # the policy table, then the settings table
    assert "sd·sqrt(8 ln t / n)" in ucb1 and "standard deviation" in ucb1
    (lin_ucb,) = _table_rows(text, "`lin_ucb`")
    (lin_ts,) = _table_rows(text, "`lin_ts`")
    assert LINEAR_WIDTHS[0] in lin_ucb and LINEAR_WIDTHS[1] in lin_ts
    assert all("pooled reward standard deviations" in row for row in (lin_ucb, lin_ts))


def test_ucb1_runs_the_index_the_tables_state():
    # The tables' formula, evaluated by hand: mean + alpha * sd * sqrt(8 ln t / n), sd the
    # arm's standard deviation floored at the pooled one (arm 2 has no spread of its own).
    from simulation.policies.context_free import ucb_index

    pulls = np.array([40.0, 100.0, 60.0])
    sums = np.array([10.0, 30.0, 0.0])  # 0/1 rewards: squares sum to the sums
    alpha, t = 0.7, pulls.sum()
    mean = sums / pulls
    pooled = sums.sum() / t - (sums.sum() / t) ** 2
    sd = np.sqrt(np.maximum(mean - mean**2, pooled))
    expected = mean + alpha * sd * np.sqrt(8 * np.log(t) / pulls)
    np.testing.assert_allclose(ucb_index(pulls, sums, sums.copy(), alpha), expected, rtol=1e-12)


def test_lin_ucb_scales_its_width_by_the_pooled_reward_sd():
    # The settings table's alpha is in reward standard deviations: where scores with the
    # width alpha * sd and with alpha alone pick different arms, LinUCB picks the former.
    from simulation.policies.linear import LinUCB

    rng = np.random.default_rng(0)
    policy = LinUCB(alpha=0.5)
    policy.reset(n_arms=3, n_features=2)
    x = rng.normal(size=(300, 2))
    policy.update(x, rng.integers(0, 3, 300), rng.normal(3.0, 10.0, 300))
    assert policy.noise_sd_ == pytest.approx(10.0, rel=0.15)  # the rewards' sd, not 1
    probes = rng.normal(size=(2_000, 2))
    mean, quad = policy._mean_and_quad(probes)  # each (n_arms, n)
    by_sd = np.argmax(mean + 0.5 * policy.noise_sd_ * np.sqrt(quad), axis=0)
    unscaled = np.argmax(mean + 0.5 * np.sqrt(quad), axis=0)
    differ = by_sd != unscaled
    assert differ.sum() >= 10, "the probes must tell the two widths apart"
    np.testing.assert_array_equal(policy.select(probes[differ], rng), by_sd[differ])


def _commands_shown(text: str) -> list[str]:
    """Every ``python -m simulation ...`` the page shows: code-block lines and inline spans."""
    shown = []
    for _, body in FENCE.findall(text):
        for line in body.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("python -m simulation "):
                shown.append(line)
    # An inline span may wrap onto the next line of the Markdown source.
    for span in re.findall(r"`(python -m simulation [^`]*)`", FENCE.sub("", text)):
        shown.append(" ".join(span.split()))
    return shown


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.name)
def test_a_command_shown_with_arguments_has_its_required_ones(path):
    # The audit ran "python -m simulation world" as the README showed it and got "the
    # following arguments are required: --out". A bare command name ("`python -m
    # simulation ope` prints ...") names the command; one shown with any argument is a
    # command line to copy, so it must parse as far as argparse's required check.
    # Other parse errors (a placeholder such as RUN_ID in a number's place, an option
    # named without its value) are left to the prose around them.
    import shlex

    from simulation.__main__ import build_parser
    from simulation.cli.common import UsageError

    missing = []
    for command in _commands_shown(path.read_text(encoding="utf-8")):
        argv = shlex.split(command)[3:]
        if len(argv) < 2 or (argv[0] == "runs" and len(argv) < 3 and "--" not in argv[-1]):
            continue  # a command's name ("world", "runs list"), not a line to run
        try:
            build_parser().parse_args(argv)
        except UsageError as exc:
            if "arguments are required" in str(exc):
                missing.append(f"{command}: {exc}")
    assert missing == []
