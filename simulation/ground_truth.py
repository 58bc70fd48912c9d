"""The ground truth laid open: what every arm is expected to earn, and why.

:func:`world_report` reads a :class:`~simulation.scenario.Scenario` and returns
three tables (what ``python -m simulation world`` writes):

- ``arms``: per level, arm and segment (and ``all`` users), the creative's
  components, product and price, and its expected CTR, conversion rate after the
  click, order value, revenue and cost per impression and ROAS (columns ``true_ctr``,
  ``true_cvr``, ... :data:`TRUE_ARM_VALUES`: true values, never observed ones);
- ``spreads``: best / median of each level's arms, and of two content spaces
  (every tone x offer x layout x greeting for one product; every product with one
  plain creative), the figures ``docs/calibration.md`` compares with published tests;
- ``mechanisms``: what each term of :data:`simulation.response.MECHANISMS`
  contributes, per level: its mean and spread on the click logit, its share of the
  logit's variance, the lift in CTR and conversions it is responsible for, its
  part in the best-vs-median gap, and its part in the level's uplift over generic;
- ``compositions``, when asked for (``generated=True``): each user's best composition
  at the generated level against random ones
  (:func:`simulation.composition_truth.composition_report`).

Everything is an expectation: no impressions are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.composition_truth import composition_report
from simulation.population import INTERESTS, KEYWORDS
from simulation.response import MECHANISMS, USER_DEPENDENT, ArmContent, Expectations
from simulation.scenario import USER_STRATEGIES, Scenario, creative_space, product_space

__all__ = ["WorldReport", "world_report"]

#: The arms table's expected values, named ``true_*``: ``arms.csv`` sits beside run outputs
#: whose ``ctr`` and ``roas`` are observed, and a true CTR under the same name read as one.
TRUE_ARM_VALUES = (
    "ctr", "cvr", "order_value", "conversions_per_1k", "revenue_per_impression",
    "cost_per_impression", "roas",
)  # fmt: skip
ARM_COLUMNS = (
    "level", "segment", "segment_name", "arm", "label", "language", "category", "product",
    "price", "tone", "offer", "layout", "greeting", "keyword",
    *(f"true_{name}" for name in TRUE_ARM_VALUES),
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WorldReport:
    """The tables of the ground truth (see the module docstring).

    ``compositions`` is None unless asked for.
    """

    arms: pd.DataFrame
    spreads: pd.DataFrame
    mechanisms: pd.DataFrame
    compositions: pd.DataFrame | None = None


def _rates(exp: Expectations, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-arm expected rates over the users in ``mask`` (n,), each of shape (n_arms,)."""
    ctr, cvr, value, cost = exp.ctr, exp.cvr, exp.order_value, exp.cost
    if mask is not None:
        ctr, cvr, value, cost = ctr[mask], cvr[mask], value[mask], cost[mask]
    clicks = ctr.mean(axis=0)
    conv = (ctr * cvr).mean(axis=0)
    revenue = (ctr * cvr * value).mean(axis=0)
    spend = cost.mean(axis=0)
    return {
        "ctr": clicks,
        "cvr": conv / clicks,
        "order_value": revenue / np.maximum(conv, 1e-300),
        "conversions_per_1k": 1000.0 * conv,
        "revenue_per_impression": revenue,
        "cost_per_impression": spend,
        "roas": revenue / spend,
    }


