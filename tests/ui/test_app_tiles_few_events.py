"""The best's CTR and ROAS tiles refuse an interval on too few events, as the uplift cells do."""

from __future__ import annotations

import re

from simulation.metrics import MIN_UPLIFT_EVENTS
from ui import tables
from ui.fmt import WORD_JOINER


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def test_a_tiny_runs_roas_tile_says_too_few_conversions_instead_of_an_interval(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    # 2,000 impressions of a ~1 % CTR: a few dozen clicks and a handful of sales a seed.
    run_small_experiment(at, **{"ex-impressions": 2_000, "ex-objective": "roas"})
    assert not at.exception
    summary = at.session_state["ex-current"]["result"].summary_frame()
    best = tables.best_row(summary, "roas")
    rows = summary[(summary["level"] == best["level"]) & (summary["policy"] == best["policy"])]
    assert rows["conversions"].min() < MIN_UPLIFT_EVENTS  # what this test is about
    roas = next(m for m in at.metric if m.label == "Best ROAS (observed)")
    assert roas.proto.delta == "no interval: too few conversions"
    assert "95 %" not in roas.proto.delta and roas.value.endswith("×")
    best_caption = next(_shown(c.value) for c in at.caption if c.value.startswith("Best:"))
    assert "Not clearly best: too few conversions for an interval." in best_caption
    # The Results page's tiles follow the same rule.
    at.switch_page("ui/pages/results.py").run()
    assert not at.exception
    roas = next(m for m in at.metric if m.label == "Best ROAS (observed)")
    assert roas.proto.delta == "no interval: too few conversions"
