"""Reading a product catalogue CSV: a valid file, and a table of bad ones."""

import numpy as np
import pytest

from creative.audience import Audience
from creative.catalogue import CATALOGUE, MAX_PRODUCTS, read_catalogue
from creative.generate import generate_for_segment, generate_for_user, generate_generic
from creative.limits import LIMITS


def _write(tmp_path, text, name="products.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_catalogue_reads_into_categories_in_file_order(tmp_path):
    path = _write(
        tmp_path,
        "\ufeffname,category,price,name_ko\n"
        "Quest Pad,gaming,49,퀘스트 패드\n"
        "Saga Novel,books,19.5,\n"
        # The trailing comma is the blank name_ko cell: a row without it is short.
        "Arcade Stick,Gaming,$1,200,\n".replace("$1,200", '"$1,200"'),
    )
    catalogue = read_catalogue(path)
    assert list(catalogue) == ["gaming", "books"]  # INTERESTS order
    quest, stick = catalogue["gaming"]
    assert (quest.name, quest.name_ko, quest.price) == ("Quest Pad", "퀘스트 패드", 49.0)
    assert (stick.name, stick.price) == ("Arcade Stick", 1200.0)
    (novel,) = catalogue["books"]
    assert novel.name_ko == "Saga Novel"  # blank Korean name: the English one


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("", "p.csv", "missing column"),
        ("name,category\nA,food\n", "p.csv", r"missing column\(s\) \['price'\]"),
        ("name,category,price\n", "p.csv", "no products found"),
        ("name,category,price\nA,food,5\n", "p.txt", "must end in .csv"),
        ("name,category,price\nA,cars,5\n", "p.csv", r"product 1: `category` must be one of \["),
        ("name,category,price\nA,food,0\n", "p.csv", r"product 1: `price` must be a finite"),
        ("name,category,price\nA,food,-3\n", "p.csv", "`price` must be a finite"),
        ("name,category,price\nA,food,nan\n", "p.csv", "`price` must be a finite"),
        ("name,category,price\nA,food,inf\n", "p.csv", "`price` must be a finite"),
        ("name,category,price\nA,food,1e7\n", "p.csv", r"in \(0, 1,000,000\]"),
        ("name,category,price\nA,food,cheap\n", "p.csv", "`price` must be a number"),
        ("name,category,price\n,food,5\n", "p.csv", "`name` is required"),
        (f"name,category,price\n{'x' * 121},food,5\n", "p.csv", "at most 120 characters"),
        ("name,category,price\nA\u0007,food,5\n", "p.csv", "control or format"),
        ("name,category,price,colour\nA,food,5,red\n", "p.csv", r"unknown column\(s\)"),
        ("name,category,price\nA,food,5,extra\n", "p.csv", "more cells than header"),
        ("name,category,price\nA,food,5\na,food,6\n", "p.csv", "product 2: duplicate name"),
    ],
)
def test_bad_catalogues_are_refused_with_the_row_and_the_reason(tmp_path, text, name, message):
    path = _write(tmp_path, text, name)
    with pytest.raises(ValueError, match=message):
        read_catalogue(path)


def test_a_bad_category_lists_the_valid_ones(tmp_path):
    path = _write(tmp_path, "name,category,price\nA,food,5\nB,cars,5\n")
    with pytest.raises(ValueError) as info:
        read_catalogue(path)
    assert "product 2" in str(info.value) and all(c in str(info.value) for c in CATALOGUE)


def test_size_and_row_bounds(tmp_path):
    rows = "".join(f"P{i},food,5\n" for i in range(MAX_PRODUCTS + 1))
    with pytest.raises(ValueError, match="more than 1,000 products"):
        read_catalogue(_write(tmp_path, "name,category,price\n" + rows))
    big = "name,category,price\n" + "A" * (LIMITS.file_bytes + 1)
    with pytest.raises(ValueError, match="larger than"):
        read_catalogue(_write(tmp_path, big))
    with pytest.raises(ValueError, match="not found"):
        read_catalogue(tmp_path / "missing.csv")
    (tmp_path / "latin1.csv").write_bytes(b"name,category,price\ncaf\xe9,food,5\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_catalogue(tmp_path / "latin1.csv")


def test_generation_shows_only_the_catalogue_products(tmp_path):
    catalogue = read_catalogue(
        _write(tmp_path, "name,category,price\nQuest Pad,gaming,49\nSaga Novel,books,19\n")
    )
    names = {"Quest Pad", "Saga Novel"}
    generic = generate_generic(2, np.random.default_rng(0), catalogue=catalogue)
    # The popular categories sell nothing here: all the catalogue sells stands in.
    assert {c.product for c in generic.accepted} <= names and generic.accepted
    reader = Audience(kind="segment", audience_id="r", name="r", top_interests=("books", "food"))
    seg = generate_for_segment(reader, 3, np.random.default_rng(0), catalogue=catalogue)
    assert {c.product for c in seg.accepted} == {"Saga Novel"}  # food is not sold
    assert {c.price for c in seg.accepted} == {19.0}
    user = Audience(kind="user", audience_id="u", name="u", top_interests=("pets", "gaming"))
    assert generate_for_user(user, np.random.default_rng(0), catalogue=catalogue).product == (
        "Quest Pad"
    )
