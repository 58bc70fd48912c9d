"""Engine benchmarks: policy decisions/s, audience generation, memory, default experiment.

Run ``python bench/engine.py`` (or ``--quick`` for a smoke run). Every figure is
also printed as a ratio to a reference measured in the same run, because
absolute times depend on the machine and its load:

- decisions/s of each policy at batch sizes 1, 100 and 1,000 on a K = 20
  Bernoulli problem, against *naive Thompson sampling* that draws one Beta
  sample per arm per decision (``rng.beta`` on a (B, K) array);
- 1,000,000 users generated and segmented, against a bare
  ``rng.random((n, 26))`` draw of the same size;
- peak memory of a 100,000,000-impression run against a 1,000,000-impression
  run (a ratio near 1 means memory does not grow with the impressions);
- the app's default experiment, with one and two worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from simulation.config import ExperimentConfig  # noqa: E402
from simulation.engine.core import run_experiment  # noqa: E402
from simulation.policies import POLICIES  # noqa: E402
from simulation.population import generate_population, segment_population  # noqa: E402
from simulation.rng import stream  # noqa: E402

K = 20


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def decisions_per_second(name: str, batch: int, total: int, seed: int = 0) -> float:
    """Decisions/s of ``name`` on K=20 CTRs in [0.005, 0.05], select+update only."""
    rng = np.random.default_rng(seed)
    ctr = rng.uniform(0.005, 0.05, K)
    d = 4 if name in ("lin_ucb", "lin_ts") else 0
    pol = POLICIES[name]().reset(K, d)
    x = np.ones((batch, d)) if d else np.empty((batch, 0))
    rounds = max(1, total // batch)
    uniforms = rng.random((rounds, batch))
    t = time.perf_counter()
    for i in range(rounds):
        arms = pol.select(x, rng)
        pol.update(x, arms, (uniforms[i] < ctr[arms]).astype(float))
    return rounds * batch / (time.perf_counter() - t)


def naive_thompson_per_second(batch: int, total: int, seed: int = 0) -> float:
    """Reference: one Beta draw per arm per decision, argmax (no update cost)."""
    rng = np.random.default_rng(seed)
    a, b = np.ones(K) * 3, np.ones(K) * 200
    rounds = max(1, total // batch)
    t = time.perf_counter()
    for _ in range(rounds):
        rng.beta(a, b, size=(batch, K)).argmax(axis=1)
    return rounds * batch / (time.perf_counter() - t)


def population_seconds(n: int) -> tuple[float, float]:
    def build():
        pop = generate_population(n, stream(0, "population"))
        segment_population(pop, 6, stream(0, "segmentation"))

    def reference():
        np.random.default_rng(0).random((n, 26))

    return _median_time(build, 3), _median_time(reference, 3)


def _peak_rss_child(impressions: int, batch: int) -> tuple[float, float]:
    """Peak RSS (MiB) and seconds of a one-policy run in a fresh process."""
    code = (
        "import resource, time, json, sys\n"
        "from simulation.config import ExperimentConfig\n"
        "from simulation.engine.core import run_experiment\n"
        "cfg = ExperimentConfig(levels=('segment',), policies=('thompson',), n_seeds=1,"
        f" n_impressions={impressions}, batch_size={batch})\n"
        "t = time.perf_counter(); run_experiment(cfg, n_jobs=1); dt = time.perf_counter() - t\n"
        "print(json.dumps([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, dt]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    peak, seconds = json.loads(out.stdout.strip().splitlines()[-1])
    return float(peak), float(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    args = parser.parse_args(argv)
    quick = args.quick
    total = 5_000 if quick else 200_000

    print("## Policy decisions/s (K = 20, select + update)\n")
    print("| policy | batch | decisions/s | x naive Thompson at same batch |")
    print("|---|---:|---:|---:|")
    for batch in (1, 100, 1000):
        n = min(total, 5_000) if batch == 1 else total
        ref = naive_thompson_per_second(batch, n)
        for name in (
            "uniform",
            "epsilon_greedy",
            "ucb1",
            "thompson",
            "thompson_value",
            "lin_ucb",
            "lin_ts",
        ):
            rate = decisions_per_second(name, batch, n)
            print(f"| {name} | {batch:,} | {rate:,.0f} | {rate / ref:.2f} |")
    print()

    n_users = 20_000 if quick else 1_000_000
    built, ref = population_seconds(n_users)
    print(f"## Audience: {n_users:,} users generated and segmented\n")
    print(
        f"{built:.2f} s (target <= 5 s for 1,000,000), {built / ref:.1f}x a bare "
        f"rng.random(({n_users:,}, 26)) draw ({ref * 1000:.0f} ms)\n"
    )

    small, big = (20_000, 60_000) if quick else (1_000_000, 100_000_000)
    batch = 1_000 if quick else 10_000
    peak_small, _ = _peak_rss_child(small, batch)
    peak_big, secs = _peak_rss_child(big, batch)
    print(f"## Memory: {big:,} impressions (thompson, batch {batch:,})\n")
    print(
        f"peak RSS {peak_big:,.0f} MiB (target < 1,024 MiB) in {secs:.1f} s "
        f"({big / secs:,.0f} impressions/s); {peak_big / peak_small:.2f}x the peak of a "
        f"{small:,}-impression run ({peak_small:,.0f} MiB)\n"
    )

    cfg = ExperimentConfig() if not quick else ExperimentConfig(n_users=2_000, n_impressions=3_000)
    from simulation.scenario import build_scenario

    scenario = build_scenario(cfg)
    one = _median_time(lambda: run_experiment(cfg, scenario=scenario, n_jobs=1), 1 if quick else 3)
    two = _median_time(lambda: run_experiment(cfg, scenario=scenario, n_jobs=2), 1 if quick else 3)
    decisions = cfg.n_impressions * len(cfg.levels) * len(cfg.policies) * cfg.n_seeds
    # The sizes come from the config, so the heading stays true when the defaults change.
    print(
        f"## Default experiment ({len(cfg.levels)} levels x {len(cfg.policies)} policies x "
        f"{cfg.n_seeds} seeds x {cfg.n_impressions:,} impressions = {decisions:,} decisions)\n"
    )
    print(
        f"1 process: {one:.2f} s; 2 processes: {two:.2f} s ({one / two:.2f}x speed-up; "
        f"{os.cpu_count()} cores); {decisions / two:,.0f} decisions/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
