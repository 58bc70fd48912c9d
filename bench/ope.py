"""Benchmark off-policy evaluation: accuracy on the Open Bandit Dataset and estimator speed.

Usage::

    .venv/bin/python bench/ope.py            # 3 campaigns, 1,000 resamples, 1,000,000 rows
    .venv/bin/python bench/ope.py --quick    # 1 campaign, 200 resamples, 20,000 rows (seconds)

Part 1 (accuracy). From each campaign's uniform-random log, estimate the value
of the Bernoulli-TS logging policy (its per-position action distribution taken
from the BTS log's action frequencies) and compare with the BTS log's own CTR.
``z`` is the difference over its standard error (random-log bootstrap, the
estimated action distribution, and the BTS CTR's binomial error), so |z| < 2
is agreement. DM's ``se`` ignores the reward model's own error.

Part 2 (speed). Rows per second of each estimator's ``estimate`` and
``interval`` on a synthetic log, each printed as a ratio to references timed in
the same run on the same rows, so the ratios carry over between machines:
``np.mean`` of the rewards, a plain Python loop computing IPS, and a Python
loop over bootstrap resamples of the IPS terms. The vectorized bootstrap wins
on small logs, where a loop's per-resample overhead dominates; on large logs
both are bound by drawing the resample indices. Data: ``ADLAB_OBD_DIR`` or
``<repo>/../shared/data/obd``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from peers import best_of

from simulation.ope.estimators import ESTIMATORS
from simulation.ope.obd import estimate_logging_policy, load_obd, obd_dir
from simulation.ope.reward_model import fit_reward_model


def accuracy(campaigns, n_bootstrap: int, seed: int, data_dir: Path) -> None:
    print(f"Part 1: Bernoulli-TS value estimated from the random log ({data_dir})")
    print(
        f"{'campaign':8} {'estimator':9} {'estimate':>9} {'95% interval':>19} "
        f"{'bts CTR':>8} {'rel err':>8} {'z':>6}"
    )
    for campaign in campaigns:
        rng = np.random.default_rng(seed)
        rnd = load_obd("random", campaign, data_dir=data_dir)
        bts = load_obd("bts", campaign, data_dir=data_dir)
        start = time.perf_counter()
        q = fit_reward_model(
            rnd.context, rnd.action, rnd.reward, n_arms=rnd.n_arms, rng=rng, n_folds=2
        )
        fit_seconds = time.perf_counter() - start
        report = estimate_logging_policy(
            rnd,
            bts,
            rng=rng,
            estimators=("ips", "snips", "dm", "dr", "sndr"),
            estimated_rewards=q,
            n_bootstrap=n_bootstrap,
        )
        z = report.z_scores()
        for i, name in enumerate(report.estimators):
            rel = (report.estimate[i] - report.on_policy) / report.on_policy
            print(
                f"{campaign:8} {name:9} {report.estimate[i]:9.5f} "
                f"[{report.low[i]:.5f}, {report.high[i]:.5f}] {report.on_policy:8.5f} "
                f"{rel:+8.1%} {z[i]:+6.2f}"
            )
        print(
            f"{campaign:8} (n = {rnd.n_rounds:,} rows, {rnd.n_arms} items; "
            f"BTS CTR se {report.on_policy_se:.5f}; reward model fit {fit_seconds:.2f} s)"
        )


def synthetic(n: int, n_arms: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    logging = rng.dirichlet(np.ones(n_arms), size=n)
    action = (logging.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(max=n_arms - 1)
    return dict(
        reward=(rng.random(n) < 0.05).astype(float),
        action=action,
        pscore=logging[np.arange(n), action],
        action_dist=rng.dirichlet(np.ones(n_arms), size=n),
        estimated_rewards=rng.random((n, n_arms)) * 0.1,
    )


def python_loop_ips(arrays) -> float:
    total = 0.0
    reward, action, pscore = arrays["reward"].tolist(), arrays["action"].tolist(), arrays["pscore"]
    dist = arrays["action_dist"]
    pi = dist[np.arange(len(reward)), arrays["action"]].tolist()  # the loop does the arithmetic
    for r, p, w in zip(reward, pscore.tolist(), pi):
        total += r * w / p
    del action
    return total / len(reward)


def python_loop_bootstrap(terms: np.ndarray, n_bootstrap: int, rng) -> np.ndarray:
    n = terms.shape[0]
    return np.array([terms[rng.integers(0, n, size=n)].mean() for _ in range(n_bootstrap)])


def speed(
    n: int, n_arms: int, n_boot_rows: tuple[int, ...], n_bootstrap: int, repeats: int
) -> None:
    rng = np.random.default_rng(0)  # bench data only
    arrays = synthetic(n, n_arms, rng)
    t_mean = best_of(repeats, lambda: arrays["reward"].mean())
    t_loop = best_of(1, lambda: python_loop_ips(arrays))
    print(f"\nPart 2: speed on {n:,} rows x {n_arms} arms (best of {repeats})")
    print(f"reference np.mean(reward)      {n / t_mean:14,.0f} rows/s")
    print(f"reference Python-loop IPS      {n / t_loop:14,.0f} rows/s")
    print(f"{'estimate()':12} {'rows/s':>14} {'vs np.mean':>11} {'vs loop IPS':>12}")
    for name, cls in ESTIMATORS.items():
        est = cls()
        t = best_of(repeats, lambda est=est: est.estimate(**arrays))
        print(f"{name:12} {n / t:14,.0f} {t_mean / t:10.3f}x {t_loop / t:11.1f}x")

    for rows in n_boot_rows:
        small = {k: v[:rows] for k, v in arrays.items()}
        terms = small["reward"] * small["action_dist"][np.arange(rows), small["action"]]
        terms = terms / small["pscore"]
        work = rows * n_bootstrap
        t_ref = best_of(
            repeats,
            lambda terms=terms: python_loop_bootstrap(terms, n_bootstrap, np.random.default_rng(1)),
        )
        print(
            f"\ninterval(): {n_bootstrap} resamples of {rows:,} rows; reference: a Python loop "
            f"over resamples of the IPS terms, {work / t_ref:,.0f} resampled rows/s"
        )
        print(f"{'interval()':12} {'resampled rows/s':>17} {'vs loop':>9}")
        for name, cls in ESTIMATORS.items():
            est = cls()
            t = best_of(
                repeats,
                lambda est=est, small=small: est.interval(
                    **small, n_bootstrap=n_bootstrap, rng=np.random.default_rng(1)
                ),
            )
            print(f"{name:12} {work / t:17,.0f} {t_ref / t:8.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    parser.add_argument("--data-dir", type=Path, default=None, help="OBD root")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data_dir = args.data_dir or obd_dir()
    if args.quick:
        campaigns, n_bootstrap, n, n_boot_rows, repeats = ("men",), 200, 20_000, (500, 5_000), 1
    else:
        campaigns, n_bootstrap, n = ("all", "men", "women"), 1000, 1_000_000
        n_boot_rows = (1_000, 100_000)
        repeats = args.repeats
    print(f"adlab OPE benchmark ({'quick' if args.quick else 'full'})")
    if (data_dir / "random").is_dir():
        accuracy(campaigns, n_bootstrap, args.seed, data_dir)
    else:
        print(f"Part 1 skipped: no Open Bandit Dataset sample at {data_dir} (set ADLAB_OBD_DIR)")
    speed(n, 10, n_boot_rows, n_bootstrap, repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
