import dataclasses

import numpy as np
import pytest

from creative.attributes import ATTRIBUTE_NAMES, N_ATTRIBUTES
from creative.audience import Audience
from creative.catalogue import CATALOGUE, GREETINGS, INTEREST_LABELS, MOTIFS
from creative.generate import (
    POPULAR_CATEGORIES,
    GenerationReport,
    generate_for_segment,
    generate_for_user,
    generate_generic,
    recommended_placement,
    user_personal_slots,
)
from creative.vocabulary import INTERESTS, LANGUAGES, MOBILE_FIRST_LAYOUTS, OFFERS, TONES


def components(c):
    return (c.product, c.headline, c.body, c.cta, c.tone, c.offer, c.palette.name, c.layout)


def test_catalogue_covers_every_interest():
    assert set(CATALOGUE) == set(INTERESTS) == set(MOTIFS)
    for lang in LANGUAGES:
        assert set(INTEREST_LABELS[lang]) == set(INTERESTS)
        assert set(GREETINGS[lang]) == {"morning", "daytime", "evening", "night"}


def test_same_seed_same_creatives(gamers):
    a = generate_for_segment(gamers, 6, np.random.default_rng(7))
    b = generate_for_segment(gamers, 6, np.random.default_rng(7))
    assert a == b
    assert [c.creative_id for c in a.accepted] == [c.creative_id for c in b.accepted]
    assert generate_generic(5, np.random.default_rng(1)) == generate_generic(
        5, np.random.default_rng(1)
    )


def test_creative_id_is_a_content_hash(gamers):
    c = generate_for_user(gamers, np.random.default_rng(0))
    assert c.creative_id.startswith("cr-") and len(c.creative_id) == 19
    assert dataclasses.replace(c).creative_id == c.creative_id
    assert dataclasses.replace(c, cta="Another CTA").creative_id != c.creative_id
    # The verdict is not content: re-checking must not change the id.
    assert dataclasses.replace(c, guardrail=c.guardrail).creative_id == c.creative_id


def test_segment_variants_are_distinct(gamers, rng):
    report = generate_for_segment(gamers, 12, rng)
    assert len(report.accepted) == 12
    ids = [c.creative_id for c in report.creatives]
    assert len(set(ids)) == len(ids)
    assert len({components(c) for c in report.accepted}) == 12


def test_duplicates_are_dropped_when_the_space_is_small():
    # One interest, one keyword, mobile-only: few distinct combinations exist.
    tiny = Audience(
        kind="segment",
        audience_id="tiny",
        name="tiny",
        top_interests=("pets",),
        active_hours="night",
        mobile_share=1.0,
        price_sensitivity=1.0,
    )
    report = generate_for_segment(tiny, 400, np.random.default_rng(0))
    assert report.n_duplicates > 0
    ids = [c.creative_id for c in report.creatives]
    assert len(set(ids)) == len(ids)


def test_deal_seekers_night_owls_mobile_follow_profile(gamers, rng):
    report = generate_for_segment(gamers, 12, rng)
    for c in report.accepted:
        assert c.offer in ("discount_20", "discount_30")
        assert c.greeting in ("night", None)  # recorded when the copy greets
        assert c.layout in MOBILE_FIRST_LAYOUTS
        assert c.category in gamers.top_interests
        assert c.attributes[ATTRIBUTE_NAMES.index("personalized:segment")] == 1.0
    assert recommended_placement(gamers) == "story"
    # The keyword slot is filled from the segment's own keywords.
    text = " ".join(c.headline + c.body for c in report.accepted)
    assert any(k in text for k in gamers.keywords)
    assert any(c.tone == "urgent" for c in report.accepted)


def test_price_indifferent_desktop_segment(wellness, rng):
    report = generate_for_segment(wellness, 12, rng)
    for c in report.accepted:
        assert c.offer in ("none", "free_shipping")
        assert c.greeting in ("morning", None)
        assert c.layout not in MOBILE_FIRST_LAYOUTS
    assert recommended_placement(wellness) == "feed"


