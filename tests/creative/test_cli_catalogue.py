"""``python -m creative render --catalogue FILE``: the user's products, read as the run reads them.

The catalogue is read by ``creative.catalogue.read_catalogue`` against the templates the ads
are written from, the reader ``simulation run --catalogue`` and the app use; the refusals are
compared line for line with the run command's.
"""

import csv
import re
from dataclasses import replace

import pytest

from creative.__main__ import main
from creative.catalogue import CATALOGUE, read_catalogue
from creative.guardrails import banned_names_warning
from simulation.__main__ import main as simulation_main

SEGMENTS = """audience_id,name,top_interests,keywords,active_hours,mobile_share,\
price_sensitivity,language
gamers,Night-owl gamers,gaming;tech,gaming headset|rpg,night,0.9,0.9,en
wellness,Morning wellness,fitness;beauty,yoga mat,morning,0.2,0.1,en
여행,여행 좋아하는 분들,travel;outdoors,캠핑 텐트,evening,0.6,0.5,ko
"""

# One product per category a segment sells, so which product an ad names follows from the
# segment's interests (a segment is shown only what the catalogue sells of its interests; the
# generic controls the catalogue's popular categories: food here), whatever the seed draws.
# The headset has no Korean name: Korean ads print its English name, as in simulation run.
PRODUCTS = """name,category,price,name_ko
Pro Gaming Headset X2,gaming,89,
Yoga Mat Plus,fitness,39,요가 매트 플러스
Trailblazer Hiking Boots,outdoors,129,트레일블레이저 등산화
Cold Brew Coffee Kit,food,34.50,콜드브루 커피 키트
"""
NAMED = {
    "en": {"generic": "Cold Brew Coffee Kit", "gamers": "Pro Gaming Headset X2",
           "wellness": "Yoga Mat Plus", "여행": "Trailblazer Hiking Boots"},
    "ko": {"generic": "콜드브루 커피 키트", "gamers": "Pro Gaming Headset X2",
           "wellness": "요가 매트 플러스", "여행": "트레일블레이저 등산화"},
}  # fmt: skip

#: 60 columns: wider than the bundled templates' room for a name, in English (55) and in
#: Korean ads (58).
LONG = "Ultralight Waterproof Three Season Backpacking Tent Ultra XL"
#: Every English headline just the product: the room is the whole headline limit.
ROOMY = "".join(
    f'[en.{tone}]\nheadline = ["{{product}}"]\n'
    for tone in ("playful", "urgent", "premium", "informative", "social_proof")
)
#: Every English headline with a long fixed text: room for names of 13 columns or fewer.
TIGHT = "".join(
    f'[en.{tone}]\nheadline = ["Everything you wanted to know before buying, about {{product}}"]\n'
    for tone in ("playful", "urgent", "premium", "informative", "social_proof")
)


