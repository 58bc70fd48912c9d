"""The report of a regenerated run: no founder named a segment's leader; a Generations section."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.store.generations import (
    SLOT_NOTE,
    final_pools,
    generations_summary,
    regenerated_levels,
)
from simulation.store.report import build_report
from simulation.store.run_store import RunStore

CONFIG = ExperimentConfig(
    n_users=1_000, n_segments=2, n_impressions=4_000, batch_size=500, n_seeds=2,
    policies=("uniform", "thompson"), n_variants=4, n_checkpoints=6,
    levels=("generic", "segment"), regenerate_every=1_000,
)  # fmt: skip


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """A small regenerated run saved as the app and the CLI save it: (store, run_id, result)."""
    result = run_experiment(CONFIG)
    store = RunStore.open(tmp_path_factory.mktemp("store"))
    tables = {"segments": result.segment_frame(), "uplift": result.uplift_frame(),
              "generations": result.generations_frame()}  # fmt: skip
    run_id = store.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli", tables=tables,
    )  # fmt: skip
    return store, run_id, result


def test_no_founding_creative_is_named_a_segments_leader(regenerated):
    store, run_id, _ = regenerated
    page = build_report(store.load(run_id))
    assert html.escape(SLOT_NOTE) in page
    for verdict in ("Winner:", "Leader (not yet clear):", "Leader (one seed):"):
        assert f"<b>{verdict}</b>" not in page
    # No rendered founder image either: the winner cards are the report's only images.
    assert "leading creative" not in page and "winning creative" not in page


def test_the_generations_section_lists_what_each_slot_held_at_the_end(regenerated):
    store, run_id, result = regenerated
    page = build_report(store.load(run_id))
    assert "<h2>Generations: the self-improving pool</h2>" in page
    frame = result.generations_frame()
    end = final_pools(frame, "segment", "thompson")
    # One row per (segment, slot): the creatives alive at the end, not the founders.
    assert len(end) == CONFIG.n_segments * CONFIG.n_variants
    seed0 = frame[(frame["level"] == "segment") & (frame["policy"] == "thompson")
                  & (frame["seed"] == 0)]  # fmt: skip
    alive = seed0[seed0["retired_at"].isna()]
    assert sorted(end["Creative"]) == sorted(alive["label"])
    retired = seed0.loc[seed0["retired_at"].notna(), "label"]
    assert not (set(retired) - set(alive["label"])) & set(end["Creative"])
    for label in end["Creative"]:
        assert html.escape(label) in page
    summary = generations_summary(frame)
    assert len(summary) == 2 * 2  # levels × policies
    held = float(summary.loc[summary["Level"] == "Per segment", "Creatives a pool held (mean)"]
                 .iloc[0])  # fmt: skip
    assert held > CONFIG.n_variants  # the pool held more creatives than it has slots


def test_regenerated_levels_come_from_the_lineage_or_else_the_config():
    config = CONFIG.to_dict()
    lineage = pd.DataFrame({"level": ["generic", "generic"]})
    assert regenerated_levels(config, {"generations": lineage}) == {"generic"}
    # Regenerated but its lineage not stored: every pool level it ran is slots.
    assert regenerated_levels(config, {}) == {"generic", "segment"}
    assert regenerated_levels({**config, "regenerate_every": None}, {}) == frozenset()


def test_a_regenerated_run_without_its_lineage_names_no_leader_and_says_so(regenerated, tmp_path):
    *_, result = regenerated
    other = RunStore.open(tmp_path / "old")
    old_id = other.save(
        config=CONFIG.to_dict(), seed=CONFIG.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli",
        tables={"segments": result.segment_frame()},
    )  # fmt: skip
    page = build_report(other.load(old_id))
    assert html.escape(SLOT_NOTE) in page
    assert "did not store its generations" in page
