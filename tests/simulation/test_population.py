import numpy as np
import pytest

from creative.vocabulary import INTERESTS
from simulation.population import (
    HOUR_LIFT_MIN,
    INTEREST_MAJORITY,
    KEYWORDS,
    KEYWORDS_PER_INTEREST,
    MAX_USERS,
    default_audiences,
    describe_segments,
    generate_population,
    segment_population,
    user_audience,
)
from simulation.rng import stream


@pytest.fixture(scope="module")
def pop():
    return generate_population(20_000, stream(0, "population"))


def test_shapes_and_invariants(pop):
    n = pop.n_users
    assert pop.interests.shape == (n, len(INTERESTS)) and len(INTERESTS) >= 12
    assert pop.interests.any(axis=1).all()
    assert pop.interests[np.arange(n), pop.top_interest].all()
    np.testing.assert_allclose(pop.hours.sum(axis=1), 1.0, atol=1e-5)
    assert ((pop.price_sensitivity >= 0) & (pop.price_sensitivity <= 1)).all()
    kw_interest = pop.keywords // KEYWORDS_PER_INTEREST
    assert pop.interests[np.arange(n)[:, None], kw_interest].all()  # keywords from own interests
    assert set(np.unique(pop.language)) == {0, 1}
    assert 0.5 < pop.mobile.mean() < 0.9


def test_interest_popularity_is_skewed(pop):
    rates = np.sort(pop.interests.mean(axis=0))[::-1]
    assert rates[0] > 3 * rates[-1]


def test_same_seed_same_users():
    a = generate_population(500, stream(3, "population"))
    b = generate_population(500, stream(3, "population"))
    for f in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_segmentation_profiles(pop):
    seg = segment_population(pop, 6, stream(0, "segmentation"))
    assert seg.n_segments == 6
    sizes = [p.size for p in seg.profiles]
    assert sum(sizes) == pop.n_users and sizes == sorted(sizes, reverse=True)
    names = [p.name for p in seg.profiles]
    assert len(set(names)) == 6
    assert all(", " in name for name in names)
    frame = seg.to_frame()
    assert list(frame.columns[:4]) == ["segment", "name", "size", "share"]
    audience = seg.profiles[0].to_audience()
    assert audience.kind == "segment" and audience.top_interests


@pytest.mark.parametrize("k", [0, 51])
def test_bad_segment_count(pop, k):
    with pytest.raises(ValueError, match="`n_segments` must be an int in"):
        segment_population(pop, k, stream(0, "s"))


@pytest.mark.parametrize(
    ("n_users", "exc", "message"),
    [
        (0, ValueError, "`n_users` must be an int in [1, 5,000,000]; got 0."),
        (1.5, ValueError, "`n_users` must be an int in [1, 5,000,000]; got 1.5."),
        (True, ValueError, "`n_users` must be an int in [1, 5,000,000]; got True."),
        # Refused before the arrays are allocated (74.5 GiB for 10**10 users).
        (10**10, ValueError, "`n_users` must be an int in [1, 5,000,000]; got 10000000000."),
    ],
)
def test_bad_user_count(n_users, exc, message):
    with pytest.raises(exc) as caught:
        generate_population(n_users, stream(0, "p"))
    assert str(caught.value) == message


def test_the_population_bound_is_the_config_s():
    from simulation import ExperimentConfig

    # One bound: a population the config accepts can be drawn, and no larger one.
    ExperimentConfig(n_users=MAX_USERS)
    with pytest.raises(ValueError, match=r"`n_users` must be an int in \[1, 5,000,000\]"):
        generate_population(MAX_USERS + 1, stream(0, "p"))
    with pytest.raises(ValueError, match="`n_users` must be an int in"):
        ExperimentConfig(n_users=MAX_USERS + 1)


def test_an_int_is_not_a_generator():
    # A seed passed as rng would be an AttributeError deep inside the draws.
    with pytest.raises(TypeError, match=r"^`rng` must be a numpy Generator, e.g. np.random"):
        generate_population(10, 0)


