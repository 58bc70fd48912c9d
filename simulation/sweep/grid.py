"""Sweep grids: a base configuration and a cartesian product of settings, validated up front.

A grid file is a config TOML (the keys of ``run --config``, ``preset`` and the
``[world]`` table included) plus::

    worlds = 2          # independent worlds per grid point (default 1)
    seeds = 3           # replications per world (n_seeds by another name; never both)

    [grid]
    n_impressions = [20_000, 80_000]
    n_segments = [2, 6]
    "world.personalization_scale" = [0.0, 1.0, 2.0]

A dotted key names a field of a nested table (``world.X`` is ``[world] X``); it may
be quoted (``"world.X" = [...]``) or written as TOML's own dotted key
(``world.X = [...]``, which TOML reads as a nested table: it is flattened back).
Two values of one key that are the same setting are refused, like any repeated
value: numbers compare by value (``[1, 1.0]``), policy specs as the run takes them
(``epsilon_greedy(epsilon = 0.050)`` is ``epsilon_greedy(epsilon=0.05)``, the canonical
text, and ``epsilon_greedy``, whose default it writes out), and lists of policies or
levels in any order (a run's numbers do not depend on it: each policy and level draws
from its own named stream; only its rows' order does).

Input files (``segments_file``, ``catalogue_file``, ``templates_file``) are read
when the grid is parsed, at every grid point, as ``run`` reads them: a missing or
bad file is one error naming the point and the file; a segments file sets the
point's ``n_segments``; and each run's key includes the sha256 of every file the
run reads, so a changed file means new runs, never a stale stored result.
Every combination of the ``[grid]`` lists, times each world, is one run of
:func:`simulation.engine.run_experiment`. Each run's seed derives from the base
seed, a stable hash of its grid point's settings (not their spelling: ``1e3`` and
``1000`` of a float setting are one point) and the world's index, never from the
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

from simulation.config import INPUT_FIELDS, PRESETS, ExperimentConfig, canonical_policy
from simulation.ope.limits import MAX_CONFIG_BYTES, open_bounded, shorten
from simulation.unknown_keys import unknown_keys_message

__all__ = [
    "MAX_RUNS",
    "GridPoint",
    "SweepPlan",
    "SweepRun",
    "grid_fingerprint",
    "load_grid",
    "parse_grid",
]

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
        16 hex digits of the SHA-256 of the canonical JSON of the point's settings
        (:func:`_seed_value`: two spellings of one setting are one point, and one seed).
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
        SHA-256 (hex) of the resolved config and of the content (sha256) of each
        input file it names: the name of the run's stored file, so a stored result
        always belongs to exactly these settings and these files.
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


def _flatten(grid: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"world": {"x": [1]}}`` (TOML's unquoted ``world.x = [1]``) -> ``{"world.x": [1]}``."""
    out: dict[str, Any] = {}
    for key, value in grid.items():
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _as_setting(value: object) -> object:
    """``value`` as the config compares it: numbers by value (1 and 1.0 are one setting)."""
    if isinstance(value, list):
        return [_as_setting(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_setting(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and float(value) == value:
        return float(value)  # exact: 2**60 + 1 stays an int, distinct from 2**60
    return value


def _point_inputs(
    config: ExperimentConfig, keys: tuple[str, ...], cache: dict
) -> tuple[ExperimentConfig, dict[str, str]]:
    """Check a point's input files as ``run`` does; return its config fitted to them.

    Returns the config (a segments file sets ``n_segments``) and each file's kind ->
    sha256. Each distinct (files, audience) is read once per parse.
    """
    from simulation.inputs import resolve_inputs

    named = tuple(getattr(config, f) for f in INPUT_FIELDS)
    if all(path is None for path in named):
        return config, {}
    if config.segments_file is not None and "n_segments" in keys:
        raise ValueError(
            "`n_segments` varies in the grid, and the segments file sets it "
            f"({config.segments_file}): vary one or the other."
        )
    cache_key = (named, config.n_users, config.n_segments)
    if cache_key not in cache:
        resolved, inputs = resolve_inputs(config)
        digests = {kind: record["sha256"] for kind, record in inputs.files.items()}
        cache[cache_key] = (resolved.n_segments, digests)
    n_segments, digests = cache[cache_key]
    return config.replace(n_segments=n_segments), digests


#: Grid keys whose values are lists of names in no meaningful order (as settings).
UNORDERED_KEYS: tuple[str, ...] = ("policies", "levels")


def _policy_setting(spec: object) -> str:
    """A policy spec as a setting: its policy, whether per segment, and every hyperparameter.

    Defaults are filled in (``epsilon_greedy`` is ``epsilon_greedy(epsilon=0.1)``),
    hyperparameters compare in any order and numbers by value (``prior_alpha=2`` is
    ``prior_alpha=2.0``): such spellings are one experiment, as each draws from the stream
    of the spec without its settings. A spec that does not parse (``mvt_ts``, or one the
    config will refuse) is its canonical text.
    """
    from simulation.policies import POLICIES, PolicySpec

    try:
        parsed = PolicySpec.parse(spec)
        policy = POLICIES[parsed.name](**dict(parsed.params))
        values = {f.name: getattr(policy, f.name) for f in dataclasses.fields(policy) if f.init}
        return canonical_json([parsed.per_segment, parsed.name, _as_setting(values)])
    except (ValueError, TypeError):
        return canonical_json(canonical_policy(spec))


def _setting_of(key: str, value: object) -> tuple[object, object]:
    """``value`` of grid key ``key`` as the run takes it, and as settings compare.

    Returns the value with each policy spec in its canonical text (what the run and its
    table name it), and the form that two values of one setting share: numbers by value,
    policy specs by :func:`_policy_setting`, lists of policies or levels in any order
    (their order changes only the order of a run's rows, never its numbers).
    """
    if key in UNORDERED_KEYS and isinstance(value, list):
        if key == "policies":
            return [canonical_policy(v) for v in value], sorted(map(_policy_setting, value))
        if all(isinstance(v, str) for v in value):
            return value, sorted(value)
    return value, _as_setting(value)


def _field_type(key: str, base: ExperimentConfig) -> str:
    """The annotation of the config field grid key ``key`` names (``"float | None"``).

    ``key`` has passed :func:`_check_key`; the annotations are strings (postponed).
    """
    target: object = base
    *tables, name = key.split(".")
    for table in tables:
        target = getattr(target, table)
    return str({f.name: f.type for f in dataclasses.fields(target)}[name])


def _seed_value(key: str, value: object, field_type: str) -> object:
    """``value`` of grid key ``key`` as its point's id (and so its runs' seeds) takes it.

    The duplicate check's form (:func:`_setting_of`): two spellings of one setting
    (``1e3`` and ``1000`` of a float setting, a policy spec with or without its
    defaults, a list of policies or levels in another order) are one point, with one
    seed. Except that the value of an integer setting stays as written: it has no other
    spelling (the config refuses ``1e3`` there). So a point whose numbers are written as
    their settings' type (integers as integers, floats as floats) and whose ``levels``
    are in sorted order keeps the seed it had when seeds came from the spelling; a
    point that varies ``policies`` does not (their form is the parsed specs').
    """
    if field_type.split(" ")[0] == "int":
        return value
    return _setting_of(key, value)[1]


def _check_values(name: str, values: object, key: str = "") -> list[Any]:
    """``values`` (of grid key ``key``) must be a non-empty list without repeats.

    Messages call the key ``name``. A value repeated as written is "the value X twice";
    two spellings of one setting name both and what they are.
    """
    if not isinstance(values, list):
        raise ValueError(f"{name} must be a list of values; got {values!r}.")
    if not values:
        raise ValueError(f"{name} must be a non-empty list; got [].")
    seen: dict[str, object] = {}
    for v in values:
        # Compared as settings: [1, 1.0] would be two points of one experiment,
        # shown as the same value in the table.
        text = canonical_json(_setting_of(key, v)[1])
        if text in seen:
            first = seen[text]
            if canonical_json(first) == canonical_json(v):
                raise ValueError(f"{name} has the value {v!r} twice.")
            raise ValueError(
                f"{name} has one setting twice: {first!r} and {v!r} {_same(key, first, v)}."
            )
        seen[text] = v
    return values


def _same(key: str, first: object, value: object) -> str:
    """What two spellings of one setting both are (the end of the duplicate message)."""
    if key not in UNORDERED_KEYS or not isinstance(value, list):
        return f"are both {_as_setting(value)!r}"
    one, two = _setting_of(key, first)[0], _setting_of(key, value)[0]
    names = ", ".join(map(str, one))
    if one == two:
        return f"are both {names}"
    if sorted(map(str, one)) == sorted(map(str, two)):
        return (
            f"are both {names} (their order does not change the experiment, only its rows' order)"
        )
    return (
        "are the same policies with the same settings (defaults written out or not, "
        "numbers by value, in any order)"
    )


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


def grid_fingerprint(data: dict[str, Any]) -> str:
    """:attr:`SweepPlan.fingerprint` of a parsed grid file, without validating it."""
    return _digest(data)


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
        if "n_seeds" in data:
            # One would silently win over the other: say so rather than pick.
            raise ValueError(
                f"the grid sets both `seeds` ({seeds!r}) and `n_seeds` ({data['n_seeds']!r}); "
                "`seeds` is another name for `n_seeds`: keep one."
            )
        data["n_seeds"] = _check_count("seeds", seeds)
    preset = data.pop("preset", None)
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}.")
    preset_config = PRESETS[preset or "default"]
    base = ExperimentConfig.from_dict(data, base=preset_config)
    grid = _flatten(grid)
    for key, values in grid.items():
        _check_key(key, base)
        _check_values((names or {}).get(key, f"`grid.{key}`"), values, key)
    keys = tuple(grid)
    field_types = {key: _field_type(key, base) for key in keys}
    n_points = math.prod(len(v) for v in grid.values())
    if n_points * worlds > MAX_RUNS:
        raise ValueError(
            f"the grid has {n_points:,} combinations x {worlds} world(s) = "
            f"{n_points * worlds:,} runs; at most {MAX_RUNS:,} are allowed."
        )
    base_dict = base.to_dict()
    points, runs = [], []
    files: dict = {}
    label = names or {}
    for index, combo in enumerate(itertools.product(*grid.values())):
        values = tuple(zip(keys, combo))
        # From the settings, not their spelling: 1e3 and 1000 of a float setting are one
        # point and one seed (the duplicate check already calls them one setting).
        point_id = _digest({k: _seed_value(k, v, field_types[k]) for k, v in values})[:16]
        point = GridPoint(index=index, values=values, point_id=point_id)
        try:
            config = ExperimentConfig.from_dict(_merge(base_dict, _nested(values)))
            config, digests = _point_inputs(config, keys, files)
        except (ValueError, TypeError) as exc:
            message = str(exc)
            shown = ", ".join(f"{label.get(k, k)}={v!r}" for k, v in values)
            for key, name in label.items():  # the config's `key` as the reader labels it
                message = message.replace(f"`{key}`", name)
            raise ValueError(f"grid point ({shown}): {message}") from None
        points.append(point)
        for world in range(worlds):
            resolved = config.replace(seed=_derived_seed(config.seed, point_id, world))
            # Without input files the key is the config's alone (runs stored before
            # file digests were keyed stay valid); with files, their content too.
            keyed = (
                resolved.to_dict()
                if not digests
                else {
                    "config": resolved.to_dict(),
                    "input_sha256": digests,
                }
            )
            runs.append(SweepRun(point=point, world=world, config=resolved, run_key=_digest(keyed)))
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
        A missing, irregular (``/dev/zero``), oversized or unreadable file, malformed
        TOML, an invalid grid, or an input file missing or bad at some grid point.
    """
    path = Path(path)
    shown = shorten(str(path))
    if not path.exists():
        raise ValueError(f"grid file not found: {shown}")
    try:
        # As ``run --config`` reads a config: a regular file of bounded size, checked
        # while read (``/dev/zero`` or a FIFO is refused, not read without end).
        with open_bounded(path, max_bytes=MAX_CONFIG_BYTES, max_line=None, what="grid file") as fh:
            text = fh.read().decode("utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"malformed TOML in {shown}: {shorten(exc, 200)}") from None
    except RecursionError:
        raise ValueError(f"malformed TOML in {shown}: nested too deeply.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read grid file {shown}: {shorten(exc)}") from None
    try:
        return parse_grid(data), text
    except TypeError as exc:
        raise ValueError(str(exc)) from None
