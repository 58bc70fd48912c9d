"""Off-policy estimators: the value an evaluation policy would have earned on logged feedback.

Every estimator follows one contract (arrays in, numbers out)::

    est = ESTIMATORS["dr"]()
    value = est.estimate(reward=r, action=a, pscore=p, action_dist=pi, estimated_rewards=q)
    low, high = est.interval(reward=r, action=a, pscore=p, action_dist=pi,
                             estimated_rewards=q, alpha=0.05, n_bootstrap=1000, rng=rng)

Each estimator is written as sums of per-row terms combined at the end
(``_terms`` then ``_combine``). The estimate combines the column sums of the
terms; the bootstrap interval combines the sums over resampled rows, which is
a gather-and-sum over ``(chunk, n)`` index matrices (chunks of about 2**18
indices, which stay in cache) instead of a Python loop over resamples. Given the
reward model itself (``reward_model=``, a :class:`simulation.ope.reward_model.CrossFit`),
the bootstrap also refits it on each resample, to first order: each row's term
gets what that row adds to the estimate through the model's fit
(:meth:`~simulation.ope.reward_model.CrossFit.refit_terms`), so the same
gather-and-sum resamples the fit too. Given only its predictions
(``estimated_rewards=``), ``q`` is held fixed, and DM's interval leaves out the
model's fitting error.

References: Dudík, Langford, Li (2011) for DR; Swaminathan, Joachims (2015)
for SNIPS; Wang, Agarwal, Dudík (2017) for switch-DR; Kallus, Uehara (2019)
for SNDR; the Open Bandit Pipeline (``obp.ope``) for the array conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from simulation.ope.limits import check_bootstrap

if TYPE_CHECKING:  # the model module imports scikit-learn; estimators need only its arrays
    from simulation.ope.reward_model import CrossFit

__all__ = [
    "DM",
    "DM_INTERVAL_NOTE",
    "DR",
    "ESTIMATORS",
    "INTERVAL_METHODS",
    "IPS",
    "SNDR",
    "SNIPS",
    "BaseEstimator",
    "SwitchDR",
    "check_ope_inputs",
]

#: What DM's bootstrap interval covers and leaves out, said wherever DM's interval is shown
#: (the command and the page, whose reward model is refit on each resample).
DM_INTERVAL_NOTE = (
    "DM's interval resamples the rows and refits its reward model on each resample (to "
    "first order), so it covers the sampling noise and the model's fitting error; it "
    "cannot cover the bias of a model that does not fit the rewards (what DR corrects), "
    "so a narrow DM interval is not certainty."
)

#: Tolerance on ``action_dist`` rows summing to one.
ROW_SUM_ATOL = 1e-6

#: Resample indices drawn per bootstrap chunk (2 MB of int64). Chunks that fit in
#: cache were faster than one big (n_bootstrap, n) matrix in bench/ope.py: large
#: matrices are bound by memory bandwidth, tiny ones by Python overhead.
_BOOTSTRAP_CHUNK_ELEMENTS = 2**18

#: Interval methods of :meth:`BaseEstimator.interval`.
INTERVAL_METHODS: tuple[str, ...] = ("one_more_event", "percentile")


def _first_bad(mask: np.ndarray) -> int:
    """Index of the first row where ``mask`` is true (the row for an error message)."""
    flat = mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim > 1 else mask
    return int(np.flatnonzero(flat)[0])


def _as_float(name: str, value: object, ndim: int, *, check_finite: bool = True) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be an array of numbers; got {type(value).__name__}."
        ) from None
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must be a {ndim}-d array; got shape {arr.shape}.")
    if check_finite:
        # Fast path: a NaN or infinity makes its row's sum non-finite (one BLAS
        # pass). A sum can also overflow on huge finite values, so a failure is
        # confirmed element-wise.
        with np.errstate(over="ignore", invalid="ignore"):
            row_sums = arr @ np.ones(arr.shape[1]) if ndim == 2 else arr
        _check_finite(name, arr, row_sums)
    return arr


def _check_finite(name: str, arr: np.ndarray, row_sums: np.ndarray) -> None:
    if not np.isfinite(row_sums).all():
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"`{name}` must be finite (no NaN or infinity); got a bad value at row "
                f"{_first_bad(bad)}."
            )


def check_ope_inputs(
    *,
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    estimated_rewards: np.ndarray | None = None,
    require_estimated_rewards: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate and convert the arrays of the estimator contract.

    Parameters
    ----------
    reward : array-like of shape (n_rounds,)
        Observed rewards.
    action : array-like of int of shape (n_rounds,)
        Logged actions, each in ``[0, n_arms)``.
    pscore : array-like of shape (n_rounds,)
        Logging policy's probability of the logged action, in ``(0, 1]``.
    action_dist : array-like of shape (n_rounds, n_arms)
        Evaluation policy's action probabilities; rows sum to one within ``1e-6``.
    estimated_rewards : array-like of shape (n_rounds, n_arms), optional
        Reward model predictions ``q(x, a)``.
    require_estimated_rewards : bool, default=False
        Raise if ``estimated_rewards`` is missing.

    Returns
    -------
    reward, action, pscore, action_dist, estimated_rewards : ndarray
        Float arrays (int64 for ``action``); ``estimated_rewards`` is None when
        not given.

    Raises
    ------
    ValueError
        On a wrong shape, a non-finite value, a propensity outside ``(0, 1]``,
        a probability row not summing to one, or an action out of range.
    TypeError
        When ``action`` is not an integer array.
    """
    reward = _as_float("reward", reward, 1)
    n = reward.shape[0]
    if n == 0:
        raise ValueError("`reward` must have at least one row; got 0.")
    action = np.asarray(action)
    if action.ndim != 1:
        raise ValueError(f"`action` must be a 1-d array; got shape {action.shape}.")
    if action.dtype.kind not in "iu":
        raise TypeError(f"`action` must be an integer array; got dtype {action.dtype}.")
    action = action.astype(np.int64, copy=False)
    pscore = _as_float("pscore", pscore, 1)
    action_dist = _as_float("action_dist", action_dist, 2, check_finite=False)
    for name, arr in (("action", action), ("pscore", pscore), ("action_dist", action_dist)):
        if arr.shape[0] != n:
            raise ValueError(f"`{name}` must have {n} rows like `reward`; got shape {arr.shape}.")
    bad = (pscore <= 0) | (pscore > 1)
    if bad.any():
        row = _first_bad(bad)
        raise ValueError(f"`pscore` must be in (0, 1]; got {float(pscore[row])!r} at row {row}.")
    n_arms = action_dist.shape[1]
    if n_arms == 0:
        raise ValueError("`action_dist` must have at least one column; got 0.")
    # Two whole-array passes (row sums as a matrix-vector product, ~10x faster
    # than sum(axis=1) on narrow rows; the minimum); per-row scans only to name
    # the bad row.
    with np.errstate(over="ignore", invalid="ignore"):
        row_sums = action_dist @ np.ones(n_arms)
    _check_finite("action_dist", action_dist, row_sums)
    if action_dist.min() < 0:
        row = _first_bad(action_dist < 0)
        raise ValueError(f"`action_dist` must be non-negative; got a negative value at row {row}.")
    bad = ~(np.abs(row_sums - 1.0) <= ROW_SUM_ATOL)
    if bad.any():
        row = _first_bad(bad)
        raise ValueError(
            f"`action_dist` rows must sum to 1 (within {ROW_SUM_ATOL:g}); "
            f"got {float(row_sums[row])!r} at row {row}."
        )
    bad = (action < 0) | (action >= n_arms)
    if bad.any():
        row = _first_bad(bad)
        raise ValueError(
            f"`action` must be in [0, {n_arms}) (the columns of `action_dist`); "
            f"got {action[row]} at row {row}."
        )
    if estimated_rewards is None:
        if require_estimated_rewards:
            raise ValueError("`estimated_rewards` of shape (n_rounds, n_arms) is required.")
        return reward, action, pscore, action_dist, None
    estimated_rewards = _as_float("estimated_rewards", estimated_rewards, 2)
    if estimated_rewards.shape != action_dist.shape:
        raise ValueError(
            f"`estimated_rewards` must have the shape of `action_dist` {action_dist.shape}; "
            f"got {estimated_rewards.shape}."
        )
    return reward, action, pscore, action_dist, estimated_rewards


