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
UCB1's spread floored at the pooled spread (default preset only); re-recorded when the
linear policies' scores stopped going through a BLAS (LinUCB's near-ties were decided by the
processor's BLAS kernel: these hashes had been recorded on an Intel machine and failed on an
AMD one; they now hold under every ``OPENBLAS_CORETYPE`` tried, Prescott to SkylakeX, and
with numpy's AVX-512 paths disabled). Recorded with
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
        "810561cc5d75e3efdc61193389081b9da4757e66a2097247aa61797478749946",
        "20e005c5fc83a0d52faf3102ef923e590946ace46a39a22c4529165884c63fdb",
    ),
    "roas": (
        "151a8c30f1c5bacdc7293cb0b8cd0226d8a59d6d2b26de37e5d042b463f20e64",
        "e247843ab32b8fe1029742b8f864fb557c36d7824aa15747ee7a2e072562be6f",
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
