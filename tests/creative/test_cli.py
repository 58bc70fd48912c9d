import csv
import dataclasses
import os
import re
import sys
from pathlib import Path

import pytest

from creative.__main__ import DEMO_AUDIENCES, MANIFEST_COLUMNS, main

HEADER = "audience_id,name,top_interests,keywords,active_hours,"
HEADER += "mobile_share,price_sensitivity,language,size\n"
CSV = (
    HEADER
    + """gamers,Night-owl gamers,gaming;tech,gaming headset|rpg,night,0.9,0.9,en,500
wellness,Morning wellness,fitness;beauty,yoga mat,morning,0.2,0.1,en,300
여행,여행 좋아하는 분들,travel;outdoors,캠핑 텐트,evening,0.6,0.5,ko,
"""
)

TOML = """
[[audience]]
audience_id = "pets"
name = "Pet parents"
top_interests = ["pets", "home"]
keywords = ["cat tree"]
active_hours = "evening"
mobile_share = 0.7
price_sensitivity = 0.6
"""


@pytest.fixture
def audiences_csv(tmp_path):
    path = tmp_path / "segments.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(args, capsys):
    code = main(["render", *args])
    out, err = capsys.readouterr()
    return code, out, err


def read_manifest(out):
    with (out / "manifest.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def test_contact_sheet_captions_name_each_variant_in_words(
    tmp_path, audiences_csv, capsys, monkeypatch
):
    # The caption text the sheet draws (ImageDraw.text while contact_sheet runs), not its
    # pixels, compared with the manifest, which keeps the engine's codes.
    from PIL import ImageDraw

    import creative.__main__ as cli
    from creative.vocabulary import LAYOUTS, OFFERS, TONES

    real_sheet, real_text = cli.contact_sheet, ImageDraw.ImageDraw.text
    sheets = []  # per sheet, in order: (x, text) of every caption line drawn

    def spying_sheet(images, **kwargs):
        drawn = []
        sheets.append(drawn)

        def text(self, xy, line, *args, **kw):
            drawn.append((xy[0], line))
            return real_text(self, xy, line, *args, **kw)

        monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
        try:
            return real_sheet(images, **kwargs)
        finally:
            monkeypatch.setattr(ImageDraw.ImageDraw, "text", real_text)

    monkeypatch.setattr(cli, "contact_sheet", spying_sheet)
    out = tmp_path / "out"
    code, _, err = run(
        ["--audiences", str(audiences_csv), "--per-segment", "6", "--size", "preview",
         "--out", str(out), "--seed", "3"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    _, rows = read_manifest(out)
    tones = {"playful": "playful", "urgent": "urgent", "premium": "premium",
             "informative": "informative", "social_proof": "social proof"}  # fmt: skip
    offers = {"none": "no offer", "free_shipping": "free shipping", "discount_10": "10 % off",
              "discount_20": "20 % off", "discount_30": "30 % off"}  # fmt: skip
    assert set(tones) == set(TONES) and set(offers) == set(OFFERS)
    segments = list(dict.fromkeys(r["segment"] for r in rows))  # generic first, as written
    assert len(sheets) == len(segments) == 4
    for segment, drawn in zip(segments, sheets, strict=True):
        passed = [r for r in rows if r["segment"] == segment and r["guardrail"] == "pass"]
        # One image's lines are consecutive and share its column's x; neighbours differ.
        # Joined with " · ": the lines break between the parts a caption lists.
        captions = []
        for i, (x, line) in enumerate(drawn):
            if i and x == drawn[i - 1][0]:
                captions[-1] += " · " + line
            else:
                captions.append(line)
        assert captions == [
            f"{tones[r['tone']]} · {r['layout']} layout · {offers[r['offer']]}" for r in passed
        ]
        # The manifest keeps the codes.
        assert {r["tone"] for r in passed} <= set(TONES)
        assert {r["offer"] for r in passed} <= set(OFFERS)
        assert {r["layout"] for r in passed} <= set(LAYOUTS)


def test_render_from_csv(tmp_path, audiences_csv, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(
        ["--audiences", str(audiences_csv), "--per-segment", "3", "--size", "preview",
         "--out", str(out), "--seed", "4"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "manifest.csv" in stdout
    assert out.stat().st_mode & 0o777 == 0o777 & ~_umask()  # not mkdtemp's 0700
    header, rows = read_manifest(out)
    assert tuple(header) == MANIFEST_COLUMNS
    segments = {r["segment"] for r in rows}
    assert segments == {"generic", "gamers", "wellness", "여행"}
    assert {r["guardrail"] for r in rows} <= {"pass", "reject"}
    for r in rows:
        assert (out / r["file"]).is_file()
        assert r["size"] == "preview"
        assert (r["reason"] == "") == (r["guardrail"] == "pass")
    for segment in segments:
        passed = [r for r in rows if r["segment"] == segment and r["guardrail"] == "pass"]
        assert len(passed) == 3
        folder = out / passed[0]["file"].split("/")[0]
        assert (folder / "contact_sheet.png").is_file()
    assert all(r["audience"] == "Everyone" for r in rows if r["segment"] == "generic")
    assert {r["language"] for r in rows if r["segment"] == "여행"} == {"ko"}
    # Nothing but the output directory is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "segments.csv"]


def test_auto_size_gives_mobile_heavy_segments_the_story(tmp_path, audiences_csv, capsys):
    out = tmp_path / "out"
    assert run(["--audiences", str(audiences_csv), "--per-segment", "1", "--out", str(out)],
               capsys)[0] == 0  # fmt: skip
    _, rows = read_manifest(out)
    sizes = {r["segment"]: r["size"] for r in rows}
    # gamers: mobile_share 0.9; wellness 0.2; 여행 0.6; generic: no audience data.
    assert sizes == {"generic": "feed", "gamers": "story", "wellness": "feed", "여행": "feed"}


def test_same_seed_same_outputs(tmp_path, audiences_csv, capsys):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        args = ["--audiences", str(audiences_csv), "--per-segment", "2", "--size", "preview"]
        assert run([*args, "--out", str(out)], capsys)[0] == 0
        outputs.append(
            {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        )
    assert outputs[0] == outputs[1]


def test_toml_audiences_segments_lang_and_format(tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text(TOML)
    out = tmp_path / "out"
    code, _, err = run(
        ["--audiences", str(path), "--segments", "pets", "--per-segment", "2", "--lang", "ko",
         "--format", "jpeg", "--size", "preview", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    _, rows = read_manifest(out)
    assert {r["segment"] for r in rows} == {"generic", "pets"}
    assert {r["language"] for r in rows} == {"ko"}
    assert all(r["file"].endswith(".jpg") for r in rows)


def test_preset_default_falls_back_to_demo_segments(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "simulation.population", None)  # import fails
    out = tmp_path / "out"
    code, _, err = run(
        ["--preset", "default", "--per-segment", "1", "--size", "preview", "--out", str(out)],
        capsys,
    )
    assert code == 0
    assert "built-in demo segments" in err
    _, rows = read_manifest(out)
    assert {r["segment"] for r in rows} == {"generic"} | {a.audience_id for a in DEMO_AUDIENCES}


def test_preset_default_uses_the_simulator_when_available(tmp_path, capsys, monkeypatch):
    import types

    fake = types.ModuleType("simulation.population")
    fake.default_audiences = lambda seed=0: [DEMO_AUDIENCES[1]]
    monkeypatch.setitem(sys.modules, "simulation.population", fake)
    out = tmp_path / "out"
    assert run(["--per-segment", "1", "--size", "preview", "--out", str(out)], capsys)[0] == 0
    _, rows = read_manifest(out)
    assert {r["segment"] for r in rows} == {"generic", DEMO_AUDIENCES[1].audience_id}


def test_seed_draws_variants_not_segments(tmp_path, capsys, monkeypatch):
    # The audit: at --seed 1 "segment-0" was another segment (Korean instead of English).
    # A stand-in whose segments would change with their seed shows which seed is used.
    import types

    def default_audiences(seed=0):
        base = DEMO_AUDIENCES[0]
        return [dataclasses.replace(base, name=f"{base.name} (world {seed})")]

    fake = types.ModuleType("simulation.population")
    fake.default_audiences = default_audiences
    monkeypatch.setitem(sys.modules, "simulation.population", fake)
    rows = {}
    for seed in (0, 1, 5):
        out = tmp_path / f"s{seed}"
        args = ["--per-segment", "3", "--size", "preview", "--seed", str(seed)]
        assert run([*args, "--out", str(out)], capsys)[0] == 0
        rows[seed] = [r for r in read_manifest(out)[1] if r["segment"] != "generic"]
    for seed in (1, 5):
        assert [(r["segment"], r["audience"]) for r in rows[seed]] == [
            (r["segment"], r["audience"]) for r in rows[0]
        ]
        assert [r["variant_id"] for r in rows[seed]] != [r["variant_id"] for r in rows[0]]
    assert {r["audience"] for r in rows[0]} == {f"{DEMO_AUDIENCES[0].name} (world 0)"}


def test_previous_output_is_replaced(tmp_path, audiences_csv, capsys):
    out = tmp_path / "out"
    args = ["--audiences", str(audiences_csv), "--per-segment", "1", "--size", "preview"]
    assert run([*args, "--out", str(out), "--seed", "1"], capsys)[0] == 0
    first = read_manifest(out)[1]
    assert run([*args, "--out", str(out), "--seed", "2"], capsys)[0] == 0
    second = read_manifest(out)[1]
    assert first != second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "segments.csv"]


BAD_TEMPLATES = {
    "malformed.toml": "[en.playful\nheadline = [",
    "slot.toml": '[en.playful]\nheadline = ["Hi {product.__class__}"]\n',
    "unknown.toml": '[en.playful]\nheadline = ["Hi {nme}"]\n',
}


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--segments", "gamers,nobody"], "unknown segment"),
        (["--segments", ","], "--segments must be"),
        (["--per-segment", "0"], r"must be an int in \[1, 500\]; got 0"),
        (["--per-segment", "abc"], r"must be an int in \[1, 500\]; got .abc."),
        (["--seed", "-1"], r"must be an int in \[0, 4,294,967,295\]; got -1"),
        (["--size", "billboard"], "invalid choice"),
        (["--lang", "fr"], "invalid choice"),
        (["--format", "gif"], "invalid choice"),
        (["--templates", "malformed.toml"], "malformed TOML"),
        (["--templates", "slot.toml"], "unknown slot"),
        (["--templates", "unknown.toml"], r"unknown slot \{nme\}"),
        (["--templates", "missing.toml"], "not found"),
        (["--preset", "default"], "not allowed with argument"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_one_error_line_exit_2(tmp_path, audiences_csv, capsys, extra, match):
    for name, text in BAD_TEMPLATES.items():
        (tmp_path / name).write_text(text)
    extra = [str(tmp_path / e) if e.endswith(".toml") else e for e in extra]
    out = tmp_path / "out"
    code, _, err = run(["--audiences", str(audiences_csv), "--out", str(out), *extra], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(match, lines[0]), lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        ("audience_id,top_interests,mobile_share\ns1,gaming,abc\n", ".csv", "mobile_share"),
        ("audience_id,top_interests,mobile_share\ns1,gaming,1.5\n", ".csv", "mobile_share"),
        ("audience_id,top_interests\ns1,cars\n", ".csv", "unknown categories"),
        ("audience_id,top_interests\ns1,gaming\ns1,tech\n", ".csv", "duplicate audience_id"),
        ("audience_id,top_interests,colour\ns1,gaming,red\n", ".csv", "unknown field"),
        ("audience_id,top_interests,size\ns1,gaming,2.5\n", ".csv", "1: size must be an int"),
        ("audience_id,top_interests\n", ".csv", "no audiences"),
        ("[[audience]\n", ".toml", "malformed TOML"),
        ("[x]\na = 1\n", ".toml", r"\[\[audience\]\]"),
        ("a,b\n", ".txt", r"\.csv or \.toml"),
    ],
)
def test_bad_audience_files(tmp_path, capsys, content, suffix, match):
    path = tmp_path / f"aud{suffix}"
    path.write_text(content)
    out = tmp_path / "out"
    code, _, err = run(["--audiences", str(path), "--out", str(out)], capsys)
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert re.search(match, err), err
    assert not out.exists()


def test_unwritable_output(tmp_path, audiences_csv, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    for out in (blocker / "out", blocker):
        code, _, err = run(
            ["--audiences", str(audiences_csv), "--per-segment", "1", "--out", str(out)], capsys
        )
        assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert blocker.read_text() == "not a directory"


def test_refuses_to_replace_a_foreign_directory(tmp_path, audiences_csv, capsys):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code, _, err = run(
        ["--audiences", str(audiences_csv), "--per-segment", "1", "--size", "preview",
         "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 2 and "not a previous output" in err
    assert (out / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "segments.csv"]


@pytest.mark.parametrize(
    ("added", "named"),
    [
        ("notes.txt", "notes.txt"),
        ("approved/final.png", "approved/final.png"),
        ("generic/final.png", "generic/final.png"),  # inside a folder adlab writes
        ("approved/", "approved"),  # an empty folder of the user's
    ],
)
def test_refuses_to_replace_an_output_holding_the_users_files(
    tmp_path, audiences_csv, capsys, added, named
):
    out = tmp_path / "cr"
    args = ["--audiences", str(audiences_csv), "--per-segment", "1", "--size", "preview",
            "--out", str(out)]  # fmt: skip
    assert run(args, capsys)[0] == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    target = out / added
    if added.endswith("/"):
        target.mkdir()
    else:
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(b"the user's own")
    code, _, err = run([*args, "--seed", "5"], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert repr(named) in err and "no earlier render wrote" in err
    # Nothing replaced, nothing added beside it: the earlier output and the user's file stay.
    if not added.endswith("/"):
        assert target.read_bytes() == b"the user's own"
    mine = Path(added.rstrip("/"))
    after = {p.relative_to(out) for p in out.rglob("*")}
    assert set(before) <= after and after - set(before) <= {mine, *mine.parents}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cr", "segments.csv"]


def test_replaces_an_output_holding_only_its_own_files(tmp_path, audiences_csv, capsys):
    # The contact sheets and the rejected/ folders are not in the manifest's file column,
    # yet they are the render's own: a second render replaces them.
    out = tmp_path / "cr"
    args = ["--audiences", str(audiences_csv), "--per-segment", "3", "--size", "preview",
            "--out", str(out)]  # fmt: skip
    assert run(args, capsys)[0] == 0
    assert list(out.rglob("contact_sheet.png"))
    (out / "generic" / "contact_sheet.png").unlink()  # a user may delete what adlab wrote
    code, _, err = run([*args, "--seed", "9"], capsys)
    assert code == 0, err
    assert (out / "generic" / "contact_sheet.png").is_file()


def test_manifest_names_product_category_keyword_and_greeting(tmp_path, audiences_csv, capsys):
    from creative.catalogue import CATALOGUE, GREETINGS
    from creative.encode import AI_GENERATED_XMP
    from creative.vocabulary import keyword_interest

    out = tmp_path / "out"
    args = ["--audiences", str(audiences_csv), "--per-segment", "6", "--size", "preview"]
    assert run([*args, "--out", str(out), "--seed", "1"], capsys)[0] == 0
    header, rows = read_manifest(out)
    assert header[3:7] == ["product", "category", "keyword", "greeting"]
    with_keyword = greeted = 0
    for r in rows:
        lang = r["language"]
        assert r["product"] in {p.display_name(lang) for p in CATALOGUE[r["category"]]}
        if r["keyword"]:
            with_keyword += 1
            assert keyword_interest(r["keyword"]) == r["category"]
            assert r["keyword"] in r["headline"] + " " + r["body"]
        # The time of day greeted is listed exactly when the printed copy greets.
        printed = r["headline"] + " " + r["body"]
        greets = [t for t, g in GREETINGS[lang].items() if g in printed]
        assert greets == ([r["greeting"]] if r["greeting"] else []), (r["greeting"], printed)
        greeted += bool(r["greeting"])
        if r["segment"] == "generic":
            assert r["keyword"] == r["greeting"] == ""
    assert with_keyword > 0 and greeted > 0
    # Every written image, contact sheets included, carries the AI disclosure in its XMP.
    images = sorted(out.rglob("*.png"))
    assert len(images) > len(rows)
    assert all(AI_GENERATED_XMP in p.read_bytes() for p in images)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(
    tmp_path, audiences_csv, capsys, monkeypatch
):
    import creative.__main__ as studio

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(studio, "_write_outputs", interrupted)
    before = set(tmp_path.iterdir())
    code, _, err = run(["--audiences", str(audiences_csv), "--out", str(tmp_path / "out")], capsys)
    assert code == 130 and err.strip() == "interrupted: nothing was written"
    assert set(tmp_path.iterdir()) == before  # no output, no work folder
