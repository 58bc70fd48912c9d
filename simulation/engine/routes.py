"""The engine's compiled routes: whole chunks of batches in one call.

In the plain case (CTR objective, no budget, no conversion delay, no bandit
log) a batch needs only the policy's state, one uniform per row from its
generator and the click of the shown arm, so a chunk of batches can be played
in compiled code instead of one ``select`` and ``update`` a batch:

- ``uniform``, ``epsilon_greedy``, ``ucb1`` and ``thompson`` by
  :func:`simulation.policies.counting_kernels.play_counting`;
- ``lin_ucb`` and ``lin_ts`` by :mod:`simulation.policies.linear_play`, with the
  same compiled kernels as the policies' own methods.

Each draws the same numbers in the same order and applies the same arithmetic
as the policies' ``select`` and ``update``, so the engine's results do not
depend on the route (tests hold the two to the same allocations).
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
from simulation.policies.linear import LinTS, LinUCB

__all__ = ["CountingRoute", "LinearRoute", "compiled_route"]


def compiled_route(policy: Policy, config: ExperimentConfig) -> CountingRoute | LinearRoute | None:
    """The compiled route for ``policy`` in an experiment, or None to play it batch by batch.

    Parameters
    ----------
    policy : Policy
        A reset policy.
    config : ExperimentConfig

    Returns
    -------
    route : CountingRoute, LinearRoute or None
    """
    if config.objective != "ctr" or config.budget is not None or config.conversion_delay != 0:
        return None
    kind = type(policy)
    if kind is LinUCB or kind is LinTS:
        if not hasattr(policy._backend, "play_linear"):
            return None
        noisy = kind is LinTS
        return LinearRoute(float(policy.v if noisy else policy.alpha), noisy)
    kernels = counting_kernels()
    if kernels is None:
        return None
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


@dataclass(frozen=True, slots=True)
class LinearRoute:
    """How to play a LinUCB or LinTS policy's chunks in compiled code.

    Attributes
    ----------
    scale : float
        LinUCB's confidence width ``alpha`` or LinTS's posterior scale ``v``.
    noisy : bool
        True for LinTS: one standard normal per arm and row scales each width.
    """

    scale: float
    noisy: bool = False

    def play(
        self,
        policy: Policy,
        offsets: np.ndarray,
        keys: np.ndarray,
        ctr: np.ndarray,
        click_uniforms: np.ndarray,
        rng: np.random.Generator,
        contexts: tuple[np.ndarray, np.ndarray],
    ) -> np.ndarray:
        """Play the chunk's batches, updating ``policy``'s regressions in place.

        Parameters
        ----------
        policy : Policy
            The LinUCB or LinTS policy this route was made for.
        offsets : ndarray of shape (n_batches + 1,), int64
        keys : ndarray of shape (n_rows,), int64
            Row of the truth table of each impression.
        ctr : ndarray of shape (n_truth_rows * n_arms,)
        click_uniforms : ndarray of shape (n_rows,)
        rng : numpy.random.Generator
            The policy's generator, drawn as ``select`` draws it: per batch, LinTS's
            standard normals of shape (n_arms, n), then one uniform per row.
        contexts : tuple of ndarray
            ``(table, rows)``: impression ``i``'s context is ``table[rows[i]]``,
            table of shape (n_table, n_features).

        Returns
        -------
        shown : ndarray of shape (n_rows,), int64
        """
        table, rows = contexts
        n_rows = int(offsets[-1])
        shown = np.empty(n_rows, dtype=np.int64)
        if self.noisy:
            # select draws the normals and the uniforms of a batch in turn, so the chunk's
            # are drawn batch by batch (a few microseconds each) to keep that order.
            noise = np.empty((policy.n_arms_, n_rows))
            uniforms = np.empty(n_rows)
            for lo, hi in zip(offsets[:-1].tolist(), offsets[1:].tolist()):
                noise[:, lo:hi] = rng.standard_normal((policy.n_arms_, hi - lo))
                uniforms[lo:hi] = rng.random(hi - lo)
        else:
            noise, uniforms = np.empty((0, 0)), rng.random(n_rows)
        policy._backend.play_linear(
            np.ascontiguousarray(table, dtype=np.float64),
            np.ascontiguousarray(rows, dtype=np.int64),
            np.ascontiguousarray(offsets, dtype=np.int64),
            np.ascontiguousarray(keys, dtype=np.int64),
            ctr,
            np.ascontiguousarray(click_uniforms),
            uniforms,
            noise,
            self.scale,
            policy.A_,
            policy.b_,
            policy.A_inv_,
            policy.theta_,
            policy._packed,
            shown,
        )
        return shown


def _thompson_integrates(n_arms: int, config: ExperimentConfig) -> bool:
    """True when ``Thompson.select`` takes its integration route for every batch.

    For a batch of ``n`` rows it integrates when ``n * K > 64`` and
    ``c * max(16 c, 480) <= 2 n K`` for the ``c <= K`` arms that can still win
    (otherwise it draws Beta variates, which the kernel does not).
    """
    last = config.n_impressions - (config.n_batches - 1) * config.batch_size
    smallest = min(config.batch_size, last)
    return smallest * n_arms > 64 and max(16 * n_arms, 480) <= 2 * smallest
