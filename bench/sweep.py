"""Benchmark sweeps: local worker processes and a Dask LocalCluster against the ideal.

Usage::

    .venv/bin/python bench/sweep.py                # 200 short runs on 2 workers, both backends
    .venv/bin/python bench/sweep.py --runs 20      # a quicker look

The ideal wall time of a sweep on W workers is the sum of its runs' own times
(each run's ``elapsed_seconds``, measured inside the worker) divided by W. The
script prints each backend's wall time, its ratio to that ideal (goal: local
within 1.10) and the overhead per run, ``(wall - ideal) / runs``: pool or cluster
start-up, task shipping, result transfer, the atomic store and the tabulation of
each run. A fresh worker first imports the engine (numba, scikit-learn, SciPy):
the script times that import in a fresh interpreter and also prints the ratio
without it (``ratio-s``), the overhead that grows with the number of runs. The
load average is printed next to each line: on a shared machine the runs' own
times stretch with the load as much as the wall time does. Both backends'
tables are compared byte for byte.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simulation.sweep import parse_grid, prepare_folder, run_sweep

#: A short run: 500 users, 2 segments, 2,000 impressions, 2 policies, 2 replications.
BASE = {
    "n_users": 500,
    "n_segments": 2,
    "n_impressions": 2_000,
    "batch_size": 500,
    "n_seeds": 2,
    "n_checkpoints": 4,
    "policies": ["uniform", "thompson"],
}


def measure(backend: str, n_runs: int, workers: int, folder: Path) -> tuple[float, float, bytes]:
    """Wall time, the runs' summed own time and the table's CSV bytes of one sweep."""
    plan = parse_grid({**BASE, "grid": {"seed": list(range(n_runs))}})
    text = f"# bench/sweep.py {n_runs} runs\n"
    out = prepare_folder(folder / backend, plan, text, force=False)
    started = time.perf_counter()
    outcome = run_sweep(plan, out, backend=backend, workers=workers)
    wall = time.perf_counter() - started
    assert outcome.n_executed == n_runs
    return wall, outcome.run_seconds, (out / "sweep.csv").read_bytes()


def startup_seconds() -> float:
    """Time a fresh interpreter takes to import what a sweep worker needs before its first run."""
    code = "import simulation.sweep.runner, simulation.engine, threadpoolctl"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    backends = ["local"] + ([] if args.skip_dask else ["dask"])
    tables = {}
    print(f"{args.runs} runs of {BASE} on {args.workers} workers")
    startup = startup_seconds()
    print(f"worker start-up (imports in a fresh interpreter): {startup:.2f} s")
    print(
        f"{'backend':8} {'wall s':>8} {'runs s':>8} {'ideal s':>8} {'ratio':>6} {'ms/run':>7} "
        f"{'ratio-s':>7} {'load':>5}"
    )
    with tempfile.TemporaryDirectory(prefix="adlab-bench-sweep-") as tmp:
        for backend in backends:
            wall, run_seconds, tables[backend] = measure(
                backend, args.runs, args.workers, Path(tmp)
            )
            ideal = run_seconds / args.workers
            overhead_ms = (wall - ideal) / args.runs * 1e3
            print(
                f"{backend:8} {wall:8.2f} {run_seconds:8.2f} {ideal:8.2f} "
                f"{wall / ideal:6.2f} {overhead_ms:7.1f} {(wall - startup) / ideal:7.2f} "
                f"{os.getloadavg()[0]:5.1f}"
            )
    if len(tables) == 2:
        same = tables["local"] == tables["dask"]
        print(f"tables identical byte for byte: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
