"""Frozen, validated experiment configuration, presets and TOML loading.

Files and command-line flags are parsed into :class:`ExperimentConfig` at the
boundary; everything inside trusts it. Frozen configs are hashable, which is
what the app's caches key on.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.generated.policies import GENERATED_POLICIES
from simulation.ope.limits import MAX_CONFIG_BYTES, open_bounded, shorten
from simulation.policies import POLICIES, PolicySpec
from simulation.policies.spec import SEGMENT_PREFIX
from simulation.unknown_keys import did_you_mean, unknown_keys_message
from simulation.world import WorldConfig

__all__ = [
    "DEFAULT_LEVELS",
    "INPUT_FIELDS",
    "LEVELS",
    "MAX_PATH_CHARS",
    "MAX_POLICIES",
    "MAX_WORLDS",
    "OBJECTIVES",
    "PRESETS",
    "SPACES",
    "ExperimentConfig",
    "applies",
    "canonical_policy",
    "load_config",
]

#: Personalization levels, from none to one creative per user, to one composed per impression.
LEVELS: tuple[str, ...] = ("generic", "segment", "user", "generated")
#: The levels run unless asked otherwise (``generated`` is opt-in).
DEFAULT_LEVELS: tuple[str, ...] = ("generic", "segment", "user")
#: Component spaces of the generated level: the creative studio's ten axes, or
#: Hill et al.'s 48 page layouts (tone x offer x layout, the same for every user).
SPACES: tuple[str, ...] = ("default", "hill48")
OBJECTIVES: tuple[str, ...] = ("ctr", "roas")
PRICING: tuple[str, ...] = ("cpm", "cpc")
#: Most worlds one experiment is repeated in.
MAX_WORLDS: int = 20
#: Most policy specs one experiment may list: every spec runs at every level and seed,
#: so an unbounded list (a script's generated grid of settings) is an unbounded run.
#: Variants of one policy past a few dozen belong in a sweep (docs/sweeps.md).
MAX_POLICIES: int = 50
#: Longest input file path (Linux's PATH_MAX).
MAX_PATH_CHARS: int = 4_096
#: Config fields naming the user's own input files, by kind of input.
INPUT_FIELDS: dict[str, str] = {
    "segments_file": "segments",
    "catalogue_file": "catalogue",
    "templates_file": "templates",
}


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"`{name}` must be an int in [{low:,}, {high:,}]; got {value!r}.")


#: Policies that compose creatives at the generated level (not in the pool registry).
_COMPOSING_ONLY = frozenset(GENERATED_POLICIES) - frozenset(POLICIES)


def applies(level: str, spec: str) -> bool:
    """Whether policy ``spec`` plays level ``level``.

    The generated level takes the composing policies only; the pool levels
    (generic, segment, user) the fixed-pool ones (``uniform`` and ``oracle`` are both).

    Examples
    --------
    >>> applies("generated", "mvt_ts"), applies("segment", "mvt_ts"), applies("user", "uniform")
    (True, False, True)
    >>> applies("user", "segment:thompson(prior_alpha=2)"), applies("generated", "ucb1(alpha=0.5)")
    (True, False)
    """
    if level == "generated":
        return spec in GENERATED_POLICIES
    # The registry name, without a per-segment prefix or settings.
    return spec.removeprefix(SEGMENT_PREFIX).partition("(")[0].strip() in POLICIES


def canonical_policy(text: object) -> object:
    """``text`` as the config keeps a policy spec, when it parses; else ``text`` unchanged.

    The command line and TOML files take a spec as typed (``epsilon_greedy(epsilon=.05)``,
    spaces anywhere): its canonical text (``epsilon_greedy(epsilon=0.05)``) names the
    policy in every table and in the store. Text that does not parse is left for the
    config's check, which says what is wrong with it.

    Examples
    --------
    >>> canonical_policy(" thompson( prior_alpha=2,prior_beta=3 )")
    'thompson(prior_alpha=2, prior_beta=3)'
    >>> canonical_policy("mvt_ts"), canonical_policy("nonsense(")
    ('mvt_ts', 'nonsense(')
    """
    if not isinstance(text, str) or text.strip() in _COMPOSING_ONLY:
        return text.strip() if isinstance(text, str) else text
    try:
        return str(PolicySpec.parse(text))
    except (ValueError, TypeError):
        return text


def _check_policy_spec(spec: object) -> PolicySpec | None:
    if isinstance(spec, str) and spec in _COMPOSING_ONLY:
        return None  # e.g. mvt_ts: the generated level only, no per-segment copy
    if isinstance(spec, str) and spec.partition("(")[0].strip() in _COMPOSING_ONLY:
        name = spec.partition("(")[0].strip()
        raise ValueError(
            f"{name} takes no settings in a spec (it plays the generated level); got {spec!r}."
        )
    try:
        parsed = PolicySpec.parse(spec)
    except ValueError as exc:
        if not str(exc).startswith("unknown policy "):
            raise
        # The pool policies' registry does not know the composing ones: name them too.
        pool = sorted(n for n, c in POLICIES.items() if not c.wraps_policies)
        meant = did_you_mean(str(spec).removeprefix("segment:"), [*pool, *_COMPOSING_ONLY])
        raise ValueError(
            f"unknown policy {spec!r}{meant}; choose from {pool} or {sorted(_COMPOSING_ONLY)} "
            "(the generated level only), or 'segment:NAME' for one copy per segment."
        ) from None
    # The text is the policy's name in every table, the uplift's pairing across levels
    # and the run store: one spelling per spec (canonical_policy gives it).
    if str(parsed) != spec:
        raise ValueError(f"policy spec must be written {str(parsed)!r}; got {spec!r}.")
    return parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentConfig:
    """Everything that defines an experiment.

    Parameters
    ----------
    seed : int, default=0
        The one seed: the population, the hidden response parameters, the
        creatives and every replication's draws derive from it.
    n_users : int, default=20_000
        Size of the synthetic audience impressions are drawn from.
    n_segments : int, default=6
        Segments found by k-means.
    levels : tuple of str, default=("generic", "segment", "user")
        Personalization levels to compare, from :data:`LEVELS`; ``generated``
        (each impression's creative composed from components) is opt-in.
    policies : tuple of str, default=("uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb")
        Policy specs (:mod:`simulation.policies.spec`): registry names, ``"segment:NAME"``
        for one copy of NAME per segment, and settings in brackets
        (``"epsilon_greedy(epsilon=0.05)"``), in canonical text (:func:`canonical_policy`).
        Two specs of one policy with different settings run side by side, as distinct
        rows, on the same users and outcomes.
        Names of ``simulation.generated.GENERATED_POLICIES`` (``mvt_ts``) run at the
        generated level only, and fixed-pool policies at the pool levels only
        (``uniform`` and ``oracle`` at both): other pairs are skipped with a note.
        Stored as given; :attr:`policy_specs` has the pool policies parsed. At most
        :data:`MAX_POLICIES` (50) specs.
    n_impressions : int, default=300_000
        Impressions per (seed, level, policy).
    batch_size : int, default=1_000
        Policies update every ``batch_size`` impressions (delayed feedback).
    n_seeds : int, default=3
        Replications; intervals are across them.
    n_worlds : int, default=1
        Worlds the experiment is repeated in (at most :data:`MAX_WORLDS`). A
        world is a draw of the hidden response parameters and of the
        creatives (and of its replications' users and outcomes); the audience
        (users and segments) stays the same. World 0 is the world of ``seed``
        itself, so one world gives exactly the single-world run; world ``w > 0``
        draws from the seed ``stream(seed, "world", w)`` gives. With several
        worlds, intervals cover seeds and worlds.
    objective : {"ctr", "roas"}, default="ctr"
        What the policies learn to maximize: clicks, or net value per impression.
    pricing : {"cpm", "cpc"}, default="cpm"
    budget : float or None, default=None
        Spend cap (USD) per (seed, level, policy); serving stops when reached.
    conversion_delay : int, default=0
        Impressions between an impression and its feedback reaching the policy.
    n_variants : int, default=5
        Creatives (arms) per level: generic variants, variants per segment, and
        per-user strategies.
    n_checkpoints : int, default=60
        Points of the time series.
    world : WorldConfig, default=WorldConfig()
        Effect sizes of the simulated funnel (the ``[world]`` table of a TOML file).
    space : {"default", "hill48"}, default="default"
        The generated level's component space (:data:`SPACES`).
    segments_file : str or None, default=None
        A segments file (CSV or TOML, as ``creative.read_audiences`` reads): the
        audience is drawn around its segments
        (:func:`~simulation.population.population_from_segments`) instead of
        clustered; ``n_segments`` must equal its number of segments
        (:func:`simulation.inputs.resolve_inputs` sets it).
    catalogue_file : str or None, default=None
        A product catalogue CSV (``creative.catalogue.read_catalogue``): the
        creatives advertise its products and order values follow its prices.
    templates_file : str or None, default=None
        A copy-templates TOML (``creative.load_templates``), extending the bundled ones.
    regenerate_every : int or None, default=None
        Regenerate the pool levels (``generic``, ``segment``) every this many
        impressions (rounded to whole batches): each policy's weakest creatives, by
        what it observed, are retired and children of its best, one or two
        components changed, take their slots (:mod:`simulation.engine.regen`).
        None: fixed pools. In [``batch_size``, ``n_impressions``].

    The three files are read when the world is built; that they exist and parse is
    checked at the boundary (:func:`simulation.inputs.resolve_inputs`), and their
    content hashes are recorded with the run.
    """

    seed: int = 0
    n_users: int = 20_000
    n_segments: int = 6
    levels: tuple[str, ...] = DEFAULT_LEVELS
    policies: tuple[str, ...] = ("uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb")
    n_impressions: int = 300_000
    batch_size: int = 1_000
    n_seeds: int = 3
    n_worlds: int = 1
    objective: str = "ctr"
    pricing: str = "cpm"
    budget: float | None = None
    conversion_delay: int = 0
    n_variants: int = 5
    n_checkpoints: int = 60
    world: WorldConfig = field(default_factory=WorldConfig)
    space: str = "default"
    segments_file: str | None = None
    catalogue_file: str | None = None
    templates_file: str | None = None
    regenerate_every: int | None = None

    def __post_init__(self) -> None:
        # numpy's numbers (a value from an array or a frame) are the numbers they hold;
        # stored as Python's, so the config still writes to JSON and TOML.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.integer):
                object.__setattr__(self, f.name, int(value))
            elif isinstance(value, np.floating):
                object.__setattr__(self, f.name, float(value))
        if not isinstance(self.world, WorldConfig):
            raise TypeError(f"`world` must be a WorldConfig; got {type(self.world).__name__}.")
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_int("n_users", self.n_users, 100, 5_000_000)
        _check_int("n_segments", self.n_segments, 1, 50)
        if self.n_segments > self.n_users // 10:
            raise ValueError(
                f"`n_segments` must be at most n_users / 10 = {self.n_users // 10}; "
                f"got {self.n_segments}."
            )
        for name, allowed in (("levels", LEVELS), ("policies", None)):
            value = getattr(self, name)
            if (
                not isinstance(value, tuple)
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                raise ValueError(f"`{name}` must be a non-empty tuple of str; got {value!r}.")
            if name == "policies" and len(value) > MAX_POLICIES:
                raise ValueError(
                    f"`policies` must hold at most {MAX_POLICIES} specs; got {len(value):,}."
                )
            if len(set(value)) != len(value):
                raise ValueError(f"`{name}` has duplicates: {list(value)}.")
            if allowed is not None:
                bad = [v for v in value if v not in allowed]
                if bad:
                    meant = did_you_mean(bad[0], allowed)
                    raise ValueError(f"unknown level(s) {bad}{meant}; choose from {list(allowed)}.")
        seen: dict[tuple, str] = {}
        for spec in self.policies:
            parsed = _check_policy_spec(spec)
            if parsed is None:
                continue
            # Two texts of one policy (a setting written at its default) would run two
            # identical rows under two names.
            key = (parsed.per_segment, parsed.name, parsed.settings)
            if key in seen:
                raise ValueError(
                    f"`policies` lists one policy twice: {seen[key]!r} and {spec!r} have the "
                    "same settings once defaults are filled in; keep one."
                )
            seen[key] = spec
        if not any(applies(lv, p) for lv in self.levels for p in self.policies):
            # Each pair that does not apply is skipped with a note; with none left the run
            # would save an empty experiment.
            raise ValueError(
                f"no chosen policy plays a chosen level: {', '.join(self.policies)} at "
                f"{', '.join(self.levels)} (mvt_ts plays the generated level only, the pool "
                "policies the generic, segment and user levels; uniform and oracle play all)."
            )
        _check_int("n_impressions", self.n_impressions, 1, 10_000_000_000)
        _check_int("batch_size", self.batch_size, 1, 1_000_000)
        if self.batch_size > self.n_impressions:
            raise ValueError(
                f"`batch_size` ({self.batch_size:,}) must not exceed `n_impressions` "
                f"({self.n_impressions:,})."
            )
        _check_int("n_seeds", self.n_seeds, 1, 100)
        _check_int("n_worlds", self.n_worlds, 1, MAX_WORLDS)
        if self.objective not in OBJECTIVES:
            raise ValueError(
                f"`objective` must be one of {list(OBJECTIVES)}; got {self.objective!r}."
            )
        if self.pricing not in PRICING:
            raise ValueError(f"`pricing` must be one of {list(PRICING)}; got {self.pricing!r}.")
        if self.budget is not None and (
            isinstance(self.budget, bool)
            or not isinstance(self.budget, int | float)
            or not 0 < self.budget <= 1e12
        ):
            raise ValueError(f"`budget` must be None or a float in (0, 1e12]; got {self.budget!r}.")
        _check_int("conversion_delay", self.conversion_delay, 0, 100_000_000)
        _check_int("n_variants", self.n_variants, 2, 20)
        _check_int("n_checkpoints", self.n_checkpoints, 2, 1_000)
        if self.space not in SPACES:
            raise ValueError(f"`space` must be one of {list(SPACES)}; got {self.space!r}.")
        if self.regenerate_every is not None:
            _check_int(
                "regenerate_every", self.regenerate_every, self.batch_size, self.n_impressions
            )
            if not any(lv in ("generic", "segment") for lv in self.levels):
                raise ValueError(
                    "`regenerate_every` applies to the generic and segment levels; "
                    f"levels are {list(self.levels)}."
                )
        for name in INPUT_FIELDS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"`{name}` must be None or a file path (str); got {value!r}.")
            if value is not None and len(value) > MAX_PATH_CHARS:
                # Longer than any path the system opens; the error would echo all of it.
                raise ValueError(
                    f"`{name}` must be a file path of at most {MAX_PATH_CHARS:,} characters; "
                    f"got {len(value):,}."
                )

    @property
    def policy_specs(self) -> tuple[PolicySpec, ...]:
        """:attr:`policies` of the registry parsed, in order (composing-only names left out)."""
        return tuple(PolicySpec.parse(s) for s in self.policies if s not in _COMPOSING_ONLY)

    @property
    def n_batches(self) -> int:
        """Number of rounds (the last batch may be shorter)."""
        return -(-self.n_impressions // self.batch_size)

    def replace(self, **changes: Any) -> ExperimentConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists for tuples), as written to ``run.json``."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, base: ExperimentConfig | None = None
    ) -> ExperimentConfig:
        """Build from plain data; unknown keys are an error naming them."""
        if not isinstance(data, dict):
            raise TypeError(f"a config must be a table of keys; got {type(data).__name__}.")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown:
            hints = {"grid": "a [grid] table is read by `python -m simulation sweep`"}
            raise ValueError(unknown_keys_message("config", unknown, fields, hints=hints))
        for key in ("levels", "policies"):
            if isinstance(data.get(key), str):  # TOML `policies = "thompson"`: one name, no list
                raise ValueError(
                    f"`{key}` must be a list of names, e.g. {key} = [{data[key]!r}]; "
                    f"got {data[key]!r}."
                )
        base = base or cls()
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if isinstance(values.get("policies"), tuple):  # as a file writes them, spaces and all
            values["policies"] = tuple(canonical_policy(p) for p in values["policies"])
        if isinstance(values.get("world"), dict):
            values["world"] = WorldConfig.from_dict(values["world"], base=base.world)
        return dataclasses.replace(base, **values)


#: Named starting points for the command line and the app.
PRESETS: dict[str, ExperimentConfig] = {
    "default": ExperimentConfig(),
    "quick": ExperimentConfig(n_users=5_000, n_impressions=30_000, n_seeds=2, n_checkpoints=20),
    "roas": ExperimentConfig(
        objective="roas", policies=("uniform", "thompson", "thompson_value", "lin_ts")
    ),
    # Hill et al. (KDD 2017): 48 layouts with pairwise interactions, the same for every
    # user (no user-dependent effects), content effects large enough to tell apart.
    "hill48": ExperimentConfig(
        levels=("generated",),
        policies=("uniform", "mvt_ts", "oracle"),
        space="hill48",
        n_impressions=100_000,
        world=WorldConfig(
            personalization_scale=0.0, tone_sd=0.15, layout_sd=0.15, tone_offer_sd=0.15
        ),
    ),
}


def load_config(path: str | Path, *, base: ExperimentConfig | None = None) -> ExperimentConfig:
    """Read a TOML file of :class:`ExperimentConfig` keys.

    Parameters
    ----------
    path : str or Path
        A TOML file whose top-level keys are config fields (a ``preset = "name"``
        key starts from that preset) and whose ``[world]`` table holds
        :class:`~simulation.world.WorldConfig` keys.
    base : ExperimentConfig, optional
        Values not in the file come from here (default: the default preset).

    Returns
    -------
    config : ExperimentConfig

    Raises
    ------
    ValueError
        For a missing file, one that is not a regular file or larger than
        ``MAX_CONFIG_BYTES`` (:mod:`simulation.ope.limits`), malformed or too
        deeply nested TOML, or bad values.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"config file not found: {shorten(str(path))}")
    try:
        # A regular file of at most MAX_CONFIG_BYTES, size checked while read.
        with open_bounded(
            path, max_bytes=MAX_CONFIG_BYTES, max_line=None, what="config file"
        ) as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"malformed TOML in {shorten(str(path))}: {shorten(exc, 200)}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ValueError(f"malformed TOML in {shorten(str(path))}: nested too deeply.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read config file {shorten(str(path))}: {shorten(exc)}") from None
    preset = data.pop("preset", None)
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}.")
        base = PRESETS[preset]
    return ExperimentConfig.from_dict(data, base=base)
