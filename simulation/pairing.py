"""Whether two runs can be compared replication by replication (paired) or only as wholes.

Replication ``r`` of a run draws its visitors and its outcome uniforms from the named
streams ``("replication", r, "users")`` and ``("replication", r, "outcomes")`` of the run's
seed, batch by batch (:mod:`simulation.engine.chunks`), in a world built from the world
settings (:data:`simulation.engine.core.WORLD_SETTINGS`). Two runs saw the same visitors
and draws in replication ``r`` only when all of those agree: the world (seed, audience,
creatives, pricing, the ``[world]`` table, the input files' contents), the number of worlds,
and the impressions and batch size. Then A − B can be taken replication by replication
(a paired Student-t interval). Otherwise their replications are independent samples and the
honest interval is Welch's, over each run's replications.

What may differ in a paired comparison is what the comparison is for: the policies, levels,
objective, spend cap, conversion delay, regeneration and chart points change what the
policies do, not whom they meet or which uniforms decide the clicks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from simulation.engine.core import WORLD_SETTINGS
from simulation.naming import differing_settings

__all__ = ["DRAW_SETTINGS", "Pairing", "pairing"]

#: Config keys that decide the visitors and draws of a replication (all must agree to pair).
DRAW_SETTINGS: tuple[str, ...] = (*WORLD_SETTINGS, "n_worlds", "n_impressions", "batch_size")

#: How a differing setting reads in "not paired: the runs differ in …".
_WORDS: dict[str, str] = {
    "seed": "seed", "n_users": "audience size", "n_segments": "number of segments",
    "n_variants": "creatives per level", "pricing": "pricing", "world": "world settings",
    "space": "component space", "segments_file": "segments file",
    "catalogue_file": "catalogue file", "templates_file": "templates file",
    "n_worlds": "number of worlds", "n_impressions": "impressions", "batch_size": "batch size",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Pairing:
    """The verdict of :func:`pairing`.

    Attributes
    ----------
    paired : bool
        Replication ``r`` of A and of B saw the same visitors and draws.
    differences : tuple of str
        What keeps them apart, in words (empty when paired).
    """

    paired: bool
    differences: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        """One plain sentence saying how A − B is compared, and why."""
        if self.paired:
            return (
                "Paired: both runs had the same world and impressions, so replication by "
                "replication they saw the same visitors and draws."
            )
        return (
            f"Not paired: the runs differ in {', '.join(self.differences)}; the interval is "
            "Welch's, over each run's replications (wider)."
        )


def _replications(summary: pd.DataFrame | None) -> frozenset | None:
    if summary is None or "seed" not in summary:
        return None
    keys = ["world", "seed"] if "world" in summary else ["seed"]
    return frozenset(map(tuple, summary[keys].drop_duplicates().to_numpy().tolist()))


def pairing(
    config_a: Mapping[str, Any],
    config_b: Mapping[str, Any],
    *,
    inputs_a: Mapping[str, Any] | None = None,
    inputs_b: Mapping[str, Any] | None = None,
    summary_a: pd.DataFrame | None = None,
    summary_b: pd.DataFrame | None = None,
) -> Pairing:
    """Decide whether runs A and B can be paired replication by replication.

    Parameters
    ----------
    config_a, config_b : mapping
        The runs' configs (:meth:`~simulation.config.ExperimentConfig.to_dict` or a saved
        ``run.json``'s). A setting of :data:`DRAW_SETTINGS` missing from one but not the
        other (a run saved before it existed) counts as a difference: when in doubt, unpaired.
    inputs_a, inputs_b : mapping, optional
        The runs' recorded input files (kind -> ``{"path", "sha256"}``): the same path with
        other contents is another world. A kind recorded by one run only is judged by the
        configs' paths alone.
    summary_a, summary_b : DataFrame, optional
        The runs' summaries (one row per level, policy and replication): paired only
        when both hold the same replications (``world`` and ``seed``).

    Returns
    -------
    pairing : Pairing
    """
    for name, value in (("config_a", config_a), ("config_b", config_b)):
        if not isinstance(value, Mapping):
            raise TypeError(f"`{name}` must be a mapping; got {type(value).__name__}.")
    # Through JSON: a live config's tuples and a saved one's lists are the same setting.
    draws = [
        json.loads(json.dumps({k: c[k] for k in DRAW_SETTINGS if k in c}, default=str))
        for c in (config_a, config_b)
    ]
    differ = set(differing_settings(draws))
    words = [_WORDS[k] for k in DRAW_SETTINGS if k in differ]
    files_a, files_b = dict(inputs_a or {}), dict(inputs_b or {})
    # Compared where both recorded a file's hash (a run not saved has no record: its
    # config's path is what there is to compare, above).
    for kind in sorted(set(files_a) & set(files_b)):
        sha_a = (files_a.get(kind) or {}).get("sha256")
        sha_b = (files_b.get(kind) or {}).get("sha256")
        if sha_a != sha_b and f"{kind} file" not in words:
            words.append(f"{kind} file contents")
    reps_a, reps_b = _replications(summary_a), _replications(summary_b)
    if reps_a is not None and reps_b is not None and reps_a != reps_b:
        words.append("replications (seeds or worlds)")
    return Pairing(paired=not words, differences=tuple(words))
