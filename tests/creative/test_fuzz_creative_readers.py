"""Fuzzing the creative studio's readers (issue #17): audiences (CSV, TOML) and copy templates.

Whatever the bytes, a reader returns its records or raises ``ValueError`` with a
one-line message; ``python -m creative`` ends with exit code 0, or 2 and one
``error:`` line, and writes nothing on error.
"""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creative.__main__ import main as creative_main
from creative.audience_io import read_audiences
from creative.templates import load_templates

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Pieces of valid files mixed with hostile ones: huge and odd numbers, markup,
# control characters, nesting, byte-order marks, invalid UTF-8.
AUDIENCE_CELLS = st.sampled_from(
    [
        "gaming", "fashion;beauty", "en", "ko", "1e400", "inf", "nan", "-1", "0", "20",
        "![x](http://127.0.0.1:1/a)", "..", "generic", "a" * 300, "\u200b", "힣", "\ufeff",
        "evening", "lip tint", '"', "", "3.5", "99999999999999999999",
    ]
)  # fmt: skip
AUDIENCE_HEADERS = st.sampled_from(
    ["audience_id", "name", "top_interests", "language", "keywords", "size", "kind",
     "active_hours", "price_sensitivity", "mobile_share", "x"]
)  # fmt: skip


def _one_line_value_error(call):
    try:
        call()
    except ValueError as exc:
        message = str(exc)
        assert message and "\n" not in message and len(message) < 2_000
        return False
    return True


@FUZZ
@given(
    st.lists(AUDIENCE_HEADERS, min_size=1, max_size=6, unique=True),
    st.lists(st.lists(AUDIENCE_CELLS, min_size=1, max_size=6), max_size=4),
    st.booleans(),
)
def test_audience_csv_reader_accepts_or_refuses_in_one_line(header, rows, bom):
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aud.csv"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        _one_line_value_error(lambda: read_audiences(path))


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["aud.csv", "aud.toml", "tpl.toml"]))
def test_readers_survive_arbitrary_bytes(data, name):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        reader = load_templates if name.startswith("tpl") else read_audiences
        _one_line_value_error(lambda: reader(path))


TOML_PIECES = st.sampled_from(
    [
        "[en.playful]\n", 'headline = ["Hi {name}"]\n', 'body = ["{product} {keyword}"]\n',
        'cta = ["Go"]\n', "[ko.urgent]\n", 'headline = ["{{"]\n', 'headline = ["{nope}"]\n',
        'headline = ["{0.__class__}"]\n', "x = " + "[" * 60 + "]" * 60 + "\n",
        "n = 1e400\n", 'headline = "not a list"\n', "[[a]]\n", "= broken\n",
        'headline = ["' + "w " * 400 + '"]\n',
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(TOML_PIECES, max_size=8))
def test_template_reader_accepts_or_refuses_in_one_line(pieces):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tpl.toml"
        path.write_text("".join(pieces), encoding="utf-8")
        _one_line_value_error(lambda: load_templates(path))


@settings(max_examples=15, deadline=None)
@given(
    st.one_of(
        st.just(["shop", "Shoppers", "gaming", "en"]),  # a valid row: both outcomes occur
        st.lists(AUDIENCE_CELLS, min_size=4, max_size=4),
    ),
    st.sampled_from(["1", "0", "-3", "1e9", "x", "501"]),
)
def test_cli_exits_0_or_2_with_one_error_line_and_writes_nothing_on_error(cells, per_segment):
    import contextlib
    import io

    with tempfile.TemporaryDirectory() as tmp:
        aud = Path(tmp) / "aud.csv"
        aud.write_text("audience_id,name,top_interests,language\n" + ",".join(cells) + "\n")
        out = Path(tmp) / "out"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            argv = [
                "render",
                "--audiences",
                str(aud),
                "--per-segment",
                per_segment,
                "--out",
                str(out),
            ]
            try:
                code = creative_main([*argv, "--format", "jpeg", "--size", "preview"])
            except SystemExit as exc:  # argparse
                code = exc.code
        assert code in (0, 2)
        if code == 2:
            lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("error:"), err.getvalue()
            assert not out.exists()