def test_variants_differ_between_segments(gamers, wellness):
    a = generate_for_segment(gamers, 8, np.random.default_rng(3)).accepted
    b = generate_for_segment(wellness, 8, np.random.default_rng(3)).accepted
    assert {c.category for c in a}.isdisjoint({c.category for c in b})
    assert {c.headline for c in a}.isdisjoint({c.headline for c in b})
    mean_a = np.mean([c.attributes for c in a], axis=0)
    mean_b = np.mean([c.attributes for c in b], axis=0)
    assert np.abs(mean_a - mean_b).sum() > 2.0


def test_generic_uses_no_audience_data(rng):
    report = generate_generic(12, rng)
    assert len(report.accepted) == 12
    for c in report.accepted:
        assert c.audience.kind == "generic"
        assert c.greeting is None
        assert c.category in POPULAR_CATEGORIES
        assert c.offer in ("none", "free_shipping", "discount_10")
        vec = c.attributes
        assert vec.shape == (N_ATTRIBUTES,)
        assert vec[ATTRIBUTE_NAMES.index("personalized:segment")] == 0.0
    assert len({c.category for c in report.accepted}) >= 3
    ko = generate_generic(3, rng, language="ko")
    assert all(c.language == "ko" for c in ko.accepted)


def test_user_creative_from_profile(user_ko):
    c = generate_for_user(user_ko, np.random.default_rng(0))
    assert c.category == "pets"
    assert c.language == "ko"
    greets = "greeting" in user_personal_slots(c.tone, c.offer, "ko", has_keyword=True)
    assert c.greeting == ("evening" if greets else None)
    assert c.attributes[ATTRIBUTE_NAMES.index("personalized:user")] == 1.0
    assert c.attributes[ATTRIBUTE_NAMES.index("language:ko")] == 1.0


@pytest.mark.parametrize("tone", TONES)
@pytest.mark.parametrize("offer", ["none", "discount_30"])
def test_user_strategy_overrides(user_ko, tone, offer):
    c = generate_for_user(user_ko, np.random.default_rng(1), tone=tone, offer=offer, layout="split")
    assert (c.tone, c.offer, c.layout) == (tone, offer, "split")


