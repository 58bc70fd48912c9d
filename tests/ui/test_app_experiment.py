"""Experiment page: the form, invalid combinations, a small run and what it shows and saves."""

from __future__ import annotations

import re

import pytest

from simulation.interval_words import tile_interval_notes
from simulation.metrics import interval_over, summarize
from simulation.store import RunStore
from simulation.uplift_text import ONE_WORLD_CAVEAT
from ui import tables
from ui.fmt import TILE_NOTES, WORD_JOINER, multiple, pct
from ui.forms import WorldSettings, experiment_config


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def test_default_render(app, open_page):
    at = open_page(app, "experiment", world=None)
    assert at.title[0].value == "Experiment"
    assert any(b.label == "Run experiment" for b in at.button)
    assert at.number_input(key="ex-impressions").value == 300_000
    assert at.multiselect(key="ex-levels").value == ["generic", "segment", "user"]
    assert not at.dataframe and not at.table  # nothing runs before the button


def test_a_roas_run_leads_with_the_best_roas(app, open_page, run_small_experiment):
    # The CTR of the best policy by ROAS is not the best CTR: the objective's number first.
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-objective": "roas"})
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == [
        "Best ROAS (observed)", "Its CTR (observed)", "Spend (observed)", "Revenue (observed)",
    ]  # fmt: skip
    assert at.metric[0].value.endswith("×") and at.metric[1].value.endswith("%")
    at.switch_page("ui/pages/results.py").run()
    assert [m.label for m in at.metric][:2] == ["Best ROAS (observed)", "Its CTR (observed)"]


def test_small_run_shows_metrics_charts_table_and_winners(
    app, open_page, run_small_experiment, adlab_home, shown_tables
):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    assert not at.exception
    assert not at.error
    labels = [m.label for m in at.metric]
    assert labels == [
        "Best CTR (observed)", "Its ROAS (observed)", "Spend (observed)", "Revenue (observed)",
    ]  # fmt: skip
    # Headline numbers are observed values only: no delta against a true value. The two
    # rate tiles carry their 95 % interval over the replications, the best's own.
    summary = at.session_state["ex-current"]["result"].summary_frame()
    best = tables.best_row(summary, "ctr")
    ours = summarize(summary[(summary["level"] == best["level"])
                             & (summary["policy"] == best["policy"])]).iloc[0]  # fmt: skip
    over = interval_over(summary)
    # The tile shows the interval alone (it must fit the tile); the caption under the
    # tiles names the replications it covers.
    # An interval on too few events (or absurdly wide) is refused, in the uplift cells'
    # words (tests/ui/test_app_tiles_few_events.py): a small run's ROAS may have one.
    notes = tile_interval_notes(summary, best, {
        "ctr": (ours["ctr_low"], ours["ctr_high"]), "roas": (ours["roas_low"], ours["roas_high"])
    })  # fmt: skip
    for tile, metric, fmt in ((0, "ctr", pct), (1, "roas", multiple)):
        expected = (
            f"no interval: {TILE_NOTES[notes[metric]]}"
            if metric in notes
            else f"95 %: {fmt(ours[f'{metric}_low'])} – {fmt(ours[f'{metric}_high'])}"
        )
        assert at.metric[tile].proto.delta == expected
    assert any(f"the 95 % intervals under the tiles are over {over}" in c.value
               for c in at.caption)  # fmt: skip
    assert not at.metric[2].proto.delta and not at.metric[3].proto.delta
    assert at.metric[0].value.endswith("%")
    assert at.metric[2].value.startswith("$")
    # The page leads with the like-for-like uplift: the first table, observed beside true.
    uplift = shown_tables(at)[0]
    # A small run has cells with too few events for an interval: then a last column says why.
    why = [c for c in uplift.columns if c == "Why no interval"]
    assert not why or uplift["Observed (95 % interval)"].str.contains("no interval").any()
    assert list(uplift.columns) == [
        "Level", "Policy", "Compared with", "Metric", "Observed (95 % interval)",
        "True (expected)", "Interval over", *why,
    ]  # fmt: skip
    assert set(uplift["Metric"]) == {"CTR", "ROAS", "Conversions", "Revenue"}
    assert (uplift["Interval over"] == "2 seeds × 1 world").all()
    # The headline sentence is built from observed values and says what its interval covers.
    headline = next(_shown(m.value) for m in at.markdown if m.value.startswith("**Observed**"))
    assert "over 2 seeds × 1 world" in headline
    assert not re.search(r"\b(true|expected)\b", headline, re.IGNORECASE)
    # One world: the caveat that the interval does not cover the world's own draw.
    assert [c for c in at.caption if _shown(c.value) == ONE_WORLD_CAVEAT]
    table = shown_tables(at)[1]
    assert len(table) == 3 * 3  # levels x policies
    assert {"CTR", "ROAS"} <= set(table.columns)
    assert not any("uplift" in c.lower() for c in table.columns)
    assert table["CTR"].str.contains("%").all()
    charts = at.get("vega_lite_chart")
    assert len(charts) == 5  # CTR, ROAS, regret, allocation, allocation per segment
    assert '"stack": "normalize"' in charts[3].proto.spec.replace("'", '"')
    assert len(at.get("image")) == 3  # one winning creative per segment
    runs = RunStore.open(adlab_home).list()
    assert list(runs["source"]) == ["app"]
    assert at.session_state["ex-current"]["run_id"] == runs["run_id"][0]


