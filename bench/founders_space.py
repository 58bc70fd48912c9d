"""Pool creatives the component space would never compose: which rule, and what it costs.

A research diagnostic (docs/generated-research.md, *Founders outside the space*). The pool
levels serve the bundled generator's creatives (``creative.generate``); the generated level
composes from the space (``creative.components.component_axes``). For one world it prints:

- every founder (generic and per-segment creative) whose composition as served breaks a
  rule of the space, the rule it breaks, and the true CTR and ROAS rank of each arm among
  its row's arms (expectations over the row's users, not draws);
- for ``--users`` sampled viewers, how many of ``generate_for_user``'s creatives under the
  user level's strategies fall outside the space, by rule, and whether they pass the
  guardrails;
- the generated level's oracle (the exact best composition per user, true expectations)
  on the space as is and with its rules relaxed: the search allowed in Korean copy, then a
  greeting and a search allowed beside any headline (a body carries them, as the bundled
  bodies do), then the same with the informative tone never greeting.

The relaxations are measured against the space as it is since 2026-12-06, with the
``greet_search`` headline style and searches printed in Korean copy: the first relaxation
is then the space as is (the Korean rule is gone). On seed 0 every relaxed row equals the
as-is row (1.174 % true CTR, ROAS 3.64); on seeds 1 and 2 the last two do not (the space
still cannot compose a social-proof ad that greets: social proof has no greeting headline,
so no ``greet_search``; docs/generated-research.md has the figures).

Usage: ``PYTHONPATH=. python bench/founders_space.py --seed 0``
"""

from __future__ import annotations

import argparse
import collections
import dataclasses

import numpy as np

from creative.components import AXES, HEADLINE_STYLES, component_axes
from creative.generate import generate_for_user
from creative.vocabulary import LANGUAGES, TONES
from simulation.config import ExperimentConfig
from simulation.engine.generated import best_compositions, composed_expectations
from simulation.generated.space import ComponentSpace
from simulation.population import user_audience

# _served_combo is private, but a diagnostic reads a creative's composition as served the
# way regeneration reads it, rather than with a copy of it.
from simulation.scenario import USER_STRATEGIES, _served_combo, build_scenario, pool_composer


def founders(sc) -> None:
    pop, seg = sc.population, sc.segmentation.labels
    for name in ("generic", "segment"):
        comp, level = pool_composer(sc, name), sc.levels[name]
        for r in range(comp.n_rows):
            ok = comp.founder_valid[r] & comp.space.is_valid(comp.founders[r])
            if ok.all():
                continue
            users = np.arange(pop.n_users) if name == "generic" else np.flatnonzero(seg == r)
            viewers = pop.take(users)
            e = sc.response.expectations(viewers, level.arm_attributes(viewers, seg[users]))
            ctr, roas = e.ctr.mean(0), e.revenue.mean(0) / e.cost.mean(0)
            rank = lambda v: np.argsort(np.argsort(-v)).tolist()  # noqa: E731
            print(
                f"{name} row {r} ({users.size:,} users): "
                f"CTR rank {rank(ctr)}, ROAS rank {rank(roas)}"
            )
            for k in np.flatnonzero(~ok):
                c = level.creatives[r][k]
                why = comp.space.conflict_text(comp.founders[r, k]) or "unreadable"
                print(f"  arm {k} [{c.language}] {c.headline} | {c.body} | [{c.cta}]\n    {why}")


def per_user(sc, n_users: int) -> None:
    comp = pool_composer(sc, "segment")  # the run's space, catalogue and templates
    rng = np.random.default_rng(0)
    count, why = collections.Counter(), collections.Counter()
    for u in rng.choice(sc.population.n_users, n_users, replace=False):
        audience = user_audience(sc.population, int(u))
        for tone, offer, layout in USER_STRATEGIES[: sc.config.n_variants]:
            try:
                c = generate_for_user(
                    audience, np.random.default_rng(int(u)), tone=tone, offer=offer, layout=layout
                )
            except ValueError:
                continue  # the strategy's offer does not fit the user's top interest
            combo = _served_combo(c, comp)
            count[c.language] += 1
            if combo is None or not comp.space.is_valid(combo[None])[0]:
                why[(c.language, "outside", "passes" if c.guardrail.passed else "FAILS")] += 1
                for part in (comp.space.conflict_text(combo) if combo is not None else "?").split(
                    "; "
                ):
                    why[(c.language, part)] += 1
    print(f"per-user creatives by language: {dict(count)}")
    for key, n in why.most_common():
        print(f"  {n:5d} {key}")


def relaxed(keyword_ko: bool, any_headline: bool, informative_greets: bool) -> ComponentSpace:
    ax = component_axes()
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in ax.levels])])
    pair = ax.pair_mask.copy()

    def g(axis: str, i: int) -> int:
        return int(offsets[AXES.index(axis)] + i)

    def set_pair(a: str, i: int, b: str, j: int, value: bool) -> None:
        pair[g(a, i), g(b, j)] = pair[g(b, j), g(a, i)] = value

    if keyword_ko:
        set_pair("keyword", 1, "language", LANGUAGES.index("ko"), True)
    if any_headline:
        for s in range(len(HEADLINE_STYLES)):
            set_pair("headline", s, "greeting", 1, True)
            set_pair("headline", s, "keyword", 1, True)
    if not informative_greets:  # no informative line greets, in either language
        set_pair("tone", TONES.index("informative"), "greeting", 1, False)
    return ComponentSpace.from_axes(dataclasses.replace(ax, pair_mask=pair))


def oracles(sc, n_users: int) -> None:
    gen = sc.levels["generated"]
    users = np.sort(np.random.default_rng(1).choice(sc.population.n_users, n_users, replace=False))
    ko = sc.population.language[users] == LANGUAGES.index("ko")
    spaces = {
        "as is": gen.space,
        "search in Korean": relaxed(True, False, True),
        "+ greeting/search beside any headline": relaxed(True, True, True),
        "+ ... informative never greets": relaxed(True, True, False),
    }
    for label, space in spaces.items():
        world = dataclasses.replace(
            sc, levels={**sc.levels, "generated": dataclasses.replace(gen, space=space)}
        )
        cells = []
        for objective in ("ctr", "roas"):
            e = composed_expectations(world, users, best_compositions(world, objective, users))
            for who, m in (("all", slice(None)), ("ko", ko), ("en", ~ko)):
                v = e.ctr[m].mean() if objective == "ctr" else e.revenue[m].sum() / e.cost[m].sum()
                cells.append(f"{objective} {who} {v:.5f}")
        print(f"oracle, {label} ({space.count_valid():,} valid): " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--users", type=int, default=600, help="viewers for the per-user pool")
    parser.add_argument("--oracle-users", type=int, default=4_000)
    args = parser.parse_args()
    levels = ("generic", "segment", "user", "generated")
    sc = build_scenario(ExperimentConfig(seed=args.seed, levels=levels))
    founders(sc)
    per_user(sc, args.users)
    oracles(sc, args.oracle_users)


if __name__ == "__main__":
    main()
