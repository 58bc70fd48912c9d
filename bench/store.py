"""Benchmark the run store against plain Parquet and JSON on the same data.

Usage::

    .venv/bin/python bench/store.py            # 1,000,000-row time series, list() over 200 runs
    .venv/bin/python bench/store.py --quick    # 100,000 rows, 20 runs (a few seconds)

Every figure is the best of ``--repeats`` timings and is printed next to a reference measured in
the same process on the same frame, so the ratio is what carries over between machines:

- save  vs ``df.to_parquet`` of the time series (the store also writes the summary, meta.json,
  fsyncs, renames and inserts a catalogue row);
- load  vs ``pd.read_parquet`` of the time series;
- list() over N runs vs reading N ``meta.json`` files into a DataFrame (what a catalogue-less
  listing would cost); also list() right after the catalogue file was deleted (a full rebuild).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from peers import best_of

from simulation.store.run_store import RunStore


def make_timeseries(n_rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)  # bench data only; the store never draws
    policies = ["ucb1", "thompson", "linucb", "random"]
    n_policies = len(policies)
    return pd.DataFrame(
        {
            "round": np.repeat(np.arange(n_rows // n_policies + 1), n_policies)[:n_rows],
            "policy": pd.Categorical(np.tile(policies, n_rows // n_policies + 1)[:n_rows]),
            "impressions": rng.integers(900, 1100, n_rows),
            "clicks": rng.integers(0, 60, n_rows),
            "ctr": rng.random(n_rows) * 0.06,
            "regret": np.cumsum(rng.random(n_rows)),
        }
    )


def small_run(i: int) -> dict:
    # A summary shaped as the engine's (level, policy, ctr, roas), so that list() does the
    # work it does for real runs: naming each run's best (policy, level) and its CTR and ROAS.
    return dict(
        config={"policies": ["ucb1", "uniform"], "objective": "ctr", "i": i},
        seed=i,
        summary=pd.DataFrame(
            {
                "level": ["user", "user"],
                "policy": ["ucb1", "uniform"],
                "ctr": [0.04, 0.02],
                "roas": [2.0, 1.0],
            }
        ),
        timeseries=pd.DataFrame({"round": np.arange(100), "ctr": np.full(100, 0.03)}),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows and 20 runs")
    parser.add_argument("--n-rows", type=int, default=None)
    parser.add_argument("--n-runs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--dir", default=None, help="where to create the scratch store")
    args = parser.parse_args(argv)
    n_rows = args.n_rows or (100_000 if args.quick else 1_000_000)
    n_runs = args.n_runs or (20 if args.quick else 200)
    repeats = args.repeats or (2 if args.quick else 3)

    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        scratch = Path(scratch)
        frame = make_timeseries(n_rows)
        summary = frame.groupby("policy", observed=True)[["ctr"]].mean().reset_index()

        store = RunStore.open(scratch / "store")
        ids = []

        def save():
            ids.append(store.save(config={"n": n_rows}, seed=0, summary=summary, timeseries=frame))

        ref = scratch / "ref.parquet"
        rows.append(
            (
                f"save ({n_rows:,}-row time series)",
                best_of(repeats, save),
                best_of(repeats, lambda: frame.to_parquet(ref)),
                "df.to_parquet",
            )
        )
        rows.append(
            (
                "load",
                best_of(repeats, lambda: store.load(ids[0])),
                best_of(repeats, lambda: pd.read_parquet(ref)),
                "pd.read_parquet",
            )
        )

        many = RunStore.open(scratch / "many")
        for i in range(n_runs):
            many.save(**small_run(i))
        metas = sorted((many.runs_dir).glob("*/meta.json"))

        def read_metas():
            return pd.DataFrame([json.loads(p.read_text()) for p in metas])

        listed = many.list()
        # Timing a listing that skipped the best-pair columns would flatter the store.
        assert len(listed) == n_runs and (listed["best"] == "ucb1 @ user").all(), listed
        list_ref = best_of(repeats, read_metas)
        ref_name = f"read {n_runs} meta.json"
        rows.append((f"list() of {n_runs} runs", best_of(repeats, many.list), list_ref, ref_name))

        def rebuild():
            (many.root / "catalog.duckdb").unlink()
            rebuilt = many.list()
            assert len(rebuilt) == n_runs and (rebuilt["best"] == "ucb1 @ user").all(), rebuilt

        t_rebuild = best_of(repeats, rebuild)
        rows.append((f"list() of {n_runs}, catalogue rebuilt", t_rebuild, list_ref, ref_name))

    print(f"adlab run store benchmark: best of {repeats}, times in seconds")
    print(f"{'operation':<36}{'store':>9}{'reference':>11}{'ratio':>8}  reference")
    for name, t_store, t_ref, ref_name in rows:
        print(f"{name:<36}{t_store:>9.3f}{t_ref:>11.3f}{t_store / t_ref:>7.1f}x  {ref_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
