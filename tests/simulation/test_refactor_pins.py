"""Run outputs pinned: a refactor that is not meant to move a number must not.

First recorded on commit d8814f7 for the layout refactor (issue #12); re-recorded
for the truthful world of issue #13 (order value from the shown product's price,
keyword and tone x offer mechanisms, the localized control, language-pure
segments, no built-in personalization bonus), which changes every run; re-recorded for
the fair generator (keywords from the product's category, Korean keywords, offers that fit
the category, no invented social proof), which changes the creatives; re-recorded for
learners fitted to the reward's scale (variance-aware UCB1, LinUCB/LinTS widths scaled by the
reward spread, value objectives learned in dollars), exact LinUCB ties under any BLAS
blocking, expected conversions and the budget-stop column in the summary; re-recorded for
UCB1's spread floored at the pooled spread (default preset only). Recorded with
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
        "d7d6dd9dce198b192296cb0165411db161c8463df5c2a59dbae28c7c66fcf6c5",
        "4383c534bf193f427dcafccb0de4ee545b10c818ab757a9389c8bcde5489b927",
    ),
    "roas": (
        "63a6ed8f7af0a3138c7623673d07c410c9090a1ad9ce0e6b9dce76310bf1453c",
        "d66ab354328c5d1917b4172425ebf9265483a578f1ed146d3d33061ecc0d4903",
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
