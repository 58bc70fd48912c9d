"""Share of the uniform-to-oracle gap closed at the generated level (issue #14, point 5).

For each objective and horizon: the expected reward per impression of ``uniform``,
``mvt_ts`` and ``oracle`` at the generated level, and the share of the gap
``(mvt_ts - uniform) / (oracle - uniform)`` mvt_ts closes; beside it, Thompson
sampling on the user level's fixed pool (its ten strategies) against that pool's
uniform and oracle. Expected rewards (regret-free expectations), not draws.

Two readings of "the share closed at N impressions", both printed:

- **over the run** (``run``): expected reward per impression over all N impressions, what
  the policy earned on the way (the stricter reading);
- **at N** (``at N``): expected reward per impression over the run's last tenth (its last
  checkpoint interval, ``--checkpoints 10``), what the policy serves by the time it reaches
  N impressions.

A second reading of both, **from the localized floor** (``local``): ``uniform`` draws the
language like any other axis, so about half its ads are in a language the viewer does
not read, while every pool level is localized; part of the uniform-to-oracle gap is
learning the viewer's language. ``(mvt_ts - localized random) / (oracle - localized
random)`` measures the rest, with the floor the true expected reward per impression of
a uniformly random valid composition *in the viewer's language*, a constant of the
world (:func:`simulation.composition_truth.random_outcomes` with ``localized=True``,
over every user of the audience, ``--floor-draws`` compositions each: impressions'
viewers are drawn uniformly from the audience, so this is what it earns per impression;
no learner is rerun for it). Printed beside it, the same constant for plain random
compositions, which ``uniform``'s expected reward over the run estimates (a check), and
the share of the gap that is the language alone (``lang``: ``(localized random - random) /
(oracle - random)``, the two floors true constants, the oracle over the run). The user
pool has no such reading: its arms are written in the viewer's language.

Run: ``PYTHONPATH=. python bench/generated_gap.py [--impressions 300000,1000000] [--seeds 12]``
(about two and a half minutes for both horizons and objectives with twelve seeds on two
quiet cores, 10-20 on a busy machine; one seed's share of the clicks gap moves by 5-10
points, so few seeds say little).
``--draw-scale 1`` runs mvt_ts with the plain Thompson draw instead of the engine's tempered
one (``simulation.engine.generated.DRAW_SCALE``); ``--anneal-after 0`` without the annealing
of that scale after ``ANNEAL_AFTER`` impressions.
"""

from __future__ import annotations

import argparse

import numpy as np

import simulation.engine.generated as eg
from simulation.composition_truth import random_outcomes
from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.tally import SERIES_METRICS
from simulation.scenario import build_scenario


def _reward(totals, m: dict[str, int], objective: str) -> float:
    """Mean over seeds of the expected reward per impression in ``totals`` (seeds, metrics)."""
    if objective == "ctr":
        per = totals[:, m["expected_clicks"]] / totals[:, m["impressions"]]
    else:
        per = (totals[:, m["expected_revenue"]] - totals[:, m["expected_spend"]]) / totals[
            :, m["impressions"]
        ]
    return float(per.mean())


