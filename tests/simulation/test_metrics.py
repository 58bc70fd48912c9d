import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.metrics import add_rates, bounded_interval, mean_interval, safe_ratio, summarize

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


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # alpha=2 gave (2.0, -inf, inf): an interval that says nothing, silently.
        (lambda v: mean_interval(v, alpha=2), "`alpha` must be a float in (0, 1); got 2."),
        (lambda v: mean_interval(v, alpha=True), "`alpha` must be a float in (0, 1); got True."),
        (
            lambda v: bounded_interval(v, v, np.full(3, 3.0), alpha=0.0),
            "`alpha` must be a float in (0, 1); got 0.0.",
        ),
        # A 2-d array was flattened into one sample of six replications.
        (
            lambda v: mean_interval(np.stack([v, v])),
            "`values` must be a 1-d array, one value per replication; got shape (2, 3).",
        ),
    ],
)
def test_interval_inputs_are_checked(call, message):
    with pytest.raises(ValueError) as caught:
        call(np.array([1.0, 2.0, 3.0]))
    assert str(caught.value) == message


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


def _two_seeds(conversions, spend=(43.52, 43.54), **extra):
    """One (level, policy) over two seeds of a run, with the totals and their rates."""
    frame = pd.DataFrame(
        {
            "level": ["generic"] * 2, "policy": ["uniform"] * 2, "seed": [0, 1],
            "impressions": [1_000, 1_000], "clicks": [30, 25],
            "conversions": list(conversions), "spend": list(spend),
            "revenue": [25.0 * c for c in conversions], **extra,
        }
    )  # fmt: skip
    return add_rates(frame)


def test_a_rate_undefined_in_a_seed_is_the_pooled_ratio_over_every_seed_and_says_so():
    # Seed 1 had no sale, so no cost per conversion: the mean of the seeds that have one
    # (seed 0's $21.76) would be labelled as over both seeds.
    out = summarize(_two_seeds([2, 0]), ("cpa", "roas")).iloc[0]
    np.testing.assert_allclose(out["cpa"], (43.52 + 43.54) / 2)  # total spend / total sales
    assert np.isnan(out["cpa_low"]) and np.isnan(out["cpa_high"])
    assert out["cpa_note"] == (
        "total spend / total conversions, no interval: 1 of 2 seeds had no conversion"
    )
    assert out["roas_note"] == ""  # defined in both seeds: the mean over them, as before


def test_a_rate_defined_in_every_seed_keeps_the_mean_and_its_interval():
    out = summarize(_two_seeds([2, 4]), ("cpa",)).iloc[0]
    np.testing.assert_allclose(out["cpa"], np.mean([43.52 / 2, 43.54 / 4]))
    assert out["cpa_low"] < out["cpa"] < out["cpa_high"] and out["cpa_note"] == ""


def test_a_rate_undefined_in_every_seed_has_no_value_and_says_why():
    out = summarize(_two_seeds([0, 0]), ("cpa",)).iloc[0]
    assert np.isnan([out["cpa"], out["cpa_low"], out["cpa_high"]]).all()
    assert out["cpa_note"] == "no conversions in any of the 2 seeds"


def test_without_the_totals_an_undefined_rate_is_the_mean_of_the_others_saying_how_many():
    frame = pd.DataFrame({"level": ["a"] * 3, "policy": ["p"] * 3, "cpa": [10.0, np.nan, 14.0]})
    out = summarize(frame, ("cpa",)).iloc[0]
    np.testing.assert_allclose(out["cpa"], 12.0)
    assert out["cpa_note"] == "mean over the 2 of 3 seeds with a conversion"


def test_with_several_worlds_the_note_counts_replications():
    frame = pd.concat([_two_seeds([2, 0]), _two_seeds([3, 1])]).assign(world=[0, 0, 1, 1])
    out = summarize(frame, ("cpa",)).iloc[0]
    np.testing.assert_allclose(out["cpa"], 2 * (43.52 + 43.54) / 6)
    assert out["cpa_note"].endswith("1 of 4 replications had no conversion")
