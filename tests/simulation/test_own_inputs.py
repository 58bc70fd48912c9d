"""Your own segments, catalogue and templates in an experiment (library and command line)."""

import hashlib
import json
import os
import pathlib
import re

import numpy as np
import pytest

from creative.audience import Audience
from creative.limits import LIMITS
from creative.vocabulary import INTERESTS, TIMES_OF_DAY
from simulation.__main__ import main
from simulation.config import ExperimentConfig
from simulation.inputs import file_sha256, read_inputs, resolve_inputs
from simulation.population import KEYWORDS, KEYWORDS_PER_INTEREST, population_from_segments
from simulation.scenario import build_scenario
from simulation.store import RunStore

SEGMENTS = (
    (
        "audience_id,name,top_interests,keywords,active_hours,mobile_share,price_sensitivity,"
        "language,size\n"
    )
    + """kr-gamers,Seoul night gamers,gaming;tech,rpg;controller,night,0.9,0.8,ko,30
us-readers,US morning readers,books;food,,morning,0.2,0.3,en,70
"""
)
CATALOGUE = """name,category,price,name_ko
Quest Pad,gaming,49,퀘스트 패드
Pixel Buds,tech,89,픽셀 버즈
Saga Novel,books,19,
Chef Box,food,35,셰프 박스
Sunday Loafers,fashion,120,
"""
TEMPLATES = """[en.informative]
headline = ["BYOD {product}: made for {interest}"]
body = ["Our own copy for {product}."]
cta = ["See it"]
"""
PRODUCTS = {"Quest Pad", "퀘스트 패드", "Pixel Buds", "픽셀 버즈", "Saga Novel", "Chef Box",
            "셰프 박스", "Sunday Loafers"}  # fmt: skip


@pytest.fixture
def files(tmp_path):
    paths = {
        "segments": tmp_path / "segments.csv",
        "catalogue": tmp_path / "products.csv",
        "templates": tmp_path / "copy.toml",
    }
    for kind, text in zip(paths, (SEGMENTS, CATALOGUE, TEMPLATES)):
        paths[kind].write_text(text, encoding="utf-8")
    return paths


def _seg(audience_id, **kw):
    kw.setdefault("top_interests", ("books",))
    return Audience(kind="segment", audience_id=audience_id, name=audience_id.title(), **kw)


def test_shares_follow_the_sizes_within_a_binomial_bound():
    audiences = [_seg("a", size=1), _seg("b", size=3), _seg("c", size=6)]
    n = 10_000
    pop, seg = population_from_segments(audiences, n, np.random.default_rng(1))
    assert pop.n_users == n and seg.labels.shape == (n,)
    share = np.bincount(seg.labels, minlength=3) / n
    expected = np.array([0.1, 0.3, 0.6])
    # Largest remainder is exact to one user; 4 binomial standard errors is the
    # bound any honest split (random or not) must meet.
    bound = 4 * np.sqrt(expected * (1 - expected) / n)
    assert (np.abs(share - expected) <= bound).all()
    assert [p.name for p in seg.profiles] == ["A", "B", "C"]
    assert [p.size for p in seg.profiles] == np.bincount(seg.labels).tolist()


def test_every_segment_gets_users_even_a_tiny_one():
    audiences = [_seg("big", size=1_000_000_000), _seg("tiny", size=1)]
    _, seg = population_from_segments(audiences, 100, np.random.default_rng(0))
    assert np.bincount(seg.labels, minlength=2).min() >= 1


