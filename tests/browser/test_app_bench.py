"""bench/app.py, the app timing benchmark, runs end to end on a small experiment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_app_bench_quick_prints_every_timing(browser_type_launch_args):
    # browser_type_launch_args (conftest) skips, or fails in CI, without Chromium.
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "app.py"), "--quick"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    out = result.stdout
    for page in ("audience", "creatives", "experiment", "results", "ope"):
        assert f"first render: {page}" in out
    for row in (
        "click-to-charts, cold",
        "click-to-charts, warm (median of 3)",
        "of which the engine, warm",
        "click-to-charts, repeat (cached)",
        "warm runs (impressions",
    ):
        assert row in out
