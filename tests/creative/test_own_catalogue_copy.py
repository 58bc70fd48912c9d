"""A user's own catalogue: a quoted search names the product shown, at every level.

The audit: with a catalogue holding "Gaming Mouse X" and "Miracle Cure Cream", segment ads
read "게이밍 헤드셋 좋아하세요? Gaming Mouse X 만나보세요!" and "비타민 세럼 좋아하세요?" above
the cream. ``product_search`` matched the mouse on "gaming" (a word of the category, not of
one product) and the cream on the "c" of "vitamin c serum" (inside "miracle").
"""

from __future__ import annotations

import numpy as np
import pytest

from creative.audience import Audience
from creative.catalogue import CATALOGUE, Product, product_search, read_catalogue
from creative.generate import (
    generate_for_segment,
    generate_for_user,
    generate_generic,
    products_for_search,
)
from creative.vocabulary import INTEREST_KEYWORDS, LANGUAGES, localize_keyword

_CSV = """name,category,price
Gaming Mouse X,gaming,49
Pro Gaming Headset,gaming,79
Miracle Cure Cream,beauty,35
Velvet Lip Tint,beauty,14
Dog Bed,pets,59
Salmon Dog Treats,pets,12
Travel Pillow,travel,19
Budget Planner App,finance,4.99
Photo Editor App,finance,9.99
"""


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    path = tmp_path_factory.mktemp("own") / "products.csv"
    path.write_text(_CSV, encoding="utf-8")
    return read_catalogue(path)


def _p(name: str, category: str) -> Product:
    return Product(name=name, name_ko=name, category=category, price=10.0)


@pytest.mark.parametrize(
    ("name", "category", "search"),
    [
        ("Gaming Mouse X", "gaming", None),  # "gaming" is the category's word
        ("Miracle Cure Cream", "beauty", None),  # the "c" of "vitamin c serum"
        ("Dog Bed", "pets", None),  # "dog" is in two searches
        ("Photo Editor App", "finance", None),  # so is "app"
        ("Travel Pillow", "travel", None),  # the category's own name
        ("Cookware Set", "home", None),  # a filler word, not "bedding set"
        ("Gaming Headset Lite", "gaming", "gaming headset"),
        ("Salmon Dog Treats", "pets", "dog treats"),
        ("Budget Planner App", "finance", "budget app"),
        ("Home Cooking Book", "books", "cookbook"),  # "book" inside "cookbook"
        # The search's kind of thing must be the product's: "camping" alone is no match.
        ("Camping Chair", "outdoors", None),
        ("Camping Chairs", "outdoors", None),
        ("Camping Tents", "outdoors", "camping tent"),  # a plural is the same word
        ("Ultralight Camping Tent", "outdoors", "camping tent"),
        ("Rain Jackets", "outdoors", "rain jacket"),
        ("Storage Boxes", "home", "storage boxes"),  # "boxes" is "box", not "boxe"
        ("Dog Treat Boxes", "pets", "dog treats"),  # the type word past the filler
        # The product's head noun (its last word) must be the search's kind: "Tent Pegs"
        # are pegs, though they name the search's "tent" (they matched until 2026-12-05).
        ("Tent Pegs", "outdoors", None),
        ("Tent Peg", "outdoors", None),
        ("Family Tent", "outdoors", "camping tent"),
        ("Family Tents", "outdoors", "camping tent"),
        ("Hiking Boot Laces", "outdoors", None),
        ("Sunscreen Refill", "beauty", "sunscreen"),  # a form the product is sold in
        # The search's head (its last word) must be the name's head, in both directions
        # (until 2026-12-05 any word of the search would do): "Tent Peg Club" sells pegs,
        # "guitar strings" are strings, "desk lamp" a lamp, "air fryer recipes" recipes.
        ("Tent Peg Club", "outdoors", None),
        ("Acoustic Guitar", "music", None),
        ("Standing Desk", "home", None),
        ("Compact Air Fryer", "food", None),
        ("Checking Account", "finance", None),  # an account of checking, not of savings
        ("Kids Savings Account", "finance", "savings account"),
        ("Vinyl Record Club", "music", "vinyl"),  # the words before the form word alone
        ("Camping Tent Club", "outdoors", "camping tent"),
    ],
)
def test_product_search_counts_only_words_that_tell_products_apart(name, category, search):
    assert product_search(_p(name, category)) == search


