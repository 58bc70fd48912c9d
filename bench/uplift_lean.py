"""The lean of the observed ROAS uplift: observed minus true per replication, and its prediction.

The like-for-like uplift (``simulation.metrics.like_for_like_uplift``) is the geometric mean of
paired per-replication ratios. Its true counterpart is the same pairs' expected ratio, of the
same impressions, so the two differ by the outcomes' noise; but the log of a revenue made of
n sales reads low on average by about c / 2n (c = E[value^2] / E[value]^2 over the sales, from
the spread of order values and baskets), so the paired log ratio leans towards the side with
more sales by about c/2 x (1/n_generic - 1/n_level). This script measures that lean over many
replications of one configuration, for each policy, and prints it beside the prediction, with
c fitted on the two levels' own log(observed / true) (docs/sweeps.md, "The lean of the observed
ROAS uplift").

Run from the repository root::

    python bench/uplift_lean.py --seeds 100 --worlds 20 --impressions 40000 --scale 2

Numbers printed: ``paired`` is the mean over replications of log(observed level / generic ROAS)
minus log(true level / generic ROAS), ± its standard error (replications are independent given
their world; ``by world`` is the standard error over world means); ``predicted`` is
c/2 x mean(1/n_generic - 1/n_level) with n the expected sales; ``above`` the share of
replications whose observed ratio is above the true one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig, WorldConfig
from simulation.engine import run_experiment


def lean(summary: pd.DataFrame, policy: str, level: str = "user") -> dict[str, float]:
    """Observed minus true paired log ROAS ratio of ``policy`` at ``level`` against generic.

    Parameters
    ----------
    summary : DataFrame
        :meth:`~simulation.engine.ExperimentResult.summary_frame`, one row per
        (policy, level, replication).
    policy, level : str

    Returns
    -------
    numbers : dict of str to float
        ``n`` (replications with sales on both sides), ``sales_generic`` and ``sales_level``
        (medians), ``generic`` and ``level`` (mean log(observed / true) of each side),
        ``c``, ``paired``, ``se``, ``se_world``, ``predicted``, ``above``.
    """
    keys = ["world", "seed"] if "world" in summary.columns else ["seed"]
    mine = summary[(summary["level"] == level) & (summary["policy"] == policy)].set_index(keys)
    base = summary[(summary["level"] == "generic") & (summary["policy"] == policy)]
    base = base.set_index(keys).loc[mine.index]
    ok = ((mine["revenue"] > 0) & (base["revenue"] > 0)).to_numpy()
    # A replication without a sale on a side has no log ratio (it drops out, as in the table).
    log_mine = np.log((mine["roas"] / mine["expected_roas"]).to_numpy()[ok])
    log_base = np.log((base["roas"] / base["expected_roas"]).to_numpy()[ok])
    # Each side's predicted lean is -c / 2n: fit c on both sides' own readings.
    x_mine = -0.5 / mine["expected_conversions"].to_numpy()[ok]
    x_base = -0.5 / base["expected_conversions"].to_numpy()[ok]
    c = float((log_mine @ x_mine + log_base @ x_base) / (x_mine @ x_mine + x_base @ x_base))
    paired = log_mine - log_base
    worlds = mine.index.get_level_values(0).to_numpy()[ok] if len(keys) == 2 else None
    world_means = pd.Series(paired).groupby(worlds).mean() if worlds is not None else None
    return {
        "n": int(ok.sum()),
        "sales_generic": float(np.median(base["conversions"].to_numpy()[ok])),
        "sales_level": float(np.median(mine["conversions"].to_numpy()[ok])),
        "generic": float(log_base.mean()),
        "level": float(log_mine.mean()),
        "c": c,
        "paired": float(paired.mean()),
        "se": float(paired.std(ddof=1) / np.sqrt(paired.size)),
        "se_world": float(world_means.std(ddof=1) / np.sqrt(world_means.size))
        if world_means is not None and world_means.size > 1
        else float("nan"),
        "predicted": float(c * (x_mine - x_base).mean()),
        "above": float((paired > 0).mean()),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the configuration and print the lean of each policy's per-user ROAS uplift."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="replications per world")
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--impressions", type=int, default=40_000)
    parser.add_argument("--scale", type=float, default=2.0, help="world.personalization_scale")
    parser.add_argument("--policies", nargs="+", default=["uniform", "thompson"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    config = ExperimentConfig(
        seed=args.seed, n_users=5_000, n_segments=4, n_impressions=args.impressions,
        n_seeds=args.seeds, n_worlds=args.worlds, levels=("generic", "user"),
        policies=tuple(args.policies), n_checkpoints=2,
        world=WorldConfig(personalization_scale=args.scale),
    )  # fmt: skip
    start = time.perf_counter()
    summary = run_experiment(config, n_jobs=args.workers).summary_frame()
    print(
        f"per-user vs generic ROAS, {args.worlds} worlds x {args.seeds} seeds, "
        f"{args.impressions:,} impressions, personalization_scale {args.scale:g} "
        f"({time.perf_counter() - start:.0f} s); log(observed / true), mean ± standard error"
    )
    for policy in args.policies:
        r = lean(summary, policy)
        print(
            f"{policy:10s} {r['n']:,} replications, sales {r['sales_generic']:.0f} vs "
            f"{r['sales_level']:.0f} (medians); generic {r['generic']:+.4f}, user "
            f"{r['level']:+.4f}, c = {r['c']:.2f}; paired {r['paired']:+.4f} ± {r['se']:.4f} "
            f"(by world ± {r['se_world']:.4f}), predicted {r['predicted']:+.4f}, "
            f"above {r['above']:.3f}"
        )


if __name__ == "__main__":
    main()
