"""Off-policy evaluation of a registered policy on one log, and log loading.

Design (train then evaluate, on one log):

1. The log's rows are split at random (:func:`split_rows`, a fixed seed,
   :data:`SPLIT_SEED`, so the same log always gives the same split): a
   ``--train-fraction`` share trains the policy, the rest evaluate it. A split in
   file order gave a log written by two policies one after the other (the engine
   writes a policy's rows together) a training part from one logging policy and
   an evaluation part from the other: on a uniform-then-lin_ucb log, every
   evaluation row came from the deterministic lin_ucb (pscore 1), and IPS missed
   the truth by 3x with no warning. Training *replays* the logged actions and
   rewards through ``policy.update`` in one batch, in log order (the policy does
   not choose during training: the log only knows the logged arm's reward). A
   policy that learns on [0, 1] trains on a ROAS log's net value mapped as the
   engine maps it (:func:`_learning_scale`).
2. The trained policy's ``action_probabilities`` on the evaluation rows give
   ``action_dist``; the estimators score it with the logged propensities.
3. ``dm``/``dr`` and variants use a reward model cross-fitted on the
   evaluation rows only (:func:`simulation.ope.reward_model.fit_reward_model`): no
   row's prediction comes from a model that saw that row, and the model never
   sees the training rows, whose noise the trained policy has latched onto
   (fitting q there too made DM overrate the policy by ~30% on simulated logs).
4. Intervals are 95% bootstrap intervals over the evaluation rows, the reward
   model refit on each resample to first order (``reward_model=`` of
   :meth:`simulation.ope.estimators.BaseEstimator.interval`; DM's interval held
   the model fixed before and covered the truth on 7 % of the study's logs), whose
   upper bound allows one unseen event (``method="one_more_event"`` of
   :meth:`simulation.ope.estimators.BaseEstimator.interval`), so they keep their
   coverage when rewards are rare; every estimator uses the same resamples (one
   seed), so their intervals are comparable. What each covers is the
   estimator's own ``interval_covers`` (DM's refits its reward model, when given it),
   kept per estimator in :attr:`OPEReport.interval_covers`. An interval always contains its own
   estimate (a percentile interval that misses it, possible when the resampled
   estimates are skewed, is widened to it). Estimate and interval are then clipped
   to the range the policy's value can take (:func:`reward_bounds`: a declared
   range, a ROAS log's own range of net value, [0, 1] for clicks, or, flagged, the
   observed rewards; the one unseen event's reward is its top), the estimate
   with them, so it never lies outside its interval: the margin of one unseen event
   grows with the largest weight (a propensity of 1e-6 on the Open Bandit Dataset
   gave a click rate the upper bound 4.38), and IPS on propensities that cannot be
   right printed a click rate of 2.05 beside the interval [1, 1]. Clipping moves an
   estimate toward every value the truth can take, so it never adds error; the
   unclipped estimate is kept (``OPEReport.raw_estimate``) and printed beside a
   clipped one (:meth:`OPEReport.clip_notes`), since an estimate outside the range
   is itself a symptom (wrong propensities, or a few heavy weights).
5. :class:`simulation.ope.support.Support` says how much of the log the estimate
   rests on (effective sample size, clicks, the share of the policy's choices
   the log can show at all); see that module.
6. For simulated logs with ground truth (``q_true_*``) the true value of the
   policy on the evaluation rows, ``mean_i sum_a pi(a|x_i) q_true(x_i, a)``, and
   each estimator's error are reported too, on the scale of the log's ``reward``
   (:func:`simulation.ope.logs.read_log` maps a ROAS log's truth onto it).

One ``--seed`` drives policy randomness, reward-model folds and the bootstrap
through independent streams; the split does not depend on it, so estimates under
different seeds rest on the same rows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.ope.estimators import ESTIMATORS, check_ope_inputs
from simulation.ope.limits import (
    MIN_EVAL_ROWS,
    check_bootstrap,
    check_cells,
    check_regular_file,
    open_bounded,
    shorten,
)
from simulation.ope.logs import LoggedFeedback, import_log, is_adlab_log, read_log
from simulation.ope.reward_model import cross_fit
from simulation.ope.support import Support, support_of
from simulation.policies.base import learning_scale

__all__ = [
    "BOUNDS_SOURCES",
    "CLI_RANGE_ADVICE",
    "FORMATS",
    "SPLIT_SEED",
    "OPEReport",
    "check_reward_range",
    "evaluate_policy",
    "load_any_log",
    "reward_bounds",
    "split_rows",
]

#: Log formats :func:`load_any_log` reads.
FORMATS = ("auto", "adlab", "obd", "csv")

#: Seed of the random train/evaluation split (fixed: a log always splits the same way).
SPLIT_SEED = 0


#: Where :func:`reward_bounds` took the range from (``OPEReport.bounds_source``).
BOUNDS_SOURCES = ("declared", "log", "clicks", "observed")


def reward_bounds(
    reward: np.ndarray,
    *,
    declared: tuple[float, float] | None = None,
    metadata: Mapping | None = None,
) -> tuple[float, float, str]:
    """The range a policy's value can take on a log with these rewards, and its source.

    A mean reward per impression cannot leave the range one reward can take, so the
    estimates and intervals are clipped to it, and the one-unseen-event margin of the
    intervals moves a reward to its top. The range must be what a reward *can* be,
    not what the rows happened to show: on a ROAS log where conversions are rare, the
    observed rewards were all costs (negative), and their range cut off every positive
    value, the truth included.

    Parameters
    ----------
    reward : ndarray of shape (n_rounds,)
    declared : (float, float), optional
        The range the user declares (``--reward-range``); it must contain ``reward``.
    metadata : mapping, optional
        The log's ``metadata`` (:func:`simulation.ope.logs.read_log`): on a ROAS log,
        ``value_low`` and ``value_high`` (the net value one impression can have in the
        world that wrote it), put on the reward's scale by ``reward_offset`` and
        ``reward_span``.

    Returns
    -------
    (low, high, source) : tuple of (float, float, str)
        ``source`` is ``"declared"`` (``declared``), ``"log"`` (the log's metadata,
        widened to the rewards should a reward lie outside it), ``"clicks"`` (``(0, 1)``:
        0/1 rewards) or ``"observed"`` (the rewards' own minimum and maximum: nothing
        says what else a reward can be, so a rare large reward may be missing).

    Raises
    ------
    ValueError
        For a ``declared`` range that is not two finite numbers ``low < high``, or that
        leaves out an observed reward.
    """
    if declared is not None:
        low, high = check_reward_range(declared)
        if reward.size and (reward.min() < low or reward.max() > high):
            raise ValueError(
                f"the reward range [{low:g}, {high:g}] leaves out rewards the log holds "
                f"(they run from {reward.min():g} to {reward.max():g}); declare a range "
                "that contains every reward."
            )
        return low, high, "declared"
    meta = metadata or {}
    if meta.get("objective") == "roas" and "value_low" in meta and "value_high" in meta:
        offset, span = meta.get("reward_offset", 0.0), meta.get("reward_span", 1.0)
        low = (meta["value_low"] - offset) / span
        high = (meta["value_high"] - offset) / span
        if reward.size:  # a reward outside the world's range: trust the reward
            low, high = min(low, float(reward.min())), max(high, float(reward.max()))
        return float(low), float(high), "log"
    if np.isin(reward, (0.0, 1.0)).all():
        return 0.0, 1.0, "clicks"
    return float(reward.min()), float(reward.max()), "observed"


def check_reward_range(reward_range) -> tuple[float, float]:
    """``reward_range`` as two floats ``low < high``, or a ValueError saying what is wrong.

    Parameters
    ----------
    reward_range : pair of numbers

    Returns
    -------
    (low, high) : tuple of float
    """
    try:
        low, high = (float(v) for v in reward_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"`reward_range` must be two numbers (low, high); got {shorten(reward_range)!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"`reward_range` must be two finite numbers with low < high; got {low:g}, {high:g}."
        )
    return low, high


def split_rows(n_rounds: int, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and evaluation rows of a log, drawn at random with :data:`SPLIT_SEED`.

    Parameters
    ----------
    n_rounds : int
        Rows in the log.
    n_train : int
        Rows to train on, in ``[0, n_rounds]``.

    Returns
    -------
    train : ndarray of int of shape (n_train,)
    evaluation : ndarray of int of shape (n_rounds - n_train,)
        Row indices, each part in log order.
    """
    order = np.random.default_rng(SPLIT_SEED).permutation(n_rounds)
    return np.sort(order[:n_train]), np.sort(order[n_train:])


