"""The copy at the smallest sizes: every word drawn whole, a body ended at a sentence or left
out, never text cut mid-word (200x200 drew "Good evening! Into “cat tree”? This…")."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from creative.audience import Audience
from creative.brand import DEFAULT_KIT
from creative.catalogue import CATALOGUE, GREETINGS, INTEREST_LABELS, OFFER_LABELS
from creative.copyfit import fit_body, fit_headline, merged_box, sentences, within_limits
from creative.fonts import displayable
from creative.generate import generate_for_user, generate_generic
from creative.layouts import REGION_NAMES, Box, layout_regions
from creative.limits import MIN_TEXT_PX
from creative.render import plan_creative
from creative.templates import default_templates
from creative.textfit import fit_text
from creative.vocabulary import INTEREST_KEYWORDS, LANGUAGES, LAYOUTS, OFFERS, TONES

#: The smallest sizes allowed, in each shape, and the sizes just above where bodies still
#: had to be shortened.
SMALL = [(200, 200), (200, 260), (260, 200), (200, 400), (400, 200), (250, 250), (260, 260),
         (200, 1600), (1600, 200)]  # fmt: skip


def _longest_copy():
    # Every headline x body pair of every language x tone x offer, filled with the longest
    # values a slot takes (the longest product name, keyword, greeting, offer; facts as
    # wide as their formats allow), with the tone's longest call to action.
    base = generate_generic(1, np.random.default_rng(0)).accepted[0]
    templates = default_templates()
    out = []
    for lang in LANGUAGES:
        values = {
            "product": max(
                (p.display_name(lang) for ps in CATALOGUE.values() for p in ps), key=len
            ),
            "interest": max(INTEREST_LABELS[lang].values(), key=len),
            "keyword": max((k for ks in INTEREST_KEYWORDS.values() for k in ks), key=len),
            "greeting": max(GREETINGS[lang].values(), key=len),
            "rating": "4.85/10",
            "customers": "120,000",
        }
        for tone in TONES:
            for offer in OFFERS:
                filled = {**values, "offer": OFFER_LABELS[lang][offer]}
                available = {k for k, v in filled.items() if v}
                ctas = templates.options(lang, tone, "cta", available)
                cta = max((t.fill(filled) for t in ctas), key=len)
                for head in templates.options(lang, tone, "headline", available):
                    for body in templates.options(lang, tone, "body", available):
                        out.append(
                            dataclasses.replace(
                                base,
                                language=lang,
                                tone=tone,
                                offer=offer,
                                product=values["product"],
                                headline=head.fill(filled),
                                body=body.fill(filled),
                                cta=cta,
                                disclosure=DEFAULT_KIT.disclosure_label(lang),
                            )
                        )
    return out


LONGEST = _longest_copy()


def _words(text: str) -> list[str]:
    return displayable(text).split()


@pytest.mark.parametrize("size", SMALL, ids=str)
def test_the_longest_copy_is_drawn_whole_at_the_smallest_sizes(size):
    shortened = refused = 0
    for c in LONGEST:
        for layout in LAYOUTS:
            try:
                plan = plan_creative(dataclasses.replace(c, layout=layout), size)
            except ValueError as exc:
                # Only the floor of the texts that never reflow refuses one: the badge's
                # offer or price in the smallest pills, and the longest call to action
                # ("Find out more", two lines of the split layout's button). The copy
                # shrinks, takes the body's room or ends at a sentence instead. The size the
                # refusal names shows everything.
                refused += 1
                found = re.search(
                    r"ad: (the badge's offer or price|the call to action) cannot .* "
                    r"use at least (\d+)x(\d+)\.$",
                    str(exc),
                )
                assert found, exc
                if found[1] == "the call to action":
                    assert layout == "split" and c.cta == "Find out more", (layout, c.cta)
                hint = (int(found[2]), int(found[3]))
                shown = plan_creative(dataclasses.replace(c, layout=layout), hint).texts
                assert all(f.size >= MIN_TEXT_PX and not f.truncated for f in shown.values())
                continue
            assert set(plan.regions) - {"panel"} == set(REGION_NAMES)
            for role, fitted in plan.texts.items():
                # Nothing cut, nothing outside its box, every line inside the canvas.
                assert not fitted.truncated, (role, layout, c.language, fitted.lines)
                assert all(fitted.box.contains(b) for b in fitted.bboxes), (role, layout)
                assert plan.regions[role].contains(fitted.box), (role, layout)
            for role in ("headline", "cta", "brand", "disclosure"):
                # Every word as written: none broken across lines, none left out.
                drawn = " ".join(plan.texts[role].lines).split()
                assert drawn == _words(getattr(c, role)), (role, layout, size, drawn)
            assert plan.texts["headline"].size >= MIN_TEXT_PX
            body = plan.texts.get("body")
            drawn = " ".join(body.lines) if body is not None else ""
            assert body is None or body.size >= MIN_TEXT_PX
            # The body drawn and the body left out make the body: whole sentences, in order.
            left = plan.left_out.get("body", "")
            assert " ".join(f"{drawn} {left}".split()) == " ".join(_words(c.body))
            if left:
                shortened += 1
                assert drawn == "" or drawn.rstrip("”’\"')").endswith((".", "!", "?")), drawn
                assert left in sentences(c.body) or sentences(left)[0] in sentences(c.body)
    # The grid reaches sizes where the fallbacks run (the test is not vacuous) at 200x200.
    if size == (200, 200):
        assert shortened > 0
    # Refusals only where a side is under 250 px (and not the 1:8 wide strip, whose badge
    # is long): 639 of the 1,728 plans at 200x200, 171 at 200x260, 513 at 260x200, 81 at
    # 200x400 and 200x1600, every minimal ad at 200x200 and 260x200 among them.
    if min(size) >= 250 or size in ((400, 200), (1600, 200)):
        assert refused == 0, refused


def test_the_200_px_body_ends_at_a_sentence_not_mid_word():
    # The reported ad: a keyword body at 200x200 was drawn "Good evening! Into “cat tree”?
    # This…"; now it ends after a whole sentence and the plan says what it left out.
    user = Audience(
        kind="user", audience_id="u", name="u", top_interests=("pets",),
        keywords=("cat tree",), active_hours="evening", language="en",
    )  # fmt: skip
    c = generate_for_user(user, np.random.default_rng(1), tone="playful", offer="discount_30")
    body = "Good evening! Into “cat tree”? This one's for you."
    c = dataclasses.replace(c, layout="hero", body=body)
    plan = plan_creative(c, (200, 200))
    assert plan.texts["body"].lines == ("Good evening! Into “cat tree”?",)
    assert plan.left_out == {"body": "This one's for you."}
    # At a placement the same ad is drawn whole and leaves nothing out.
    feed = plan_creative(c, "feed")
    assert " ".join(feed.texts["body"].lines) == body and feed.left_out == {}


def test_sentences_split_after_end_punctuation_and_closing_quotes():
    assert sentences("Rated 4.8/5. Costs $41.30 now!") == ("Rated 4.8/5.", "Costs $41.30 now!")
    assert sentences("Into “cat tree”? Yes.") == ("Into “cat tree”?", "Yes.")
    assert sentences("No end mark") == ("No end mark",)
    assert sentences("  A.   B!\nC?  ") == ("A.", "B!", "C?")


def test_a_body_with_no_sentence_that_fits_is_left_out_not_cut():
    box = Box(0, 0, 60, 16)
    fitted, left = fit_body("Thoughtfully designed. Yours to discover.", box, max_size=10)
    assert fitted is None and left == "Thoughtfully designed. Yours to discover."
    fitted, left = fit_body("Hi. Thoughtfully designed for you.", box, max_size=10)
    assert fitted.lines == ("Hi.",) and left == "Thoughtfully designed for you."
    assert fitted.size >= MIN_TEXT_PX


def test_a_body_that_fits_only_below_the_floor_is_left_out():
    # A box 14 px deep holds "Hi." only at 9 px (fit_text goes below its smallest size in a
    # box too shallow for it), which was drawn until 2026-12-05: below the 10 px floor.
    fitted, left = fit_body("Hi. Thoughtfully designed for you.", Box(0, 0, 60, 14), max_size=10)
    assert fitted is None and left == "Hi. Thoughtfully designed for you."


def test_a_headline_that_does_not_fit_shrinks_then_takes_the_body_s_room():
    regions = layout_regions("split", 200, 200)
    head, body = regions["headline"], regions["body"]
    text = "Good evening! Have you met Daily Sunscreen SPF 50?"
    fitted, takes_body = fit_headline(text, head, body, max_size=19, max_lines=3)
    # 10 px in three lines cut it; 10 px in more lines holds it in its own box.
    assert not takes_body and fitted.size == MIN_TEXT_PX and not fitted.truncated
    assert " ".join(fitted.lines) == text
    longer = text + " Made for long summer days outdoors."
    fitted, takes_body = fit_headline(longer, head, body, max_size=19, max_lines=3)
    assert takes_body and fitted.box == merged_box(head, body) and not fitted.truncated


def test_a_headline_taking_the_body_s_room_leaves_the_body_out_and_says_so():
    c = next(x for x in LONGEST if x.language == "en")
    # The premium tone's longest headline: deeper than its own box at the floor.
    headline = "The fashion upgrade you deserve: Waterproof Hiking Boots"
    assert within_limits("headline", headline)
    c = dataclasses.replace(c, layout="split", headline=headline)
    plan = plan_creative(c, (200, 200))
    assert "body" not in plan.texts and plan.left_out == {"body": " ".join(c.body.split())}
    assert plan.regions["body"].height == 0
    assert not plan.regions["body"].overlaps(plan.regions["headline"])
    assert " ".join(plan.texts["headline"].lines) == headline


def test_copy_within_the_length_limits_that_cannot_be_shown_refuses_the_size():
    c = next(x for x in LONGEST if x.language == "en")
    # One unbreakable word as wide as the length limit allows: no 200 px column holds it.
    headline = "W" * 40
    assert within_limits("headline", headline)
    with pytest.raises(
        ValueError, match=r"^200x200 is too small for this hero ad: the headline"
    ) as info:
        plan_creative(dataclasses.replace(c, layout="hero", headline=headline), (200, 200))
    w, h = map(int, re.search(r"use at least (\d+)x(\d+)\.$", str(info.value)).groups())
    plan = plan_creative(dataclasses.replace(c, layout="hero", headline=headline), (w, h))
    assert plan.texts["headline"].lines == (headline,)


def test_copy_over_the_length_limits_is_still_drawn_and_flagged():
    # Wider copy fails the length guardrail; the command line still draws such rejected
    # variants for review, so it is cut (and says so) rather than refusing the run.
    c = next(x for x in LONGEST if x.language == "en")
    headline = "word " * 120
    assert not within_limits("headline", headline)
    plan = plan_creative(dataclasses.replace(c, layout="hero", headline=headline), (200, 200))
    assert plan.texts["headline"].truncated and plan.texts["headline"].lines[-1].endswith("…")


def test_shortening_a_body_of_many_sentences_takes_a_few_fits(monkeypatch):
    # User copy may hold thousands of sentences: the longest run that fits is bisected, not
    # tried one sentence count at a time.
    import creative.copyfit as copyfit

    calls = []

    def counting(text, box, **kwargs):
        calls.append(text)
        return fit_text(text, box, **kwargs)

    monkeypatch.setattr(copyfit, "fit_text", counting)
    body = "Hi there. " * 2_000
    fitted, left = copyfit.fit_body(body, Box(0, 0, 180, 30), max_size=10)
    assert fitted is not None and left
    assert " ".join(f"{' '.join(fitted.lines)} {left}".split()) == " ".join(body.split())
    assert len(calls) <= 2 + 11  # the whole body, then log2(2,000) bisection steps


def _drawn(plan) -> str:
    # The headline, body and call-to-action lines the renderer reports drawing.
    roles = [r for r in ("headline", "body", "cta") if r in plan.texts]
    return " ".join(" ".join(ln for r in roles for ln in plan.texts[r].lines).split())


def _personal_creatives():
    # User ads for every search of every category, in both languages, evening hours: the
    # bundled templates that greet and quote, in every layout.
    out = []
    for lang in LANGUAGES:
        for category, keywords in INTEREST_KEYWORDS.items():
            for k in keywords[:2]:
                user = Audience(
                    kind="user", audience_id="u", name="u", top_interests=(category,),
                    keywords=(k,), active_hours="evening", language=lang,
                )  # fmt: skip
                for seed in range(2):
                    c = generate_for_user(user, np.random.default_rng(seed))
                    out += [dataclasses.replace(c, layout=lay) for lay in LAYOUTS]
    return out


@pytest.mark.parametrize(
    "size", [(200, 200), (220, 220), (200, 260), (260, 200), "preview", "feed", "story", "link"]
)
def test_the_plan_lists_the_greeting_and_search_exactly_when_the_drawn_lines_print_them(size):
    from creative.manifest import manifest_row

    dropped = 0
    for c in _personal_creatives():
        try:
            plan = plan_creative(c, size)
        except ValueError:
            continue  # refused, with a size that works: no image, no record
        drawn, left = _drawn(plan), plan.left_out.get("body", "")
        # Listed exactly when the sentence carrying it is drawn (a bundled ad prints each
        # once: a headline and its body share no slot), and then it is in the drawn lines.
        greeting = c.greeting and GREETINGS[c.language][c.greeting]
        assert plan.greeting == (c.greeting if greeting and greeting not in left else None)
        assert plan.keyword == (c.keyword if c.keyword and c.keyword not in left else None)
        assert plan.greeting is None or greeting in drawn
        assert plan.keyword is None or c.keyword in drawn
        # The body listed is the body drawn, sentence for sentence.
        body = plan.texts.get("body")
        assert plan.body == (" ".join(" ".join(body.lines).split()) if body else "")
        row = manifest_row(c, plan, segment="s", size=str(size), file="f.png")
        assert (row["keyword"], row["greeting"], row["body"]) == (
            plan.keyword or "",
            plan.greeting or "",
            plan.body,
        )
        dropped += c.keyword is not None and plan.keyword is None
    # Not vacuous: at 200x200 bodies lose the sentence that quotes the search; at a
    # placement none does.
    assert (dropped > 0) == isinstance(size, tuple), dropped


def test_a_search_in_a_left_out_sentence_is_not_listed_as_printed():
    # The reported record: at 200x200 this body is drawn as "Good evening." alone, yet the
    # manifest listed "sneakers" as the search the ad quotes.
    user = Audience(
        kind="user", audience_id="u", name="u", top_interests=("fashion",),
        keywords=("sneakers",), active_hours="evening", language="en",
    )  # fmt: skip
    c = generate_for_user(user, np.random.default_rng(0))
    body = "Good evening. If “sneakers” is your world, this is for you."
    c = dataclasses.replace(
        c, layout="hero", body=body, headline="Canvas Sneakers: elevated.", greeting="evening"
    )
    assert c.keyword == "sneakers"
    plan = plan_creative(c, (200, 200))
    assert plan.texts["body"].lines == ("Good evening.",)
    assert (plan.body, plan.greeting, plan.keyword) == ("Good evening.", "evening", None)
    feed = plan_creative(c, "feed")
    assert (feed.body, feed.greeting, feed.keyword) == (body, "evening", "sneakers")
