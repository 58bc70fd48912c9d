"""Regeneration against a fixed pool: cumulative reward over the run, paired over seeds.

Runs the same experiment twice, with ``regenerate_every = G`` and with fixed
pools: the same policy, the same users and the same outcome uniforms (common
random numbers: every stream is named by the seed, not by the setting), so each
seed gives a paired difference. Prints, per level, the true (expected) clicks
and net value (revenue - spend, USD) per 1,000 impressions of both
(``true_clicks``, ``true_net_value``), the observed clicks beside them
(``observed_clicks``), and the paired difference with its 95 % t interval over
seeds.

    python bench/regeneration.py --impressions 300000 --seeds 5 --every 20000

The true rows are expected values, not realized draws: they carry no outcome
noise, so their interval is the seeds' (users, policy draws and mutations)
variation only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

from simulation import ExperimentConfig, build_scenario, run_experiment
from simulation.engine.core import SERIES_METRICS

_M = {name: i for i, name in enumerate(SERIES_METRICS)}


def per_thousand(result) -> pd.DataFrame:
    """True (expected) and observed clicks, true net value, per 1,000 impressions per (seed, level).

    Names say which is which, as the run's CSVs do: ``true_*`` from expectations,
    ``observed_*`` from the drawn outcomes.
    """
    final = result.series[:, :, 0, -1, :]  # one policy
    rows = []
    for s in range(final.shape[0]):
        for li, level in enumerate(result.levels):
            t = final[s, li]
            n = t[_M["impressions"]] / 1_000
            rows.append(
                {
                    "seed": s,
                    "level": level,
                    "true_clicks": t[_M["expected_clicks"]] / n,
                    "true_net_value": (t[_M["expected_revenue"]] - t[_M["expected_spend"]]) / n,
                    "observed_clicks": t[_M["clicks"]] / n,
                }
            )
    return pd.DataFrame(rows)


def paired(regen: pd.DataFrame, fixed: pd.DataFrame) -> pd.DataFrame:
    """Means of both and the paired difference with its 95 % t interval, per level and metric."""
    rows = []
    for level in regen["level"].unique():
        a = regen[regen["level"] == level].sort_values("seed")
        b = fixed[fixed["level"] == level].sort_values("seed")
        for metric in ("true_clicks", "true_net_value", "observed_clicks"):
            d = a[metric].to_numpy() - b[metric].to_numpy()
            half = (
                stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
                if d.size > 1
                else np.nan
            )
            rows.append(
                {
                    "level": level,
                    "metric": f"{metric} / 1k",
                    "fixed": b[metric].mean(),
                    "regenerated": a[metric].mean(),
                    "diff": d.mean(),
                    "ci_low": d.mean() - half,
                    "ci_high": d.mean() + half,
                    "relative": d.mean() / b[metric].mean(),
                    "seeds_better": int((d > 0).sum()),
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Run both and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impressions", type=int, default=300_000)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--every", type=int, default=20_000, help="G: impressions per generation")
    p.add_argument("--policy", default="thompson")
    p.add_argument("--objective", choices=("ctr", "roas"), default="ctr")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    config = ExperimentConfig(
        seed=args.seed,
        levels=("generic", "segment"),
        policies=(args.policy,),
        n_impressions=args.impressions,
        n_seeds=args.seeds,
        objective=args.objective,
        n_checkpoints=2,
    )
    world = build_scenario(config)
    started = time.perf_counter()
    fixed = run_experiment(config, scenario=world)
    mid = time.perf_counter()
    regen = run_experiment(config.replace(regenerate_every=args.every), scenario=world)
    done = time.perf_counter()
    table = paired(per_thousand(regen), per_thousand(fixed))
    print(
        f"policy {args.policy}, objective {args.objective}, {args.impressions:,} impressions, "
        f"G = {args.every:,}, {args.seeds} seeds; fixed {mid - started:.0f} s, "
        f"regenerated {done - mid:.0f} s"
    )
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    g = regen.generations_frame()
    alive = g[g["retired_at"].isna()]
    founders = g[g["generation"] == 0]
    print("true CTR of the pool (mean over slots and rows): founders vs the final pool")
    print(
        pd.DataFrame(
            {
                "founders": founders.groupby("level")["true_ctr"].mean(),
                "final": alive.groupby("level")["true_ctr"].mean(),
            }
        ).to_string(float_format=lambda x: f"{x:.5f}")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
