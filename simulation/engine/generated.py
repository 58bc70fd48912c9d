"""The generated level on the engine: each impression's creative composed by the policy.

A route of the engine's protocol (:class:`GeneratedRoute`, a
:class:`~simulation.engine.routes.ChunkRoute`): per batch the policy
composes every user's creative (a composition of the level's component space),
the ground truth of those compositions for those users is evaluated by the
response model (:meth:`simulation.scenario.GeneratedLevel.content` feeds
:meth:`~simulation.response.ResponseModel.expectations` as every level's arms
do), outcomes are drawn with the chunk's common uniforms and the policy learns
from them. The engine totals what was served through :meth:`GeneratedRoute.served`,
a view of the chunk whose truth is the served compositions' (one "arm" per row).

The oracle is exact: the response model's logits are sums of mechanisms, each
reading one input (product, tone, offer, greeting, keyword, layout, language) or
the pairs tone x offer and product x keyword, so per user they are probed once
(:func:`oracle_table`), and a compiled search visits every valid effective
composition, grouped by the inputs the conversion reads; within a group the
expected reward is monotone in the click logit, so only its extremes are scored.
A test holds this to brute force through ``expectations``.

Which policies play which level (:func:`applies`): the composing policies of
:data:`simulation.generated.GENERATED_POLICIES` (``uniform``, ``oracle``,
``mvt_ts``) play the generated level; fixed-pool policies (``thompson``,
``lin_ucb``, ``segment:NAME``, ...) play the pool levels; other pairs are skipped
(served nothing, dropped from the result frames) with a note (:func:`skip_notes`).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from simulation.config import ExperimentConfig, applies
from simulation.engine.chunks import Chunk, Tables, Truth
from simulation.engine.routes import ChunkRoute
from simulation.generated.funnel import FunnelThompson
from simulation.generated.policies import GENERATED_POLICIES, GeneratedPolicy, MvtThompson
from simulation.population import KEYWORDS_PER_INTEREST, N_USER_FEATURES, feature_slices
from simulation.response import PRICE_REFERENCE, ArmContent, Expectations
from simulation.scenario import (
    ATTRIBUTE_SLICES,
    FACTORS,
    LAYOUT_ATTRIBUTES,
    N_ATTRIBUTES,
    OFFER_ATTRIBUTES,
    OFFER_KEPT,
    GeneratedLevel,
    Scenario,
)

__all__ = [
    "GeneratedRoute",
    "SkippedRoute",
    "applies",
    "best_compositions",
    "drop_skipped",
    "engine_funnel",
    "engine_learner",
    "fork_safe",
    "generated_contexts",
    "generated_route",
    "generated_tables",
    "log_note",
    "logged_pairs",
    "main_scale",
    "oracle_table",
    "pair_blocks",
    "skip_notes",
    "skipped_pairs",
    "tied_patterns",
    "user_cells",
    "uses_funnel",
]

_F = {name: i for i, name in enumerate(FACTORS)}


def skipped_pairs(config: ExperimentConfig) -> list[tuple[str, str]]:
    """The (level, policy) pairs of ``config`` that are skipped, in run order."""
    return [(lv, p) for lv in config.levels for p in config.policies if not applies(lv, p)]


def skip_notes(config: ExperimentConfig) -> list[str]:
    """One readable line per skipped (level, policy) pair of ``config``."""
    notes = []
    for level, spec in skipped_pairs(config):
        why = (
            "chooses among a fixed pool of creatives; the generated level composes each one"
            if level == "generated"
            else "composes creatives; it plays the generated level only"
        )
        notes.append(f"note: {spec} skipped at the {level} level ({why}).")
    return notes


def logged_pairs(config: ExperimentConfig) -> list[tuple[str, str]]:
    """The (level, policy) pairs the impression-level log records, in run order.

    Every pair that plays a pool level. The generated level is not logged: the log is
    bandit feedback for off-policy evaluation (each row's action among a fixed pool of
    arms, its propensity, every arm's true expected reward), and a composition is one
    of tens of thousands with no propensity ``mvt_ts`` can state.
    """
    return [
        (lv, p) for lv in config.levels if lv != "generated" for p in config.policies
        if applies(lv, p)
    ]  # fmt: skip


def log_note(config: ExperimentConfig) -> str | None:
    """Why the generated level is missing from the impression log, when ``config`` has it."""
    if "generated" not in config.levels:
        return None
    return (
        "note: the impression log (logs.parquet) records the pool levels only; the generated "
        "level's compositions are not logged (no propensities for off-policy evaluation)."
    )


def drop_skipped(frame: pd.DataFrame, config: ExperimentConfig) -> pd.DataFrame:
    """``frame`` without the rows of skipped (level, policy) pairs (unchanged when none).

    Also drops the padding arms of a level narrower than the widest (the
    generated level's allocation is one column, ``composed``; its per-component
    counts are :meth:`GeneratedOutputs.served_frame`).
    """
    skipped = skipped_pairs(config)
    padded = "arm" in frame and "generated" in config.levels and len(config.levels) > 1
    if (not skipped and not padded) or frame.empty:
        return frame
    keys = pd.MultiIndex.from_arrays([frame["level"], frame["policy"]])
    keep = ~keys.isin(skipped)
    if padded:
        keep &= ~((frame["level"] == "generated") & (frame["arm"] > 0)).to_numpy()
    return frame[keep].reset_index(drop=True)


def fork_safe() -> bool:
    """Whether this process may fork workers: not once numba has started GNU OpenMP threads.

    The composing policies' kernels run in parallel (numba, OpenMP on this
    platform); a process that has run them in-process (a single-unit run, a test,
    the app's earlier run) cannot fork safely, so the engine then runs its units
    in this process instead.
    """
    import numba

    try:
        return numba.threading_layer() != "omp"
    except ValueError:  # no parallel kernel has run yet
        return True


# --- the exact oracle ------------------------------------------------------------------------


def _effective(level: GeneratedLevel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every valid composition up to the axes no mechanism reads.

    Returns
    -------
    factors : ndarray of shape (m, len(FACTORS)), int64
        Sorted by group (product, offer, keyword, language).
    combos : ndarray of shape (m, n_axes), int64
        A valid composition of each (the first valid completion of the unread axes).
    starts : ndarray of shape (n_groups + 1,), int64
        Group ``g`` is rows ``starts[g]:starts[g + 1]``.
    """
    space = level.space
    read = sorted(int(a) for a in level.factor_axis if a >= 0)
    unread = [a for a in range(space.n_axes) if a not in read]
    grid = np.array(list(itertools.product(*[range(space.n_levels[a]) for a in read])))
    grid = grid.reshape(-1, len(read)).astype(np.int64)
    found = np.full(grid.shape[0], -1, dtype=np.int64)
    combos = np.zeros((grid.shape[0], space.n_axes), dtype=np.int64)
    combos[:, read] = grid
    completions = list(itertools.product(*[range(space.n_levels[a]) for a in unread]))
    for ci, completion in enumerate(completions):
        todo = np.flatnonzero(found < 0)
        if todo.size == 0:
            break
        trial = combos[todo].copy()
        trial[:, unread] = completion
        ok = space.is_valid(trial)
        combos[todo[ok]] = trial[ok]
        found[todo[ok]] = ci
    combos = combos[found >= 0]
    factors = level.factors(combos)
    group = factors[:, [_F["product"], _F["offer"], _F["keyword"], _F["language"]]]
    order = np.lexsort(group.T[::-1])
    factors, combos, group = factors[order], combos[order], group[order]
    change = np.flatnonzero((np.diff(group, axis=0) != 0).any(axis=1)) + 1
    starts = np.concatenate([[0], change, [group.shape[0]]]).astype(np.int64)
    return factors, combos, starts


def _probe(scenario: Scenario, level: GeneratedLevel, users: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user logit tables of the factors, from the response model's mechanisms."""
    pop = scenario.population.take(users)
    n = users.size
    sizes = [v.size for v in level.factor_values]
    base = np.zeros(len(FACTORS), dtype=np.int64)
    probes, where = [], {}

    def add(name: str, *factors: str) -> None:
        grid = list(itertools.product(*[range(sizes[_F[f]]) for f in factors]))
        start = len(probes)
        for values in grid:
            row = base.copy()
            row[[_F[f] for f in factors]] = values
            probes.append(row)
        where[name] = (slice(start, len(probes)), [sizes[_F[f]] for f in factors])

    add("to", "tone", "offer")
    add("pk", "product", "keyword")
    add("g", "greeting")
    add("l", "layout")
    add("lang", "language")
    grid = np.broadcast_to(np.array(probes), (n, len(probes), len(FACTORS)))
    arms = level.content(pop, grid)
    response = scenario.response
    terms = response.terms(pop, arms)
    click = response.params.ctr_bias + sum(c for c, _ in terms.values())
    conv = response.params.cvr_bias + sum(v for _, v in terms.values())
    out = {"c0": click[:, 0].copy(), "v0": conv[:, 0].copy()}
    for name, (sl, shape) in where.items():
        out[name + "c"] = (click[:, sl] - click[:, :1]).reshape(n, *shape)
        out[name + "v"] = (conv[:, sl] - conv[:, :1]).reshape(n, *shape)
    # The grouped search assumes the conversion reads neither tone, greeting nor layout.
    tov = out["tov"]
    if (
        np.abs(tov - tov[:, :1, :]).max() > 1e-12
        or np.abs(out["gv"]).max() > 1e-12
        or np.abs(out["lv"]).max() > 1e-12
    ):
        raise RuntimeError("the response's conversion reads tone, greeting or layout.")
    # Order value of every (product, offer) and the impression's cost.
    po = np.zeros((sizes[_F["product"]] * sizes[_F["offer"]], len(FACTORS)), dtype=np.int64)
    po[:, _F["product"]] = np.repeat(np.arange(sizes[_F["product"]]), sizes[_F["offer"]])
    po[:, _F["offer"]] = np.tile(np.arange(sizes[_F["offer"]]), sizes[_F["product"]])
    one = scenario.population.take(users[:1])
    out["value"] = response.order_value(level.content(one, po[None])).reshape(
        sizes[_F["product"]], sizes[_F["offer"]]
    )
    exp = response.expectations(pop, level.content(pop, grid[:, :1]))
    out["cost"] = np.ascontiguousarray(exp.cost[:, 0])
    return out


# Serial: the engine forks its workers after this runs, and forking a process that
# has started OpenMP threads is unsafe.
@njit(cache=True, nogil=True)
def _best_kernel(
    c0, v0, toc, tov, pkc, pkv, gc, lc, langc, langv, value, cost, cpc, mode, e, starts
):
    n = c0.shape[0]
    best_row = np.empty(n, dtype=np.int64)
    for u in range(n):
        best = -np.inf
        row = 0
        for grp in range(starts.shape[0] - 1):
            hi, lo, hi_e, lo_e = -np.inf, np.inf, -1, -1
            for r in range(starts[grp], starts[grp + 1]):
                c = toc[u, e[r, 1], e[r, 2]] + pkc[u, e[r, 0], e[r, 4]]
                c += gc[u, e[r, 3]] + lc[u, e[r, 5]] + langc[u, e[r, 6]]
                if c > hi:
                    hi, hi_e = c, r
                if c < lo:
                    lo, lo_e = c, r
            if mode == 0:  # clicks: the largest logit
                if hi > best:
                    best, row = hi, hi_e
                continue
            r0 = starts[grp]
            v = v0[u] + tov[u, e[r0, 1], e[r0, 2]] + pkv[u, e[r0, 0], e[r0, 4]]
            v += langv[u, e[r0, 6]]
            cvr = 1.0 / (1.0 + np.exp(-v))
            margin = cvr * value[e[r0, 0], e[r0, 2]]
            for c, r in ((hi, hi_e), (lo, lo_e)):
                ctr = 1.0 / (1.0 + np.exp(-(c0[u] + c)))
                net = ctr * margin - (cost[u] if mode == 1 else cpc * ctr)
                if net > best:
                    best, row = net, r
        best_row[u] = row
    return best_row


def oracle_table(scenario: Scenario, objective: str, *, block: int = 2_000) -> np.ndarray:
    """Each user's exact best composition under ``objective``.

    Returns
    -------
    combos : ndarray of shape (n_users, n_axes), int64
        Read-only; kept in the scenario's memo.
    """
    key = ("generated_oracle", objective)
    if key in scenario.memo:
        return scenario.memo[key]
    out = best_compositions(scenario, objective, np.arange(scenario.population.n_users), block)
    out.flags.writeable = False
    scenario.memo[key] = out
    return out


def best_compositions(
    scenario: Scenario, objective: str, users: np.ndarray, block: int = 2_000
) -> np.ndarray:
    """The exact best composition of each of ``users`` under ``objective``.

    The rows of :func:`oracle_table` (read from it when the world has it already,
    else solved for these users alone: a sample costs a sample's time).

    Parameters
    ----------
    users : ndarray of shape (n,), int
    block : int, default=2_000
        Users solved per kernel call.

    Returns
    -------
    combos : ndarray of shape (n, n_axes), int64
    """
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    kept = scenario.memo.get(("generated_oracle", objective))
    if kept is not None:
        return kept[users]
    level = scenario.levels["generated"]
    factors, combos, starts = _effective(level)
    mode = 0 if objective == "ctr" else (1 if scenario.response.pricing == "cpm" else 2)
    best = np.empty(users.size, dtype=np.int64)

    def solve(lo: int) -> None:
        rows = slice(lo, min(lo + block, users.size))
        t = _probe(scenario, level, users[rows])
        best[rows] = _best_kernel(
            t["c0"], t["v0"], t["toc"], t["tov"], t["pkc"], t["pkv"], t["gc"], t["lc"],
            t["langc"], t["langv"], t["value"], t["cost"], float(scenario.response.params.cpc),
            mode, factors, starts,
        )  # fmt: skip

    # Blocks of users in plain threads: the kernel releases the GIL (so does most of the
    # probe's numpy), and plain threads, unlike numba's parallel layer, leave the process
    # safe to fork. Each block writes its own rows: the same table as one thread's.
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        list(pool.map(solve, range(0, users.size, block)))
    return combos[best]


#: Most users whose rows of :meth:`~simulation.response.ResponseModel.linear_weights`
#: are kept for the whole audience (480 bytes a user); a larger audience's are
#: computed per call from the viewers (the same numbers: rows depend on their user alone).
_WEIGHT_TABLE_USERS = 250_000

_A = ATTRIBUTE_SLICES


@dataclass(frozen=True, slots=True, eq=False)
class _ComposedTables:
    """What :func:`composed_expectations` reads, built once per world (kept in its memo).

    Attributes
    ----------
    w_click, w_conv : ndarray of shape (n_users, N_ATTRIBUTES) or None
        Every user's :meth:`~simulation.response.ResponseModel.linear_weights`
        (None above :data:`_WEIGHT_TABLE_USERS` users).
    values : ndarray of shape (len(FACTORS), max_values), int64
        ``level.factor_values`` padded with -1.
    n_values : ndarray of shape (len(FACTORS),), int64
    offer_attrs : ndarray of shape (len(OFFERS), 2)
        Discount and free-shipping columns of each offer (:data:`OFFER_ATTRIBUTES`).
    offer_index : ndarray of shape (len(OFFERS),), int64
        :attr:`~simulation.response.ArmContent.offer` of each offer's attribute vector.
    layout_mobile : ndarray of shape (len(LAYOUTS),)
        Mobile-first column of each layout (:data:`LAYOUT_ATTRIBUTES`).
    """

    w_click: np.ndarray | None
    w_conv: np.ndarray | None
    values: np.ndarray
    n_values: np.ndarray
    offer_attrs: np.ndarray
    offer_index: np.ndarray
    layout_mobile: np.ndarray


def _composed_tables(scenario: Scenario) -> _ComposedTables:
    key = ("generated_composed",)
    if key in scenario.memo:
        return scenario.memo[key]
    # _compose_kernel reads the factors by position.
    if FACTORS != ("product", "tone", "offer", "greeting", "keyword", "layout", "language"):
        raise RuntimeError(f"_compose_kernel does not know the factors {FACTORS}.")
    level = scenario.levels["generated"]
    pop = scenario.population
    w_click = w_conv = None
    if pop.n_users <= _WEIGHT_TABLE_USERS:
        w_click, w_conv = scenario.response.linear_weights(pop)
    n_values = np.array([v.size for v in level.factor_values], dtype=np.int64)
    values = np.full((len(FACTORS), n_values.max()), -1, dtype=np.int64)
    for f, v in enumerate(level.factor_values):
        values[f, : v.size] = v
    offers = ArmContent(
        attributes=OFFER_ATTRIBUTES,
        price=np.ones(len(OFFER_ATTRIBUTES)),
        keyword=np.full(len(OFFER_ATTRIBUTES), -1),
        layout=np.zeros(len(OFFER_ATTRIBUTES), dtype=np.int64),
    )
    cols = [_A["discount"].start, _A["free_shipping"].start]
    tables = _ComposedTables(
        w_click=w_click,
        w_conv=w_conv,
        values=values,
        n_values=n_values,
        offer_attrs=np.ascontiguousarray(OFFER_ATTRIBUTES[:, cols]),
        offer_index=offers.offer.astype(np.int64),
        layout_mobile=np.ascontiguousarray(LAYOUT_ATTRIBUTES[:, _A["mobile_first"].start]),
    )
    for a in (w_click, w_conv, values, n_values):
        if a is not None:
            a.flags.writeable = False
    scenario.memo[key] = tables
    return tables


# Serial, as the engine's workers are forked (see :func:`fork_safe`).
@njit(cache=True, nogil=True)
def _compose_kernel(
    users, combos, factor_axis, values, n_values, product_category, product_price,
    product_keyword, offer_attrs, offer_index, layout_mobile, hours, language, keywords,
    n_attributes, s_category, s_tone, s_discount, s_shipping, s_greeting, s_mobile, s_language,
    s_personal, keywords_per_interest,
):  # fmt: skip
    """:meth:`GeneratedLevel.content` of one composition per viewer, and what expectations read.

    With the values :meth:`ResponseModel.expectations` derives from the content
    (tone, offer, keyword match). Every output is set, not computed (copies of
    table entries, one-hots, integer indices): the arithmetic is left to
    :meth:`ResponseModel.expectations_of`.
    """
    n = users.shape[0]
    n_factors = factor_axis.shape[0]
    attrs = np.zeros((n, 1, n_attributes))
    price = np.empty((n, 1))
    keyword = np.empty((n, 1), dtype=np.int64)
    layout = np.empty((n, 1), dtype=np.int64)
    tone = np.empty((n, 1), dtype=np.int64)
    offer = np.empty((n, 1), dtype=np.int64)
    searched = np.zeros((n, 1), dtype=np.bool_)
    on_topic = np.zeros((n, 1), dtype=np.bool_)
    v = np.empty(n_factors, dtype=np.int64)
    for i in range(n):
        u = users[i]
        if u < 0 or u >= hours.shape[0]:
            raise IndexError("a user index is out of range.")
        for f in range(n_factors):
            j = 0 if factor_axis[f] < 0 else combos[i, factor_axis[f]]
            if j < 0 or j >= n_values[f]:
                raise IndexError("a composition's level is out of range.")
            v[f] = values[f, j]
        # FACTORS: product, tone, offer, greeting, keyword, layout, language.
        category = product_category[v[0]]
        a = attrs[i, 0]
        a[s_category + category] = 1.0
        a[s_tone + v[1]] = 1.0
        a[s_discount] = offer_attrs[v[2], 0]
        a[s_shipping] = offer_attrs[v[2], 1]
        if v[3] == 1:  # the viewer's own time of day: the first largest share
            h = 0
            for t in range(1, hours.shape[1]):
                if hours[u, t] > hours[u, h]:
                    h = t
            a[s_greeting + h] = 1.0
        a[s_mobile] = layout_mobile[v[5]]
        a[s_language + (language[u] if v[6] < 0 else v[6])] = 1.0
        a[s_personal + 1] = 1.0
        price[i, 0] = product_price[v[0]]
        layout[i, 0] = v[5]
        tone[i, 0] = v[1]
        offer[i, 0] = offer_index[v[2]]
        kw = -1
        if v[4] == 1:
            # The viewer's own search naming the product, else none (as the studio's
            # compose writes it: no ad quotes a search its viewer did not make).
            named = product_keyword[v[0]]
            if named >= 0:
                for t in range(keywords.shape[1]):
                    if keywords[u, t] == named:
                        kw = named
        keyword[i, 0] = kw
        if kw >= 0:
            for t in range(keywords.shape[1]):
                if keywords[u, t] == kw:
                    searched[i, 0] = True
            on_topic[i, 0] = searched[i, 0] and kw // keywords_per_interest == category
    return attrs, price, keyword, layout, tone, offer, searched, on_topic


def composed_expectations(
    scenario: Scenario, users: np.ndarray, combos: np.ndarray
) -> Expectations:
    """Expected outcomes of showing composition ``combos[i]`` to user ``users[i]``.

    Bit for bit what the response model gives for :meth:`GeneratedLevel.content`
    (a test holds them equal), built from the world's tables: the viewers' rows
    of the linear weights are gathered rather than computed, and the content in
    one compiled pass; the logits are summed by the response model's own
    :meth:`~simulation.response.ResponseModel.expectations_of`.

    Parameters
    ----------
    users : ndarray of shape (n,), int
    combos : ndarray of shape (n, n_axes), int

    Returns
    -------
    expectations : Expectations
        Arrays of shape (n, 1).
    """
    level = scenario.levels["generated"]
    pop, response = scenario.population, scenario.response
    t = _composed_tables(scenario)
    users = np.ascontiguousarray(users, dtype=np.int64).reshape(-1)
    combos = np.ascontiguousarray(combos, dtype=np.int64).reshape(users.size, level.space.n_axes)
    attrs, price, keyword, layout, tone, offer, searched, on_topic = _compose_kernel(
        users, combos, level.factor_axis, t.values, t.n_values, level.product_category,
        level.product_price, level.product_keyword, t.offer_attrs, t.offer_index,
        t.layout_mobile, pop.hours, pop.language, pop.keywords, N_ATTRIBUTES,
        _A["category"].start, _A["tone"].start, _A["discount"].start, _A["free_shipping"].start,
        _A["greeting"].start, _A["mobile_first"].start, _A["language"].start,
        _A["personalized"].start, KEYWORDS_PER_INTEREST,
    )  # fmt: skip
    arms = ArmContent(attributes=attrs, price=price, keyword=keyword, layout=layout)
    if t.w_click is not None:
        # take, not fancy indexing: the same rows, about 3x faster on this 2-D table.
        w_click, w_conv = np.take(t.w_click, users, axis=0), np.take(t.w_conv, users, axis=0)
    else:
        w_click, w_conv = response.linear_weights(pop.take(users))
    match = (searched, on_topic) if (keyword >= 0).any() else None
    return response.expectations_of(w_click, w_conv, arms, tone, offer, pop.mobile[users], match)


def generated_tables(scenario: Scenario, objective: str) -> Tables:
    """Whole-audience contexts and the truth of each user's best composition (one arm).

    The chunks of the generated level are drawn from these: ``truth.best`` is the
    oracle's expected reward per user, what regret is measured against.
    """
    key = ("generated_tables", objective)
    if key not in scenario.memo:
        users = np.arange(scenario.population.n_users)
        truth = Truth.of(
            composed_expectations(scenario, users, oracle_table(scenario, objective)), objective
        )
        contexts = generated_contexts(scenario, users)
        for a in (contexts, truth.ctr, truth.cvr, truth.value, truth.cost, truth.reward):
            a.flags.writeable = False
        scenario.memo[key] = Tables(contexts=contexts, truth=truth)
    return scenario.memo[key]


# --- what the learner reads ---------------------------------------------------------------


def generated_contexts(scenario: Scenario, users: np.ndarray) -> np.ndarray:
    """The generated level's user contexts: observable features only.

    ``scenario.contexts`` (segment one-hot, then the user features: age band,
    device, language, price sensitivity, active hours, interests), then the
    user's top interest (one-hot), the categories of their recent searches
    (multi-hot), the products of the product axis whose own search
    (``creative.catalogue.product_search``) they made (multi-hot), then a
    constant 1. Nothing of the response model's hidden parameters.

    Parameters
    ----------
    users : ndarray of shape (n,), int

    Returns
    -------
    contexts : ndarray of shape (n, n_segments + N_USER_FEATURES + 2 * n_interests + n_products + 1)
    """
    base = scenario.contexts(users)
    pop = scenario.population.take(users)
    n, n_int = users.shape[0], pop.interests.shape[1]
    rows = np.arange(n)
    top = np.zeros((n, n_int))
    top[rows, pop.top_interest] = 1.0
    searched = np.zeros((n, n_int))
    searched[rows[:, None], pop.keywords.astype(np.int64) // KEYWORDS_PER_INTEREST] = 1.0
    # Which products' own searches (the catalogue's product_search) the user made.
    named = _product_searches(scenario)
    codes = pop.keywords.astype(np.int64)
    own = ((codes[:, None, :] == named[None, :, None]) & (named[None, :, None] >= 0)).any(-1)
    return np.hstack([base, top, searched, own.astype(np.float64), np.ones((n, 1))])


def _product_searches(scenario: Scenario) -> np.ndarray:
    """The search naming each product of the product axis, -1 for none (or no product axis)."""
    level = scenario.levels["generated"]
    if level.factor_axis[FACTORS.index("product")] < 0:
        return np.zeros(0, dtype=np.int64)
    products = level.factor_values[FACTORS.index("product")]
    return level.product_keyword[products].astype(np.int64)


def _context_layout(scenario: Scenario) -> tuple[int, int, int]:
    """Where :func:`generated_contexts`' blocks sit: (n_segments, n_interests, n_features).

    The searched-product block (one column per product of the product axis) follows the
    searched categories, before the constant.

    The interest count is the population's (every category the world knows), not
    the catalogue's: a catalogue covering some categories still has contexts over
    all of them, and the learner's patterns must be sized as its contexts are.
    """
    n_seg = scenario.segmentation.n_segments
    n_int = int(scenario.population.interests.shape[1])
    n_prod = _product_searches(scenario).size
    return n_seg, n_int, n_seg + N_USER_FEATURES + 2 * n_int + n_prod + 1


def tied_patterns(scenario: Scenario) -> tuple[np.ndarray, tuple[str, ...]]:
    """Candidate user x component crosses for ``mvt_ts``, each one shared weight.

    Built from observable structure only (which user feature describes which
    product category, the products' list prices, the language a level prints),
    never from the response model: each pattern is a hypothesis whose weight the
    learner estimates (and may find zero). Patterns over axes the space lacks
    are left out.

    Returns
    -------
    patterns : ndarray of shape (k, n_features, n_levels_total)
        Over the columns of :func:`generated_contexts`.
    names : tuple of str
        ``interest`` (the user is interested in the product's category),
        ``top_interest`` (it is their top interest), ``searched`` (they searched in
        it), ``searched_product`` (they made the product's own search, the one an ad
        of it may quote), ``log_price`` (the product's log list price), ``price_sensitivity``
        (log price x the user's price sensitivity), ``category:C`` (a main effect
        shared by the products of category index C), ``language`` (the copy's
        language x the user's being Korean-speaking).
    """
    level = scenario.levels["generated"]
    space = level.space
    fs = feature_slices()
    n_seg, n_int, d = _context_layout(scenario)
    top0, searched0, const = n_seg + N_USER_FEATURES, n_seg + N_USER_FEATURES + n_int, d - 1
    patterns, names = [], []
    axis = level.factor_axis[FACTORS.index("product")]
    if axis >= 0:
        flat = space.offsets[axis] + np.arange(space.n_levels[axis])
        products = level.factor_values[FACTORS.index("product")]
        category = level.product_category[products]
        log_price = np.log(level.product_price[products] / PRICE_REFERENCE)
        for name, first in (
            ("interest", n_seg + fs["interests"].start),
            ("top_interest", top0),
            ("searched", searched0),
        ):
            b = np.zeros((d, space.n_levels_total))
            b[first + category, flat] = 1.0
            patterns.append(b)
            names.append(name)
        # The user made this product's own search (the world may credit a search only
        # where it names the product shown).
        first = searched0 + n_int
        b = np.zeros((d, space.n_levels_total))
        b[first + np.arange(products.size), flat] = 1.0
        patterns.append(b)
        names.append("searched_product")
        for name, row in (
            ("log_price", const),
            ("price_sensitivity", n_seg + fs["price_sensitivity"].start),
        ):
            b = np.zeros((d, space.n_levels_total))
            b[row, flat] = log_price
            patterns.append(b)
            names.append(name)
    axis = level.factor_axis[FACTORS.index("language")]
    if axis >= 0:
        values = level.factor_values[FACTORS.index("language")]  # 0 en, 1 ko
        b = np.zeros((d, space.n_levels_total))
        b[n_seg + fs["korean"].start, space.offsets[axis] + np.arange(values.size)] = np.where(
            values == 1, 1.0, -1.0
        )
        patterns.append(b)
        names.append("language")
    if not patterns:
        return np.zeros((0, d, space.n_levels_total)), ()
    return np.stack(patterns), tuple(names)


def user_cells(scenario: Scenario) -> np.ndarray:
    """Which user-feature x level cells ``mvt_ts`` learns a free weight for.

    The user features (age band, device, language, price sensitivity, active
    hours, interests) against the levels of every axis but the product's: the
    product axis has many levels, each seen by a small share of the traffic, so its
    user-dependence is learned through the shared patterns of
    :func:`tied_patterns` (by category) instead of one weight per product. The
    segment one-hot (a function of the features), the top-interest and search
    blocks (used by the patterns) and the constant (the main effects) get none.

    Returns
    -------
    mask : ndarray of shape (n_features, n_levels_total), bool
    """
    level = scenario.levels["generated"]
    space = level.space
    n_seg, _, d = _context_layout(scenario)
    mask = np.zeros((d, space.n_levels_total), dtype=bool)
    mask[n_seg : n_seg + N_USER_FEATURES] = True
    axis = level.factor_axis[FACTORS.index("product")]
    if axis >= 0:
        mask[:, space.offsets[axis] : space.offsets[axis + 1]] = False
    return mask


def main_scale(scenario: Scenario) -> np.ndarray:
    """Prior variance multipliers of the main effects for ``mvt_ts``.

    A product's effect is mostly its category's and its price's (shared patterns
    of :func:`tied_patterns`); its own deviation gets a prior sd a fifth of the
    other main effects'.
    """
    level = scenario.levels["generated"]
    space = level.space
    scale = np.ones(space.n_levels_total)
    axis = level.factor_axis[FACTORS.index("product")]
    if axis >= 0:
        scale[space.offsets[axis] : space.offsets[axis + 1]] = 0.04
    return scale


def pair_blocks(scenario: Scenario) -> np.ndarray:
    """Which pairs of axes get free pairwise weights in ``mvt_ts``: all but the product's.

    A product x component cell is seen by a small share of the traffic (42
    products x every other level: over a thousand cells), so its prior noise
    would swamp the draws for longer than the run; the product's effects go
    through its category and price patterns instead.
    """
    level = scenario.levels["generated"]
    n_axes = level.space.n_axes
    blocks = np.ones((n_axes, n_axes), dtype=bool)
    axis = level.factor_axis[FACTORS.index("product")]
    if axis >= 0:
        blocks[axis, :] = blocks[:, axis] = False
    return blocks


# --- routes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkippedRoute(ChunkRoute):
    """A policy that does not play this level: serves nothing."""

    def play(self, chunk: Chunk) -> np.ndarray:
        """Every row unserved (-1)."""
        return np.full(chunk.n_rows, -1, dtype=np.int64)


@dataclass(eq=False)
class _ServedCounts:
    """How often each (segment, composition) key was served, and when it first was.

    Sorted arrays merged chunk by chunk (a dict updated key by key cost a
    quarter of a second per unit): ``keys`` ascending, ``counts``, and
    ``first``, the call of :meth:`add` that first served the key, which orders
    ties as the first-seen order did.
    """

    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_adds: int = 0

    def add(self, keys: np.ndarray) -> None:
        """Count ``keys`` (m,), int64: one served impression each."""
        uniq, counts = np.unique(keys, return_counts=True)
        pos = np.searchsorted(self.keys, uniq)
        seen = np.zeros(uniq.size, dtype=bool)
        inside = pos < self.keys.size
        seen[inside] = self.keys[pos[inside]] == uniq[inside]
        self.counts[pos[seen]] += counts[seen]
        new = ~seen
        self.keys = np.insert(self.keys, pos[new], uniq[new])
        self.counts = np.insert(self.counts, pos[new], counts[new])
        self.first = np.insert(self.first, pos[new], self.n_adds)
        self.n_adds += 1

    def top(self, n_segments: int, n_raw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each segment's most-served code, its count and the segment's total.

        Ties go to the key first served (then the smaller key, as
        :func:`numpy.unique` listed a call's new keys).

        Returns
        -------
        code : ndarray of shape (n_segments,), int64
            Raveled composition (0 where the segment was never served).
        best, total : ndarray of shape (n_segments,)
            Its count and the segment's, as floats.
        """
        top = np.zeros(n_segments, dtype=np.int64)
        best = np.zeros(n_segments)
        if self.keys.size == 0:
            return top, best, np.zeros(n_segments)
        segment, code = np.divmod(self.keys, n_raw)
        total = np.bincount(segment, weights=self.counts, minlength=n_segments)
        order = np.lexsort((self.keys, self.first, -self.counts, segment))
        lead = order[np.r_[True, segment[order][1:] != segment[order][:-1]]]
        top[segment[lead]] = code[lead]
        best[segment[lead]] = self.counts[lead]
        return top, best, total

    def by_level(self, n_segments: int, n_levels: tuple[int, ...]) -> np.ndarray:
        """Impressions served with each component level, per segment and in all.

        Parameters
        ----------
        n_segments : int
        n_levels : tuple of int
            Levels per axis (the space's), in axis order.

        Returns
        -------
        counts : ndarray of shape (n_segments + 1, sum(n_levels)), float64
            Row ``s`` counts the impressions of segment ``s`` whose composition had
            each flat level (``offsets[j] + level``); the last row is the sum. Each
            axis's counts add up to the row's impressions.
        """
        total = int(sum(n_levels))
        counts = np.zeros((n_segments + 1, total))
        if self.keys.size == 0:
            return counts
        segment, code = np.divmod(self.keys, int(np.prod(n_levels)))
        offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]])
        for j, level in enumerate(np.unravel_index(code, n_levels)):
            flat = segment * total + offsets[j] + level
            counts[:-1] += np.bincount(
                flat, weights=self.counts, minlength=n_segments * total
            ).reshape(n_segments, total)
        counts[-1] = counts[:-1].sum(axis=0)
        return counts


@dataclass(eq=False)
class GeneratedRoute(ChunkRoute):
    """A composing policy playing the generated level, batch by batch.

    Attributes
    ----------
    policy : GeneratedPolicy, FunnelThompson or None
        ``None`` with ``oracle`` set. A :class:`FunnelThompson` learns from the
        clicks, conversions and revenue; the others from the objective's reward.
    oracle : ndarray of shape (n_users, n_axes) or None
        The exact best composition per user, for the oracle.
    rng : numpy.random.Generator
    contextual : bool
        Whether the policy reads the users' contexts (``mvt_ts``).
    scenario : Scenario
    objective : str
    batch_size : int
    budget : float or None
        Spend cap, as in :class:`~simulation.engine.routes.PythonRoute`.
    conversion_delay : int
    reward_scale : tuple of (float, float)
    """

    policy: GeneratedPolicy | FunnelThompson | None
    oracle: np.ndarray | None
    rng: np.random.Generator
    contextual: bool
    scenario: Scenario
    objective: str
    batch_size: int
    budget: float | None
    conversion_delay: int
    reward_scale: tuple[float, float]
    _pending: deque = field(default_factory=deque, init=False, repr=False)
    _rows: tuple | None = field(default=None, init=False, repr=False)
    _served: _ServedCounts = field(default_factory=_ServedCounts, init=False, repr=False)

    def play(self, chunk: Chunk) -> np.ndarray:
        """Play the chunk's batches; returns 0 (the composed arm) per served row, else -1."""
        n_rows = chunk.n_rows
        shown = np.full(n_rows, -1, dtype=np.int64)
        ctr, cvr, value, cost = (np.zeros(n_rows) for _ in range(4))
        codes = np.zeros(n_rows, dtype=np.int64)
        response = self.scenario.response
        for j in range(chunk.n_batches):
            if self.budget is not None and self.budget <= 0:
                break
            lo, hi = int(chunk.offsets[j]), int(chunk.offsets[j + 1])
            sl, users = slice(lo, hi), chunk.users[lo:hi]
            x = chunk.contexts(sl) if self.contextual else np.empty((hi - lo, 0))
            if self.oracle is not None:
                combos = self.oracle[users]
            else:
                combos = self.policy.select(x, self.rng)
            exp = composed_expectations(self.scenario, users, combos)
            e = (exp.ctr[:, 0], exp.cvr[:, 0], exp.order_value[:, 0], exp.cost[:, 0])
            click, conversion, revenue, spent = response.outcomes(*e, chunk.uniforms[:, sl])
            m = hi - lo
            if self.budget is not None:
                total = np.cumsum(spent)
                m = int(min(m, np.searchsorted(total, self.budget, side="left") + 1))
                self.budget -= total[m - 1]
            for out, values in zip((ctr, cvr, value, cost), e):
                out[lo : lo + m] = values[:m]
            shown[lo : lo + m] = 0
            codes[lo : lo + m] = np.ravel_multi_index(combos[:m].T, self.space.n_levels)
            if isinstance(self.policy, FunnelThompson):
                feedback = (click[:m], conversion[:m], revenue[:m])
            elif self.objective == "ctr":
                feedback = (click[:m].astype(np.float64),)
            else:
                low, span = self.reward_scale
                feedback = ((revenue[:m] - spent[:m] - low) / span,)
            if self.policy is not None:
                end = (chunk.first_batch + j) * self.batch_size + (hi - lo)
                self._update(x[:m], combos[:m], feedback, end)
        self._rows = (ctr, cvr, value, cost)
        self._count_served(chunk.segments, codes, shown >= 0)
        return shown

    @property
    def space(self):
        """The level's component space."""
        return self.scenario.levels["generated"].space

    def _count_served(self, segments: np.ndarray, codes: np.ndarray, served: np.ndarray) -> None:
        self._served.add(segments[served] * self.space.n_raw + codes[served])

    def final_state(self) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray, np.ndarray]:
        """What the run ends with: the learner's effects and each segment's most-served creative.

        Returns
        -------
        estimate, sd : ndarray of shape (n_segments + 1, n_levels_total) or None
            The posterior mean and sd of every component level's effect
            (:meth:`~simulation.generated.MvtThompson.component_effects`) for each
            segment's mean user and, last, the whole audience's, in the
            objective's units (expected clicks or net value per impression);
            None for policies without effects.
        top : ndarray of shape (n_segments, n_axes), int64
            Each segment's most-served composition (-1 where none was served).
        top_share : ndarray of shape (n_segments,)
            Its share of the segment's impressions.
        served : ndarray of shape (n_segments + 1, n_levels_total)
            Impressions served with each component level, per segment and (last) in
            all (:meth:`_ServedCounts.by_level`).
        """
        space, seg = self.space, self.scenario.segmentation
        n_seg = seg.n_segments
        code, best, totals = self._served.top(n_seg, space.n_raw)
        top = np.stack(np.unravel_index(code, space.n_levels), axis=1).astype(np.int64)
        top[best == 0] = -1
        top_share = np.divide(best, totals, out=np.zeros(n_seg), where=totals > 0)
        served = self._served.by_level(n_seg, tuple(space.n_levels))
        if not hasattr(self.policy, "component_effects"):
            return None, None, top, top_share, served
        x = generated_contexts(self.scenario, np.arange(self.scenario.population.n_users))
        groups = [x[seg.labels == s].mean(axis=0) for s in range(n_seg)] + [x.mean(axis=0)]
        if isinstance(self.policy, FunnelThompson):
            # Already in USD; its Monte Carlo draws come after the run's last decision.
            scale = 1.0
            effects = [self.policy.component_effects(g, self.rng) for g in groups]
        else:
            scale = 1.0 if self.objective == "ctr" else self.reward_scale[1]
            effects = [self.policy.component_effects(g) for g in groups]
        estimate = np.array([e for e, _ in effects]) * scale
        sd = np.array([v for _, v in effects]) * scale
        return estimate, sd, top, top_share, served

    def _update(self, x: np.ndarray, combos: np.ndarray, feedback: tuple, end: int) -> None:
        """Teach the policy a batch, ``conversion_delay`` impressions after it was served.

        ``feedback``: the policy's outcome arrays, (reward,) or (click, conversion,
        revenue) for a :class:`FunnelThompson`. The whole row waits for its
        conversion window, clicks included.
        """
        if self.conversion_delay == 0:
            self.policy.update(x, combos, *feedback)
            return
        queue = self._pending
        queue.append((end + self.conversion_delay, x, combos, feedback))
        while queue and queue[0][0] <= end:
            _, xq, cq, fq = queue.popleft()
            self.policy.update(xq, cq, *fq)

    def served(self, chunk: Chunk) -> Chunk:
        """The last played chunk with the served compositions' truth (one arm per row)."""
        ctr, cvr, value, cost = self._rows
        reward = ctr if self.objective == "ctr" else ctr * cvr * value - cost
        truth = Truth(
            n_arms=1, ctr=ctr, cvr=cvr, value=value, cost=cost, reward=reward,
            best=chunk.truth.best[chunk.keys],
        )  # fmt: skip
        return dataclasses.replace(chunk, truth=truth, keys=np.arange(chunk.n_rows))


#: ``mvt_ts``'s tempered draw in experiments (``MvtThompson.draw_scale``). Why 0.7: with
#: one posterior draw per batch, every row of the batch explores along the same drawn
#: deviation, and on the default world the draw's noise cost more than it taught: 0.7
#: earned more than the plain draw under both objectives at 300,000 and 1 million
#: impressions, chosen on replications 0-11 and confirmed on 12-23 (docs/generated-research.md,
#: "The tempered draw"). Not tuned further, to avoid fitting the default world.
DRAW_SCALE = 0.7

#: ``mvt_ts``'s annealed exploration in experiments (``MvtThompson.anneal_after``): after
#: this many impressions the draw's scale falls as ``sqrt(ANNEAL_AFTER / n)`` (0.35 of
#: :data:`DRAW_SCALE` by 1 million). Why: by the end of a million impressions the posterior
#: mean alone would serve far more of the gap than the draws did (the research log, "Where
#: the shortfall comes from"): late exploration cost more than it still taught. The one
#: value tried, set before any run, on replications 0-23 of the default world and then
#: confirmed on 24-47 and on three other worlds, which played no part
#: (docs/generated-research.md, "Annealed exploration"). Not tuned further.
ANNEAL_AFTER = 250_000


def engine_learner(scenario: Scenario, **settings) -> MvtThompson:
    """A fresh ``mvt_ts`` as experiments run it, reset for the generated level's space.

    Its contexts are :func:`generated_contexts`; its tied patterns, free user cells,
    main-effect scales and pair blocks come from the scenario's observable structure
    (:func:`tied_patterns`, :func:`user_cells`, :func:`main_scale`,
    :func:`pair_blocks`); the draw is tempered by :data:`DRAW_SCALE` and annealed after
    :data:`ANNEAL_AFTER` impressions. ``settings``
    override ``MvtThompson``'s (the benches' restarts and threads).
    """
    patterns, _ = tied_patterns(scenario)
    policy = MvtThompson(
        **{
            "tied": patterns,
            "user_mask": user_cells(scenario),
            "main_scale": main_scale(scenario),
            "pair_blocks": pair_blocks(scenario),
            "draw_scale": DRAW_SCALE,
            "anneal_after": ANNEAL_AFTER,
            **settings,
        }
    )
    return policy.reset(scenario.levels["generated"].space, patterns.shape[1])


def engine_funnel(scenario: Scenario, **settings) -> FunnelThompson:
    """``mvt_ts`` as experiments run it under net value with CPM pricing, reset.

    Two :func:`engine_learner` s (clicks; conversions per click) and the order
    value from what the advertiser knows: each product's list price and each
    offer's nominal discount (the prior of the share it keeps, which the sales
    then correct). ``settings`` go to both learners.
    """
    level = scenario.levels["generated"]
    space = level.space
    products = level.factor_values[FACTORS.index("product")]
    offers = level.factor_values[FACTORS.index("offer")]
    policy = FunnelThompson(
        clicks=engine_learner(scenario, **settings),
        conversions=engine_learner(scenario, **settings),
        product_axis=int(level.factor_axis[FACTORS.index("product")]),
        price=level.product_price[products],
        offer_axis=int(level.factor_axis[FACTORS.index("offer")]),
        kept_prior=np.array(OFFER_KEPT)[offers],
    )
    return policy.reset(space, policy.clicks.n_user_features_)


def uses_funnel(scenario: Scenario, objective: str) -> bool:
    """Whether ``mvt_ts`` learns through the funnel (:func:`engine_funnel`).

    Under net value with CPM pricing, where the cost of an impression does not
    depend on the creative. Under CPC pricing the cost is paid per click, so the
    score is no longer a product of the funnel's rates; ``mvt_ts`` then learns the
    net value per impression directly (:func:`engine_learner`).
    """
    return objective != "ctr" and scenario.response.pricing == "cpm"


def generated_route(
    scenario: Scenario, config: ExperimentConfig, level: str, spec: str, rng: np.random.Generator
) -> GeneratedRoute | SkippedRoute:
    """The route of policy ``spec`` at the generated level (or a skipped pair's)."""
    if not applies(level, spec):
        return SkippedRoute()
    low, high = -scenario.response.max_cost, scenario.response.max_revenue
    space = scenario.levels["generated"].space
    policy, oracle, contextual = None, None, False
    if spec == "oracle":
        oracle = oracle_table(scenario, config.objective)
    elif spec == "mvt_ts":
        funnel = uses_funnel(scenario, config.objective)
        policy = engine_funnel(scenario) if funnel else engine_learner(scenario)
        contextual = True
    else:
        policy = GENERATED_POLICIES[spec]()
        policy.reset(space, 0)
    return GeneratedRoute(
        policy=policy,
        oracle=oracle,
        rng=rng,
        contextual=contextual,
        scenario=scenario,
        objective=config.objective,
        batch_size=config.batch_size,
        budget=None if config.budget is None else float(config.budget),
        conversion_delay=config.conversion_delay,
        reward_scale=(low, high - low),
    )


# --- outputs: component effects and the most-served creatives ---------------------------------


# Serial, as the engine's workers are forked (see :func:`fork_safe`).
@njit(cache=True, nogil=True)
def _mean_reward_kernel(c0, v0, toc, tov, pkc, pkv, gc, lc, langc, langv, value, cost, cpc,
                        mode, e):  # fmt: skip
    """The users' summed expected reward of every row of factors ``e`` (n_rows, len(FACTORS)).

    The sums of :func:`_probe`'s logit tables, as :func:`_best_kernel` scores them.

    Returns
    -------
    total : ndarray of shape (n_rows,)
    """
    n, m = c0.shape[0], e.shape[0]
    out = np.zeros(m)
    for r in range(m):
        p, t, o, g, k, ly, la = e[r, 0], e[r, 1], e[r, 2], e[r, 3], e[r, 4], e[r, 5], e[r, 6]
        acc = 0.0
        for u in range(n):
            c = c0[u] + toc[u, t, o] + pkc[u, p, k] + gc[u, g] + lc[u, ly] + langc[u, la]
            ctr = 1.0 / (1.0 + np.exp(-c))
            if mode == 0:
                acc += ctr
                continue
            v = v0[u] + tov[u, t, o] + pkv[u, p, k] + langv[u, la]
            cvr = 1.0 / (1.0 + np.exp(-v))
            acc += ctr * cvr * value[p, o] - (cost[u] if mode == 1 else cpc * ctr)
        out[r] = acc
    return out


def _valid_cells(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~simulation.generated.valid_mix.valid_mix` of the generated level, memoized.

    Returns
    -------
    factors : ndarray of shape (n_cells, len(FACTORS)), int64
        The factors of each cell of the axes the response reads.
    shares : ndarray of shape (n_levels_total + 1, n_cells)
        Row ``m``: the share of the valid compositions with flat level ``m`` that
        fall in each cell (NaN for a level no valid composition uses); the last
        row: the share of all valid compositions in each cell.
    """
    from simulation.generated.valid_mix import valid_mix

    key = ("generated_valid_cells",)
    if key not in scenario.memo:
        level = scenario.levels["generated"]
        space = level.space
        cells, weights = valid_mix(space, [int(a) for a in level.factor_axis if a >= 0])
        # Every valid composition uses one level of the first axis: their sum is the count.
        counts = weights[space.axis_of == 0].sum(axis=0)
        rows = np.vstack([weights, counts[None]])
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = rows / rows.sum(axis=1, keepdims=True)
        factors = level.factors(cells)
        for a in (factors, shares):
            a.flags.writeable = False
        scenario.memo[key] = (factors, shares)
    return scenario.memo[key]


def true_component_effects(
    scenario: Scenario,
    objective: str,
    rng: np.random.Generator,
    *,
    n_users: int = 200,
    block: int = 100,
) -> np.ndarray:
    """The true effect of every component level, per segment and for the whole audience.

    Over what can be served: the valid compositions, uniformly (the ``uniform``
    policy's distribution). The effect of level ``m`` of axis ``j`` is the mean
    expected reward over the valid compositions with ``j = m`` minus the mean
    over all valid compositions, for users of the group. The compositions'
    average is exact (the valid ones are counted by the setting of the axes the
    response reads, :func:`~simulation.generated.valid_mix.valid_mix`); the users'
    is over a sample of ``n_users`` per segment, the same users for every level.
    A level no valid composition uses has no effect (NaN). Every valid
    composition counts once, so an axis's effects weighted by the share of
    compositions using each level add up to zero (not their plain sum).

    Parameters
    ----------
    n_users : int, default 200
        Users sampled per segment (all of a smaller segment).
    block : int, default 100
        Users evaluated per kernel call.

    Returns
    -------
    effects : ndarray of shape (n_segments + 1, n_levels_total)
        In the objective's units (expected clicks or net value per impression);
        the last row is the audience's (segments weighted by size).
    """
    level = scenario.levels["generated"]
    seg = scenario.segmentation
    factors, shares = _valid_cells(scenario)
    mode = 0 if objective == "ctr" else (1 if scenario.response.pricing == "cpm" else 2)
    cpc = float(scenario.response.params.cpc)
    rows, sizes = [], []
    for s in range(seg.n_segments):
        members = np.flatnonzero(seg.labels == s)
        sizes.append(members.size)
        users = rng.choice(members, size=min(n_users, members.size), replace=False)

        def total(lo: int, users: np.ndarray = users) -> np.ndarray:
            t = _probe(scenario, level, users[lo : lo + block])
            return _mean_reward_kernel(
                t["c0"], t["v0"], t["toc"], t["tov"], t["pkc"], t["pkv"], t["gc"], t["lc"],
                t["langc"], t["langv"], t["value"], t["cost"], cpc, mode, factors,
            )  # fmt: skip

        # Blocks of users in plain threads, as in best_compositions (the kernel releases
        # the GIL; plain threads leave the process safe to fork). Summed in block order.
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            totals = list(pool.map(total, range(0, users.size, block)))
        by_level = shares @ (np.sum(totals, axis=0) / users.size)
        rows.append(by_level[:-1] - by_level[-1])
    rows = np.array(rows)
    weights = np.array(sizes, dtype=np.float64) / sum(sizes)
    return np.vstack([rows, weights @ rows])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GeneratedOutputs:
    """The generated level's outputs beyond the totals.

    Attributes
    ----------
    policies : tuple of str
        The run's policies (the second axis of the arrays).
    groups : tuple of str
        Segment names, then ``"all"``.
    axis_names : tuple of str
    level_names : tuple of str
        Name of every flat level, shape (n_levels_total,).
    axis_of : ndarray of shape (n_levels_total,), int64
    estimate, sd : ndarray of shape (n_replications, n_policies, n_groups, n_levels_total)
        NaN for policies without effects (all but ``mvt_ts``) or not run.
    truth : ndarray of shape (n_groups, n_levels_total)
    top : ndarray of shape (n_replications, n_policies, n_segments, n_axes), int64
        Each segment's most-served composition, -1 where none.
    top_share : ndarray of shape (n_replications, n_policies, n_segments)
    served : ndarray of shape (n_replications, n_policies, n_groups, n_levels_total)
        Impressions served with each component level (zero for policies not run).
    objective : str
    """

    policies: tuple[str, ...]
    groups: tuple[str, ...]
    axis_names: tuple[str, ...]
    level_names: tuple[str, ...]
    axis_of: np.ndarray
    estimate: np.ndarray
    sd: np.ndarray
    truth: np.ndarray
    top: np.ndarray
    top_share: np.ndarray
    served: np.ndarray
    objective: str

    def effects_frame(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """One row per (policy with effects, seed, group, level): estimate, interval, truth.

        Columns: level ("generated"), policy, seed, segment, axis, component,
        estimate, low, high (the central ``1 - alpha`` posterior interval), true.
        """
        from scipy.stats import norm

        z = float(norm.ppf(1 - alpha / 2))
        r, p, g, m = (a.ravel() for a in np.indices(self.estimate.shape))
        est, sd = self.estimate.ravel(), self.sd.ravel()
        keep = np.isfinite(est)
        frame = pd.DataFrame(
            {
                "level": "generated",
                "policy": np.array(self.policies, dtype=object)[p],
                "seed": r,
                "segment": np.array(self.groups, dtype=object)[g],
                "axis": np.array(self.axis_names, dtype=object)[self.axis_of[m]],
                "component": np.array(self.level_names, dtype=object)[m],
                "estimate": est,
                "low": est - z * sd,
                "high": est + z * sd,
                "true": self.truth[g, m],
            }
        )
        return frame[keep].reset_index(drop=True)

    def served_frame(self) -> pd.DataFrame:
        """What each policy served, by component: one row per (policy, seed, group, level).

        Columns: level ("generated"), policy, seed, segment (a segment's name or
        "all"), axis, component, impressions (served with that component),
        share (of the group's impressions at the generated level; each axis's
        shares add up to 1). Policies that served nothing (skipped at the level)
        and groups never served give no rows.
        """
        axis_of = np.asarray(self.axis_of)
        # Every axis's counts add up to the group's impressions; the first axis's give them.
        shown = self.served[..., axis_of == 0].sum(axis=-1)
        r, p, g, m = (a.ravel() for a in np.indices(self.served.shape))
        impressions = self.served.ravel()
        group_total = shown[r, p, g]
        keep = group_total > 0
        frame = pd.DataFrame(
            {
                "level": "generated",
                "policy": np.array(self.policies, dtype=object)[p],
                "seed": r,
                "segment": np.array(self.groups, dtype=object)[g],
                "axis": np.array(self.axis_names, dtype=object)[axis_of[m]],
                "component": np.array(self.level_names, dtype=object)[m],
                "impressions": impressions.astype(np.int64),
                "share": np.divide(impressions, group_total, out=np.zeros_like(impressions),
                                   where=keep),
            }
        )  # fmt: skip
        return frame[keep].reset_index(drop=True)

    def top_frame(self) -> pd.DataFrame:
        """Each (policy, seed, segment)'s most-served composition: one column per axis, share."""
        rows = []
        for (r, p, s), share in np.ndenumerate(self.top_share):
            combo = self.top[r, p, s]
            if combo[0] < 0:
                continue
            rows.append(
                {"level": "generated", "policy": self.policies[p], "seed": r,
                 "segment": self.groups[s], **dict(zip(self.axis_names, combo.tolist())),
                 "share": share}
            )  # fmt: skip
        return pd.DataFrame(rows)


def generated_outputs(
    scenario: Scenario, config: ExperimentConfig, states: dict[tuple[int, int], tuple]
) -> GeneratedOutputs:
    """Gather the routes' :meth:`GeneratedRoute.final_state` into one record.

    Parameters
    ----------
    states : dict of (replication, policy index) to final state
    """
    from simulation.rng import stream

    space = scenario.levels["generated"].space
    seg = scenario.segmentation
    n_rep, n_pol = config.n_seeds, len(config.policies)
    groups = (*(p.name for p in seg.profiles), "all")
    total = space.n_levels_total
    estimate = np.full((n_rep, n_pol, len(groups), total), np.nan)
    sd = np.full_like(estimate, np.nan)
    top = np.full((n_rep, n_pol, seg.n_segments, space.n_axes), -1, dtype=np.int64)
    top_share = np.zeros((n_rep, n_pol, seg.n_segments))
    served = np.zeros((n_rep, n_pol, len(groups), total))
    for (r, p), (est, s, t, share, counts) in states.items():
        if est is not None:
            estimate[r, p], sd[r, p] = est, s
        top[r, p], top_share[r, p], served[r, p] = t, share, counts
    if np.isfinite(estimate).any():
        # A function of the world, the objective and the seed alone: kept in the
        # world's memo, so another run in the same world (the app's) skips it.
        key = ("generated_true_effects", config.objective, config.seed)
        if key not in scenario.memo:
            truth = true_component_effects(
                scenario, config.objective, stream(config.seed, "generated", "true_effects")
            )
            truth.flags.writeable = False
            scenario.memo[key] = truth
        truth = scenario.memo[key]
    else:
        truth = np.full((len(groups), total), np.nan)
    names = space.level_names or tuple(tuple(str(i) for i in range(n)) for n in space.n_levels)
    return GeneratedOutputs(
        policies=tuple(config.policies),
        groups=groups,
        axis_names=tuple(space.axis_names),
        level_names=tuple(name for axis in names for name in axis),
        axis_of=space.axis_of,
        estimate=estimate,
        sd=sd,
        truth=truth,
        top=top,
        top_share=top_share,
        served=served,
        objective=config.objective,
    )
