"""Where mvt_ts's shortfall comes from: the model it fits, or the noise it learns through.

A diagnostic of issue #14's first measured goal (mvt_ts closing 60 % of the
uniform-to-oracle gap by 1 million impressions). For each objective it prints the
share of that gap closed by:

- ``ceiling``: the best the learner's model can do with unlimited data. The model
  (the engine's mvt_ts: its features, tied patterns, masks) is fitted by least
  squares to the *expected* reward of ``--fit-rows`` uniform (user, composition)
  pairs; each user then gets the composition the fit scores best (the learner's
  own search). What the model cannot represent, no amount of data will find.
- ``learner, observed rewards``: mvt_ts as the engine runs it, learning from drawn
  outcomes (clicks, or the scaled net value of drawn clicks, sales and costs).
- ``learner, expected rewards``: the same learner on the same users, told the
  expected reward of what it served instead of a draw: what is left of the
  shortfall without the outcome noise.

Under net value it measures the *single* net-value learner (``engine_learner``), which
the engine replaced under CPM pricing on 2026-12-03 by the funnel (clicks, conversions per
click and the known order value learned apart, ``engine_funnel``); the funnel is not one
linear model, so it has no least-squares ceiling of this kind. Its net value figures
describe the learner the engine still uses under CPC pricing.

Shares are of the run's cumulative expected reward per impression, as in
``bench/generated_gap.py``. Simplifications (stated, so the figures are read as a
diagnosis, not as the engine's): no conversion delay, one stream of users drawn
uniformly, uniform and oracle values from ``--eval-users`` users.

With ``--knockout``, also where the learner's final posterior mean loses to the oracle, axis
by axis (first seed, drawn outcomes): the share of users whose level differs, and the points
of the gap the oracle's composition loses when that axis takes the learner's level (users
for whom that swap is valid). This is how the climb's constraint trap was found
(docs/generated-research.md, *The climb was a limit after all*). Then where that run's relevance
blocks ended (each axis's user cells, and the pair blocks above the floor): how the dead
blocks were found (docs/generated-research.md, *Why a dead block stays dead*).

With ``--informed``, also a reference learner that is *told* which user cells and pairs
of axes the world's response reads (:data:`INFORMED`, one entry per mechanism of
``simulation.response.MECHANISMS``), with no relevance determination: the engine's
learner with its free cells cut to those. It is not a policy (it reads the world's
structure, as the oracle reads its parameters); it tells how much of the shortfall is
the cost of *finding* the structure and how much is the cost of learning its weights
through the outcome noise, which no learner avoids. Printed per horizon, over the run
and at N (the run's last tenth), mean and standard error over ``--seeds`` runs, for the
engine's learner and the informed one with drawn outcomes, and the informed one told the
expected rewards.

Run: ``PYTHONPATH=. python bench/generated_ceiling.py [--impressions 300000,1000000]
[--objectives ctr,roas] [--seeds 4] [--knockout] [--informed]`` (about six minutes on two
cores; ``--informed`` adds about 10 s per seed and million impressions). The learner's
shares are means over ``--seeds`` runs (one seed's share of the clicks gap moves by
several points); the fits use one sample of rows.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import simulation.engine.generated as eg
from simulation.config import ExperimentConfig
from simulation.generated import search
from simulation.population import feature_slices
from simulation.rng import stream
from simulation.scenario import build_scenario

#: What each mechanism of the world's response reads, beyond the main effects every
#: learner has: (user feature, axis) cells and (axis, axis) pairs. The product's
#: user-dependence (interest, search, price) goes through the tied patterns the engine's
#: learner already has; region (half of the tone's taste) is not among the features.
INFORMED: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "category_appeal": ((), ()),
    "interest": ((), ()),
    "keyword": ((), ()),
    "tone": ((), ()),
    "tone_taste": ((("age_band", "tone"),), ()),
    "offer": ((), ()),
    "offer_taste": ((("price_sensitivity", "offer"),), ()),
    "tone_x_offer": ((), (("tone", "offer"),)),
    "greeting": ((), ()),
    "greeting_match": ((("active_hours", "greeting"),), ()),
    "layout": ((), ()),
    "layout_device": ((("mobile", "layout"),), ()),
    "language": ((("korean", "language"),), ()),
    "price": ((), ()),
    "personalized": ((), ()),
}


def informed_learner(scenario, **settings):
    """The engine's learner with free cells only where the world's response reads them.

    User cells of :data:`INFORMED`'s (feature, axis) pairs, pairwise weights of its pairs
    of axes, no relevance determination (every block kept at its automatic scale); the
    tied patterns, main effects, scales and the tempered draw as the engine's.
    """
    level = scenario.levels["generated"]
    space = level.space
    names = list(space.axis_names)
    first = scenario.segmentation.n_segments  # the user features follow the segment one-hot
    features = feature_slices()
    mask = np.zeros_like(eg.user_cells(scenario))
    blocks = np.zeros((space.n_axes, space.n_axes), dtype=bool)
    for cells, pairs in INFORMED.values():
        for feature, axis in cells:
            rows, a = features[feature], names.index(axis)
            levels = slice(space.offsets[a], space.offsets[a + 1])
            mask[first + rows.start : first + rows.stop, levels] = True
        for one, other in pairs:
            a, b = names.index(one), names.index(other)
            blocks[a, b] = blocks[b, a] = True
    return eg.engine_learner(
        scenario, **{"user_mask": mask, "pair_blocks": blocks, "relevance": False, **settings}
    )


class World:
    """Expected and drawn rewards of compositions, in the learner's units."""

    def __init__(self, scenario, objective: str) -> None:
        self.scenario, self.objective = scenario, objective
        response = scenario.response
        self.low, self.span = -response.max_cost, response.max_revenue + response.max_cost
        self.contexts = eg.generated_contexts(scenario, np.arange(scenario.population.n_users))

    def expected(self, users: np.ndarray, combos: np.ndarray) -> np.ndarray:
        """Expected reward (clicks, or net value in USD) per row, shape (n,)."""
        return self.rewards(users, combos)[0]

    def rewards(self, users, combos, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Each row's expected reward, and the learner's reward for it, both shape (n,).

        The expected reward is in clicks or USD of net value. The learner's is in its
        own units (clicks as they are, net value scaled as the engine scales it): a
        drawn outcome with ``rng``, else the expected reward.
        """
        e = eg.composed_expectations(self.scenario, users, combos)
        ctr = self.objective == "ctr"
        value = e.ctr[:, 0] if ctr else (e.revenue - e.cost)[:, 0]
        if rng is None:
            return value, value if ctr else (value - self.low) / self.span
        response = self.scenario.response
        uniforms = response.draw_uniforms(users.size, rng)
        click, _, revenue, spent = response.outcomes(
            e.ctr[:, 0], e.cvr[:, 0], e.order_value[:, 0], e.cost[:, 0], uniforms
        )
        if ctr:
            return value, click.astype(np.float64)
        return value, (revenue - spent - self.low) / self.span


def fit_and_choose(world: World, n_rows: int, eval_users, rng, *, drawn: bool) -> float:
    """Fit the learner's model to ``n_rows`` uniform impressions, then choose by the fit.

    With ``drawn=False`` the targets are the expected rewards and the fit is least
    squares: the ceiling of the model. With ``drawn=True`` they are drawn outcomes
    and the fit is the exact Bayesian posterior mean under the learner's own prior
    and noise variance (as set after its first batch): what ``n_rows`` impressions
    of a uniform experiment tell the model, with no exploration cost counted.

    Returns
    -------
    value : float
        Mean expected reward over ``eval_users`` of each one's best composition under the fit.
    """
    policy = eg.engine_learner(world.scenario)
    space = policy.space_
    n_users = world.contexts.shape[0]
    gram, rhs, prior_set = None, None, False
    for lo in range(0, n_rows, 10_000):
        n = min(10_000, n_rows - lo)
        users = rng.integers(0, n_users, size=n)
        combos = search.sample_valid(space, n, rng)
        x = world.contexts[users]
        y = world.rewards(users, combos, rng if drawn else None)[1]
        if not prior_set:
            # The learner's prior and noise, from its first batch of these rows.
            policy.update(x[:1_000], combos[:1_000], y[:1_000])
            active = np.flatnonzero(policy.prior_var_vector_ > 0)
            gram = np.zeros((active.size, active.size))
            rhs = np.zeros(active.size)
            prior_set = True
        z = policy._design(x, combos)[:, active]
        gram += z.T @ z
        rhs += z.T @ y
    if drawn:
        noise = policy.noise_var_
        prior, mean0 = policy.prior_var_vector_[active], policy.prior_mean_[active]
        gram = gram / noise + np.diag(1.0 / prior)
        rhs = rhs / noise + mean0 / prior
    else:
        # A whisper of ridge: some columns are collinear (a product and its category).
        gram[np.diag_indices_from(gram)] += 1e-9 * np.trace(gram) / active.size
    theta = np.zeros(policy.mean_.size)
    theta[active] = np.linalg.solve(gram, rhs)
    values = []
    for lo in range(0, eval_users.size, 1_000):
        users = eval_users[lo : lo + 1_000]
        combos, _ = policy.best(theta, world.contexts[users], rng)
        values.append(world.expected(users, combos))
    return float(np.concatenate(values).mean())


def learn(
    world: World, n_impressions: int, seed: int, eval_users: np.ndarray, *, expected_rewards: bool
) -> tuple[float, float]:
    """mvt_ts learning for ``n_impressions``: what it earned, and what it ends up knowing.

    Returns
    -------
    earned : float
        Cumulative expected reward per impression over the run.
    learned : float
        Mean expected reward over ``eval_users`` of each one's best composition under
        the final posterior mean (no exploration).
    """
    combos, total, _ = _final_choice(world, n_impressions, seed, eval_users, expected_rewards)
    learned = float(world.expected(eval_users, combos).mean())
    return total / (n_impressions // 1_000 * 1_000), learned


def _final_choice(world, n_impressions, seed, eval_users, expected_rewards):
    # mvt_ts's run: each eval user's best composition under the final posterior mean,
    # shape (n_eval, n_axes), the expected reward earned over the run, and the learner.
    sums, policy, policy_rng = _serve(
        world, n_impressions, seed, expected_rewards, eg.engine_learner
    )
    chosen = []
    for lo in range(0, eval_users.size, 1_000):
        users = eval_users[lo : lo + 1_000]
        chosen.append(policy.best(policy.posterior_mean_, world.contexts[users], policy_rng)[0])
    return np.concatenate(chosen), sum(sums.tolist(), 0.0), policy


def earned_by_batch(
    world: World, n_impressions: int, seed: int, *, expected_rewards: bool, learner
) -> np.ndarray:
    """Mean expected reward of each batch of 1,000 a learner serves, shape (n_batches,).

    The same users and outcome draws as :func:`learn` for the same seed.
    """
    return _serve(world, n_impressions, seed, expected_rewards, learner)[0] / 1_000


def _serve(world, n_impressions, seed, expected_rewards, learner):
    # A learner's run in batches of 1,000 on the seed's users and outcome draws: the
    # expected reward each batch earned (summed), the learner, and its generator.
    policy = learner(world.scenario)
    users_rng = stream(seed, "ceiling", "users")  # the same users in both modes
    draw_rng = stream(seed, "ceiling", "outcomes")
    policy_rng = stream(seed, "ceiling", "policy")
    n_users = world.contexts.shape[0]
    sums = np.empty(n_impressions // 1_000)
    for i in range(sums.size):
        users = users_rng.integers(0, n_users, size=1_000)
        x = world.contexts[users]
        combos = policy.select(x, policy_rng)
        value, reward = world.rewards(users, combos, None if expected_rewards else draw_rng)
        sums[i] = value.sum()
        policy.update(x, combos, reward)
    return sums, policy, policy_rng


def informed_report(world: World, n_impressions: int, seeds, share) -> list[str]:
    """The engine's learner against :func:`informed_learner`, over the run and at N.

    ``share`` maps an expected reward per impression to its share of the gap (%).
    """
    lines = []
    for label, learner, expected in (
        ("engine's learner, drawn outcomes", eg.engine_learner, False),
        ("informed learner, drawn outcomes", informed_learner, False),
        ("informed learner, expected rewards", informed_learner, True),
    ):
        runs = []
        for seed in seeds:
            v = earned_by_batch(
                world, n_impressions, seed, expected_rewards=expected, learner=learner
            )
            runs.append([share(v.mean()), share(v[-max(1, v.size // 10) :].mean())])
        runs = np.array(runs)
        se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else [np.nan] * 2
        lines.append(
            f"    {label:36} over the run {runs[:, 0].mean():5.1f} % (se {se[0]:.1f}),"
            f" at N {runs[:, 1].mean():5.1f} % (se {se[1]:.1f})"
        )
    return lines


def relevance_report(policy) -> list[str]:
    """Where the learner's relevance blocks ended: each axis's user cells, the live pairs.

    Scales as log10 of the block's prior variance over its parent's automatic one: -6 is
    the floor (the block is switched off), 0 the automatic scale.
    """
    space = policy.space_
    tau = policy._scales(policy.noise_var_)
    n_axes = space.n_axes
    # Blocks with free weights (the product's user cells and pairs are fixed at zero).
    free = np.zeros(tau.size, dtype=bool)
    free[policy.block_[policy.prior_var_vector_ > 0]] = True
    user = np.log10(tau[4 : 4 + n_axes] / tau[1])
    cells = " ".join(
        f"{name} {user[a]:+.1f}" for a, name in enumerate(space.axis_names) if free[4 + a]
    )
    pairs = np.log10(tau[4 + n_axes :].reshape(n_axes, n_axes) / tau[2])
    live = [
        f"{space.axis_names[a]} x {space.axis_names[b]} {pairs[a, b]:+.1f}"
        for a in range(n_axes)
        for b in range(a + 1, n_axes)
        if free[4 + n_axes + a * n_axes + b] and pairs[a, b] > -5.5
    ]
    return [
        f"    user cells by axis (log10 of scale / automatic): {cells}",
        f"    pair blocks above the floor: {', '.join(live) if live else 'none'}",
    ]


def knockout(world: World, n_impressions: int, seed: int, eval_users, oracle_combos) -> list[str]:
    """Per axis: where the final posterior mean's compositions differ from the oracle's.

    Returns one line per axis: the share of ``eval_users`` whose level differs, and the
    points of the uniform-to-oracle gap the oracle's composition loses when that axis
    takes the learner's level (mean over the users for whom that swap is valid).
    """
    space = world.scenario.levels["generated"].space
    uniform = world.expected(
        eval_users, search.sample_valid(space, eval_users.size, stream(seed, "ko"))
    )
    oracle = world.expected(eval_users, oracle_combos)
    gap = float(oracle.mean() - uniform.mean())
    learned, _, policy = _final_choice(
        world, n_impressions, seed, eval_users, expected_rewards=False
    )
    lines = []
    for j, name in enumerate(space.axis_names):
        swapped = oracle_combos.copy()
        swapped[:, j] = learned[:, j]
        valid = space.is_valid(swapped)
        loss = oracle[valid] - world.expected(eval_users[valid], swapped[valid])
        lost = 100 * float(loss.mean()) / gap if valid.any() else float("nan")
        differs = float(np.mean(learned[:, j] != oracle_combos[:, j]))
        lines.append(
            f"    {name:10} differs for {differs:6.1%} of users;"
            f" the oracle's composition with the learner's level loses {lost:5.1f} points"
            f" (valid for {valid.mean():.0%})"
        )
    return lines + relevance_report(policy)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impressions", default="300000,1000000")
    p.add_argument("--objectives", default="ctr,roas")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=4, help="learner runs averaged (seeds)")
    p.add_argument("--fit-rows", type=int, default=300_000)
    p.add_argument("--eval-users", type=int, default=20_000)
    p.add_argument("--knockout", action="store_true", help="also the per-axis knock-out")
    p.add_argument(
        "--informed", action="store_true", help="also a learner told the world's structure"
    )
    args = p.parse_args()
    horizons = [int(v) for v in args.impressions.split(",")]
    print("objective | uniform oracle | share of the gap: ceiling | learner at each horizon,")
    print("           earned over the run and learned by its end: observed / expected rewards")
    for objective in args.objectives.split(","):
        start = time.perf_counter()
        config = ExperimentConfig(objective=objective, levels=("generated",), policies=("mvt_ts",))
        scenario = build_scenario(config)
        world = World(scenario, objective)
        rng = stream(args.seed, "ceiling", "evaluation")
        n_users = world.contexts.shape[0]
        users = rng.choice(n_users, size=min(args.eval_users, n_users), replace=False)
        space = scenario.levels["generated"].space
        uniform = float(world.expected(users, search.sample_valid(space, users.size, rng)).mean())
        oracle_combos = eg.oracle_table(scenario, objective)[users]
        oracle = float(world.expected(users, oracle_combos).mean())

        def percent(v: float, uniform=uniform, oracle=oracle) -> float:
            return 100 * (v - uniform) / (oracle - uniform)

        def share(v: float) -> str:
            return f"{percent(v):5.1f} %"

        top = fit_and_choose(world, args.fit_rows, users, rng, drawn=False)
        line = f"{objective:9} | {uniform:.5f} {oracle:.5f} | ceiling {share(top)} |"
        for n in horizons:
            offline = fit_and_choose(world, n, users, rng, drawn=True)
            seeds = range(args.seed, args.seed + args.seeds)
            runs = {
                mode: np.mean(
                    [learn(world, n, s, users, expected_rewards=mode) for s in seeds], axis=0
                )
                for mode in (False, True)
            }
            drawn, exact = runs[False], runs[True]
            line += (
                f" {n:,}: earned {share(drawn[0])} / {share(exact[0])},"
                f" learned {share(drawn[1])} / {share(exact[1])};"
                f" a uniform experiment of {n:,} teaches {share(offline)} |"
            )
        print(line, f"({time.perf_counter() - start:.0f} s)", flush=True)
        if args.knockout:
            for n in horizons:
                print(f"  knock-out, {objective}, {n:,} impressions, seed {args.seed}:")
                print("\n".join(knockout(world, n, args.seed, users, oracle_combos)), flush=True)
        if args.informed:
            seeds = range(args.seed, args.seed + args.seeds)
            for n in horizons:
                runs = f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''}"
                print(f"  told the structure, {objective}, {n:,} impressions, {runs}:")
                print("\n".join(informed_report(world, n, seeds, percent)), flush=True)


if __name__ == "__main__":
    main()
