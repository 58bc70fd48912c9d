"""Contextual linear policies: LinUCB and linear Thompson sampling.

Each arm ``k`` keeps a ridge regression of reward on context,
``A_k = lambda I + sum x x^T`` and ``b_k = sum r x``, stacked on a leading arm
axis: ``A_`` and ``A_inv_`` have shape (n_arms, d, d), ``b_`` and ``theta_``
(n_arms, d).

Both policies score row ``x`` for arm ``k`` by ``x.theta_k + c sqrt(x^T A_k^-1 x)``
(``c = alpha sigma`` for LinUCB, ``c = v sigma z`` with a standard normal ``z``
for linear TS). ``sigma`` is the standard deviation of the rewards observed so
far, pooled over arms (1 before two rewards; :func:`noise_sd`): the width of a
ridge regression's confidence set scales with its noise, so the policies are
scale-equivariant (rewards in dollars or in clicks give the same decisions,
and the ridge prior shrinks in proportion), and a click at a 1 % rate, whose
noise is about 0.1, is not explored as if it spanned all of [0, 1].

The quadratic form is the expensive part, d(d+1)/2 multiply-adds per row
and arm, so it is one matrix product: each row's products ``x_j x_l`` (j <= l)
packed into ``m = d(d+1)/2`` numbers, each arm's inverse packed the same way
with its off-diagonal entries doubled, and ``quad = packed_inv @ products``,
(K, m) @ (m, n). That is half the work of ``x @ A_inv`` plus a reduction, with
no (n, K, d) temporary.

That product runs in float32, which halves what is most of a decision's cost.
The width only sizes the exploration bonus or the posterior noise, and its
float32 error is far below anything a decision can see: at most 5e-7 relative
over the 50,000 decisions of the W2 benchmark; with collinear contexts (two
one-hot groups, as in the app) the relative error grows with the rows per arm
while the width shrinks: about 4e-5 relative at 100,000 rows per arm, under
1e-6 absolute. The means, the regression state and the inversion stay
float64.

The scores are summed in the compiled loops in one fixed order, not handed to
a BLAS: a BLAS picks its kernels (and so the order in which a product sums, and
its rounding) by processor, and the float32 width's rounding then decided
near-ties between arms one way on one CPU and the other way on another, so one
seed gave different runs on different machines. Only the batch's Gram matrix
``X^T X`` still goes through the BLAS (written out it was 13 times slower): it
differs by processor in the last bit of the float64 regression state at most,
and the default and roas presets give the same bytes under every
``OPENBLAS_CORETYPE`` tried. Arms in identical states are still found after
every refresh (``alias``: the first arm with the same packed inverse and
coefficients) and copy that arm's mean and quadratic form: their scores are
bit-identical, exact ties (every arm before any data, or after ``forget``)
stay exact and are broken uniformly at random.

The loops (building the products, adding a batch to its
arms, Cholesky re-inversion of the touched arms, arg max with tie-breaking)
are compiled with numba (:mod:`simulation.compiled`); vectorized numpy
references of each live in the tests, which hold the compiled ones to them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from simulation.compiled import jit
from simulation.policies.base import Policy, check_contexts, check_fraction, check_rng
from simulation.policies.linear_kernels import TIE_TOLERANCE

if TYPE_CHECKING:
    from simulation.config import ExperimentConfig

__all__ = ["LinTS", "LinUCB", "load_kernels", "noise_sd"]


def load_kernels() -> None:
    """Compile (or load from numba's cache) the kernels now.

    The engine calls this before forking its workers, which then inherit them
    instead of each loading them again on every run.
    """
    _kernels()


def noise_sd(moments: np.ndarray) -> float:
    """Pooled standard deviation of the rewards seen, from ``moments`` = (n, sum, sum of squares).

    1.0 before two rewards. The compiled play loop
    (:mod:`simulation.policies.linear_kernels`) does the same arithmetic.
    """
    n, total, squares = float(moments[0]), float(moments[1]), float(moments[2])
    if n < 2.0:
        return 1.0
    mean = total / n
    return math.sqrt(max(squares / n - mean * mean, 0.0))


#: The compiled kernels besides ``play_linear`` (see :func:`_kernels`).
KERNELS = ("score", "accumulate", "refresh", "alias")
#: Most Monte Carlo draws per context :class:`LinTS` may take for its propensities: a spec
#: sets them, and each row's draws are held at once (100,000 x 20 arms: 16 MB).
MAX_PROPENSITY_DRAWS = 100_000
#: Most cells of the per-arm (n_arms, d, d) matrices of a linear policy (512 MiB of floats
#: each; the logs' own bound on a matrix, ``MAX_MATRIX_CELLS``): the largest log, 1,000 arms
#: of 256 features and a segment column, fits.
MAX_LINEAR_CELLS = 2**26

# "Not wanted" for the kernels' optional arguments (never written to).
_NONE = np.empty((0, 0))
_NO_U = np.empty(0)
_NO_ARMS = np.empty(0, dtype=np.int64)


def _refresh_general(A, b, touched, A_inv, theta, packed, failed):
    """Re-invert the touched arms with a general inverse (where Cholesky failed)."""
    arms = np.flatnonzero(touched)
    if arms.size:
        A_inv[arms] = np.linalg.inv(A[arms])
        theta[arms] = np.einsum("kde,ke->kd", A_inv[arms], b[arms])
        packed[arms] = _pack(A_inv[arms])


def _pack(A_inv):
    """Upper triangles of (k, d, d) in row order, off-diagonals doubled: (k, m)."""
    j, jj = np.triu_indices(A_inv.shape[1])
    return A_inv[:, j, jj] * np.where(j == jj, 1.0, 2.0)


def _ties(score):
    """Arms within :data:`TIE_TOLERANCE` of the best, ndarray of bool like ``score`` (K, n)."""
    return score >= score.max(axis=0) - TIE_TOLERANCE


def _kernels(backend: str = "numba") -> SimpleNamespace:
    """The compiled kernels (``score``, ``accumulate``, ``refresh``, ``alias``, ``play_linear``).

    Compiling (or loading numba's on-disk cache) happens on the first call, from
    the first ``reset`` of a linear policy or :func:`load_kernels`, so neither
    import nor a timed loop pays for it. ``backend`` is kept for old callers;
    only ``"numba"`` (or ``"auto"``) exists.
    """
    if backend not in ("auto", "numba"):
        raise ValueError(f"`backend` must be 'numba'; got {backend!r}.")
    return _build_kernels()


@functools.cache
def _build_kernels() -> SimpleNamespace:
    from simulation.policies import linear_kernels as lk

    loops = (lk._score_loop, lk._accumulate_loop, lk._refresh_loop, lk._alias_loop)
    kernels = SimpleNamespace(name="numba", **{k: jit(f) for k, f in zip(KERNELS, loops)})
    kernels.play_linear = lk.build(kernels, jit)
    _warm_up(kernels)
    return kernels


def _warm_up(kernels: SimpleNamespace) -> None:
    """Run every kernel once on a tiny problem, with the argument types used later."""
    k, d = 2, 2
    m = d * (d + 1) // 2
    x = np.ones((1, d))
    A = np.broadcast_to(np.eye(d), (k, d, d)).copy()
    b = np.zeros((k, d))
    touched = np.zeros(k, dtype=np.bool_)
    kernels.accumulate(x, np.zeros(1, dtype=np.int64), np.ones(1), A, b, touched)
    none = np.empty((0, 0))
    # The policies' packed inverses come out of _pack in Fortran order;
    # both layouts are compiled here, so no later call compiles (or, in a
    # forked engine worker, loads from disk) another.
    alias = np.zeros(k, dtype=np.int64)
    for packed in (np.zeros((k, m), np.float32), _pack(A).astype(np.float32)):
        kernels.refresh(A, b, touched, A.copy(), b.copy(), packed, np.zeros(k, np.bool_))
        kernels.alias(packed, b, alias)
        kernels.score(
            x, packed, b, alias, 1.0, none, np.zeros(1), np.empty(1, np.int64), none, none
        )
        quad = np.zeros((k, 1))
        kernels.score(
            x, packed, b, alias, 0.0, none, np.zeros(0), np.empty(0, np.int64), quad, quad
        )
    # The engine's whole-chunk loop, with read-only tables too (the audience-wide
    # ones shared with forked workers are; numba compiles them separately).
    rows = np.zeros(1, dtype=np.int64)
    offsets = np.array([0, 1], dtype=np.int64)
    for frozen in (False, True):
        table, ctr = np.ones((1, d)), np.full(k, 0.5)
        table.flags.writeable = ctr.flags.writeable = not frozen
        for noise in (none, np.zeros((k, 1))):  # LinUCB, LinTS
            packed = _pack(A).astype(np.float32)
            kernels.play_linear(
                table, rows, offsets, rows, ctr, np.zeros(1), np.zeros(1), noise, 1.0, A.copy(),
                b.copy(), A.copy(), b.copy(), packed, np.zeros(3), np.zeros(1, dtype=np.int64),
            )  # fmt: skip


@dataclass(kw_only=True, eq=False)
class _Linear(Policy):
    """Shared ridge-regression state of the linear policies."""

    needs_contexts = True
    ridge: float = 1.0

    A_: np.ndarray = field(init=False, repr=False)
    A_inv_: np.ndarray = field(init=False, repr=False)
    b_: np.ndarray = field(init=False, repr=False)
    theta_: np.ndarray = field(init=False, repr=False)
    # A_inv_ packed for the quadratic-form GEMM (see the module docstring), (n_arms, m).
    _packed: np.ndarray = field(init=False, repr=False)
    # alias[k]: the first arm in the same state as arm k (see _alias_loop), (n_arms,).
    _alias: np.ndarray = field(init=False, repr=False)
    _backend: SimpleNamespace = field(init=False, repr=False)
    # (n, sum, sum of squares) of every reward seen, for noise_sd; (3,).
    reward_moments_: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        value = self.ridge
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:
            raise ValueError(f"`ridge` must be a float in (0, 1e6]; got {value!r}.")

    def _reset_state(self) -> None:
        if self.n_features_ < 1:
            raise ValueError(
                f"{type(self).__name__} needs n_features >= 1; got {self.n_features_}."
            )
        k, d = self.n_arms_, self.n_features_
        if k * d * d > MAX_LINEAR_CELLS:
            # Two (k, d, d) matrices of floats: refused before they are allocated.
            raise ValueError(
                f"{type(self).__name__} keeps a {d} x {d} matrix per arm: {k:,} arms x "
                f"{d:,}² features is {k * d * d:,} cells, more than {MAX_LINEAR_CELLS:,}; use "
                "fewer arms or features."
            )
        self._backend = _kernels()
        self.A_ = np.broadcast_to(self.ridge * np.eye(d), (k, d, d)).copy()
        self.A_inv_ = np.broadcast_to(np.eye(d) / self.ridge, (k, d, d)).copy()
        self.b_ = np.zeros((k, d))
        self.theta_ = np.zeros((k, d))
        self._packed = _pack(self.A_inv_).astype(np.float32)
        self._alias = np.zeros(k, dtype=np.int64)  # every arm starts at the prior
        self.reward_moments_ = np.zeros(3)

    @property
    def noise_sd_(self) -> float:
        """Pooled standard deviation of the rewards seen so far (1 before two)."""
        self._check_fitted()  # select before reset: the usual message, not an AttributeError
        return noise_sd(self.reward_moments_)

    def play_chunk(
        self,
        table: np.ndarray,
        rows: np.ndarray,
        offsets: np.ndarray,
        keys: np.ndarray,
        ctr: np.ndarray,
        click_uniforms: np.ndarray,
        uniforms: np.ndarray,
        noise: np.ndarray,
        scale: float,
    ) -> np.ndarray:
        """Play a chunk of batches in compiled code, updating the regressions in place.

        Each batch is chosen with :meth:`select`'s arithmetic from the given draws,
        and learns from the click of the shown arm (``click_uniforms < ctr``).

        Parameters
        ----------
        table : ndarray of shape (n_table, n_features)
        rows : ndarray of shape (n_rows,), int64
            Impression ``i``'s context is ``table[rows[i]]``.
        offsets : ndarray of shape (n_batches + 1,), int64
            Batch ``j`` is rows ``offsets[j]:offsets[j + 1]``.
        keys : ndarray of shape (n_rows,), int64
            Row of the truth table of each impression.
        ctr : ndarray of shape (n_truth_rows * n_arms,)
        click_uniforms, uniforms : ndarray of shape (n_rows,)
            The response's click uniforms and the policy's tie-breaking uniforms.
        noise : ndarray of shape (n_arms, n_rows), or (0, 0) when not noisy
        scale : float
            ``alpha`` or ``v``: each batch multiplies it by :attr:`noise_sd_`.

        Returns
        -------
        shown : ndarray of shape (n_rows,), int64
        """
        shown = np.empty(int(offsets[-1]), dtype=np.int64)
        self._backend.play_linear(
            np.ascontiguousarray(table, dtype=np.float64),
            np.ascontiguousarray(rows, dtype=np.int64),
            np.ascontiguousarray(offsets, dtype=np.int64),
            np.ascontiguousarray(keys, dtype=np.int64),
            ctr,
            np.ascontiguousarray(click_uniforms),
            uniforms,
            noise,
            scale,
            self.A_,
            self.b_,
            self.A_inv_,
            self.theta_,
            self._packed,
            self.reward_moments_,
            shown,
        )
        return shown

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Add the batch's observations to each arm's regression.

        Parameters
        ----------
        contexts : ndarray of shape (n, n_features)
        arms : ndarray of shape (n,), int
        rewards : ndarray of shape (n,)
        """
        x, a, r = self._check_update(contexts, arms, rewards)
        touched = np.zeros(self.n_arms_, dtype=np.bool_)
        self._backend.accumulate(
            np.ascontiguousarray(x), a, np.ascontiguousarray(r), self.A_, self.b_, touched
        )
        # Plain sums, as the compiled loop adds them (exact for 0/1 rewards).
        self.reward_moments_ += (r.size, r.sum(), (r * r).sum())
        self._refresh(touched)

    def _refresh(self, touched: np.ndarray) -> None:
        """Re-invert the ``touched`` arms (bool, shape (n_arms,)); the others did not change."""
        failed = np.zeros(self.n_arms_, dtype=np.bool_)
        self._backend.refresh(
            self.A_, self.b_, touched, self.A_inv_, self.theta_, self._packed, failed
        )
        if failed.any():
            _refresh_general(
                self.A_, self.b_, failed, self.A_inv_, self.theta_, self._packed, failed
            )
        self._backend.alias(self._packed, self.theta_, self._alias)

    def forget(self, arms: np.ndarray) -> None:
        """Reset the regressions of ``arms`` to the ridge prior (the noise estimate stays)."""
        a = self._check_forget(arms)
        self.A_[a] = self.ridge * np.eye(self.n_features_)
        self.b_[a] = 0.0
        touched = np.zeros(self.n_arms_, dtype=np.bool_)
        touched[a] = True
        self._refresh(touched)

    def _mean_and_quad(self, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted reward ``x.theta_k`` and ``x^T A_k^-1 x``, each of shape (n_arms, n)."""
        self._check_fitted()
        x = np.ascontiguousarray(check_contexts(contexts, self.n_features_))
        mean = np.empty((self.n_arms_, x.shape[0]))
        quad = np.empty_like(mean)
        self._backend.score(
            x, self._packed, self.theta_, self._alias, 0.0, _NONE, _NO_U, _NO_ARMS, mean, quad
        )
        return mean, quad

    def _mean_and_width(self, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted reward and its standard error, each of shape (n, n_arms)."""
        mean, quad = self._mean_and_quad(contexts)
        return mean.T, np.sqrt(np.maximum(quad, 0.0)).T

    def _pick(self, contexts: np.ndarray, scale: float, rng: np.random.Generator, *, noisy: bool):
        """Arg max per row of ``mean + scale * width * z``, ndarray of shape (n,), int64.

        ``z`` is standard normal per (arm, row) when ``noisy``, else 1. One
        uniform per row then picks among the row's tied arms.
        """
        x = np.ascontiguousarray(self._check_batch(contexts, rng))
        n = x.shape[0]
        noise = rng.standard_normal((self.n_arms_, n)) if noisy else _NONE
        arms = np.empty(n, dtype=np.int64)
        self._backend.score(
            x,
            self._packed,
            self.theta_,
            self._alias,
            float(scale),
            noise,
            rng.random(n),
            arms,
            _NONE,
            _NONE,
        )
        return arms


@dataclass(kw_only=True, eq=False)
class LinUCB(_Linear):
    """Disjoint LinUCB (Li et al., 2010): x.theta_k + alpha * sigma * sqrt(x^T A_k^-1 x).

    ``sigma`` is :attr:`noise_sd_`, the pooled standard deviation of the
    rewards seen: Li et al.'s ``alpha`` is for rewards spread over [0, 1];
    scaled by the noise, the bonus fits clicks at a 1 % rate and net value in
    dollars alike.

    Parameters
    ----------
    alpha : float, default=1.0
        Width of the confidence bonus in noise standard deviations, in [0, 100].
    ridge : float, default=1.0
        Ridge penalty lambda, in (0, 1e6].
    """

    name = "lin_ucb"
    param_ranges = (("alpha", "a float in [0, 100]"), ("ridge", "a float in (0, 1e6]"))
    alpha: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_fraction("alpha", self.alpha, high=100.0)

    def linear_kernel(self, config: ExperimentConfig) -> tuple[float, bool] | None:
        """How :meth:`play_chunk` plays this policy's batches in ``config``, or None.

        Returns
        -------
        kernel : tuple of (float, bool) or None
            The scale of the score's width (``alpha``) and False: no noise. None
            without the compiled kernels.
        """
        return (float(self.alpha), False) if hasattr(self._backend, "play_linear") else None

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Arm with the highest upper bound per row; ties broken uniformly at random.

        Parameters
        ----------
        contexts : ndarray of shape (n, n_features)
        rng : numpy.random.Generator
            Draws one uniform per row, which picks among the row's tied arms
            (scores within :data:`TIE_TOLERANCE` of the best): the same set
            :meth:`action_probabilities` spreads its mass over.

        Returns
        -------
        arms : ndarray of shape (n,), int64
        """
        return self._pick(contexts, self.alpha * self.noise_sd_, rng, noisy=False)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Uniform over the arms tied at the top score in each row, (n, n_arms)."""
        check_rng(rng)  # unused, but the contract's: a bad one is refused as in select
        mean, quad = self._mean_and_quad(contexts)
        scale = self.alpha * self.noise_sd_
        top = _ties(mean + scale * np.sqrt(np.maximum(quad, 0.0))).T
        return top / top.sum(axis=1, keepdims=True)


@dataclass(kw_only=True, eq=False)
class LinTS(_Linear):
    """Linear Thompson sampling (Agrawal & Goyal, 2013).

    Each decision draws theta_k ~ N(theta_hat_k, v^2 sigma^2 A_k^-1) for every
    arm independently, ``sigma`` being :attr:`noise_sd_`: with ``v = 1`` that
    is the Bayesian posterior of a ridge regression with Gaussian noise of
    that size (prior N(0, sigma^2 / ridge)), whatever the reward's unit. The
    score x.theta_k is then exactly N(x.theta_hat_k, v^2 sigma^2 x^T A_k^-1 x),
    so one standard normal per (decision, arm) replaces a d-dimensional draw.
    The draws must be independent across arms (MABWiser 2.7.4's are not; see
    ``bench/w2_contextual.py``).

    Parameters
    ----------
    v : float, default=1.0
        Posterior scale in noise standard deviations, in [1e-09, 100].
    ridge : float, default=1.0
    propensity_draws : int, default=1000
        Monte Carlo draws per context used by :meth:`action_probabilities` and
        :meth:`logged_propensity`, in [1, :data:`MAX_PROPENSITY_DRAWS`]
        (the probability that each arm wins has no closed form here).
    """

    name = "lin_ts"
    param_ranges = (
        ("v", "a float in [1e-09, 100]"),
        ("ridge", "a float in (0, 1e6]"),
        ("propensity_draws", f"an int in [1, {MAX_PROPENSITY_DRAWS:,}]"),
    )
    v: float = 1.0
    propensity_draws: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        check_fraction("v", self.v, low=1e-9, high=100.0)
        draws = self.propensity_draws
        if (
            isinstance(draws, bool)
            or not isinstance(draws, int)
            or not 1 <= draws <= MAX_PROPENSITY_DRAWS
        ):
            raise ValueError(
                f"`propensity_draws` must be an int in [1, {MAX_PROPENSITY_DRAWS:,}]; "
                f"got {draws!r}."
            )

    def linear_kernel(self, config: ExperimentConfig) -> tuple[float, bool] | None:
        """How :meth:`play_chunk` plays this policy's batches in ``config``, or None.

        Returns
        -------
        kernel : tuple of (float, bool) or None
            The posterior scale ``v`` and True: one standard normal per arm and
            row scales each width. None without the compiled kernels.
        """
        return (float(self.v), True) if hasattr(self._backend, "play_linear") else None

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One posterior draw per (row, arm); the arm with the highest draw.

        Parameters
        ----------
        contexts : ndarray of shape (n, n_features)
        rng : numpy.random.Generator
            Draws n_arms x n standard normals, then one uniform per row for
            exact ties (only possible where every width is zero, e.g. x = 0).

        Returns
        -------
        arms : ndarray of shape (n,), int64
        """
        return self._pick(contexts, self.v * self.noise_sd_, rng, noisy=True)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo estimate with ``propensity_draws`` draws per row (chunked), (n, n_arms).

        An arm that wins in none of a row's draws gets 0 there, though
        :meth:`select` can still pick it: a bandit log takes
        :meth:`logged_propensity`, which is never 0.
        """
        check_rng(rng)
        mean, width = self._mean_and_width(contexts)
        v = self.v * self.noise_sd_
        n, k = mean.shape
        out = np.empty((n, k))
        chunk = max(1, 2_000_000 // (self.propensity_draws * k))
        for start in range(0, n, chunk):
            m = mean[start : start + chunk, None, :]
            w = width[start : start + chunk, None, :]
            z = rng.standard_normal((m.shape[0], self.propensity_draws, k))
            wins = (m + v * w * z).argmax(axis=2)
            counts = (wins[:, :, None] == np.arange(k)).sum(axis=1)
            out[start : start + chunk] = counts / self.propensity_draws
        return out

    def logged_propensity(
        self, contexts: np.ndarray, arms: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """The Monte Carlo propensity of each chosen arm with the choice's own draw counted.

        :meth:`action_probabilities` estimates each arm's chance from
        ``N = propensity_draws`` fresh posterior draws; the decision that chose the
        arm was one more draw from the same posterior, and it won. Counting it,
        the estimate is ``(wins + 1) / (N + 1)``: never 0 (an arm chosen had a
        chance; with 1,000 draws a 0 came up for a few rows per run and the whole
        log was refused), at least ``1 / (N + 1)``, so an importance weight is at
        most ``N + 1``. Because the counted draw is the one that won, it
        overstates the chance by at most ``(1 - p) / (N + 1)`` on average (under
        0.001 with the default 1,000 draws), besides the estimate's Monte Carlo
        noise (standard error ``sqrt(p (1 - p) / N)``).

        Parameters
        ----------
        contexts : ndarray of shape (n, n_features)
        arms : ndarray of shape (n,), int
            The arms :meth:`select` chose for these contexts in this state.
        rng : numpy.random.Generator
            Draws the ``N`` posterior draws per row (the log's own generator).

        Returns
        -------
        pscore : ndarray of shape (n,)
            In ``[1 / (N + 1), 1]``.
        """
        probs = self.action_probabilities(contexts, rng)
        wins = np.rint(probs[np.arange(probs.shape[0]), np.asarray(arms, dtype=np.int64)]
                       * self.propensity_draws)  # fmt: skip
        return (wins + 1.0) / (self.propensity_draws + 1.0)
