import numpy as np
import pytest

from creative.audience import Audience


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _random_valid(axes, n, rng):
    # Rejection from the raw product, checked against the masks in plain numpy (a reference
    # independent of the component space's own sampler).
    sizes = np.array([len(x) for x in axes.levels])
    out = []
    while len(out) < n:
        c = (rng.random(len(sizes)) * sizes).astype(int)
        g = c + axes.offsets[:-1]
        if axes.level_mask[g].all() and axes.pair_mask[np.ix_(g, g)].all():
            out.append(c)
    return np.array(out)


@pytest.fixture
def random_valid():
    """``random_valid(axes, n, rng)``: n valid compositions of shape (n, n_axes), by rejection."""
    return _random_valid


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