def test_keyword_outside_the_vocabulary_is_never_printed(gamers):
    # A search we cannot place in a category cannot be shown to belong to the product:
    # it is dropped, and the braces in it are never read as a template either.
    odd = dataclasses.replace(gamers, kind="user", keywords=("{product.__class__} {0}",))
    for seed in range(30):
        c = generate_for_user(odd, np.random.default_rng(seed))
        assert c.keyword is None
        assert "{" not in c.headline + c.body and "class" not in c.headline + c.body
    # The same user with a gaming search naming a product does get it (so the check
    # above can fail).
    known = dataclasses.replace(odd, keywords=("{product.__class__} {0}", "Controller"))
    keywords = {generate_for_user(known, np.random.default_rng(s)).keyword for s in range(30)}
    assert "controller" in keywords


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda a, r: generate_for_segment(a, 0, r), r"`n` must be an int in \[1, 500\]; got 0\."),
        (lambda a, r: generate_for_segment(a, 2.5, r), r"`n` must be an int in \[1, 500\]"),
        # Refused at once: each creative is written and checked one by one.
        (
            lambda a, r: generate_for_segment(a, 10**7, r),
            r"^`n` must be an int in \[1, 500\]; got 10000000\.$",
        ),
        (lambda a, r: generate_generic(501, r), r"^`n` must be an int in \[1, 500\]; got 501\.$"),
        (lambda a, r: generate_generic(True, r), r"^`n` must be an int in \[1, 500\]; got True\.$"),
        (lambda a, r: generate_for_segment(a, 2, 42), "`rng` must be a numpy.random.Generator"),
        (lambda a, r: generate_for_segment(Audience.generic(), 2, r), "use generate_generic"),
        (lambda a, r: generate_for_segment(a, 2, r, placement="tv"), "`placement` must be"),
        (lambda a, r: generate_generic(2, r, language="fr"), "`language` must be"),
        (lambda a, r: generate_for_user(a, r, tone="angry"), "`tone` must be None or"),
        (lambda a, r: generate_for_user(a, r, offer="bogo"), "`offer` must be None or"),
        (lambda a, r: generate_for_user(a, r, layout="grid"), "`layout` must be None or"),
    ],
)
def test_bad_arguments(gamers, rng, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(gamers, rng)


def test_report_invariants(gamers, rng):
    report = generate_for_segment(gamers, 4, rng, placement="preview")
    assert isinstance(report, GenerationReport)
    assert all(c.guardrail.passed for c in report.accepted)
    assert all(not c.guardrail.passed for c in report.rejected)
    assert sum(report.rejection_counts.values()) >= len(report.rejected) > 0 or not report.rejected
    with pytest.raises(ValueError, match="`accepted` must hold only"):
        GenerationReport(accepted=report.accepted + tuple(_rejected(report.accepted[0])))


def _rejected(c):
    from creative.guardrails import check_creative

    bad = dataclasses.replace(c, headline="Guaranteed results")
    return [dataclasses.replace(bad, guardrail=check_creative(bad))]


def test_every_offer_and_tone_reachable_in_generation(rng):
    seen_tones, seen_offers = set(), set()
    for ps in (0.0, 0.5, 0.7, 0.9):
        aud = Audience(
            kind="segment",
            audience_id=f"s{ps}",
            name="x",
            top_interests=("food",),
            price_sensitivity=ps,
        )
        report = generate_for_segment(aud, 10, rng)
        seen_tones |= {c.tone for c in report.accepted}
        seen_offers |= {c.offer for c in report.accepted}
    assert seen_tones == set(TONES)
    assert seen_offers == set(OFFERS)


def test_the_bundled_templates_print_the_same_personal_slots_with_or_without_an_offer():
    # user_personal_slots assumes the product carries the strategy's offer; the generator
    # drops one a product cannot carry (a discount on an account), which removes the
    # {offer} templates. With the bundled templates that changes nothing.
    from creative.generate import personal_slots
    from creative.templates import default_templates

    templates = default_templates()
    for language in LANGUAGES:
        for tone in TONES:
            for searched in (set(), {"keyword"}):
                slots = {"product", "interest", "greeting"} | searched
                with_offer = personal_slots(templates, language, tone, slots | {"offer"})
                assert personal_slots(templates, language, tone, slots) == with_offer


def test_products_with_their_own_picture_get_it_and_every_picture_is_drawn():
    from creative.catalogue import PRODUCT_MOTIFS, motif_for
    from creative.motifs import MOTIF_PAINTERS

    every = {p.name: p for products in CATALOGUE.values() for p in products}
    assert set(PRODUCT_MOTIFS) <= set(every)  # only bundled products are named
    for name, product in every.items():
        assert motif_for(product) == PRODUCT_MOTIFS.get(name, MOTIFS[product.category])
    assert set(MOTIFS.values()) | set(PRODUCT_MOTIFS.values()) <= set(MOTIF_PAINTERS)


@pytest.mark.parametrize(
    "motif",
    ["shoe", "watch", "headphones", "bag", "plug", "lamp", "camera", "keyboard", "speaker",
     "cup", "mat", "vacuum", "bed", "tent"],
)  # fmt: skip
def test_each_product_picture_draws_in_its_box_in_the_motif_colour(motif):
    from PIL import Image, ImageDraw

    from creative.brand import DEFAULT_KIT
    from creative.layouts import Box
    from creative.motifs import draw_motif

    palette = DEFAULT_KIT.palettes[0]
    image = Image.new("RGB", (200, 200), palette.rgb("background"))
    draw_motif(ImageDraw.Draw(image), Box(40, 40, 160, 160), motif, palette, backdrop=None)
    import numpy as np

    inked = int((np.asarray(image) == palette.rgb("motif")).all(axis=2).sum())
    assert inked > 0.08 * 120 * 120  # a shape, not a speck
    outside = [image.getpixel((x, y)) for x in range(200) for y in (0, 20, 180, 199)]
    assert set(outside) == {palette.rgb("background")}  # nothing drawn outside the box
