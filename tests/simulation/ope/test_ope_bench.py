import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_ope_quick_runs_and_prints_ratios(tmp_path):
    # Run from an unrelated folder: the bench and the data must not depend on the cwd.
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ope.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("adlab OPE benchmark (quick)")
    if "Part 1 skipped" not in out:
        rows = re.findall(r"^men\s+(\w+)\s+([\d.]+) \[([\d.]+), ([\d.]+)\]\s+([\d.]+)", out, re.M)
        assert [row[0] for row in rows] == ["ips", "snips", "dm", "dr", "sndr"]
        for _, estimate, low, high, ctr in rows:
            assert float(low) <= float(estimate) <= float(high)
            assert float(ctr) == pytest.approx(0.0069)
    speeds = re.findall(r"^(ips|snips|dm|dr|switch_dr|sndr)\s+([\d,]+)\s+([\d.]+)x", out, re.M)
    assert len(speeds) == 3 * 6  # estimate() and interval() at two sizes
    assert all(float(ratio) > 0 for _, _, ratio in speeds)
    assert list(tmp_path.iterdir()) == []  # writes nothing