def test_an_interval_covering_zero_reads_no_detectable_difference():
    import pandas as pd

    from ui.uplift import uplift_sentence

    row = pd.Series({"observed": 0.01, "ci_low": -0.02, "ci_high": 0.04,
                     "interval_over": "2 worlds (3 seeds each)"})  # fmt: skip
    text = uplift_sentence(row, "user", "ctr")
    assert "no detectable difference in CTR" in text and "2 worlds (3 seeds each)" in text
    row = pd.Series({"observed": -0.05, "ci_low": -0.08, "ci_high": -0.02,
                     "interval_over": "3 seeds × 1 world"})  # fmt: skip
    assert uplift_sentence(row, "segment", "roas").startswith(
        "per segment ads lowered ROAS by 5.0 %"
    )


def test_worlds_setting_repeats_the_run_in_several_worlds(
    app, open_page, run_small_experiment, shown_tables
):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-worlds": 2, "ex-seeds": 1})
    assert not at.exception and not at.error
    result = at.session_state["ex-current"]["result"]
    assert result.config.n_worlds == 2
    assert (shown_tables(at)[0]["Interval over"] == "2 worlds (1 seed each)").all()
    assert not [c for c in at.caption if _shown(c.value) == ONE_WORLD_CAVEAT]


def test_changing_the_allocation_view_does_not_rerun(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    result = at.session_state["ex-current"]["result"]
    at.selectbox(key="ex-alloc-policy").set_value("thompson").run()
    assert not at.exception
    assert at.session_state["ex-current"]["result"] is result
    assert len(at.session_state["session_runs"]) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ex-batch": 5_000, "ex-impressions": 1_000}, "larger than the number of impressions"),
        ({"ex-policies": []}, "at least one policy"),
        ({"ex-levels": []}, "at least one personalization level"),
        ({"ex-variants": 12}, "10 creative strategies"),
        ({"ex-cap": True, "ex-budget": 0.0}, "budget above"),
        ({"ex-log": True, "ex-impressions": 2_000_000}, "at most 2,000,000"),
        (
            {"ex-log": True, "ex-levels": ["generated"], "ex-policies": ["uniform", "mvt_ts"]},
            "compositions are not logged",
        ),
    ],
)
def test_invalid_combinations_show_an_error(
    app, open_page, run_small_experiment, overrides, message, adlab_home
):
    at = open_page(app, "experiment")
    run_small_experiment(at, **overrides)
    assert not at.exception
    assert any(message in _shown(e.value) for e in at.error), [e.value for e in at.error]
    assert "ex-current" not in at.session_state


