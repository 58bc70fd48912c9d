"""Your own segments, catalogue and templates in an experiment run from the app."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ui.uploads import (
    UploadError,
    parse_catalogue_upload,
    parse_segments_upload,
    segments_csv,
    write_input,
)

SEGMENTS = (
    b"audience_id,name,top_interests,keywords,active_hours,mobile_share,price_sensitivity,"
    b"language,size\n"
    b"kr-gamers,Seoul night gamers,gaming;tech,rpg,night,0.9,0.8,ko,30\n"
    b"us-readers,US morning readers,books;food,,morning,0.2,0.3,en,70\n"
)
CATALOGUE = b"name,category,price\nQuest Pad,gaming,49\nSaga Novel,books,19\nChef Box,food,35\n"


def test_catalogue_upload_is_parsed_and_a_bad_one_refused_with_its_name():
    assert set(parse_catalogue_upload("mine.csv", CATALOGUE)) == {"gaming", "books", "food"}
    with pytest.raises(UploadError, match=r"bad\.csv, product 1: `category` must be one of") as e:
        parse_catalogue_upload("bad.csv", b"name,category,price\nA,cars,5\n")
    assert "/tmp" not in str(e.value)
    with pytest.raises(UploadError, match=r"expected a \.csv file"):
        parse_catalogue_upload("mine.xlsx", CATALOGUE)


def test_segments_round_trip_and_uploads_are_written_by_content(tmp_path):
    audiences = parse_segments_upload("mine.csv", SEGMENTS)
    again = parse_segments_upload("again.csv", segments_csv(audiences))
    assert again == audiences
    path = Path(write_input(tmp_path, "../my segments!.csv", SEGMENTS))
    # The content's hash names the folder; the user's name is made safe and stays inside it.
    assert path.parent == tmp_path / hashlib.sha256(SEGMENTS).hexdigest()
    assert path.name == "my_segments.csv" and path.read_bytes() == SEGMENTS


def test_use_my_segments_and_catalogue_runs_on_them_and_results_show_the_files(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    boxes = {c.label: c for c in at.checkbox}
    assert boxes["Use my segments"].disabled and boxes["Use my catalogue"].disabled
    # AppTest cannot upload files: the session holds what the Audience and Creatives
    # pages keep after parsing an upload.
    at.session_state["uploaded_segments"] = ("mine.csv", parse_segments_upload("m.csv", SEGMENTS))
    catalogue = parse_catalogue_upload("products.csv", CATALOGUE)
    at.session_state["uploaded_catalogue"] = ("products.csv", CATALOGUE, catalogue)
    at.switch_page("ui/pages/audience.py").run()
    at.switch_page("ui/pages/experiment.py").run()
    boxes = {c.label: c for c in at.checkbox}
    assert not boxes["Use my segments"].disabled and boxes["Use my templates"].disabled

    def audience() -> str:
        (text,) = [c.value.replace("\\", "") for c in at.caption
                   if c.value.startswith("Audience:")]  # fmt: skip
        return text

    # The page's audience line says what ticking the box changes, then what the run uses.
    assert "tick **Use my segments** to run on your 2 segments from mine.csv" in audience()
    boxes["Use my segments"].check()
    boxes["Use my catalogue"].check()
    run_small_experiment(at, **{"ex-levels": ["generic", "segment"]})
    assert not at.exception, at.exception
    assert "users drawn around your 2 segments from mine.csv" in audience()
    assert "segments, seed" not in audience().split("drawn")[0]
    entry = at.session_state["ex-current"]
    config, result = entry["config"], entry["result"]
    assert config.n_segments == 2 and Path(config.segments_file).name == "mine.csv"
    assert result.segment_names == ("Seoul night gamers", "US morning readers")
    products = {"Quest Pad", "Saga Novel", "Chef Box"}
    assert {label.split(" · ")[0] for label in result.arm_labels["generic"]} <= products
    assert entry["run_id"]
    at.switch_page("ui/pages/results.py").run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**Your files in this run:**")]
    assert len(shown) == 1
    text = shown[0].replace("\\", "")  # Markdown escapes
    assert text.index("segments") < text.index("catalogue")
    catalogue_hash = hashlib.sha256(CATALOGUE).hexdigest()[:12]
    assert "mine.csv" in text and "products.csv" in text and catalogue_hash in text


def test_the_creatives_page_lists_which_uploaded_products_take_no_discount(app, open_page):
    data = (
        b"name,category,price,discountable,show_price\n"
        b"Gold Account,finance,1,no,no\nChef Box,food,35,,\n"
    )
    at = open_page(app, "creatives")
    at.session_state["uploaded_catalogue"] = (
        "mine.csv",
        data,
        parse_catalogue_upload("mine.csv", data),
    )
    at.run()
    frame = next(df.value for df in at.dataframe if "discountable" in df.value.columns)
    assert dict(zip(frame["name"], frame["discountable"], strict=True)) == {
        "Gold Account": False,
        "Chef Box": True,
    }
    assert dict(zip(frame["name"], frame["price shown"], strict=True)) == {
        "Gold Account": False,
        "Chef Box": True,
    }
