"""numpy reference of the compiled Beta quadrature (``counting_kernels.beta_prob_best``).

The same grid, the same trapezoid-carried CDFs and the same leave-one-out
products as the kernel, written with vectorized numpy on top of
:func:`simulation.policies.prob_best.prob_best`; tests hold the kernel to it and
check its law against Monte Carlo.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from simulation.policies.prob_best import _TAIL, prob_best

__all__ = ["prob_best_beta"]


def prob_best_beta(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """:func:`prob_best` for independent Beta(alpha_k, beta_k) posteriors.

    The regularized incomplete beta function is slow (~0.2-0.5 us a call), so
    each contender's CDF is computed exactly once, at the bottom of the grid,
    and carried up the grid by the trapezoid rule on its density (a few ns a
    point); the grid holds dozens of points per posterior standard deviation
    of every contender, so the rule is accurate to ~1e-4.

    Parameters
    ----------
    alpha, beta : ndarray of shape (n_arms,)
        Positive posterior parameters.

    Returns
    -------
    probs : ndarray of shape (n_arms,)
    """
    a = np.asarray(alpha, dtype=np.float64)
    b = np.asarray(beta, dtype=np.float64)
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
    lower = special.betaincinv(a, b, _TAIL)
    upper = special.betaincinv(a, b, 1.0 - _TAIL)
    return prob_best(_beta_cdf_on_grid(a, b), mean, sd, lower, upper)


def _beta_cdf_on_grid(
    a: np.ndarray, b: np.ndarray
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """CDF evaluator for :func:`prob_best`: exact at ``x[0]``, trapezoid above."""

    def cdf(arms: np.ndarray, x: np.ndarray) -> np.ndarray:
        aa, bb = a[arms, None], b[arms, None]
        start = special.betainc(aa[:, 0], bb[:, 0], x[0])
        xi = np.clip(x[None, :], 1e-300, 1.0 - 1e-16)
        log_pdf = (aa - 1.0) * np.log(xi) + (bb - 1.0) * np.log1p(-xi) - special.betaln(aa, bb)
        pdf = np.exp(log_pdf)
        # Densities with a parameter below 1 are unbounded at an end of [0, 1],
        # where the trapezoid rule fails: take the exact CDF for those arms.
        singular = (aa[:, 0] < 1.0) | (bb[:, 0] < 1.0)
        steps = 0.5 * (pdf[:, 1:] + pdf[:, :-1]) * np.diff(x)[None, :]
        F = np.empty_like(pdf)
        F[:, 0] = start
        np.cumsum(steps, axis=1, out=F[:, 1:])
        F[:, 1:] += start[:, None]
        if singular.any():
            F[singular] = special.betainc(aa[singular], bb[singular], x[None, :])
        return np.minimum(F, 1.0)

    return cdf