def test_budget_cap_runs(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-cap": True, "ex-budget": 5.0, "ex-levels": ["segment"]})
    assert not at.exception and not at.error
    assert at.session_state["ex-current"]["config"].budget == 5.0


def test_a_cap_in_cents_is_named_with_its_cents(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-cap": True, "ex-budget": 0.01, "ex-levels": ["generic"]})
    assert not at.exception
    (stop,) = [w.value for w in at.warning if "spend cap of" in _shown(w.value)]
    assert "spend cap of $0.01 stopped" in _shown(stop)  # not "$0"


BAD_CONFIGS = [
    (dict(levels=[]), "personalization level"),
    (dict(policies=[]), "policy"),
    (dict(levels=["everyone"]), "Unknown personalization"),
    (dict(objective="clicks"), "objective"),
    (dict(batch_size=0), "Batch size must be between 1 and 1,000,000"),
    (dict(n_impressions=0), "Impressions must be between 1 and 20,000,000"),
    (dict(n_impressions=1.5), "whole number"),
    (dict(budget=-1.0), "budget above"),
    (dict(n_seeds=0), "Seeds must be between 1 and 20"),
    (dict(pricing="cpa"), "pricing"),
    # Named as the fields are labelled, in the form's words.
    (dict(conversion_delay=-1), "Conversion delay must be between 0 and 10,000,000"),
    (dict(n_checkpoints=1), "Chart points must be between 2 and 500"),
    (dict(regenerate_every=50), "Regenerate the pools every must be between the batch size"),
    (dict(budget=1e30), r"The budget must be at most \$1,000,000,000,000"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CONFIGS)
def test_experiment_config_rejects_bad_widget_values(change, message):
    values = dict(
        levels=["generic"], policies=["uniform"], n_impressions=1_000, batch_size=100,
        n_seeds=1, objective="ctr",
    )  # fmt: skip
    values.update(change)
    with pytest.raises(ValueError, match=message):
        experiment_config(WorldSettings(), **values)


def test_world_settings_validate():
    with pytest.raises(ValueError, match="n_segments"):
        WorldSettings(n_users=100, n_segments=11)
    with pytest.raises(ValueError, match="seed"):
        WorldSettings(seed=-1)


def test_the_world_is_reused_across_experiments(small_world):
    from ui import cache

    base = experiment_config(
        small_world, levels=["segment"], policies=["uniform"], n_impressions=1_000,
        batch_size=100, n_seeds=1, objective="ctr", n_variants=3,
    )  # fmt: skip
    other = base.replace(n_impressions=2_000, policies=("ucb1",), objective="roas", n_seeds=2)
    assert cache.scenario(base) is cache.scenario(other)
    assert cache.scenario(base) is not cache.scenario(base.replace(n_variants=4))


def test_the_same_experiment_twice_is_one_saved_run(
    app, open_page, run_small_experiment, adlab_home
):
    at = open_page(app, "experiment")
    run_small_experiment(at)
    first = at.session_state["ex-current"]
    next(b for b in at.button if b.label == "Run experiment").click().run()
    second = at.session_state["ex-current"]
    assert second["result"] is first["result"]  # from the cache
    assert second["run_id"] == first["run_id"]
    assert len(RunStore.open(adlab_home).list()) == 1
    assert len(at.session_state["session_runs"]) == 1


def test_the_uplift_table_names_the_baselines_policy_as_its_policy_column_does():
    import pandas as pd

    from ui.uplift import uplift_display

    row = {"level": "segment", "policy": "epsilon_greedy", "baseline": "generic · epsilon_greedy",
           "metric": "ctr", "observed": 0.1, "ci_low": 0.0, "ci_high": 0.2, "expected": 0.1,
           "n_pairs": 3, "interval_over": "3 seeds × 1 world"}  # fmt: skip
    best = {**row, "policy": "best", "baseline": "generic · best (segment:thompson)"}
    shown = uplift_display(pd.DataFrame([row, best]))
    assert shown["Policy"][0] == "ε-greedy"
    assert shown["Compared with"].tolist() == [
        "Generic · ε-greedy",
        "Generic · best (Thompson sampling per segment)",
    ]
