import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_engine_bench_quick_runs_and_prints_ratios():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "engine.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for heading in ("Policy decisions/s", "Audience", "Memory", "Default experiment"):
        assert heading in out
    assert "x naive Thompson" in out and "speed-up" in out
