"""The one module that knows about numba: compiling, caching, warm-up, fork safety.

numba is a required dependency, so every kernel in the package has one code
path, the compiled one; the numpy references that hold the kernels to the math
live in ``tests/reference/``.

- :func:`jit` is ``numba.njit`` with the package's options: ``cache=True``
  (compiled code is kept on disk beside the source, so a new process loads it in
  milliseconds instead of compiling for seconds) and ``nogil=True``; without a
  writable cache location (a read-only install) it compiles in memory instead.
- :class:`KernelCode` is the one numbering of the policies that compiled loops
  dispatch on, shared by the engine's counting kernel and the replication kernel.
- :func:`warm_up_all` loads every kernel the engine uses, with every argument
  type it will be called with. The engine calls it once before forking workers.

Fork safety. The engine forks its workers (Linux only) so they inherit the
world without pickling it. A dispatcher compiled or loaded in the parent is
inherited ready to run; one first called in a worker loads from disk again in
every worker, on every run. numba also compiles a separate specialization for
read-only arrays (the audience-wide tables the engine shares with its workers
are read-only), so warm-ups run both kinds. Parallel kernels (``prange``, only
:mod:`simulation.replication.kernels`) start numba's thread pool, and the
default ``workqueue`` layer is not safe to fork after it has run: the engine
never runs them, and :func:`warm_up_all` does not load them.

numba's disk cache is invalidated by a change to the kernel's own source file
only: constants a kernel reads from another module (:class:`KernelCode`) are
frozen into the cached code, so a code is never renumbered, only added; and a
compiled function that calls other compiled functions lives in their file
(:mod:`simulation.policies.linear_kernels`), or a change to a callee would
leave the caller's cached code, with the old callee inlined, in use.
"""

from __future__ import annotations

import enum
import functools
import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numba

__all__ = ["WARM_UPS", "KernelCode", "jit", "warm_up", "warm_up_all"]


class KernelCode(enum.IntEnum):
    """Integer code of each policy a compiled loop implements (one numbering for all kernels)."""

    UNIFORM = 0
    EPSILON_GREEDY = 1
    UCB1 = 2
    THOMPSON = 3
    #: Chapelle & Li (2011), eq. (1), ``t`` the global step (replication only).
    CHERNOFF_UCB = 4
    #: The same with ``t`` the item's age (replication only).
    CHERNOFF_UCB_AGE = 5

    @property
    def policy_name(self) -> str:
        """The policy's registry (or replication) name, e.g. ``"epsilon_greedy"``."""
        return self.name.lower()


def jit(fn: Callable | None = None, **options):
    """``numba.njit`` with ``cache=True`` and ``nogil=True`` unless ``options`` say otherwise.

    Usable bare (``@jit``) or with options (``@jit(parallel=True)``,
    ``@jit(inline="always")``). Falls back to an in-memory compile when numba
    finds no writable cache location.

    Parameters
    ----------
    fn : callable, optional
        The function to compile.
    **options
        Passed to ``numba.njit``.

    Returns
    -------
    dispatcher : numba dispatcher, or a decorator when ``fn`` is None
    """
    options = {"cache": True, "nogil": True, **options}
    if options.get("inline") == "always":
        options.pop("cache")  # inlined helpers are compiled into their callers

    def wrap(f: Callable):
        try:
            return numba.njit(**options)(f)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(**{k: v for k, v in options.items() if k != "cache"})(f)

    return wrap if fn is None else wrap(fn)


#: The engine's warm-ups, ``name -> "module:function"`` (imported only when run).
WARM_UPS: Mapping[str, str] = MappingProxyType(
    {
        "tally": "simulation.engine.tally:warm_up",
        "counting": "simulation.policies.counting_kernels:load",
        "linear": "simulation.policies.linear:load_kernels",
    }
)


@functools.cache
def warm_up(name: str) -> None:
    """Run the warm-up ``name`` of :data:`WARM_UPS` (once per process)."""
    if name not in WARM_UPS:
        raise ValueError(f"`name` must be one of {sorted(WARM_UPS)}; got {name!r}.")
    module, func = WARM_UPS[name].split(":")
    getattr(importlib.import_module(module), func)()


def warm_up_all() -> None:
    """Compile (or load from numba's cache) every kernel the engine uses; call before forking."""
    for name in WARM_UPS:
        warm_up(name)
