"""hill48: impressions to reach 95 % of the best of 48 compositions, mvt_ts against per-arm TS.

Usage::

    python bench/hill48.py          # 20 replications, batches of 100, up to 200,000 impressions
    python bench/hill48.py --reps 4 --horizon 50000   # quicker

Hill et al. (KDD 2017)'s setting: four components of 2, 3, 2 and 4 levels, all 48 compositions
valid and the same for every user. Each replication draws a world: a base click rate of 5 %,
main effects with sd 0.5 points and pairwise interactions with sd 0.25 points (expected
rewards clipped to [0.001, 0.999]), Bernoulli clicks. ``mvt_ts`` is the full-covariance
Bayesian linear model over main effects and pairwise interactions (one posterior draw per
batch, exact search over the 48); the baseline is Beta(1, 1) Thompson sampling with one arm per
composition (one draw per impression). "Reached" is the first impression after which the mean
expected reward of a batch's choices stays at or above 95 % of the best for 3 batches in a row;
a run that never gets there counts as the horizon. Both policies see the same world and
the same click uniforms (common random numbers).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simulation.generated import MvtThompson, PairwiseModel, hill48_space
from simulation.generated.model import n_params

HOLD = 3


def world(space, rng):
    total = space.n_levels_total
    theta = np.zeros(n_params(space, 0))
    theta[:total] = rng.normal(scale=0.005, size=total)
    theta[0 : space.n_levels[0]] += 0.05  # the base rate, carried by the first axis
    theta[total:] = rng.normal(scale=0.0025, size=space.n_pair_features)
    model = PairwiseModel(space=space, theta=theta, n_user_features=0)
    combos = space.enumerate_valid()
    mu = np.clip(model.expected(np.zeros((len(combos), 0)), combos), 0.001, 0.999)
    return combos, mu


def reached(batch_means, target, batch):
    ok = batch_means >= target
    for t in range(len(ok) - HOLD + 1):
        if ok[t : t + HOLD].all():
            return (t + 1) * batch
    return len(ok) * batch


def run_mvt(space, combos, mu, u, batch, rng):
    policy = MvtThompson(
        covariance="full",
        noise_var=0.05,
        prior_var=0.01,
        prior_var_user=0.0025,
        prior_var_pair=0.0025,
    ).reset(space, 0)
    index = {tuple(c): i for i, c in enumerate(combos)}
    x = np.zeros((batch, 0))
    means = []
    for b in range(u.shape[0]):
        chosen = policy.select(x, rng)
        arms = np.array([index[tuple(c)] for c in chosen])
        means.append(mu[arms].mean())
        policy.update(x, chosen, (u[b] < mu[arms]).astype(float))
    return np.array(means)


def run_ts(mu, u, batch, rng):
    a = np.ones(len(mu))
    b = np.ones(len(mu))
    means = []
    for t in range(u.shape[0]):
        arms = rng.beta(a, b, size=(batch, len(mu))).argmax(axis=1)
        means.append(mu[arms].mean())
        clicks = u[t] < mu[arms]
        np.add.at(a, arms, clicks)
        np.add.at(b, arms, ~clicks)
    return np.array(means)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--horizon", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=48)
    args = parser.parse_args(argv)
    space = hill48_space()
    seeds = np.random.SeedSequence(args.seed).spawn(args.reps)
    n_batches = args.horizon // args.batch
    out = {"mvt_ts": [], "thompson_48": []}
    start = time.perf_counter()
    for s in seeds:
        w_rng, u_rng, p_rng, q_rng = (np.random.default_rng(x) for x in s.spawn(4))
        combos, mu = world(space, w_rng)
        u = u_rng.random((n_batches, args.batch))
        target = 0.95 * mu.max()
        out["mvt_ts"].append(
            reached(run_mvt(space, combos, mu, u, args.batch, p_rng), target, args.batch)
        )
        out["thompson_48"].append(reached(run_ts(mu, u, args.batch, q_rng), target, args.batch))
    m, t = np.array(out["mvt_ts"]), np.array(out["thompson_48"])
    print(
        f"hill48: {args.reps} replications, batch {args.batch}, horizon {args.horizon:,} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    for name, v in (("mvt_ts", m), ("thompson_48", t)):
        print(
            f"  {name:12s} impressions to 95 % of best: median {np.median(v):>9,.0f}  "
            f"mean {v.mean():>9,.0f}  not reached {int((v >= n_batches * args.batch).sum())}"
        )
    print(
        f"  ratio thompson_48 / mvt_ts (medians): {np.median(t) / np.median(m):.2f}x; "
        f"per replication median {np.median(t / m):.2f}x"
    )


if __name__ == "__main__":
    main()
