"""Widget values -> frozen, validated configs (no Streamlit here; pages call these).

Every check a page needs before running something lives here, so the pages stay thin and
the messages can be tested without a browser. Invalid input raises ``ValueError`` with a
message written for the person at the widgets; pages show it with ``st.error``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from simulation.config import LEVELS, MAX_WORLDS, OBJECTIVES, PRESETS, ExperimentConfig
from simulation.engine.core import WORLD_SETTINGS
from simulation.engine.generated import logged_pairs
from simulation.inputs import resolve_inputs
from simulation.policies import POLICIES
from simulation.world import WORLD_BOUNDS
from ui.policy_form import setting_problems

__all__ = [
    "APP_POLICIES",
    "DEFAULT_BUDGET",
    "DEFAULT_CONFIG",
    "FORM_LIMITS",
    "MAX_BUDGET",
    "MAX_LOG_ROWS",
    "OPE_LIMITS",
    "SCALE_LABEL",
    "SWEEP_LIMITS",
    "WorldSettings",
    "check_chosen",
    "experiment_config",
    "log_rows",
    "ope_numbers",
    "policy_settings",
    "policy_spec",
    "reward_range",
    "sweep_base",
    "whole_number",
    "world_config",
    "world_scale",
    "world_settings",
]

DEFAULT_CONFIG: ExperimentConfig = PRESETS["default"]
#: Policies offered in the app: the registry minus the per-segment wrapper (offered as
#: ``segment:NAME``) and the oracle (it reads the ground truth; kept for the CLI).
APP_POLICIES: tuple[str, ...] = (
    *(p for p in POLICIES if p not in ("per_segment", "oracle")),
    "segment:thompson",
    "mvt_ts",  # composes creatives: plays the generated level only
    "oracle",
)
#: Impression-level logs written from the app are capped (they are kept in the run store).
MAX_LOG_ROWS = 2_000_000
#: The app's limits on the form's numbers (checked here, so the reason is shown beside the
#: Run button instead of behind a widget's hover icon). The command line has the config's.
FORM_LIMITS: dict[str, tuple[int, int]] = {
    "Impressions": (1, 20_000_000),
    "Batch size": (1, 1_000_000),
    "Seeds": (1, 20),
    "Worlds": (1, MAX_WORLDS),
    "Variants": (2, 20),
    "Regenerate the pools every": (0, 20_000_000),
    "Conversion delay": (0, 10_000_000),
    "Chart points": (2, 500),
    "Population size": (100, 500_000),
    "Segments": (1, 50),
    "Seed": (0, 2**32 - 1),
}
#: The Off-policy evaluation form's numbers, checked the same way (the command line takes
#: up to simulation.ope.limits.MAX_BOOTSTRAP resamples; the page keeps an estimate quick).
OPE_LIMITS: dict[str, tuple[int, int]] = {
    "Bootstrap resamples": (50, 5_000),
    "Seed": (0, 2**32 - 1),
}
#: The largest spend cap the form takes (USD), the config's own bound.
MAX_BUDGET = 1e12
#: The Sweeps page's limits on its numbers, by label: tighter than one experiment's, since
#: the page runs up to 60 of them on this machine (bigger sweeps belong on the command line).
SWEEP_LIMITS: dict[str, tuple[int, int]] = {
    "Audience size": (500, 50_000),
    "Impressions": (1_000, 200_000),
    "Replications": (2, 10),
}
#: The spend cap offered when the cap is switched on (USD per policy and level). The
#: default run (300,000 impressions, CPM pricing) spends about $3,250 per policy and level
#: (docs/app.md has the measurement), so $4,000 does not cut it: the cap guards against
#: runaway settings; lower it to see a budget stop.
DEFAULT_BUDGET = 4_000.0


#: The World page's label of ``WorldConfig.personalization_scale`` (messages name it so).
SCALE_LABEL = "Personalization in the world"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorldSettings:
    """The simulated world every page shares: the audience and the hidden world's scale.

    ``seed``, ``n_users`` and ``n_segments`` are set on the Audience page;
    ``personalization_scale`` (``WorldConfig.personalization_scale``: 0 leaves nothing to
    personalize, 1 is the default world) on the World page.
    """

    seed: int = DEFAULT_CONFIG.seed
    n_users: int = DEFAULT_CONFIG.n_users
    n_segments: int = DEFAULT_CONFIG.n_segments
    personalization_scale: float = DEFAULT_CONFIG.world.personalization_scale

    def __post_init__(self) -> None:
        # ExperimentConfig and WorldConfig hold the rules (ranges, 10 users per segment).
        self.config()

    @property
    def is_default_world(self) -> bool:
        """Whether the hidden world is the default one (the scale at its default)."""
        return self.personalization_scale == DEFAULT_CONFIG.world.personalization_scale

    def config(self) -> ExperimentConfig:
        """The default experiment on this audience, in this world: what every page builds on.

        Returns
        -------
        config : ExperimentConfig
            ``DEFAULT_CONFIG`` with this seed, audience size, segments and
            ``world.personalization_scale``.
        """
        return DEFAULT_CONFIG.replace(
            seed=self.seed,
            n_users=self.n_users,
            n_segments=self.n_segments,
            world=DEFAULT_CONFIG.world.replace(personalization_scale=self.personalization_scale),
        )


def world_scale(value: object) -> float:
    """The World page's *Personalization in the world*, checked against ``WorldConfig``'s range.

    Parameters
    ----------
    value : object
        The widget's value (a number, or None when the box was emptied).

    Returns
    -------
    scale : float

    Raises
    ------
    ValueError
        E.g. ``Personalization in the world must be a number from 0 to 10; got 11.``
    """
    low, high = WORLD_BOUNDS["personalization_scale"]
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not number or not math.isfinite(value) or not low <= value <= high:
        got = f"{value:g}" if number else ("nothing" if value is None else repr(value))
        raise ValueError(f"{SCALE_LABEL} must be a number from {low:g} to {high:g}; got {got}.")
    return float(value)


def world_settings(
    *,
    n_users: object,
    n_segments: object,
    seed: object,
    personalization_scale: object = DEFAULT_CONFIG.world.personalization_scale,
) -> WorldSettings:
    """The Audience page's form as settings, each number checked under its label.

    ``personalization_scale`` is not on that form: the page passes the current one, so
    generating an audience keeps the hidden world the World page set.

    Raises
    ------
    ValueError
        With a message for the person at the form (the field named as labelled).
    """
    n_users, n_segments = _int("Population size", n_users), _int("Segments", n_segments)
    if n_segments * 10 > n_users:  # the config's rule, in the form's words
        raise ValueError(
            f"{n_users:,} users make at most {n_users // 10:,} segments (10 users each at "
            f"least); got {n_segments:,} segments."
        )
    return WorldSettings(
        seed=_int("Seed", seed),
        n_users=n_users,
        n_segments=n_segments,
        personalization_scale=world_scale(personalization_scale),
    )


def whole_number(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """A number typed in a form, checked: a whole number, in ``[low, high]`` when given.

    The app's number inputs carry no min/max: the browser would refuse a value out of
    range with a red box and a hover icon, and the form's button would silently do
    nothing. Pages check the values here and show the reason beside the button.

    Parameters
    ----------
    name : str
        The field's label, as the message names it.
    value : object
        The widget's value.
    low, high : int, optional
        The bounds, both included.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        E.g. ``Bootstrap resamples must be between 50 and 5,000; got 0.``
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be a whole number; got {value!r}.")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be a whole number; got {value!r}.")
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number; got {value!r}.")
    if low is not None and high is not None and not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,}; got {value:,}.")
    return value


