import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from simulation.ope.estimators import DR, ESTIMATORS, IPS, SNIPS, SwitchDR, bootstrap_sums

# Statistical tests take their generator from this fixture. ADLAB_TEST_SEEDS="0-49"
# sweeps fifty seeds (one test per seed) to check that tolerances are not tuned to
# one lucky draw; the default runs seed 0 only.
_SEEDS = os.environ.get("ADLAB_TEST_SEEDS", "0")
_LOW, _, _HIGH = _SEEDS.partition("-")


@pytest.fixture(params=range(int(_LOW), int(_HIGH or _LOW) + 1))
def rng(request):
    return np.random.default_rng(request.param)


# A 4-row, 2-arm log small enough to check by hand.
R = np.array([1.0, 0.0, 1.0, 0.0])
A = np.array([0, 1, 1, 0])
P = np.array([0.5, 0.5, 0.25, 0.75])
PI = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4]])
Q = np.array([[0.6, 0.2], [0.4, 0.4], [0.5, 0.9], [0.1, 0.3]])
BASE = dict(reward=R, action=A, pscore=P, action_dist=PI, estimated_rewards=Q)

# Weights pi(a_i|x_i)/p_i = [1/0.5, 0.5/0.5, 0.8/0.25, 0.6/0.75] = [2, 1, 3.2, 0.8].
W = np.array([2.0, 1.0, 3.2, 0.8])
DM_ROWS = np.array([0.6, 0.4, 0.1 + 0.72, 0.06 + 0.12])  # sum_a pi q per row
RESID = np.array([1 - 0.6, 0 - 0.4, 1 - 0.9, 0 - 0.1])  # r - q(x, a_i)
HAND = {
    "ips": (2 * 1 + 3.2 * 1) / 4,
    "snips": (2 + 3.2) / (2 + 1 + 3.2 + 0.8),
    "dm": DM_ROWS.mean(),
    "dr": (DM_ROWS + W * RESID).mean(),
    "switch_dr": (DM_ROWS + W * RESID).mean(),  # default tau = inf is DR
    "sndr": DM_ROWS.mean() + (W * RESID).sum() / W.sum(),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_computed(name):
    assert ESTIMATORS[name]().estimate(**BASE) == pytest.approx(HAND[name], rel=1e-12)


def test_registry_contract():
    assert {"ips", "snips", "dm", "dr", "switch_dr", "sndr"} <= set(ESTIMATORS)
    for name, cls in ESTIMATORS.items():
        est = cls()
        assert cls.name == name
        value = est.estimate(**BASE)
        low, high = est.interval(**BASE, n_bootstrap=200, rng=np.random.default_rng(0))
        assert isinstance(value, float) and isinstance(low, float) and isinstance(high, float)
        assert low <= high


def test_switch_dr_threshold():
    # tau = 1.5 drops the correction on rows 0 (w=2) and 2 (w=3.2).
    keep = W <= 1.5
    expected = (DM_ROWS + keep * W * RESID).mean()
    assert SwitchDR(tau=1.5).estimate(**BASE) == pytest.approx(expected)
    assert SwitchDR(tau=0.0).estimate(**BASE) == pytest.approx(HAND["dm"])
    with pytest.raises(ValueError, match="`tau` must be a float >= 0"):
        SwitchDR(tau=-1.0)


def test_ips_and_snips_ignore_estimated_rewards():
    no_q = {k: v for k, v in BASE.items() if k != "estimated_rewards"}
    assert IPS().estimate(**no_q) == IPS().estimate(**BASE)
    assert SNIPS().estimate(**no_q) == SNIPS().estimate(**BASE)


def test_snips_all_zero_weights_is_zero():
    pi = np.tile([0.0, 1.0], (2, 1))
    value = SNIPS().estimate(
        reward=np.ones(2), action=np.zeros(2, int), pscore=np.ones(2) / 2, action_dist=pi
    )
    assert value == 0.0


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def simulate(rng, n_logs, n, n_arms=4, d=3):
    """Many logs from one contextual problem, vectorized over logs.

    Returns arrays with a leading log axis: x (M, n, d), logging and evaluation
    action probabilities (M, n, K), true expected rewards q (M, n, K), logged
    action a (M, n), its propensity p (M, n) and Bernoulli reward r (M, n).
    """
    theta = np.random.default_rng(1).normal(size=(d, n_arms))  # fixed problem
    x = rng.normal(size=(n_logs, n, d))
    q = 1 / (1 + np.exp(-(x @ theta - 1.0)))
    logging = softmax(0.7 * x @ theta[:, ::-1])
    evaluation = softmax(1.5 * x @ theta)
    u = rng.random((n_logs, n, 1))
    a = (logging.cumsum(axis=-1) < u).sum(axis=-1).clip(max=n_arms - 1)
    p = np.take_along_axis(logging, a[..., None], axis=-1)[..., 0]
    q_a = np.take_along_axis(q, a[..., None], axis=-1)[..., 0]
    r = (rng.random((n_logs, n)) < q_a).astype(float)
    return x, logging, evaluation, q, a, p, r


def test_ips_equals_on_policy_mean_when_policies_match(rng):
    # With pi == logging policy every weight is 1, so IPS is the plain mean reward.
    _, logging, _, _, a, p, r = simulate(rng, 1, 500)
    value = IPS().estimate(reward=r[0], action=a[0], pscore=p[0], action_dist=logging[0])
    assert value == pytest.approx(r[0].mean(), rel=1e-12)


@pytest.mark.parametrize("name", ["ips", "dr", "switch_dr"])
def test_unbiased_over_many_logs(rng, name):
    # Each log gives d_m = estimate - truth on its own rows; unbiasedness says
    # E[d_m] = 0. The mean of M independent d_m has standard error sd(d)/sqrt(M);
    # |mean| < 4 se fails by chance with probability ~6e-5 under the CLT, and a
    # real bias of a few se would be caught. q is deliberately wrong (shifted)
    # so DR's unbiasedness must come from the propensities.
    n_logs, n = 300, 200
    _, _, evaluation, q, a, p, r = simulate(rng, n_logs, n)
    wrong_q = np.clip(q + 0.2, 0, 1)
    truth = np.einsum("mik,mik->mi", evaluation, q).mean(axis=1)
    est = ESTIMATORS[name]()
    diffs = np.array(
        [
            est.estimate(
                reward=r[m],
                action=a[m],
                pscore=p[m],
                action_dist=evaluation[m],
                estimated_rewards=wrong_q[m],
            )
            - truth[m]
            for m in range(n_logs)
        ]
    )
    se = diffs.std(ddof=1) / np.sqrt(n_logs)
    assert abs(diffs.mean()) < 4 * se


def test_dm_with_wrong_model_is_biased(rng):
    # The same check detects a known bias: DM with q shifted by 0.2.
    n_logs, n = 100, 200
    _, _, evaluation, q, a, p, r = simulate(rng, n_logs, n)
    truth = np.einsum("mik,mik->mi", evaluation, q).mean(axis=1)
    dm = ESTIMATORS["dm"]()
    diffs = np.array(
        [
            dm.estimate(
                reward=r[m],
                action=a[m],
                pscore=p[m],
                action_dist=evaluation[m],
                estimated_rewards=np.clip(q[m] + 0.2, 0, 1),
            )
            - truth[m]
            for m in range(n_logs)
        ]
    )
    assert diffs.mean() > 4 * diffs.std(ddof=1) / np.sqrt(n_logs)


@pytest.mark.slow
def test_interval_coverage(rng):
    # Nominal 90% intervals should cover the truth in roughly 90% of logs;
    # with 200 logs the binomial sd is 2.1 points, so [0.80, 0.97] is > 4 sd wide.
    n_logs, n = 200, 300
    _, _, evaluation, q, a, p, r = simulate(rng, n_logs, n)
    truth = np.einsum("mik,mik->mi", evaluation, q).mean(axis=1)
    ips = IPS()
    covered = [
        ips.interval(
            reward=r[m],
            action=a[m],
            pscore=p[m],
            action_dist=evaluation[m],
            alpha=0.1,
            n_bootstrap=300,
            rng=rng,
        )
        for m in range(n_logs)
    ]
    hits = np.mean([low <= t <= high for (low, high), t in zip(covered, truth)])
    assert 0.80 <= hits <= 0.97


def test_interval_same_seed_same_result_and_chunking(monkeypatch):
    est = ESTIMATORS["sndr"]()
    one = est.interval(**BASE, n_bootstrap=500, rng=np.random.default_rng(3))
    two = est.interval(**BASE, n_bootstrap=500, rng=np.random.default_rng(3))
    assert one == two
    import simulation.ope.estimators as ope

    monkeypatch.setattr(ope, "_BOOTSTRAP_CHUNK_ELEMENTS", 50)  # many small chunks
    chunked = est.interval(**BASE, n_bootstrap=500, rng=np.random.default_rng(3))
    assert chunked == pytest.approx(one)


def test_bootstrap_sums_shape_and_range():
    terms = np.arange(10.0)[:, None]
    sums = bootstrap_sums(terms, 64, np.random.default_rng(0))
    assert sums.shape == (64, 1)
    assert (sums >= 0).all() and (sums <= 90).all()


def test_interval_brackets_estimate_on_a_large_log(rng):
    _, _, evaluation, q, a, p, r = simulate(rng, 1, 3000)
    args = dict(
        reward=r[0], action=a[0], pscore=p[0], action_dist=evaluation[0], estimated_rewards=q[0]
    )
    for est in (IPS(), DR()):
        low, high = est.interval(**args, n_bootstrap=500, rng=rng)
        assert low < est.estimate(**args) < high


# --- properties -------------------------------------------------------------------


@st.composite
def logs(draw, max_rows=30, max_arms=5):
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(1, max_arms))
    floats = st.floats(0, 1, allow_nan=False)
    reward = draw(hnp.arrays(np.float64, n, elements=st.floats(-5, 5, allow_nan=False)))
    action = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    pscore = draw(hnp.arrays(np.float64, n, elements=st.floats(0.01, 1)))
    raw = draw(hnp.arrays(np.float64, (n, k), elements=floats)) + 1e-3
    q = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-5, 5, allow_nan=False)))
    return dict(
        reward=reward,
        action=action,
        pscore=pscore,
        action_dist=raw / raw.sum(axis=1, keepdims=True),
        estimated_rewards=q,
    )


