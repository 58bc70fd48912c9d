"""The fast reproduction engine: schedules, delayed feedback, regret bookkeeping, agreement.

Statistical assertions use a seeded fixture and bounds of 4-5 standard errors (a false alarm
rate well below 1e-4 per assertion); exact assertions are on deterministic bookkeeping.
"""

import math

import numpy as np
import pytest
from reference.replication import replicate_numpy

from simulation.replication import chapelle_li
from simulation.replication.chapelle_li import (
    KERNEL_POLICIES,
    BernoulliSchedule,
    chapelle_li_schedule,
    replicate_with_policy,
    stationary_schedule,
)

#: The compiled fast path, and the numpy reference of the tests that states its semantics.
BACKENDS = ["numpy", "numba"]


def replicate(policy, schedule, *, backend="numba", **kwargs):
    """The package's :func:`replicate`, or the numpy reference for ``backend="numpy"``."""
    if backend == "numpy":
        return replicate_numpy(policy, schedule, **kwargs)
    return chapelle_li.replicate(policy, schedule, backend=backend, **kwargs)


def test_kernel_policies_share_the_engines_codes():
    from simulation.compiled import KernelCode
    from simulation.policies.counting_kernels import POLICY_CODES

    assert {code.name.lower(): code.value for code in KernelCode} == KERNEL_POLICIES
    # One numbering: a policy both kernels implement has one code.
    for name, code in POLICY_CODES.items():
        assert KERNEL_POLICIES[name] == code


def expected_uniform_regret(schedule: BernoulliSchedule, n_steps: int) -> np.ndarray:
    """Regret of uniformly random play: sum over steps of max(ctr) - mean(ctr), per repetition."""
    out = np.zeros(schedule.n_reps)
    for r in range(schedule.n_reps):
        ctr = schedule.ctr[r].copy()
        steps, arms, new = schedule.events(r)
        bounds = np.concatenate([steps[steps < n_steps], [n_steps]])
        t0 = 0
        for i, t1 in enumerate(bounds):
            out[r] += (t1 - t0) * (ctr.max() - ctr.mean())
            if i < len(arms) and t1 < n_steps:
                ctr[arms[i]] = new[i]
            t0 = t1
    return out


def test_schedule_replacement_rate_slots_and_new_ctrs(rng):
    n_reps, n_steps, rate, k = 200, 20_000, 1e-3, 10
    s = chapelle_li_schedule(n_reps, n_steps, rng, n_arms=k, replace_rate=rate)
    n_events = int(s.event_offset[-1])
    expected = n_reps * n_steps * rate  # events are Bernoulli(rate) per step
    assert abs(n_events - expected) < 5 * np.sqrt(expected)
    for r in range(n_reps):
        steps, _, _ = s.events(r)
        assert np.all(np.diff(steps) > 0) and steps.min(initial=0) >= 0
        assert steps.max(initial=0) < n_steps
    counts = np.bincount(s.event_arm, minlength=k)
    assert np.all(np.abs(counts - n_events / k) < 5 * np.sqrt(n_events / k))
    # New items' click probabilities are Beta(4, 4): mean 1/2, variance 1/36.
    assert abs(s.event_ctr.mean() - 0.5) < 5 * np.sqrt(1 / 36 / n_events)
    assert abs(s.ctr.var() - 1 / 36) < 0.005


def test_schedule_without_replacements_and_subset(rng):
    s = chapelle_li_schedule(5, 1000, rng, replace_rate=0.0)
    assert s.event_offset.tolist() == [0] * 6
    full = chapelle_li_schedule(6, 5000, rng)
    sub = full.subset([1, 3])
    assert np.array_equal(sub.ctr, full.ctr[[1, 3]])
    for i, r in enumerate([1, 3]):
        for a, b in zip(sub.events(i), full.events(r)):
            assert np.array_equal(a, b)


def test_oldest_item_retires_first_in_first_out(rng):
    n_reps, n_steps, k = 30, 40_000, 10
    seed = int(rng.integers(2**32))
    fifo = chapelle_li_schedule(n_reps, n_steps, np.random.default_rng(seed), retire="oldest")
    rand = chapelle_li_schedule(n_reps, n_steps, np.random.default_rng(seed), retire="random")
    # The same environments apart from which slot is emptied (paired comparisons).
    for name in ("ctr", "event_offset", "event_step", "event_ctr"):
        assert np.array_equal(getattr(fifo, name), getattr(rand, name))
    for r in range(n_reps):
        _, arms, _ = fifo.events(r)
        assert len(arms) > k
        # The initial items retire once each, in some order; from then on a slot is emptied
        # again exactly k events after its new item came in.
        assert sorted(arms[:k]) == list(range(k))
        assert np.array_equal(arms[k:], arms[:-k])


