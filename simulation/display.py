"""Display constants shared by the app's charts and the HTML report (no plotting here).

The app (``ui/charts.py``, Altair) and the report (:mod:`simulation.store.report`, inline
SVG) draw with the same colours and the same y-axis rule, so a run looks the same in both.
"""

from __future__ import annotations

import numpy as np

# The word mapping lives beside the codes it names, so the studio's contact sheets and
# printouts read as the app does; re-exported here, where the app and the report find it.
from creative.vocabulary import OFFER_NAMES, component_name

__all__ = [
    "AXIS_LABELS",
    "MECHANISM_NAMES",
    "OFFER_NAMES",
    "PALETTE",
    "POLICY_NAMES",
    "SHORT_POLICY_NAMES",
    "component_name",
    "context_feature_meanings",
    "mechanism_name",
    "nice_ticks",
    "policy_name",
    "robust_domain",
    "short_policy_name",
]

#: The app's one categorical palette (Okabe and Ito's colour-blind-safe set, then Tableau's
#: extras): every chart colours its categories from it, in this order, so no two lines of a
#: chart share a hue and "A" is the same blue on every page.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7F7F7F", "#F0E442",
    "#000000", "#8C564B", "#9467BD", "#17BECF",
)  # fmt: skip

#: Policies as the app and the report name them (the command line keeps the specs).
POLICY_NAMES: dict[str, str] = {
    "uniform": "Uniform (A/B/n split)",
    "epsilon_greedy": "ε-greedy",
    "ucb1": "UCB1",
    "thompson": "Thompson sampling",
    "thompson_value": "Thompson sampling (value)",
    "lin_ucb": "LinUCB (contextual)",
    "lin_ts": "Linear Thompson (contextual)",
    # The spec stays in brackets: the command line, the docs and the sweep files name it so.
    "mvt_ts": "Multivariate Thompson (mvt_ts)",
    "oracle": "Oracle (knows the truth)",
}

#: Policies where several are listed in one line (a run's label: "Uniform, ε-greedy, UCB1,
#: Thompson, LinUCB"): :data:`POLICY_NAMES` without the explanation in brackets.
SHORT_POLICY_NAMES: dict[str, str] = {
    "uniform": "Uniform",
    "epsilon_greedy": "ε-greedy",
    "ucb1": "UCB1",
    "thompson": "Thompson",
    "thompson_value": "Thompson (value)",
    "lin_ucb": "LinUCB",
    "lin_ts": "Linear Thompson",
    "mvt_ts": "Multivariate Thompson",
    "oracle": "Oracle",
}


#: The generated level's axes where the engine's name alone says too little.
AXIS_LABELS: dict[str, str] = {
    "headline": "Headline style",
    "cta": "Call to action",
    "keyword": "Search printed",
}


#: The response model's mechanisms (``simulation.response.MECHANISMS``, whose values say
#: what each does) as a chart's axis names them: short, and in a marketer's words.
MECHANISM_NAMES: dict[str, str] = {
    "category_appeal": "category's appeal",
    "interest": "category among the viewer's interests",
    "keyword": "copy names a recent search",
    "tone": "tone",
    "tone_taste": "tone × viewer's taste",
    "offer": "offer",
    "offer_taste": "offer × price sensitivity",
    "tone_x_offer": "tone × offer",
    "greeting": "time-of-day greeting",
    "greeting_match": "greeting × active hours",
    "layout": "layout",
    "layout_device": "layout × device",
    "language": "copy not in the viewer's language",
    "price": "price",
    "personalized": "built-in bonus for personalized copy",
}


def mechanism_name(mechanism: str, *, off: bool = False) -> str:
    """A mechanism of the response model as a chart names it.

    Parameters
    ----------
    mechanism : str
        A key of ``simulation.response.MECHANISMS``; an unknown one is returned as given.
    off : bool, default=False
        The mechanism's weight is 0 in this world. Only the built-in bonus says so in its
        name: a bar of length 0 beside it would otherwise read as "measured, no effect",
        where it is a switch the world left off.
    """
    name = MECHANISM_NAMES.get(mechanism, mechanism)
    return f"{name} (off: 0)" if off and mechanism == "personalized" else name


def _with_settings(names: dict[str, str], spec: str) -> str:
    """``names``' name of ``spec`` with its settings, if any, in its brackets.

    Read from the text alone (a stored run's spec, whatever the registry holds now):
    ``epsilon_greedy(epsilon=0.05)`` -> ``ε-greedy (epsilon=0.05)``; a name already in
    brackets takes the settings in them (``LinUCB (contextual, alpha=0.3)``).
    """
    name, _, rest = spec.partition("(")
    name, settings = name.strip(), rest.removesuffix(")").strip()
    if name not in names:
        return spec  # not a policy this version knows: as written
    shown = names[name]
    if not settings:
        return shown
    if shown.endswith(")"):
        return f"{shown[:-1]}, {settings})"
    return f"{shown} ({settings})"


def policy_name(spec: str) -> str:
    """Readable name of a policy spec (``segment:NAME`` runs one copy per segment).

    Examples
    --------
    >>> policy_name("epsilon_greedy(epsilon=0.05)")
    'ε-greedy (epsilon=0.05)'
    >>> policy_name("segment:thompson(prior_alpha=2, prior_beta=3)")
    'Thompson sampling (prior_alpha=2, prior_beta=3) per segment'
    """
    if spec.startswith("segment:"):
        return f"{policy_name(spec.removeprefix('segment:'))} per segment"
    return _with_settings(POLICY_NAMES, spec)


