import numpy as np
import pytest

from creative.audience import Audience


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def gamers():
    return Audience(
        kind="segment",
        audience_id="segment-gamers",
        name="Night-owl gamers",
        top_interests=("gaming", "tech"),
        keywords=("gaming headset", "mechanical keyboard"),
        active_hours="night",
        mobile_share=0.9,
        price_sensitivity=0.9,
        language="en",
        size=500,
    )


@pytest.fixture
def wellness():
    return Audience(
        kind="segment",
        audience_id="segment-wellness",
        name="Morning wellness",
        top_interests=("fitness", "beauty"),
        keywords=("yoga mat", "sunscreen"),
        active_hours="morning",
        mobile_share=0.2,
        price_sensitivity=0.1,
        language="en",
        size=300,
    )


@pytest.fixture
def user_ko():
    return Audience(
        kind="user",
        audience_id="user-7",
        name="user 7",
        top_interests=("pets", "home"),
        keywords=("캣타워", "pet camera"),
        active_hours="evening",
        mobile_share=0.7,
        price_sensitivity=0.5,
        language="ko",
    )
