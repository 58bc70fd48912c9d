"""Experiment page: the regeneration setting, and the Generations view of a regenerated run."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa

from simulation.engine.regen import LINEAGE_COLUMNS
from ui.forms import WorldSettings, experiment_config
from ui.generations import (
    LINEAGE_HEADERS,
    NO_LINEAGE_NOTE,
    OLD_LINEAGE_NOTE,
    SLOT_NOTE,
    generations_span,
    lineage_table,
)
from ui.tables import LINE_BREAK


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """An ``st.table``'s Markdown as the reader sees it: escapes off, a line break a newline."""

    def plain(text: str) -> str:
        # A no-break space (a number and its word) reads as a space.
        text = str(text).replace(LINE_BREAK, "\n").replace("\u00a0", " ")
        return re.sub(r"\\(.)", r"\1", text)

    return table.rename(columns=plain).map(plain)


def _chart_data(at, mark: str, colour: str) -> pd.DataFrame:
    """The rows of the one Altair chart with this mark and colour field."""
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        if (
            spec.get("mark", {}).get("type") == mark
            and spec["encoding"]["color"]["field"] == colour
        ):
            (dataset,) = el.proto.datasets
            return pa.ipc.open_stream(dataset.data.data).read_pandas()
    raise AssertionError(f"no {mark} chart coloured by {colour}")


