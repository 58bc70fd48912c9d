"""A quoted search that is the product's own name: the ad names the product once.

"무선 이어폰 좋아하세요?" beside "테크 취향저격, 무선 이어폰" (and "Into “wireless earbuds”?"
beside "Wireless Earbuds") named the product twice; a headline now prints its ``named`` line.
"""

from __future__ import annotations

import numpy as np
import pytest

from creative.audience import Audience
from creative.catalogue import CATALOGUE, fitting_offers, product_search
from creative.components import component_axes, compose, products
from creative.generate import generate_for_segment, generate_for_user, user_personal_slots
from creative.templates import (
    SLOTS,
    CopyTemplate,
    default_templates,
    load_templates,
    search_names_product,
)
from creative.vocabulary import (
    INTEREST_KEYWORDS,
    LANGUAGES,
    OFFERS,
    TONES,
    localize_keyword,
)

#: Every vocabulary search that is (or holds) the name of a product of its category, in
#: either language: the searches that can name the product twice.
_OWN_NAMES = sorted(
    {
        (lang, category, keyword)
        for category, keywords in INTEREST_KEYWORDS.items()
        for keyword in keywords
        for lang in LANGUAGES
        for p in CATALOGUE.get(category, ())
        if product_search(p) == keyword
        and search_names_product(localize_keyword(keyword, lang), p.display_name(lang))
    }
)


def _mentions(c) -> int:
    return f"{c.headline} {c.body}".casefold().count(c.product.casefold())


def _viewer(lang, category, keyword, kind="user"):
    return Audience(
        kind=kind, audience_id=f"{kind}-{keyword}", name="v", top_interests=(category,),
        keywords=(keyword,), active_hours="evening", language=lang, size=10,
    )  # fmt: skip


def test_the_vocabulary_has_searches_that_are_product_names_in_both_languages():
    # The scans below are about these: without them they would pass vacuously.
    assert {lang for lang, _, _ in _OWN_NAMES} == set(LANGUAGES)
    assert len(_OWN_NAMES) >= 8


def test_user_and_segment_ads_name_the_product_once():
    quoted = 0
    for lang, category, keyword in _OWN_NAMES:
        user = _viewer(lang, category, keyword)
        ads = [
            generate_for_user(user, np.random.default_rng([i, t, o]), tone=tone, offer=offer)
            for t, tone in enumerate(TONES)
            for o, offer in enumerate(fitting_offers(category, OFFERS))
            for i in range(3)
        ]
        ads += generate_for_segment(
            _viewer(lang, category, keyword, "segment"), 12, np.random.default_rng(0)
        ).creatives
        for c in ads:
            assert _mentions(c) == 1, (c.headline, c.body)
            if search_names_product(c.keyword, c.product):
                quoted += 1
                # The search is still printed: it is the one mention.
                assert c.keyword.casefold() in f"{c.headline} {c.body}".casefold()
    assert quoted > 100


def test_the_user_level_still_prints_what_the_simulator_credits():
    # The named lines keep their template's personal slots: a viewer whose search is the
    # product's name sees the search and the greeting the simulator credits.
    for lang, category, keyword in _OWN_NAMES:
        user = _viewer(lang, category, keyword)
        for tone in TONES:
            c = generate_for_user(user, np.random.default_rng(1), tone=tone, offer="none")
            printed = {s for s in ("greeting", "keyword") if getattr(c, s) is not None}
            assert printed == user_personal_slots(tone, "none", lang, has_keyword=True), tone


def test_composed_ads_name_the_product_once(random_valid):
    axes = component_axes()
    combos = random_valid(axes, 3_000, np.random.default_rng(5))
    prods = products()
    quoted = 0
    for combo in combos:
        product = prods[combo[0]]
        keyword = product_search(product)
        viewer = _viewer("en", product.category, keyword) if keyword else _viewer("en", "pets", "x")
        c = compose(combo, viewer)
        assert _mentions(c) == 1, (c.headline, c.body)
        quoted += search_names_product(c.keyword, c.product)
    assert quoted > 20


def test_every_bundled_headline_has_a_named_line_with_its_slots_but_the_product():
    for t in default_templates().templates:
        if t.part == "headline":
            assert t.named_template is not None, t.name
        if t.named_template is not None:
            assert t.named_template.slots == t.slots - {"product"}, t.name
            assert t.for_search(True) is t.named_template and t.for_search(False) is t


@pytest.mark.parametrize(
    ("keyword", "product", "names"),
    [
        ("wireless earbuds", "Wireless Earbuds", True),
        ("무선  이어폰", "무선 이어폰", True),
        ("cheap wireless earbuds", "Wireless Earbuds", True),
        ("cat tree", "Cat Tree Tower", False),
        (None, "캣타워", False),
        ("", "캣타워", False),
    ],
)
def test_search_names_product(keyword, product, names):
    assert search_names_product(keyword, product) is names


def test_a_user_file_may_give_named_lines(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        "[en.playful]\nheadline = [\n"
        '  { text = "Love “{keyword}”? Meet {product}", named = "Love “{keyword}”? Here" },\n'
        '  "Hey {product}!",\n]\n',
        encoding="utf-8",
    )
    heads = load_templates(path).options("en", "playful", "headline", SLOTS)
    assert heads[0].for_search(True).text == "Love “{keyword}”? Here"
    # A line without one is printed as written.
    assert heads[1].for_search(True) is heads[1]


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ('{ text = "Meet {product}", named = "Meet {product} now" }', r"headline\[0\]: `named`"),
        (
            '{ text = "Into {keyword}: {product}", named = "Hi" }',
            r"must use the slots \['keyword'\]",
        ),
        ('{ text = "Hello there", named = "Hi" }', r"only a template with \{product\}"),
        ('{ text = "Meet {product}", nmed = "Hi" }', "non-empty array"),
        ('{ named = "Hi" }', "non-empty array"),
    ],
)
def test_bad_named_lines_are_refused_naming_the_template(tmp_path, entry, match):
    path = tmp_path / "bad.toml"
    path.write_text(f"[en.playful]\nheadline = [{entry}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        load_templates(path)


def test_copy_template_checks_its_named_line():
    with pytest.raises(ValueError, match=r"unknown slot \{nme\}"):
        CopyTemplate(
            language="en", tone="playful", part="headline", text="{product}", named="{nme}"
        )
