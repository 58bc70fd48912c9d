"""The Creatives page with the user's own catalogue: the gallery previews it once in use,
and a product name holding a banned claim is pointed out at upload.

The audit: after uploading a catalogue and ticking **Use my catalogue**, the gallery still
showed the bundled products (the user first saw their own products' ads in the experiment
results), and "Miracle Cure Cream - guaranteed results" was accepted without a word.
"""

from __future__ import annotations

import pytest

from creative.guardrails import find_banned_names
from simulation.scenario import build_scenario
from ui.fmt import WORD_JOINER
from ui.forms import DEFAULT_CONFIG, world_config
from ui.uploads import parse_catalogue_upload, write_input

CATALOGUE = (
    b"name,category,price\n"
    b"Gaming Mouse X,gaming,49\nQuest Pad,gaming,29\nSaga Novel,books,19\n"
    b"Chef Box,food,35\nCloud Pillow,home,25\nTrail Bottle,outdoors,15\n"
    b"Glow Balm,beauty,12\nPulse Band,tech,59\nStride Socks,fitness,9\nPaw Toy,pets,7\n"
)
PRODUCTS = {line.split(b",")[0].decode() for line in CATALOGUE.splitlines()[1:]}
BANNED = (
    b"name,category,price\nMiracle Cure Cream - guaranteed results,beauty,35\nChef Box,food,35\n"
)


def _upload(at, data: bytes, name: str = "mine.csv") -> None:
    # AppTest cannot upload files: the session holds what the page keeps after parsing one.
    at.session_state["uploaded_catalogue"] = (name, data, parse_catalogue_upload(name, data))


def _plain(text: str) -> str:
    """The text a reader sees in Markdown escaped by ``ui.fmt.escape_markdown``."""
    return text.replace("\\", "").replace(WORD_JOINER, "")


def _captions(at) -> list[str]:
    return [_plain(c.value) for c in at.tabs[0].caption]


def _gallery_products(at) -> set[str]:
    return {c.split(" · ")[0] for c in _captions(at) if " · tone " in c}


def _tick_use_my_catalogue(at, run, value: bool = True) -> None:
    # The box is in the Experiment form: its value counts once the form is submitted.
    at.switch_page("ui/pages/experiment.py").run()
    box = next(c for c in at.checkbox if c.label == "Use my catalogue")
    assert not box.disabled
    box.check() if value else box.uncheck()
    run(at, **{"ex-levels": ["generic", "segment"], "ex-seeds": 1, "ex-impressions": 1_000})
    at.switch_page("ui/pages/creatives.py").run()
    assert not at.exception, at.exception


def test_the_gallery_previews_the_uploaded_catalogue_once_it_is_in_use(
    app, open_page, run_small_experiment
):
    at = open_page(app, "creatives")
    bundled = _gallery_products(at)
    assert bundled and not bundled & PRODUCTS
    _upload(at, CATALOGUE)
    at.run()
    # Uploaded but not ticked: experiments still run on the bundled products, and so does
    # the preview, which says how to see yours.
    assert _gallery_products(at) == bundled
    assert any("tick **Use my catalogue**" in c for c in _captions(at))
    _tick_use_my_catalogue(at, run_small_experiment)
    shown = _gallery_products(at)
    assert shown and shown <= PRODUCTS
    assert any("your catalogue mine.csv" in c for c in _captions(at))
    # Generic ads too, and the One user tab's ad.
    at.selectbox(key="cr-audience").set_value("Generic (everyone, no audience data)").run()
    assert _gallery_products(at) <= PRODUCTS
    next(b for b in at.button if b.label == "Generate for this user").click().run()
    assert at.session_state["u-creative"].product in PRODUCTS
    _tick_use_my_catalogue(at, run_small_experiment, False)
    at.selectbox(key="cr-audience").set_value(at.selectbox(key="cr-audience").options[1]).run()
    assert _gallery_products(at) == bundled


def test_the_previewed_ads_are_the_ones_an_experiment_on_the_catalogue_tests(tmp_path):
    from tests.ui.conftest import SMALL_WORLD
    from ui import cache

    path = write_input(tmp_path, "mine.csv", CATALOGUE)
    config = world_config(
        DEFAULT_CONFIG.replace(
            seed=SMALL_WORLD.seed, n_users=SMALL_WORLD.n_users,
            n_segments=SMALL_WORLD.n_segments, catalogue_file=path,
        )
    )  # fmt: skip
    scenario = build_scenario(config)
    rows = scenario.levels["segment"].creatives
    for profile, row in zip(scenario.segmentation.profiles, rows, strict=True):
        accepted, _ = cache.creatives_for(
            config.seed, profile.to_audience(), config.n_variants, placement="feed",
            language=None, templates_data=None, stream_name=f"segment/{profile.segment_id}",
            catalogue_data=CATALOGUE,
        )  # fmt: skip
        assert [c.creative_id for c in accepted] == [c.creative_id for c in row]
        assert {c.product for c in accepted} <= PRODUCTS


def _banned_warnings(at) -> list[str]:
    return [_plain(w.value) for w in at.warning if "brand kit bans" in _plain(w.value)]


def test_a_product_name_with_a_banned_claim_is_pointed_out_at_upload(app, open_page):
    at = open_page(app, "creatives")
    _upload(at, CATALOGUE)
    at.run()
    assert _banned_warnings(at) == []
    _upload(at, BANNED)
    at.run()
    (warning,) = _banned_warnings(at)
    assert "Miracle Cure Cream - guaranteed results (guaranteed, cure, miracle)" in warning
    assert "Chef Box" not in warning
    # It says what happens to them: the ads print the name, claim included.
    assert "print the name as written" in warning


@pytest.mark.parametrize(
    ("name", "name_ko", "claims"),
    [
        ("Miracle Cure Cream - guaranteed results", "", ("guaranteed", "cure", "miracle")),
        ("Secure Case", "", ()),  # "cure" inside a word is not the claim
        ("Calm Serum", "완치 세럼", ("완치",)),  # the Korean name is printed in Korean ads
        ("Risk Free Trial Pack", "", ("risk-free",)),
    ],
)
def test_find_banned_names(name, name_ko, claims):
    from creative.catalogue import Product

    product = Product(name=name, name_ko=name_ko or name, category="beauty", price=5.0)
    assert find_banned_names([product]) == (((name, claims),) if claims else ())
