"""Experiment page: the generated level is offered and a tiny run with it shows its rows."""

from __future__ import annotations


def test_generated_level_is_offered_and_runs(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    assert "generated" in at.multiselect(key="ex-levels").options or any(
        "Generated" in o for o in at.multiselect(key="ex-levels").options
    )
    run_small_experiment(
        at,
        **{
            "ex-levels": ["user", "generated"],
            "ex-policies": ["uniform", "thompson", "mvt_ts"],
            "ex-impressions": 1_000,
            "ex-seeds": 1,
        },
    )
    assert not at.exception
    assert not at.error
    table = at.dataframe[0].value
    # user: uniform and thompson; generated: uniform and mvt_ts (thompson and mvt_ts skipped).
    assert len(table) == 4


def test_generated_run_shows_the_component_effects_chart(app, open_page, run_small_experiment):
    at = open_page(app, "experiment")
    run_small_experiment(
        at,
        **{
            "ex-levels": ["generated"],
            "ex-policies": ["uniform", "mvt_ts"],
            "ex-impressions": 1_000,
            "ex-seeds": 1,
        },
    )
    assert not at.exception
    specs = [el.proto.spec for el in at.get("vega_lite_chart")]
    effects = [s for s in specs if '"facet"' in s and '"true"' in s]
    assert len(effects) == 1
    assert "estimate" in effects[0] and "low" in effects[0]
    # Its data: every level of the studio's ten axes, for the whole audience by default.
    assert at.selectbox(key="ex-effects-segment").value == "all"
    # The most-served composition of each segment, rendered.
    assert any("of its impressions" in c.value for c in at.caption)
