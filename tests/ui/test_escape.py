"""``ui.fmt.escape_markdown``: user text renders literally in Streamlit's Markdown.

Streamlit (1.67) renders Markdown with remark (CommonMark + GFM, directives, maths) and then
rewrites the parsed text nodes: GFM autolink literals, ``:material_...:``, ``:streamlit:``
and emoji shortcodes, arrows. Escapes are resolved before those rewrites, so the checks below
look at both what the parser reads (the escaped source) and what the rewrites see (the text
with escapes resolved). The patterns are the frontend's own, read from its bundle
(``StreamlitMarkdown*.js``); the browser test checks the real thing.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui.fmt import WORD_JOINER, escape_markdown

ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
#: What Streamlit's text-node rewrites match (autolink literals, shortcodes, arrows).
TEXT_REWRITES = {
    "autolink http(s) / www": re.compile(r"(https?://|www(?=\.))", re.IGNORECASE),
    "autolink e-mail": re.compile(r"[-.\w+]@[-\w]"),
    "emoji / material / streamlit shortcode": re.compile(r":[\w+-][\w_+-]*:"),
    "arrow": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}
PAYLOADS = [
    "![x](http://127.0.0.1:8765/a)",
    "[y](https://127.0.0.1:8765/b)",
    "<img src=http://127.0.0.1:8765/c>",
    "<http://127.0.0.1:8765/d>",
    "[z][r]\n\n[r]: http://127.0.0.1:8765/e",
    "see www.example.com or a@b.example.com",
    "http://127.0.0.1:8765/f",
    ":red[red] :material/home: :streamlit: :smile: $x^2$ $$y$$",
    "# heading\n- item\n> quote\n    code\n1. one\n---\n| a | b |",
    "**bold** _it_ ~~del~~ `code` &amp; &#60;b&#62; \\[ a -> b <= c",
]


def text_node(escaped: str) -> str:
    """The text a Markdown parser keeps: escapes resolved, word joiners still there."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped)


def shown(escaped: str) -> str:
    """What a reader sees."""
    return text_node(escaped).replace(WORD_JOINER, "")


def unescaped_punctuation(escaped: str) -> list[str]:
    """ASCII punctuation the parser would read as syntax (not preceded by a backslash)."""
    out, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\" and i + 1 < len(escaped) and escaped[i + 1] in ASCII_PUNCTUATION:
            i += 2
            continue
        if escaped[i] in ASCII_PUNCTUATION:
            out.append(escaped[i])
        i += 1
    return out


def one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", text).strip()


def check(text: str) -> str:
    escaped = escape_markdown(text)
    assert unescaped_punctuation(escaped) == [], escaped
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", escaped), "a line break or control"
    assert escaped == escaped.strip(), "leading spaces could start an indented code block"
    node = text_node(escaped)
    for name, pattern in TEXT_REWRITES.items():
        assert not pattern.search(node), (name, node)
    # The frontend turns ":material/" into ":material_" in the source before parsing.
    assert ":material/" not in escaped
    assert shown(escaped) == one_line(text).replace(WORD_JOINER, "")
    return escaped


@pytest.mark.parametrize("text", PAYLOADS)
def test_payloads_render_literally(text):
    check(text)


def test_an_image_payload_in_detail():
    escaped = escape_markdown("![x](http://127.0.0.1:8765/a)")
    assert escaped == (
        r"\!\[x\]\(http\:" + WORD_JOINER + r"\/\/127\.0\.0\.1\:" + WORD_JOINER + r"8765\/a\)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words 123", "plain words 123"),
        ("Korean 한국어 é", "Korean 한국어 é"),
        ("  two\nlines\r\n ", "two lines"),
        ("a\\b", "a\\\\b"),
        ("www.x.org", "www" + WORD_JOINER + r"\.x\.org"),
        ("a->b", "a\\-" + WORD_JOINER + "\\>b"),
        (3.5, "3\\.5"),
        (ValueError("bad [x]"), "bad \\[x\\]"),
    ],
)
def test_exact_output(text, expected):
    assert escape_markdown(text) == expected


def test_the_structural_check_catches_an_unescaped_link():
    # The checker itself must fail on raw Markdown, or the property below proves nothing.
    assert unescaped_punctuation("![x](http://e.co)") == list("![](://.)")
    assert unescaped_punctuation(r"\!\[x\]") == []
    assert unescaped_punctuation("\\\\[") == ["["]  # an escaped backslash, then a raw bracket
    # Backslashes alone do not stop the rewrites on parsed text: hence the word joiners.
    assert TEXT_REWRITES["autolink http(s) / www"].search(text_node(r"http\:\/\/e\.co"))
    assert TEXT_REWRITES["arrow"].search(text_node(r"a \-\> b"))


#: Characters and fragments that mean something to Markdown or to Streamlit's rewrites.
TOKENS = [
    *"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    " ", "\n", "\r", "\t", "\x00", "\u2028", "\u2060", "a", "1", "é", "한",
    "http", "https", "://", "www.", "www", "@x.co", "material/", "streamlit", "img", "src=",
    "![", "](", "->", "<-", "--", ">=", "<=", "~=", "$$", ":red[",
]  # fmt: skip


@given(
    st.one_of(
        st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
        st.text(max_size=60),
    )
)
def test_escaped_text_is_never_markup_and_shows_the_text(text):
    check(text)