def _int(name: str, value: object, limits: dict[str, tuple[int, int]] = FORM_LIMITS) -> int:
    """:func:`whole_number` in the bounds ``limits`` gives the field (by its label)."""
    return whole_number(name, value, *limits.get(name, (None, None)))


def ope_numbers(*, n_bootstrap: object, seed: object) -> tuple[int, int]:
    """The Off-policy evaluation form's resample count and seed, checked.

    Returns
    -------
    n_bootstrap, seed : int

    Raises
    ------
    ValueError
        Naming the field and its range (:data:`OPE_LIMITS`).
    """
    return (
        whole_number("Bootstrap resamples", n_bootstrap, *OPE_LIMITS["Bootstrap resamples"]),
        whole_number("Seed", seed, *OPE_LIMITS["Seed"]),
    )


def reward_range(text: object, reward) -> tuple[float, float] | None:
    """The Off-policy evaluation form's declared reward range, checked as the CLI checks it.

    ``python -m simulation ope --reward-range LOW,HIGH`` takes two finite numbers with
    LOW < HIGH, and the evaluation refuses a range that leaves out a reward of the log.
    The page checks both when Estimate is pressed, so the reason is said under the box
    (not as a failed evaluation) and nothing runs.

    Parameters
    ----------
    text : object
        The box's value: blank for none, else ``"LOW,HIGH"`` (spaces allowed).
    reward : ndarray of shape (n_rounds,)
        The log's rewards.

    Returns
    -------
    (low, high) : tuple of float, or None
        None when the box is blank (the range then comes from the log).

    Raises
    ------
    ValueError
        In one line, e.g. ``Reward range must be LOW,HIGH: two finite numbers with LOW <
        HIGH; got '1,0'.``

    Examples
    --------
    >>> import numpy as np
    >>> reward_range(" -5, 20 ", np.array([0.0, 12.5]))
    (-5.0, 20.0)
    >>> reward_range("", np.array([0.0, 12.5])) is None
    True
    """
    from simulation.ope.evaluate import check_reward_range
    from simulation.ope.limits import shorten

    if text is None or not str(text).strip():
        return None
    parts = str(text).split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = check_reward_range(float(part) for part in parts)
    except ValueError:
        raise ValueError(
            "Reward range must be LOW,HIGH: two finite numbers with LOW < HIGH; "
            f"got {shorten(str(text).strip())!r}."
        ) from None
    if len(reward) and (float(np.min(reward)) < low or float(np.max(reward)) > high):
        raise ValueError(
            f"Reward range [{low:g}, {high:g}] leaves out rewards the log holds (they run "
            f"from {float(np.min(reward)):g} to {float(np.max(reward)):g}); declare a range "
            "that contains every reward."
        )
    return low, high


