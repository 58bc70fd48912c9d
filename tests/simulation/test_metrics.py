import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.metrics import add_rates, mean_interval, safe_ratio, summarize

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20))
def test_safe_ratio_is_nan_only_at_zero_denominators(pairs):
    num, den = np.array(pairs).T
    out = safe_ratio(num, den)
    assert np.isnan(out[den == 0]).all()
    with np.errstate(over="ignore"):
        expected = num[den != 0] / den[den != 0]
    np.testing.assert_allclose(out[den != 0], expected)


@settings(max_examples=80)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30))
def test_interval_brackets_the_mean(values):
    mean, low, high = mean_interval(np.array(values))
    assert low <= mean + 1e-9 and mean <= high + 1e-9
    np.testing.assert_allclose(mean, np.mean(values), atol=1e-9)


def test_interval_coverage_is_near_95_percent(rng):
    # Student-t intervals of normal samples cover the mean 95 % of the time;
    # over 2,000 trials the binomial s.e. is 0.5 %, so allow 0.93-0.97.
    hits = 0
    for _ in range(2000):
        _, low, high = mean_interval(rng.normal(1.0, 2.0, size=5))
        hits += low <= 1.0 <= high
    assert 0.93 < hits / 2000 < 0.97


def test_single_and_empty_values():
    assert mean_interval(np.array([2.0])) == (2.0, 2.0, 2.0)
    assert all(np.isnan(mean_interval(np.array([np.nan]))))


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 100)), min_size=1, max_size=10))
def test_rates_within_bounds(rows):
    frame = pd.DataFrame(
        [
            {"impressions": i + c, "clicks": c, "conversions": c // 2, "spend": 1.0, "revenue": 2.0}
            for i, c in rows
        ]
    )
    out = add_rates(frame)
    ctr = out["ctr"].dropna()
    assert ((ctr >= 0) & (ctr <= 1)).all()
    cvr = out["cvr"].dropna()
    assert ((cvr >= 0) & (cvr <= 1)).all()


def test_summarize_groups():
    frame = pd.DataFrame(
        {
            "level": ["a", "a", "b"],
            "policy": ["p", "p", "p"],
            "ctr": [0.1, 0.3, 0.2],
            "roas": [1, 2, 3],
        }
    )
    out = summarize(frame, ("ctr", "roas"))
    assert list(out["n_seeds"]) == [2, 1]
    np.testing.assert_allclose(out.loc[0, "ctr"], 0.2)
