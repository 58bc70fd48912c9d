"""W1, context-free ad CTRs: adlab against MABWiser (and Vowpal Wabbit) on identical instances.

Usage::

    python bench/w1_context_free.py            # K = 20, T = 100,000, 5 seeds, batch 1 and 1,000
    python bench/w1_context_free.py --quick    # K = 20, T = 4,000, 2 seeds (seconds)

Every seed fixes one problem instance: true CTRs drawn uniformly in [0.005, 0.05] and one
uniform per impression; a click is ``uniform < CTR of the chosen arm``, so every library sees
the same clicks for the same choices (common random numbers). Only the decision/update loop is
timed; regret is expected regret, ``max CTR - CTR of the chosen arm``, summed.

Libraries: adlab's policies through their public contract (``POLICIES[name]``), adlab's
replication engine (``simulation.replication``: all seeds at once, compiled with numba,
exact sequential Thompson sampling at batch 1), MABWiser (TS Beta(1, 1), UCB1
alpha = 1, epsilon-greedy 0.1) and Vowpal Wabbit ``--cb_explore`` (epsilon-greedy only: VW has
no context-free Thompson sampling or UCB1). Python-loop libraries at batch 1 play the first
``--batch1-steps`` impressions only (MABWiser's ~2-5k decisions/s would take minutes), so their
regret is at that horizon, marked in the T column.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from peers import Report, mean_sd, optional, rate, single_blas

from simulation.policies import POLICIES
from simulation.replication.chapelle_li import replicate, stationary_schedule
from simulation.rng import stream

HYPER = {
    "thompson": {"prior_alpha": 1.0, "prior_beta": 1.0},
    "ucb1": {"alpha": 1.0},
    "epsilon_greedy": {"epsilon": 0.1},
}


def instance(seed: int, n_arms: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """True CTRs (n_arms,) and the click uniforms (n_steps,) of one seed."""
    rng = stream(seed, "w1", "instance")
    return rng.uniform(0.005, 0.05, size=n_arms), rng.random(n_steps)


def regret_of(ctr: np.ndarray, arms: np.ndarray) -> float:
    return float(ctr.max() * arms.shape[0] - ctr[arms].sum())


def run_adlab(name, ctr, u, batch, n_steps, seed):
    policy = POLICIES[name](**HYPER[name]).reset(n_arms=ctr.shape[0], n_features=0)
    rng = stream(seed, "w1", "adlab", name)
    empty = np.empty((batch, 0))
    arms_all = np.empty(n_steps, dtype=np.int64)
    start = time.perf_counter()
    for t0 in range(0, n_steps, batch):
        b = min(batch, n_steps - t0)
        arms = policy.select(empty[:b], rng)
        policy.update(empty[:b], arms, (u[t0 : t0 + b] < ctr[arms]).astype(np.float64))
        arms_all[t0 : t0 + b] = arms
    return time.perf_counter() - start, regret_of(ctr, arms_all)


def run_mabwiser(mw, name, ctr, u, batch, n_steps, seed):
    lp = mw.LearningPolicy
    spec = {
        "thompson": lp.ThompsonSampling(),
        "ucb1": lp.UCB1(alpha=1.0),
        "epsilon_greedy": lp.EpsilonGreedy(epsilon=0.1),
    }[name]
    k = ctr.shape[0]
    mab = mw.MAB(list(range(k)), spec, seed=seed)
    mab.fit([], [])
    dummy = np.zeros((batch, 1))
    arms_all = np.empty(n_steps, dtype=np.int64)
    start = time.perf_counter()
    for t0 in range(0, n_steps, batch):
        b = min(batch, n_steps - t0)
        arms = np.atleast_1d(np.asarray(mab.predict() if b == 1 else mab.predict(dummy[:b])))
        mab.partial_fit(arms, (u[t0 : t0 + b] < ctr[arms]).astype(np.int64))
        arms_all[t0 : t0 + b] = arms
    return time.perf_counter() - start, regret_of(ctr, arms_all)


def run_vw(vw, ctr, u, batch, n_steps, seed):
    k = ctr.shape[0]
    ws = vw.Workspace(f"--cb_explore {k} --epsilon 0.1 --quiet --random_seed {seed}")
    pick = stream(seed, "w1", "vw").random(n_steps)
    arms_all = np.empty(n_steps, dtype=np.int64)
    start = time.perf_counter()
    for t0 in range(0, n_steps, batch):
        b = min(batch, n_steps - t0)
        probs = [ws.predict("| c") for _ in range(b)]
        for i, pmf in enumerate(probs):
            cdf = np.cumsum(pmf)
            a = min(int(np.searchsorted(cdf, pick[t0 + i] * cdf[-1], side="right")), k - 1)
            click = u[t0 + i] < ctr[a]
            ws.learn(f"{a + 1}:{-float(click)}:{pmf[a]} | c")
            arms_all[t0 + i] = a
    elapsed = time.perf_counter() - start
    ws.finish()
    return elapsed, regret_of(ctr, arms_all)


def main(argv: list[str] | None = None) -> int:
    with single_blas():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--n-arms", type=int, default=20)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--batch1-steps", type=int, default=None)
    parser.add_argument("--engine-seeds", type=int, default=None, help="seeds for the TS speed run")
    parser.add_argument("--markdown", default=None, help="also write the tables here")
    args = parser.parse_args(argv)
    n_steps = args.steps or (4_000 if args.quick else 100_000)
    n_seeds = args.seeds or (2 if args.quick else 5)
    b1_steps = min(n_steps, args.batch1_steps or (1_000 if args.quick else 5_000))
    engine_seeds = args.engine_seeds or (4 if args.quick else 40)
    k = args.n_arms
    batches = (1, 1000)

    report = Report()
    report.text(
        f"## W1: context-free, K = {k}, CTRs ~ U[0.005, 0.05], T = {n_steps:,}, {n_seeds} seeds"
    )
    mw = optional("mabwiser")
    mw_mod = None
    if mw is not None:
        import mabwiser.mab as mw_mod
    vw = optional("vowpalwabbit")
    engine = "numba, both cores"
    seeds = list(range(n_seeds))
    instances = {s: instance(s, k, n_steps) for s in seeds}

    # Warm-up (numba compilation, imports) outside every timing.
    replicate(
        "thompson",
        stationary_schedule(instances[0][0][None, :]),
        n_steps=50,
        rng=np.random.default_rng(0),
    )

    rows = []
    summary: dict[tuple[str, str, int], tuple[float, np.ndarray]] = {}
    for name in HYPER:
        for batch in batches:
            libs = [("adlab", None)]
            if mw_mod is not None:
                libs.append(("MABWiser", mw_mod))
            if vw is not None and name == "epsilon_greedy":
                libs.append(("Vowpal Wabbit", vw))
            for lib, mod in libs:
                steps = b1_steps if batch == 1 else n_steps
                total_s, regrets = 0.0, []
                for s in seeds:
                    ctr, u = instances[s]
                    if lib == "adlab":
                        sec, reg = run_adlab(name, ctr, u, batch, steps, s)
                    elif lib == "MABWiser":
                        sec, reg = run_mabwiser(mod, name, ctr, u, batch, steps, s)
                    else:
                        sec, reg = run_vw(mod, ctr, u, batch, steps, s)
                    total_s += sec
                    regrets.append(reg)
                speed = steps * n_seeds / total_s
                summary[(name, lib, batch)] = (speed, np.array(regrets))
                rows.append(
                    [
                        name,
                        lib,
                        batch,
                        f"{steps:,}",
                        rate(steps * n_seeds, total_s),
                        mean_sd(regrets),
                    ]
                )
            # The replication engine: every seed at once, same CTRs, its own click draws.
            ctrs = np.stack([instances[s][0] for s in seeds])
            res, sec = None, 0.0
            start = time.perf_counter()
            res = replicate(
                name,
                stationary_schedule(ctrs),
                n_steps=n_steps,
                delay=batch,
                rng=np.random.default_rng(1),
                **_engine_hyper(name),
            )
            sec = time.perf_counter() - start
            summary[(name, "engine", batch)] = (n_steps * n_seeds / sec, res.regret)
            rows.append(
                [
                    name,
                    f"adlab engine ({res.backend})",
                    batch,
                    f"{n_steps:,}",
                    rate(n_steps * n_seeds, sec),
                    mean_sd(res.regret),
                ]
            )
    report.text()
    report.text(
        "Decisions per second of the decision/update loop; regret mean ± sd over seeds. "
        "BLAS is limited to one thread for every library."
    )
    report.table(["policy", "library", "batch", "T", "decisions/s", "regret"], rows)

    # Exact sequential Thompson sampling, K = 20, many seeds at once.
    ctrs = np.stack([instance(s, k, 1)[0] for s in range(engine_seeds)])
    start = time.perf_counter()
    replicate(
        "thompson",
        stationary_schedule(ctrs),
        n_steps=n_steps,
        delay=1,
        rng=np.random.default_rng(2),
    )
    sec = time.perf_counter() - start
    ts_rate = n_steps * engine_seeds / sec
    report.text(
        f"Exact sequential Thompson sampling (batch 1, K = {k}), replication engine ({engine}), "
        f"{engine_seeds} seeds x {n_steps:,} steps: {rate(n_steps * engine_seeds, sec)} "
        f"(target >= 1 M/s: {'met' if ts_rate >= 1e6 else 'MISSED'})"
    )
    report.text()
    report.text("Targets at batch 1,000 (adlab policy API vs MABWiser, same run):")
    if mw_mod is None:
        report.text("- MABWiser not installed: ratios skipped")
    for name in HYPER:
        if ("MABWiser" not in [key[1] for key in summary]) or mw_mod is None:
            break
        a_speed, a_reg = summary[(name, "adlab", 1000)]
        m_speed, m_reg = summary[(name, "MABWiser", 1000)]
        ratio = a_speed / m_speed
        spread = m_reg.std(ddof=1) if m_reg.size > 1 else 0.0
        delta = a_reg.mean() - m_reg.mean()
        report.text(
            f"- {name}: speed {ratio:,.1f}x MABWiser (target >= 10x: "
            f"{'met' if ratio >= 10 else 'MISSED'}); regret adlab - MABWiser = {delta:,.1f} "
            f"vs MABWiser seed sd {spread:,.1f} "
            f"({'within spread' if delta <= spread else 'OUTSIDE spread'})"
        )
    report.write(args.markdown)
    return 0


def _engine_hyper(name: str) -> dict[str, object]:
    if name == "thompson":
        return {"prior": (1.0, 1.0)}
    if name == "ucb1":
        return {"alpha": 1.0}
    return {"epsilon": 0.1}


if __name__ == "__main__":
    raise SystemExit(main())