def test_aligned_schedule_postpones_replacements_to_multiples_of_delay(rng):
    s = chapelle_li_schedule(8, 30_000, rng)
    for delay in (1, 7, 1000):
        a = s.aligned(delay)
        assert np.all(a.event_step % delay == 0)
        assert np.all(a.event_step >= s.event_step)
        assert np.all(a.event_step - s.event_step < delay)
        for name in ("ctr", "event_offset", "event_arm", "event_ctr"):
            assert np.array_equal(getattr(a, name), getattr(s, name))
    assert np.array_equal(s.aligned(1).event_step, s.event_step)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("delay", [1, 3, 7, 100, 1001])
def test_feedback_is_delivered_exactly_every_delay_steps(backend, delay, rng):
    n_steps = 1000
    s = stationary_schedule(rng.uniform(0.1, 0.9, size=(4, 5)))
    res = replicate("thompson", s, n_steps=n_steps, delay=delay, rng=rng, backend=backend)
    assert res.n_feedback.tolist() == [n_steps // delay] * 4
    assert res.n_observed.tolist() == [(n_steps // delay) * delay] * 4
    lag = replicate(
        "thompson", s, n_steps=n_steps, delay=delay, feedback="lagged", rng=rng, backend=backend
    )
    # One decision a round, from decision delay - 1 on.
    assert lag.n_feedback.tolist() == [max(n_steps - delay + 1, 0)] * 4
    assert lag.n_observed.tolist() == lag.n_feedback.tolist()


def run_everywhere(policy, schedule, **kwargs):
    """The same run on every backend and through the policy contract."""
    out = [replicate(policy, schedule, backend=b, **kwargs) for b in BACKENDS]
    return [*out, replicate_with_policy(policy, schedule, **kwargs)]


@pytest.mark.parametrize(
    ("feedback", "delay", "step"),
    [
        ("periodic", 10, 57),
        ("periodic", 10, 60),
        ("lagged", 10, 57),
        ("lagged", 10, 5),
        ("lagged", 1, 57),
    ],
)
@pytest.mark.parametrize("policy", ["thompson", "ucb1"])
def test_retired_items_undelivered_feedback_is_dropped(feedback, delay, step, policy):
    # One slot, replaced once at `step`: every decision is on that slot, so exactly the
    # decisions made before `step` whose feedback was not delivered by then are dropped.
    # Periodic: those since the last delivery (step % delay). Lagged: the last delay - 1
    # decisions (fewer when the replacement comes before decision delay - 1).
    n_steps = 200
    s = BernoulliSchedule(
        ctr=np.array([[0.3]]),
        event_offset=np.array([0, 1]),
        event_step=np.array([step]),
        event_arm=np.array([0]),
        event_ctr=np.array([0.6]),
    )
    if feedback == "periodic":
        rounds, dropped = n_steps // delay, step % delay
    else:
        rounds, dropped = n_steps - delay + 1, min(delay - 1, step)
    for res in run_everywhere(
        policy, s, n_steps=n_steps, delay=delay, feedback=feedback, rng=np.random.default_rng(0)
    ):
        assert res.n_feedback.tolist() == [rounds], res.backend
        delivered = rounds * delay if feedback == "periodic" else rounds
        assert res.n_observed.tolist() == [delivered - dropped], res.backend
        assert res.regret.tolist() == [0.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_greedy_learns_at_the_first_delivery_not_before_or_after(backend, seed):
    # Arm 0 always clicks, arm 1 never. Greedy play ties (uniform) until the first delivery
    # after `delay` decisions, then plays arm 0 forever: regret = pulls of arm 1 in the first
    # window ~ Binomial(delay, 1/2), unless arm 0 was never pulled in it (probability 2^-delay:
    # then the next window is uniform too). A delivery one step early or late shifts the mean
    # by about 1/2 = 24 standard errors.
    n_reps, delay = 4000, 7
    s = stationary_schedule(np.tile([1.0, 0.0], (n_reps, 1)))
    rng = np.random.default_rng(seed)
    res = replicate(
        "epsilon_greedy", s, n_steps=60, delay=delay, epsilon=0.0, rng=rng, backend=backend
    )
    expected = delay / 2 / (1 - 2.0**-delay)
    assert abs(res.mean - expected) < 5 * np.sqrt(delay / 4 / n_reps)
    assert np.mean(res.regret <= delay) > 1 - 2 * 2.0**-delay - 0.01


@pytest.mark.parametrize("backend", [*BACKENDS, "policy"])
def test_greedy_learns_exactly_delay_decisions_later_with_lagged_feedback(backend, seed):
    # Arm 0 always clicks, arm 1 never. Greedy play ties (uniform) until the feedback of the
    # first arm-0 pull, at decision tau (tau ~ Geometric(1/2) from 0, mean 1), is used, at
    # decision tau + delay; then it plays arm 0 forever. Regret = tau + the arm-1 pulls among
    # decisions tau + 1 .. tau + delay - 1: mean 1 + (delay - 1) / 2, variance 2 + (delay - 1)
    # / 4. A lag one step off shifts the mean by 1/2, about 17 standard errors.
    n_reps, delay = 4000 if backend != "policy" else 1500, 7
    s = stationary_schedule(np.tile([1.0, 0.0], (n_reps, 1)))
    rng = np.random.default_rng(seed)
    kwargs = {"n_steps": 60, "delay": delay, "feedback": "lagged", "epsilon": 0.0, "rng": rng}
    if backend == "policy":
        res = replicate_with_policy("epsilon_greedy", s, **kwargs)
    else:
        res = replicate("epsilon_greedy", s, backend=backend, **kwargs)
    expected = 1 + (delay - 1) / 2
    assert abs(res.mean - expected) < 5 * np.sqrt((2 + (delay - 1) / 4) / n_reps)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("feedback", ["periodic", "lagged"])
@pytest.mark.parametrize("policy", ["thompson", "ucb1", "chernoff_ucb", "uniform"])
def test_regret_without_feedback_is_that_of_uniform_play(backend, feedback, policy, seed):
    # With the delay longer than the run no feedback arrives: every policy plays uniformly
    # (TS from its prior, the UCBs over untried arms). Replacements change the regret rate.
    n_reps, n_steps = 300, 3000
    rng = np.random.default_rng(seed)
    s = chapelle_li_schedule(n_reps, n_steps, rng, replace_rate=5e-3)
    res = replicate(
        policy,
        s,
        n_steps=n_steps,
        delay=n_steps + 1,
        feedback=feedback,
        rng=rng,
        backend=backend,
    )
    expected = expected_uniform_regret(s, n_steps)
    diff = res.regret - expected
    assert res.n_feedback.max() == 0
    assert abs(diff.mean()) < 5 * diff.std(ddof=1) / np.sqrt(n_reps)


def test_regret_is_zero_when_all_arms_are_equal(rng):
    s = stationary_schedule(np.full((3, 4), 0.3))
    for policy in ("thompson", "ucb1", "epsilon_greedy"):
        assert np.all(replicate(policy, s, n_steps=500, rng=rng, backend="numpy").regret == 0)
        assert np.all(replicate_with_policy(policy, s, n_steps=500, rng=rng).regret == 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"policy": "lin_ucb"}, "unknown policy"),
        ({"n_steps": 0}, "`n_steps` must be an int >= 1"),
        ({"delay": 0}, "`delay` must be an int >= 1"),
        ({"delay": 2.5}, "`delay` must be an int >= 1"),
        ({"backend": "cuda"}, "`backend` must be"),
        ({"backend": "numpy"}, "`backend` must be"),  # the numpy loop lives in the tests now
        ({"feedback": "sometimes"}, "`feedback` must be one of"),
    ],
)
def test_bad_arguments(kwargs, match, rng):
    s = stationary_schedule(np.full((2, 3), 0.5))
    args = {"policy": "thompson", "n_steps": 10, "delay": 1, "backend": "numba"} | kwargs
    policy = args.pop("policy")
    with pytest.raises(ValueError, match=match):
        chapelle_li.replicate(policy, s, rng=rng, **args)


def test_bad_schedules():
    with pytest.raises(ValueError, match="`ctr` must have shape"):
        stationary_schedule(np.zeros(3))
    with pytest.raises(ValueError, match="`event_offset` must have shape"):
        BernoulliSchedule(
            ctr=np.zeros((2, 3)),
            event_offset=np.zeros(2, dtype=np.int64),
            event_step=np.zeros(0, dtype=np.int64),
            event_arm=np.zeros(0, dtype=np.int64),
            event_ctr=np.zeros(0),
        )
    with pytest.raises(ValueError, match="`replace_rate` must be"):
        chapelle_li_schedule(2, 10, np.random.default_rng(0), replace_rate=2.0)
    with pytest.raises(ValueError, match="`retire` must be one of"):
        chapelle_li_schedule(2, 10, np.random.default_rng(0), retire="youngest")
    with pytest.raises(ValueError, match="`delay` must be an int >= 1"):
        stationary_schedule(np.zeros((2, 3))).aligned(0)
    with pytest.raises(ValueError, match="`feedback` must be one of"):
        replicate_with_policy(
            "thompson",
            stationary_schedule(np.zeros((2, 3))),
            n_steps=10,
            feedback="lag",
            rng=np.random.default_rng(0),
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "delay", "n_steps", "feedback", "retire"),
    [
        ("thompson", 1, 2000, "periodic", "random"),
        ("thompson", 32, 4000, "periodic", "random"),
        ("ucb1", 1, 2000, "periodic", "random"),
        ("ucb1", 10, 4000, "periodic", "random"),
        ("epsilon_greedy", 10, 3000, "periodic", "random"),
        ("thompson", 32, 2000, "lagged", "random"),
        ("ucb1", 10, 2000, "lagged", "oldest"),
        ("thompson", 10, 3000, "periodic", "oldest"),
    ],
)
def test_fast_path_agrees_with_the_policy_contract(policy, delay, n_steps, feedback, retire, seed):
    # The same environments (paired), with items replaced 5x faster than in the paper so that
    # forget() matters within the run. 4 standard errors of the paired difference.
    n_reps = 40
    rng = np.random.default_rng(seed)
    s = chapelle_li_schedule(n_reps, n_steps, rng, replace_rate=5e-3, retire=retire)
    run = {"n_steps": n_steps, "delay": delay, "feedback": feedback, "rng": rng}
    for backend in BACKENDS:
        fast = replicate(policy, s, backend=backend, **run)
        slow = replicate_with_policy(policy, s, **run)
        diff = fast.regret - slow.regret
        assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(n_reps), (backend, diff.mean())
        assert np.array_equal(fast.n_feedback, slow.n_feedback)


