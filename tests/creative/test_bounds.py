"""Every creative reader bounds its input and fails with one short line; text fitting does
bounded work whatever the text (counted in measurements, not seconds: timing is bench/'s)."""

import dataclasses
import math
import re
from pathlib import Path

import pytest

import creative.textfit as textfit
from creative.__main__ import main
from creative.audience_io import read_audiences
from creative.layouts import Box
from creative.limits import LIMITS, check_length, finite_number
from creative.templates import load_templates

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"

# A message is "one line" and short: the reader names the file and the field, never
# echoes a 100,000-character value.
MAX_MESSAGE = 400


def assert_one_short_line(message: str) -> None:
    assert "\n" not in message, message
    assert len(message) <= MAX_MESSAGE, message[:200]


# --- the table ------------------------------------------------------------------------


def test_every_limit_is_a_positive_int_and_documented():
    text = DOCS.read_text(encoding="utf-8")
    assert "## Limits of creative inputs" in text
    for name, value in LIMITS.as_dict().items():
        assert isinstance(value, int) and value > 0, name
        # The docs name each limit and give its value (with or without thousands separators).
        assert f"`{name}`" in text, name
        assert f"{value:,}" in text or str(value) in text, (name, value)


def test_check_length_message_shape():
    with pytest.raises(ValueError) as info:
        check_length("keyword", "k" * 100_000, 200)
    assert str(info.value) == "`keyword` must be at most 200 characters; got 100000."


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "-1e400", math.inf, math.nan])
def test_finite_number_rejects_overflow_and_nan(value):
    with pytest.raises(ValueError, match="`size` must be a finite number"):
        finite_number(value, "size")


# --- templates TOML ---------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[en.playful]\nheadline = " + "[" * depth + '"x"' + "]" * depth + "\n"


TEMPLATE_FILES = [
    (
        '[en.playful]\nheadline = ["' + "x" * (LIMITS.template + 1) + '"]\n',
        rf"en\.playful\.headline\[0\]: `template` must be at most {LIMITS.template} characters; "
        rf"got {LIMITS.template + 1}\.",
    ),
    (
        '[en.playful]\nheadline = ["' + "w " * 100_000 + '"]\n',
        rf"`template` must be at most {LIMITS.template} characters; got 200000\.",
    ),
    (
        '[en.playful]\nheadline = ["' + "{product}" * (LIMITS.template_slots + 1) + '"]\n',
        rf"at most {LIMITS.template_slots} slots; got {LIMITS.template_slots + 1}",
    ),
    (
        "[en.playful]\nheadline = ["
        + ", ".join(['"{product}"'] * (LIMITS.templates_per_list + 1))
        + "]\n",
        rf"at most {LIMITS.templates_per_list} templates",
    ),
    (nested(5_000), "nested too deeply"),
    ("[en.playful]\nheadline = " + "9" * 5_000 + "\n", "malformed TOML.*4300 digits"),
    ('[en.playful]\nheadline = ["{' + "a" * 250 + '}"]\n', r"unknown slot \{a{39}…\}"),
    ("# " + "x" * LIMITS.file_bytes + "\n", "larger than"),
]


@pytest.mark.parametrize(("content", "match"), TEMPLATE_FILES, ids=range(len(TEMPLATE_FILES)))
def test_bad_template_files(tmp_path, content, match):
    path = tmp_path / "t.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        load_templates(path)
    assert_one_short_line(str(info.value))


def test_template_file_not_utf8(tmp_path):
    path = tmp_path / "t.toml"
    path.write_bytes(b'[en.playful]\nheadline = ["caf\xe9 {product}"]\n')
    with pytest.raises(ValueError, match="not UTF-8") as info:
        load_templates(path)
    assert_one_short_line(str(info.value))