def test_every_bundled_product_keeps_a_search_that_shares_a_word_with_it():
    # The bundled catalogue's searches (which the simulated world credits) are real matches.
    for products in CATALOGUE.values():
        for p in products:
            found = product_search(p)
            assert found is None or found in INTEREST_KEYWORDS[p.category]
    assert sum(product_search(p) is None for ps in CATALOGUE.values() for p in ps) == 1


def test_a_search_names_only_its_own_kind_of_product_in_either_language(tmp_path):
    # The reported match: a viewer who searched "camping tent" was quoted above "Camping
    # Chair", on the shared word "camping" (one search has it, so it told products apart).
    path = tmp_path / "outdoor.csv"
    path.write_text(
        "name,category,price,name_ko\n"
        "Camping Chair,outdoors,39,캠핑 의자\n"
        "Camping Lantern,outdoors,25,\n"
        "Two-Person Tent,outdoors,179,2인용 텐트\n",
        encoding="utf-8",
    )
    own = read_catalogue(path)
    for search in ("camping tent", "캠핑 텐트", "Camping Tent"):
        assert [p.name for p in products_for_search(search, own)] == ["Two-Person Tent"]
    # The bundled catalogue: the tent, not another outdoor product.
    assert [p.name for p in products_for_search("camping tent")] == ["Two-Person Tent"]
    for seed in range(6):
        user = Audience(
            kind="user", audience_id="u", name="u", top_interests=("outdoors",),
            keywords=("camping tent",), active_hours="evening", language=("en", "ko")[seed % 2],
        )  # fmt: skip
        c = generate_for_user(user, np.random.default_rng(seed), catalogue=own)
        assert c.keyword is None or c.product in ("Two-Person Tent", "2인용 텐트"), c.headline


@pytest.mark.parametrize(
    ("name", "name_ko", "search"),
    [
        # Only the Korean names share the kind: the English one is a shelter, the Korean a tent.
        ("Camping Shelter", "캠핑 텐트", "camping tent"),
        ("Camping Shelter", "캠핑 쉘터", None),
    ],
)
def test_the_korean_names_can_show_the_kind(name, name_ko, search):
    product = Product(name=name, name_ko=name_ko, category="outdoors", price=10.0)
    assert product_search(product) == search


def test_a_category_search_names_no_product_of_an_own_catalogue(catalogue):
    assert [p.name for p in products_for_search("gaming headset", catalogue)] == [
        "Pro Gaming Headset"
    ]
    assert products_for_search("비타민 세럼", catalogue) == ()
    assert products_for_search("dog harness", catalogue) == ()