@pytest.mark.parametrize(("a", "b"), [(1, 1), (1, 7), (7, 1), (2.5, 9), (300, 9000), (0.5, 0.7)])
def test_compiled_beta_sampler_matches_scipy(a, b, seed):
    from scipy import stats

    from simulation.replication.kernels import beta_draws

    state = np.random.default_rng(seed).integers(1, 2**63, size=4).astype(np.uint64)
    x = beta_draws(state, float(a), float(b), 50_000)
    assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > 1e-4


def test_numba_results_do_not_depend_on_the_number_of_threads(rng):
    import numba

    s = chapelle_li_schedule(6, 3000, rng)
    out = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        out.append(
            replicate(
                "thompson", s, n_steps=3000, delay=3, rng=np.random.default_rng(1), backend="numba"
            ).regret
        )
    assert np.array_equal(out[0], out[1])


def exact_argmax_probabilities(aa: np.ndarray, bb: np.ndarray) -> np.ndarray:
    """P(argmax_i X_i = j) for independent X_i ~ Beta(aa[i], bb[i]), by quadrature."""
    from scipy import integrate, stats

    dists = [stats.beta(a, b) for a, b in zip(aa, bb)]
    out = np.zeros(len(dists))
    for j, dj in enumerate(dists):
        others = [d for i, d in enumerate(dists) if i != j]
        lo, hi = dj.ppf([1e-15, 1.0 - 1e-15])
        out[j] = integrate.quad(
            lambda x, dj=dj, others=others: dj.pdf(x) * np.prod([d.cdf(x) for d in others]),
            lo,
            hi,
            limit=500,
            epsabs=1e-13,
            epsrel=1e-10,
        )[0]
    return out