#: Where :meth:`OPEReport.bounds_warning` sends a reader of the command's output; the app
#: passes its own (its *Reward range* box), so neither names the other's control.
CLI_RANGE_ADVICE = "Declare the range (--reward-range LOW,HIGH on the command line)."


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OPEReport:
    """Estimates of one policy's value on one log.

    Parameters
    ----------
    policy : str
        Evaluation policy name.
    estimators : tuple of str
        Estimator names, one per entry of the arrays below.
    estimate, low, high : ndarray of shape (n_estimators,)
        Point estimates and interval bounds, clipped to ``bounds``; ``low <= estimate
        <= high`` always.
    n_train, n_eval : int
        Rows used to train the policy and to evaluate it.
    logging_value : float
        Mean observed reward on the evaluation rows (the logging policy's value).
    truth : float or None
        Ground-truth value on the evaluation rows, when the log has it.
    support : Support
        How much of the log the estimates rest on (ESS, clicks, overlap).
    switch_threshold : float
        ``switch_dr``'s weight threshold.
    bounds : tuple of (float, float)
        The range the intervals were clipped to, and whose top the one-unseen-event
        margin moves a reward to (:func:`reward_bounds`).
    alpha : float
        Interval level is ``1 - alpha``.
    raw_estimate : ndarray of shape (n_estimators,)
        The estimators' own outputs, before clipping.
    raw_low, raw_high : ndarray of shape (n_estimators,)
        The interval bounds before clipping (widened to ``raw_estimate``).
    bounds_source : str
        Where ``bounds`` came from, one of :data:`BOUNDS_SOURCES` (see
        :func:`reward_bounds`).
    interval_covers : tuple of str
        Per estimator, what its interval's spread covers (the estimator's
        ``interval_covers``); :meth:`interval_labels` says it in lines.
    """

    policy: str
    estimators: tuple[str, ...]
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_train: int
    n_eval: int
    logging_value: float
    truth: float | None
    support: Support
    bounds: tuple[float, float]
    switch_threshold: float
    alpha: float = 0.05
    raw_estimate: np.ndarray
    raw_low: np.ndarray
    raw_high: np.ndarray
    bounds_source: str
    interval_covers: tuple[str, ...] = ()

    @property
    def estimate_clipped(self) -> np.ndarray:
        """Bool array of shape (n_estimators,): True where the estimate itself was clipped."""
        return self.raw_estimate != self.estimate

    @property
    def clipped(self) -> np.ndarray:
        """Bool array of shape (n_estimators,): True where the estimate or a bound was cut."""
        return self.estimate_clipped | (self.raw_low != self.low) | (self.raw_high != self.high)

    def bounds_note(self) -> str:
        """What the intervals were clipped to, in words (the command and the page print it)."""
        low, high = self.bounds
        why = {
            "declared": "as declared for this log's rewards",
            "log": "the net value one impression can have in the world that wrote the log, "
            "from its metadata",
            "clicks": "0/1 rewards",
            "observed": "the observed rewards: the log declares no range",
        }[self.bounds_source]
        return (
            f"clipped to [{low:.6g}, {high:.6g}], the range the value can take ({why}), "
            "estimates too"
        )

    def bounds_warning(self, advice: str = CLI_RANGE_ADVICE) -> str | None:
        """One line when the range is only the observed one (it may be too narrow), else None.

        Nothing says what a reward of a foreign log can be: the clip and the unseen
        event's margin then rest on the rewards the rows happened to show, and a rare,
        large reward the rows missed is outside both.

        Parameters
        ----------
        advice : str, default=CLI_RANGE_ADVICE
            The closing sentence: where the reader declares the range. The command's
            flag by default; the app names its *Reward range* box instead.

        Returns
        -------
        warning : str or None
        """
        if self.bounds_source != "observed":
            return None
        low, high = self.bounds
        return (
            f"The log does not say what range its rewards can take, so the observed one, "
            f"[{low:.6g}, {high:.6g}], is used: if larger rewards are possible but rare, the "
            f"intervals may be too narrow and the clip too tight. {advice}"
        )

    def clip_notes(self, names: Mapping[str, str] | None = None) -> list[str]:
        """One line per clipped estimate, giving the unclipped one; empty when none was.

        Parameters
        ----------
        names : mapping of str to str, optional
            How the reader's table names each estimator (the app's page:
            ``"IPS (inverse propensity)"`` for ``"ips"``), so a note names it the same
            way; an estimator missing from it, or every one without it, keeps its
            registry name, as the command's table prints it.

        Returns
        -------
        notes : list of str
            ``"<name> clipped to <shown>: the unclipped estimate was <raw>, ..."``, then
            the causes :meth:`simulation.ope.support.Support.clip_causes` detected on this
            log, each naming its warning (never a warning that is not there), or that
            none was detected.
        """
        low, high = self.bounds
        names = names or {}
        causes = self.support.clip_causes()
        if causes:
            why = "here it comes from " + " and from ".join(causes)
        else:
            why = (
                "neither wrong propensities nor a few heavy weights were detected on this "
                "log, so the estimator's own sampling noise put it there"
            )
        # DM weighs no row: only its reward model can put it out of range.
        model = "DM weighs no rows: its reward model predicts values outside that range"
        return [
            f"{names.get(name, name)} clipped to {shown:.6g}: the unclipped estimate was "
            f"{raw:.6g}, outside [{low:.6g}, {high:.6g}], the range the value can take; "
            f"{model if name == 'dm' else why}"
            for name, shown, raw, cut in zip(
                self.estimators, self.estimate, self.raw_estimate, self.estimate_clipped
            )
            if cut
        ]

    def interval_labels(self) -> list[str]:
        """What each interval is, one line per kind, naming its estimators.

        Every interval is a bootstrap over the evaluation rows, but not every one
        covers the same error (DM's holds its reward model fixed), so one label for
        all of them would be false for some.

        Returns
        -------
        labels : list of str
            ``"ips, snips: 95% bootstrap interval; covers the sampling noise of ..."``.
        """
        groups: dict[str, list[str]] = {}
        for name, covers in zip(self.estimators, self.interval_covers):
            groups.setdefault(covers, []).append(name)
        level = f"{100 * (1 - self.alpha):g}%"
        return [
            f"{', '.join(names)}: {level} bootstrap interval; covers {covers}"
            for covers, names in groups.items()
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator; ``truth`` and ``error`` columns when known.

        ``clipped`` says which rows had their estimate or an interval bound cut to
        :attr:`bounds` (:meth:`clip_notes` gives a clipped estimate's unclipped value;
        :attr:`raw_low` and :attr:`raw_high` the uncut bounds).
        """
        frame = pd.DataFrame(
            {
                "estimator": list(self.estimators),
                "estimate": self.estimate,
                "ci_low": self.low,
                "ci_high": self.high,
                "clipped": self.clipped,
            }
        )
        if self.truth is not None:
            frame["truth"] = self.truth
            frame["error"] = self.estimate - self.truth
            frame["covered"] = (self.low <= self.truth) & (self.truth <= self.high)
        return frame


def _policy_context(part: LoggedFeedback, n_segments: int | None) -> np.ndarray:
    """The contexts the policy reads: a per-segment spec's get the one-hot segment first.

    :class:`~simulation.policies.special.PerSegment` routes a row by its first
    ``n_segments`` columns; a log's own columns need not be a segment code (the Open
    Bandit Dataset's are one-hot user features), so the code is built from the log's
    ``segment`` column instead. The reward model keeps the log's own context.
    """
    if n_segments is None:
        return part.context
    return np.column_stack([np.eye(n_segments)[part.segment], part.context])


def _from_spec(log: LoggedFeedback, spec) -> tuple[object, str, int | None]:
    """Build a spec's policy for ``log``: (policy, canonical spec text, segments or None).

    ``spec`` is a str or a :class:`~simulation.policies.PolicySpec`.
    """
    from simulation.policies.spec import PolicySpec

    if isinstance(spec, str):
        spec = PolicySpec.parse(spec)
    name = str(spec)
    if spec.needs_truth:
        raise ValueError(
            f"policy {name!r} reads the true expected rewards; it cannot be evaluated from a log."
        )
    if not spec.per_segment:
        return spec.build(), name, None
    if log.segment is None:
        raise ValueError(
            f"policy {name!r} runs one copy per segment, but the log has no `segment` column "
            f"to route its rows by; evaluate {spec.name!r} without 'segment:'."
        )
    if log.n_rounds and log.segment.min() < 0:
        raise ValueError(f"policy {name!r}: the log's `segment` must be >= 0.")
    n_segments = int(log.segment.max()) + 1 if log.n_rounds else 1
    return spec.build(n_segments=n_segments), name, n_segments


def evaluate_policy(
    log: LoggedFeedback,
    policy,
    *,
    policy_name: str | None = None,
    estimators: tuple[str, ...],
    train_fraction: float,
    rng: np.random.Generator,
    n_bootstrap: int = 1000,
    alpha: float = 0.05,
    n_folds: int = 5,
    interval_method: str = "one_more_event",
    switch_threshold: float | None = None,
    reward_range: tuple[float, float] | None = None,
) -> OPEReport:
    """Train ``policy`` on a random share of ``log`` and estimate its value on the rest.

    Parameters
    ----------
    log : LoggedFeedback
        The logged feedback, rows in time order.
    policy : str, PolicySpec or object
        A policy spec, as ``python -m simulation run --policies`` takes one
        (``"thompson"``, ``"epsilon_greedy(epsilon=0.05)"``,
        ``"segment:lin_ucb(alpha=0.3)"``; :mod:`simulation.policies.spec`), built here
        exactly as :func:`~simulation.policies.make_policy` builds it; or a policy
        object with ``reset(n_arms, n_features)``, ``update(contexts, arms, rewards)``
        and ``action_probabilities(contexts, rng) -> (n, n_arms)``. A ``segment:``
        spec needs the log's ``segment`` column: its copies are routed by it.
    policy_name : str, optional
        Name for the report; default: a spec's canonical text (required for an object).
    estimators : tuple of str
        Keys of :data:`simulation.ope.estimators.ESTIMATORS`.
    train_fraction : float
        Share of rows, in ``[0, 1)``, used to train the policy (drawn by :func:`split_rows`).
    rng : numpy.random.Generator
        Parent generator; independent streams are spawned from it.
    n_bootstrap : int, default=1000
        In ``[2, MAX_BOOTSTRAP]``.
    alpha : float, default=0.05
    n_folds : int, default=5
        Reward-model cross-fitting folds.
    interval_method : {"one_more_event", "percentile"}, default="one_more_event"
        See :meth:`simulation.ope.estimators.BaseEstimator.interval`.
    switch_threshold : float, optional
        ``switch_dr``'s weight threshold ``tau`` (:class:`~simulation.ope.estimators.SwitchDR`),
        ``>= 0``. Default: ``log.n_arms``, the largest weight a uniform logging policy
        gives, so the correction is dropped exactly on rows the log showed less often than
        uniform logging would have (with the estimator's own default, infinity,
        ``switch_dr`` is ``dr``).
    reward_range : (float, float), optional
        The range one reward can take, ``low < high``, containing every reward of the
        log (training rows included): estimates and intervals are clipped to it, the
        one-unseen-event margin moves a reward to its top, and a policy that learns on
        [0, 1] trains on rewards mapped from it where the log holds no world's range
        (:func:`_learning_scale`). Default: from the log (:func:`reward_bounds`: a ROAS
        adlab log's declared net-value range; ``[0, 1]`` for 0/1 rewards; else the
        observed rewards, which :meth:`OPEReport.bounds_warning` flags).

    Returns
    -------
    OPEReport
    """
    # The usual wrong calls, named before anything deep fails with another message.
    if isinstance(estimators, str):  # "ips" would be read as 'i', 'p', 's'
        raise TypeError(f"`estimators` must be a tuple of names, e.g. ({estimators!r},).")
    if not isinstance(log, LoggedFeedback):
        raise TypeError(
            f"`log` must be a LoggedFeedback (read_log, load_any_log); got {type(log).__name__}."
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy Generator, e.g. np.random.default_rng(0); got {rng!r}."
        )
    unknown = [name for name in estimators if name not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator {unknown[0]!r}; choose from {sorted(ESTIMATORS)}.")
    if isinstance(train_fraction, bool) or not isinstance(train_fraction, int | float):
        raise TypeError(f"`train_fraction` must be a number in [0, 1); got {train_fraction!r}.")
    if not 0 <= train_fraction < 1:
        raise ValueError(f"`train_fraction` must be in [0, 1); got {train_fraction!r}.")
    check_bootstrap(n_bootstrap)
    if reward_range is not None:
        # Every reward of the log, the training rows' too: the policy trains on the
        # declared range (_learning_scale), and a reward outside it would leave [0, 1].
        floor, ceiling, _ = reward_bounds(log.reward, declared=reward_range)
        reward_range = (floor, ceiling)
    # Imported here: the policies (and their compiled kernels) load only when used.
    from simulation.policies.spec import PolicySpec

    n_segments = None
    if isinstance(policy, str | PolicySpec):
        policy, canonical, n_segments = _from_spec(log, policy)
        policy_name = canonical if policy_name is None else policy_name
    elif policy_name is None:
        raise TypeError("`policy_name` is required with a policy object (a spec names itself).")
    if switch_threshold is None:
        switch_threshold = float(log.n_arms)
    params = {"switch_dr": {"tau": switch_threshold}}  # SwitchDR validates tau
    for name in estimators:
        ESTIMATORS[name](**params.get(name, {}))
    n_train = int(np.floor(train_fraction * log.n_rounds))
    n_eval = log.n_rounds - n_train
    if n_eval < MIN_EVAL_ROWS:
        rows = "row" if log.n_rounds == 1 else "rows"
        raise ValueError(
            f"OPE needs at least {MIN_EVAL_ROWS} evaluation rows; the log has {log.n_rounds} "
            f"{rows} and `train_fraction` {train_fraction:g} leaves {n_eval}."
        )
    # The action distribution and the reward model are (n_eval, n_arms) float matrices.
    check_cells("action probabilities", n_eval, log.n_arms)
    policy_rng, model_rng, boot_rng = rng.spawn(3)
    train_rows, eval_rows = split_rows(log.n_rounds, n_train)
    train, evaluation = log.take(train_rows), log.take(eval_rows)

    n_policy_features = log.n_features + (n_segments or 0)
    policy.reset(n_arms=log.n_arms, n_features=n_policy_features)
    if n_train:
        offset, span = _learning_scale(log, policy, declared=reward_range)
        policy.update(
            _policy_context(train, n_segments), train.action, (train.reward - offset) / span
        )
    action_dist = np.asarray(
        policy.action_probabilities(_policy_context(evaluation, n_segments), policy_rng),
        dtype=np.float64,
    )
    try:
        check_ope_inputs(
            reward=evaluation.reward,
            action=evaluation.action,
            pscore=evaluation.pscore,
            action_dist=action_dist,
        )
    except ValueError as exc:
        raise ValueError(f"policy {policy_name!r} gave bad action probabilities: {exc}") from None

    model = None
    if any(ESTIMATORS[name].requires_estimated_rewards for name in estimators):
        # Fit only on the evaluation rows: rows that trained the policy would
        # share its noise (the policy favours arms that looked good there, and q
        # fit on the same rows overrates them too), biasing DM.
        model = cross_fit(
            evaluation.context,
            evaluation.action,
            evaluation.reward,
            n_arms=log.n_arms,
            rng=model_rng,
            n_folds=min(n_folds, evaluation.n_rounds),
        )
    arrays = dict(
        reward=evaluation.reward,
        action=evaluation.action,
        pscore=evaluation.pscore,
        action_dist=action_dist,
        estimated_rewards=None if model is None else model.q,
    )
    # One seed for every estimator: all intervals use the same bootstrap resamples.
    boot_seed = boot_rng.integers(2**63)
    floor, ceiling, source = reward_bounds(
        evaluation.reward, declared=reward_range, metadata=log.metadata
    )
    # The unseen event's reward is the top of a known range; with only the observed one,
    # [0, 1] widened to it (an unseen event of at least 1), the margin it always had. The
    # estimators refuse to guess it themselves for rewards outside [0, 1].
    margin_range = (
        (min(0.0, floor), max(1.0, ceiling)) if source == "observed" else (floor, ceiling)
    )
    raw, low, high = [], [], []
    for name in estimators:
        est = ESTIMATORS[name](**params.get(name, {}))
        value = est.estimate(**arrays)
        bounds = est.interval(
            **arrays,
            alpha=alpha,
            n_bootstrap=n_bootstrap,
            rng=np.random.default_rng(boot_seed),
            method=interval_method,
            # The model is refit on each resample (to first order): DM's interval
            # then covers the model's fitting error, not only the rows' noise.
            reward_model=model,
            reward_range=margin_range,
        )
        raw.append(value)
        # Widen to the estimate first: clipping is monotone, so the clipped estimate
        # then stays inside the clipped interval.
        low.append(min(bounds[0], value))
        high.append(max(bounds[1], value))
    raw_estimate = np.array(raw, dtype=np.float64)
    # A value outside the rewards' range is impossible, however large the margin:
    # estimate and interval are clipped alike, so the interval still contains it.
    raw_low, raw_high = np.array(low, dtype=np.float64), np.array(high, dtype=np.float64)
    estimate = np.clip(raw_estimate, floor, ceiling)
    low = np.clip(raw_low, floor, ceiling)
    high = np.clip(raw_high, floor, ceiling)
    truth = None
    if evaluation.expected_reward is not None:
        truth = evaluation.ground_truth_value(action_dist)
    return OPEReport(
        policy=policy_name,
        estimators=tuple(estimators),
        estimate=estimate,
        low=low,
        high=high,
        n_train=n_train,
        n_eval=evaluation.n_rounds,
        logging_value=evaluation.on_policy_value(),
        truth=truth,
        support=support_of(evaluation.action, evaluation.pscore, evaluation.reward, action_dist),
        bounds=(floor, ceiling),
        switch_threshold=float(switch_threshold),
        alpha=alpha,
        raw_estimate=raw_estimate,
        raw_low=raw_low,
        raw_high=raw_high,
        bounds_source=source,
        interval_covers=tuple(ESTIMATORS[name].interval_covers for name in estimators),
    )


def _learning_scale(
    log: LoggedFeedback, policy, declared: tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(offset, span)``: ``policy`` trains on ``(reward - offset) / span``, as the engine maps it.

    A policy that learns on [0, 1] (``unit_rewards``: ``thompson``,
    ``thompson_value``) gets the rewards mapped onto [0, 1] by
    :func:`simulation.policies.base.learning_scale`, the engine's map, from the
    range of net value the log's world allows (``metadata`` ``value_low``,
    ``value_high``, which the engine writes into a ROAS log: what the engine trained
    on), else the range the user declares (``declared``, ``--reward-range``: what
    the rewards can be, where the log does not say), else rewards in [0, 1] (clicks)
    are taken as they are, else the log's own smallest and largest reward (a reward
    the log happened to miss would then fall outside [0, 1]). The estimates stay on
    the log's scale: only what the policy learns from is mapped.

    Parameters
    ----------
    log : LoggedFeedback
    policy : Policy
    declared : (float, float), optional
        ``low < high``, containing every reward of ``log`` (checked by the caller).

    Returns
    -------
    (offset, span) : tuple of float
    """
    reward = log.reward
    unit = not reward.size or bool(((reward >= 0.0) & (reward <= 1.0)).all())
    low, high = log.metadata.get("value_low"), log.metadata.get("value_high")
    world = low is not None and high is not None
    if not unit and world and low <= reward.min() and reward.max() <= high:
        return learning_scale(policy, low, high)
    if declared is not None:
        return learning_scale(policy, *declared)
    if unit:
        return 0.0, 1.0
    return learning_scale(policy, float(reward.min()), float(reward.max()))


def _looks_like_obd(path: Path) -> bool:
    if path.is_dir():
        return True
    if path.suffix.lower() != ".csv":
        return False
    try:
        with open_bounded(path) as fh:
            header = pd.read_csv(fh, nrows=0).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return False  # import_log says what is wrong
    return "item_id" in header and "propensity_score" in header


def load_any_log(
    path: str | os.PathLike,
    fmt: str = "auto",
    *,
    level: str | None = None,
    logging_policy: str | None = None,
) -> LoggedFeedback:
    """Read a log in one of the supported formats.

    Parameters
    ----------
    path : str or Path
        The log file (or an OBD campaign folder).
    fmt : {"auto", "adlab", "obd", "csv"}, default="auto"
        ``adlab``: written by :class:`simulation.ope.logs.BanditLogWriter`; ``obd``:
        Open Bandit Dataset; ``csv``: a user's CSV or Parquet file read by
        :func:`simulation.ope.logs.import_log`. ``auto`` picks from the file.
    level, logging_policy : str, optional
        Row filters for adlab logs (targeting level, logging policy name).

    Returns
    -------
    LoggedFeedback

    Raises
    ------
    ValueError
        For a path that is not a regular file (or an OBD folder), or a file that
        breaks a limit of :mod:`simulation.ope.limits`, in one line.
    """
    from simulation.ope.logs import check_not_adlab_export
    from simulation.ope.obd import read_obd

    path = Path(path)
    if not path.is_dir():
        check_regular_file(path)  # before any reader opens it: no FIFO, no device
    if fmt == "auto":
        if is_adlab_log(path):
            fmt = "adlab"
        elif _looks_like_obd(path):
            fmt = "obd"
        else:
            fmt = "csv"
    if fmt == "csv":
        check_not_adlab_export(path)  # before --level is refused: name the Parquet export
    if fmt != "adlab" and (level is not None or logging_policy is not None):
        raise ValueError("--level and --logging-policy apply to adlab logs only.")
    if fmt == "adlab":
        return read_log(path, level=level, policy=logging_policy)
    if fmt == "obd":
        return read_obd(path)
    if fmt == "csv":
        return import_log(path)
    raise ValueError(f"`format` must be one of {list(FORMATS)}; got {fmt!r}.")