def context_feature_meanings(
    n_segments: int,
    n_features: int,
    segment_names: tuple[str, ...] | None = None,
    products: tuple[str, ...] = (),
) -> tuple[str, ...] | None:
    """What each context column ``x_j`` of an adlab log means, as a marketer reads it.

    The layout is the engine's: :meth:`simulation.scenario.Scenario.contexts` (the segment
    one-hot, then :meth:`simulation.population.Population.features` in the order of
    ``FEATURE_BLOCKS``) and, for the generated level,
    :func:`simulation.engine.generated.generated_contexts`'s extra columns (top interest,
    searched categories, the products whose own search was made, a constant).

    Parameters
    ----------
    n_segments : int
        The run's number of segments (the width of the one-hot block).
    n_features : int
        The log's number of context columns.
    segment_names : tuple of str, optional
        The segments' names, by number, to name the one-hot columns.
    products : tuple of str, default ()
        The run's products, in the product axis's order, to name the generated layout's
        block of searches naming a product (without them only the layout without that
        block, of runs before 2026-12-06, is recognized).

    Returns
    -------
    meanings : tuple of str of length n_features, or None
        None when ``n_features`` fits neither layout (a log adlab did not write).
    """
    # Imported here: the report and the command line use this module without the population.
    from simulation.population import AGE_BANDS, FEATURE_BLOCKS, INTERESTS, TIMES_OF_DAY

    def segment(j: int) -> str:
        name = segment_names[j] if segment_names is not None and j < len(segment_names) else ""
        return f"1 if in segment {j}" + (f" ({name})" if name else "") + ", else 0"

    per_block = {
        "age_band": [f"1 if aged {band}, else 0" for band in AGE_BANDS],
        "mobile": ["1 if browsing mostly on a phone, else 0"],
        "korean": ["1 if reading Korean, 0 if English"],
        "price_sensitivity": ["price sensitivity, 0 to 1 (1: a deal-seeker)"],
        "active_hours": [f"share of activity in the {part}, 0 to 1" for part in TIMES_OF_DAY],
        "interests": [f"1 if interested in {i}, else 0" for i in INTERESTS],
    }
    pool = [segment(j) for j in range(n_segments)]
    pool += [m for name, _ in FEATURE_BLOCKS for m in per_block[name]]
    generated = [
        *(f"1 if the top interest is {i}, else 0" for i in INTERESTS),
        *(f"1 if a recent search was in {i}, else 0" for i in INTERESTS),
    ]
    named = [f"1 if a recent search named the {p}, else 0" for p in products]
    if n_features == len(pool):
        return tuple(pool)
    # Before 2026-12-06 the generated layout had no block of searches naming products.
    for extra in ([], named):
        if n_features == len(pool) + len(generated) + len(extra) + 1:
            return tuple(pool + generated + extra + ["always 1 (a constant)"])
    return None


def short_policy_name(spec: str) -> str:
    """Short readable name of a policy spec, for lists of several (``segment:NAME`` too)."""
    if spec.startswith("segment:"):
        return f"{short_policy_name(spec.removeprefix('segment:'))} per segment"
    return _with_settings(SHORT_POLICY_NAMES, spec)


def robust_domain(
    means: np.ndarray, lows: np.ndarray, highs: np.ndarray, *, stretch: float = 1.5
) -> list[float] | None:
    """A y-axis range that shows every line and no more band than is informative.

    The range covers every mean; bands widen it by at most ``stretch`` times the spread of
    the means on each side (early, wide bands would otherwise squash the lines into a strip).

    Parameters
    ----------
    means, lows, highs : ndarray of shape (n,)
    stretch : float, default=1.5

    Returns
    -------
    domain : [low, high] or None when nothing is finite
    """
    m = np.asarray(means, dtype=float)
    m = m[np.isfinite(m)]
    if m.size == 0:
        return None
    lo_m, hi_m = float(m.min()), float(m.max())
    spread = max(hi_m - lo_m, abs(hi_m) * 0.02, 1e-12)
    lo_b = np.asarray(lows, dtype=float)
    hi_b = np.asarray(highs, dtype=float)
    lo_b = float(np.nanmin(lo_b)) if np.isfinite(lo_b).any() else lo_m
    hi_b = float(np.nanmax(hi_b)) if np.isfinite(hi_b).any() else hi_m
    low = max(min(lo_b, lo_m), lo_m - stretch * spread)
    high = min(max(hi_b, hi_m), hi_m + stretch * spread)
    if lo_m >= 0:
        low = max(low, 0.0)
    return [low, high]


def nice_ticks(low: float, high: float, target: int = 5) -> np.ndarray:
    """Round axis ticks inside ``[low, high]``: multiples of 1, 2 or 5 times a power of ten.

    The step is the smallest such number that puts at most ``target`` ticks in the range,
    so an axis reads 0.5 %, 1.0 %, 1.5 % rather than 0.15 %, 0.69 %, 1.23 %.

    Parameters
    ----------
    low, high : float
        The axis range (finite; ``high > low``).
    target : int, default=5
        The most ticks wanted (at least 2).

    Returns
    -------
    ticks : ndarray of shape (n,), 1 <= n <= target
        Increasing; the endpoints themselves when the range holds no two round values.
    """
    span = high - low
    if not (np.isfinite(low) and np.isfinite(high)) or span <= 0:
        return np.array([low], dtype=float)
    raw = span / max(target - 1, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        step = factor * power
        first = np.ceil(low / step - 1e-9)
        last = np.floor(high / step + 1e-9)
        if last - first + 1 <= target:
            break
    ticks = np.arange(first, last + 1) * step
    if ticks.size < 2:
        return np.array([low, high], dtype=float)
    # Multiples of the step, rounded so 0.1 * 3 prints as 0.3, not 0.30000000000000004.
    return np.round(ticks, int(max(0, -np.floor(np.log10(step)) + 1))) + 0.0  # no -0.0