def _components(scenario: Scenario, level: str, segment: int | None, arm: int) -> dict:
    lv = scenario.levels[level]
    if level == "user":
        tone, offer, layout = USER_STRATEGIES[arm]
        greets, searches = lv.personal[arm, ..., 0], lv.personal[arm, :, 1, 1]
        if greets.all():
            greeting = "viewer's active hours"
        elif greets[:, 1].all() and not greets[:, 0].any():
            greeting = "viewer's active hours, beside their search"
        elif greets.any():
            greeting = "viewer's active hours, in some languages"
        else:
            greeting = "none (no template of this tone greets)"
        keyword = "viewer's search in that category" if searches.all() else (
            "viewer's search, in some languages" if searches.any() else "none"
        )  # fmt: skip
        if lv.offer_fits is not None and not lv.offer_fits[arm].all():
            # The offer is not written where the category cannot carry it.
            cannot = ", ".join(c for c, ok in zip(INTERESTS, lv.offer_fits[arm]) if not ok)
            offer = f"{offer} (none on {cannot} products, which cannot carry it)"
        return {
            "language": "viewer's",
            "category": "viewer's top interest",
            "product": "a product of that category",
            "tone": tone,
            "offer": offer,
            "layout": layout,
            "greeting": greeting,
            "keyword": keyword,
        }
    if level == "segment" and segment is None:
        keys = ("language", "category", "product", "tone", "offer", "layout", "greeting", "keyword")
        return dict.fromkeys(keys, "per segment")
    row = segment if level == "segment" else 0
    c = lv.creatives[row][arm]
    code = int(lv.keyword[row, arm] if lv.keyword.ndim == 2 else lv.keyword[arm])
    localized = level == "generic" and lv.localized
    return {
        "language": "viewer's" if localized else c.language,
        "category": c.category,
        "product": c.product,
        "price": c.price,
        "tone": c.tone,
        "offer": c.offer,
        "layout": c.layout,
        "greeting": c.greeting or "",
        "keyword": KEYWORDS[code] if code >= 0 else "",
    }


def _arm_rows(scenario: Scenario, level: str, arms: ArmContent, exp: Expectations) -> list[dict]:
    labels = scenario.segmentation.labels
    profiles = scenario.segmentation.profiles
    lv = scenario.levels[level]
    scopes = [(None, "all users", None)]
    scopes += [(p.segment_id, p.name, labels == p.segment_id) for p in profiles]
    price = np.broadcast_to(arms.price, exp.ctr.shape)
    rows = []
    for segment, name, mask in scopes:
        rates = _rates(exp, mask)
        seen_price = price.mean(axis=0) if mask is None else price[mask].mean(axis=0)
        for arm in range(lv.n_arms):
            row = {
                "level": level,
                "segment": "all" if segment is None else segment,
                "segment_name": name,
                "arm": arm,
                "label": lv.arm_labels[arm],
            }
            row |= _components(scenario, level, segment, arm)
            if "price" not in row:  # mean list price of what the scope's viewers see
                row["price"] = float(seen_price[arm])
            row |= {f"true_{k}": float(v[arm]) for k, v in rates.items()}
            rows.append(row)
    return rows


def _spread_rows(scope: str, rates: dict[str, np.ndarray], n: int) -> list[dict]:
    out = []
    for metric in ("ctr", "conversions_per_1k", "roas"):
        v = rates[metric]
        median = float(np.median(v))
        out.append(
            {
                "scope": scope,
                "n_arms": n,
                "metric": metric,
                "best": float(v.max()),
                "median": median,
                "worst": float(v.min()),
                "best_over_median": float(v.max() / median),
            }
        )
    return out


def _content_space(scenario: Scenario, users) -> list[dict]:
    """Spreads of the two content spaces over ``users`` (a sample), in their own language."""
    expect = scenario.response.expectations
    title, chunks = creative_space(users)
    parts = [_rates(expect(users, arms)) for arms in chunks]
    space = {k: np.concatenate([r[k] for r in parts]) for k in parts[0]}
    rows = _spread_rows(title, space, space["ctr"].shape[0])
    title, arms = product_space(users)
    return rows + _spread_rows(title, _rates(expect(users, arms)), arms.price.shape[1])


