"""The button does not repeat the copy above it (a marketer's audit: "Why wait? Take a look"
above [Take a look], "Thoughtfully designed. Yours to discover." above [Discover], 꼼꼼히
살펴보고 결정하세요. above [살펴보기])."""

from __future__ import annotations

import numpy as np
import pytest

from creative import Audience
from creative.components import HEADLINE_STYLES, compose, products
from creative.generate import generate_for_user
from creative.templates import (
    CopyTemplate,
    cta_fits,
    cta_key_words,
    default_templates,
    fitting_ctas,
    load_templates,
)
from creative.vocabulary import LANGUAGES, OFFERS, TONES


def line(text: str, language: str = "en", part: str = "body", named: str | None = None):
    return CopyTemplate(language=language, tone="urgent", part=part, text=text, named=named)


def cta(text: str, language: str = "en") -> CopyTemplate:
    return CopyTemplate(language=language, tone="urgent", part="cta", text=text)


@pytest.mark.parametrize(
    ("words", "language", "keys"),
    [
        ("Take a look", "en", {"look"}),
        ("See details", "en", {"se", "detail"}),
        ("Let's go", "en", {"go"}),
        ("Get started", "en", {"start"}),
        ("Check it out", "en", {"check"}),
        ("Learn more", "en", {"learn"}),
        ("살펴보기", "ko", {"살펴보"}),
        ("바로 시작하기", "ko", {"시작"}),
        ("자세히 보기", "ko", {"자세히", "보"}),
        ("지금 보기", "ko", {"보"}),  # compared as a verb of its own only (below)
    ],
)
def test_cta_key_words(words, language, keys):
    assert cta_key_words(words, language) == keys


@pytest.mark.parametrize(
    ("text", "button", "language"),
    [
        # The audit's findings.
        ("Why wait? Take a look", "Take a look", "en"),
        ("Thoughtfully designed. Yours to discover.", "Discover", "en"),
        ("{greeting}! Into “{keyword}”? Take a closer look.", "Take a look", "en"),
        ("Into “{keyword}”? Compare the {product}", "Compare", "en"),
        ("꼼꼼히 살펴보고 결정하세요.", "살펴보기", "ko"),
        # Other endings of the same stem.
        ("It looks great on you", "Take a look", "en"),
        ("Compared side by side", "Compare", "en"),
        ("See what it offers", "See details", "en"),
        ("Every detail, clearly laid out.", "See details", "en"),
        ("가볍게 시작해 보세요.", "바로 시작하기", "ko"),
        ("{keyword} 좋아하세요? 자세히 살펴보세요.", "자세히 보기", "ko"),
        # A one-syllable stem as a verb of its own (until 2026-12-05 never compared: the
        # bundled "{product} 한눈에 보기" stood above [상세 보기]).
        ("{product} 한눈에 보기", "상세 보기", "ko"),
        ("직접 보세요.", "지금 보기", "ko"),
        ("매장에서 보러 오세요.", "바로 보기", "ko"),
        ("한번 봐요!", "지금 보기", "ko"),
        ("보면 알아요.", "지금 보기", "ko"),
        ("장바구니에 담으세요.", "담기", "ko"),
    ],
)
def test_a_line_that_repeats_its_button_does_not_fit(text, button, language):
    assert not cta_fits(cta(button, language), line(text, language))
    # The same line under a button of another action fits (so the check can pass).
    other = "Learn more" if language == "en" else "구경하기"
    assert cta_fits(cta(other, language), line(text, language))


@pytest.mark.parametrize(
    ("text", "button", "language"),
    [
        ("All it takes is a moment.", "Take a look", "en"),  # "take" is a light verb
        ("One click away. Go for it.", "Get started", "en"),
        ("Ready when you are.", "See it now", "en"),  # "now" and "it" carry no action
        ("Seeds of change", "Find out more", "en"),
        ("가볍게 시작해 보세요.", "지금 보기", "ko"),
        ("결정 전에 알아야 할 모든 것.", "더 알아보기", "ko"),  # 알아야 is not 알아보
        # 보 of [지금 보기] inside another word, or the auxiliary "try" after -아/-어.
        ("보습 크림, 보온병까지.", "지금 보기", "ko"),
        ("{keyword} 좋아하세요? {product} 만나보세요!", "바로 보기", "ko"),
        ("입어 보면 알아요.", "지금 보기", "ko"),
        # The bundled line that replaced "{product} 한눈에 보기".
        ("{product}, 한눈에 만나 보세요", "상세 보기", "ko"),
        ("한번 써 보세요.", "자세히 보기", "ko"),
        ("보고서 대신 한 장으로.", "지금 보기", "ko"),  # 보고 ends the noun "report" too
        ("보다 가볍게.", "지금 보기", "ko"),  # 보다 is "than"
    ],
)
def test_near_misses_fit(text, button, language):
    assert cta_fits(cta(button, language), line(text, language))