@pytest.fixture(scope="module")
def small():
    return generate_population(200, stream(0, "population"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda pop: segment_population(pop, 3, stream(0, "s"), fit_sample=0),
            "`fit_sample` must be an int in [3, 5,000,000] for 3 segments; got 0.",
        ),
        (
            lambda pop: segment_population(pop, True, stream(0, "s")),
            "`n_segments` must be an int in [1, 50] for 200 users; got True.",
        ),
        (
            lambda pop: describe_segments(pop, np.zeros(5, dtype=int), 3),
            "`labels` must be an int array of shape (200,), one segment per user; got int64 "
            "of shape (5,).",
        ),
        (
            lambda pop: describe_segments(pop, np.full(200, 0.5), 3),
            "`labels` must be an int array of shape (200,), one segment per user; got float64 "
            "of shape (200,).",
        ),
        (
            lambda pop: describe_segments(pop, np.full(200, 7), 3),
            "`labels` must be in [0, 3) for 3 segments; got 7..7.",
        ),
        (
            lambda pop: describe_segments(pop, np.zeros(200, dtype=int), 0),
            "`n_segments` must be an int in [1, 50]; got 0.",
        ),
        (
            lambda pop: user_audience(pop, -1),
            "`index` must be an int in [0, 199] for 200 users; got -1.",
        ),
        (
            lambda pop: user_audience(pop, 200),
            "`index` must be an int in [0, 199] for 200 users; got 200.",
        ),
    ],
)
def test_bad_segmentation_and_user_inputs_are_one_line_naming_them(small, call, message):
    with pytest.raises(ValueError) as caught:
        call(small)
    assert str(caught.value) == message


def test_describe_segments_profiles_the_segments_it_is_given(small):
    labels = np.arange(200) % 4
    profiles = describe_segments(small, labels, 5)  # segment 4 holds no user
    assert [p.size for p in profiles] == [50, 50, 50, 50, 0]
    assert user_audience(small, np.int64(199)).audience_id == "user-199"


def test_user_audience_and_default_audiences(pop):
    aud = user_audience(pop, 5)
    assert aud.kind == "user" and aud.top_interests[0] == INTERESTS[pop.top_interest[5]]
    audiences = default_audiences(seed=0, n_users=3_000)
    assert len(audiences) == 6 and all(a.kind == "segment" for a in audiences)


def test_segments_are_language_pure_named_and_keyed_by_their_interests(pop):
    # Language moves the response most, so it splits the segments first.
    seg = segment_population(pop, 6, stream(0, "segmentation"))
    for p in seg.profiles:
        assert p.korean_share < 0.02 or p.korean_share > 0.98
        assert ("Korean" if p.korean_share > 0.5 else "English") in p.name
        # Keywords come from the interests the segment is named after, signature first.
        kw_interests = [
            INTERESTS[KEYWORDS.index(k) // KEYWORDS_PER_INTEREST] for k in p.top_keywords
        ]
        assert kw_interests and set(kw_interests) <= set(p.top_interests)
        assert kw_interests[0] == p.top_interests[0]


def test_a_segment_is_named_after_an_interest_only_a_majority_of_it_holds(pop):
    # A cluster where a fifth like tech over-indexes on tech; calling its members "tech
    # enthusiasts" would tell a marketer four in five of them are what they are not.
    seg = segment_population(pop, 6, stream(0, "segmentation"))
    shares = [p.interest_rates[INTERESTS.index(p.top_interests[0])] for p in seg.profiles]
    assert min(shares) < INTEREST_MAJORITY <= max(shares)  # both kinds in this audience
    for p, share in zip(seg.profiles, shares):
        leaning = "-leaning shoppers" in p.name
        assert leaning == (share < INTEREST_MAJORITY), (p.name, share)
        if leaning:
            lean = "pet" if p.top_interests[0] == "pets" else p.top_interests[0]
            assert f"{lean}-leaning" in p.name.lower() or p.top_interests[0] in ("books", "kids")


def test_a_segment_is_named_after_a_part_of_the_day_only_when_it_stands_out(pop):
    # Everyone is online most in the evening; a segment whose mornings hold 7 % more of its
    # activity than everyone's are not "early birds" (the hours chart beside the name would
    # say otherwise). The typical part of the day is kept for the ads' greeting either way.
    from creative.vocabulary import TIMES_OF_DAY
    from simulation.population import _HOUR_WORD

    seg = segment_population(pop, 6, stream(0, "segmentation"))
    overall = pop.hours.mean(axis=0)
    named = 0
    for p in seg.profiles:
        lift = (
            p.hours[TIMES_OF_DAY.index(p.active_hours)]
            / overall[TIMES_OF_DAY.index(p.active_hours)]
        )
        says = [w for w in _HOUR_WORD.values() if p.name.startswith(w + " ")]
        assert bool(says) == (lift >= HOUR_LIFT_MIN), (p.name, lift)
        if says:
            assert says == [_HOUR_WORD[p.active_hours]]
            named += 1
        else:
            assert p.name[0].isupper()  # "Tech-leaning shoppers, ...", not "tech-leaning ..."
    assert 0 < named < len(seg.profiles)  # both kinds in this audience
