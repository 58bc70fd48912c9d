"""Coverage of the OPE intervals on simulated logs, for each objective.

Usage::

    .venv/bin/python bench/ope_coverage.py                 # ctr and roas, 50 seeds each
    .venv/bin/python bench/ope_coverage.py --objective ctr --seeds 75

Each seed gives one log per logging policy (uniform and epsilon-greedy, 5,000
impressions each, segment level), so 50 seeds are 100 logs per objective. On
every log a fixed target policy (0.8 on each row's truly best arm, 0.2 spread)
is evaluated with IPS, SNIPS, DM and DR under both interval methods
(``percentile`` and ``one_more_event``, 95 % nominal); the table gives each
estimator's coverage of the truth with its binomial standard error, the mean
relative error and the mean interval width relative to the truth. The method is
in :mod:`simulation.ope.coverage`; the figures are in ``docs/ope.md``, "Coverage".
"""

from __future__ import annotations

import argparse
import sys
import time

from simulation.ope.coverage import coverage_study


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", choices=("ctr", "roas", "both"), default="both")
    parser.add_argument("--seeds", type=int, default=50, help="seeds per objective (<= 100)")
    parser.add_argument("--seed", type=int, default=0, help="base seed")
    args = parser.parse_args(argv)
    objectives = ("ctr", "roas") if args.objective == "both" else (args.objective,)
    print(f"adlab OPE coverage ({args.seeds} seeds x 2 logging policies per objective)")
    for objective in objectives:
        start = time.perf_counter()
        result = coverage_study(objective, n_seeds=args.seeds, seed=args.seed)
        table = result.summary()
        print(
            f"\n{objective}: {result.truth.shape[0]} logs of {result.n_rows:,} rows; "
            f"mean truth {result.truth.mean():.4g} ({time.perf_counter() - start:.0f} s)"
        )
        print(
            table.drop(columns="objective").to_string(
                index=False, float_format=lambda v: f"{v:.3f}"
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
