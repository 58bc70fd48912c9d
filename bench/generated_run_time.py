"""Engine time of the default experiment with and without the generated level (issue #14, point 6).

The app's goal is charts within 2 s of the click, warm, with the generated level added; the
app adds about 0.7x on top of the engine (``bench/app.py``, ``bench/RESULTS.md``), so the
engine alone already says whether it can be met. Times ``run_experiment`` three times on one
built scenario (the first run also builds the oracle's table and compiles what is not cached)
for the default preset, and for the same with ``generated`` added to the levels and
``mvt_ts`` to the policies (at the generated level only ``uniform`` and ``mvt_ts`` play).

Then the cost of one batch of the generated level's ground truth: the composed
creatives' expected outcomes (:func:`simulation.engine.generated.composed_expectations`,
per-world tables and one compiled pass) against the general path every level takes
(``GeneratedLevel.content`` + ``ResponseModel.expectations``, which it reproduces bit
for bit), on the same 1,000-row batches, best of five passes each, interleaved.

Run: ``PYTHONPATH=. python bench/generated_run_time.py`` (about half a minute, warm caches);
``--quick`` runs the same steps on a small experiment (1,000 users, 10,000 impressions, one
seed; two runs, ten batches), a smoke run whose times say nothing about the goal.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simulation.config import PRESETS
from simulation.engine.core import run_experiment
from simulation.engine.generated import composed_expectations
from simulation.scenario import build_scenario


def _general(scenario, users: np.ndarray, combos: np.ndarray):
    level = scenario.levels["generated"]
    pop = scenario.population.take(users)
    return scenario.response.expectations(pop, level.content(pop, level.factors(combos)[:, None]))


def _per_batch(scenario, n_batches: int = 100, batch: int = 1_000) -> tuple[float, float]:
    """Best-of-five seconds per batch of the compiled path and of the general one."""
    space = scenario.levels["generated"].space
    rng = np.random.default_rng(0)
    batches = [
        (
            rng.integers(0, scenario.population.n_users, batch),
            rng.integers(0, np.array(space.n_levels), size=(batch, space.n_axes)),
        )
        for _ in range(n_batches)
    ]
    best = {composed_expectations: np.inf, _general: np.inf}
    for _ in range(5):
        for fn in best:
            start = time.perf_counter()
            for users, combos in batches:
                fn(scenario, users, combos)
            best[fn] = min(best[fn], (time.perf_counter() - start) / n_batches)
    return best[composed_expectations], best[_general]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small experiment (a smoke run)")
    args = parser.parse_args(argv)
    base = PRESETS["default"]
    if args.quick:
        base = base.replace(n_users=1_000, n_impressions=10_000, n_seeds=1)
    generated = base.replace(
        levels=(*base.levels, "generated"), policies=(*base.policies, "mvt_ts")
    )
    name = "small" if args.quick else "default"
    for label, config in ((name, base), (f"{name} + generated + mvt_ts", generated)):
        scenario = build_scenario(config)
        times = []
        for _ in range(2 if args.quick else 3):
            start = time.perf_counter()
            run_experiment(config, scenario=scenario)
            times.append(time.perf_counter() - start)
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"{label:30} run_experiment: {shown} s (first, then warm)")
    fast, general = _per_batch(scenario, n_batches=10 if args.quick else 100)
    print(
        f"{'composed expectations':30} {fast * 1e3:.3f} ms per batch of 1,000 "
        f"(general path {general * 1e3:.3f} ms: {general / fast:.1f}x)"
    )


if __name__ == "__main__":
    main()