def test_template_at_the_limits_is_accepted(tmp_path):
    text = ("{product} " * LIMITS.template_slots).ljust(LIMITS.template, "!")
    path = tmp_path / "t.toml"
    # Beside a line that fits: a headline or body list with no line that fits any placement
    # is refused (tests/creative/test_input_messages.py); the parser's bounds are the same
    # for every part.
    path.write_text(f'[en.playful]\nbody = ["{text}", "Fun."]\n', encoding="utf-8")
    widest, _ = load_templates(path).options("en", "playful", "body", {"product"})
    assert widest.text == text and len(widest.text) == LIMITS.template


def test_template_file_with_bom_is_accepted(tmp_path):
    path = tmp_path / "t.toml"
    path.write_bytes(b'\xef\xbb\xbf[en.playful]\nheadline = ["Hi {product}"]\n')
    assert load_templates(path).options("en", "playful", "headline", {"product"})


# --- audience CSV and TOML --------------------------------------------------------------

CSV_HEAD = "audience_id,top_interests,keywords,size,mobile_share\n"
LONG = "k" * 100_000

AUDIENCE_FILES = [
    # overflow and non-finite numbers
    (".csv", CSV_HEAD + "s1,food,,inf,\n", r"`size` must be a finite number; got 'inf'"),
    (".csv", CSV_HEAD + "s1,food,,1e400,\n", r"`size` must be a finite number; got '1e400'"),
    (".csv", CSV_HEAD + "s1,food,,nan,\n", r"`size` must be a finite number"),
    (".csv", CSV_HEAD + "s1,food,,,1e400\n", r"`mobile_share` must be a finite number"),
    (".csv", CSV_HEAD + "s1,food,,1e300,\n", r"`size` must be an int in \[1, 1,000,000,000\]"),
    (".csv", CSV_HEAD + f"s1,food,,{'9' * 5000},\n", r"`size` must be a finite number"),
    (".toml", '[[audience]]\naudience_id = "s"\ntop_interests = ["food"]\nsize = inf\n', "finite"),
    (".toml", '[[audience]]\naudience_id = "s"\ntop_interests = ["food"]\nsize = nan\n', "finite"),
    (
        ".toml",
        '[[audience]]\naudience_id = "s"\ntop_interests = ["food"]\nsize = 1e400\n',
        "finite",
    ),
    (
        ".toml",
        '[[audience]]\naudience_id = "s"\ntop_interests = ["food"]\nsize = 9223372036854775807\n',
        r"`size` must be an int in \[1, 1,000,000,000\]; got 9223372036854775807\.",
    ),
    (
        ".toml",
        '[[audience]]\naudience_id = "s"\ntop_interests = ["food"]\nmobile_share = -inf\n',
        "`mobile_share` must be a finite number",
    ),
    (
        ".toml",
        '[[audience]]\naudience_id = "s"\ntop_interests = ["food"]\nmobile_share = 1'
        + "0" * 400
        + "\n",
        "`mobile_share` must be a finite number",
    ),
    # deep nesting
    (
        ".toml",
        '[[audience]]\naudience_id = "s"\nkeywords = ' + "[" * 5000 + "]" * 5000 + "\n",
        "nested too deeply",
    ),
    (".toml", "x = " + "9" * 5_000 + "\n", "malformed TOML.*4300 digits"),
    # lengths and counts
    (
        ".csv",
        CSV_HEAD + f"s1,food,{LONG},,\n",
        r"`keyword` must be at most 100 characters; got 100000\.",
    ),
    (
        ".csv",
        CSV_HEAD + f"s1,food,{'|'.join(['k'] * (LIMITS.keywords + 1))},,\n",
        rf"`keywords` must have at most {LIMITS.keywords} items; got {LIMITS.keywords + 1}\.",
    ),
    (
        ".csv",
        CSV_HEAD + f"{'s' * (LIMITS.audience_id + 1)},food,,,\n",
        rf"`audience_id` must be at most {LIMITS.audience_id} characters",
    ),
    (
        ".csv",
        f"audience_id,name,top_interests\ns1,{LONG},food\n",
        rf"`name` must be at most {LIMITS.name} characters; got 100000\.",
    ),
    (".csv", f"audience_id,top_interests,{LONG}\ns1,food,x\n", r"unknown field\(s\) \['kkk"),
    (".csv", CSV_HEAD + f"s1,{LONG},,,\n", r"`top_interest` must be at most"),
    (
        ".csv",
        CSV_HEAD + "".join(f"s{i},food,,,\n" for i in range(LIMITS.audiences + 1)),
        rf"more than {LIMITS.audiences:,} audiences",
    ),
    (".csv", "# " + "x" * LIMITS.file_bytes + "\n", "larger than"),
    # ids that would clash with the output's own names, or are not names at all
    (".csv", CSV_HEAD + ".,food,,,\n", "`audience_id` must not be one of"),
    (".csv", CSV_HEAD + "..,food,,,\n", "`audience_id` must not be one of"),
    (".csv", CSV_HEAD + "generic,food,,,\n", "`audience_id` must not be one of"),
    (".csv", CSV_HEAD + "Generic,food,,,\n", "`audience_id` must not be one of"),
    (".csv", CSV_HEAD + "a\u200bb,food,,,\n", "must not contain control, format"),
    (".csv", CSV_HEAD + "a\tb,food,,,\n", "must not contain control, format"),
    (".toml", '[[audience]]\naudience_id = ["a"]\ntop_interests = ["food"]\n', "must be a str"),
    (".toml", '[[audience]]\naudience_id = "a"\nname = true\ntop_interests = ["food"]\n', "str"),
]


