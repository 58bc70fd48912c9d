import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_bench_store_quick_runs_and_prints_ratios(tmp_path):
    options = ["--n-rows", "20000", "--n-runs", "5", "--repeats", "1", "--dir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "store.py"), "--quick", *options],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("adlab run store benchmark")
    rows = [re.match(r"(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x  (.+)$", line) for line in lines[2:]]
    assert [row.group(1) for row in rows] == [
        "save (20,000-row time series)",
        "load",
        "list() of 5 runs",
        "list() of 5, catalogue rebuilt",
    ]
    assert all(float(row.group(2)) > 0 and float(row.group(4)) > 0 for row in rows)
    assert list(tmp_path.iterdir()) == []  # the scratch store is removed
