"""Experiment page: the regeneration setting, and the Generations view of a regenerated run."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from simulation.engine.regen import LINEAGE_COLUMNS
from ui.forms import WorldSettings, experiment_config
from ui.generations import SLOT_NOTE


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
    lineage = next(d.value for d in at.dataframe if "Parent" in d.value.columns)
    assert {"Generation", "Creative", "Parent", "Changed", "CTR", "ROAS"} <= set(lineage.columns)
    assert lineage["Generation"].max() == 3  # 4,000 impressions, a generation every 1,000
    children = lineage[lineage["Generation"] > 0]
    assert children["Parent"].str.fullmatch(r"Slot \d+, gen\. \d+").all()
    assert set(lineage["Slot"]) == {"Slot 1", "Slot 2", "Slot 3"}  # 3 variants, from 1
    # A learning policy is shown first (the uniform split never exploits its pool).
    assert at.selectbox(key="ex-gen-policy").value == "thompson"
    # The allocation views name slots, not the founders the slots started with, and say why.
    shares = _chart_data(at, "area", "Creative")
    assert set(shares["Creative"]) == {"Slot 1", "Slot 2", "Slot 3"}
    assert any(c.value == SLOT_NOTE for c in at.caption)
    assert any(i.value == SLOT_NOTE for i in at.info)  # the segment winners' place
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
