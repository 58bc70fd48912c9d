"""Synthetic users and their scikit-learn segmentation.

A :class:`Population` is a record of arrays, one row per user: age band,
region, device, language, interests (multi-hot over ``INTERESTS`` with skewed
popularity), an active-hours profile over ``TIMES_OF_DAY``, price sensitivity
and a few recent search keywords drawn from the user's interests. Everything is
generated with numpy in a handful of vectorized draws, so a million users take
well under a second.

:func:`segment_population` clusters the users with ``MiniBatchKMeans`` on
standardized features and describes every segment in words
(:class:`SegmentProfile`), e.g. "Night-owl gamers, Korean, mobile, deal-seekers".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.cluster import MiniBatchKMeans

from creative.audience import Audience
from creative.vocabulary import (
    INTEREST_KEYWORDS,
    INTEREST_KEYWORDS_KO,
    INTERESTS,
    LANGUAGES,
    TIMES_OF_DAY,
)
from simulation.rng import stream

__all__ = [
    "AGE_BANDS",
    "FEATURE_BLOCKS",
    "HOUR_LIFT_MIN",
    "INTEREST_MAJORITY",
    "KEYWORDS",
    "MAX_USERS",
    "N_USER_FEATURES",
    "REGIONS",
    "Population",
    "SegmentProfile",
    "Segmentation",
    "default_audiences",
    "feature_slices",
    "generate_population",
    "population_from_segments",
    "segment_population",
    "user_audience",
]

AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
REGIONS: tuple[str, ...] = ("seoul", "busan", "us_east", "us_west", "london")
#: Flat keyword vocabulary: keyword code ``c`` is ``KEYWORDS[c]``; its interest
#: is ``INTERESTS[c // KEYWORDS_PER_INTEREST]``.
KEYWORDS: tuple[str, ...] = tuple(k for i in INTERESTS for k in INTEREST_KEYWORDS[i])
KEYWORDS_PER_INTEREST = len(INTEREST_KEYWORDS[INTERESTS[0]])
N_KEYWORDS_PER_USER = 3
#: Column blocks of :meth:`Population.features`, in order: (name, width).
FEATURE_BLOCKS: tuple[tuple[str, int], ...] = (
    ("age_band", len(AGE_BANDS)),
    ("mobile", 1),
    ("korean", 1),
    ("price_sensitivity", 1),
    ("active_hours", len(TIMES_OF_DAY)),
    ("interests", len(INTERESTS)),
)
#: Width of :meth:`Population.features`.
N_USER_FEATURES: int = sum(width for _, width in FEATURE_BLOCKS)


def feature_slices() -> dict[str, slice]:
    """Column ranges of each block of :data:`FEATURE_BLOCKS` in the user features."""
    out: dict[str, slice] = {}
    start = 0
    for name, width in FEATURE_BLOCKS:
        out[name] = slice(start, start + width)
        start += width
    return out


_AGE_P = np.array([0.18, 0.30, 0.24, 0.16, 0.12])
_REGION_P = np.array([0.30, 0.10, 0.25, 0.20, 0.15])
_KO_BY_REGION = np.array([0.92, 0.95, 0.06, 0.05, 0.02])
_MOBILE_BY_AGE = np.array([0.90, 0.82, 0.70, 0.58, 0.45])
# Zipf-like popularity: a few categories are popular, most are niche.
_POPULARITY = 1.0 / np.arange(1, len(INTERESTS) + 1) ** 0.7
# How much each age band leans towards each interest (multiplies popularity).
# Order of INTERESTS: fashion beauty gaming tech fitness food travel home pets
# music books outdoors finance kids.
_AGE_INTEREST = np.array(
    [
        [1.4, 1.3, 2.2, 1.3, 1.0, 1.0, 0.8, 0.4, 0.7, 1.8, 0.8, 0.7, 0.4, 0.2],
        [1.3, 1.2, 1.4, 1.4, 1.3, 1.2, 1.2, 0.8, 1.0, 1.1, 0.8, 1.0, 0.9, 0.7],
        [0.9, 1.0, 0.8, 1.1, 1.1, 1.2, 1.1, 1.4, 1.1, 0.8, 1.0, 1.1, 1.2, 1.9],
        [0.8, 0.9, 0.5, 0.9, 0.9, 1.3, 1.3, 1.5, 1.1, 0.7, 1.3, 1.3, 1.5, 1.0],
        [0.6, 0.7, 0.3, 0.7, 0.7, 1.3, 1.4, 1.5, 1.2, 0.7, 1.6, 1.2, 1.6, 0.6],
    ]
)
# Active-hours Dirichlet concentration per age band (morning, daytime, evening, night).
_AGE_HOURS = np.array(
    [
        [0.5, 1.0, 2.0, 3.0],
        [0.8, 1.2, 2.4, 1.6],
        [1.4, 1.6, 2.2, 0.8],
        [2.2, 1.8, 1.8, 0.5],
        [3.0, 2.0, 1.4, 0.3],
    ]
)
# Interests that pull the day one way (why: gamers play late, parents plan by day).
_INTEREST_HOURS = {
    "gaming": (0.0, 0.0, 0.5, 2.5),
    "music": (0.0, 0.0, 0.6, 1.0),
    "fitness": (2.0, 0.0, 0.5, 0.0),
    "kids": (0.6, 1.8, 0.0, 0.0),
    "finance": (1.2, 0.8, 0.0, 0.0),
    "food": (0.0, 0.6, 1.2, 0.0),
}
_PRICE_MEAN_BY_AGE = np.array([0.70, 0.58, 0.50, 0.42, 0.40])
_PRICE_INTEREST = {"finance": 0.12, "kids": 0.08, "fashion": 0.05, "travel": -0.08, "beauty": -0.05}


# Clustering weight of each block of FEATURE_BLOCKS, by what moves the response
# (see simulation.response): language first (copy in the wrong language costs
# more than any other single mismatch, so segments are language-pure whenever
# there are at least two), then interests, price sensitivity and active hours
# (category, offer and greeting terms), then age (tone taste) and device (layout).
_CLUSTER_BLOCK_WEIGHTS: dict[str, float] = {
    "age_band": 0.6,
    "mobile": 0.8,
    "korean": 4.0,
    "price_sensitivity": 2.0,
    "active_hours": 2.0,
    "interests": 1.5,
}
_CLUSTER_WEIGHTS = np.concatenate(
    [np.full(width, _CLUSTER_BLOCK_WEIGHTS[name]) for name, width in FEATURE_BLOCKS]
).astype(np.float32)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Population:
    """Synthetic users, one row per user in every array.

    Attributes
    ----------
    age_band : ndarray of shape (n_users,), int8
        Index into ``AGE_BANDS``.
    region : ndarray of shape (n_users,), int8
        Index into ``REGIONS``.
    mobile : ndarray of shape (n_users,), bool
        True for users who browse mostly on a phone.
    language : ndarray of shape (n_users,), int8
        Index into ``LANGUAGES`` (0 = en, 1 = ko).
    interests : ndarray of shape (n_users, n_interests), bool
        Multi-hot interests over ``INTERESTS``.
    top_interest : ndarray of shape (n_users,), int8
        The user's strongest interest (always one of their interests).
    hours : ndarray of shape (n_users, 4), float32
        Share of the user's activity in each part of ``TIMES_OF_DAY``; rows sum to 1.
    price_sensitivity : ndarray of shape (n_users,), float32
        In [0, 1]; 1 is a deal-seeker.
    keywords : ndarray of shape (n_users, 3), int16
        Codes into ``KEYWORDS`` of recent searches, each from one of the user's interests.
    """

    age_band: np.ndarray
    region: np.ndarray
    mobile: np.ndarray
    language: np.ndarray
    interests: np.ndarray
    top_interest: np.ndarray
    hours: np.ndarray
    price_sensitivity: np.ndarray
    keywords: np.ndarray

    @property
    def n_users(self) -> int:
        """Number of users."""
        return int(self.age_band.shape[0])

    @property
    def active_hours(self) -> np.ndarray:
        """Dominant part of the day, ndarray of shape (n_users,), index into TIMES_OF_DAY."""
        return self.hours.argmax(axis=1)

    def take(self, index: np.ndarray) -> Population:
        """Rows ``index`` as a new population (used to sample impressions)."""
        return Population(**{f: getattr(self, f)[index] for f in self.__dataclass_fields__})

    def features(self) -> np.ndarray:
        """Numeric user features for clustering and contextual policies.

        Returns
        -------
        X : ndarray of shape (n_users, N_USER_FEATURES), float32
            The blocks of :data:`FEATURE_BLOCKS`: age band one-hot (5), mobile,
            Korean, price sensitivity, active hours (4), interests multi-hot (14).
        """
        n = self.n_users
        s = feature_slices()
        out = np.zeros((n, N_USER_FEATURES), dtype=np.float32)
        out[np.arange(n), s["age_band"].start + self.age_band] = 1.0
        out[:, s["mobile"].start] = self.mobile
        out[:, s["korean"].start] = self.language
        out[:, s["price_sensitivity"].start] = self.price_sensitivity
        out[:, s["active_hours"]] = self.hours
        out[:, s["interests"]] = self.interests
        return out

    def to_frame(self) -> pd.DataFrame:
        """Readable table of the users (one row per user)."""
        kw = np.asarray(KEYWORDS, dtype=object)[self.keywords]
        return pd.DataFrame(
            {
                "age_band": np.asarray(AGE_BANDS, dtype=object)[self.age_band],
                "region": np.asarray(REGIONS, dtype=object)[self.region],
                "device": np.where(self.mobile, "mobile", "desktop"),
                "language": np.asarray(LANGUAGES, dtype=object)[self.language],
                "top_interest": np.asarray(INTERESTS, dtype=object)[self.top_interest],
                "interests": [
                    ", ".join(INTERESTS[j] for j in np.flatnonzero(row)) for row in self.interests
                ],
                "active_hours": np.asarray(TIMES_OF_DAY, dtype=object)[self.active_hours],
                "price_sensitivity": self.price_sensitivity,
                "keywords": [", ".join(row) for row in kw],
            }
        )


#: Most users one population may hold, as :class:`simulation.ExperimentConfig` bounds
#: ``n_users``: the users' arrays are allocated before any draw, so a typo's extra zeros
#: would be a MemoryError (74.5 GiB for 10**10) instead of a refusal.
MAX_USERS = 5_000_000


def _check_int(name: str, value: object, low: int, high: int, suffix: str = "") -> int:
    """``value`` as an int in [low, high], else a ValueError naming it (bools are not ints)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise ValueError(f"`{name}` must be an int in [{low:,}, {high:,}]{suffix}; got {value!r}.")
    return int(value)


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy Generator, e.g. np.random.default_rng(0); got {rng!r}."
        )
    return rng


