"""The batched experiment loop.

For every replication seed and personalization level, impressions arrive in
batches of ``batch_size``. Each round: draw the batch's users, compute the
expected outcome of every arm for every user (ground truth), then let every
policy choose arms for the *same* users and realize outcomes from the *same*
uniforms (common random numbers, so policy differences are paired), and update
the policies (after ``conversion_delay`` impressions).

Memory does not grow with the number of impressions: totals are kept per
(seed, level, policy), copied into a time series at checkpoints, with
cumulative allocation per arm and final totals per (segment, arm).
Impression-level logs are written only on request, streamed in chunks.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig
from simulation.metrics import add_rates, safe_ratio
from simulation.policies import Policy, make_policy
from simulation.response import Expectations
from simulation.rng import stream
from simulation.scenario import Scenario, build_scenario

__all__ = ["SEGMENT_METRICS", "SERIES_METRICS", "ExperimentResult", "run_experiment"]

#: Totals tracked per (seed, level, policy) and in the time series.
SERIES_METRICS: tuple[str, ...] = (
    "impressions",
    "clicks",
    "conversions",
    "spend",
    "revenue",
    "regret",
    "expected_reward",
    "expected_clicks",
    "expected_revenue",
    "expected_spend",
)
#: Totals kept per (segment, arm).
SEGMENT_METRICS: tuple[str, ...] = ("impressions", "clicks", "conversions", "spend", "revenue")
_M = {name: i for i, name in enumerate(SERIES_METRICS)}

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ExperimentResult:
    """Everything an experiment measured, as arrays with readable views.

    Attributes
    ----------
    config : ExperimentConfig
    levels, policies : tuple of str
    checkpoints : ndarray of shape (n_checkpoints,)
        Impressions served (per policy, before any budget stop) at each checkpoint.
    series : ndarray of shape (n_seeds, n_levels, n_policies, n_checkpoints, n_metrics)
        Cumulative totals of :data:`SERIES_METRICS`.
    allocation : ndarray of shape (n_seeds, n_levels, n_policies, n_checkpoints, n_arms)
        Cumulative impressions per arm.
    segment_stats : ndarray of shape (n_seeds, n_levels, n_policies, n_segments, n_arms, 5)
        Final totals of :data:`SEGMENT_METRICS` per segment and arm.
    generic_baseline : ndarray of shape (n_seeds, n_generic_arms, 4) or None
        Expected clicks, conversions, revenue and spend of each generic creative
        had it been shown at every impression (for uplift); None without the
        generic level.
    arm_labels : dict of str to tuple of str
        Per level.
    segment_names : tuple of str
    elapsed_seconds : float
    """

    config: ExperimentConfig
    levels: tuple[str, ...]
    policies: tuple[str, ...]
    checkpoints: np.ndarray
    series: np.ndarray
    allocation: np.ndarray
    segment_stats: np.ndarray
    generic_baseline: np.ndarray | None
    arm_labels: dict[str, tuple[str, ...]]
    segment_names: tuple[str, ...]
    elapsed_seconds: float

    @property
    def n_seeds(self) -> int:
        """Number of replications."""
        return int(self.series.shape[0])

    def _baseline_rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Best generic creative's expected CTR and ROAS per seed, each (n_seeds,)."""
        if self.generic_baseline is None:
            nan = np.full(self.n_seeds, np.nan)
            return nan, nan
        b = self.generic_baseline
        impressions = self.checkpoints[-1]
        ctr = (b[:, :, 0] / impressions).max(axis=1)
        roas = safe_ratio(b[:, :, 2], b[:, :, 3]).max(axis=1)
        return ctr, roas

    def summary_frame(self) -> pd.DataFrame:
        """One row per (policy, level, seed) with totals, rates, regret and uplift.

        ``uplift_ctr`` and ``uplift_roas`` compare the policy's *expected* CTR
        and ROAS over the impressions it served with those of the best single
        generic creative over the same users (expectations, not noisy draws).
        """
        final = self.series[:, :, :, -1, :]
        base_ctr, base_roas = self._baseline_rates()
        rows = []
        for s in range(self.n_seeds):
            for li, level in enumerate(self.levels):
                for pi, policy in enumerate(self.policies):
                    t = final[s, li, pi]
                    exp_ctr = safe_ratio(t[_M["expected_clicks"]], t[_M["impressions"]])
                    exp_roas = safe_ratio(t[_M["expected_revenue"]], t[_M["expected_spend"]])
                    rows.append(
                        {
                            "policy": policy,
                            "level": level,
                            "seed": s,
                            **{m: t[_M[m]] for m in SERIES_METRICS[:6]},
                            "expected_ctr": float(exp_ctr),
                            "expected_roas": float(exp_roas),
                            "uplift_ctr": float(exp_ctr / base_ctr[s] - 1.0),
                            "uplift_roas": float(exp_roas / base_roas[s] - 1.0),
                        }
                    )
        frame = add_rates(pd.DataFrame(rows))
        frame["impressions"] = frame["impressions"].astype(np.int64)
        frame["clicks"] = frame["clicks"].astype(np.int64)
        frame["conversions"] = frame["conversions"].astype(np.int64)
        cols = [
            "policy", "level", "seed", "impressions", "clicks", "conversions", "spend",
            "revenue", "ctr", "cvr", "cpa", "roas", "regret", "expected_ctr", "expected_roas",
            "uplift_ctr", "uplift_roas",
        ]  # fmt: skip
        return frame[cols]

    def timeseries_frame(self) -> pd.DataFrame:
        """Long table: one row per (seed, level, policy, checkpoint) with cumulative metrics."""
        n_s, n_l, n_p, n_c, _ = self.series.shape
        idx = np.indices((n_s, n_l, n_p, n_c)).reshape(4, -1)
        flat = self.series.reshape(-1, len(SERIES_METRICS))
        frame = pd.DataFrame(flat, columns=list(SERIES_METRICS))
        frame.insert(0, "step", self.checkpoints[idx[3]])
        frame.insert(0, "policy", np.asarray(self.policies, dtype=object)[idx[2]])
        frame.insert(0, "level", np.asarray(self.levels, dtype=object)[idx[1]])
        frame.insert(0, "seed", idx[0])
        return add_rates(frame)

    def allocation_frame(self) -> pd.DataFrame:
        """Long table of cumulative impressions per arm at each checkpoint."""
        n_s, n_l, n_p, n_c, n_a = self.allocation.shape
        idx = np.indices((n_s, n_l, n_p, n_c, n_a)).reshape(5, -1)
        labels = {lv: self.arm_labels[lv] for lv in self.levels}
        return pd.DataFrame(
            {
                "seed": idx[0],
                "level": np.asarray(self.levels, dtype=object)[idx[1]],
                "policy": np.asarray(self.policies, dtype=object)[idx[2]],
                "step": self.checkpoints[idx[3]],
                "arm": idx[4],
                "arm_label": [labels[self.levels[li]][a] for li, a in zip(idx[1], idx[4])],
                "impressions": self.allocation.reshape(-1),
            }
        )

    def segment_frame(self) -> pd.DataFrame:
        """Final totals per (seed, level, policy, segment, arm), with rates."""
        shape = self.segment_stats.shape[:5]
        idx = np.indices(shape).reshape(5, -1)
        frame = pd.DataFrame(
            self.segment_stats.reshape(-1, len(SEGMENT_METRICS)), columns=list(SEGMENT_METRICS)
        )
        frame.insert(0, "arm", idx[4])
        frame.insert(0, "segment", idx[3])
        frame.insert(0, "policy", np.asarray(self.policies, dtype=object)[idx[2]])
        frame.insert(0, "level", np.asarray(self.levels, dtype=object)[idx[1]])
        frame.insert(0, "seed", idx[0])
        return add_rates(frame)