def _quote_fits(c, catalogue) -> bool:
    """The creative quotes no search, or one that names the product it shows."""
    if c.keyword is None:
        return True
    named = products_for_search(c.keyword, catalogue)
    return c.product in {p.display_name(c.language) for p in named}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_level_quotes_only_a_search_naming_the_product_shown(catalogue, language):
    # Segments and users searching every vocabulary search of the catalogue's categories:
    # the searches that name one of its products and the ones that name none.
    searches = tuple(k for c in catalogue for k in INTEREST_KEYWORDS[c])
    seen_quotes = set()
    for j, category in enumerate(catalogue):
        audience = Audience(
            kind="segment", audience_id=f"s{j}", name="s", top_interests=(category,),
            keywords=tuple(k for k in searches if k in INTEREST_KEYWORDS[category]),
            active_hours="evening", language=language, price_sensitivity=0.5,
        )  # fmt: skip
        report = generate_for_segment(audience, 12, np.random.default_rng(j), catalogue=catalogue)
        for c in report.creatives:
            assert _quote_fits(c, catalogue), (c.keyword, c.product, c.headline, c.body)
            seen_quotes.add((c.product, c.keyword))
        for k in audience.keywords:
            user = Audience(
                kind="user", audience_id="u", name="u", top_interests=(category,),
                keywords=(k,), active_hours="morning", language=language,
            )  # fmt: skip
            for seed in range(4):
                c = generate_for_user(user, np.random.default_rng(seed), catalogue=catalogue)
                assert _quote_fits(c, catalogue), (c.keyword, c.product, c.headline, c.body)
    generic = generate_generic(12, np.random.default_rng(0), language=language, catalogue=catalogue)
    assert all(c.keyword is None for c in generic.creatives)
    # The check can fail: the headset's own search is quoted above it.
    assert ("Pro Gaming Headset", localize_keyword("gaming headset", language)) in seen_quotes
    # And the copy the audit found is gone.
    assert not any(p == "Gaming Mouse X" and k for p, k in seen_quotes)
    assert not any(p == "Miracle Cure Cream" and k for p, k in seen_quotes)


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("Tent Pegs", "peg"),
        ("Family Tent", "tent"),
        ("Robot Vacuum Mini", "vacuum"),  # filler passed over
        ("Smartwatch S2", "smartwatch"),  # a model code
        ("Daily Sunscreen SPF 50", "sunscreen"),  # a specification
        ("Cold Brew Concentrate", "brew"),  # a form word
        ("캠핑 텐트", "텐트"),
        ("Set 2", None),
        ("Tent Peg Club", "peg"),  # a form word, then the head of what it sells
        ("savings account", "saving"),  # a search's head too
        ("미스터리 소설 세트", "소설"),  # Korean filler
        ("텐트 팩 클럽", "팩"),
    ],
)
def test_the_head_noun_is_the_last_word_past_filler_codes_and_forms(name, head):
    from creative.catalogue import head_noun

    assert head_noun(name) == head


def test_a_search_names_a_product_by_its_head_noun_in_both_directions(tmp_path):
    # The documented limit until 2026-12-05: "Tent Pegs" matched "camping tent" on "tent".
    path = tmp_path / "outdoor.csv"
    path.write_text(
        "name,category,price,name_ko\n"
        "Tent Pegs,outdoors,9,텐트 팩\n"
        "Family Tent,outdoors,199,가족용 텐트\n",
        encoding="utf-8",
    )
    own = read_catalogue(path)
    pegs, family = own["outdoors"]
    assert product_search(pegs) is None and product_search(family) == "camping tent"
    for search in ("camping tent", "캠핑 텐트"):
        assert [p.name for p in products_for_search(search, own)] == ["Family Tent"]


def test_a_search_names_a_product_sold_in_a_form_by_its_head_too(tmp_path):
    # The audit after that: "camping tent" named "Tent Peg Club" on "tent", a word of what
    # the club sells but not its head (pegs). A search of the words before the form word
    # alone still names it, as "vinyl" names the Vinyl Record Club.
    path = tmp_path / "outdoor.csv"
    path.write_text(
        "name,category,price,name_ko\n"
        "Tent Peg Club,outdoors,9,텐트 팩 클럽\n"
        "Family Tent,outdoors,199,가족용 텐트\n",
        encoding="utf-8",
    )
    own = read_catalogue(path)
    club, family = own["outdoors"]
    assert product_search(club) is None and product_search(family) == "camping tent"
    for search in ("camping tent", "캠핑 텐트"):
        assert [p.name for p in products_for_search(search, own)] == ["Family Tent"]
    # The same head with a form word still names it: the rule can say yes.
    club_of_tents = Product(
        name="Camping Tent Club", name_ko="캠핑 텐트 클럽", category="outdoors", price=9.0
    )
    assert product_search(club_of_tents) == "camping tent"
