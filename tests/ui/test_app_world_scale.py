"""The hidden world's personalization scale: set on the World page, used by every page.

``WorldConfig.personalization_scale`` multiplies every user-dependent effect; at 0 the world
gives personalization nothing to work with (adlab's null check). These tests read the
mechanisms, never the sign of an answer.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulation.ground_truth import world_report
from simulation.scenario import build_scenario
from simulation.store import RunStore
from ui.forms import SCALE_LABEL, WorldSettings, world_scale, world_settings

#: The World page's mechanisms table (in its expander) is the page's third table.
MECHANISMS = 2


def _set_scale(at, value):
    at.number_input(key="world-scale").set_value(value).run()
    assert not at.exception, at.exception
    return at


def _lay_open(at):
    next(b for b in at.button if b.label == "Lay the world open").click().run()
    assert not at.exception, at.exception
    return at


def _user_dependent(at):
    table = at.dataframe[MECHANISMS].value
    return table[table["kind"] == "user-dependent"]


def test_the_world_page_at_scale_0_shows_nothing_from_personalization(app, open_page):
    at = open_page(app, "world")
    box = at.number_input(key="world-scale")
    assert box.label == SCALE_LABEL and box.value == 1.0  # the default world
    _lay_open(_set_scale(at, 0.0))
    config = at.session_state["world-report"][0]
    assert config.world.personalization_scale == 0.0
    assert at.session_state["world"].personalization_scale == 0.0  # the shared world's
    assert any("personalization scale 0 — nothing to personalize" in c.value for c in at.caption)
    # Every user-dependent mechanism adds exactly nothing, at every level: users' traits no
    # longer change how they respond (content effects and the locale still do).
    rows = _user_dependent(at)
    assert set(rows["level"]) == {"generic", "segment", "user"} and len(rows) >= 12
    lifts = rows[["ctr_lift", "conversions_lift", "click_logit_sd"]].to_numpy()
    assert np.all(lifts == 0.0)
    content = at.dataframe[MECHANISMS].value.query("kind == 'content'")
    assert (content["ctr_lift"] != 0).any()  # the world still has something to show
    # The page's spreads are the world command's (world_report) for the same world.
    spreads = world_report(build_scenario(config)).spreads
    shown = at.dataframe[1].value["Best ÷ median"]
    assert list(shown) == [f"{v:.2f}×" for v in spreads["best_over_median"]]


def test_scale_back_to_1_restores_the_default_world_not_a_cached_other(app, open_page):
    at = _lay_open(open_page(app, "world"))
    default_arms = at.dataframe[0].value
    assert (_user_dependent(at)["ctr_lift"] != 0).any()  # the default world personalizes
    _set_scale(at, 0.0)  # the report open follows the new world at once
    assert at.session_state["world-report"][0].world.personalization_scale == 0.0
    assert not at.dataframe[0].value["True CTR"].equals(default_arms["True CTR"])
    _set_scale(at, 1.0)
    config = at.session_state["world-report"][0]
    audience = {k: getattr(config, k) for k in ("seed", "n_users", "n_segments")}
    # The default world, nothing of scale 0 left in it.
    assert config == at.session_state["world"].config() == WorldSettings(**audience).config()
    assert at.dataframe[0].value["True CTR"].equals(default_arms["True CTR"])
    assert (_user_dependent(at)["ctr_lift"] != 0).any()


def test_an_out_of_range_scale_is_refused_beside_the_box(app, open_page):
    at = _set_scale(open_page(app, "world"), 11.0)
    # The reason, escaped as Markdown on the page ("10\; got 11\."), read as shown.
    shown = [e.value.replace("\\", "") for e in at.error]
    assert any(
        s.startswith("The world was not changed") and "must be a number from 0 to 10; got 11." in s
        for s in shown
    )
    assert at.session_state["world"].personalization_scale == 1.0  # unchanged
    _set_scale(at, 2.5)  # a valid value clears the reason and is used
    assert not at.error and at.session_state["world"].personalization_scale == 2.5


def test_the_audience_page_keeps_the_world_pages_scale(app, open_page):
    at = _set_scale(open_page(app, "world"), 0.0)
    at.switch_page("ui/pages/audience.py").run()
    at.number_input[2].set_value(11)  # the seed
    next(b for b in at.button if b.label == "Generate audience").click().run()
    assert not at.exception, at.exception
    world = at.session_state["world"]
    assert world.seed == 11 and world.personalization_scale == 0.0
    at.switch_page("ui/pages/world.py").run()  # the box shows the world in use again
    assert at.number_input(key="world-scale").value == 0.0


def test_an_experiment_at_scale_0_says_so_and_saves_its_world(
    app, open_page, run_small_experiment, adlab_home
):
    at = open_page(app, "experiment")
    assert not any(c.value.startswith("World:") for c in at.caption)  # default: not said
    at.switch_page("ui/pages/world.py").run()
    _set_scale(at, 0.0)
    at.switch_page("ui/pages/experiment.py").run()
    assert any(
        c.value.startswith("World: personalization scale 0 — nothing to personalize")
        for c in at.caption
    )
    run_small_experiment(at, **{"ex-policies": ["uniform", "thompson"]})
    assert not at.exception, at.exception
    (entry,) = at.session_state["session_runs"]
    assert entry["config"].world.personalization_scale == 0.0
    assert entry["label"].endswith("personalization scale 0")
    (run,) = RunStore.open(adlab_home).list().itertuples(index=False)
    saved = RunStore.open(adlab_home).load(run.run_id)
    assert saved.config["world"]["personalization_scale"] == 0.0
    assert "personalization scale 0" in saved.meta["name"]
    # The Results page tells it apart by its name.
    at.switch_page("ui/pages/results.py").run()
    picker = at.selectbox(key="rs-run")
    assert "personalization scale 0" in picker.format_func(picker.value)


def test_the_audience_is_reused_and_the_scenario_rebuilt_across_scales(small_world):
    from ui import cache

    zero = dataclasses.replace(small_world, personalization_scale=0.0)
    assert cache.world(zero) is cache.world(small_world)  # who the users are: unchanged
    scn0, scn1 = cache.scenario(zero.config()), cache.scenario(small_world.config())
    assert scn0 is not scn1
    assert scn0.config.world.personalization_scale == 0.0
    assert scn1.config.world.personalization_scale == 1.0
    assert cache.scenario(small_world.config()) is scn1  # and kept per scale


@pytest.mark.parametrize(
    ("value", "got"),
    [(-0.5, "got -0.5"), (10.5, "got 10.5"), (None, "got nothing"), (float("nan"), "got nan"),
     (True, "got True"), ("1", "got '1'")],
)  # fmt: skip
def test_world_scale_refuses_bad_values_in_the_forms_words(value, got):
    with pytest.raises(ValueError, match=f"^{SCALE_LABEL} must be a number from 0 to 10; {got}"):
        world_scale(value)


def test_world_scale_takes_the_whole_allowed_range_as_floats():
    assert [world_scale(v) for v in (0, 1, 10, 2.5)] == [0.0, 1.0, 10.0, 2.5]
    assert isinstance(world_scale(0), float)  # 0 and 0.0 save the same config
    settings = world_settings(n_users=2_000, n_segments=3, seed=1, personalization_scale=0)
    assert settings.config().world.personalization_scale == 0.0
    assert not settings.is_default_world and WorldSettings().is_default_world
    with pytest.raises(ValueError, match="personalization_scale"):
        WorldSettings(personalization_scale=-1.0)


def test_run_labels_and_captions_name_the_scale_only_away_from_the_default():
    from ui.fmt import scale_text
    from ui.runner import run_label

    base = WorldSettings(n_users=2_000, n_segments=3).config()
    assert "personalization" not in run_label(base)
    null = base.replace(world=base.world.replace(personalization_scale=0.0))
    assert run_label(null) == run_label(base) + ", personalization scale 0"
    assert scale_text(0.0) == "personalization scale 0 — nothing to personalize"
    assert scale_text(1.0) == "personalization scale 1 — the default world"
    assert scale_text(2.5).startswith("personalization scale 2.5 — every user-dependent")


def test_the_composer_starts_each_scale_from_its_own_best_composition(small_world):
    from ui.compose_view import _keys

    zero = dataclasses.replace(small_world, personalization_scale=0.0).config()
    one = small_world.config()
    # Kept per world: a composition picked at one scale is not shown as the other's start.
    assert _keys(zero, ["tone"], 0) != _keys(one, ["tone"], 0)
    assert _keys(one, ["tone"], 0) == ["cmp-3.2000.3-0-tone"]  # the default's keys as before
