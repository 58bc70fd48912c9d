"""How fast the learning policies pull away from the A/B split in the default world.

For each objective, one run of the default preset (``PRESETS["default"]`` with
that objective) at the longest horizon, its time series read at every batch:
a policy's first ``H`` impressions are exactly a run of horizon ``H`` (policies
do not know the horizon, and every draw comes from the replication's streams),
so one run measures the whole grid of horizons.

Printed, per objective and level:

- the share of the uniform -> oracle gap each learning policy closes at the
  report horizons, ``1 - regret(policy) / regret(uniform)`` from expected
  rewards (the oracle shows every impression its best creative), mean over
  seeds;
- "impressions to separate": the smallest horizon on the grid at which the best
  learning policy's observed objective (CTR = clicks / impressions, ROAS =
  revenue / spend) beats uniform's with a paired 95 % t interval (over seeds,
  same users and draws) excluding zero. The best policy is the one with the
  largest mean paired difference at that horizon.

Run from the repository root::

    python bench/separation.py --seeds 4 --impressions 1000000 --json out.json

``PYTHONPATH=OTHER_CHECKOUT`` measures another version of ``simulation`` (the
checkout is installed in editable mode; ``PYTHONPATH`` comes first on the path).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import stats

from simulation.config import PRESETS
from simulation.engine import SERIES_METRICS, run_experiment

REPORT_AT = (100_000, 300_000, 1_000_000, 3_000_000)
GRID = (
    30_000, 50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 750_000,
    1_000_000, 1_500_000, 2_000_000, 3_000_000,
)  # fmt: skip
_M = {name: i for i, name in enumerate(SERIES_METRICS)}


def observed(series: np.ndarray, objective: str) -> np.ndarray:
    """Observed objective from cumulative totals (..., n_metrics) -> (...)."""
    if objective == "ctr":
        return series[..., _M["clicks"]] / series[..., _M["impressions"]]
    return series[..., _M["revenue"]] / series[..., _M["spend"]]


def measure(objective: str, n_seeds: int, n_impressions: int, n_jobs: int | None) -> dict:
    """Run the default world under ``objective`` and return the measured table."""
    n_batches = n_impressions // 1_000
    config = PRESETS["default"].replace(
        objective=objective,
        n_seeds=n_seeds,
        n_impressions=n_impressions,
        n_checkpoints=min(n_batches, 1_000),
    )
    start = time.perf_counter()
    result = run_experiment(config, n_jobs=n_jobs)
    elapsed = time.perf_counter() - start
    marks = result.checkpoints.astype(int)
    policies = list(result.policies)
    learners = [p for p in policies if p not in ("uniform", "oracle")]
    u = policies.index("uniform")
    out = {"objective": objective, "seconds": round(elapsed, 1), "levels": {}}
    for li, level in enumerate(result.levels):
        s = result.series[:, li]  # (n_seeds, n_policies, n_checkpoints, n_metrics)
        regret = s[..., _M["regret"]]
        obs = observed(s, objective)
        gap = {}
        for h in REPORT_AT:
            if h not in marks:
                continue
            c = int(np.flatnonzero(marks == h)[0])
            closed = 1.0 - regret[:, :, c] / regret[:, u : u + 1, c]
            gap[h] = {p: float(closed[:, policies.index(p)].mean()) for p in learners}
        first = None
        for h in GRID:
            if h not in marks:
                continue
            c = int(np.flatnonzero(marks == h)[0])
            diffs = {p: obs[:, policies.index(p), c] - obs[:, u, c] for p in learners}
            best = max(diffs, key=lambda p: diffs[p].mean())
            d = diffs[best]
            half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
            if d.mean() - half > 0:
                first = {"impressions": h, "policy": best, "diff": float(d.mean())}
                break
        out["levels"][level] = {"gap_closed": gap, "separate": first}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--impressions", type=int, default=1_000_000)
    parser.add_argument("--objectives", default="ctr,roas")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    results = [
        measure(o, args.seeds, args.impressions, args.jobs) for o in args.objectives.split(",")
    ]
    for r in results:
        print(f"\n## objective {r['objective']} ({r['seconds']} s)")
        for level, row in r["levels"].items():
            sep = row["separate"]
            sep_text = (
                f"{sep['impressions']:,} ({sep['policy']})" if sep else f"> {args.impressions:,}"
            )
            gaps = "; ".join(
                f"{h:,}: " + ", ".join(f"{p} {v:+.0%}" for p, v in g.items())
                for h, g in row["gap_closed"].items()
            )
            print(f"{level:8s} separate at {sep_text}; gap closed {gaps}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
