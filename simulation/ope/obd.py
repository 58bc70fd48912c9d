"""Reader for the Open Bandit Dataset (ZOZOTOWN) format.

Layout: ``{behavior_policy}/{campaign}/{campaign}.csv`` with ``item_context.csv``
beside it, ``behavior_policy`` in ``random`` (uniform) or ``bts`` (Bernoulli
Thompson sampling), ``campaign`` in ``all``, ``men``, ``women``. Each
impression shows three items at positions 1-3 and logs one row per position:
``item_id`` (the action), ``position``, ``click`` (the reward),
``propensity_score`` (the logging probability of that item at that position),
hashed categorical ``user_feature_0..3`` and float ``user-item_affinity_*``.

The shared sample is found through ``ADLAB_OBD_DIR``, defaulting to
``<repo>/../shared/data/obd`` resolved from this file (never the working
directory). Reference: Saito et al., "Open Bandit Dataset and Pipeline",
NeurIPS 2021 Datasets and Benchmarks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.ope.estimators import ESTIMATORS
from simulation.ope.limits import check_cells, check_regular_file, check_reward, shorten
from simulation.ope.logs import (
    LoggedFeedback,
    _numeric_column,
    arm_indices,
    encode_context,
    inferred_arm_count,
    read_csv_bounded,
)

__all__ = [
    "BEHAVIOR_POLICIES",
    "CAMPAIGNS",
    "CrossLogReport",
    "context_free_action_dist",
    "estimate_logging_policy",
    "load_obd",
    "obd_dir",
    "read_obd",
]

BEHAVIOR_POLICIES: tuple[str, ...] = ("random", "bts")
CAMPAIGNS: tuple[str, ...] = ("all", "men", "women")
_ENV = "ADLAB_OBD_DIR"


def obd_dir() -> Path:
    """Dataset root: ``$ADLAB_OBD_DIR``, else ``<repo>/../shared/data/obd``."""
    env = os.environ.get(_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "obd"


def _find_csv(path: Path) -> Path:
    if path.is_dir():
        own = path / f"{path.name}.csv"
        if own.exists():
            return check_regular_file(own)
        found = sorted(p for p in path.glob("*.csv") if p.name != "item_context.csv")
        if len(found) == 1:
            return check_regular_file(found[0])
    elif path.suffix.lower() == ".csv" and path.exists():
        return check_regular_file(path)
    raise ValueError(f"no Open Bandit Dataset log at {shorten(str(path))!r}.")


def read_obd(
    path: str | os.PathLike,
    *,
    position: int | None = None,
    affinity: bool = True,
) -> LoggedFeedback:
    """Read one Open Bandit Dataset log.

    Parameters
    ----------
    path : str or Path
        The campaign CSV, or its folder (which holds ``{campaign}.csv``).
    position : {1, 2, 3}, optional
        Keep only the rows of this slot; default: all rows.
    affinity : bool, default=True
        Include the ``user-item_affinity_*`` columns in the context.

    Returns
    -------
    LoggedFeedback
        ``action`` is ``item_id``, ``reward`` is ``click``, ``pscore`` is
        ``propensity_score``; ``context`` holds the one-hot encoded
        ``user_feature_*`` columns (categories sorted) then the affinities;
        ``n_arms`` is the number of items in ``item_context.csv`` (else
        ``max(item_id) + 1``, the smallest ``item_id`` being 0);
        ``action_context`` holds the item features (``item_feature_0`` then
        one-hot text features). ``metadata["timestamp"]`` is not kept; rows stay
        in file (time) order.

    Raises
    ------
    ValueError
        When the file is missing or lacks a required column.
    """
    csv = _find_csv(Path(path))
    frame = read_csv_bounded(csv, index_col=0)
    required = ("item_id", "position", "click", "propensity_score")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{missing[0]}` column is missing from {shorten(csv.name)!r}; "
            f"required: {list(required)}."
        )
    if len(frame) == 0:
        raise ValueError(f"{shorten(csv.name)!r} has no rows.")
    if position is not None:
        known = sorted(frame["position"].unique().tolist())
        if position not in known:
            raise ValueError(
                f"`position` must be one of {shorten(known)}; got {shorten(repr(position))}."
            )
        frame = frame[frame["position"] == position].reset_index(drop=True)
    action = arm_indices(frame, "item_id")
    reward = _numeric_column(frame, "click")
    check_reward(reward)
    ctx_cols = [c for c in frame.columns if c.startswith("user_feature_")]
    if affinity:
        ctx_cols += [c for c in frame.columns if c.startswith("user-item_affinity_")]
    context, names = encode_context(frame, ctx_cols)
    item_path = csv.parent / "item_context.csv"
    action_context = None
    # item_context.csv declares the items (some may never be shown); without it the
    # item ids must count from 0, as the dataset's own do.
    n_arms = None
    if item_path.exists():
        items = read_csv_bounded(check_regular_file(item_path), index_col=0)
        if "item_id" not in items.columns or len(items) == 0:
            raise ValueError(f"{shorten(str(item_path))!r} has no `item_id` rows.")
        items = items.assign(item_id=arm_indices(items, "item_id")).sort_values("item_id")
        # Declared items may include some never shown, but still count from 0: items
        # numbered from 1 would invent an item 0 and shift every uniform estimate.
        inferred_arm_count(np.concatenate([items["item_id"].to_numpy(), action]), "item_id")
        n_arms = max(int(action.max()), int(items["item_id"].max())) + 1
        if len(items) == n_arms:
            feats = [c for c in items.columns if c.startswith("item_feature_")]
            action_context, _ = encode_context(items, feats)
    if n_arms is None:
        n_arms = inferred_arm_count(action, "item_id")
    check_cells("action probabilities", len(frame), n_arms)
    pscore = _numeric_column(frame, "propensity_score")
    bad = (pscore <= 0) | (pscore > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row + 1}: `propensity_score` must be in (0, 1]; got {float(pscore[row])!r}."
        )
    behavior = csv.parent.parent.name if csv.parent.parent.name in BEHAVIOR_POLICIES else None
    return LoggedFeedback(
        context=context,
        action=action,
        reward=reward,
        pscore=pscore,
        n_arms=n_arms,
        position=_numeric_column(frame, "position").astype(np.int64),
        action_context=action_context,
        feature_names=names,
        metadata={
            "source": str(csv),
            "format": "obd",
            "policy": behavior,
            "campaign": csv.stem,
            "position": position,
        },
    )


def load_obd(
    behavior_policy: str = "random",
    campaign: str = "all",
    *,
    data_dir: str | os.PathLike | None = None,
    position: int | None = None,
    affinity: bool = True,
) -> LoggedFeedback:
    """Read ``{data_dir}/{behavior_policy}/{campaign}/{campaign}.csv``.

    Parameters
    ----------
    behavior_policy : {"random", "bts"}, default="random"
    campaign : {"all", "men", "women"}, default="all"
    data_dir : str or Path, optional
        Dataset root; default :func:`obd_dir`.
    position, affinity
        As in :func:`read_obd`.

    Returns
    -------
    LoggedFeedback
    """
    if behavior_policy not in BEHAVIOR_POLICIES:
        raise ValueError(
            f"`behavior_policy` must be one of {list(BEHAVIOR_POLICIES)}; got {behavior_policy!r}."
        )
    if campaign not in CAMPAIGNS:
        raise ValueError(f"`campaign` must be one of {list(CAMPAIGNS)}; got {campaign!r}.")
    root = Path(data_dir) if data_dir is not None else obd_dir()
    return read_obd(
        root / behavior_policy / campaign / f"{campaign}.csv",
        position=position,
        affinity=affinity,
    )


def context_free_action_dist(log: LoggedFeedback, *, method: str = "frequency") -> np.ndarray:
    """Per-position action distribution of a context-free logging policy, from its own log.

    OBD's Bernoulli TS policy ignores the user but its probabilities drift as
    it is updated during the week, so ``pi(a | position)`` here is the policy
    averaged over the logging period.

    Parameters
    ----------
    log : LoggedFeedback
        The logging policy's own log, with ``position``.
    method : {"frequency", "pscore"}, default="frequency"
        ``"frequency"``: how often each item was shown at each position (an
        unbiased estimate of the period-averaged probabilities). ``"pscore"``:
        the mean logged propensity of each (position, item), over rows where the
        item was shown, normalized to sum to one; it leans toward the periods
        when an item was likely, so it is a cross-check, not the default.

    Returns
    -------
    positions : ndarray of int of shape (n_positions,)
        The sorted distinct positions.
    probs : ndarray of shape (n_positions, n_arms)
        Rows sum to one.
    """
    if log.position is None:
        raise ValueError("`log` has no `position`; context_free_action_dist needs it.")
    if method not in ("frequency", "pscore"):
        raise ValueError(f"`method` must be 'frequency' or 'pscore'; got {method!r}.")
    positions, pos_idx = np.unique(log.position, return_inverse=True)
    flat = pos_idx * log.n_arms + log.action
    size = positions.shape[0] * log.n_arms
    counts = np.bincount(flat, minlength=size).reshape(-1, log.n_arms).astype(np.float64)
    if method == "frequency":
        table = counts
    else:
        sums = np.bincount(flat, weights=log.pscore, minlength=size).reshape(-1, log.n_arms)
        table = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    return positions, table / table.sum(axis=1, keepdims=True)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CrossLogReport:
    """Off-policy estimates of a logging policy's value, next to its on-policy value.

    Parameters
    ----------
    estimators : tuple of str
    estimate, low, high : ndarray of shape (n_estimators,)
        Estimates from the other log and bootstrap interval bounds (the action
        distribution held fixed).
    se : ndarray of shape (n_estimators,)
        Standard error of each estimate: bootstrap over the evaluation log
        combined with the sampling error of the estimated action distribution.
    on_policy, on_policy_se : float
        Mean reward of the target policy's own log and its standard error.
    """

    estimators: tuple[str, ...]
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    se: np.ndarray
    on_policy: float
    on_policy_se: float

    def z_scores(self) -> np.ndarray:
        """``(estimate - on_policy) / sqrt(se**2 + on_policy_se**2)``, shape (n_estimators,)."""
        return (self.estimate - self.on_policy) / np.hypot(self.se, self.on_policy_se)

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator."""
        return pd.DataFrame(
            {
                "estimator": list(self.estimators),
                "estimate": self.estimate,
                "ci_low": self.low,
                "ci_high": self.high,
                "se": self.se,
                "on_policy": self.on_policy,
                "z": self.z_scores(),
            }
        )


