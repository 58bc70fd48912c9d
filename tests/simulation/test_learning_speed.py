"""The measured learning-speed table the Experiment page reads, and the longer run it offers."""

from pathlib import Path

import pytest

from simulation.config import OBJECTIVES, PRESETS
from simulation.learning_speed import (
    IMPRESSIONS_TO_SEPARATE,
    MEASURED_SEEDS,
    MEASURED_UP_TO,
    impressions_to_separate,
    longer_run,
)


def test_one_measured_horizon_per_objective():
    assert set(IMPRESSIONS_TO_SEPARATE) == set(OBJECTIVES)
    for objective in OBJECTIVES:
        n = impressions_to_separate(objective)
        # None: did not separate within the measured range; else a horizon the bench
        # measured: a whole number of default batches, within the grid.
        assert n is None or (1_000 <= n <= MEASURED_UP_TO and n % 1_000 == 0)


def test_measured_with_the_default_experiments_seeds():
    # The page quotes the table for the default experiment: a change of its seeds changes
    # the paired interval's width, so the table must be re-measured (bench/separation.py).
    assert PRESETS["default"].n_seeds == MEASURED_SEEDS


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_run_shorter_than_the_measured_horizon_is_offered_it(objective):
    need = impressions_to_separate(objective)
    target = MEASURED_UP_TO if need is None else need
    assert longer_run(objective, target - 1_000) == target
    assert longer_run(objective, 1) == target
    # Long enough (or as long as anything measured): nothing to offer.
    assert longer_run(objective, target) is None
    assert longer_run(objective, 10 * MEASURED_UP_TO) is None


@pytest.mark.parametrize("bad", ["CTR", "clicks", "", None])
def test_unknown_objective_is_refused(bad):
    with pytest.raises(ValueError, match="`objective` must be one of"):
        impressions_to_separate(bad)
    with pytest.raises(ValueError, match="`objective` must be one of"):
        longer_run(bad, 300_000)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (0, ValueError, "at least 1"),
        (-5, ValueError, "at least 1"),
        (1.5e5, TypeError, "must be an int; got float"),
        (True, TypeError, "must be an int; got bool"),
        ("300000", TypeError, "must be an int; got str"),
    ],
)
def test_bad_impressions_are_refused(bad, error, message):
    with pytest.raises(error, match=message):
        longer_run("ctr", bad)


def _documented_section() -> str:
    doc = Path(__file__).resolve().parents[2] / "docs" / "performance.md"
    section = doc.read_text(encoding="utf-8").split("## Learning speed in the default world")[1]
    return section.split("\n## ")[0]


def _documented_table() -> dict[str, list[str]]:
    """docs/performance.md's learning-speed rows: objective -> each level's first cell."""
    section = _documented_section()
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 3 and cells[0].lower() in OBJECTIVES:
            rows.setdefault(cells[0].lower(), []).append(cells[2])
    return rows


def test_the_constant_is_the_documented_measurement():
    # The page's advice must be the measurement docs/performance.md records (every level's
    # first separating horizon; "at every level" is the slowest of them; a level that did
    # not separate makes it None), so neither can be edited without the other.
    rows = _documented_table()
    assert set(rows) == set(OBJECTIVES)
    for objective, cells in rows.items():
        assert len(cells) == len(("generic", "segment", "user")), cells
        if any(cell.startswith("not within") for cell in cells):
            assert impressions_to_separate(objective) is None
            assert all(f"{MEASURED_UP_TO:,}" in c for c in cells if c.startswith("not within"))
        else:
            horizons = [int(cell.split(" ")[0].replace(",", "")) for cell in cells]
            assert impressions_to_separate(objective) == max(horizons)


def test_the_documented_command_is_the_measurement_s_horizon_and_seeds():
    section = _documented_section()
    for objective in OBJECTIVES:
        assert (
            f"--seeds {MEASURED_SEEDS} --impressions {MEASURED_UP_TO} --objectives {objective}"
            in section
        )