def test_a_regenerated_run_shows_its_generations(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    assert at.number_input(key="ex-regen").value == 0  # fixed pools unless asked
    run_small_experiment(
        at,
        **{
            "ex-levels": ["generic", "segment"],
            "ex-policies": ["uniform", "thompson"],
            "ex-regen": 1_000,
            "ex-seeds": 1,
        },
    )
    assert not at.exception
    assert not at.error
    assert any("Generations" in h.value for h in at.subheader)
    # Pool over time (bars from birth to retirement) and the CTR / ROAS by generation.
    specs = [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]
    marks = [json.dumps(s) for s in specs]
    assert any('"born_at"' in m and '"until"' in m for m in marks)
    assert any('"parent_generation"' in m and '"roas"' in m for m in marks)
    # The lineage: a static table whose cells wrap (a data grid ran past 1280 px).
    lineage = _shown(next(t.value for t in at.table if "Parent" in t.value.columns))
    assert list(lineage.columns) == list(LINEAGE_HEADERS)
    generation = lineage["Generation"].astype(int)
    assert generation.max() == 3  # 4,000 impressions, a generation every 1,000
    children = lineage[generation > 0]
    assert children["Parent"].str.fullmatch(r"Slot \d+, gen\. \d+").all()
    assert set(lineage["Slot"]) == {"Slot 1", "Slot 2", "Slot 3"}  # 3 variants, from 1
    # Observed rates say what they rest on, on a line under the rate.
    assert (
        lineage["Observed CTR"]
        .str.fullmatch(r"(\d+\.\d\d\s%|–)\n\((no clicks|[\d,]+ clicks?)\)")
        .all()
    )
    assert (
        lineage["Observed ROAS"]
        .str.fullmatch(r"(\d+\.\d\d×|–)\n\((no sales|[\d,]+ sales?)\)")
        .all()
    )
    # The pool at the end, rendered: an image and a caption per slot of the chosen row.
    pool = [c.value for c in at.caption if c.value.startswith("Slot ")]
    assert len(pool) == 3 and all("Observed CTR" in c and "true CTR" in c for c in pool)
    # Tones and offers in words, not the engine's codes ("social_proof", "discount_10").
    codes = r"social_proof|free_shipping|discount_\d+|· none"
    assert not lineage["Creative"].str.contains(codes).any()
    assert not any(re.search(codes, c.replace("\\", "")) for c in pool)
    # A learning policy is shown first (the uniform split never exploits its pool).
    assert at.selectbox(key="ex-gen-policy").value == "thompson"
    # The allocation views name slots, not the founders the slots started with, and say why.
    shares = _chart_data(at, "area", "Creative")
    assert set(shares["Creative"]) == {"Slot 1", "Slot 2", "Slot 3"}
    assert any(c.value == SLOT_NOTE for c in at.caption)
    assert any(i.value == SLOT_NOTE for i in at.info)  # the segment winners' place
    # Founders are read as served, so Changed needs no caveat; the count of generations
    # takes in the founders' generation 0.
    assert not any(c.value == OLD_LINEAGE_NOTE for c in at.caption)
    assert any(
        "over 4 generations (the founders, generation 0, and 3 bred)" in m.value
        for m in at.markdown
    )
    per_segment = _chart_data(at, "bar", "Segment")
    assert per_segment["Creative"].str.fullmatch(r"Slot \d").all()
    # Another level and policy switch the view.
    at.selectbox(key="ex-gen-level").set_value("segment").run()
    at.selectbox(key="ex-gen-policy").set_value("uniform").run()
    assert not at.exception


def test_a_fixed_pool_run_has_no_generations_view(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-levels": ["generic"], "ex-policies": ["thompson"]})
    assert not at.exception
    assert not any("Generations" in h.value for h in at.subheader)
    # Fixed pools: each arm is one creative, named by it.
    shares = _chart_data(at, "area", "Creative")
    assert not shares["Creative"].str.startswith("Slot").any()
    assert not any(c.value == SLOT_NOTE for c in at.caption)


def test_the_form_checks_the_regeneration_setting():
    world = WorldSettings(n_users=1_000, n_segments=3, seed=0)
    common = dict(policies=["thompson"], n_impressions=10_000, batch_size=500, n_seeds=1,
                  objective="ctr")  # fmt: skip
    config = experiment_config(world, levels=["generic"], regenerate_every=2_000, **common)
    assert config.regenerate_every == 2_000
    assert experiment_config(world, levels=["generic"], **common).regenerate_every is None
    for levels, every, text in (
        (["generic"], 100, "between the batch size"),
        (["generic"], 20_000, "between the batch size"),
        (["user"], 2_000, "generic and segment pools"),
    ):
        try:
            experiment_config(world, levels=levels, regenerate_every=every, **common)
        except ValueError as exc:
            assert text in str(exc)
        else:  # pragma: no cover
            raise AssertionError(f"{levels} {every} accepted")
    assert pd.Index(LINEAGE_COLUMNS).is_unique


def test_the_lineage_says_what_each_observed_rate_rests_on():
    from ui.generations import lineage_table

    frame = pd.DataFrame(
        {
            "generation": [0, 1], "slot": [0, 0], "node": [0, 1], "parent_node": [-1, 0],
            "label": ["A · playful", "A · urgent"], "changed": ["", "tone"],
            "born_at": [0, 2_000], "retired_at": [2_000.0, float("nan")],
            "impressions": [1_500, 1_200], "clicks": [1, 12], "conversions": [0, 5],
            "ctr": [1 / 1_500, 0.01], "roas": [0.0, 5.71], "true_ctr": [0.009, 0.0095],
        }
    )  # fmt: skip
    table = lineage_table(frame, end=4_000).map(lambda v: v.replace("\u00a0", " "))
    assert list(table.columns) == list(LINEAGE_HEADERS)
    # A zero with no event behind it says so; a count is singular for one.
    assert list(table["Observed CTR"]) == ["0.07 % (1 click)", "1.00 % (12 clicks)"]
    assert list(table["Observed ROAS"]) == ["0.00× (no sales)", "5.71× (5 sales)"]
    assert list(table["True CTR"]) == ["0.90 %", "0.95 %"]
    assert list(table["Parent"]) == ["(founder)", "Slot 1, gen. 0"]
    assert list(table["Changed"]) == ["(founder)", "tone"]
    assert list(table["Lived (impressions)"]) == ["0 – 2,000", "2,000 – end (alive)"]


def test_the_pool_at_the_end_is_the_creatives_the_run_served():
    from simulation.config import ExperimentConfig
    from simulation.engine.core import run_experiment
    from simulation.scenario import build_scenario
    from ui.generations import final_pool, pool_creatives

    config = ExperimentConfig(
        n_users=2_000, n_segments=2, levels=("generic", "segment"),
        policies=("thompson",), n_impressions=6_000, batch_size=500, n_seeds=1,
        n_variants=4, regenerate_every=1_500, n_checkpoints=4,
    )  # fmt: skip
    frame = run_experiment(config).generations_frame()
    scenario = build_scenario(config)
    children = 0
    for (level, row), rows in frame.groupby(["level", "row"], sort=False):
        alive = final_pool(rows)
        # One creative a slot, the ones never retired.
        assert list(alive["slot"]) == list(range(config.n_variants))
        assert alive["retired_at"].isna().all()
        creatives = pool_creatives(scenario, level, row, alive)
        for rec, creative in zip(alive.to_dict("records"), creatives, strict=True):
            # The run's label names the creative rendered: its tone, offer and layout.
            assert rec["label"].split(" · ")[1:4] == [
                creative.tone,
                creative.offer,
                creative.layout,
            ], (level, row, rec["label"])
            assert creative.guardrail.passed
            children += rec["generation"] > 0
    assert children > 0  # the run bred some: the check covers composed children


def test_the_span_counts_the_founders_generation():
    assert generations_span(0) == "in one generation (the founders; no child was born)"
    assert generations_span(1) == "over 2 generations (the founders, generation 0, and 1 bred)"
    assert generations_span(12) == ("over 13 generations (the founders, generation 0, and 12 bred)")


def _save_regenerated(home, name: str, *, drop: tuple[str, ...] = (), table: bool = True):
    """A small regenerated run saved to the store as the command line saves it."""
    from simulation.config import ExperimentConfig
    from simulation.engine.core import run_experiment
    from simulation.store.run_store import RunStore

    config = ExperimentConfig(
        n_users=1_000, n_segments=2, levels=("generic", "segment"),
        policies=("uniform", "thompson"), n_impressions=4_000, batch_size=500, n_seeds=1,
        n_variants=3, regenerate_every=1_000, n_checkpoints=4,
    )  # fmt: skip
    result = run_experiment(config)
    frame = result.generations_frame()
    RunStore.open(home).save(
        config=config.to_dict(), seed=0, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli", name=name,
        tables={"generations": frame.drop(columns=list(drop))} if table else {},
    )  # fmt: skip
    return frame


def test_a_saved_regenerated_run_reopened_shows_its_generations(app, open_page, adlab_home):
    # The HTML report had a Generations section; the Results page had none.
    frame = _save_regenerated(adlab_home, "regenerated")
    at = open_page(app, "results")
    assert not at.exception and not at.error
    assert any("Generations" in h.value for h in at.subheader)
    assert at.selectbox(key="rs-gen-policy").value == "thompson"
    level, row = at.selectbox(key="rs-gen-level").value, at.selectbox(key="rs-gen-row").value
    shown = _shown(next(t.value for t in at.table if "Parent" in t.value.columns))
    # From the stored lineage: the rows the Experiment page would show for this choice.
    mine = frame[
        (frame["level"] == level) & (frame["policy"] == "thompson") & (frame["row"] == row)
    ]
    expected = _shown(lineage_table(mine, end=4_000))
    for column in ("Generation", "Creative", "Impressions", "Parent", "Changed"):
        assert list(shown[column]) == list(expected[column])
    assert any("over 4 generations" in m.value for m in at.markdown)
    pool = [c.value for c in at.caption if c.value.startswith("Slot ")]
    assert len(pool) == 3  # the pool at the end, rendered from the run's rebuilt world
    assert not any(c.value == OLD_LINEAGE_NOTE for c in at.caption)


def test_older_saved_runs_get_a_note_not_an_error(app, open_page, adlab_home):
    # Saved before founders were read as served (no "composable" column), and a run that
    # regenerated whose lineage the store does not hold.
    _save_regenerated(adlab_home, "older", drop=("composable",))
    _save_regenerated(adlab_home, "no lineage", table=False)
    at = open_page(app, "results")
    notes = {}
    from simulation.store.run_store import RunStore

    for option in RunStore.open(adlab_home).list()["run_id"]:
        at.selectbox(key="rs-run").set_value(option).run()
        assert not at.exception and not at.error
        shown = [c.value for c in at.caption]
        notes[option] = [n for n in (OLD_LINEAGE_NOTE, NO_LINEAGE_NOTE) if n in shown]
    assert sorted(map(tuple, notes.values())) == sorted([(NO_LINEAGE_NOTE,), (OLD_LINEAGE_NOTE,)])
