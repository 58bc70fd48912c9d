"""The Creatives page shows exactly the variants the experiment tests (issue #13).

The page once seeded a segment's stream with its id as a string ("3") and the scenario with
the integer (3): different streams, different variants, while the page said they were the
same.
"""

from __future__ import annotations

import pytest

from simulation.scenario import build_scenario
from ui.forms import DEFAULT_CONFIG, world_config


@pytest.fixture(scope="module")
def scenario_and_config():
    from tests.ui.conftest import SMALL_WORLD

    config = world_config(
        DEFAULT_CONFIG.replace(
            seed=SMALL_WORLD.seed, n_users=SMALL_WORLD.n_users, n_segments=SMALL_WORLD.n_segments
        )
    )
    return build_scenario(config), config


def _shown(c) -> str:
    # The page prints each variant's copy as one text element in this form.
    return f"{c.headline}\n{c.body}\n[{c.cta}]"


def test_page_variants_are_the_experiments(app, open_page, scenario_and_config):
    scenario, config = scenario_and_config
    at = open_page(app, "creatives")
    assert at.slider(key="cr-n").value == config.n_variants
    assert at.radio(key="cr-placement").value == "feed"
    labels = at.selectbox(key="cr-audience").options
    rows = scenario.levels["segment"].creatives
    assert len(rows) == len(scenario.segmentation.profiles) >= 2
    for profile, row in zip(scenario.segmentation.profiles, rows, strict=True):
        label = next(x for x in labels if x.startswith(f"Segment {profile.segment_id}:"))
        at.selectbox(key="cr-audience").set_value(label).run()
        assert not at.exception, at.exception
        # Cards fill three columns, which AppTest reads column by column: compare as sets.
        shown = [t.value for t in at.tabs[0].text]  # the Gallery tab
        assert sorted(shown) == sorted(_shown(c) for c in row), profile.segment_id
    # Generic too: the page's control set is the experiment's.
    at.selectbox(key="cr-audience").set_value(labels[0]).run()
    generic = scenario.levels["generic"].creatives[0]
    assert sorted(t.value for t in at.tabs[0].text) == sorted(_shown(c) for c in generic)


def test_cached_variants_are_the_experiments(scenario_and_config):
    # The same through the cached call, compared by creative id (every component).
    from ui import cache

    scenario, config = scenario_and_config
    for profile, row in zip(scenario.segmentation.profiles, scenario.levels["segment"].creatives):
        accepted, _ = cache.creatives_for(
            config.seed, profile.to_audience(), config.n_variants, placement="feed",
            language=None, templates_data=None, stream_name=f"segment/{profile.segment_id}",
        )  # fmt: skip
        assert [c.creative_id for c in accepted] == [c.creative_id for c in row]


def test_zip_manifest_has_the_clis_columns():
    # The page's ZIP and the creative CLI write the same manifest, product to keyword included.
    from creative.__main__ import MANIFEST_COLUMNS as CLI_COLUMNS
    from ui.pages.creatives import MANIFEST_COLUMNS

    assert MANIFEST_COLUMNS == CLI_COLUMNS