def _mechanism_rows(scenario: Scenario, level: str, arms, generic_means: dict | None) -> list:
    users = scenario.population
    response = scenario.response
    terms = response.terms(users, arms)
    p = response.params
    click_total = p.ctr_bias + sum(t[0] for t in terms.values())
    conv_total = p.cvr_bias + sum(t[1] for t in terms.values())

    def sig(x):
        return 1.0 / (1.0 + np.exp(-x))

    ctr = sig(click_total)
    conv = ctr * sig(conv_total)
    mean_ctr, mean_conv = ctr.mean(), conv.mean()
    by_arm = ctr.mean(axis=0)
    order = np.argsort(by_arm)
    best, median = int(order[-1]), int(order[len(order) // 2])
    variances = {m: float(t[0].var()) for m, t in terms.items()}
    total_var = float(click_total.var())
    rows = []
    for m, (click, conversion) in terms.items():
        without_ctr = sig(click_total - click)
        without_conv = without_ctr * sig(conv_total - conversion)
        arm_means = click.mean(axis=0)
        row = {
            "level": level,
            "mechanism": m,
            "kind": _kind(m),
            "what": MECHANISMS[m],
            "click_logit_mean": float(click.mean()),
            "click_logit_sd": float(click.std()),
            "click_sd_between_arms": float(arm_means.std()),
            "click_variance_share": variances[m] / total_var if total_var > 0 else 0.0,
            "ctr_lift": float(mean_ctr / without_ctr.mean() - 1.0),
            "conversions_lift": float(mean_conv / without_conv.mean() - 1.0),
            "best_minus_median_click_logit": float(arm_means[best] - arm_means[median]),
            "conv_logit_mean": float(conversion.mean()),
        }
        if generic_means is not None:
            row["uplift_vs_generic_click_logit"] = float(click.mean() - generic_means[m][0])
            row["uplift_vs_generic_conv_logit"] = float(conversion.mean() - generic_means[m][1])
        rows.append(row)
    return rows


def _kind(mechanism: str) -> str:
    if mechanism in USER_DEPENDENT:
        return "user-dependent"
    if mechanism == "language":
        return "locale"
    if mechanism == "personalized":
        return "built-in bonus"
    return "content"


def world_report(
    scenario: Scenario, *, content_sample: int = 2_000, generated: bool = False
) -> WorldReport:
    """The expected outcome of every arm, the spreads, and each mechanism's share.

    Parameters
    ----------
    scenario : Scenario
        A built world (:func:`simulation.scenario.build_scenario`).
    content_sample : int, default=2_000
        Users (the first ones; users are drawn i.i.d.) over which the content
        spaces, and the generated level's compositions, are evaluated.
    generated : bool, default=False
        Also lay the generated level open (``compositions``; the world must have it).

    Returns
    -------
    report : WorldReport
    """
    pop = scenario.population
    labels = scenario.segmentation.labels
    arm_rows, spread_rows, mech_rows = [], [], []
    generic_means = None
    order = [lv for lv in ("generic", "segment", "user") if lv in scenario.levels]
    for level in order:
        arms = scenario.levels[level].arm_attributes(pop, labels)
        exp = scenario.response.expectations(pop, arms)
        arm_rows += _arm_rows(scenario, level, arms, exp)
        n_arms = exp.ctr.shape[1]
        spread_rows += _spread_rows(f"level {level}: its arms, all users", _rates(exp), n_arms)
        if level == "segment":
            # Within each segment: what choosing among the segment's own variants is worth.
            for s in range(scenario.segmentation.n_segments):
                spread_rows += _spread_rows(
                    f"level segment: its arms, segment {s}",
                    _rates(exp, labels == s),
                    exp.ctr.shape[1],
                )
        mech_rows += _mechanism_rows(scenario, level, arms, generic_means)
        if level == "generic":
            terms = scenario.response.terms(pop, arms)
            generic_means = {m: (t[0].mean(), t[1].mean()) for m, t in terms.items()}
    sample = pop.take(np.arange(min(content_sample, pop.n_users)))
    spread_rows += _content_space(scenario, sample)
    arms_frame = pd.DataFrame(arm_rows).reindex(columns=list(ARM_COLUMNS))
    compositions = None
    if generated:
        compositions = composition_report(scenario, sample=max(2, min(content_sample, pop.n_users)))
    return WorldReport(
        arms=arms_frame,
        spreads=pd.DataFrame(spread_rows),
        mechanisms=pd.DataFrame(mech_rows),
        compositions=compositions,
    )
