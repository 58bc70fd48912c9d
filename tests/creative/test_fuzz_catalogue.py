"""Fuzzing the product catalogue reader (issue #17): a catalogue or one clear error."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creative.catalogue import read_catalogue

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CELLS = st.sampled_from(
    [
        "Trail Shoe", "fashion", "gaming", "finance", "toys", "49.0", "0", "-3", "inf", "nan",
        "1e400", "1e7", "스니커즈", "![x](http://127.0.0.1:1/a)", "a" * 300, "\u200b", "",
        '"', "\ufeff", "12,5",
    ]
)  # fmt: skip
HEADERS = st.sampled_from(["name", "category", "price", "name_ko", "extra"])


@FUZZ
@given(
    st.lists(HEADERS, min_size=1, max_size=5, unique=True),
    st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=5),
    st.binary(max_size=32),
)
def test_catalogue_reader_accepts_or_refuses_in_one_line(header, rows, junk):
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.csv"
        path.write_bytes(text.encode("utf-8") + junk)
        try:
            catalogue = read_catalogue(path)
        except ValueError as exc:
            assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 2_000
        else:
            assert all(p.price > 0 for products in catalogue.values() for p in products)
