"""The engine's compiled route for the context-free policies.

In the plain case (CTR objective, no budget, no conversion delay, no bandit
log) a batch of ``uniform``, ``epsilon_greedy``, ``ucb1`` or ``thompson`` needs
only the policy's counts, one uniform per row from its generator and the click
of the shown arm, so :func:`simulation.policies.counting_kernels.play_counting`
plays a whole chunk of batches in one compiled call. It draws the same
uniforms in the same order and applies the same arithmetic as the policies'
``select`` and ``update``, so the engine's results do not depend on the route
(a test holds the two to the same allocations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.config import ExperimentConfig
from simulation.policies import Policy
from simulation.policies.context_free import (
    EpsilonGreedy,
    Thompson,
    Ucb1,
    Uniform,
    counting_kernels,
)

__all__ = ["CountingRoute", "counting_route"]


@dataclass(frozen=True, slots=True)
class CountingRoute:
    """How to play one policy's chunks in compiled code.

    Attributes
    ----------
    code : int
        Kernel code of the policy.
    param_a, param_b : float
        Its hyperparameters as the kernel takes them.
    """

    code: int
    param_a: float
    param_b: float

    def play(
        self,
        policy: Policy,
        offsets: np.ndarray,
        keys: np.ndarray,
        ctr: np.ndarray,
        click_uniforms: np.ndarray,
        rng: np.random.Generator,
        contexts: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Play the chunk's batches, updating ``policy``'s counts in place.

        Parameters
        ----------
        policy : Policy
            The policy this route was made for.
        offsets : ndarray of shape (n_batches + 1,), int64
            Batch ``j`` is rows ``offsets[j]:offsets[j + 1]``.
        keys : ndarray of shape (n_rows,), int64
            Row of the truth table of each impression.
        ctr : ndarray of shape (n_truth_rows * n_arms,)
            Expected click probabilities, raveled.
        click_uniforms : ndarray of shape (n_rows,)
            The response's click uniforms.
        rng : numpy.random.Generator
            The policy's generator: one uniform per row, as ``select`` draws them.
        contexts : tuple of ndarray, optional
            Not read (the policies are context-free); the engine passes it to every route.

        Returns
        -------
        shown : ndarray of shape (n_rows,), int64
        """
        n_rows = int(offsets[-1])
        shown = np.empty(n_rows, dtype=np.int64)
        counting_kernels().play_counting(
            self.code,
            self.param_a,
            self.param_b,
            policy.pulls_,
            policy.reward_sum_,
            np.ascontiguousarray(offsets, dtype=np.int64),
            np.ascontiguousarray(keys, dtype=np.int64),
            ctr,
            np.ascontiguousarray(click_uniforms),
            rng.random(n_rows),
            shown,
        )
        return shown


def counting_route(policy: Policy, config: ExperimentConfig) -> CountingRoute | None:
    """The compiled route for ``policy`` in an experiment, or None to play it batch by batch.

    Parameters
    ----------
    policy : Policy
        A reset policy (its ``n_arms_`` is read).
    config : ExperimentConfig

    Returns
    -------
    route : CountingRoute or None
    """
    if (
        config.objective != "ctr"
        or config.budget is not None
        or config.conversion_delay != 0
        or counting_kernels() is None
    ):
        return None
    kind = type(policy)
    kernels = counting_kernels()
    if kind is Uniform:
        return CountingRoute(kernels.POLICY_CODES["uniform"], 0.0, 0.0)
    if kind is EpsilonGreedy:
        return CountingRoute(kernels.POLICY_CODES["epsilon_greedy"], float(policy.epsilon), 0.0)
    if kind is Ucb1:
        return CountingRoute(kernels.POLICY_CODES["ucb1"], float(policy.alpha), 0.0)
    if kind is Thompson and _thompson_integrates(policy.n_arms_, config):
        code = kernels.POLICY_CODES["thompson"]
        return CountingRoute(code, float(policy.prior_alpha), float(policy.prior_beta))
    return None


def _thompson_integrates(n_arms: int, config: ExperimentConfig) -> bool:
    """True when ``Thompson.select`` takes its integration route for every batch.

    For a batch of ``n`` rows it integrates when ``n * K > 64`` and
    ``c * max(16 c, 480) <= 2 n K`` for the ``c <= K`` arms that can still win
    (otherwise it draws Beta variates, which the kernel does not).
    """
    last = config.n_impressions - (config.n_batches - 1) * config.batch_size
    smallest = min(config.batch_size, last)
    return smallest * n_arms > 64 and max(16 * n_arms, 480) <= 2 * smallest