@settings(max_examples=60, deadline=None)
@given(logs())
def test_snips_within_reward_range(log):
    value = SNIPS().estimate(**log)
    assert log["reward"].min() - 1e-9 <= value <= log["reward"].max() + 1e-9


@settings(max_examples=60, deadline=None)
@given(logs())
def test_dr_equals_dm_when_model_fits_logged_rewards(log):
    q = log["estimated_rewards"].copy()
    q[np.arange(q.shape[0]), log["action"]] = log["reward"]  # zero residuals
    log = {**log, "estimated_rewards": q}
    assert ESTIMATORS["dr"]().estimate(**log) == pytest.approx(
        ESTIMATORS["dm"]().estimate(**log), abs=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(logs())
def test_zero_model_reduces_dr_to_ips_and_sndr_to_snips(log):
    log = {**log, "estimated_rewards": np.zeros_like(log["estimated_rewards"])}
    assert DR().estimate(**log) == pytest.approx(IPS().estimate(**log), abs=1e-9)
    assert ESTIMATORS["sndr"]().estimate(**log) == pytest.approx(SNIPS().estimate(**log), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(logs(), st.floats(-3, 3))
def test_dr_shifts_with_a_constant(log, c):
    # Adding c to every reward and prediction adds c to DR (and DM, SNIPS, SNDR),
    # because every row of action_dist sums to one.
    shifted = {
        **log,
        "reward": log["reward"] + c,
        "estimated_rewards": log["estimated_rewards"] + c,
    }
    for name in ("dm", "dr", "snips", "sndr"):
        est = ESTIMATORS[name]()
        assert est.estimate(**shifted) == pytest.approx(est.estimate(**log) + c, abs=1e-8)


@settings(max_examples=40, deadline=None)
@given(logs(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(log, random):
    order = np.array(random.sample(range(log["reward"].shape[0]), log["reward"].shape[0]))
    permuted = {k: v[order] for k, v in log.items()}
    for name, cls in ESTIMATORS.items():
        assert cls().estimate(**permuted) == pytest.approx(cls().estimate(**log), abs=1e-9), name


# --- bad inputs ---------------------------------------------------------------------


def _with(**changes):
    return {**BASE, **changes}


BAD_INPUTS = [
    (_with(reward=R[:3]), ValueError, r"`action` must have 3 rows like `reward`"),
    (_with(reward=R.reshape(2, 2)), ValueError, r"`reward` must be a 1-d array"),
    (_with(reward=np.array([1.0, np.nan, 0, 0])), ValueError, r"`reward` must be finite.*row 1"),
    (_with(reward=np.array([])), ValueError, r"at least one row"),
    (_with(action=A.astype(float)), TypeError, r"`action` must be an integer array"),
    (_with(action=np.array([0, 1, 2, 0])), ValueError, r"`action` must be in \[0, 2\).*row 2"),
    (_with(action=np.array([0, -1, 1, 0])), ValueError, r"`action` must be in \[0, 2\).*row 1"),
    (
        _with(pscore=np.array([0.5, 0.0, 0.25, 0.75])),
        ValueError,
        r"`pscore` must be in \(0, 1\]; got 0.0 at row 1",
    ),
    (
        _with(pscore=np.array([0.5, 0.5, 1.5, 0.75])),
        ValueError,
        r"`pscore` must be in \(0, 1\]; got 1.5 at row 2",
    ),
    (
        _with(pscore=np.array([0.5, 0.5, np.nan, 0.75])),
        ValueError,
        r"`pscore` must be finite.*row 2",
    ),
    (_with(pscore=P[:2]), ValueError, r"`pscore` must have 4 rows"),
    (
        _with(action_dist=PI[:, :1] * 0 + 1, estimated_rewards=None),
        ValueError,
        r"`action` must be in \[0, 1\)",
    ),
    (_with(action_dist=PI * 2), ValueError, r"rows must sum to 1.*got 2.0 at row 0"),
    (_with(action_dist=PI + 1e-5), ValueError, r"rows must sum to 1"),
    (_with(action_dist=np.array([[1.5, -0.5]] * 4)), ValueError, r"non-negative.*row 0"),
    (_with(action_dist=PI[0]), ValueError, r"`action_dist` must be a 2-d array"),
    (
        _with(action_dist=np.where(np.eye(4, 2) > 0, np.nan, PI)),
        ValueError,
        r"`action_dist` must be finite.*row 0",
    ),
    (_with(estimated_rewards=Q[:, :1]), ValueError, r"`estimated_rewards` must have the shape"),
    (
        _with(estimated_rewards=np.full((4, 2), np.inf)),
        ValueError,
        r"`estimated_rewards` must be finite",
    ),
    (_with(estimated_rewards=None), ValueError, r"`estimated_rewards`.*is required"),
    (_with(reward=["a", "b", "c", "d"]), TypeError, r"`reward` must be an array of numbers"),
]


@pytest.mark.parametrize("name", ["dr", "dm", "sndr"])
@pytest.mark.parametrize(("kwargs", "exc", "match"), BAD_INPUTS)
def test_bad_inputs_rejected(name, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ESTIMATORS[name]().estimate(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(alpha=0.0), ValueError, r"`alpha` must be a float in \(0, 1\)"),
        (dict(alpha=1.2), ValueError, r"`alpha` must be a float in \(0, 1\)"),
        (dict(n_bootstrap=1), ValueError, r"`n_bootstrap` must be an int in \[2, 100,000\]"),
        (dict(n_bootstrap=10**9), ValueError, r"`n_bootstrap` must be an int in \[2, 100,000\]"),
        (dict(n_bootstrap=10.0), TypeError, r"`n_bootstrap` must be an int"),
        (dict(rng=0), TypeError, r"`rng` must be a numpy.random.Generator"),
        (dict(method="bca"), ValueError, r"`method` must be one of"),
        (dict(reward_range=(1.0, 0.0)), ValueError, r"`reward_range` must be finite"),
        (dict(reward_range="ab"), ValueError, r"`reward_range` must be two numbers"),
    ],
)
def test_bad_interval_arguments(kwargs, exc, match):
    args = dict(alpha=0.05, n_bootstrap=10, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(exc, match=match):
        IPS().interval(**BASE, **args)


def test_huge_finite_values_are_not_mistaken_for_infinity():
    # The fast finiteness check sums rows; 1e308 + 1e308 overflows, yet is valid input.
    from simulation.ope.estimators import check_ope_inputs

    q = np.full((4, 2), 1e308)
    checked = check_ope_inputs(**_with(estimated_rewards=q), require_estimated_rewards=True)
    assert checked[-1] is not None


# The margin of one unseen event: the largest rise of the estimate when one row's
# reward moves to the top of the range (1 here), by hand on the 4-row log.
# IPS: max_i W_i (1 - R_i) / n = 1.0 / 4 (row 1; rows 0 and 2 already have r = 1).
# SNIPS: max_i W_i (1 - R_i) / sum(W) = 1.0 / 7. DR: as IPS (q is held fixed).
# DM: 0 (it does not read the reward).
MARGIN = {"ips": 1.0 / 4, "snips": 1.0 / 7, "dr": 1.0 / 4, "dm": 0.0, "sndr": 1.0 / 7}


@pytest.mark.parametrize("name", sorted(MARGIN))
def test_one_more_event_raises_only_the_upper_bound_by_one_event(name):
    est = ESTIMATORS[name]()
    kw = dict(n_bootstrap=300, rng=np.random.default_rng(4))
    low_p, high_p = est.interval(**BASE, method="percentile", **kw)
    kw["rng"] = np.random.default_rng(4)
    low, high = est.interval(**BASE, **kw)  # default: one_more_event
    assert low == low_p
    assert high - high_p == pytest.approx(MARGIN[name], rel=1e-9)
    # A wider reward range means a larger unseen event: the margin scales with it.
    kw["rng"] = np.random.default_rng(4)
    _, high_2 = est.interval(**BASE, reward_range=(0.0, 2.0), **kw)
    assert high_2 >= high


# A ROAS log's rewards: net value in USD, a cost where nothing sold, rarely an order.
ROAS = dict(BASE, reward=np.array([-0.01, -0.01, 25.0, -0.01]))


@pytest.mark.parametrize("name", sorted(MARGIN))
def test_rewards_outside_zero_one_need_a_declared_range(name):
    # The default range is a click's [0, 1]. Widening it to the rows' own rewards made
    # the unseen event a cost (or a small order) on a log with no large sale, and the
    # interval missed the truth; outside [0, 1] the range is refused, in one line.
    est = ESTIMATORS[name]()
    expected = (
        r"^`reward_range` is required for rewards outside \[0, 1\] \(these run from -0.01 "
        r"to 25\): pass the range one reward can take, for an adlab log "
        r"simulation\.ope\.evaluate\.reward_bounds\(log\.reward, metadata=log\.metadata\)\[:2\]\.$"
    )
    with pytest.raises(ValueError, match=expected):
        est.interval(**ROAS, n_bootstrap=10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=expected):
        est.event_margin(**ROAS)
    # The percentile interval reads no range.
    low, high = est.interval(
        **ROAS, n_bootstrap=10, rng=np.random.default_rng(0), method="percentile"
    )
    assert low <= high


def test_a_declared_range_sets_the_unseen_event_and_must_hold_every_reward():
    # IPS: max_i W_i (top - R_i) / n with top = 343.5 (a world's largest order):
    # row 2, 3.2 * (343.5 - 25) / 4, beats row 0, 2 * 343.51 / 4.
    margin = IPS().event_margin(**ROAS, reward_range=(-0.02, 343.5))
    assert margin == pytest.approx(3.2 * (343.5 - 25.0) / 4, rel=1e-12)
    with pytest.raises(ValueError, match=r"^`reward_range` \[-0.02, 10\] must contain every "):
        IPS().event_margin(**ROAS, reward_range=(-0.02, 10.0))
    # Rewards inside [0, 1] keep the default: a click's range, as declared.
    assert IPS().event_margin(**BASE) == IPS().event_margin(**BASE, reward_range=(0.0, 1.0))


def test_one_more_event_keeps_coverage_when_clicks_are_rare():
    # 2,000 rows, uniform logging over 10 arms, the target always shows arm 0
    # whose click rate is 0.2 %: about 0.4 expected clicks on the rows that count,
    # so most logs show none and the percentile interval collapses to [0, 0].
    # With the margin of one event (weight 10: 10 / 2000 = 0.005 > 0.002) the
    # interval covers the truth in every log with at most 2 such clicks (the lower
    # bound is then 0), and P(>= 3 | Poisson 0.4) = 0.8 %: >= 180 of 200 fails
    # with negligible probability. The percentile interval misses every log
    # without a click, P = e^-0.4 = 67 %.
    rng = np.random.default_rng(11)
    n, k, ctr = 2000, 10, 0.002
    pi = np.zeros((n, k))
    pi[:, 0] = 1.0
    hits = {"percentile": 0, "one_more_event": 0}
    for _ in range(200):
        a = rng.integers(0, k, size=n)
        r = ((a == 0) & (rng.random(n) < ctr)).astype(float)
        arrays = dict(reward=r, action=a, pscore=np.full(n, 1 / k), action_dist=pi)
        for method in hits:
            low, high = IPS().interval(
                **arrays, n_bootstrap=200, rng=np.random.default_rng(0), method=method
            )
            hits[method] += low <= ctr <= high
    assert hits["one_more_event"] >= 180
    assert hits["percentile"] < 180  # the failure the margin is there for
