"""Coverage of the OPE intervals, measured on simulated logs whose truth is known.

A small experiment is run with one or more logging policies and many seeds
(:func:`simulation.engine.run_experiment` with an impression log); every
(logging policy, seed) pair is one log. On each log a fixed target policy is
evaluated with every estimator and interval method, and the interval is
checked against the true value of that policy on the log's rows,
``mean_i sum_a pi(a | x_i) q_true(x_i, a)`` (on the reward's scale, see
:func:`simulation.ope.logs.read_log`).

The target policy puts ``1 - target_epsilon`` on the arm whose true expected
reward is highest for the row and spreads ``target_epsilon`` evenly: a fixed
function of the context, chosen before any reward is seen, far from the
logging policies (so the importance weights matter), as in the Open Bandit
Pipeline's synthetic studies.

``bench/ope_coverage.py`` prints the tables of ``docs/ope.md`` ("Coverage").
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simulation.ope.estimators import ESTIMATORS, INTERVAL_METHODS
from simulation.ope.evaluate import reward_bounds
from simulation.ope.logs import LoggedFeedback, read_log
from simulation.ope.reward_model import cross_fit

__all__ = ["CoverageResult", "coverage_study", "target_policy"]


def target_policy(expected_reward: np.ndarray, epsilon: float) -> np.ndarray:
    """The study's target: ``1 - epsilon`` on each row's truly best arm, the rest spread.

    Parameters
    ----------
    expected_reward : ndarray of shape (n_rounds, n_arms)
        True expected reward of every arm.
    epsilon : float
        Share spread evenly over all arms, in ``[0, 1]``.

    Returns
    -------
    ndarray of shape (n_rounds, n_arms)
        Action probabilities; rows sum to one.
    """
    n, k = expected_reward.shape
    dist = np.full((n, k), epsilon / k)
    dist[np.arange(n), expected_reward.argmax(axis=1)] += 1.0 - epsilon
    return dist


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CoverageResult:
    """Per-log results of a coverage study.

    Parameters
    ----------
    objective : str
        ``"ctr"`` or ``"roas"``.
    logging : ndarray of str of shape (n_logs,)
        Logging policy of each log.
    truth : ndarray of shape (n_logs,)
        True value of the target policy on each log's rows.
    estimators : tuple of str
    methods : tuple of str
        Interval methods.
    estimate : ndarray of shape (n_logs, n_estimators)
    low, high : ndarray of shape (n_logs, n_estimators, n_methods)
    n_rows : int
        Rows per log.
    """

    objective: str
    logging: np.ndarray
    truth: np.ndarray
    estimators: tuple[str, ...]
    methods: tuple[str, ...]
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_rows: int

    @property
    def covered(self) -> np.ndarray:
        """Whether each interval holds the truth, shape (n_logs, n_estimators, n_methods)."""
        truth = self.truth[:, None, None]
        return (self.low <= truth) & (truth <= self.high)

    def summary(self) -> pd.DataFrame:
        """Coverage (with its binomial standard error), relative error and width.

        One row per logging policy (and ``"all"``), estimator and method:
        ``coverage``, ``coverage_se = sqrt(c (1 - c) / n_logs)``,
        ``mean_rel_error = mean |estimate - truth| / truth`` and
        ``mean_rel_width = mean (high - low) / truth``.
        """
        rows = []
        groups = [("all", np.ones(self.logging.shape[0], dtype=bool))]
        groups += [(name, self.logging == name) for name in np.unique(self.logging)]
        for group, mask in groups:
            n = int(mask.sum())
            truth = self.truth[mask]
            for j, est in enumerate(self.estimators):
                rel = np.abs(self.estimate[mask, j] - truth) / np.abs(truth)
                for m, method in enumerate(self.methods):
                    cov = float(self.covered[mask, j, m].mean())
                    width = (self.high[mask, j, m] - self.low[mask, j, m]) / np.abs(truth)
                    rows.append(
                        dict(
                            objective=self.objective,
                            logging=group,
                            estimator=est,
                            method=method,
                            n_logs=n,
                            coverage=cov,
                            coverage_se=float(np.sqrt(cov * (1 - cov) / n)),
                            mean_rel_error=float(rel.mean()),
                            mean_rel_width=float(width.mean()),
                        )
                    )
        return pd.DataFrame(rows)


def _evaluate(
    log: LoggedFeedback,
    *,
    estimators: tuple[str, ...],
    methods: tuple[str, ...],
    target_epsilon: float,
    n_bootstrap: int,
    n_folds: int,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Truth, estimates (n_est,) and bounds (n_est, n_methods) on one log."""
    dist = target_policy(log.expected_reward, target_epsilon)
    model_rng, boot_rng = rng.spawn(2)
    model = None
    if any(ESTIMATORS[name].requires_estimated_rewards for name in estimators):
        # The joint model: one fit per fold instead of one per arm and fold.
        model = cross_fit(
            log.context,
            log.action,
            log.reward,
            n_arms=log.n_arms,
            rng=model_rng,
            n_folds=n_folds,
            mode="joint",
        )
    arrays = dict(
        reward=log.reward,
        action=log.action,
        pscore=log.pscore,
        action_dist=dist,
        # The model itself, as evaluate_policy passes it: each resample refits it.
        reward_model=model,
    )
    seed = int(boot_rng.integers(2**63))
    # The unseen event's reward is the top of the range a reward can take, taken as the
    # `ope` command takes it (reward_bounds): a click's 1; on a ROAS log the largest net
    # value the world that wrote it allows (its metadata), not the log's largest reward,
    # which a log without a large sale puts far too low.
    floor, ceiling, source = reward_bounds(log.reward, metadata=log.metadata)
    margin_range = (
        (min(0.0, floor), max(1.0, ceiling)) if source == "observed" else (floor, ceiling)
    )
    estimate = np.empty(len(estimators))
    bounds = np.empty((len(estimators), len(methods), 2))
    q = None if model is None else model.q
    for j, name in enumerate(estimators):
        est = ESTIMATORS[name]()
        estimate[j] = est.estimate(
            reward=log.reward, action=log.action, pscore=log.pscore, action_dist=dist,
            estimated_rewards=q,
        )  # fmt: skip
        # One bootstrap per estimator (the same resamples for all): the methods
        # differ only by the margin of one event on the upper bound.
        low, high = est.interval(
            **arrays, n_bootstrap=n_bootstrap, rng=np.random.default_rng(seed), method="percentile"
        )
        margin = est.event_margin(**arrays, reward_range=margin_range)
        for m, method in enumerate(methods):
            bounds[j, m] = low, high + (margin if method == "one_more_event" else 0.0)
    return log.ground_truth_value(dist), estimate, bounds[..., 0], bounds[..., 1]