@pytest.mark.parametrize(
    ("aa", "bb"),
    [
        # Well separated, with a fresh arm (Beta(1, 1)) and an all-clicks arm (b = 1).
        ([600, 50, 40, 1, 7], [400, 50, 60, 1, 1]),
        # Close posteriors: the envelope's proposals are accepted and rejected often.
        ([300, 290, 280], [700, 710, 720]),
        # Near-tied long-run arms beside a wide one.
        ([60000, 59000, 200], [40000, 41000, 150]),
        # A rare winner (about 3e-3) decided in the pruned tail.
        ([900, 45], [100, 15]),
        # Small parameters, some <= 1 (never pruned: full draws).
        ([2, 3, 1, 0.5], [3, 2, 5, 0.7]),
    ],
)
def test_pruned_thompson_draw_has_the_exact_argmax_law(aa, bb, seed):
    # Chi-square goodness of fit of 400,000 pruned decisions against the exact law; cells with
    # fewer than 5 expected decisions are pooled. p > 1e-4: a false alarm 1 time in 10,000 per
    # case, while a pruning error of 1 % of one arm's probability would fail (the cells hold
    # thousands of decisions, so their standard errors are around 1 %).
    from scipy import stats

    from simulation.replication.kernels import thompson_picks

    aa, bb = np.asarray(aa, dtype=np.float64), np.asarray(bb, dtype=np.float64)
    p = exact_argmax_probabilities(aa, bb)
    assert abs(p.sum() - 1.0) < 1e-8
    n = 400_000
    state = np.random.default_rng(seed).integers(1, 2**63, size=4).astype(np.uint64)
    counts = np.bincount(thompson_picks(state, aa, bb, n), minlength=len(aa))
    big = p * n >= 5
    observed = np.append(counts[big], counts[~big].sum())
    expected = np.append(p[big], p[~big].sum()) * n
    keep = expected > 0
    assert counts[~big].sum() <= max(20, 5 * expected[-1])  # pooled rare arms stay rare
    assert stats.chisquare(observed[keep], expected[keep] * n / expected[keep].sum()).pvalue > 1e-4


