"""Readable run names made from the settings, for the command line, the app and reports.

A run is named by what it was run with. One run gets a short name from its main settings;
runs put side by side get labels made only of the settings that differ between them, so two
runs that differ in budget and delay are told apart by exactly those two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulation.display import short_policy_name
from simulation.world import WorldConfig

__all__ = ["SETTING_ORDER", "differing_settings", "format_setting", "run_label", "saved_run_name"]

#: The order settings appear in a label (keys not listed follow, sorted).
SETTING_ORDER: tuple[str, ...] = (
    "policies", "levels", "n_impressions", "n_seeds", "objective", "budget", "conversion_delay",
    "pricing", "n_variants", "batch_size", "seed", "n_users", "n_segments", "n_checkpoints",
)  # fmt: skip

#: The user's own input files, by config key: how a label reads without one, and with it.
_FILES: dict[str, tuple[str, str]] = {
    "segments_file": ("clustered segments", "own segments"),
    "catalogue_file": ("bundled catalogue", "own catalogue"),
    "templates_file": ("bundled templates", "own templates"),
}
#: Settings whose order does not change a run (compared as sets).
_UNORDERED = frozenset({"policies", "levels"})
#: Settings in the short name of a single run.
_MAIN: tuple[str, ...] = ("policies", "levels", "n_impressions", "n_seeds", "objective", "budget")


def _count(value: Any, unit: str) -> str:
    n = int(value)
    if n >= 1_000_000 and n % 100_000 == 0:
        text = f"{n / 1_000_000:g}M"
    elif n >= 10_000 and n % 1_000 == 0:
        text = f"{n // 1_000:,}k"
    else:
        text = f"{n:,}"
    return f"{text} {unit}{'' if n == 1 else 's'}"


def format_setting(key: str, value: Any) -> str:
    """One setting as a marketer reads it.

    Parameters
    ----------
    key : str
        An :class:`~simulation.config.ExperimentConfig` field (others are shown as
        ``key=value``).
    value : object

    Returns
    -------
    text : str

    Examples
    --------
    >>> format_setting("budget", 500.0), format_setting("budget", None)
    ('budget $500', 'no spend cap')
    >>> format_setting("n_impressions", 300_000)
    '300k impressions'
    >>> format_setting("policies", ["uniform", "thompson", "lin_ucb"])
    'Uniform, Thompson, LinUCB'
    """
    if key == "policies":
        # Short names (the specs read "uniform+epsilon_greedy+..."); commas, since a label's
        # settings are joined with " · ".
        return ", ".join(short_policy_name(str(v)) for v in value)
    if key == "levels":
        return "/".join(str(v) for v in value)
    if key == "n_impressions":
        return _count(value, "impression")
    if key == "n_seeds":
        return _count(value, "seed")
    if key == "objective":
        return f"{str(value).upper()} objective"
    if key == "budget":
        return "no spend cap" if value is None else f"budget ${float(value):,.0f}"
    if key == "conversion_delay":
        return f"delay {int(value):,}"
    if key == "pricing":
        return str(value).upper()
    if key == "n_variants":
        return _count(value, "variant")
    if key == "batch_size":
        return f"batch {int(value):,}"
    if key == "seed":
        return f"seed {value}"
    if key == "n_users":
        return _count(value, "user")
    if key == "n_segments":
        return _count(value, "segment")
    if key == "n_checkpoints":
        return _count(value, "chart point")
    if key == "n_worlds":
        return _count(value, "world")
    if key == "regenerate_every":
        return "fixed pools" if value is None else f"regenerated every {int(value):,}"
    if key == "space":
        return f"{value} space"
    if key in _FILES:
        return _FILES[key][value is not None]
    if key == "world":
        return _world_text(value)
    text = f"{key}={value}"
    return text if len(text) <= 40 else text[:39] + "…"


def _world_text(world: Any) -> str:
    """A ``[world]`` table in words: its personalization scale by name, the rest in a phrase.

    The scale is the one world setting a reader compares runs by (at 0, the check that a
    world with nothing to personalize reports nothing); the others are a table of effect
    sizes whose own page (the World page, ``python -m simulation world``) says which.
    """
    values = world.to_dict() if isinstance(world, WorldConfig) else world
    if not isinstance(values, Mapping):
        return "other world settings"
    default = WorldConfig().to_dict()
    others = bool(set(values) - set(default)) or any(
        not _same(values.get(k, v), v) for k, v in default.items() if k != "personalization_scale"
    )
    parts = [_world_scale(values), "other world settings" if others else None]
    return ", ".join(p for p in parts if p) or "default world"


def _ordered(keys) -> list[str]:
    known = [k for k in SETTING_ORDER if k in keys]
    return known + sorted(k for k in keys if k not in SETTING_ORDER)


def _same(a: Any, b: Any, *, unordered: bool = False) -> bool:
    # Saved configs come back with lists where the live config has tuples.
    norm = lambda v: tuple(v) if isinstance(v, list | tuple) else v  # noqa: E731
    if unordered and isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return sorted(map(str, a)) == sorted(map(str, b))
    return norm(a) == norm(b)


def _world_scale(world: Any) -> str | None:
    """``"personalization scale 0"`` for a world not at the default scale, else None."""
    values = world.to_dict() if isinstance(world, WorldConfig) else world
    if not isinstance(values, Mapping):
        return None
    scale = values.get("personalization_scale")
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        return None
    if scale == WorldConfig().personalization_scale:
        return None
    return f"personalization scale {scale:g}"


def differing_settings(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Keys whose values are not the same in every config (a missing key counts as a value).

    Parameters
    ----------
    configs : sequence of mapping
        Config dicts (:meth:`~simulation.config.ExperimentConfig.to_dict` or a saved run's).

    Returns
    -------
    keys : list of str
        In :data:`SETTING_ORDER`, then sorted.
    """
    keys = set().union(*(c.keys() for c in configs)) if configs else set()
    missing = object()
    out = []
    for key in keys:
        values = [c.get(key, missing) for c in configs]
        if any(not _same(values[0], v, unordered=key in _UNORDERED) for v in values[1:]):
            out.append(key)
    return _ordered(out)