@pytest.mark.parametrize(
    ("suffix", "content", "match"), AUDIENCE_FILES, ids=range(len(AUDIENCE_FILES))
)
def test_bad_audience_files(tmp_path, suffix, content, match):
    path = tmp_path / f"a{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        read_audiences(path)
    assert_one_short_line(str(info.value))


# --- the command line -------------------------------------------------------------------

GOOD_CSV = "audience_id,top_interests\ns1,food\n"

CLI_CASES = [
    (["--per-segment", "100000000"], r"--per-segment: must be an int in \[1, 500\]; got 100000000"),
    (["--per-segment", str(LIMITS.per_segment + 1)], r"must be an int in \[1, 500\]"),
    (["--per-segment", "1e400"], r"must be an int in \[1, 500\]; got '1e400'"),
    (["--per-segment", "inf"], r"must be an int in \[1, 500\]; got 'inf'"),
    (["--per-segment", "9" * 5000], r"must be an int in \[1, 500\]; got '9{30,}…"),
    (["--seed", str(2**32)], r"--seed: must be an int in \[0, 4,294,967,295\]"),
    (["--seed", "nan"], r"--seed: must be an int"),
    (["--segments", "x" * 100_000], r"unknown segment\(s\) \['x{30,}…\]; known: \['s1'\]"),
]


def run_cli(tmp_path, csv_text, extra):
    path = tmp_path / "a.csv"
    path.write_text(csv_text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["render", "--audiences", str(path), "--out", str(out), *extra])
    return code, out