@pytest.mark.parametrize("policy", ["chernoff_ucb", "chernoff_ucb_age"])
@pytest.mark.parametrize(
    ("delay", "feedback"), [(1, "periodic"), (100, "periodic"), (100, "lagged")]
)
def test_chernoff_ucb_backends_agree(policy, delay, feedback, seed):
    # The numba kernel skips index recomputations while no other arm can catch up (exact), the
    # numpy reference recomputes every step: same environments, 4 standard errors.
    n_reps, n_steps = 40, 4000
    rng = np.random.default_rng(seed)
    s = chapelle_li_schedule(n_reps, n_steps, rng, replace_rate=5e-3)
    out = [
        replicate(
            policy, s, n_steps=n_steps, delay=delay, feedback=feedback, rng=rng, backend=b
        ).regret
        for b in ("numba", "numpy")
    ]
    diff = out[0] - out[1]
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(n_reps)


@pytest.mark.parametrize("backend", BACKENDS)
def test_chernoff_ucb_clocks_are_one_policy_without_replacements(backend, rng):
    # With no replacements every item's age is the global step: same decisions, same draws.
    s = stationary_schedule(rng.beta(4, 4, size=(8, 6)))
    out = [
        replicate(p, s, n_steps=3000, delay=5, rng=np.random.default_rng(1), backend=backend)
        for p in ("chernoff_ucb", "chernoff_ucb_age")
    ]
    assert np.array_equal(out[0].regret, out[1].regret)


def chernoff_pulls_of_a_dud(n_steps: int, arrive: int, clock: str) -> float:
    """Pulls of a click-less item under Chapelle & Li's eq. (1), against a sure click.

    Two slots: slot 0 always clicks; slot 1 never does, and gets a new never-clicking item at
    step ``arrive``. Clicks are certain, so the play is deterministic once both slots have
    been tried (the first two steps try them in either order); the regret is the number of
    pulls of slot 1.
    """
    wins, pulls, born = [0.0, 0.0], [0.0, 0.0], [0, 0]
    duds = 0.0
    for t in range(n_steps):
        if t == arrive:
            wins[1], pulls[1], born[1] = 0.0, 0.0, t
        if 0.0 in pulls:
            arm = pulls.index(0.0)
        else:
            index = []
            for i in (0, 1):
                age = t - born[i] + 1.0 if clock == "age" else t + 1.0
                scale = 0.5 * math.log(age)
                mean = wins[i] / pulls[i]
                bonus = math.sqrt(2.0 * mean / pulls[i])
                index.append(mean + math.sqrt(scale) * bonus + scale * (2.0 / pulls[i]))
            arm = int(index[1] > index[0])
        duds += arm
        wins[arm] += 1.0 - arm
        pulls[arm] += 1.0
    return duds