def _check_interval_args(alpha: float, n_bootstrap: int, rng: np.random.Generator) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be a float in (0, 1); got {alpha!r}.")
    check_bootstrap(n_bootstrap)  # [2, MAX_BOOTSTRAP]: the resample matrix stays bounded
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy.random.Generator; got {type(rng).__name__}.")


class BaseEstimator:
    """Shared estimate/interval logic; subclasses define ``_terms`` and ``_combine``.

    Attributes
    ----------
    name : str
        Registry key.
    requires_estimated_rewards : bool
        Whether ``estimated_rewards`` must be passed.
    interval_covers : str
        What the interval's spread covers, in words (``dm``'s leaves out its reward
        model's error); reports label each interval with it.
    """

    name: ClassVar[str] = ""
    requires_estimated_rewards: ClassVar[bool] = False
    #: What the spread of :meth:`interval` covers, in words (a label wherever it is shown).
    interval_covers: ClassVar[str] = "the sampling noise of the evaluation rows (rows resampled)"

    def _terms(
        self,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        estimated_rewards: np.ndarray | None,
    ) -> np.ndarray:
        """Per-row terms, shape ``(n_rounds, n_terms)``."""
        raise NotImplementedError

    def _combine(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Turn column sums of the terms ``(..., n_terms)`` into estimates ``(...)``."""
        return sums[..., 0] / n

    def _prepare(self, **arrays: np.ndarray | None) -> np.ndarray:
        checked = check_ope_inputs(
            **arrays, require_estimated_rewards=self.requires_estimated_rewards
        )
        return self._terms(*checked)

    def estimate(
        self,
        *,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        estimated_rewards: np.ndarray | None = None,
    ) -> float:
        """Estimate the evaluation policy's value.

        Parameters
        ----------
        reward : ndarray of shape (n_rounds,)
            Observed rewards.
        action : ndarray of int of shape (n_rounds,)
            Logged actions.
        pscore : ndarray of shape (n_rounds,)
            Logging propensity of each logged action, in ``(0, 1]``.
        action_dist : ndarray of shape (n_rounds, n_arms)
            Evaluation policy's action probabilities.
        estimated_rewards : ndarray of shape (n_rounds, n_arms), optional
            Reward model predictions; required by ``dm``, ``dr`` and their variants.

        Returns
        -------
        float
            The estimated policy value (mean reward per round).
        """
        terms = self._prepare(
            reward=reward,
            action=action,
            pscore=pscore,
            action_dist=action_dist,
            estimated_rewards=estimated_rewards,
        )
        return float(self._combine(terms.sum(axis=0), terms.shape[0]))

    def bootstrap(
        self,
        *,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        estimated_rewards: np.ndarray | None = None,
        n_bootstrap: int = 1000,
        rng: np.random.Generator,
        reward_model: CrossFit | None = None,
    ) -> np.ndarray:
        """Estimates on ``n_bootstrap`` resamples of the rows (with replacement).

        The reward model predictions are held fixed unless ``reward_model`` is given.

        Parameters
        ----------
        reward, action, pscore, action_dist, estimated_rewards
            As in :meth:`estimate`.
        reward_model : CrossFit, optional
            The fitted reward model (its ``q`` replaces ``estimated_rewards``): each
            resample then refits it, to first order (see :meth:`interval`).
        n_bootstrap : int, default=1000
            Number of resamples.
        rng : numpy.random.Generator
            Source of the resampling.

        Returns
        -------
        ndarray of shape (n_bootstrap,)
            One estimate per resample; its standard deviation is a standard error.
        """
        _check_interval_args(0.05, n_bootstrap, rng)
        checked = check_ope_inputs(
            reward=reward,
            action=action,
            pscore=pscore,
            action_dist=action_dist,
            estimated_rewards=_model_q(estimated_rewards, reward_model),
            require_estimated_rewards=self.requires_estimated_rewards,
        )
        terms, _ = self._refit_terms(checked, self._terms(*checked), reward_model)
        return self._combine(bootstrap_sums(terms, n_bootstrap, rng), terms.shape[0])

    def interval(
        self,
        *,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        estimated_rewards: np.ndarray | None = None,
        alpha: float = 0.05,
        n_bootstrap: int = 1000,
        rng: np.random.Generator,
        method: str = "one_more_event",
        reward_range: tuple[float, float] | None = None,
        reward_model: CrossFit | None = None,
    ) -> tuple[float, float]:
        """Bootstrap interval for the policy value, kept honest when rewards are rare.

        Rows are resampled with replacement ``n_bootstrap`` times (see
        :meth:`bootstrap`). With ``estimated_rewards`` alone the reward model's
        predictions are held fixed, so DM's interval covers only the rows' sampling
        noise given the fitted model. With ``reward_model`` (a
        :class:`~simulation.ope.reward_model.CrossFit`) each resample also refits
        the model to first order: one Newton step from the fit on the whole log,
        which matched a weighted refit to within 1 % in the tests, added to each
        row's term, so DM's interval covers the model's fitting error too (not the
        bias of a model that cannot describe the rewards). The
        ``"percentile"`` interval is the ``alpha/2`` and ``1 - alpha/2`` quantiles
        of the resampled estimates. A resample cannot show an event the log
        missed: with few clicks on the rows the evaluation policy weighs most,
        the percentile interval is narrow and too low (on CTR logs from an
        epsilon-greedy logger it covered the truth in 30 % of logs at 95 %
        nominal; ``docs/ope.md``, "Coverage"). ``"one_more_event"`` (the default)
        raises the upper bound by the estimate's largest change when a single row's
        reward moves to the top of ``reward_range``: the margin of one unseen
        event of the greatest weight, as the gamma interval of Fay and Feuer
        (1997) adds one event of the largest weight for weighted Poisson counts.
        It costs one event's width when events are common and keeps the coverage
        when they are rare.

        Parameters
        ----------
        reward, action, pscore, action_dist, estimated_rewards
            As in :meth:`estimate`.
        alpha : float, default=0.05
            One minus the coverage: 0.05 gives a 95% interval.
        n_bootstrap : int, default=1000
            Number of resamples.
        rng : numpy.random.Generator
            Source of the resampling.
        method : {"one_more_event", "percentile"}, default="one_more_event"
            See above.
        reward_range : (float, float), optional
            Bounds of a reward, containing every one of ``reward``; its top is the
            unseen event's reward. Default: ``[0, 1]``, the range of a click; rewards
            outside it (a ROAS log's net value) are refused without one (a ValueError
            naming :func:`simulation.ope.evaluate.reward_bounds`, which reads an adlab
            log's own range). Not read by ``method="percentile"``.
        reward_model : CrossFit, optional
            The fitted reward model; its ``q`` replaces ``estimated_rewards`` (give one
            or the other, or the same predictions). The one unseen event then also
            moves the model (DM's margin is no longer 0).

        Returns
        -------
        low, high : float
        """
        _check_interval_args(alpha, n_bootstrap, rng)
        if method not in INTERVAL_METHODS:
            raise ValueError(f"`method` must be one of {list(INTERVAL_METHODS)}; got {method!r}.")
        checked = check_ope_inputs(
            reward=reward,
            action=action,
            pscore=pscore,
            action_dist=action_dist,
            estimated_rewards=_model_q(estimated_rewards, reward_model),
            require_estimated_rewards=self.requires_estimated_rewards,
        )
        # Checked before the resamples are drawn: a missing range is refused at once.
        top = _margin_top(checked[0], reward_range) if method == "one_more_event" else None
        plain = self._terms(*checked)
        terms, model_slope = self._refit_terms(checked, plain, reward_model)
        n = terms.shape[0]
        boot = self._combine(bootstrap_sums(terms, n_bootstrap, rng), n)
        low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        if top is not None:
            high += self._event_margin(checked, plain, top, model_slope)
        return float(low), float(high)

    def _q_weight(self, checked: tuple, terms: np.ndarray) -> np.ndarray | None:
        """``n_rounds`` times the estimate's derivative in ``q``, (n_rounds, n_arms).

        None for an estimator that does not read ``q``. Every estimator that does
        combines its column 0 as ``sum / n_rounds`` (:meth:`_refit_terms` adds there).
        """
        return None

    def _refit_terms(
        self, checked: tuple, terms: np.ndarray, reward_model: CrossFit | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``terms`` with each row's effect through the model's refit added to column 0.

        Returns the terms (a copy when changed) and the rows' slopes through the refit
        (None when the model is held fixed).
        """
        if reward_model is None or not self.requires_estimated_rewards:
            return terms, None
        refit = reward_model.refit_terms(self._q_weight(checked, terms))
        if refit is None:  # a caller's own model: held fixed
            return terms, None
        extra, slope = refit
        terms = terms.copy()
        terms[:, 0] += extra
        return terms, slope

    def event_margin(
        self,
        *,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        estimated_rewards: np.ndarray | None = None,
        reward_range: tuple[float, float] | None = None,
        reward_model: CrossFit | None = None,
    ) -> float:
        """Largest rise of the estimate when one row's reward moves to the top of its range.

        The margin that ``method="one_more_event"`` adds to the upper bound of
        :meth:`interval`. Every estimator's terms are affine in the reward, so
        moving row ``i`` changes its terms by ``(top - r_i)`` times their slope,
        and all rows are tried at once by combining ``sums + change_i``.

        Parameters
        ----------
        reward, action, pscore, action_dist, estimated_rewards
            As in :meth:`estimate`.
        reward_range : (float, float), optional
            As in :meth:`interval`: default ``[0, 1]``, required for rewards outside it.
        reward_model : CrossFit, optional
            As in :meth:`interval`: the row's reward then also moves the model, to
            first order.

        Returns
        -------
        float
            ``>= 0``; 0 for ``dm`` with the model held fixed (it reads no reward).
        """
        checked = check_ope_inputs(
            reward=reward,
            action=action,
            pscore=pscore,
            action_dist=action_dist,
            estimated_rewards=_model_q(estimated_rewards, reward_model),
            require_estimated_rewards=self.requires_estimated_rewards,
        )
        top = _margin_top(checked[0], reward_range)
        terms = self._terms(*checked)
        _, model_slope = self._refit_terms(checked, terms, reward_model)
        return self._event_margin(checked, terms, top, model_slope)

    def _event_margin(
        self,
        checked: tuple,
        terms: np.ndarray,
        top: float,
        model_slope: np.ndarray | None = None,
    ) -> float:
        reward = checked[0]
        n = terms.shape[0]
        slope = self._terms(np.ones(n), *checked[1:]) - self._terms(np.zeros(n), *checked[1:])
        if model_slope is not None:  # the row's reward also moves the refit model
            slope = slope.copy()
            slope[:, 0] += model_slope
        sums = terms.sum(axis=0)
        base = float(self._combine(sums, n))
        raised = self._combine(sums + slope * (top - reward)[:, None], n)
        return max(0.0, float(raised.max()) - base)


def _model_q(estimated_rewards, reward_model) -> np.ndarray | None:
    """The predictions to use: ``reward_model.q``, or ``estimated_rewards`` without a model."""
    if reward_model is None:
        return estimated_rewards
    if (
        estimated_rewards is not None
        and estimated_rewards is not reward_model.q
        and not np.array_equal(np.asarray(estimated_rewards), reward_model.q)
    ):
        raise ValueError(
            "`estimated_rewards` must be `reward_model.q` when both are given; pass one."
        )
    return reward_model.q


def _margin_top(reward: np.ndarray, reward_range: tuple[float, float] | None) -> float:
    """The reward of the one unseen event: the top of ``reward_range``, by default 1.

    The default ``[0, 1]`` is the range of a click; rewards outside it (a ROAS log's net
    value in USD) are refused without a declared range rather than widened to the rows'
    own: on a log with no sale the rows' largest reward is a cost, and an unseen order
    of 343.5 USD became an unseen 1 USD, so the interval missed the truth.
    """
    if reward_range is None:
        if reward.size and (reward.min() < 0.0 or reward.max() > 1.0):
            raise ValueError(
                "`reward_range` is required for rewards outside [0, 1] (these run from "
                f"{reward.min():g} to {reward.max():g}): pass the range one reward can take, "
                "for an adlab log simulation.ope.evaluate.reward_bounds(log.reward, "
                "metadata=log.metadata)[:2]."
            )
        return 1.0
    try:
        low, high = (float(v) for v in reward_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"`reward_range` must be two numbers (low, high); got {reward_range!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"`reward_range` must be finite with low <= high; got {reward_range!r}.")
    if reward.size and (reward.min() < low or reward.max() > high):
        # A range that leaves out a reward the log holds is not what a reward can be.
        raise ValueError(
            f"`reward_range` [{low:g}, {high:g}] must contain every reward; these run from "
            f"{reward.min():g} to {reward.max():g}."
        )
    return high


def bootstrap_sums(terms: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """Column sums of ``terms`` over bootstrap resamples of its rows.

    Parameters
    ----------
    terms : ndarray of shape (n_rounds, n_terms)
        Per-row terms.
    n_bootstrap : int
        Number of resamples.
    rng : numpy.random.Generator
        Source of the resample indices.

    Returns
    -------
    ndarray of shape (n_bootstrap, n_terms)
        Sums over each resample's rows.
    """
    n, k = terms.shape
    chunk = max(1, min(n_bootstrap, _BOOTSTRAP_CHUNK_ELEMENTS // n))
    columns = np.ascontiguousarray(terms.T)  # (n_terms, n_rounds): contiguous gathers
    out = np.empty((n_bootstrap, k))
    for start in range(0, n_bootstrap, chunk):
        stop = min(start + chunk, n_bootstrap)
        idx = rng.integers(0, n, size=(stop - start, n))
        for j in range(k):  # n_terms is 1 to 3; each gather reuses the same indices
            out[start:stop, j] = columns[j][idx].sum(axis=1)
    return out


def _pick(matrix: np.ndarray, action: np.ndarray) -> np.ndarray:
    """``matrix[i, action[i]]`` for every row, shape (n_rounds,).

    A take on the flattened matrix is about 30% faster than fancy indexing.
    """
    n, k = matrix.shape
    return np.take(matrix.reshape(-1), np.arange(n) * k + action)


def _weights(action: np.ndarray, pscore: np.ndarray, action_dist: np.ndarray) -> np.ndarray:
    """Importance weights ``pi(a_i | x_i) / p_i``, shape (n_rounds,)."""
    return _pick(action_dist, action) / pscore


def _dm_terms(action_dist: np.ndarray, estimated_rewards: np.ndarray) -> np.ndarray:
    """``sum_a pi(a | x_i) q(x_i, a)``, shape (n_rounds,)."""
    return np.einsum("ik,ik->i", action_dist, estimated_rewards)


def _minus_on_logged(action_dist: np.ndarray, action: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``action_dist`` minus ``w`` on each row's logged arm, shape (n_rounds, n_arms)."""
    out = action_dist.copy()
    out[np.arange(out.shape[0]), action] -= w
    return out


def _factual(estimated_rewards: np.ndarray, action: np.ndarray) -> np.ndarray:
    return _pick(estimated_rewards, action)


@dataclass(frozen=True, slots=True, kw_only=True)
class IPS(BaseEstimator):
    """Inverse propensity scoring: mean of ``r * pi(a|x) / p``.

    Unbiased when the logging propensities are correct and every action the
    evaluation policy may take has a positive logging probability.

    Examples
    --------
    A uniform logger over two arms; the evaluated policy always shows arm 0:

    >>> reward = np.array([1.0, 0.0, 1.0, 0.0])
    >>> action = np.array([0, 1, 0, 1])
    >>> pscore = np.full(4, 0.5)
    >>> always_0 = np.tile([1.0, 0.0], (4, 1))
    >>> IPS().estimate(reward=reward, action=action, pscore=pscore, action_dist=always_0)
    1.0
    >>> low, high = IPS().interval(reward=reward, action=action, pscore=pscore,
    ...                            action_dist=always_0, rng=np.random.default_rng(0))
    >>> 0.0 <= low <= 1.0 <= high
    True
    """

    name: ClassVar[str] = "ips"

    def _terms(self, reward, action, pscore, action_dist, estimated_rewards):
        return (reward * _weights(action, pscore, action_dist))[:, None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SNIPS(BaseEstimator):
    """Self-normalized IPS: ``sum(w * r) / sum(w)`` with ``w = pi(a|x) / p``.

    Slightly biased, lower variance, and always within ``[min r, max r]``.
    Returns 0.0 when every weight is zero (the evaluation policy never takes a
    logged action).
    """

    name: ClassVar[str] = "snips"

    def _terms(self, reward, action, pscore, action_dist, estimated_rewards):
        w = _weights(action, pscore, action_dist)
        return np.column_stack([w * reward, w])

    def _combine(self, sums, n):
        den = sums[..., 1]
        return np.divide(sums[..., 0], den, out=np.zeros_like(den), where=den > 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DM(BaseEstimator):
    """Direct method: mean over rows of ``sum_a pi(a|x) q(x, a)``."""

    name: ClassVar[str] = "dm"
    requires_estimated_rewards: ClassVar[bool] = True
    interval_covers: ClassVar[str] = (
        "the sampling noise of the evaluation rows and the reward model's fitting error "
        "(refit on each resample, to first order, when the fitted model is given, as the "
        "command and the app give it; held fixed when only its predictions are), not the "
        "bias of a model that does not fit the rewards"
    )

    def _terms(self, reward, action, pscore, action_dist, estimated_rewards):
        return _dm_terms(action_dist, estimated_rewards)[:, None]

    def _q_weight(self, checked, terms):
        return checked[3]


@dataclass(frozen=True, slots=True, kw_only=True)
class DR(BaseEstimator):
    """Doubly robust: DM plus the mean of ``pi(a|x) / p * (r - q(x, a))``.

    Unbiased when either the propensities or the reward model are correct.
    """

    name: ClassVar[str] = "dr"
    requires_estimated_rewards: ClassVar[bool] = True

    def _terms(self, reward, action, pscore, action_dist, estimated_rewards):
        w = _weights(action, pscore, action_dist)
        residual = reward - _factual(estimated_rewards, action)
        return (_dm_terms(action_dist, estimated_rewards) + w * residual)[:, None]

    def _q_weight(self, checked, terms):
        # pi - w on the logged arm: zero in expectation with right propensities, so the
        # model's error reaches DR only at second order (its refit terms are small).
        _, action, pscore, action_dist, _ = checked
        return _minus_on_logged(action_dist, action, _weights(action, pscore, action_dist))


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchDR(BaseEstimator):
    """Switch doubly robust: the DR correction only on rows with weight ``<= tau``.

    Rows whose importance weight exceeds ``tau`` keep the DM term alone, which
    trades a little bias for much less variance. ``tau = inf`` is DR and
    ``tau = 0`` is DM.

    Parameters
    ----------
    tau : float, default=inf
        Weight threshold, ``>= 0``.
    """

    name: ClassVar[str] = "switch_dr"
    requires_estimated_rewards: ClassVar[bool] = True
    tau: float = np.inf

    def __post_init__(self) -> None:
        tau = self.tau
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau >= 0:
            raise ValueError(f"`tau` must be a float >= 0; got {tau!r}.")

    def _terms(self, reward, action, pscore, action_dist, estimated_rewards):
        w = _weights(action, pscore, action_dist)
        residual = reward - _factual(estimated_rewards, action)
        keep = w <= self.tau
        return (_dm_terms(action_dist, estimated_rewards) + keep * w * residual)[:, None]

    def _q_weight(self, checked, terms):
        # Rows above tau keep DM's term alone, and with it the model's error.
        _, action, pscore, action_dist, _ = checked
        w = _weights(action, pscore, action_dist)
        return _minus_on_logged(action_dist, action, (w <= self.tau) * w)


@dataclass(frozen=True, slots=True, kw_only=True)
class SNDR(BaseEstimator):
    """Self-normalized DR: DM plus ``sum(w * (r - q)) / sum(w)``."""

    name: ClassVar[str] = "sndr"
    requires_estimated_rewards: ClassVar[bool] = True

    def _terms(self, reward, action, pscore, action_dist, estimated_rewards):
        w = _weights(action, pscore, action_dist)
        residual = reward - _factual(estimated_rewards, action)
        return np.column_stack([_dm_terms(action_dist, estimated_rewards), w * residual, w])

    def _combine(self, sums, n):
        den = sums[..., 2]
        correction = np.divide(sums[..., 1], den, out=np.zeros_like(den), where=den > 0)
        return sums[..., 0] / n + correction

    def _q_weight(self, checked, terms):
        _, action, pscore, action_dist, _ = checked
        w = _weights(action, pscore, action_dist)
        total = w.sum()
        scaled = w * (w.shape[0] / total) if total > 0 else np.zeros_like(w)
        return _minus_on_logged(action_dist, action, scaled)


#: Registry of estimators by name; ``ESTIMATORS[name]()`` builds one with defaults.
ESTIMATORS: dict[str, type[BaseEstimator]] = {
    cls.name: cls for cls in (IPS, SNIPS, DM, DR, SwitchDR, SNDR)
}