def test_a_named_variant_counts():
    # "Why wait? {product}" prints "Why wait? Take a look" when the search names the product.
    head = line("Why wait? {product}", part="headline", named="Why wait? Take a look")
    assert not cta_fits(cta("Take a look"), head)
    assert fitting_ctas((head,), (cta("Take a look"), cta("Get started"))) == (cta("Get started"),)
    # None fits: all of them, as fitting_bodies does (a file of one's own still makes ads).
    assert fitting_ctas((head,), (cta("Take a look"),)) == (cta("Take a look"),)


def test_no_bundled_line_repeats_a_call_to_action_of_its_tone():
    # Every headline (and its named line) and body against every call to action of its tone
    # and language: compose prints any of them together, the generator any fitting pair.
    templates = default_templates()
    checked, repeats = 0, []
    for language in LANGUAGES:
        for tone in TONES:
            buttons = templates.options(language, tone, "cta", frozenset())
            lines = [
                t
                for t in templates.templates
                if (t.language, t.tone) == (language, tone) and t.part != "cta"
            ]
            for t in lines:
                for button in buttons:
                    checked += 1
                    if not cta_fits(button, t):
                        repeats.append((t.text, t.named, button.text))
    assert checked > 100
    assert repeats == []


@pytest.fixture
def viewer():
    return Audience(
        kind="user", audience_id="u", name="u", top_interests=("pets",),
        keywords=("cat tree",), active_hours="evening",
    )  # fmt: skip


def test_the_generator_draws_a_button_the_copy_does_not_repeat(tmp_path, viewer):
    path = tmp_path / "t.toml"
    path.write_text(
        "[en.urgent]\n"
        'headline = ["Why wait? {product}"]\n'
        'body = ["Take a closer look."]\n'
        'cta = ["Take a look", "Get started", "Look inside"]\n',
        encoding="utf-8",
    )
    templates = load_templates(path)
    ctas = {
        generate_for_user(viewer, np.random.default_rng(seed), tone="urgent",
                          templates=templates).cta
        for seed in range(30)
    }  # fmt: skip
    assert ctas == {"Get started"}


def test_a_file_where_every_button_repeats_still_makes_ads(tmp_path, viewer):
    path = tmp_path / "t.toml"
    path.write_text(
        '[en.urgent]\nheadline = ["Why wait? {product}"]\nbody = ["Take a closer look."]\n'
        'cta = ["Take a look"]\n',
        encoding="utf-8",
    )
    c = generate_for_user(
        viewer, np.random.default_rng(0), tone="urgent", templates=load_templates(path)
    )
    assert (c.body, c.cta) == ("Take a closer look.", "Take a look")


def test_compose_chooses_a_headline_its_button_does_not_repeat(tmp_path, viewer):
    # The call to action is a level of the composition; the headline gives way, among those
    # with the same slots, so what the ad prints of the viewer stays the same.
    path = tmp_path / "t.toml"
    path.write_text(
        "[en.informative]\n"
        'headline = ["Compare the {product}", "{product}: the facts"]\n'
        'body = ["Compare features side by side.", "All in one place."]\n'
        'cta = ["Compare", "Learn more"]\n',
        encoding="utf-8",
    )
    templates = load_templates(path)
    p = next(i for i, x in enumerate(products()) if x.name == "Cat Tree Tower")
    base = [p, TONES.index("informative"), OFFERS.index("none"), HEADLINE_STYLES.index("plain")]
    tail = [0, 0, 0, 0, LANGUAGES.index("en")]
    first = compose((*base, 0, *tail), viewer, templates=templates)
    assert (first.headline, first.body, first.cta) == (
        "Cat Tree Tower: the facts",
        "All in one place.",
        "Compare",
    )
    # Under a button that repeats nothing, the first headline and body, as before.
    second = compose((*base, 1, *tail), viewer, templates=templates)
    assert (second.headline, second.body, second.cta) == (
        "Compare the Cat Tree Tower",
        "Compare features side by side.",
        "Learn more",
    )