def test_each_segment_s_traits_show_in_its_users():
    kr = _seg("kr", top_interests=("gaming", "tech"), keywords=("rpg", "게이밍 헤드셋"),
              active_hours="night", mobile_share=0.9, price_sensitivity=0.8,
              language="ko")  # fmt: skip
    us = _seg("us", top_interests=("books",), active_hours="morning", mobile_share=0.2,
              price_sensitivity=0.3, language="en")  # fmt: skip
    pop, seg = population_from_segments([kr, us], 20_000, np.random.default_rng(2))
    k, u = seg.labels == 0, seg.labels == 1
    assert pop.language[k].mean() >= 0.9 and pop.language[u].mean() <= 0.1
    # Bernoulli(0.9) over ~10,000 users: 0.85 is more than 15 standard errors away.
    assert pop.mobile[k].mean() > 0.85 and pop.mobile[u].mean() < 0.25
    assert abs(pop.price_sensitivity[k].mean() - 0.8) < 0.03
    assert abs(pop.price_sensitivity[u].mean() - 0.3) < 0.03
    night, morning = TIMES_OF_DAY.index("night"), TIMES_OF_DAY.index("morning")
    assert (pop.hours[k].argmax(axis=1) == night).mean() > 0.6
    assert (pop.hours[u].argmax(axis=1) == morning).mean() > 0.6
    assert (pop.top_interest[u] == INTERESTS.index("books")).mean() > 0.6
    gaming_or_tech = np.isin(
        pop.top_interest[k], [INTERESTS.index("gaming"), INTERESTS.index("tech")]
    )
    assert gaming_or_tech.mean() > 0.8
    rpg = KEYWORDS.index("rpg")
    searched = (pop.keywords[k] == rpg).any(axis=1).mean()
    # The segment's own searches: far more often than by chance in the other segment.
    assert searched > 0.2 and searched > 10 * (pop.keywords[u] == rpg).any(axis=1).mean()
    # The invariants of every population: searches from the user's own interests.
    n = pop.n_users
    assert pop.interests[np.arange(n)[:, None], pop.keywords // KEYWORDS_PER_INTEREST].all()
    assert pop.interests[np.arange(n), pop.top_interest].all()
    # Profiles: the file's names and declared traits; measured size and language mix.
    p_kr = seg.profiles[0]
    assert (p_kr.name, p_kr.top_interests, p_kr.active_hours) == ("Kr", ("gaming", "tech"), "night")
    assert p_kr.language == "ko" and p_kr.to_audience().price_sensitivity == 0.8


def test_bad_audiences_are_refused():
    with pytest.raises(ValueError, match="1 to 50"):
        population_from_segments([], 100, np.random.default_rng(0))
    with pytest.raises(ValueError, match="generic"):
        population_from_segments([Audience.generic()], 100, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"`n_users` must be an int in \[2, 5,000,000\]"):
        population_from_segments([_seg("a"), _seg("b")], 1, np.random.default_rng(0))


def test_the_scenario_uses_the_files(files):
    config, inputs = resolve_inputs(
        ExperimentConfig(
            n_users=2_000,
            segments_file=str(files["segments"]),
            catalogue_file=str(files["catalogue"]),
            templates_file=str(files["templates"]),
        )
    )
    assert config.n_segments == 2
    assert (
        inputs.files["catalogue"]["sha256"]
        == hashlib.sha256(files["catalogue"].read_bytes()).hexdigest()
    )
    scen = build_scenario(config)
    assert [p.name for p in scen.segmentation.profiles] == [
        "Seoul night gamers",
        "US morning readers",
    ]
    generic = scen.levels["generic"]
    assert {label.split(" · ")[0] for label in generic.arm_labels} <= PRODUCTS
    shown = [c for row in (*generic.creatives, *scen.levels["segment"].creatives) for c in row]
    assert {c.product for c in shown} <= PRODUCTS
    # Order values follow the catalogue's prices.
    assert set(generic.price.ravel()) <= {49.0, 89.0, 19.0, 35.0, 120.0}
    assert scen.response.max_revenue == pytest.approx(120.0 * 1.5)
    # The user's templates replace the bundled English informative copy.
    informative = [c for c in shown if c.tone == "informative" and c.language == "en"]
    assert informative and all(c.headline.startswith("BYOD ") for c in informative)
    user = scen.levels["user"]
    assert user.category_price[INTERESTS.index("books")] == 19.0


def test_without_files_nothing_changes():
    inputs = read_inputs(ExperimentConfig())
    assert inputs.files == {} and inputs.segments is None and inputs.max_price is None


def test_bad_file_paths_in_the_config():
    with pytest.raises(ValueError, match="`catalogue_file` must be None or a file path"):
        ExperimentConfig(catalogue_file="")
    with pytest.raises(ValueError, match=r"catalogue file not found: /no/such\.csv"):
        read_inputs(ExperimentConfig(catalogue_file="/no/such.csv"))
    # A path no system opens was an OSError echoing all 10,000 characters.
    with pytest.raises(ValueError) as caught:
        ExperimentConfig(segments_file="x" * 10_000)
    assert str(caught.value) == (
        "`segments_file` must be a file path of at most 4,096 characters; got 10,000."
    )
    # Within PATH_MAX but a name longer than the file system's 255 bytes: one short line.
    with pytest.raises(ValueError) as caught:
        read_inputs(ExperimentConfig(catalogue_file="y" * 300))
    assert str(caught.value) == f"cannot read catalogue file {'y' * 79}…: File name too long."


@pytest.mark.parametrize("kind", ["folder", "device"])
def test_a_path_that_is_not_a_regular_file_is_named_as_such(kind, tmp_path):
    path = tmp_path if kind == "folder" else pathlib.Path("/dev/zero")
    if not path.exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(ValueError, match=f"catalogue file {path} is not a regular file"):
        build_scenario(ExperimentConfig(catalogue_file=str(path)))


def test_file_sha256_is_the_recorded_hash_read_as_boundedly(files, tmp_path):
    # The hash a run records (of the bytes it read), from the same one bounded read.
    config = ExperimentConfig(catalogue_file=str(files["catalogue"]))
    assert file_sha256(files["catalogue"]) == read_inputs(config).files["catalogue"]["sha256"]
    # What the run's reads refuse, it refuses in the same one line, never reading for ever.
    with pytest.raises(
        ValueError, match=f"^input file {re.escape(str(tmp_path))} is not a regular file$"
    ):
        file_sha256(tmp_path)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (LIMITS.file_bytes + 1))
    with pytest.raises(
        ValueError,
        match=f"^catalogue file {re.escape(str(big))} is larger than {LIMITS.file_bytes:,} ",
    ):
        file_sha256(big, "catalogue")
    with pytest.raises(ValueError, match=r"^input file not found: /no/such\.csv$"):
        file_sha256("/no/such.csv")
    if hasattr(os, "mkfifo"):  # a named pipe would wait for a writer for ever
        os.mkfifo(tmp_path / "pipe.csv")
        with pytest.raises(ValueError, match=r"pipe\.csv is not a regular file$"):
            file_sha256(tmp_path / "pipe.csv")


