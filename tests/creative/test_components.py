"""The creative component space: levels, constraints, and composition under the guardrails."""

from __future__ import annotations

import numpy as np
import pytest

from creative import Audience
from creative.catalogue import product_search
from creative.components import AXES, HEADLINE_STYLES, component_axes, compose, products
from creative.vocabulary import (
    INTEREST_KEYWORDS,
    INTERESTS,
    LANGUAGES,
    OFFERS,
    TIMES_OF_DAY,
    localize_keyword,
)


def _flat(axes, name, level):
    return int(axes.offsets[AXES.index(name)] + level)


def _audiences(rng, n):
    out = []
    for i in range(n):
        cat = INTERESTS[int(rng.integers(len(INTERESTS)))]
        words = INTEREST_KEYWORDS[cat]
        out.append(
            Audience(
                kind="user",
                audience_id=f"u{i}",
                name=f"u{i}",
                top_interests=(cat,),
                keywords=(words[int(rng.integers(len(words)))], "something unrelated"),
                active_hours=TIMES_OF_DAY[int(rng.integers(4))] if i % 5 else None,
                language=LANGUAGES[i % 2],
            )
        )
    return out


def test_axes_cover_the_issue_components():
    axes = component_axes()
    assert axes.names == AXES
    assert len(axes.levels[0]) == len(products()) == 42
    assert axes.pair_mask.shape == (axes.offsets[-1],) * 2
    assert np.array_equal(axes.pair_mask, axes.pair_mask.T)


def test_constraints_forbid_what_the_issue_names():
    axes = component_axes()
    pm = axes.pair_mask
    finance = [i for i, p in enumerate(products()) if p.category == "finance"]
    ship = OFFERS.index("free_shipping")
    assert all(not pm[_flat(axes, "product", i), _flat(axes, "offer", ship)] for i in finance)
    # No discount on a product that is not discountable (the savings account), and the
    # discounts stay on its discountable neighbours.
    for i, p in enumerate(products()):
        for d in ("discount_10", "discount_20", "discount_30"):
            assert pm[_flat(axes, "product", i), _flat(axes, "offer", OFFERS.index(d))] == (
                p.discountable
            )
    assert not all(p.discountable for p in products())
    offer_head = _flat(axes, "headline", HEADLINE_STYLES.index("offer"))
    assert not pm[offer_head, _flat(axes, "offer", OFFERS.index("none"))]
    assert not pm[
        _flat(axes, "headline", HEADLINE_STYLES.index("keyword")), _flat(axes, "keyword", 0)
    ]
    # A search is printed in the copy's language: the vocabulary holds both.
    assert pm[_flat(axes, "keyword", 1), _flat(axes, "language", LANGUAGES.index("ko"))]
    # The urgent tone has no keyword headline in the bundled templates.
    urgent = _flat(axes, "tone", 1)
    assert not pm[urgent, _flat(axes, "headline", HEADLINE_STYLES.index("keyword"))]
    # What is switched on is printed: a greeting and a search each by their own headline
    # style, or both together by greet_search (a plain headline over a body printing both).
    gs = HEADLINE_STYLES.index("greet_search")
    for s, style in enumerate(HEADLINE_STYLES):
        head = _flat(axes, "headline", s)
        assert pm[head, _flat(axes, "greeting", 1)] == (style in ("greeting", "greet_search"))
        assert pm[head, _flat(axes, "keyword", 1)] == (style in ("keyword", "greet_search"))
    assert not pm[_flat(axes, "headline", gs), _flat(axes, "greeting", 0)]
    assert not pm[_flat(axes, "headline", gs), _flat(axes, "keyword", 0)]
    # greet_search needs a body printing both and a greeting headline (its wording for a
    # viewer without the search) in every language: playful, urgent and premium have them;
    # informative has no greeting headline, social proof neither.
    tones = ("playful", "urgent", "premium", "informative", "social_proof")
    assert [bool(pm[_flat(axes, "tone", t), _flat(axes, "headline", gs)]) for t in range(5)] == [
        t in ("playful", "urgent", "premium") for t in tones
    ]


def test_every_valid_composition_passes_the_guardrails(rng, random_valid):
    axes = component_axes()
    combos = random_valid(axes, 1500, rng)
    for combo, audience in zip(combos, _audiences(rng, len(combos)), strict=True):
        creative = compose(combo, audience)
        assert creative.guardrail.passed, (combo, creative.guardrail.reasons)
        assert creative.offer == OFFERS[combo[2]]
        # The search is recorded exactly when it is switched on and the viewer made the
        # search naming the product (and so printed): the cards and the manifest name it
        # beside the copy. Otherwise nothing is quoted.
        named = product_search(products()[combo[0]])
        searched = named is not None and named in audience.keywords
        on = combo[AXES.index("keyword")] == 1
        assert (creative.keyword is not None) == (on and searched)
        if creative.keyword is not None:
            assert creative.keyword == localize_keyword(named, creative.language)
            assert creative.keyword in creative.headline + creative.body
        else:
            assert "“" not in creative.headline + creative.body
        # A greeting switched on is always printed: by a greeting headline, or by a
        # greet_search body (by the greeting headline for a viewer without the search).
        greets = combo[AXES.index("greeting")] == 1 and audience.active_hours is not None
        if combo[AXES.index("greeting")] == 1:
            assert creative.greeting is not None
        assert (creative.greeting == audience.active_hours) or not greets


