"""The engine's compiled route for LinUCB (see :mod:`simulation.policies.linear_play`).

In the plain case (CTR objective, no budget, no conversion delay, no bandit
log) a LinUCB batch needs its contexts, one uniform per row from the policy's
generator (for ties) and the click of the shown arm, so a chunk of batches runs
in one compiled call with the same draws and the same kernels as ``select`` and
``update`` (a test holds the engine's results to the same allocations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.config import ExperimentConfig
from simulation.policies import Policy
from simulation.policies.linear import LinUCB

__all__ = ["LinearRoute", "linear_route"]


@dataclass(frozen=True, slots=True)
class LinearRoute:
    """How to play a LinUCB policy's chunks in compiled code.

    Attributes
    ----------
    alpha : float
        The policy's confidence width.
    """

    alpha: float

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
            The LinUCB policy this route was made for.
        offsets : ndarray of shape (n_batches + 1,), int64
        keys : ndarray of shape (n_rows,), int64
            Row of the truth table of each impression.
        ctr : ndarray of shape (n_truth_rows * n_arms,)
        click_uniforms : ndarray of shape (n_rows,)
        rng : numpy.random.Generator
            The policy's generator: one uniform per row, as ``select`` draws them.
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
        policy._backend.play_ucb(
            np.ascontiguousarray(table, dtype=np.float64),
            np.ascontiguousarray(rows, dtype=np.int64),
            np.ascontiguousarray(offsets, dtype=np.int64),
            np.ascontiguousarray(keys, dtype=np.int64),
            ctr,
            np.ascontiguousarray(click_uniforms),
            rng.random(n_rows),
            self.alpha,
            policy.A_,
            policy.b_,
            policy.A_inv_,
            policy.theta_,
            policy._packed,
            shown,
        )
        return shown


def linear_route(policy: Policy, config: ExperimentConfig) -> LinearRoute | None:
    """The compiled route for ``policy`` in an experiment, or None to play it batch by batch.

    Parameters
    ----------
    policy : Policy
        A reset policy.
    config : ExperimentConfig

    Returns
    -------
    route : LinearRoute or None
    """
    if (
        type(policy) is not LinUCB
        or config.objective != "ctr"
        or config.budget is not None
        or config.conversion_delay != 0
        or not hasattr(policy._backend, "play_ucb")
    ):
        return None
    return LinearRoute(float(policy.alpha))