@pytest.mark.parametrize("backend", BACKENDS)
def test_chernoff_ucb_age_clock_starts_at_the_items_arrival(backend):
    n_steps, arrive = 20_000, 15_000
    s = BernoulliSchedule(
        ctr=np.array([[1.0, 0.0]]),
        event_offset=np.array([0, 1]),
        event_step=np.array([arrive]),
        event_arm=np.array([1]),
        event_ctr=np.array([0.0]),
    )
    run = {"n_steps": n_steps, "rng": np.random.default_rng(0), "backend": backend}
    age = replicate("chernoff_ucb_age", s, **run).regret[0]
    glob = replicate("chernoff_ucb", s, **run).regret[0]
    assert age == chernoff_pulls_of_a_dud(n_steps, arrive, "age")
    assert glob == chernoff_pulls_of_a_dud(n_steps, arrive, "global")
    # A young item's bound is tighter: it is tried less than under the global clock.
    assert age < glob


def independent_chapelle_li_ts(n_reps: int, n_steps: int, delay: int, seed: int) -> np.ndarray:
    """Thompson sampling in the paper's set-up, written from its text alone.

    Shares no code with :mod:`simulation.replication.chapelle_li`: its own replacement draws (each
    step, with probability 1e-3, a uniformly chosen slot gets a Beta(4, 4) item), its own
    Beta(1, 1) posteriors, and periodic delivery of the pending counts after every
    ``delay``-th decision (a retired slot's pending counts are dropped).

    Returns
    -------
    regret : ndarray of shape (n_reps,)
    """
    rng = np.random.default_rng(seed)
    n_arms, rows = 10, np.arange(n_reps)
    ctr = rng.beta(4, 4, size=(n_reps, n_arms))
    wins, losses = np.zeros((n_reps, n_arms)), np.zeros((n_reps, n_arms))
    new_wins, new_losses = np.zeros_like(wins), np.zeros_like(losses)
    regret = np.zeros(n_reps)
    for t in range(n_steps):
        retire = rng.random(n_reps) < 1e-3
        if retire.any():
            r, slot = rows[retire], rng.integers(0, n_arms, size=int(retire.sum()))
            ctr[r, slot] = rng.beta(4, 4, size=r.size)
            for table in (wins, losses, new_wins, new_losses):
                table[r, slot] = 0.0
        arm = rng.beta(wins + 1.0, losses + 1.0).argmax(axis=1)
        p = ctr[rows, arm]
        regret += ctr.max(axis=1) - p
        click = rng.random(n_reps) < p
        new_wins[rows, arm] += click
        new_losses[rows, arm] += ~click
        if (t + 1) % delay == 0:
            wins += new_wins
            losses += new_losses
            new_wins[:] = 0.0
            new_losses[:] = 0.0
    return regret


@pytest.mark.slow
@pytest.mark.parametrize("delay", [1, 10])
def test_fast_thompson_sampling_agrees_with_an_independent_loop(delay):
    # Two unpaired estimates of the same expectation (different environments and draws):
    # 4 standard errors of their difference. 2,000 repetitions of 5,000 steps put the
    # standard error near 1.2 % of the regret: a bias of 5 % (the size of the gap to the
    # paper at delta = 1 and 10) would sit 4.3 standard errors out and most likely fail.
    n_reps, n_steps = 2000, 5000
    ref = independent_chapelle_li_ts(n_reps, n_steps, delay, seed=20110)
    s = chapelle_li_schedule(n_reps, n_steps, np.random.default_rng(20111))
    fast = replicate(
        "thompson", s, n_steps=n_steps, delay=delay, rng=np.random.default_rng(20112)
    ).regret
    se = np.sqrt(ref.var(ddof=1) / n_reps + fast.var(ddof=1) / n_reps)
    assert abs(fast.mean() - ref.mean()) < 4 * se, (fast.mean(), ref.mean(), se)
    assert se < 0.02 * ref.mean()
