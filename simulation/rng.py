"""One seed in, independent named streams out.

Every random draw in adlab goes through a ``np.random.Generator`` made here.
Streams are keyed by *names* (hashed to integers), not by their order, so that
adding a policy to an experiment does not change the numbers any other policy
or the population sees.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream", "stream_key"]


def stream_key(*names: str | int) -> tuple[int, ...]:
    """Turn a path of names into a stable integer spawn key.

    Parameters
    ----------
    *names : str or int
        For example ``("experiment", 2, "policy", "thompson")``.

    Returns
    -------
    key : tuple of int
        CRC32 of each string (stable across processes and Python versions).
    """
    return tuple(n if isinstance(n, int) else zlib.crc32(n.encode("utf-8")) for n in names)


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """An independent generator for the stream ``names`` under ``seed``.

    Parameters
    ----------
    seed : int
        The run's one seed (non-negative).
    *names : str or int
        Path naming the stream, e.g. ``stream(7, "population")``.

    Returns
    -------
    rng : numpy.random.Generator
        ``Generator(PCG64(SeedSequence(seed, spawn_key=...)))``.

    Examples
    --------
    >>> a = stream(0, "population").random()
    >>> b = stream(0, "population").random()
    >>> a == b
    True
    """
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int; got {seed!r}.")
    seq = np.random.SeedSequence(int(seed), spawn_key=stream_key(*names))
    return np.random.Generator(np.random.PCG64(seq))
