"""Templates with characters the bundled fonts cannot draw are refused, not silently cut."""

from __future__ import annotations

import pytest

from creative.__main__ import main
from creative.fonts import check_drawable, displayable
from creative.templates import load_templates


def _file(tmp_path, headline):
    path = tmp_path / "t.toml"
    path.write_text(
        f'[ko.playful]\nheadline = ["{headline}"]\nbody = ["{{product}}"]\ncta = ["보기"]\n',
        encoding="utf-8",
    )
    return path


def test_check_drawable_names_each_missing_character_once():
    text = "{product} 🎁 東京 스타일 🎁"
    # What the images would have printed: the brand's words gone without a word.
    assert displayable(text).split() == ["{product}", "스타일"]
    with pytest.raises(ValueError, match="cannot draw") as info:
        check_drawable(text, "template ko.playful.headline[0]")
    message = str(info.value)
    assert "\n" not in message and message.startswith("template ko.playful.headline[0] uses")
    assert "'🎁' (U+1F381), '東' (U+6771), '京' (U+4EAC)" in message
    assert message.count("🎁") == 1


@pytest.mark.parametrize("text", ["Tokyo style", "Café crème — “quoted”", "콜드브루 원액 ₩9,900"])
def test_drawable_text_passes_unchanged(text):
    assert check_drawable(text, "x") == text


def test_the_bundled_templates_are_all_drawable():
    for template in load_templates().templates:
        check_drawable(template.text, template.name)


def test_the_cli_refuses_such_a_template_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    path = _file(tmp_path, "{product} 🎁 東京 스타일")
    code = main(["render", "--templates", str(path), "--per-segment", "1", "--size",
                 "preview", "--out", str(out)])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "ko.playful.headline[0]" in err and "'東' (U+6771)" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_the_cli_takes_a_drawable_template(tmp_path, capsys):
    out = tmp_path / "out"
    path = _file(tmp_path, "{product}, 도쿄 스타일")
    args = ["--templates", str(path), "--per-segment", "1", "--size", "preview", "--lang", "ko"]
    code = main(["render", *args, "--segments", "segment-0", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert (out / "manifest.csv").is_file()
