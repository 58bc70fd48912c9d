import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_runs_and_prints_figures():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "creatives.py"), "--quick", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for fmt in ("png", "jpeg", "webp"):
        assert f"tiny    {fmt}" in out
    assert "x ref" in out
    assert "p50" in out and "p95" in out
    assert "zlib level" in out