def _categorical(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` indices from probabilities ``p`` of shape (k,) or (n, k)."""
    cdf = np.cumsum(p, axis=-1)
    cdf /= cdf[..., -1:]
    u = rng.random(n)
    if cdf.ndim == 1:
        return np.searchsorted(cdf, u, side="right")
    return (u[:, None] >= cdf).sum(axis=1)


def generate_population(n_users: int, rng: np.random.Generator) -> Population:
    """Draw ``n_users`` synthetic users.

    Parameters
    ----------
    n_users : int
        Number of users, in [1, :data:`MAX_USERS`].
    rng : numpy.random.Generator
        Source of every draw.

    Returns
    -------
    population : Population

    Raises
    ------
    ValueError
        For ``n_users`` out of range or not an int.
    TypeError
        For an ``rng`` that is not a numpy Generator.
    """
    n = _check_int("n_users", n_users, 1, MAX_USERS)
    _check_rng(rng)
    n_int = len(INTERESTS)
    age = _categorical(rng, _AGE_P, n).astype(np.int8)
    region = _categorical(rng, _REGION_P, n).astype(np.int8)
    mobile = rng.random(n) < _MOBILE_BY_AGE[age]
    language = (rng.random(n) < _KO_BY_REGION[region]).astype(np.int8)

    # Interests: 1 + Poisson(1.3) of them, without replacement, weighted by
    # popularity x age lean. An exponential race (Exp(1) / weight, smallest
    # first) is the same law as Gumbel top-k and cheaper to draw. The first
    # finisher is the top interest.
    weights = (_POPULARITY[None, :] * _AGE_INTEREST)[age].astype(np.float32)
    keys = rng.standard_exponential(size=(n, n_int), dtype=np.float32) / weights
    order = np.argsort(keys, axis=1)
    n_interests = np.minimum(1 + rng.poisson(1.3, size=n), 5)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n_int)[None, :], axis=1)
    interests = ranks < n_interests[:, None]
    top = order[:, 0].astype(np.int8)

    # Active hours: Dirichlet via normalized gammas, concentration by age plus
    # a pull from the top interest.
    alpha = _AGE_HOURS[age].copy()
    for name, pull in _INTEREST_HOURS.items():
        alpha += np.outer(top == INTERESTS.index(name), pull)
    hours = rng.standard_gamma(alpha)
    hours /= hours.sum(axis=1, keepdims=True)

    mean = _PRICE_MEAN_BY_AGE[age].copy()
    for name, shift in _PRICE_INTEREST.items():
        mean += shift * interests[:, INTERESTS.index(name)]
    mean = np.clip(mean, 0.05, 0.95)
    concentration = 6.0
    price = rng.beta(mean * concentration, (1 - mean) * concentration)

    # Keywords: each search picks one of the user's interests (uniformly among
    # the first n_interests finishers), then one of that interest's keywords.
    which = (rng.random((n, N_KEYWORDS_PER_USER)) * n_interests[:, None]).astype(np.int64)
    kw_interest = np.take_along_axis(order, which, axis=1)
    kw = kw_interest * KEYWORDS_PER_INTEREST + rng.integers(
        0, KEYWORDS_PER_INTEREST, size=(n, N_KEYWORDS_PER_USER)
    )
    return Population(
        age_band=age,
        region=region,
        mobile=mobile,
        language=language,
        interests=interests,
        top_interest=top,
        hours=hours.astype(np.float32),
        price_sensitivity=price.astype(np.float32),
        keywords=kw.astype(np.int16),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentProfile:
    """A readable description of one segment.

    Attributes
    ----------
    segment_id : int
        0 is the largest segment.
    name : str
        Generated, e.g. "Night-owl gamers, Korean, mobile, deal-seekers".
    size : int
        Number of users.
    share : float
        Fraction of the population.
    top_interests : tuple of str
        Most common interests in the segment, most common first.
    interest_rates : tuple of float
        Share of the segment holding each of ``INTERESTS``.
    hours : tuple of float
        Mean activity profile over ``TIMES_OF_DAY``.
    active_hours : str
        Dominant part of the day.
    mobile_share, korean_share, price_sensitivity : float
        Means over the segment's users.
    top_keywords : tuple of str
        Most frequent recent searches.
    """

    segment_id: int
    name: str
    size: int
    share: float
    top_interests: tuple[str, ...]
    interest_rates: tuple[float, ...]
    hours: tuple[float, ...]
    active_hours: str
    mobile_share: float
    korean_share: float
    price_sensitivity: float
    top_keywords: tuple[str, ...]

    @property
    def language(self) -> str:
        """Majority language of the segment."""
        return "ko" if self.korean_share > 0.5 else "en"

    def to_audience(self) -> Audience:
        """The segment as the creative studio's :class:`~creative.audience.Audience`."""
        return Audience(
            kind="segment",
            audience_id=f"segment-{self.segment_id}",
            name=self.name,
            top_interests=self.top_interests,
            keywords=self.top_keywords,
            active_hours=self.active_hours,
            mobile_share=float(round(self.mobile_share, 4)),
            price_sensitivity=float(round(self.price_sensitivity, 4)),
            language=self.language,
            size=max(int(self.size), 1),
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Segmentation:
    """Segment labels and profiles.

    Attributes
    ----------
    labels : ndarray of shape (n_users,), int16
        Segment of each user; segments are numbered by decreasing size.
    profiles : tuple of SegmentProfile
        One per segment, in id order.
    """

    labels: np.ndarray
    profiles: tuple[SegmentProfile, ...]

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return len(self.profiles)

    def to_frame(self) -> pd.DataFrame:
        """The segment table: one row per segment, readable columns."""
        return pd.DataFrame(
            {
                "segment": [p.segment_id for p in self.profiles],
                "name": [p.name for p in self.profiles],
                "size": [p.size for p in self.profiles],
                "share": [p.share for p in self.profiles],
                "top_interests": [", ".join(p.top_interests) for p in self.profiles],
                "active_hours": [p.active_hours for p in self.profiles],
                "mobile_share": [p.mobile_share for p in self.profiles],
                "korean_share": [p.korean_share for p in self.profiles],
                "price_sensitivity": [p.price_sensitivity for p in self.profiles],
                "top_keywords": [", ".join(p.top_keywords) for p in self.profiles],
            }
        )


_HOUR_WORD = {
    "morning": "Early-bird",
    "daytime": "Daytime",
    "evening": "Evening",
    "night": "Night-owl",
}
_INTEREST_NOUN = {
    "fashion": "fashion fans",
    "beauty": "beauty lovers",
    "gaming": "gamers",
    "tech": "tech enthusiasts",
    "fitness": "fitness buffs",
    "food": "foodies",
    "travel": "travellers",
    "home": "homemakers",
    "pets": "pet parents",
    "music": "music lovers",
    "books": "readers",
    "outdoors": "outdoor types",
    "finance": "savers",
    "kids": "young parents",
}
_INTEREST_LEAN = {i: i for i in _INTEREST_NOUN} | {"pets": "pet", "books": "book", "kids": "family"}


#: Below this share of members holding the segment's signature interest, the name says the
#: segment leans towards it ("tech-leaning shoppers") instead of naming its members after it
#: ("tech enthusiasts"): a cluster where a fifth like tech over-indexes on tech, but four in
#: five of its members are not tech enthusiasts.
INTEREST_MAJORITY = 0.5

#: Below this lift of the segment's typical part of the day (its share of the segment's
#: activity over its share of everyone's), the name leaves the time out: in the default
#: world five of six segments' typical part of the day holds 4-7 % more of their activity
#: than of everyone's, and "Early-bird" shoppers who are online most in the evening, like
#: everyone, would be a name the hours chart beside it contradicts.
HOUR_LIFT_MIN = 1.15


def _segment_name(
    hours: str | None, interest: str, share: float, mobile: float, price: float, korean: float
) -> str:
    device = "mobile" if mobile >= 0.75 else "desktop" if mobile < 0.5 else "multi-device"
    buyer = (
        "deal-seekers" if price >= 0.58 else "premium buyers" if price < 0.45 else "value-minded"
    )
    speaks = "Korean" if korean >= 0.9 else "English" if korean <= 0.1 else "bilingual"
    who = (
        _INTEREST_NOUN[interest]
        if share >= INTEREST_MAJORITY
        else f"{_INTEREST_LEAN[interest]}-leaning shoppers"
    )
    who = f"{_HOUR_WORD[hours]} {who}" if hours is not None else who[0].upper() + who[1:]
    return f"{who}, {speaks}, {device}, {buyer}"


def segment_population(
    population: Population,
    n_segments: int,
    rng: np.random.Generator,
    *,
    fit_sample: int = 50_000,
) -> Segmentation:
    """Cluster users with MiniBatchKMeans and describe each segment.

    The model is fit on at most ``fit_sample`` users (drawn with ``rng``) and then
    labels everyone, which keeps a million users well under the 5 s budget.

    Parameters
    ----------
    population : Population
        The users.
    n_segments : int
        Number of clusters, 1 <= n_segments <= min(50, n_users).
    rng : numpy.random.Generator
        For the fit sample and the k-means seed.
    fit_sample : int, default=50_000
        Users used to fit the centroids, in [n_segments, :data:`MAX_USERS`] (k-means
        needs at least one user per centroid).

    Returns
    -------
    segmentation : Segmentation
        ``labels`` of shape (n_users,), segment 0 the largest; one profile per segment.
    """
    n = population.n_users
    if isinstance(n_segments, bool) or (
        not isinstance(n_segments, int | np.integer) or not 1 <= n_segments <= min(50, n)
    ):
        raise ValueError(
            f"`n_segments` must be an int in [1, {min(50, n)}] for {n} users; got {n_segments!r}."
        )
    _check_int("fit_sample", fit_sample, int(n_segments), MAX_USERS, f" for {n_segments} segments")
    _check_rng(rng)
    X = population.features()
    Xw = X * _CLUSTER_WEIGHTS
    fit_idx = rng.choice(n, size=min(n, fit_sample), replace=False) if n > fit_sample else None
    Xfit = Xw if fit_idx is None else Xw[fit_idx]
    km = MiniBatchKMeans(
        n_clusters=int(n_segments),
        random_state=int(rng.integers(2**31 - 1)),
        batch_size=4096,
        n_init=3,
        max_iter=100,
    )
    km.fit(Xfit)
    raw = km.predict(Xw)
    counts = np.bincount(raw, minlength=n_segments)
    # Renumber by decreasing size (ties by raw id) so ids read naturally.
    order = np.lexsort((np.arange(n_segments), -counts))
    relabel = np.empty(n_segments, dtype=np.int16)
    relabel[order] = np.arange(n_segments)
    labels = relabel[raw]
    return Segmentation(labels=labels, profiles=describe_segments(population, labels, n_segments))


def describe_segments(
    population: Population, labels: np.ndarray, n_segments: int
) -> tuple[SegmentProfile, ...]:
    """Readable profiles of the segments given by ``labels``.

    Parameters
    ----------
    population : Population
        The users.
    labels : ndarray of int of shape (n_users,)
        Each user's segment, in ``[0, n_segments)``.
    n_segments : int
        Number of segments, in [1, 50]; a segment no user is in gets a profile of size 0.

    Returns
    -------
    profiles : tuple of SegmentProfile
        One per segment, in segment order.
    """
    n = population.n_users
    n_segments = _check_int("n_segments", n_segments, 1, 50)
    raw = np.asarray(labels)
    if raw.shape != (n,) or (raw.size and not np.issubdtype(raw.dtype, np.integer)):
        raise ValueError(
            f"`labels` must be an int array of shape ({n},), one segment per user; got "
            f"{raw.dtype} of shape {raw.shape}."
        )
    if raw.size and (raw.min() < 0 or raw.max() >= n_segments):
        raise ValueError(
            f"`labels` must be in [0, {n_segments}) for {n_segments} segments; got "
            f"{raw.min()}..{raw.max()}."
        )
    labels = raw
    counts = np.bincount(labels, minlength=n_segments).astype(np.float64)
    safe = np.maximum(counts, 1.0)
    onehot = np.zeros((n, n_segments), dtype=np.float32)
    onehot[np.arange(n), labels] = 1.0
    rates = (onehot.T @ population.interests.astype(np.float32)) / safe[:, None]
    hours = (onehot.T @ population.hours) / safe[:, None]
    mobile = np.bincount(labels, weights=population.mobile, minlength=n_segments) / safe
    korean = np.bincount(labels, weights=population.language, minlength=n_segments) / safe
    price = np.bincount(labels, weights=population.price_sensitivity, minlength=n_segments) / safe
    flat = np.repeat(labels.astype(np.int64), N_KEYWORDS_PER_USER) * len(KEYWORDS)
    flat += population.keywords.ravel()
    kw_counts = np.bincount(flat, minlength=n_segments * len(KEYWORDS)).reshape(n_segments, -1)
    overall = population.interests.mean(axis=0)
    hours_overall = population.hours.mean(axis=0)
    profiles = []
    used_names: set[str] = set()
    for s in range(n_segments):
        top = tuple(INTERESTS[j] for j in np.argsort(-rates[s], kind="stable")[:3])
        # The name uses the most *distinctive* interest and part of day
        # (highest lift over the population), which is what tells segments apart.
        lift = rates[s] / np.maximum(overall, 1e-9)
        signature = INTERESTS[int(np.argmax(lift * (rates[s] > 0.2)))] if rates[s].max() else top[0]
        # The signature interest leads the list, so the creatives made for the
        # segment speak to what its name promises.
        top = (signature, *(i for i in top if i != signature))[:3]
        # Typical part of the day: the one most over-represented among those
        # holding a real share of activity (most people are active in the
        # evening; what sets a segment apart is the lift).
        hour_lift = hours[s] / np.maximum(hours_overall, 1e-9) * (hours[s] >= 0.22)
        hour_word = (
            TIMES_OF_DAY[int(np.argmax(hour_lift))]
            if hour_lift.max() > 0
            else (TIMES_OF_DAY[int(np.argmax(hours[s]))])
        )
        share = float(rates[s][INTERESTS.index(signature)])
        named_hour = hour_word if hour_lift.max() >= HOUR_LIFT_MIN else None
        name = _segment_name(named_hour, signature, share, mobile[s], price[s], korean[s])
        if name in used_names:
            name = f"{name} ({top[1] if signature == top[0] else top[0]})"
        used_names.add(name)
        # Keywords come from the interests the segment is named after, so the
        # copy written for it speaks to what its name promises.
        # Signature interest first, then the other named ones; most searched first.
        rank = {INTERESTS.index(i): r for r, i in enumerate(top)}
        interest_of = np.arange(len(KEYWORDS)) // KEYWORDS_PER_INTEREST
        searched = [
            k for k in range(len(KEYWORDS)) if kw_counts[s, k] > 0 and interest_of[k] in rank
        ]
        order = sorted(searched, key=lambda k: (rank[interest_of[k]], -kw_counts[s, k], k))
        kws = tuple(KEYWORDS[k] for k in order[:5])
        profiles.append(
            SegmentProfile(
                segment_id=s,
                name=name,
                size=int(counts[s]),
                share=float(counts[s] / n),
                top_interests=top,
                interest_rates=tuple(float(r) for r in rates[s]),
                hours=tuple(float(h) for h in hours[s]),
                active_hours=hour_word,
                mobile_share=float(mobile[s]),
                korean_share=float(korean[s]),
                price_sensitivity=float(price[s]),
                top_keywords=kws,
            )
        )
    return tuple(profiles)


def user_audience(population: Population, index: int) -> Audience:
    """One user as an audience of one, for per-user creatives.

    Parameters
    ----------
    population : Population
        The users.
    index : int
        The user's row, in ``[0, n_users)`` (a negative index is refused: it would
        name ``user--1`` for the last user).

    Returns
    -------
    audience : Audience
        ``kind="user"``, ``audience_id=f"user-{index}"``.
    """
    index = _check_int(
        "index", index, 0, population.n_users - 1, f" for {population.n_users} users"
    )
    interests = tuple(INTERESTS[j] for j in np.flatnonzero(population.interests[index]))
    top = INTERESTS[int(population.top_interest[index])]
    ordered = (top, *(i for i in interests if i != top))
    keywords = tuple(dict.fromkeys(KEYWORDS[k] for k in population.keywords[index]))
    return Audience(
        kind="user",
        audience_id=f"user-{index}",
        name=f"User {index}",
        top_interests=ordered,
        keywords=keywords,
        active_hours=TIMES_OF_DAY[int(population.hours[index].argmax())],
        mobile_share=1.0 if population.mobile[index] else 0.0,
        price_sensitivity=float(round(float(population.price_sensitivity[index]), 4)),
        language=LANGUAGES[int(population.language[index])],
    )


def default_audiences(seed: int = 0, n_users: int = 20_000, n_segments: int = 6) -> list[Audience]:
    """The default preset's segments as creative-studio audiences.

    Parameters
    ----------
    seed : int, default=0
        The experiment seed whose ``population`` and ``segmentation`` streams draw them.
    n_users : int, default=20_000
        Users drawn, in [1, :data:`MAX_USERS`].
    n_segments : int, default=6
        Segments, in [1, min(50, n_users)].

    Returns
    -------
    audiences : list of Audience
        One ``kind="segment"`` audience per segment, largest first.
    """
    pop = generate_population(n_users, stream(seed, "population"))
    seg = segment_population(pop, n_segments, stream(seed, "segmentation"))
    return [p.to_audience() for p in seg.profiles]


#: How closely users follow their segment's declared profile (why: a segment file
#: describes a typical member, not a clone; every trait still varies a little).
_OWN_LANGUAGE = 0.97  # share of a segment's users reading its language
_PRICE_CONCENTRATION = 20.0  # Beta concentration around the declared price sensitivity
_HOUR_PULL = 6.0  # Dirichlet weight added to the declared active hours
_INTEREST_BOOST = 6.0  # race weight of the segment's first interest (1/rank after it)
_OWN_KEYWORD = 0.6  # chance a search is one of the segment's own keywords (when it can be)
#: Code into KEYWORDS of every known search, in English and in Korean.
_KEYWORD_CODES = {k: i for i, k in enumerate(KEYWORDS)} | {
    k: i for i, k in enumerate(kw for c in INTERESTS for kw in INTEREST_KEYWORDS_KO[c])
}


def _segment_counts(sizes: np.ndarray, n: int) -> np.ndarray:
    """Users per segment: ``n`` split in proportion to ``sizes`` (largest remainder), >= 1 each."""
    quota = sizes / sizes.sum() * n
    counts = np.floor(quota).astype(np.int64)
    rest = n - counts.sum()
    counts[np.argsort(-(quota - counts), kind="stable")[:rest]] += 1
    while (counts == 0).any():  # a tiny segment takes one user from the largest
        counts[np.argmax(counts)] -= 1
        counts[np.argmin(counts)] += 1
    return counts


def population_from_segments(
    audiences: Sequence[Audience], n_users: int, rng: np.random.Generator
) -> tuple[Population, Segmentation]:
    """Draw a synthetic population around declared segments (e.g. from a segments file).

    Each segment gets users in proportion to its ``size`` (sizes are relative: 30
    and 70 are shares of 30 % and 70 %), split by largest remainder with at least one
    user each. A user of a segment reads its language (97 %), browses on a phone
    with probability ``mobile_share``, has a price sensitivity drawn from a Beta
    centred on the segment's, an activity profile pulled towards its active hours,
    interests led by the segment's (its first interest most often the user's top
    one) and recent searches among its keywords where they are in the vocabulary.
    Age band and region (consistent with the language) follow the general
    population.

    Parameters
    ----------
    audiences : sequence of Audience
        The segments (not generic), 1 to 50 of them.
    n_users : int
        Number of users, in [len(audiences), :data:`MAX_USERS`].
    rng : numpy.random.Generator
        Source of every draw.

    Returns
    -------
    population : Population
    segmentation : Segmentation
        ``labels`` of shape (n_users,): the segment each user was drawn from (its
        position in ``audiences``); one profile per segment, named as the file
        names it, with its declared interests, keywords, active hours, device
        share and price sensitivity, and its measured size, share and language mix.
    """
    audiences = tuple(audiences)
    if not 1 <= len(audiences) <= 50 or not all(isinstance(a, Audience) for a in audiences):
        raise ValueError(f"`audiences` must hold 1 to 50 Audience records; got {len(audiences)}.")
    if any(a.kind == "generic" for a in audiences):
        raise ValueError("`audiences` must be segments; a generic audience has no profile.")
    _check_int("n_users", n_users, len(audiences), MAX_USERS)
    _check_rng(rng)
    n, n_seg, n_int = int(n_users), len(audiences), len(INTERESTS)
    counts = _segment_counts(np.array([a.size for a in audiences], dtype=np.float64), n)
    labels = rng.permutation(np.repeat(np.arange(n_seg, dtype=np.int16), counts))

    def per_segment(values) -> np.ndarray:
        return np.asarray(values)[labels]

    age = _categorical(rng, _AGE_P, n).astype(np.int8)
    own_ko = per_segment([a.language == "ko" for a in audiences])
    language = (own_ko ^ (rng.random(n) >= _OWN_LANGUAGE)).astype(np.int8)
    # Regions consistent with the language: Korean readers in Korea, the rest elsewhere.
    korea = np.array([r in ("seoul", "busan") for r in REGIONS])
    region_p = np.stack([_REGION_P * ~korea, _REGION_P * korea])  # (2, n_regions) by language
    region = _categorical(rng, region_p[language], n).astype(np.int8)
    mobile = rng.random(n) < per_segment([a.mobile_share for a in audiences])

    # Interests: the exponential race of generate_population, with the segment's
    # interests far ahead of the general popularity (1/rank after the first).
    weights = np.tile(_POPULARITY * 0.1, (n_seg, 1))
    for s, a in enumerate(audiences):
        for rank, interest in enumerate(a.top_interests):
            weights[s, INTERESTS.index(interest)] += _INTEREST_BOOST / (rank + 1)
    keys = rng.standard_exponential(size=(n, n_int)) / weights[labels]
    order = np.argsort(keys, axis=1)
    n_interests = np.minimum(1 + rng.poisson(1.3, size=n), 5)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n_int)[None, :], axis=1)
    interests = ranks < n_interests[:, None]
    top = order[:, 0].astype(np.int8)

    alpha = _AGE_HOURS[age].copy()
    declared = np.zeros((n_seg, len(TIMES_OF_DAY)))
    for s, a in enumerate(audiences):
        if a.active_hours is not None:
            declared[s, TIMES_OF_DAY.index(a.active_hours)] = _HOUR_PULL
    alpha += declared[labels]
    hours = rng.standard_gamma(alpha)
    hours /= hours.sum(axis=1, keepdims=True)

    mean = np.clip(per_segment([a.price_sensitivity for a in audiences]), 0.02, 0.98)
    price = rng.beta(mean * _PRICE_CONCENTRATION, (1 - mean) * _PRICE_CONCENTRATION)

    which = (rng.random((n, N_KEYWORDS_PER_USER)) * n_interests[:, None]).astype(np.int64)
    kw_interest = np.take_along_axis(order, which, axis=1)
    kw = kw_interest * KEYWORDS_PER_INTEREST + rng.integers(
        0, KEYWORDS_PER_INTEREST, size=(n, N_KEYWORDS_PER_USER)
    )
    # The segment's own searches replace some of these, where the user holds their interest
    # (a search always comes from one of the user's interests).
    own = [[_KEYWORD_CODES[k] for k in a.keywords if k in _KEYWORD_CODES] for a in audiences]
    width = max(1, max(len(codes) for codes in own))
    table = np.full((n_seg, width), -1, dtype=np.int64)
    for s, codes in enumerate(own):
        table[s, : len(codes)] = codes
    n_own = per_segment([len(codes) for codes in own])
    pick = (rng.random((n, N_KEYWORDS_PER_USER)) * np.maximum(n_own, 1)[:, None]).astype(np.int64)
    candidate = table[labels[:, None], pick]
    held = interests[np.arange(n)[:, None], np.maximum(candidate, 0) // KEYWORDS_PER_INTEREST]
    use = (candidate >= 0) & held & (rng.random((n, N_KEYWORDS_PER_USER)) < _OWN_KEYWORD)
    kw = np.where(use, candidate, kw)

    population = Population(
        age_band=age,
        region=region,
        mobile=mobile,
        language=language,
        interests=interests,
        top_interest=top,
        hours=hours.astype(np.float32),
        price_sensitivity=price.astype(np.float32),
        keywords=kw.astype(np.int16),
    )
    measured = describe_segments(population, labels, n_seg)
    profiles = tuple(
        replace(
            m,
            name=a.name,
            top_interests=a.top_interests,
            top_keywords=a.keywords,
            active_hours=a.active_hours or m.active_hours,
            mobile_share=float(a.mobile_share),
            price_sensitivity=float(a.price_sensitivity),
        )
        for m, a in zip(measured, audiences, strict=True)
    )
    return population, Segmentation(labels=labels, profiles=profiles)
