"""Run outputs pinned: a refactor that is not meant to move a number must not.

First recorded on commit d8814f7 for the layout refactor (issue #12); re-recorded
for the truthful world of issue #13 (order value from the shown product's price,
keyword and tone x offer mechanisms, the localized control, language-pure
segments, no built-in personalization bonus), which changes every run; re-recorded for
the fair generator (keywords from the product's category, Korean keywords, offers that fit
the category, no invented social proof), which changes the creatives. Recorded with
``python -m simulation run --preset NAME --out DIR``. ``summary.csv`` is compared
byte for byte; the time series by the CSV text of its table, since Parquet
files carry the writer's version in their metadata. A change to the world or
the policies that is *meant* to move the numbers re-records these hashes in
the same commit, saying why.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

import simulation.__main__ as cli

PINS = {
    "default": (
        "46f5b8acd5062cac2d413d5058a1a19e57d08235516ebb4a7e54eb693ef462cd",
        "93b276f47a2a80d04e6651c8e43bb8319f5b4de0e3131dbed83c0b77876bf1ee",
    ),
    "roas": (
        "91bef8632b19b1df550b8399aa80e841b43cfd07833500854fb11c4fd8823a2b",
        "12f2aeb8f98144cc14cdfe828d0042a739acfd50d9a0a8c6a3390c598f533888",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(PINS))
def test_preset_outputs_match_the_pre_refactor_hashes(preset, tmp_path):
    out = tmp_path / "out"
    argv = ["run", "--preset", preset, "--out", str(out), "--store", str(tmp_path / "store")]
    assert cli.main([*argv, "--no-progress"]) == 0
    summary = hashlib.sha256((out / "summary.csv").read_bytes()).hexdigest()
    series = pd.read_parquet(out / "timeseries.parquet").to_csv(index=False).encode()
    assert (summary, hashlib.sha256(series).hexdigest()) == PINS[preset]