def coverage_study(
    objective: str,
    *,
    n_seeds: int = 75,
    logging_policies: tuple[str, ...] = ("uniform", "epsilon_greedy"),
    n_rows: int = 5_000,
    n_users: int = 2_000,
    estimators: tuple[str, ...] = ("ips", "snips", "dm", "dr"),
    methods: tuple[str, ...] = INTERVAL_METHODS,
    target_epsilon: float = 0.2,
    n_bootstrap: int = 500,
    n_folds: int = 2,
    seed: int = 0,
) -> CoverageResult:
    """Simulate ``n_seeds * len(logging_policies)`` logs and evaluate a fixed target on each.

    Parameters
    ----------
    objective : {"ctr", "roas"}
    n_seeds : int, default=75
        Replications of the experiment (at most 100); each logging policy gives
        one log per seed.
    logging_policies : tuple of str, default=("uniform", "epsilon_greedy")
        Registered policies that log; they learn as they go, as in a real run.
    n_rows : int, default=5000
        Impressions per log (one targeting level, ``"segment"``).
    n_users : int, default=2000
    estimators : tuple of str, default=("ips", "snips", "dm", "dr")
    methods : tuple of str, default=INTERVAL_METHODS
        Keys of :data:`simulation.ope.estimators.INTERVAL_METHODS`.
    target_epsilon : float, default=0.2
        See :func:`target_policy`.
    n_bootstrap : int, default=500
    n_folds : int, default=2
        Cross-fitting folds of the (joint) reward model.
    seed : int, default=0
        Base seed of the experiment and of the evaluation.

    Returns
    -------
    CoverageResult
    """
    from simulation.config import ExperimentConfig
    from simulation.engine import run_experiment

    bad = [m for m in methods if m not in INTERVAL_METHODS]
    if bad:
        raise ValueError(f"`methods` must be among {list(INTERVAL_METHODS)}; got {bad[0]!r}.")

    config = ExperimentConfig(
        seed=seed,
        n_users=n_users,
        levels=("segment",),
        policies=tuple(logging_policies),
        n_impressions=n_rows,
        batch_size=min(500, n_rows),
        n_seeds=n_seeds,
        objective=objective,
        n_checkpoints=2,
    )
    rng = np.random.default_rng(seed)
    logging, truth, estimate, low, high = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "logs.parquet"
        run_experiment(config, log_path=path)
        seeds = np.unique(pq.read_table(path, columns=["seed"])["seed"].to_numpy())
        for policy in logging_policies:
            for run_seed, log_rng in zip(seeds, rng.spawn(len(seeds)), strict=True):
                log = read_log(path, policy=policy, seed=int(run_seed))
                if log.expected_reward is None:
                    raise ValueError(f"the {objective} log has no truth on the reward's scale.")
                t, e, lo, hi = _evaluate(
                    log,
                    estimators=tuple(estimators),
                    methods=tuple(methods),
                    target_epsilon=target_epsilon,
                    n_bootstrap=n_bootstrap,
                    n_folds=n_folds,
                    rng=log_rng,
                )
                logging.append(policy)
                truth.append(t)
                estimate.append(e)
                low.append(lo)
                high.append(hi)
    return CoverageResult(
        objective=objective,
        logging=np.array(logging),
        truth=np.array(truth),
        estimators=tuple(estimators),
        methods=tuple(methods),
        estimate=np.array(estimate),
        low=np.array(low),
        high=np.array(high),
        n_rows=n_rows,
    )
