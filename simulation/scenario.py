"""Segments -> audiences -> creatives -> arm features.

This is the one module of ``simulation/`` that imports the creative studio.
It builds the world of an experiment from a config: the synthetic audience and
its segments, the hidden response model, and for each personalization level the
arms a policy chooses among:

- ``generic``: ``n_variants`` control creatives shown to everyone;
- ``segment``: arm ``k`` is the ``k``-th variant written for the viewer's segment;
- ``user``: arm ``k`` is a *strategy* (tone, offer, layout); the creative is
  generated for the viewer from their top interest, active hours and language.

The engine and the policies then see arrays only: attribute tensors of shape
(n, n_arms, n_attributes) and contexts of shape (n, n_features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from creative.attributes import N_ATTRIBUTES, attribute_slices, encode_attributes
from creative.generate import generate_for_segment, generate_generic
from creative.record import Creative
from creative.vocabulary import LANGUAGES
from simulation.config import ExperimentConfig
from simulation.population import (
    N_USER_FEATURES,
    Population,
    Segmentation,
    generate_population,
    segment_population,
)
from simulation.response import ResponseModel, sample_response_params
from simulation.rng import stream

__all__ = ["USER_STRATEGIES", "Level", "Scenario", "audience_of", "build_scenario"]

_S = attribute_slices()

#: Per-user strategies (tone, offer, layout); the rest of the creative is the user's.
USER_STRATEGIES: tuple[tuple[str, str, str], ...] = (
    ("playful", "discount_10", "hero"),
    ("urgent", "discount_20", "minimal"),
    ("premium", "none", "split"),
    ("informative", "free_shipping", "badge"),
    ("social_proof", "none", "hero"),
    ("urgent", "discount_30", "minimal"),
    ("premium", "free_shipping", "split"),
    ("playful", "none", "badge"),
    ("informative", "discount_10", "hero"),
    ("social_proof", "discount_20", "minimal"),
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Level:
    """The arms of one personalization level.

    Attributes
    ----------
    name : str
        ``generic``, ``segment`` or ``user``.
    n_arms : int
    arm_labels : tuple of str
        Short readable label per arm.
    creatives : tuple of tuple of Creative
        ``generic``: one row of ``n_arms`` creatives; ``segment``: one row per
        segment; ``user``: empty (creatives are made per viewer).
    table : ndarray
        ``generic``: (n_arms, A); ``segment``: (n_segments, n_arms, A);
        ``user``: (n_arms, A) strategy part, the viewer adds the rest.
    """

    name: str
    n_arms: int
    arm_labels: tuple[str, ...]
    creatives: tuple[tuple[Creative, ...], ...]
    table: np.ndarray

    def arm_attributes(self, users: Population, segments: np.ndarray) -> np.ndarray:
        """Attribute vectors of the arms each viewer could see.

        Parameters
        ----------
        users : Population
            ``n`` viewers.
        segments : ndarray of shape (n,)
            Their segments.

        Returns
        -------
        attributes : ndarray of shape (n_arms, A) or (n, n_arms, A)
        """
        if self.name == "generic":
            return self.table
        if self.name == "segment":
            return self.table[segments]
        n = users.n_users
        own = np.zeros((n, N_ATTRIBUTES))
        rows = np.arange(n)
        own[rows, _S["category"].start + users.top_interest] = 1.0
        own[rows, _S["greeting"].start + users.hours.argmax(axis=1)] = 1.0
        own[rows, _S["language"].start + users.language] = 1.0
        return self.table[None, :, :] + own[:, None, :]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Scenario:
    """The world of an experiment: users, segments, response model and arms.

    ``memo`` holds tables derived from the world (the engine's audience-wide
    contexts and ground truth), so they live exactly as long as the world does.
    """

    config: ExperimentConfig
    population: Population
    segmentation: Segmentation
    response: ResponseModel
    levels: dict[str, Level]
    memo: dict = field(default_factory=dict, init=False, repr=False)

    @property
    def n_features(self) -> int:
        """Context width: segment one-hot plus user features."""
        return self.segmentation.n_segments + N_USER_FEATURES

    def contexts(self, users: np.ndarray) -> np.ndarray:
        """Contexts of the users at indices ``users`` (n,), ndarray of shape (n, n_features).

        The first ``n_segments`` columns are the one-hot segment (what
        per-segment policies read); the rest are
        :meth:`~simulation.population.Population.features`.
        """
        s = self.segmentation.n_segments
        out = np.zeros((users.shape[0], s + N_USER_FEATURES))
        out[np.arange(users.shape[0]), self.segmentation.labels[users]] = 1.0
        out[:, s:] = self.population.take(users).features()
        return out


def _strategy_table(n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    table = np.zeros((n, N_ATTRIBUTES))
    labels = []
    for k, (tone, offer, layout) in enumerate(USER_STRATEGIES[:n]):
        vec = encode_attributes(
            category="fashion",
            tone=tone,
            offer=offer,
            greeting=None,
            layout=layout,
            language="en",
            audience_kind="user",
        )
        # Keep only the strategy's own columns; the viewer supplies category,
        # greeting and language.
        vec[_S["category"]] = 0.0
        vec[_S["language"]] = 0.0
        table[k] = vec
        labels.append(f"{tone} · {offer} · {layout}")
    return table, tuple(labels)


def _label(c: Creative) -> str:
    return f"{c.product} · {c.tone} · {c.offer}"


def audience_of(config: ExperimentConfig) -> tuple[Population, Segmentation]:
    """The simulated users of ``config`` and their segments (the scenario's streams).

    Parameters
    ----------
    config : ExperimentConfig
        Only ``seed``, ``n_users`` and ``n_segments`` matter.

    Returns
    -------
    population : Population
    segmentation : Segmentation
    """
    population = generate_population(config.n_users, stream(config.seed, "population"))
    segmentation = segment_population(
        population, config.n_segments, stream(config.seed, "segmentation")
    )
    return population, segmentation


def build_scenario(
    config: ExperimentConfig, *, world: tuple[Population, Segmentation] | None = None
) -> Scenario:
    """Build the world of ``config`` (deterministic in ``config.seed``).

    Parameters
    ----------
    config : ExperimentConfig
    world : (Population, Segmentation), optional
        The audience of ``config`` if already built (by :func:`audience_of`, e.g.
        cached by the app), so it is not generated and clustered again.

    Returns
    -------
    scenario : Scenario
    """
    seed = config.seed
    population, segmentation = world if world is not None else audience_of(config)
    if population.n_users != config.n_users or segmentation.n_segments != config.n_segments:
        raise ValueError(
            f"the given world has {population.n_users:,} users in {segmentation.n_segments} "
            f"segments; the config asks for {config.n_users:,} in {config.n_segments}."
        )
    response = ResponseModel(
        sample_response_params(stream(seed, "response")), pricing=config.pricing
    )
    k = config.n_variants
    levels: dict[str, Level] = {}
    if "generic" in config.levels:
        # The brand's control set is in its home language (English): generic
        # means using no audience data at all, language included.
        report = generate_generic(k, stream(seed, "creatives", "generic"), language=LANGUAGES[0])
        if len(report.accepted) < k:
            raise ValueError(
                f"only {len(report.accepted)} generic creatives passed the guardrails; "
                f"lower n_variants ({k})."
            )
        row = report.accepted[:k]
        levels["generic"] = Level(
            name="generic",
            n_arms=k,
            arm_labels=tuple(_label(c) for c in row),
            creatives=(row,),
            table=np.stack([c.attributes for c in row]),
        )
    if "segment" in config.levels:
        rows = []
        for profile in segmentation.profiles:
            rng = stream(seed, "creatives", "segment", profile.segment_id)
            report = generate_for_segment(profile.to_audience(), k, rng)
            if len(report.accepted) < k:
                raise ValueError(
                    f"only {len(report.accepted)} creatives for segment {profile.segment_id} "
                    f"passed the guardrails; lower n_variants ({k})."
                )
            rows.append(report.accepted[:k])
        levels["segment"] = Level(
            name="segment",
            n_arms=k,
            arm_labels=tuple(f"variant {j + 1}" for j in range(k)),
            creatives=tuple(rows),
            table=np.stack([np.stack([c.attributes for c in row]) for row in rows]),
        )
    if "user" in config.levels:
        if k > len(USER_STRATEGIES):
            raise ValueError(
                f"the user level has {len(USER_STRATEGIES)} strategies; `n_variants` is {k}."
            )
        table, labels = _strategy_table(k)
        levels["user"] = Level(name="user", n_arms=k, arm_labels=labels, creatives=(), table=table)
    return Scenario(
        config=config,
        population=population,
        segmentation=segmentation,
        response=response,
        levels=levels,
    )