def test_compose_is_deterministic_and_follows_the_user(rng, random_valid):
    audience = _audiences(rng, 1)[0]
    combo = random_valid(component_axes(), 1, rng)[0]
    assert compose(combo, audience) == compose(combo, audience)
    assert compose(combo, audience).creative_id == compose(combo, audience).creative_id


def test_a_tighter_placement_or_banned_claim_removes_levels():
    from dataclasses import replace

    from creative.brand import DEFAULT_KIT

    axes = component_axes()
    # Banning a word of a call to action removes that call to action for its tone.
    kit = replace(DEFAULT_KIT, banned_claims=(*DEFAULT_KIT.banned_claims, "Let's go"))
    tight = component_axes(kit=kit)
    assert (~tight.pair_mask).sum() > (~axes.pair_mask).sum()


@pytest.mark.parametrize(
    ("combo", "match"),
    [((0,) * 9, "entries"), ((99, 0, 0, 0, 0, 0, 0, 0, 0, 0), "product")],
)
def test_bad_combos_are_refused(combo, match, rng):
    with pytest.raises(ValueError, match=match):
        compose(combo, _audiences(rng, 1)[0])


@pytest.mark.parametrize(
    ("searches", "printed"),
    [
        (("cat tree", "dog treats"), "dog treats"),  # the viewer's search naming the product
        (("cat tree",), None),  # a search of the category naming another product: none
        (("yoga mat",), None),  # none of the category: none (never a search they did not make)
        ((), None),
    ],
)
def test_the_printed_search_is_the_viewers_search_naming_the_product(searches, printed):
    treats = [p.name for p in products()].index("Salmon Dog Treats")
    user = Audience(
        kind="user", audience_id="u", name="u", top_interests=("pets",), keywords=searches,
        active_hours="evening",
    )  # fmt: skip
    c = compose((treats, 0, 3, 2, 0, 0, 0, 1, 1, 0), user)  # keyword headline, keyword on
    shown = [k for k in INTEREST_KEYWORDS["pets"] if f"“{k}”" in c.headline + c.body]
    assert shown == ([printed] if printed else []), c.headline
    assert c.keyword == printed
    if printed is None:
        # The no-keyword wording: the copy of the plain headline style.
        plain = compose((treats, 0, 3, 0, 0, 0, 0, 1, 0, 0), user)
        assert (c.headline, c.body) == (plain.headline, plain.body)


def test_a_greeting_the_copy_does_not_print_is_not_recorded():
    # Greeting on beside a plain headline is invalid (the space forbids it); composed
    # anyway, the creative must not claim a greeting its copy lacks.
    axes = component_axes()
    plain, greeting_on = _flat(axes, "headline", 0), _flat(axes, "greeting", 1)
    assert not axes.pair_mask[plain, greeting_on]
    user = Audience(
        kind="user", audience_id="u", name="u", top_interests=("pets",), keywords=(),
        active_hours="evening",
    )  # fmt: skip
    assert compose((24, 0, 3, 0, 0, 0, 0, 1, 0, 0), user).greeting is None
    assert compose((24, 0, 3, 1, 0, 0, 0, 1, 0, 0), user).greeting == "evening"


@pytest.mark.parametrize("language", [0, 1])
def test_greet_search_prints_both_or_greets_without_a_search(language):
    # Good evening, a plain headline, and the viewer's own search in the body; a viewer
    # without that search is greeted by the greeting headline (no search is invented).
    from creative.components import served_copy_components

    tree = [p.name for p in products()].index("Cat Tree Tower")
    combo = (tree, 0, 0, HEADLINE_STYLES.index("greet_search"), 0, 0, 0, 1, 1, language)

    def user(searches):
        return Audience(
            kind="user", audience_id="u", name="u", top_interests=("pets",),
            keywords=searches, active_hours="evening", language=LANGUAGES[language],
        )  # fmt: skip

    both = compose(combo, user(("cat tree",)))
    assert both.guardrail.passed
    assert both.greeting == "evening"
    assert both.keyword == localize_keyword("cat tree", LANGUAGES[language])
    assert both.keyword in both.body and both.keyword not in both.headline
    assert served_copy_components(both)[0] == HEADLINE_STYLES.index("greet_search")
    alone = compose(combo, user(("yoga mat",)))
    assert alone.greeting == "evening" and alone.keyword is None
    assert served_copy_components(alone)[0] == HEADLINE_STYLES.index("greeting")