def _checkpoint_batches(n_batches: int, n_checkpoints: int) -> np.ndarray:
    """Indices of the batches after which the series is recorded (always the last)."""
    marks = np.unique(np.round(np.linspace(1, n_batches, min(n_checkpoints, n_batches))))
    return marks.astype(np.int64) - 1


def _reward_scale(scenario: Scenario) -> tuple[float, float]:
    """Affine map of net value to [0, 1] for the ROAS objective (argmax-preserving)."""
    low = -scenario.response.max_cost
    high = scenario.response.max_revenue
    return low, high - low


def run_experiment(
    config: ExperimentConfig,
    *,
    scenario: Scenario | None = None,
    progress: ProgressFn | None = None,
    log_path: str | Path | None = None,
) -> ExperimentResult:
    """Run every (seed, level, policy) of ``config``.

    Parameters
    ----------
    config : ExperimentConfig
    scenario : Scenario, optional
        The world to use (built from ``config`` when omitted).
    progress : callable, optional
        ``progress(done, total)`` after every batch of every (seed, level).
    log_path : str or Path, optional
        Write impression-level logged bandit feedback (with propensities and
        the true expected reward of every arm) to this Parquet file.

    Returns
    -------
    result : ExperimentResult
    """
    started = time.perf_counter()
    scenario = scenario if scenario is not None else build_scenario(config)
    levels = tuple(lv for lv in config.levels if lv in scenario.levels)
    n_seeds, n_levels, n_pol = config.n_seeds, len(levels), len(config.policies)
    n_arms = max(scenario.levels[lv].n_arms for lv in levels)
    n_seg = scenario.segmentation.n_segments
    ckpt_batches = _checkpoint_batches(config.n_batches, config.n_checkpoints)
    n_ckpt = ckpt_batches.size
    series = np.zeros((n_seeds, n_levels, n_pol, n_ckpt, len(SERIES_METRICS)))
    allocation = np.zeros((n_seeds, n_levels, n_pol, n_ckpt, n_arms))
    seg_stats = np.zeros((n_seeds, n_levels, n_pol, n_seg, n_arms, len(SEGMENT_METRICS)))
    has_generic = "generic" in scenario.levels
    baseline = np.zeros((n_seeds, scenario.levels["generic"].n_arms, 4)) if has_generic else None
    total_units = n_seeds * n_levels * config.n_batches
    done = 0
    writer = None
    if log_path is not None:
        from simulation.logs import BanditLogWriter

        writer = BanditLogWriter(log_path, n_features=scenario.n_features, n_arms=n_arms)
    try:
        for s in range(n_seeds):
            for li, level_name in enumerate(levels):
                done = _run_level(
                    scenario,
                    config,
                    s,
                    li,
                    level_name,
                    ckpt_batches,
                    series,
                    allocation,
                    seg_stats,
                    baseline,
                    writer,
                    progress,
                    done,
                    total_units,
                )
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    ckpt_impressions = np.minimum((ckpt_batches + 1) * config.batch_size, config.n_impressions)
    return ExperimentResult(
        config=config,
        levels=levels,
        policies=config.policies,
        checkpoints=ckpt_impressions,
        series=series,
        allocation=allocation,
        segment_stats=seg_stats,
        generic_baseline=baseline,
        arm_labels={lv: scenario.levels[lv].arm_labels for lv in levels},
        segment_names=tuple(p.name for p in scenario.segmentation.profiles),
        elapsed_seconds=time.perf_counter() - started,
    )


