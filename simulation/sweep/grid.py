"""Sweep grids: a base configuration and a cartesian product of settings, validated up front.

A grid file is a config TOML (the keys of ``run --config``, ``preset`` and the
``[world]`` table included) plus::

    worlds = 2          # independent worlds per grid point (default 1)
    seeds = 3           # replications per world (sets n_seeds; default: the base's)

    [grid]
    n_impressions = [20_000, 80_000]
    n_segments = [2, 6]
    "world.personalization_scale" = [0.0, 1.0, 2.0]

A dotted key names a field of a nested table (``world.X`` is ``[world] X``).
Every combination of the ``[grid]`` lists, times each world, is one run of
:func:`simulation.engine.run_experiment`. Each run's seed derives from the base
seed, a stable hash of its grid point and the world's index, never from the
order in which runs execute, so a sweep gives the same numbers on any backend.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation.config import PRESETS, ExperimentConfig
from simulation.unknown_keys import unknown_keys_message

__all__ = ["MAX_RUNS", "GridPoint", "SweepPlan", "SweepRun", "load_grid", "parse_grid"]

#: Most runs (combinations x worlds) one sweep may hold.
MAX_RUNS = 10_000
#: Keys of a grid file besides the config's own.
SWEEP_KEYS: tuple[str, ...] = ("grid", "worlds", "seeds")


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no spaces: the same text for the same data, always."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _digest(value: object) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class GridPoint:
    """One combination of the grid's values.

    Attributes
    ----------
    index : int
        Position in the cartesian product (the grid file's order): rows sort by it.
    values : tuple of (str, object)
        ``(key, value)`` in the grid's key order; values as read from TOML.
    point_id : str
        16 hex digits of the SHA-256 of the point's canonical JSON.
    """

    index: int
    values: tuple[tuple[str, Any], ...]
    point_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepRun:
    """One unit of work: a grid point in one world, as a fully resolved config.

    Attributes
    ----------
    point : GridPoint
    world : int
        Index of the world, in ``[0, worlds)``.
    config : ExperimentConfig
        The point's config with its derived seed.
    run_key : str
        SHA-256 (hex) of the resolved config: the name of the run's stored file,
        so a stored result always belongs to exactly these settings.
    """

    point: GridPoint
    world: int
    config: ExperimentConfig
    run_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepPlan:
    """A validated sweep: its grid, every run, and the canonical form of the file.

    Attributes
    ----------
    keys : tuple of str
        Grid keys in file order (dotted for nested tables).
    points : tuple of GridPoint
    runs : tuple of SweepRun
        ``len(points) * worlds`` runs, point-major.
    worlds : int
    base : ExperimentConfig
        The base configuration (grid values not applied).
    fingerprint : str
        SHA-256 of the parsed grid file: two files with the same settings (comments
        and spacing aside) have the same fingerprint.
    """

    keys: tuple[str, ...]
    points: tuple[GridPoint, ...]
    runs: tuple[SweepRun, ...]
    worlds: int
    base: ExperimentConfig
    fingerprint: str


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"`{name}` must be an int in [1, 100]; got {value!r}.")
    return value


def _check_key(key: object, base: ExperimentConfig) -> None:
    """A grid key must name a config field, or ``table.field`` of a nested table."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"grid keys must be non-empty str; got {key!r}.")
    if key == "preset":
        raise ValueError("`grid.preset` cannot vary: set `preset` once, outside [grid].")
    target: object = base
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(target):
            raise ValueError(f"unknown grid key {key!r}: {'.'.join(parts[:depth])} is not a table.")
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            where = ".".join(parts[:depth])
            prefix = f"{where}." if where else ""  # keys as the grid writes them
            raise ValueError(unknown_keys_message("grid", [part], names, prefix=prefix))
        target = getattr(target, part)
    if dataclasses.is_dataclass(target):
        raise ValueError(
            f"grid key {key!r} is a table: vary its fields with dotted keys such as "
            f"'{key}.{dataclasses.fields(target)[0].name}'."
        )


def _check_values(name: str, values: object) -> list[Any]:
    """``values`` must be a non-empty list without repeats; messages call it ``name``."""
    if not isinstance(values, list):
        raise ValueError(f"{name} must be a list of values; got {values!r}.")
    if not values:
        raise ValueError(f"{name} must be a non-empty list; got [].")
    seen = set()
    for v in values:
        text = canonical_json(v)
        if text in seen:
            raise ValueError(f"{name} has the value {v!r} twice.")
        seen.add(text)
    return values


def _nested(point: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """``(("world.x", 1), ("n_users", 5))`` -> ``{"world": {"x": 1}, "n_users": 5}``."""
    out: dict[str, Any] = {}
    for key, value in point:
        *tables, name = key.split(".")
        node = out
        for table in tables:
            node = node.setdefault(table, {})
        node[name] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _derived_seed(base_seed: int, point_id: str, world: int) -> int:
    """A 32-bit seed from the base seed, the point and the world (not the run order)."""
    entropy = [base_seed, int(point_id, 16), world]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def parse_grid(data: dict[str, Any], *, names: dict[str, str] | None = None) -> SweepPlan:
    """Validate a parsed grid file and expand it into runs.

    Parameters
    ----------
    data : dict
        The grid file's TOML, as parsed by :mod:`tomllib`.
    names : dict of str to str, optional
        How messages name a grid key: its list of values (default: ``grid.KEY``, as the
        file writes it) and its values at an invalid grid point (default: the key). The
        app passes the labels its fields show.

    Returns
    -------
    plan : SweepPlan

    Raises
    ------
    ValueError, TypeError
        For the first problem found, with a message naming it (an invalid value
        names the grid point it appears in).
    """
    if not isinstance(data, dict):
        raise TypeError(f"a grid must be a table of keys; got {type(data).__name__}.")
    fingerprint = _digest(data)
    data = copy.deepcopy(data)
    grid = data.pop("grid", None)
    if not isinstance(grid, dict) or not grid:
        raise ValueError("a sweep needs a non-empty [grid] table of lists of values.")
    worlds = _check_count("worlds", data.pop("worlds", 1))
    seeds = data.pop("seeds", None)
    if seeds is not None:
        data["n_seeds"] = _check_count("seeds", seeds)
    preset = data.pop("preset", None)
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}.")
    preset_config = PRESETS[preset or "default"]
    base = ExperimentConfig.from_dict(data, base=preset_config)
    for key, values in grid.items():
        _check_key(key, base)
        _check_values((names or {}).get(key, f"`grid.{key}`"), values)
    keys = tuple(grid)
    n_points = math.prod(len(v) for v in grid.values())
    if n_points * worlds > MAX_RUNS:
        raise ValueError(
            f"the grid has {n_points:,} combinations x {worlds} world(s) = "
            f"{n_points * worlds:,} runs; at most {MAX_RUNS:,} are allowed."
        )
    base_dict = base.to_dict()
    points, runs = [], []
    for index, combo in enumerate(itertools.product(*grid.values())):
        values = tuple(zip(keys, combo))
        point_id = _digest(dict(values))[:16]
        point = GridPoint(index=index, values=values, point_id=point_id)
        try:
            config = ExperimentConfig.from_dict(_merge(base_dict, _nested(values)))
        except (ValueError, TypeError) as exc:
            label = names or {}
            shown = ", ".join(f"{label.get(k, k)}={v!r}" for k, v in values)
            message = str(exc)
            for key, name in label.items():  # the config's `key` as the reader labels it
                message = message.replace(f"`{key}`", name)
            raise ValueError(f"grid point ({shown}): {message}") from None
        points.append(point)
        for world in range(worlds):
            resolved = config.replace(seed=_derived_seed(config.seed, point_id, world))
            runs.append(
                SweepRun(
                    point=point,
                    world=world,
                    config=resolved,
                    run_key=_digest(resolved.to_dict()),
                )
            )
    return SweepPlan(
        keys=keys,
        points=tuple(points),
        runs=tuple(runs),
        worlds=worlds,
        base=base,
        fingerprint=fingerprint,
    )


def load_grid(path: str | Path) -> tuple[SweepPlan, str]:
    """Read and validate a grid TOML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    plan : SweepPlan
    text : str
        The file's text, as read (kept beside the results).

    Raises
    ------
    ValueError
        An unreadable file, malformed TOML or an invalid grid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ValueError(f"grid file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"malformed TOML in {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read grid file {path}: {exc}") from None
    try:
        return parse_grid(data), text
    except TypeError as exc:
        raise ValueError(str(exc)) from None
