import numpy as np
import pytest

from creative.vocabulary import INTERESTS
from simulation.population import (
    HOUR_LIFT_MIN,
    INTEREST_MAJORITY,
    KEYWORDS,
    KEYWORDS_PER_INTEREST,
    default_audiences,
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


def test_bad_user_count():
    with pytest.raises(ValueError, match="`n_users` must be an int >= 1"):
        generate_population(0, stream(0, "p"))


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