def policy_settings(name: str) -> tuple[tuple[str, object, str], ...]:
    """What a spec may set on policy ``name``: (setting, its default, its range in words).

    From the class's ``param_ranges`` (what :class:`~simulation.policies.PolicySpec`
    accepts) and its dataclass defaults, so the form offers exactly the settings a spec
    takes.

    Examples
    --------
    >>> policy_settings("epsilon_greedy")
    (('epsilon', 0.1, 'a float in [0, 1]'),)
    """
    cls = POLICIES[name]
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.init}
    return tuple((key, defaults[key], words) for key, words in cls.param_ranges)


def policy_spec(name: str, values: dict[str, object]) -> str:
    """The canonical spec of policy ``name`` with the form's ``values`` for its settings.

    Settings left at their defaults are not written, so an untouched form gives the
    bare name (``"thompson"``), as the command line's ``--policy thompson`` does.

    Raises
    ------
    ValueError
        A setting out of range, in words, one sentence per setting
        (:func:`ui.policy_form.setting_problems`: "Exploration share ε must be between 0
        and 1; got 5."), not the spec's line with its internal names.
    """
    from simulation.policies import PolicySpec

    problems = setting_problems(name, values)
    if problems:
        raise ValueError(" ".join(problems.values()))
    defaults = {key: default for key, default, _ in policy_settings(name)}
    params = tuple((k, v) for k, v in values.items() if k in defaults and v != defaults[k])
    try:
        return str(PolicySpec(name=name, params=params))
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def check_chosen(
    *, levels: list[str] | tuple[str, ...], policies: list[str] | tuple[str, ...]
) -> None:
    """Refuse an empty choice of levels or of policies (the levels are asked first).

    Raises
    ------
    ValueError
        Naming the multiselect to fill in.
    """
    if not levels:
        raise ValueError("Choose at least one personalization level.")
    if not policies:
        raise ValueError("Choose at least one policy.")