@pytest.fixture
def files(tmp_path):
    """``files({name: text})`` writes the files into ``tmp_path`` and returns the folder."""

    def write(texts=None):
        for name, text in (texts or {}).items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path

    (tmp_path / "segments.csv").write_text(SEGMENTS, encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    return write


def render(tmp_path, capsys, *extra, out="out", per_segment="1", size="preview"):
    code = main(
        ["render", "--audiences", str(tmp_path / "segments.csv"), "--per-segment", per_segment,
         "--size", size, "--out", str(tmp_path / out), *extra]
    )  # fmt: skip
    return code, *capsys.readouterr()


def manifest(out):
    with (out / "manifest.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def outputs(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("lang", [None, "ko"])
def test_the_ads_name_the_users_products(tmp_path, files, capsys, lang):
    files()
    extra = ["--catalogue", str(tmp_path / "products.csv")] + (["--lang", lang] if lang else [])
    code, _, err = render(tmp_path, capsys, *extra, per_segment="2")
    assert code == 0, err
    rows = manifest(tmp_path / "out")
    assert {r["segment"] for r in rows} == {"generic", "gamers", "wellness", "여행"}
    for r in rows:
        # 여행 is a Korean segment: without --lang its ads are Korean, the others English.
        language = lang or ("ko" if r["segment"] == "여행" else "en")
        assert r["language"] == language
        assert r["product"] == NAMED[language][r["segment"]], r
        if r["guardrail"] == "pass":
            assert r["product"] in r["headline"] + " " + r["body"], r
        assert (tmp_path / "out" / r["file"]).is_file()
    bundled = {p.display_name(x) for ps in CATALOGUE.values() for p in ps for x in ("en", "ko")}
    assert not bundled & {r["product"] for r in rows}
    assert "warning:" not in err


def test_the_same_seed_writes_the_same_bytes(tmp_path, files, capsys):
    files()
    extra = ["--catalogue", str(tmp_path / "products.csv"), "--lang", "ko", "--seed", "7"]
    for out in ("a", "b"):
        code, _, err = render(tmp_path, capsys, *extra, out=out, per_segment="2")
        assert code == 0, err
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b")


def test_a_name_only_the_users_templates_have_room_for_needs_them(tmp_path, files, capsys):
    # The bundled templates have no room for LONG, so the catalogue alone is refused; with
    # templates whose headlines leave the whole limit it is read, and its ads name it.
    files({"long.csv": f"name,category,price,name_ko\n{LONG},outdoors,249,초경량 텐트\n",
           "roomy.toml": ROOMY})  # fmt: skip
    catalogue = ["--catalogue", str(tmp_path / "long.csv")]
    code, _, err = render(tmp_path, capsys, *catalogue, size="feed")
    assert code == 2 and "no en template line can print a product name wider than 55" in err
    code, _, err = render(
        tmp_path, capsys, *catalogue, "--templates", str(tmp_path / "roomy.toml"), size="feed"
    )
    assert code == 0, err
    rows = manifest(tmp_path / "out")
    assert {r["product"] for r in rows if r["language"] == "en"} == {LONG}
    assert any(r["guardrail"] == "pass" and r["headline"] == LONG for r in rows)


BAD = [
    # (file name, its text or None for no file, templates file text, what the line says)
    ("missing.csv", None, None, r"catalogue file not found: \S*missing\.csv$"),
    ("short.csv", "name,category,price,name_ko\nMat,fitness,20\n", None,
     r"short\.csv, product 1: the row is short: 3 of 4 cells, none for name_ko\.$"),
    ("price.csv", "name,category,price\nMat,fitness,20\nBall,fitness,cheap\n", None,
     r"price\.csv, product 2: price must be a number; got 'cheap'\.$"),
    ("long.csv", f"name,category,price\n{LONG},outdoors,249\n", None,
     r"long\.csv, product 1: name 'Ultralight .* is 60 columns wide; no en template line "
     r"can print a product name wider than 55 .*Shorten the name\.$"),
    ("long_ko.csv", f"name,category,price,name_ko\nTent,outdoors,99,{'텐' * 30}\n", None,
     r"long_ko\.csv, product 1: name_ko '텐+.* is 60 columns wide; no ko template line"),
    # Only the user's templates' English lines: a blank name_ko prints LONG in Korean ads,
    # and no Korean line has room for it.
    ("long_blank_ko.csv", f"name,category,price,name_ko\n{LONG},outdoors,249,\n", ROOMY,
     r"product 1: name \(in Korean ads\) 'Ultralight .* no ko template line"),
    # A name the bundled templates fit, but not the user's, which replace every English headline.
    ("tight.csv", "name,category,price\nTrail Boots XL,outdoors,99\n", TIGHT,
     r"tight\.csv, product 1: name 'Trail Boots XL' is 14 columns wide; no en template line "
     r"can print a product name wider than 13 .*\(the roomiest: 'Everything you wanted"),
    ("category.csv", "name,category,price\nMat,yoga,20\n", None,
     r"category\.csv, product 1: category must be one of \[.*\]; got 'yoga'\.$"),
    ("products.txt", "name,category,price\nMat,fitness,20\n", None,
     r"catalogue file must end in \.csv; got 'products\.txt'\.$"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "templates", "match"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_catalogue_is_refused_as_the_run_command_refuses_it(
    tmp_path, files, capsys, name, text, templates, match
):
    files()
    if text is not None:
        files({name: text})
    extra = ["--catalogue", str(tmp_path / name)]
    if templates is not None:
        files({"copy.toml": templates})
        extra += ["--templates", str(tmp_path / "copy.toml")]
    # An earlier output in --out: a refusal leaves it byte for byte, and nothing beside it.
    assert render(tmp_path, capsys, "--seed", "3")[0] == 0
    before, listing = outputs(tmp_path / "out"), sorted(tmp_path.iterdir())
    code, stdout, err = render(tmp_path, capsys, *extra)
    assert code == 2 and stdout == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(match, lines[0]), lines[0]
    assert outputs(tmp_path / "out") == before
    assert sorted(tmp_path.iterdir()) == listing
    # The run command reads the same file with the same reader: the same line, word for word,
    # except the suffix's, where the run's copy-then-read names the whole path, not the name.
    sim = ["run", *extra, "--out", str(tmp_path / "run"), "--store", str(tmp_path / "store")]
    assert simulation_main(sim) == 2
    run_line = capsys.readouterr().err.splitlines()[-1]
    assert run_line == lines[0].replace(f"'{name}'", repr(str(tmp_path / name)))
    assert sorted(tmp_path.iterdir()) == listing


def test_a_banned_phrase_in_the_users_product_name_is_warned_of(tmp_path, files, capsys):
    # A name is the brand's own: printed, not refused, with the warning simulation run prints.
    path = files({"cream.csv": "name,category,price\nMiracle Cure Cream,beauty,35\n"}) / "cream.csv"
    code, _, err = render(tmp_path, capsys, "--catalogue", str(path))
    assert code == 0, err
    (cream,) = read_catalogue(path)["beauty"]
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [
        f"warning: {banned_names_warning([cream])}"
    ]
    assert {r["product"] for r in manifest(tmp_path / "out")} == {"Miracle Cure Cream"}


#: 55 columns, the bundled English lines' room for a name: the catalogue is read, but the
#: other slots of most lines are wider than one column, so the length rule rejects most ads.
NEAR = "Ultralight Waterproof Three Season Backpacking Tent XL"
NEAR_CATALOGUE = "name,category,price\n" + "".join(
    f"{NEAR}{i},{category},199\n" for i, category in enumerate(("outdoors", "gaming", "fashion"))
)


def test_an_audience_short_of_ads_stops_render_as_run_stops(tmp_path, files, capsys):
    # Until 2026-12-05 render wrote every attempt, 394 rejected images here for 8 passing.
    path = files({"near.csv": NEAR_CATALOGUE}) / "near.csv"
    assert len(NEAR + "0") == 55 and read_catalogue(path)  # accepted by the reader
    # An earlier output in --out: the refusal leaves it byte for byte, and nothing beside it.
    assert render(tmp_path, capsys, "--seed", "3")[0] == 0
    before, listing = outputs(tmp_path / "out"), sorted(tmp_path.iterdir())
    code, stdout, err = render(
        tmp_path, capsys, "--catalogue", str(path), per_segment="3", size="feed"
    )
    assert code == 2 and stdout == ""
    (line,) = err.splitlines()
    # The generic pool is generated first, as in run; the words are run's, with the flag.
    assert re.fullmatch(
        r"error: only [0-2] of the 3 generic ads --per-segment asks for passed the guardrails "
        rf"\(rejected: length \d+\); the copy came from your catalogue file {re.escape(str(path))} "
        rf"\(its longest product name, '{NEAR}\d', is 55 columns\): shorten the product names "
        r"or the templates' lines, or lower --per-segment \(3\)\.",
        line,
    ), line
    assert outputs(tmp_path / "out") == before
    assert sorted(tmp_path.iterdir()) == listing
    # simulation run stops on the same catalogue in the same words, but for its own knob
    # (n_variants, the default config's) and its own draws (other counts).
    sim = ["run", "--catalogue", str(path), "--out", str(tmp_path / "run"),
           "--store", str(tmp_path / "store")]  # fmt: skip
    assert simulation_main(sim) == 2
    run_line = capsys.readouterr().err.splitlines()[-1]
    assert _words(run_line) == _words(line), (run_line, line)
    assert sorted(tmp_path.iterdir()) == listing


def _words(line):
    """A short-of-ads line without its counts, its knob and run's language in the pool's name."""
    for knob in ("the experiment needs (n_variants)", "--per-segment asks for"):
        line = line.replace(knob, "KNOB needs")
    line = line.replace("n_variants", "KNOB").replace("--per-segment", "KNOB")
    return re.sub(r"\d+", "N", line.replace("generic en ads", "generic ads"))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_bundled_products_give_every_audience_its_ads(lang):
    # The stop above is for inputs that cannot make the ads: with the bundled products and
    # templates every audience of the default preset gets them, at every placement, so no
    # render of the bundled products is refused by it (checked on generation: no images).
    import numpy as np

    from creative.generate import generate_for_segment, generate_generic
    from creative.vocabulary import PLACEMENTS
    from simulation.population import default_audiences

    for placement in PLACEMENTS:
        for seed in range(3):
            rng = np.random.default_rng(seed)
            reports = [generate_generic(20, rng, language=lang, placement=placement)]
            reports += [
                generate_for_segment(replace(a, language=lang), 20, rng, placement=placement)
                for a in default_audiences()
            ]
            assert {len(r.accepted) for r in reports} == {20}, (placement, seed)
