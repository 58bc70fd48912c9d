"""Catalogue and templates files that cannot make the ads: refused at the boundary, in one line."""

import pytest

from creative.generate import GenerationReport
from creative.templates import load_templates, product_room
from simulation.__main__ import main
from simulation.config import ExperimentConfig
from simulation.inputs import InputsRejected, read_inputs
from simulation.scenario import build_scenario, too_few_ads

TONES = ("playful", "urgent", "premium", "informative", "social_proof")
#: Four {interest} slots count one column each when the loader and the reader check widths,
#: and print a whole label ("fitness") in an ad: the lines pass the checks, the ads do not.
CROWDED = "{product} {interest}{interest}{interest}{interest}"
TINY = ["--users", "1000", "--impressions", "2000", "--batch-size", "500", "--seeds", "1",
        "--policies", "uniform", "--levels", "generic", "--no-progress"]  # fmt: skip


@pytest.fixture
def crowded(tmp_path):
    """A templates file of crowded headlines and a catalogue whose one name just fits them."""
    templates = tmp_path / "crowded.toml"
    templates.write_text(
        "".join(f'[en.{tone}]\nheadline = ["{CROWDED}"]\n' for tone in TONES), encoding="utf-8"
    )
    room, _ = product_room(load_templates(templates), "en")
    catalogue = tmp_path / "products.csv"
    catalogue.write_text(f"name,category,price,name_ko\n{'F' * room},fitness,20,요가 매트\n")
    return {"templates": templates, "catalogue": catalogue, "room": room}


def test_a_catalogue_is_checked_against_the_run_s_own_templates(tmp_path, crowded):
    # The name fits the file's lines (room 59), not the bundled ones (room 55).
    config = ExperimentConfig(catalogue_file=str(crowded["catalogue"]))
    with pytest.raises(ValueError, match=r"products\.csv, product 1: `name` 'FFF"):
        read_inputs(config)
    inputs = read_inputs(config.replace(templates_file=str(crowded["templates"])))
    assert inputs.catalogue["fitness"][0].name == "F" * crowded["room"]
    assert list(inputs.files) == ["catalogue", "templates"]  # recorded in the usual order


def test_too_few_ads_names_the_files_the_rule_and_the_longest_name(crowded):
    config = ExperimentConfig(
        n_users=1_000,
        catalogue_file=str(crowded["catalogue"]),
        templates_file=str(crowded["templates"]),
    )
    with pytest.raises(InputsRejected) as caught:
        build_scenario(config)
    message = str(caught.value)
    assert message.startswith("only 0 of the 5 generic en ads the experiment needs")
    assert "(rejected: length " in message
    assert f"catalogue file {crowded['catalogue']}" in message
    assert f"templates file {crowded['templates']}" in message
    assert f"is {crowded['room']} columns" in message and "\n" not in message


def test_with_the_bundled_inputs_only_n_variants_is_left_to_lower():
    report = GenerationReport(accepted=(), rejected=(), n_requested=5)
    error = too_few_ads(report, 5, "segment 2", ExperimentConfig(), read_inputs(ExperimentConfig()))
    assert str(error) == (
        "only 0 of the 5 segment 2 ads the experiment needs (n_variants) passed the "
        "guardrails; lower n_variants (5)."
    )


def test_run_refuses_them_in_one_line_and_creates_nothing(tmp_path, crowded, capsys, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("ADLAB_HOME", str(home))
    out = tmp_path / "new" / "out"
    flags = ["--catalogue", str(crowded["catalogue"]), "--templates", str(crowded["templates"])]
    assert main(["run", *TINY, *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: only 0 of the 5 generic en ads")
    # The world is built before any folder or the store: a refusal leaves neither.
    assert not home.exists() and not out.parent.exists()


def test_run_refuses_a_name_no_headline_holds_before_anything_runs(tmp_path, capsys):
    catalogue = tmp_path / "cat2.csv"
    catalogue.write_text(f"name,category,price\nDuffel,travel,129\n{'D' * 90},travel,99\n")
    store, out = tmp_path / "store", tmp_path / "out"
    args = ["run", *TINY, "--catalogue", str(catalogue), "--out", str(out), "--store", str(store)]
    assert main(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {catalogue}, product 2: name 'DDD")
    assert "`" not in err[0] and "90 columns wide" in err[0]
    assert not store.exists() and not out.exists()


BANNED = "name,category,price\nMiracle Cure Cream,beauty,35\nCanvas Sneakers,fashion,59\n"


def test_run_warns_of_a_banned_word_in_a_product_name(tmp_path, capsys):
    catalogue = tmp_path / "cat3.csv"
    catalogue.write_text(BANNED)
    store, out = tmp_path / "store", tmp_path / "out"
    args = ["run", *TINY, "--catalogue", str(catalogue), "--out", str(out), "--store", str(store)]
    assert main(args) == 0  # a warning, not an error
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: 1 product name(s) hold a phrase the brand kit bans")
    assert "'Miracle Cure Cream' (cure, miracle)" in warnings[0]


def test_compose_warns_of_it_too_and_says_nothing_without_one(tmp_path, capsys):
    catalogue = tmp_path / "cat3.csv"
    catalogue.write_text(BANNED)
    config = tmp_path / "cfg.toml"
    config.write_text(f'n_users = 1500\nn_segments = 3\ncatalogue_file = "{catalogue}"\n')
    argv = ["compose", "--config", str(config), "--size", "200", "--out", str(tmp_path / "a.png")]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line[:40] for line in err] == ["warning: 1 product name(s) hold a phrase"]
    catalogue.write_text(BANNED.replace("Miracle Cure Cream", "Day Cream"))
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