def experiment_config(
    world: WorldSettings,
    *,
    levels: list[str] | tuple[str, ...],
    policies: list[str] | tuple[str, ...],
    n_impressions: int,
    batch_size: int,
    n_seeds: int,
    objective: str,
    n_worlds: int = 1,
    budget: float | None = None,
    pricing: str = DEFAULT_CONFIG.pricing,
    conversion_delay: int = 0,
    n_variants: int = DEFAULT_CONFIG.n_variants,
    n_checkpoints: int = DEFAULT_CONFIG.n_checkpoints,
    own_files: dict[str, str] | None = None,
    regenerate_every: int = 0,
) -> ExperimentConfig:
    """Build the experiment the form describes.

    Parameters
    ----------
    world : WorldSettings
        Audience size, segments and seed (set on the Audience page) and the hidden
        world's personalization scale (the World page).
    levels, policies : sequence of str
        Chosen in multiselects; order is kept.
    n_impressions, batch_size, n_seeds, conversion_delay, n_variants, n_checkpoints : int
    n_worlds : int
        Worlds (hidden parameters redrawn) the experiment is repeated in.
    objective : {"ctr", "roas"}
    budget : float or None
        Spend cap per policy and level; None or 0 for none.
    pricing : {"cpm", "cpc"}
    own_files : dict of str to str, optional
        ``segments_file`` / ``catalogue_file`` / ``templates_file`` -> path of the
        user's uploads to use; with segments, the audience is drawn around them (as
        many segments as the file holds).
    regenerate_every : int, default=0
        Impressions between regenerations of the generic and segment pools; 0 for
        fixed pools.

    Returns
    -------
    config : ExperimentConfig

    Raises
    ------
    ValueError
        With a message for the person at the widgets.
    """
    levels, policies = tuple(levels or ()), tuple(policies or ())
    check_chosen(levels=levels, policies=policies)
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise ValueError(f"Unknown personalization level(s) {bad}.")
    if objective not in OBJECTIVES:
        raise ValueError(f"The objective must be one of {list(OBJECTIVES)}; got {objective!r}.")
    n_impressions = _int("Impressions", n_impressions)
    batch_size = _int("Batch size", batch_size)
    if batch_size > n_impressions:
        raise ValueError(
            f"The batch size ({batch_size:,}) is larger than the number of impressions "
            f"({n_impressions:,}): policies would never learn. Lower the batch size or raise "
            "the impressions."
        )
    if budget is not None and (budget != budget or budget <= 0):
        raise ValueError(f"Set a budget above $0, or switch off the spend cap; got {budget!r}.")
    if budget is not None and budget > MAX_BUDGET:
        raise ValueError(f"The budget must be at most ${MAX_BUDGET:,.0f}; got ${budget:,.0f}.")
    regenerate_every = _int("Regenerate the pools every", regenerate_every)
    if regenerate_every and not batch_size <= regenerate_every <= n_impressions:
        raise ValueError(
            f"Regenerate the pools every must be between the batch size ({batch_size:,}) and the "
            f"impressions ({n_impressions:,}), or 0 for fixed pools; got {regenerate_every:,}."
        )
    if regenerate_every and not {"generic", "segment"} & set(levels):
        raise ValueError(
            "Regeneration renews the generic and segment pools: choose one of those levels, "
            "or set Regenerate the pools every to 0."
        )
    if "user" in levels and n_variants > 10:
        raise ValueError(
            f"The per-user level has 10 creative strategies; lower the variants to 10 or "
            f"fewer (now {n_variants})."
        )
    try:
        config = world.config().replace(
            levels=levels,
            policies=policies,
            n_impressions=n_impressions,
            batch_size=batch_size,
            n_seeds=_int("Seeds", n_seeds),
            n_worlds=_int("Worlds", n_worlds),
            objective=objective,
            budget=float(budget) if budget else None,
            pricing=pricing,
            conversion_delay=_int("Conversion delay", conversion_delay),
            n_variants=_int("Variants", n_variants),
            n_checkpoints=_int("Chart points", n_checkpoints),
            regenerate_every=regenerate_every or None,
            **(own_files or {}),
        )
        return resolve_inputs(config)[0] if own_files else config
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Invalid experiment settings: {exc}") from None


def sweep_base(
    *,
    levels: list[str] | tuple[str, ...],
    policies: list[str] | tuple[str, ...],
    n_users: object,
    n_impressions: object,
    n_seeds: object,
) -> dict[str, object]:
    """The settings every point of the Sweeps page's grid shares, as a grid file's keys.

    Parameters
    ----------
    levels : sequence of str
        The personalized levels to compare with the generic one (which is added first:
        every sweep runs it, as the uplift's baseline).
    policies : sequence of str
    n_users, n_impressions, n_seeds : int
        As typed; checked against :data:`SWEEP_LIMITS` (the widgets have no bounds of their
        own, which would hide the reason behind a hover icon and keep the last valid value).

    Returns
    -------
    base : dict
        The grid file's keys besides ``[grid]``.

    Raises
    ------
    ValueError
        With a message for the person at the widgets.
    """
    check_chosen(levels=levels, policies=policies)
    return {
        "n_users": _int("Audience size", n_users, SWEEP_LIMITS),
        "n_segments": 2,
        "n_impressions": _int("Impressions", n_impressions, SWEEP_LIMITS),
        "batch_size": 500,
        "n_seeds": _int("Replications", n_seeds, SWEEP_LIMITS),
        "n_checkpoints": 4,
        "levels": ["generic", *levels],
        "policies": list(policies),
    }


def world_config(config: ExperimentConfig) -> ExperimentConfig:
    """The part of ``config`` that defines the world (users, segments, creatives, pricing).

    Scenarios are cached on this, so changing impressions or policies reuses the world. Every
    level is built, so any subset of levels can run on it.
    """
    # The engine's own list of what a world is built from, so the cached world always
    # passes its check (simulation.engine.core.check_scenario).
    return DEFAULT_CONFIG.replace(
        **{key: getattr(config, key) for key in WORLD_SETTINGS},
        levels=LEVELS if config.n_variants <= 10 else tuple(lv for lv in LEVELS if lv != "user"),
    )


def log_rows(config: ExperimentConfig) -> int:
    """Rows an impression-level log of ``config`` would have (pool levels only, pairs that run)."""
    return config.n_seeds * len(logged_pairs(config)) * config.n_impressions
