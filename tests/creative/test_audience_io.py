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


def test_csv_with_a_byte_order_mark(tmp_path):
    # Spreadsheet programs save "CSV UTF-8" with a BOM; the first header must still be
    # audience_id, not "\ufeffaudience_id".
    path = tmp_path / "a.csv"
    path.write_bytes("audience_id,top_interests\r\ns1,gaming\r\n".encode("utf-8-sig"))
    (a,) = read_audiences(path)
    assert (a.audience_id, a.top_interests) == ("s1", ("gaming",))


def test_toml_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes(
        '[[audience]]\naudience_id = "s1"\ntop_interests = ["pets"]\n'.encode("utf-8-sig")
    )
    assert [a.audience_id for a in read_audiences(path)] == ["s1"]


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), ("12.0", 12), (7, 7), (3.0, 3), ("1e3", 1000)]
)
def test_size_accepts_whole_numbers(value, expected):
    row = {"audience_id": "x", "top_interests": "food", "size": value}
    assert audience_from_mapping(row).size == expected


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"audience_id": "x", "top_interests": "food", "size": "inf"}, "finite"),
        ({"audience_id": "x", "top_interests": "food", "size": float("nan")}, "finite"),
        ({"audience_id": "x", "top_interests": "food", "size": 0}, r"in \[1, "),
        ({"audience_id": "x", "top_interests": "food", "size": 10**400}, r"in \[1, "),
        ({"audience_id": "x", "top_interests": "food", "mobile_share": "1e400"}, "finite"),
        ({"audience_id": "generic", "top_interests": "food"}, "must not be one of"),
        ({"audience_id": "x", "keywords": ["k" * 101], "top_interests": "food"}, "`keyword`"),
    ],
)
def test_bad_numbers_and_ids(row, match):
    with pytest.raises(ValueError, match=match) as info:
        audience_from_mapping(row)
    assert len(str(info.value)) < 200
