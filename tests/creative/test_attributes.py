import numpy as np
import pytest

from creative.attributes import ATTRIBUTE_NAMES, N_ATTRIBUTES, attribute_slices, encode_attributes
from creative.audience import Audience

BASE = dict(
    category="gaming",
    tone="playful",
    offer="discount_20",
    greeting="night",
    layout="hero",
    language="ko",
    audience_kind="user",
)


def test_layout_covers_every_column_once():
    slices = attribute_slices()
    covered = np.zeros(N_ATTRIBUTES, dtype=int)
    for s in slices.values():
        covered[s] += 1
    assert (covered == 1).all()
    assert len(ATTRIBUTE_NAMES) == N_ATTRIBUTES


def test_encode_sets_expected_columns():
    vec = encode_attributes(**BASE)
    names = {ATTRIBUTE_NAMES[i]: v for i, v in enumerate(vec) if v}
    assert names == {
        "category:gaming": 1.0,
        "tone:playful": 1.0,
        "discount": 0.2,
        "greeting:night": 1.0,
        "mobile_first": 1.0,
        "language:ko": 1.0,
        "personalized:user": 1.0,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("category", "cars"), ("tone", "angry"), ("offer", "bogo"), ("greeting", "noon")],
)
def test_encode_rejects_unknown_components(field, value):
    with pytest.raises(ValueError, match=f"`{field}` must be"):
        encode_attributes(**{**BASE, field: value})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(kind="crowd"), "`kind` must be"),
        (dict(mobile_share=1.5), "`mobile_share` must be"),
        (dict(top_interests=("cars",)), "unknown categories"),
        (dict(top_interests=()), "needs at least one interest"),
        (dict(language="fr"), "`language` must be"),
    ],
)
def test_audience_validation(kwargs, match):
    base = dict(kind="segment", audience_id="segment-0", name="x", top_interests=("gaming",))
    with pytest.raises(ValueError, match=match):
        Audience(**{**base, **kwargs})


def test_generic_audience_uses_no_data():
    aud = Audience.generic()
    assert aud.top_interests == () and aud.keywords == () and aud.active_hours is None
