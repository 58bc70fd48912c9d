import pytest

from creative.audience_io import audience_from_mapping, read_audiences


def test_csv_lists_and_defaults(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "audience_id,top_interests,keywords,mobile_share,size\n"
        "s1,gaming; tech,rpg|controller,0.8,12\n"
        "s2,food,,,\n",
        encoding="utf-8",
    )
    a, b = read_audiences(path)
    assert a.top_interests == ("gaming", "tech")
    assert a.keywords == ("rpg", "controller")
    assert (a.mobile_share, a.size, a.kind, a.name) == (0.8, 12, "segment", "s1")
    assert b.keywords == () and b.active_hours is None and b.mobile_share == 0.5


def test_toml_values(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(
        '[[audience]]\naudience_id = "u1"\nkind = "user"\ntop_interests = ["pets"]\n'
        'language = "ko"\nsize = 1\nprice_sensitivity = 1\n'
    )
    (a,) = read_audiences(path)
    assert (a.kind, a.language, a.price_sensitivity) == ("user", "ko", 1.0)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"name": "x"}, "`audience_id` is required"),
        ({"audience_id": "x", "top_interests": 3}, "list of strings"),
        ({"audience_id": "x", "top_interests": "food", "mobile_share": True}, "number"),
    ],
)
def test_bad_rows(row, match):
    with pytest.raises(ValueError, match=match):
        audience_from_mapping(row)