def _floors(scenario, objective: str, draws: int) -> tuple[float, float]:
    """True expected reward per impression of random valid compositions: (plain, localized).

    Over every user of the audience (the run's viewers are drawn uniformly from it),
    ``draws`` compositions each; clicks per impression, or net value per impression (USD).
    """
    users = np.arange(scenario.population.n_users)
    out = []
    for localized in (False, True):
        r = random_outcomes(scenario, users, draws, localized=localized)
        out.append(float(r.ctr.mean()) if objective == "ctr" else r.net_value)
    return out[0], out[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impressions", default="300000,1000000")
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--objectives", default="ctr,roas")
    p.add_argument(
        "--checkpoints",
        type=int,
        default=10,
        help="checkpoints per run; the 'at N' share is over the last interval",
    )
    p.add_argument(
        "--no-pool", action="store_true", help="skip the user pool (generated level only)"
    )
    p.add_argument(
        "--no-tied",
        action="store_true",
        help="ablation: mvt_ts without the tied user x component crosses",
    )
    p.add_argument(
        "--draw-scale",
        type=float,
        default=None,
        help="ablation: mvt_ts's draw scale (the engine's DRAW_SCALE, 0.7; 1 is plain Thompson)",
    )
    p.add_argument(
        "--anneal-after",
        type=float,
        default=None,
        help="ablation: impressions after which mvt_ts's draw scale anneals (the engine's "
        "ANNEAL_AFTER, 250000; 0 never anneals)",
    )
    p.add_argument(
        "--floor-draws",
        type=int,
        default=32,
        help="random compositions per user for the true random floors (plain, localized)",
    )
    p.add_argument(
        "--per-seed",
        default=None,
        help="CSV file to write each replication's generated-level shares to (for paired "
        "comparisons between two versions of the code)",
    )
    args = p.parse_args()
    per_seed = []
    # The ablations patch the engine's module, which the forked workers inherit.
    if args.draw_scale is not None:
        eg.DRAW_SCALE = args.draw_scale
    if args.anneal_after is not None:
        eg.ANNEAL_AFTER = args.anneal_after or None
    if args.no_tied:
        real = eg.tied_patterns

        def untied(scenario):
            patterns, _ = real(scenario)
            return patterns[:0], ()

        eg.tied_patterns = untied
    print(
        "objective impressions | generated: uniform mvt_ts oracle share (run, at N) | "
        "from the localized floor: random (true) localized random (true) lang share (run, at N)"
        " | user pool: uniform thompson oracle share (run, at N)"
    )
    levels = ("generated",) if args.no_pool else ("user", "generated")
    policies = (
        ("uniform", "mvt_ts", "oracle")
        if args.no_pool
        else ("uniform", "thompson", "mvt_ts", "oracle")
    )
    for objective in args.objectives.split(","):
        for n in (int(x) for x in args.impressions.split(",")):
            config = ExperimentConfig(
                objective=objective, levels=levels, policies=policies,
                n_impressions=n, n_seeds=args.seeds, n_checkpoints=args.checkpoints,
            )  # fmt: skip
            scenario = build_scenario(config)
            result = run_experiment(config, scenario=scenario)
            plain, local = _floors(scenario, objective, args.floor_draws)
            m = {k: i for i, k in enumerate(SERIES_METRICS)}
            # Totals over the whole run, and over its last checkpoint interval only.
            final = result.series[:, :, :, -1, :]
            last = final - result.series[:, :, :, -2, :]
            row = []
            for li, level in enumerate(result.levels):
                learner = "mvt_ts" if level == "generated" else "thompson"
                vals, shares, pair = {}, [], []
                for totals in (final, last):
                    got = {pol: _reward(totals[:, li, result.policies.index(pol)], m, objective)
                           for pol in ("uniform", learner, "oracle")}  # fmt: skip
                    vals = vals or got
                    pair.append(got)
                    shares.append(
                        (got[learner] - got["uniform"]) / (got["oracle"] - got["uniform"])
                    )
                if level == "generated":
                    # The same readings from the localized floor, a true constant of the
                    # world: (learner - floor) / (oracle - floor), over the run and at N.
                    local_shares = [
                        (got_[learner] - local) / (got_["oracle"] - local) for got_ in pair
                    ]
                    lang = (local - plain) / (vals["oracle"] - plain)
                row.append((level, vals, learner, shares))
            ((_, g, _, gs),) = [r for r in row if r[0] == "generated"]
            gi = result.levels.index("generated")
            for seed in range(final.shape[0]):
                for reading, totals in (("run", final), ("at_n", last)):
                    got = {
                        pol: _reward(totals[seed : seed + 1, gi, result.policies.index(pol)], m,
                                     objective)
                        for pol in ("uniform", "mvt_ts", "oracle")
                    }  # fmt: skip
                    share = (got["mvt_ts"] - got["uniform"]) / (got["oracle"] - got["uniform"])
                    per_seed.append((objective, n, seed, reading, share))
            generated = (
                f"{objective:9} {n:>11,} | {g['uniform']:.5f} {g['mvt_ts']:.5f} "
                f"{g['oracle']:.5f} {gs[0]:6.1%} {gs[1]:6.1%} | {plain:.5f} {local:.5f} "
                f"{lang:6.1%} {local_shares[0]:6.1%} {local_shares[1]:6.1%}"
            )
            if args.no_pool:
                print(generated, flush=True)
                continue
            ((_, u, _, us),) = [r for r in row if r[0] == "user"]
            print(
                f"{generated} | {u['uniform']:.5f} "
                f"{u['thompson']:.5f} {u['oracle']:.5f} {us[0]:6.1%} {us[1]:6.1%}",
                flush=True,
            )

    if args.per_seed:
        import pandas as pd

        pd.DataFrame(
            per_seed, columns=["objective", "impressions", "seed", "reading", "share"]
        ).to_csv(args.per_seed, index=False)


if __name__ == "__main__":
    main()