@pytest.mark.parametrize(("extra", "match"), CLI_CASES, ids=range(len(CLI_CASES)))
def test_cli_bad_flags_one_error_line_exit_2(tmp_path, capsys, extra, match):
    code, _ = run_cli(tmp_path, GOOD_CSV, extra)
    _, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err[:300]
    assert re.search(match, lines[0]), lines[0]
    assert_one_short_line(lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"], "nothing may be written"


def many_audiences(n: int) -> str:
    return "audience_id,top_interests\n" + "".join(f"s{i},food\n" for i in range(n))


BAD_RUNS = [
    # (audiences + 1 generic) * per_segment over the image limit, refused before any work.
    (
        many_audiences(LIMITS.images // LIMITS.per_segment),
        ["--per-segment", str(LIMITS.per_segment)],
        rf"would render {(LIMITS.images // LIMITS.per_segment + 1) * LIMITS.per_segment:,} "
        rf"images.*the limit is {LIMITS.images:,}",
    ),
    # Two ids that give one folder, also when only the case differs.
    ("audience_id,top_interests\na b,food\na_b,food\n", [], r"folder 'a_b'.*rename one"),
    ("audience_id,top_interests\nShop,food\nshop,food\n", [], r"folder 'shop'.*rename one"),
    ("audience_id,top_interests\nmanifest.csv,food\n", [], r"which the manifest already uses"),
    # Reader errors surface as one line too.
    # ...in plain text: the library's markdown backticks are dropped on a terminal.
    ("audience_id,top_interests,size\ns1,food,1e400\n", [], r"1: size must be a finite number"),
    ("audience_id,top_interests\n..,food\n", [], "must not be one of"),
]


@pytest.mark.parametrize(("csv_text", "extra", "match"), BAD_RUNS, ids=range(len(BAD_RUNS)))
def test_cli_bad_runs_write_nothing(tmp_path, capsys, csv_text, extra, match):
    code, _ = run_cli(tmp_path, csv_text, extra)
    _, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err[:300]
    assert re.search(match, lines[0]), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"], "nothing may be written"


def test_cli_accepts_a_bom_csv_and_ids_that_start_with_a_dot(tmp_path, capsys):
    # A spreadsheet's UTF-8 CSV starts with a BOM; ".hidden" gets a visible folder.
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffaudience_id,top_interests\n.hidden,food\n".encode())
    out = tmp_path / "out"
    code = main(["render", "--audiences", str(path), "--per-segment", "1", "--size", "preview",
                 "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["_hidden", "generic", "manifest.csv"]


# --- text fitting does bounded work -----------------------------------------------------


class CountingFont:
    """A real font that counts its exact measurements: ink boxes and advance widths."""

    def __init__(self, font, counts):
        self._font, self._counts = font, counts

    def getbbox(self, text, *args, **kwargs):
        self._counts["bbox"] += 1
        return self._font.getbbox(text, *args, **kwargs)

    def getlength(self, text, *args, **kwargs):
        self._counts["length"] += 1
        return self._font.getlength(text, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._font, name)


@pytest.fixture
def counted(monkeypatch):
    """Count per-character advance look-ups (estimates) and exact font measurements."""
    counts = {"advance": 0, "bbox": 0, "length": 0, "displayable": 0, "wrap_ems": 0.0}
    advance, get_font = textfit._advance, textfit.get_font
    displayable, wrap = textfit.displayable, textfit.wrap
    textfit._fit_text.cache_clear()  # a cached layout would measure nothing

    def counting_advance(char, bold):
        counts["advance"] += 1
        return advance(char, bold)

    def counting_displayable(text):
        counts["displayable"] = max(counts["displayable"], len(text))
        return displayable(text)

    def counting_wrap(text, font, width, **kwargs):
        ems = sum(advance(c, font.bold) for c in text)
        counts["wrap_ems"] = max(counts["wrap_ems"], ems)
        return wrap(text, font, width, **kwargs)

    monkeypatch.setattr(textfit, "_advance", counting_advance)
    monkeypatch.setattr(textfit, "displayable", counting_displayable)
    monkeypatch.setattr(textfit, "wrap", counting_wrap)
    monkeypatch.setattr(
        textfit, "get_font", lambda size, bold=False: CountingFont(get_font(size, bold), counts)
    )
    yield counts
    textfit._fit_text.cache_clear()


HEADLINE_BOX = Box(40, 40, 1040, 400)
FIT = dict(bold=True, max_size=96, min_size=10, max_lines=3)


def exact_budget(max_size, max_lines, n_chars):
    # Exact measurements the algorithm may make: the chosen size and, on a miss, a
    # bisection of the sizes below (each layout <= max_lines lines); then the truncation:
    # dropping lines (<= max_lines layouts of <= max_lines lines, each line measured once)
    # and a bisection of the last line's length (<= log2(n) + 2 probes).
    layouts = 1 + math.ceil(math.log2(max_size + 1))
    return layouts * max_lines + max_lines + math.ceil(math.log2(n_chars + 1)) + 2


TEXTS = {
    "100k-char word": "x" * 100_000,
    "100k-char keyword in a headline": "Looking for " + "k" * 100_000 + "? Meet the Mat",
    "100k-word template": "word " * 100_000,
    "100k hangul": "캠핑텐트" * 25_000,
    "100k zero-advance marks": "a" + "\u0301" * 100_000,
}


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_fit_text_work_does_not_grow_with_the_text(counted, text):
    fitted = textfit.fit_text(text, HEADLINE_BOX, **FIT)
    # Only the first fit_chars characters are read at all ...
    assert 0 < counted["displayable"] <= LIMITS.fit_chars
    # ... and every wrap sees at most twice what max_lines lines hold at min_size (in ems,
    # the width of the text at size 1), plus the character that crossed the line.
    capacity = FIT["max_lines"] * HEADLINE_BOX.width / FIT["min_size"]
    assert counted["wrap_ems"] <= 2 * capacity + 2
    # Estimates: the cap reads at most fit_chars characters; each kept word's running
    # widths are summed once, and so are the pieces a long word is broken into.
    assert counted["advance"] <= 3 * LIMITS.fit_chars + 8, counted
    assert counted["bbox"] <= exact_budget(FIT["max_size"], FIT["max_lines"], LIMITS.fit_chars)
    assert all(HEADLINE_BOX.contains(b) for b in fitted.bboxes)


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_the_cap_never_changes_what_shows(text):
    # Cutting the input at 20,000 characters or at 100,000 gives the same picture: the
    # characters the cap drops could never be shown.
    full = textfit.fit_text(text, HEADLINE_BOX, **FIT)
    shorter = textfit.fit_text(text[:20_000], HEADLINE_BOX, **FIT)
    assert dataclasses.astuple(full) == dataclasses.astuple(shorter)
    if text.startswith("a\u0301"):
        return  # a mark-only tail fits; the rest are long and end in an ellipsis
    assert full.truncated and full.lines[-1].endswith("…")


def test_short_text_is_measured_once(counted):
    textfit.fit_text("Meet the Grip Yoga Mat, built for you", HEADLINE_BOX, **FIT)
    # One exact layout of at most max_lines lines when the estimate is right.
    assert 1 <= counted["bbox"] <= FIT["max_lines"]


def greedy_split(word, font, width):
    # The reference: add characters one by one while the piece still fits.
    pieces, current = [], ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    return [*pieces, current] if current else pieces


@pytest.mark.parametrize("word", ["x" * 3000, "가나다라마바사" * 300, "https://ex.am/ple/" * 150])
def test_long_words_break_like_greedy_with_log_many_measurements(word):
    counts = {"bbox": 0, "length": 0}
    # A wide line at a small size: pieces of a hundred characters and more.
    font = CountingFont(textfit.get_font(12), counts)
    pieces = textfit._split_long(word, font, 1500)
    assert pieces == greedy_split(word, textfit.get_font(12), 1500)
    assert len(pieces) > 1
    # Galloping then bisection: <= 2 log2(piece) + 2 measurements per piece, where the
    # character-by-character loop made one per character.
    longest = max(len(p) for p in pieces)
    assert counts["length"] <= len(pieces) * (2 * math.log2(longest + 1) + 2)
    assert counts["length"] < len(word) / 4


def test_estimator_split_matches_its_own_measure():
    estimator = textfit._Estimator(24, False, {})
    word = "ab" * 2000
    pieces = estimator.split(word, 300)
    assert "".join(pieces) == word
    assert pieces == greedy_split(word, estimator, 300)