TINY = ["--users", "1000", "--impressions", "2000", "--batch-size", "500", "--seeds", "1",
        "--policies", "uniform,thompson", "--no-progress"]  # fmt: skip


def test_a_run_with_the_three_flags_records_the_hashes(files, tmp_path):
    out, store = tmp_path / "out", tmp_path / "store"
    flags = ["--segments-file", str(files["segments"]), "--catalogue", str(files["catalogue"]),
             "--templates", str(files["templates"])]  # fmt: skip
    assert main(["run", *TINY, *flags, "--out", str(out), "--store", str(store)]) == 0
    expected = {
        kind: {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for kind, path in files.items()
    }
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"] == expected
    assert run["config"]["n_segments"] == 2
    assert run["config"]["catalogue_file"] == str(files["catalogue"])
    saved = RunStore.open(store)
    (run_id,) = saved.list()["run_id"]
    assert dict(saved.load(run_id).inputs) == expected
    arms = saved.load(run_id).tables["allocation"]
    labels = set(arms.loc[arms["level"] == "generic", "arm_label"])
    assert labels and {label.split(" · ")[0] for label in labels} <= PRODUCTS


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("catalogue", "name,category,price\nA,cars,5\n", r"products\.csv, product 1: category "),
        ("segments", "audience_id,top_interests\nx,astrology\n", r"segments\.csv, audience 1"),
        ("templates", "[en.informative]\nheadline = ['{price}']\n", r"copy\.toml"),
    ],
)
def test_bad_files_give_one_error_line_and_write_nothing(files, tmp_path, capsys, kind, text,
                                                         message):  # fmt: skip
    files[kind].write_text(text, encoding="utf-8")
    out, store = tmp_path / "out", tmp_path / "store"
    flag = {"segments": "--segments-file", "catalogue": "--catalogue", "templates": "--templates"}
    args = ["run", *TINY, flag[kind], str(files[kind]), "--out", str(out), "--store", str(store)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert re.search(message, err[0])
    assert not out.exists()
    assert not (store / "runs").exists() or not any((store / "runs").iterdir())


def test_segments_and_segments_file_do_not_go_together(files, tmp_path, capsys):
    args = ["run", *TINY, "--segments", "3", "--segments-file", str(files["segments"]),
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 2
    assert "do not go together" in capsys.readouterr().err


def test_the_generated_level_composes_from_the_own_catalogue_and_templates(files):
    config, _ = resolve_inputs(
        ExperimentConfig(
            n_users=500,
            levels=("generated",),
            policies=("uniform",),
            catalogue_file=str(files["catalogue"]),
            templates_file=str(files["templates"]),
        )
    )
    level = build_scenario(config).levels["generated"]
    space = level.space
    # The product axis is the file's five products, with their prices.
    assert space.n_levels[0] == 5
    assert sorted(level.product_price.tolist()) == [19.0, 35.0, 49.0, 89.0, 120.0]
    combos = space.enumerate_valid()  # 240,000 raw, 65,300 valid
    draws = combos[np.random.default_rng(3).choice(len(combos), 200, replace=False)]
    audience = Audience(kind="user", audience_id="u", name="u", top_interests=("books",))
    made = [level.compose(c, audience) for c in draws]
    assert all(c.guardrail.passed for c in made)
    assert {c.product for c in made} <= PRODUCTS
    # The file's English informative headline is the only one of its style there.
    plain = [
        c
        for c, combo in zip(made, draws, strict=True)
        if c.tone == "informative" and c.language == "en" and combo[3] == 0  # plain headline
    ]
    assert plain and all(c.headline.startswith("BYOD ") for c in plain)


def test_regenerated_children_come_from_the_own_catalogue_and_templates(files):
    from simulation.engine.core import run_experiment
    from simulation.scenario import pool_composer

    config, _ = resolve_inputs(
        ExperimentConfig(
            n_users=1_000,
            levels=("generic",),
            policies=("thompson",),
            n_impressions=12_000,
            batch_size=500,
            n_seeds=1,
            n_checkpoints=4,
            regenerate_every=3_000,
            catalogue_file=str(files["catalogue"]),
            templates_file=str(files["templates"]),
        )
    )
    scen = build_scenario(config)
    result = run_experiment(config, scenario=scen, n_jobs=1)
    g = result.generations_frame()
    children = g[g["generation"] > 0]
    assert len(children) >= 3
    composer = pool_composer(scen, "generic")
    assert composer.space.n_levels[0] == 5  # the file's products
    for child in children.itertuples():
        combo = np.array([int(x) for x in child.combo.split()])
        made = composer.compose(0, combo)
        assert made is not None
        assert {c.product for c in made} <= PRODUCTS
