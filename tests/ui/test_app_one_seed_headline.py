"""One replication: the uplift headline says once that there is no interval, not per sentence."""

from __future__ import annotations

import re

from ui.fmt import WORD_JOINER


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def _headline_and_note(at) -> tuple[str, list[str]]:
    headline = next(_shown(m.value) for m in at.markdown if m.value.startswith("**Observed**"))
    notes = [c.value for c in at.caption if "so no intervals" in c.value]
    return headline, notes


def test_a_one_seed_headline_says_no_interval_once_under_its_sentences(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-seeds": 1})
    assert not at.exception
    headline, notes = _headline_and_note(at)
    # Two levels against the generic one: two sentences, each with its observed value.
    assert headline.count(" observed") >= 2
    assert "no interval" not in headline and "one usable" not in headline
    assert notes == [
        "1 seed × 1 world: one replication, so no intervals (add seeds or worlds for them)."
    ]
    # Nor does each cell of the uplift table under its header "Observed": values alone.
    assert _uplift_cells(at) and not [c for c in _uplift_cells(at) if "interval" in c]
    at.switch_page("ui/pages/results.py").run()
    assert not at.exception
    headline, notes = _headline_and_note(at)
    assert "no interval" not in headline and len(notes) == 1
    assert _uplift_cells(at) and not [c for c in _uplift_cells(at) if "interval" in c]


def _uplift_cells(at) -> list[str]:
    """The observed cells of the page's uplift table, as the reader sees them."""
    table = next(t.value for t in at.table if "Observed" in t.value.columns)
    return [_shown(c) for c in table["Observed"]]


def test_with_two_seeds_there_is_no_such_note(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    headline, notes = _headline_and_note(at)
    assert "over 2 seeds × 1 world" in headline and not notes