def _run_level(
    scenario: Scenario,
    config: ExperimentConfig,
    s: int,
    li: int,
    level_name: str,
    ckpt_batches: np.ndarray,
    series: np.ndarray,
    allocation: np.ndarray,
    seg_stats: np.ndarray,
    baseline: np.ndarray | None,
    writer,
    progress: ProgressFn | None,
    done: int,
    total_units: int,
) -> int:
    """One (seed, level): every policy on the same users and uniforms."""
    level = scenario.levels[level_name]
    k = level.n_arms
    n_seg = scenario.segmentation.n_segments
    labels = scenario.segmentation.labels
    seed = config.seed
    # Re-created for every level: the same users and uniforms at every level.
    users_rng = stream(seed, "replication", s, "users")
    outcome_rng = stream(seed, "replication", s, "outcomes")
    policies: list[Policy] = []
    policy_rngs = []
    for spec in config.policies:
        pol = make_policy(spec, n_segments=n_seg).reset(k, scenario.n_features)
        policies.append(pol)
        policy_rngs.append(stream(seed, "replication", s, "policy", level_name, spec))
    n_pol = len(policies)
    totals = np.zeros((n_pol, len(SERIES_METRICS)))
    counts = np.zeros((n_pol, k))
    seg_tot = np.zeros((n_pol, n_seg * k, len(SEGMENT_METRICS)))
    remaining = np.full(n_pol, np.inf if config.budget is None else float(config.budget))
    pending: list[deque] = [deque() for _ in range(n_pol)]
    low, span = _reward_scale(scenario)
    generic = scenario.levels.get("generic")
    ckpt_set = {int(b): i for i, b in enumerate(ckpt_batches)}
    served_before = 0
    for b in range(config.n_batches):
        n = min(config.batch_size, config.n_impressions - served_before)
        idx = users_rng.integers(0, scenario.population.n_users, size=n)
        users = scenario.population.take(idx)
        segs = labels[idx]
        contexts = scenario.contexts(idx)
        exp = scenario.response.expectations(users, level.arm_attributes(users, segs))
        reward_exp = exp.reward(config.objective)
        best = reward_exp.max(axis=1)
        uniforms = scenario.response.draw_uniforms(n, outcome_rng)
        if baseline is not None and level_name == "generic":
            _add_baseline(baseline[s], exp)
        elif baseline is not None and li == 0 and generic is not None:
            gexp = scenario.response.expectations(users, generic.arm_attributes(users, segs))
            _add_baseline(baseline[s], gexp)
        rows_all = np.arange(n)
        end = served_before + n
        for pi, pol in enumerate(policies):
            if remaining[pi] <= 0:
                continue
            rng = policy_rngs[pi]
            if pol.uses_ground_truth:
                pol.set_ground_truth(reward_exp)
            arms = pol.select(contexts, rng)
            click, conv, revenue, cost = scenario.response.realize(exp, arms, uniforms)
            m = n
            if np.isfinite(remaining[pi]):
                # Serve impressions until the budget runs out (the one that
                # crosses the cap is still paid for, as on ad platforms).
                spent = np.cumsum(cost)
                m = int(min(n, np.searchsorted(spent, remaining[pi], side="left") + 1))
                remaining[pi] -= spent[m - 1]
            rows = rows_all[:m]
            a = arms[:m]
            if config.objective == "ctr":
                reward = click[:m].astype(np.float64)
            else:
                reward = (revenue[:m] - cost[:m] - low) / span
            if writer is not None:
                probs = pol.action_probabilities(contexts[:m], rng)
                writer.write(
                    impression=served_before + rows,
                    seed=s,
                    level=level_name,
                    policy=config.policies[pi],
                    segment=segs[:m],
                    context=contexts[:m],
                    action=a,
                    pscore=probs[rows, a],
                    click=click[:m],
                    conversion=conv[:m],
                    revenue=revenue[:m],
                    cost=cost[:m],
                    reward=reward,
                    expected_reward=_pad(reward_exp[:m], writer.n_arms),
                )
            t = totals[pi]
            t[0] += m
            t[1] += click[:m].sum()
            t[2] += conv[:m].sum()
            t[3] += cost[:m].sum()
            t[4] += revenue[:m].sum()
            chosen = reward_exp[rows, a]
            t[5] += (best[:m] - chosen).sum()
            t[6] += chosen.sum()
            t[7] += exp.ctr[rows, a].sum()
            t[8] += exp.revenue[rows, a].sum()
            t[9] += exp.cost[rows, a].sum()
            counts[pi] += np.bincount(a, minlength=k)
            cell = segs[:m].astype(np.int64) * k + a
            size = n_seg * k
            seg_tot[pi, :, 0] += np.bincount(cell, minlength=size)
            seg_tot[pi, :, 1] += np.bincount(cell, weights=click[:m], minlength=size)
            seg_tot[pi, :, 2] += np.bincount(cell, weights=conv[:m], minlength=size)
            seg_tot[pi, :, 3] += np.bincount(cell, weights=cost[:m], minlength=size)
            seg_tot[pi, :, 4] += np.bincount(cell, weights=revenue[:m], minlength=size)
            if config.conversion_delay == 0:
                pol.update(contexts[:m], a, reward)
            else:
                queue = pending[pi]
                queue.append((end + config.conversion_delay, contexts[:m], a, reward))
                while queue and queue[0][0] <= end:
                    _, x, aa, rr = queue.popleft()
                    pol.update(x, aa, rr)
        served_before = end
        if b in ckpt_set:
            c = ckpt_set[b]
            series[s, li, :, c, :] = totals
            allocation[s, li, :, c, :k] = counts
        done += 1
        if progress is not None:
            progress(done, total_units)
    seg_stats[s, li, :, :, :k, :] = seg_tot.reshape(n_pol, n_seg, k, len(SEGMENT_METRICS))
    return done


def _add_baseline(acc: np.ndarray, exp: Expectations) -> None:
    """Add each generic arm's expected clicks, conversions, revenue, spend (K, 4)."""
    acc[:, 0] += exp.ctr.sum(axis=0)
    acc[:, 1] += (exp.ctr * exp.cvr).sum(axis=0)
    acc[:, 2] += exp.revenue.sum(axis=0)
    acc[:, 3] += np.broadcast_to(exp.cost, exp.ctr.shape).sum(axis=0)


def _pad(values: np.ndarray, width: int) -> np.ndarray:
    if values.shape[1] == width:
        return values
    out = np.full((values.shape[0], width), np.nan)
    out[:, : values.shape[1]] = values
    return out
