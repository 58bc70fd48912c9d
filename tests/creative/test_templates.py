import pytest

from creative.templates import (
    PARTS,
    SLOTS,
    CopyTemplate,
    default_templates,
    load_templates,
    parse_template,
)
from creative.vocabulary import LANGUAGES, TONES


def make(text):
    return CopyTemplate(language="en", tone="playful", part="headline", text=text, index=3)


def test_default_templates_cover_every_language_tone_part():
    ts = default_templates()
    for lang in LANGUAGES:
        for tone in TONES:
            for part in PARTS:
                # Generic creatives have only product and interest: each list must serve them.
                assert ts.options(lang, tone, part, {"product", "interest"}), (lang, tone, part)


def test_fill_substitutes_only_named_slots():
    t = make("{greeting}! Meet {product} for {interest}")
    out = t.fill({"greeting": "Hi", "product": "Mat", "interest": "yoga", "extra": "x"})
    assert out == "Hi! Meet Mat for yoga"
    assert t.slots == {"greeting", "product", "interest"}


@pytest.mark.parametrize(
    "text",
    [
        "{product.__class__}",
        "{product.__class__.__mro__}",
        "{0}",
        "{}",
        "{product[0]}",
        "{product!r}",
        "{product:>10}",
        "{PRODUCT}",
        "{price}",
        "{ product }",
    ],
)
def test_injection_attempts_are_rejected_with_the_template_name(text):
    with pytest.raises(ValueError, match=r"template en\.playful\.headline\[3\]: unknown slot"):
        make(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [("Deal { product", "unclosed"), ("Deal } now", "unmatched"), ("{product", "unclosed")],
)
def test_unbalanced_braces_are_rejected(text, match):
    with pytest.raises(ValueError, match=match):
        make(text)


def test_double_braces_are_literal():
    assert make("{{product}} is {product}").fill({"product": "X"}) == "{product} is X"


@pytest.mark.parametrize(
    "value", ["{product}", "{0}", "{product.__class__}", "{{}}", "%s %(x)s", "${HOME}"]
)
def test_user_text_is_inserted_literally(value):
    # A keyword that looks like a template must never be interpreted.
    assert make("Searching {keyword}?").fill({"keyword": value}) == f"Searching {value}?"


def test_missing_slot_value_names_the_template():
    with pytest.raises(ValueError, match=r"en\.playful\.headline\[3\]: no value for slot.*keyword"):
        make("About {keyword}").fill({"product": "x"})


def test_parse_template_parts():
    assert parse_template("a {offer} b", "t") == ((False, "a "), (True, "offer"), (False, " b"))
    assert set(SLOTS) == {
        "product",
        "interest",
        "keyword",
        "offer",
        "greeting",
        "rating",
        "customers",
    }


def test_user_file_overrides_only_its_lists(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[en.playful]\nheadline = ["Hey {product}!", "{{literal}} {interest}"]\n')
    ts = load_templates(path)
    heads = ts.options("en", "playful", "headline", SLOTS)
    assert [t.text for t in heads] == ["Hey {product}!", "{{literal}} {interest}"]
    # Untouched lists keep the defaults.
    assert ts.options("en", "playful", "body", SLOTS) == default_templates().options(
        "en", "playful", "body", SLOTS
    )
    assert ts.source == str(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[en.playful\nheadline = [", "malformed TOML"),
        ('[en.playful]\nheadline = ["{product.__class__}"]\n', r"en\.playful\.headline\[0\]"),
        ('[en.playful]\nheadline = ["{0}"]\n', "unknown slot"),
        ('[en.playful]\nheadline = ["Hi {nme}"]\n', r"unknown slot \{nme\}"),
        ('[fr.playful]\nheadline = ["x"]\n', "unknown language"),
        ('[en.angry]\nheadline = ["x"]\n', "unknown tone"),
        ('[en.playful]\ntitle = ["x"]\n', "unknown key"),
        ("[en.playful]\nheadline = []\n", "non-empty array"),
        ("[en.playful]\nheadline = [1, 2]\n", "non-empty array"),
        ('[en.playful]\nheadline = "x"\n', "non-empty array"),
        ("", "defines no templates"),
    ],
)
def test_bad_user_files(tmp_path, content, match):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_templates(path)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_templates(tmp_path / "nope.toml")


def test_template_length_and_slot_limits_name_the_template():
    from creative.limits import LIMITS

    with pytest.raises(ValueError, match=r"headline\[3\]: `template` must be at most 300"):
        make("x" * (LIMITS.template + 1))
    with pytest.raises(ValueError, match=r"headline\[3\]: `template` must use at most 5 slots"):
        make("{product}" * (LIMITS.template_slots + 1))
    assert len(make("{product}" * LIMITS.template_slots).slots) == 1


def test_error_messages_do_not_echo_long_text():
    with pytest.raises(ValueError) as info:
        make("{" + "x" * 250)
    assert len(str(info.value)) < 200


def test_no_bundled_body_repeats_a_headline_of_its_tone():
    # Any headline can be printed above any body of its tone that fits it ("Why wait?
    # Canvas Sneakers" above "Why wait? Canvas Sneakers is one click away." read as a
    # stutter): no pair opens
    # with the same two words or shares three words in a row (slots aside).
    import re

    from creative.templates import default_templates, pair_fits

    def words(text: str) -> list[str]:
        return re.findall(r"[^\s{}:,.!?“”]+", re.sub(r"\{[^}]*\}", " | ", text).casefold())

    def runs(text: str) -> set[tuple[str, ...]]:
        w = words(text)
        return {tuple(w[i : i + 3]) for i in range(len(w) - 2) if "|" not in w[i : i + 3]}

    parts: dict[tuple[str, str, str], list] = {}
    for t in default_templates().templates:
        parts.setdefault((t.language, t.tone, t.part), []).append(t)
    # Only the pairs the generator writes: a headline and a body that complement each other.
    pairs = [
        (h.text, b.text)
        for (lang, tone, part), heads in parts.items()
        if part == "headline"
        for h in heads
        for b in parts[(lang, tone, "body")]
        if pair_fits(h, b)
    ]
    assert len(pairs) > 50
    stutters = [
        (h, b) for h, b in pairs if runs(h) & runs(b) or (words(h)[:2] == words(b)[:2] != ["|"])
    ]
    assert stutters == []
