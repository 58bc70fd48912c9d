"""mvt_ts decisions per second over the default component space, next to fixed-pool Thompson.

Usage::

    python bench/mvt_speed.py                 # batch 1,000, 4 user features, 50 timed batches
    python bench/mvt_speed.py --threads 2     # every row's climb split over 2 threads
    python bench/mvt_speed.py --engine        # the engine's learner: its 61-column contexts
                                              # of real users, tied patterns and masks
    python bench/mvt_speed.py --units 2       # also two learners at once, one per core, as
                                              # the engine runs its (seed, policy) units
    python bench/mvt_speed.py --per-batch     # also each batch timed alone: min and median
                                              # ms per batch, robust to a busy machine
    python bench/mvt_speed.py --net-value     # the engine's mvt_ts under net value: the funnel
                                              # (click and conversion learners, known order
                                              # value; implies --engine)

A decision is one composition chosen for one user (select) and learned from (update); the
timed loop is select + update on batches of fresh contexts and random rewards, after one
warm-up batch (compilation). The same run times ``thompson`` (``simulation.policies``) on a
fixed pool of 20 creatives at the same batch size and prints the ratio. The issue's goal is
1 million decisions per second at batch 1,000 on two cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from creative.components import component_axes
from simulation.generated import ComponentSpace, MvtThompson
from simulation.policies import POLICIES


def rate(step, n_batches: int, batch: int) -> float:
    step()
    start = time.perf_counter()
    for _ in range(n_batches):
        step()
    return n_batches * batch / (time.perf_counter() - start)


def make_steps(args, seed: int):
    """The timed steps (mvt_ts, thompson) of one unit, and a line describing the learner."""
    rng = np.random.default_rng(seed)
    n = args.batch
    settings = {"n_restarts": args.restarts, "n_threads": args.threads}
    if args.engine or args.net_value:
        import simulation.engine.generated as eg
        from simulation.config import ExperimentConfig
        from simulation.scenario import build_scenario

        scenario = build_scenario(ExperimentConfig(levels=("generated",), policies=("mvt_ts",)))
        space = scenario.levels["generated"].space
        users = np.arange(scenario.population.n_users)
        audience = eg.generated_contexts(scenario, users)
        mvt = (eg.engine_funnel if args.net_value else eg.engine_learner)(scenario, **settings)
        d = audience.shape[1]

        def contexts() -> np.ndarray:
            return audience[rng.integers(0, users.size, size=n)]
    else:
        space = ComponentSpace.from_axes(component_axes())
        d = args.features
        mvt = MvtThompson(**settings).reset(space, d)

        def contexts() -> np.ndarray:
            return rng.normal(size=(n, d))

    def mvt_step() -> None:
        x = contexts()
        combos = mvt.select(x, rng)
        click = rng.random(n) < 0.05
        if args.net_value:
            # The funnel learns from clicks, sales (a fifth of the clicks here) and revenue.
            sale = click & (rng.random(n) < 0.2)
            mvt.update(x, combos, click, sale, np.where(sale, 50.0, 0.0))
        else:
            mvt.update(x, combos, click.astype(float))

    ts = POLICIES["thompson"]().reset(20, 0)
    empty = np.zeros((n, 0))

    def ts_step() -> None:
        arms = ts.select(empty, rng)
        ts.update(empty, arms, (rng.random(n) < 0.05).astype(float))

    learner = mvt.clicks if args.net_value else mvt
    name = (
        "engine learner under net value (the funnel: two learners, each"
        if args.net_value
        else ("engine learner" if args.engine else "default space")
    )
    line = (
        f"{name}: {space.n_axes} axes, "
        f"{space.n_levels_total} levels, {d} context columns, {learner.mean_.size:,} parameters "
        f"({'full' if learner.full_ else 'diagonal'} posterior{')' if args.net_value else ''}), "
        f"batch {n:,}, "
        f"{args.restarts} restarts, {args.threads} climb thread(s)"
    )
    return mvt_step, ts_step, line


def per_batch(step, n_batches: int) -> np.ndarray:
    """Milliseconds of each of ``n_batches`` steps timed alone, after a warm-up one."""
    step()
    times = np.empty(n_batches)
    for k in range(n_batches):
        start = time.perf_counter()
        step()
        times[k] = time.perf_counter() - start
    return times * 1e3


def _unit(args, seed: int, which: int, barrier, out) -> None:
    # One learner in its own process, as the engine runs its (seed, policy) units.
    step = make_steps(args, seed)[which]
    step()  # warm-up: numba's compiled code is loaded from its cache
    barrier.wait()
    start = time.perf_counter()
    for _ in range(args.batches):
        step()
    out.put(time.perf_counter() - start)


def parallel_rate(args, which: int) -> float:
    """Decisions per second of ``args.units`` learners run at once, one process each."""
    import multiprocessing as mp

    # Spawned, not forked: building the engine's scenario may have started OpenMP
    # threads (numba's parallel kernels), and a forked child of such a process hangs.
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(args.units), ctx.Queue()
    procs = [
        ctx.Process(target=_unit, args=(args, 1 + u, which, barrier, out))
        for u in range(args.units)
    ]
    for p in procs:
        p.start()
    elapsed = [out.get() for _ in procs]
    for p in procs:
        p.join()
    # Every unit started together; the slowest sets the wall time of the work done.
    return args.units * args.batches * args.batch / max(elapsed)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--features", type=int, default=4)
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--engine", action="store_true")
    parser.add_argument("--net-value", action="store_true", help="the funnel (implies --engine)")
    parser.add_argument(
        "--per-batch", action="store_true",
        help="also time each batch alone (min and median ms; min is robust to other load)",
    )  # fmt: skip
    parser.add_argument(
        "--units", type=int, default=1,
        help="independent learners timed at once, one process each (2: both cores)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    mvt_step, ts_step, line = make_steps(args, 0)
    r_mvt = rate(mvt_step, args.batches, args.batch)
    r_ts = rate(ts_step, args.batches, args.batch)
    print(line)
    print("  one learner, one process:")
    print(f"    mvt_ts            {r_mvt:>12,.0f} decisions/s")
    print(f"    thompson (20 arms){r_ts:>12,.0f} decisions/s")
    print(f"    ratio mvt_ts / thompson: {r_mvt / r_ts:.3f}")
    if args.per_batch:
        t_mvt, t_ts = per_batch(mvt_step, args.batches), per_batch(ts_step, args.batches)
        print("  each batch timed alone, ms per batch (min / median):")
        print(f"    mvt_ts            {t_mvt.min():.3f} / {np.median(t_mvt):.3f}")
        print(f"    thompson (20 arms){t_ts.min():.3f} / {np.median(t_ts):.3f}")
    if args.units > 1:
        p_mvt, p_ts = parallel_rate(args, 0), parallel_rate(args, 1)
        print(f"  {args.units} learners at once, one process each (all decisions per second):")
        print(f"    mvt_ts            {p_mvt:>12,.0f} decisions/s")
        print(f"    thompson (20 arms){p_ts:>12,.0f} decisions/s")
        print(f"    ratio mvt_ts / thompson: {p_mvt / p_ts:.3f}")


if __name__ == "__main__":
    main()