def run_label(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Labels for runs: a short name for one, the differing settings for several.

    Parameters
    ----------
    configs : sequence of mapping
        Config dicts, one per run.

    Returns
    -------
    labels : list of str
        One per config. For a single config, its main settings (policies, levels,
        impressions, seeds, objective, budget; the world's personalization scale when it
        is not the default 1). For several, each label lists only the
        settings that differ between them; if none differ, every label says
        ``"same settings"``.

    Examples
    --------
    >>> run_label([{"budget": 500.0, "conversion_delay": 0, "seed": 1},
    ...            {"budget": None, "conversion_delay": 1000, "seed": 1}])
    ['budget $500 · delay 0', 'no spend cap · delay 1,000']
    >>> run_label([{"policies": ["ucb1", "thompson"], "n_impressions": 30000, "n_seeds": 2}])
    ['UCB1, Thompson · 30k impressions · 2 seeds']
    """
    if not isinstance(configs, Sequence) or isinstance(configs, str | Mapping):
        raise TypeError(f"`configs` must be a sequence of mappings; got {type(configs).__name__}.")
    if not all(isinstance(c, Mapping) for c in configs):
        raise TypeError("`configs` must be a sequence of mappings; got an item that is not.")
    if len(configs) == 1:
        (config,) = configs
        keys = [k for k in _MAIN if k in config and not (k == "budget" and config[k] is None)]
        words = [format_setting(k, config[k]) for k in keys]
        scale = _world_scale(config.get("world"))
        if scale is not None:  # a run in another world than the default is named so
            words.append(scale)
        return [" · ".join(words) or "run"]
    keys = differing_settings(configs)
    if not keys:
        return ["same settings"] * len(configs)
    missing = "–"
    return [
        " · ".join(format_setting(k, c[k]) if k in c else f"{k} {missing}" for k in keys)
        for c in configs
    ]


def saved_run_name(name: Any, config: Any) -> str:
    """A saved run's name, or one made from its settings (runs saved without ``--name``).

    Every picker of saved runs (the Results page, the Off-policy evaluation page) names a
    run so: one saved from the command line without a name reads by what it ran, not
    "run".

    Parameters
    ----------
    name : object
        The run's stored name (None, empty or ``"None"``: none given).
    config : mapping
        The run's config dict.

    Returns
    -------
    name : str
        ``name``, else :func:`run_label` of ``config``, else ``"run"`` (a config that is
        no mapping).

    Examples
    --------
    >>> saved_run_name("spring test", {})
    'spring test'
    >>> saved_run_name(None, {"policies": ["ucb1"], "n_impressions": 2000, "n_seeds": 2})
    'UCB1 · 2,000 impressions · 2 seeds'
    """
    if isinstance(name, str) and name.strip() and name != "None":
        return name
    try:
        return run_label([dict(config)])[0]
    except (TypeError, ValueError):
        return "run"