def _linear_coefficients(
    name: str, log: LoggedFeedback, pos_idx: np.ndarray, n_pos: int, q: np.ndarray | None
) -> np.ndarray:
    """``G`` with estimate ``= sum(f * G)`` for a per-position policy ``f``, shape (n_pos, n_arms).

    IPS, DM and DR are linear in the action distribution; the self-normalized
    estimators use their unnormalized counterpart (first order: the mean weight is
    about one).
    """
    n, k = log.n_rounds, log.n_arms
    flat = pos_idx * k + log.action
    g = np.zeros(n_pos * k)
    if name in ("ips", "snips"):
        g += np.bincount(flat, weights=log.reward / log.pscore, minlength=n_pos * k)
    elif q is not None:
        factual = q[np.arange(n), log.action]
        dm = np.zeros((n_pos, k))
        np.add.at(dm, pos_idx, q)
        g += dm.ravel()
        if name != "dm":  # dr, switch_dr (taken as dr), sndr
            resid = (log.reward - factual) / log.pscore
            g += np.bincount(flat, weights=resid, minlength=n_pos * k)
    return g.reshape(n_pos, k) / n


def estimate_logging_policy(
    eval_log: LoggedFeedback,
    target_log: LoggedFeedback,
    *,
    rng: np.random.Generator,
    estimators: tuple[str, ...] = ("ips", "snips", "dm", "dr"),
    estimated_rewards: np.ndarray | None = None,
    n_bootstrap: int = 1000,
    alpha: float = 0.05,
    method: str = "frequency",
) -> CrossLogReport:
    """Estimate a context-free logging policy's value from another policy's log.

    The classic Open Bandit Dataset check: ``pi(a | position)`` of the target
    policy (e.g. Bernoulli TS) is estimated from its own log with
    :func:`context_free_action_dist`, the estimators score it on ``eval_log``
    (e.g. the uniform-random log), and the result is compared with the target
    log's own mean reward.

    Parameters
    ----------
    eval_log, target_log : LoggedFeedback
        Logs with ``position`` and the same items.
    rng : numpy.random.Generator
        Source of the bootstrap resamples.
    estimators : tuple of str
        Keys of :data:`simulation.ope.estimators.ESTIMATORS`.
    estimated_rewards : ndarray of shape (n_rounds_eval, n_arms), optional
        Reward model predictions on ``eval_log``; needed by ``dm``/``dr``.
    n_bootstrap, alpha
        Bootstrap resamples and interval level.
    method : {"frequency", "pscore"}
        See :func:`context_free_action_dist`.

    Returns
    -------
    CrossLogReport
        ``se`` adds, in quadrature, the bootstrap standard error on ``eval_log``
        and the multinomial sampling error of the estimated ``pi`` (exact for the
        linear IPS, DM and DR; first order for the self-normalized ones).
    """
    if eval_log.n_arms != target_log.n_arms:
        raise ValueError(
            f"the logs must have the same items; got {eval_log.n_arms} and {target_log.n_arms}."
        )
    positions, probs = context_free_action_dist(target_log, method=method)
    if eval_log.position is None or not np.isin(eval_log.position, positions).all():
        raise ValueError("every `position` of `eval_log` must appear in `target_log`.")
    pos_idx = np.searchsorted(positions, eval_log.position)
    action_dist = probs[pos_idx]
    counts = np.bincount(np.searchsorted(positions, target_log.position), minlength=len(positions))
    arrays = dict(
        reward=eval_log.reward,
        action=eval_log.action,
        pscore=eval_log.pscore,
        action_dist=action_dist,
        estimated_rewards=estimated_rewards,
    )
    boot_seed = rng.integers(2**63)
    estimate, low, high, se = [], [], [], []
    for name in estimators:
        est = ESTIMATORS[name]()
        estimate.append(est.estimate(**arrays))
        boot = est.bootstrap(
            **arrays, n_bootstrap=n_bootstrap, rng=np.random.default_rng(boot_seed)
        )
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        low.append(lo)
        high.append(hi)
        # Var(sum_a f_a G_a) for multinomial frequencies f over n_pos rows:
        # (sum_a f G^2 - (sum_a f G)^2) / n_pos, summed over positions.
        g = _linear_coefficients(name, eval_log, pos_idx, len(positions), estimated_rewards)
        var_pi = ((probs * g**2).sum(axis=1) - (probs * g).sum(axis=1) ** 2) / counts
        se.append(float(np.sqrt(boot.var(ddof=1) + var_pi.sum())))
    on_policy = target_log.on_policy_value()
    return CrossLogReport(
        estimators=tuple(estimators),
        estimate=np.array(estimate),
        low=np.array(low),
        high=np.array(high),
        se=np.array(se),
        on_policy=on_policy,
        on_policy_se=float(target_log.reward.std(ddof=1) / np.sqrt(target_log.n_rounds)),
    )
