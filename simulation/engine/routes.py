"""Routes: how a policy plays a chunk of batches, one protocol for all.

A route's ``play(chunk)`` plays the chunk's batches in order (choose, realize the
outcome it learns from, update) and returns the arm shown at each row (-1 where
a budget had run out); the engine totals what was served afterwards.

:class:`PythonRoute` is the general route: the policy's own ``select`` and
``update`` batch by batch, with the experiment's budget, conversion delay and
bandit log as its fields. In the plain case (CTR objective, no budget, no
conversion delay, no bandit log) a batch needs only the policy's state, one
uniform per row from its generator and the click of the shown arm, so policies
that offer it play whole chunks in compiled code instead:

- ``uniform``, ``epsilon_greedy``, ``ucb1`` and ``thompson`` (their
  ``counting_kernel``) by :func:`simulation.policies.counting_kernels.play_counting`;
- ``lin_ucb`` and ``lin_ts`` (their ``linear_kernel``) by their ``play_chunk``, with
  the same compiled kernels as the policies' own methods.

Each draws the same numbers in the same order and applies the same arithmetic
as the policies' ``select`` and ``update``, so the engine's results do not
depend on the route (tests hold the two to the same allocations). A kernel
stands in for the methods of the class that declared it, so a subclass that
overrides any of them (a user's ``select``, say) plays batch by batch, where
its own methods run and what its ``select`` returns is checked
(:func:`inherits_kernel`).

Every route is a :class:`ChunkRoute`: besides ``play`` it has hooks the engine
calls on every route (:meth:`~ChunkRoute.observe`, :meth:`~ChunkRoute.served`,
:meth:`~ChunkRoute.drop_pending`, :meth:`~ChunkRoute.final_state`,
:meth:`~ChunkRoute.lineage`), which do nothing unless a route overrides them:
the generated level's route (:mod:`simulation.engine.generated`) serves its own
compositions and ends with its learner's state, a regenerating pool's route
(:mod:`simulation.engine.regen`) judges on its tally and ends with a lineage.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.config import ExperimentConfig
from simulation.engine.chunks import Chunk
from simulation.policies import Policy
from simulation.policies.context_free import counting_kernels
from simulation.response import ResponseModel

__all__ = [
    "ChunkRoute",
    "CompiledRoute",
    "CountingRoute",
    "LinearRoute",
    "LogTarget",
    "PythonRoute",
    "check_selected",
    "compiled_route",
    "inherits_kernel",
]


class ChunkRoute(ABC):
    """How one policy plays a (seed, level): the engine's one route protocol.

    A route implements :meth:`play`; the other methods are hooks the engine
    calls on every route, each a no-op by default, so the engine never asks a
    route what it supports. Subclasses that are slotted dataclasses stay
    slotted (the base has no instance attributes).
    """

    __slots__ = ()

    @abstractmethod
    def play(self, chunk: Chunk) -> np.ndarray:
        """Play the chunk's batches in order.

        Parameters
        ----------
        chunk : Chunk
            The next batches of the unit, in order.

        Returns
        -------
        shown : ndarray of shape (n_rows,), int64
            The arm shown at each row; -1 where nothing was served.
        """

    def observe(self, tally: Any) -> None:
        """Be given the engine's running tally of this route, before the first chunk.

        Parameters
        ----------
        tally : simulation.engine.core._Tally
            Its ``cells`` hold the observed totals per (segment, arm) so far.
            The default ignores it; a route that decides on what it observed
            (a regenerating pool) keeps it.
        """
        return None  # a deliberate no-op (not an abstract method)

    def served(self, chunk: Chunk) -> Chunk:
        """The chunk the engine totals after :meth:`play`: by default ``chunk`` itself.

        Parameters
        ----------
        chunk : Chunk
            The chunk just played.

        Returns
        -------
        served : Chunk
            A route whose ground truth is not the chunk's (its own pool, or
            compositions made per row) returns the chunk with that truth.
        """
        return chunk

    def drop_pending(self, arms: np.ndarray) -> None:
        """Drop feedback still in flight for ``arms``; by default there is none.

        Parameters
        ----------
        arms : ndarray of shape (n_dropped,), int64
            Slots whose creatives were just replaced.
        """
        return None  # a deliberate no-op (not an abstract method)

    def final_state(self) -> tuple | None:
        """What the route ends the run with beyond its tally; by default None.

        Returns
        -------
        state : tuple or None
            The generated level's learner state and most-served creatives
            (:meth:`simulation.engine.generated.GeneratedRoute.final_state`).
        """
        return None

    def lineage(self) -> pd.DataFrame | None:
        """The creatives the route's own pool held over the run; by default None.

        Returns
        -------
        lineage : DataFrame or None
            A regenerating pool's lineage
            (:meth:`simulation.engine.regen.RegenRoute.lineage`).
        """
        return None


def compiled_route(policy: Policy, config: ExperimentConfig) -> CountingRoute | LinearRoute | None:
    """The compiled route for ``policy`` in an experiment, or None to play it batch by batch.

    Parameters
    ----------
    policy : Policy
        A reset policy. Those that can be played in compiled code say how with a
        ``linear_kernel(config)`` or ``counting_kernel(config)`` method, which a
        subclass inherits only while it behaves as the declaring class does
        (:func:`inherits_kernel`).
    config : ExperimentConfig

    Returns
    -------
    route : CountingRoute, LinearRoute or None
    """
    if config.objective != "ctr" or config.budget is not None or config.conversion_delay != 0:
        return None
    linear = getattr(policy, "linear_kernel", None)
    if linear is not None:
        spec = linear(config) if inherits_kernel(policy, "linear_kernel") else None
        return None if spec is None else LinearRoute(*spec)
    counting = getattr(policy, "counting_kernel", None)
    spec = None
    if counting is not None and inherits_kernel(policy, "counting_kernel"):
        spec = counting(config)
    kernels = counting_kernels()
    if spec is None or kernels is None:
        return None
    name, param_a, param_b = spec
    return CountingRoute(kernels.POLICY_CODES[name], param_a, param_b)


def inherits_kernel(policy: Policy, kernel: str) -> bool:
    """Whether ``policy`` behaves as the class that declared its ``kernel`` method does.

    A kernel plays a chunk in place of ``select`` and ``update`` and of everything
    they call, as the class that declared the kernel (the nearest in the method
    resolution order to define ``kernel``) wrote them. A subclass that overrides
    any method of that class (``select``, ``update``, a helper such as
    ``_probabilities`` or ``reset``), or an instance that shadows one, would have
    its methods skipped unseen by the kernel and its ``select`` go unchecked, so
    it is played batch by batch instead: always correct, only slower. What keeps
    the kernel: data (a ``name``, a docstring, a setting's default) and dunder
    methods (the ``__init__`` and ``__repr__`` a dataclass writes, a
    ``__post_init__``), which run the same on either route. A subclass that defines
    ``kernel`` itself declares that the kernel plays its methods.

    Parameters
    ----------
    policy : Policy
    kernel : str
        ``"counting_kernel"`` or ``"linear_kernel"``.

    Returns
    -------
    inherits : bool
        True when every method of the declaring class is the one ``policy`` uses.
    """
    cls = type(policy)
    declarer = next((c for c in cls.__mro__ if kernel in vars(c)), None)
    if declarer is None:
        return False
    shadowed = getattr(policy, "__dict__", {})
    for name in dir(declarer):
        if name.startswith("__") and name.endswith("__"):
            continue
        own = inspect.getattr_static(declarer, name)
        used = inspect.getattr_static(cls, name, None)
        if not (_is_behaviour(own) or _is_behaviour(used)):
            continue  # data: a name, a flag, a setting's default
        if used is not own or name in shadowed:
            return False
    return True


def _is_behaviour(value: object) -> bool:
    # Functions, static and class methods, properties: anything that is called or
    # computed on access, as opposed to plain data.
    return callable(value) or hasattr(type(value), "__get__")


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
            getattr(policy, "reward_sq_sum_", policy.reward_sum_),  # UCB1's, else unread
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
        return policy.play_chunk(
            table, rows, offsets, keys, ctr, click_uniforms, uniforms, noise, self.scale
        )


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRoute(ChunkRoute):
    """A compiled route bound to its policy and generator (no feedback is ever pending)."""

    route: CountingRoute | LinearRoute
    policy: Policy
    rng: np.random.Generator
    contextual: bool

    def play(self, chunk: Chunk) -> np.ndarray:
        """Play the chunk in compiled code; every row is served."""
        contexts = chunk.context_source() if self.contextual else None
        return self.route.play(
            self.policy, chunk.offsets, chunk.keys, chunk.truth.ctr, chunk.uniforms[0], self.rng,
            contexts=contexts,
        )  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class LogTarget:
    """Where :class:`PythonRoute` writes its impressions: the writer and the unit's labels.

    ``rng`` is the log's own generator, from which propensities that need draws
    (:meth:`simulation.policies.linear.LinTS.logged_propensity`) are drawn: from the
    policy's generator they would shift its later decisions, and a logged run would
    differ from the same run unlogged.
    """

    writer: Any  # simulation.ope.logs.BanditLogWriter
    seed: int
    level: str
    policy: str
    rng: np.random.Generator


@dataclass(eq=False)
class PythonRoute(ChunkRoute):
    """The policy's own ``select`` and ``update``, batch by batch.

    Attributes
    ----------
    policy : Policy
    rng : numpy.random.Generator
        The policy's generator.
    contextual : bool
        Whether the policy reads contexts (else it gets zero-width ones).
    response : ResponseModel
    objective : str
    batch_size : int
    budget : float or None
        Spend cap: impressions are served until it runs out (the one that crosses
        it is still paid for, as on ad platforms). Decreases as spend is made.
    conversion_delay : int
        Impressions between an impression and the update it feeds.
    reward_scale : tuple of (float, float)
        ``(low, span)``: the ROAS objective's reward is ``(revenue - cost - low) / span``.
    log : LogTarget or None
        Write every served impression, with its propensity, to a bandit log.
    """

    policy: Policy
    rng: np.random.Generator
    contextual: bool
    response: ResponseModel
    objective: str
    batch_size: int
    budget: float | None
    conversion_delay: int
    reward_scale: tuple[float, float]
    log: LogTarget | None = None
    _pending: deque = field(default_factory=deque, init=False, repr=False)

    def play(self, chunk: Chunk) -> np.ndarray:
        """Play the chunk's batches in order; rows after the budget ran out get -1."""
        pol, truth, keys, offsets = self.policy, chunk.truth, chunk.keys, chunk.offsets
        k = truth.n_arms
        shown = np.full(chunk.n_rows, -1, dtype=np.int64)
        need_outcomes = self.budget is not None or self.objective != "ctr" or self.log is not None
        for j in range(chunk.n_batches):
            if self.budget is not None and self.budget <= 0:
                break
            lo, hi = int(offsets[j]), int(offsets[j + 1])
            n, sl = hi - lo, slice(lo, hi)
            x_full = None
            if self.contextual or self.log is not None:
                x_full = chunk.contexts(sl)
            # Context-free policies get zero-width contexts: copying the batch's
            # feature rows for them would be pure overhead.
            x = x_full if self.contextual else np.empty((n, 0))
            if pol.uses_ground_truth:
                pol.set_ground_truth(truth.reward_rows(keys[sl]))
            arms = check_selected(pol.select(x, self.rng), n, k, pol)
            fi = keys[sl] * k + arms
            m = n
            if need_outcomes:
                click, conv, revenue, cost = self.response.outcomes(
                    truth.ctr[fi], truth.cvr[fi], truth.value[fi], truth.cost[fi],
                    chunk.uniforms[:, sl],
                )  # fmt: skip
                if self.budget is not None:
                    spent = np.cumsum(cost)
                    m = int(min(n, np.searchsorted(spent, self.budget, side="left") + 1))
                    self.budget -= spent[m - 1]
                if self.objective == "ctr":
                    reward = click[:m].astype(np.float64)
                else:
                    low, span = self.reward_scale
                    reward = (revenue[:m] - cost[:m] - low) / span
            else:
                # Only the click is needed to learn from: the rest is totalled later.
                reward = (chunk.uniforms[0, sl] < truth.ctr[fi]).astype(np.float64)
            a = arms[:m]
            shown[lo : lo + m] = a
            if self.log is not None:
                self._write(chunk, sl, m, x, x_full, a, reward, (click, conv, revenue, cost))
            self._update(x[:m], a, reward, (chunk.first_batch + j) * self.batch_size + n)
        return shown

    def _update(self, x: np.ndarray, arms: np.ndarray, reward: np.ndarray, end: int) -> None:
        """Feed the batch ending at impression ``end``, after the conversion delay."""
        if self.conversion_delay == 0:
            self.policy.update(x, arms, reward)
            return
        queue = self._pending
        queue.append((end + self.conversion_delay, x, arms, reward))
        while queue and queue[0][0] <= end:
            _, xq, aq, rq = queue.popleft()
            self.policy.update(xq, aq, rq)

    def drop_pending(self, arms: np.ndarray) -> None:
        """Drop feedback still in flight for ``arms`` (their creatives were just replaced)."""
        keep = deque()
        for due, x, a, r in self._pending:
            mask = ~np.isin(a, arms)
            if mask.any():
                keep.append((due, x[mask], a[mask], r[mask]))
        self._pending = keep

    def _write(self, chunk, sl, m, x, x_full, a, reward, outcomes) -> None:
        click, conv, revenue, cost = outcomes
        log, writer = self.log, self.log.writer
        if self.objective != "ctr":
            # A log records what happened, whatever scale this policy learns on: the net
            # value in USD, so that rows of a Beta-posterior policy (learning on [0, 1])
            # and of a dollar-learning one can be averaged in one unit.
            reward = revenue[:m] - cost[:m]
        pscore = self.policy.logged_propensity(x[:m], a, log.rng)
        if not ((pscore > 0) & (pscore <= 1)).all():
            # A propensity of 0 for a shown arm is a false record, and OPE would refuse
            # the whole log later, far from its cause: say so here.
            bad = int(np.flatnonzero(~((pscore > 0) & (pscore <= 1)))[0])
            raise ValueError(
                f"policy {log.policy!r} gave the arm it showed (arm {int(a[bad])}) the "
                f"propensity {float(pscore[bad])!r}; a logged propensity must be in (0, 1]."
            )
        rows = np.arange(m)
        writer.write(
            impression=chunk.first_batch * self.batch_size + sl.start + rows,
            seed=log.seed,
            level=log.level,
            policy=log.policy,
            segment=chunk.segments[sl][:m],
            context=x_full[:m],
            action=a,
            pscore=pscore,
            click=click[:m],
            conversion=conv[:m],
            revenue=revenue[:m],
            cost=cost[:m],
            reward=reward,
            expected_reward=_pad(chunk.truth.reward_rows(chunk.keys[sl][:m]), writer.n_arms),
        )


def check_selected(arms: object, n: int, n_arms: int, policy: Policy) -> np.ndarray:
    """``arms`` as ``policy.select`` returned them, checked: int64 of shape (n,) in [0, n_arms).

    The engine indexes its tables with them in compiled code, so an arm out of
    range would write out of bounds (the interpreter dies) and -1 would pass for
    "the budget ran out" (a broken policy would look perfect). One vectorized pass.

    Parameters
    ----------
    arms : object
        What ``select`` returned for a batch of ``n`` rows.
    n, n_arms : int
    policy : Policy
        Named in the error.

    Returns
    -------
    arms : ndarray of shape (n,), int64

    Raises
    ------
    ValueError
        Naming the policy, what was expected and the offending value.
    """
    name = getattr(policy, "name", "") or type(policy).__name__
    expected = f"an int array of shape ({n},) with values in [0, {n_arms})"
    a = np.asarray(arms)
    if a.shape != (n,):
        raise ValueError(f"policy {name!r}: select must return {expected}; got shape {a.shape}.")
    if n and a.dtype.kind not in "iu":
        raise ValueError(
            f"policy {name!r}: select must return {expected}; got dtype {a.dtype} (e.g. {a[0]!r})."
        )
    if n:
        lo, hi = a.min(), a.max()
        if lo < 0 or hi >= n_arms:
            bad = lo if lo < 0 else hi
            row = int(np.flatnonzero(a == bad)[0])
            raise ValueError(
                f"policy {name!r}: select must return {expected}; got {int(bad)} at row {row}."
            )
    return a.astype(np.int64, copy=False)


def _pad(values: np.ndarray, width: int) -> np.ndarray:
    if values.shape[1] == width:
        return values
    out = np.full((values.shape[0], width), np.nan)
    out[:, : values.shape[1]] = values
    return out
