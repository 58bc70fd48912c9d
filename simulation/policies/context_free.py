"""Context-free policies: uniform A/B split, epsilon-greedy, UCB1, Thompson sampling.

They keep per-arm counts on a leading arm axis and ignore the contexts except
for their number of rows (contexts are still checked as every policy checks
them: the width given to ``reset``, every value finite). Beta-Bernoulli
Thompson sampling and its Gaussian counterpart on value expect rewards in
[0, 1] (``unit_rewards``; the engine maps value objectives onto [0, 1] for
them); the others are scale-equivariant and learn on the reward as it comes
(clicks, or net value in dollars).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from simulation.policies import counting_kernels as _kernels
from simulation.policies.base import Policy, check_fraction
from simulation.policies.prob_best import _TAIL, prob_best_normal

if TYPE_CHECKING:
    from simulation.config import ExperimentConfig

__all__ = ["EpsilonGreedy", "Thompson", "ThompsonValue", "Ucb1", "Uniform", "counting_kernels"]


def counting_kernels() -> ModuleType:
    """The compiled kernels of these policies (:mod:`simulation.policies.counting_kernels`), loaded.

    Kept for the engine's routes; :func:`simulation.compiled.warm_up_all` loads them too.
    """
    _kernels.load()
    return _kernels


def _tied_max_probabilities(score: np.ndarray) -> np.ndarray:
    """Uniform probability over the arms tied at the maximum of ``score`` (K,)."""
    top = score == score.max()
    return top / top.sum()


class _Counting(Policy):
    """Shared per-arm pull counts and reward sums."""

    pulls_: np.ndarray
    reward_sum_: np.ndarray

    def _reset_state(self) -> None:
        self.pulls_ = np.zeros(self.n_arms_)
        self.reward_sum_ = np.zeros(self.n_arms_)

    def counting_kernel(self, config: ExperimentConfig) -> tuple[str, float, float] | None:
        """How :func:`counting_kernels` plays this policy's batches in ``config``, or None.

        Returns
        -------
        kernel : tuple of (str, float, float) or None
            The kernel's policy code name and its two parameters; None when the
            kernel cannot play it (the engine then calls ``select`` and ``update``).
        """
        return None

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Add the batch's pulls and rewards to the per-arm totals."""
        _, a, r = self._check_update(contexts, arms, rewards)
        self.pulls_ += np.bincount(a, minlength=self.n_arms_)
        self.reward_sum_ += np.bincount(a, weights=r, minlength=self.n_arms_)

    def forget(self, arms: np.ndarray) -> None:
        """Zero the totals of ``arms``."""
        a = self._check_forget(arms)
        self.pulls_[a] = 0.0
        self.reward_sum_[a] = 0.0

    def _select_from(self, probs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        # Every row shares one CDF: a binary search per draw instead of an (n, K)
        # comparison. Same uniforms and same arms as sample_from_probabilities.
        cdf = np.cumsum(probs)
        u = rng.random(n) * cdf[-1]
        return np.minimum(np.searchsorted(cdf, u, side="right"), self.n_arms_ - 1)

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` arms from the (context-free) action distribution."""
        n = self._check_batch(contexts, rng).shape[0]
        return self._select_from(self._probabilities(), n, rng)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The same action distribution for every row, ndarray of shape (n, n_arms)."""
        n = self._check_batch(contexts, rng).shape[0]
        return np.broadcast_to(self._probabilities(), (n, self.n_arms_)).copy()

    def _probabilities(self) -> np.ndarray:
        raise NotImplementedError


@dataclass(kw_only=True, eq=False)
class Uniform(_Counting):
    """The A/B split: every arm equally often, whatever happened."""

    name = "uniform"
    learns = False

    def _probabilities(self) -> np.ndarray:
        return np.full(self.n_arms_, 1.0 / self.n_arms_)

    def counting_kernel(self, config: ExperimentConfig) -> tuple[str, float, float]:
        """See :meth:`_Counting.counting_kernel`."""
        return "uniform", 0.0, 0.0


@dataclass(kw_only=True, eq=False)
class EpsilonGreedy(_Counting):
    """Explore a uniformly random arm with probability ``epsilon``, else exploit.

    Parameters
    ----------
    epsilon : float, default=0.1
        Exploration rate in [0, 1]. Ties for the best mean are broken uniformly
        (arms never pulled have mean 0).
    """

    name = "epsilon_greedy"
    param_ranges = (("epsilon", "a float in [0, 1]"),)
    epsilon: float = 0.1

    def __post_init__(self) -> None:
        check_fraction("epsilon", self.epsilon)

    def counting_kernel(self, config: ExperimentConfig) -> tuple[str, float, float]:
        """See :meth:`_Counting.counting_kernel`."""
        return "epsilon_greedy", float(self.epsilon), 0.0

    def _probabilities(self) -> np.ndarray:
        mean = self.reward_sum_ / np.maximum(self.pulls_, 1.0)
        greedy = _tied_max_probabilities(mean)
        return self.epsilon / self.n_arms_ + (1.0 - self.epsilon) * greedy


@dataclass(kw_only=True, eq=False)
class Ucb1(_Counting):
    """UCB1 with a variance-scaled bonus: mean + ``alpha`` * 2 sd_k * sqrt(2 ln t / n_k).

    The textbook UCB1 (Auer et al., 2002) bonus, sqrt(2 ln t / n_k), is
    Hoeffding's for rewards spread over all of [0, 1], whose standard
    deviation is at most 0.5: it is this index with ``sd_k = 0.5``. A click at
    a 1 % rate has a standard deviation of about 0.1, so that bonus explores
    about five times more than the noise warrants, and on value rewards
    (dollars) it has no scale at all. Here the bonus is multiplied by the arm's empirical
    standard deviation ``sd_k``, never less than the standard deviation pooled over all
    arms: ``sd_k^2 = max(ss_k / n_k, v)`` with ``ss_k`` the arm's sum of squared deviations
    and ``v`` the pooled variance. The floor matters for rare, large rewards (net value
    with conversions at 1 in 1,000): an arm that has not yet converted shows almost no
    spread, and without the floor it would lose its bonus and never be tried again, while a
    lucky arm kept both a high mean and a high bonus (UCB1 then did worse than the A/B
    split under ROAS, bench/separation.py). The
    index is then scale-equivariant: multiplying every reward by ``c > 0``
    multiplies means and bonuses by ``c`` and changes no decision.

    Arms never pulled come first; ties are broken uniformly. Within a batch the
    index does not change, so the whole batch goes to the arm(s) with the top
    index.

    Parameters
    ----------
    alpha : float, default=1.0
        Scale of the exploration bonus, in [0, 100] (1 with a standard
        deviation of 0.5, a fair coin, is the textbook UCB1 index).
    """

    name = "ucb1"
    param_ranges = (("alpha", "a float in [0, 100]"),)
    alpha: float = 1.0

    reward_sq_sum_: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_fraction("alpha", self.alpha, high=100.0)

    def _reset_state(self) -> None:
        super()._reset_state()
        self.reward_sq_sum_ = np.zeros(self.n_arms_)

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Add the batch to the per-arm totals (also the sums of squares)."""
        _, a, r = self._check_update(contexts, arms, rewards)
        super().update(contexts, arms, rewards)
        self.reward_sq_sum_ += np.bincount(a, weights=r * r, minlength=self.n_arms_)

    def forget(self, arms: np.ndarray) -> None:
        """Zero the totals of ``arms``."""
        super().forget(arms)
        self.reward_sq_sum_[self._check_forget(arms)] = 0.0

    def counting_kernel(self, config: ExperimentConfig) -> tuple[str, float, float]:
        """See :meth:`_Counting.counting_kernel`."""
        return "ucb1", float(self.alpha), 0.0

    def _probabilities(self) -> np.ndarray:
        untried = self.pulls_ == 0
        if untried.any():
            return untried / untried.sum()
        n, s, q = self.pulls_, self.reward_sum_, self.reward_sq_sum_
        index = ucb_index(n, s, q, self.alpha)
        return _tied_max_probabilities(index)


def ucb_index(pulls: np.ndarray, sums: np.ndarray, sq_sums: np.ndarray, alpha: float) -> np.ndarray:
    """The :class:`Ucb1` index of every arm (all pulled at least once), ndarray of shape (n_arms,).

    The compiled kernel (:func:`simulation.policies.counting_kernels.play_counting`)
    does the same arithmetic in the same order, arm by arm.
    """
    t = 0.0
    tot_s = 0.0
    tot_q = 0.0
    for i in range(pulls.shape[0]):
        t += pulls[i]
        tot_s += sums[i]
        tot_q += sq_sums[i]
    pooled_mean = tot_s / t
    pooled = max(tot_q / t - pooled_mean * pooled_mean, 0.0)
    index = np.empty(pulls.shape[0])
    log_t = math.log(t)
    for i in range(pulls.shape[0]):
        mean = sums[i] / pulls[i]
        ss = max(sq_sums[i] - sums[i] * mean, 0.0)
        sd = math.sqrt(max(ss / pulls[i], pooled))
        index[i] = mean + alpha * sd * math.sqrt(8.0 * log_t / pulls[i])
    return index


@dataclass(kw_only=True, eq=False)
class Thompson(_Counting):
    """Beta-Bernoulli Thompson sampling.

    Each decision is the argmax of an independent draw from every arm's
    Beta(prior_alpha + successes, prior_beta + failures) posterior. For a batch
    that is the same as ``n`` independent draws from the posterior probability
    that each arm is best, which the compiled quadrature
    :func:`simulation.policies.counting_kernels.beta_prob_best` computes once per batch;
    the policy uses whichever of the two is cheaper for the batch size (both are
    exact Thompson sampling). Fractional rewards in [0, 1] add fractional
    successes and failures.

    Parameters
    ----------
    prior_alpha, prior_beta : float, default=1.0
        Beta prior, both in (0, 1e6].
    """

    name = "thompson"
    unit_rewards = True
    param_ranges = (
        ("prior_alpha", "a float in (0, 1e6]"),
        ("prior_beta", "a float in (0, 1e6]"),
    )
    prior_alpha: float = 1.0
    prior_beta: float = 1.0

    def __post_init__(self) -> None:
        for name in ("prior_alpha", "prior_beta"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value <= 1e6
            ):
                raise ValueError(f"`{name}` must be a float in (0, 1e6]; got {value!r}.")

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        alpha = self.prior_alpha + self.reward_sum_
        beta = self.prior_beta + self.pulls_ - self.reward_sum_
        return alpha, np.maximum(beta, 1e-12)

    def counting_kernel(self, config: ExperimentConfig) -> tuple[str, float, float] | None:
        """See :meth:`_Counting.counting_kernel`.

        Only when :meth:`select` integrates for every batch of ``config``: for a
        batch of ``n`` rows it does when ``n * K > 64`` and ``c * max(16 c, 480)
        <= 2 n K`` for the ``c <= K`` arms that can still win (otherwise it draws
        Beta variates, which the kernel does not).
        """
        last = config.n_impressions - (config.n_batches - 1) * config.batch_size
        smallest = min(config.batch_size, last)
        k = self.n_arms_
        if smallest * k > 64 and max(16 * k, 480) <= 2 * smallest:
            return "thompson", float(self.prior_alpha), float(self.prior_beta)
        return None

    def _probabilities(self) -> np.ndarray:
        alpha, beta = self._posterior()
        probs = np.empty(self.n_arms_)
        counting_kernels().beta_prob_best(alpha, beta, probs)
        return probs

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Thompson decisions for a batch of ``n`` impressions (shape (n,))."""
        n = self._check_batch(contexts, rng).shape[0]
        alpha, beta = self._posterior()
        k = self.n_arms_
        # Cost model: integrating costs about contenders x grid density
        # evaluations (~0.02 us each, plus fixed overhead); drawing costs
        # n x K Beta variates (~0.05 us each). Pick the cheaper exact route.
        if n * k <= 64:
            return rng.beta(alpha, beta, size=(n, k)).argmax(axis=1)
        lower = special.betaincinv(alpha, beta, _TAIL)
        upper = special.betaincinv(alpha, beta, 1.0 - _TAIL)
        c = int((upper >= lower.max()).sum())
        if c * max(16 * c, 480) > 2 * n * k:
            return rng.beta(alpha, beta, size=(n, k)).argmax(axis=1)
        probs = np.empty(k)
        counting_kernels().beta_prob_best(alpha, beta, probs)
        return self._select_from(probs, n, rng)


@dataclass(kw_only=True, eq=False)
class ThompsonValue(_Counting):
    """Gaussian Thompson sampling on the value per impression (for ROAS).

    Rewards need not be binary: each arm's mean value gets a Normal posterior
    N(mean_k, var_k / (n_k + 1)) with ``var_k`` the arm's reward variance
    shrunk towards ``prior_variance`` by one pseudo-observation. Arms never
    pulled draw from N(prior_mean, prior_variance).

    Parameters
    ----------
    prior_mean : float, default=0.5
        In [-1e6, 1e6].
    prior_variance : float, default=0.25
        The largest variance of a reward in [0, 1]; in (0, 1e6].
    """

    name = "thompson_value"
    unit_rewards = True  # its priors are set for rewards in [0, 1]
    param_ranges = (
        ("prior_mean", "a float in [-1e6, 1e6]"),
        ("prior_variance", "a float in (0, 1e6]"),
    )
    prior_mean: float = 0.5
    prior_variance: float = 0.25

    reward_sq_sum_: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_fraction("prior_mean", self.prior_mean, low=-1e6, high=1e6)
        value = self.prior_variance
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:
            raise ValueError(f"`prior_variance` must be a float in (0, 1e6]; got {value!r}.")

    def _reset_state(self) -> None:
        super()._reset_state()
        self.reward_sq_sum_ = np.zeros(self.n_arms_)

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Add the batch to the per-arm totals (also the sums of squares)."""
        _, a, r = self._check_update(contexts, arms, rewards)
        super().update(contexts, arms, rewards)
        self.reward_sq_sum_ += np.bincount(a, weights=r * r, minlength=self.n_arms_)

    def forget(self, arms: np.ndarray) -> None:
        """Zero the totals of ``arms``."""
        super().forget(arms)
        self.reward_sq_sum_[self._check_forget(arms)] = 0.0

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.pulls_
        mean = np.where(n > 0, self.reward_sum_ / np.maximum(n, 1.0), self.prior_mean)
        ss = np.maximum(self.reward_sq_sum_ - n * mean**2, 0.0)
        var = (ss + self.prior_variance) / (n + 1.0)
        sd = np.sqrt(var / (n + 1.0))
        sd = np.where(n > 0, sd, np.sqrt(self.prior_variance))
        return mean, np.maximum(sd, 1e-12)

    def _probabilities(self) -> np.ndarray:
        return prob_best_normal(*self._posterior())

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Thompson decisions for a batch of ``n`` impressions (shape (n,))."""
        n = self._check_batch(contexts, rng).shape[0]
        mean, sd = self._posterior()
        draws = mean + sd * rng.standard_normal((n, self.n_arms_))
        return draws.argmax(axis=1)
