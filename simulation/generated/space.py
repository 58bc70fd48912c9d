"""A component space as arrays: levels per axis, validity masks, feature layouts.

Levels of all axes are laid end to end in one flat index (``offsets[j] + level``),
so a composition ``combo`` of shape (n_axes,) has the flat levels
``combo + offsets[:-1]``. Validity is a unary mask over flat levels and a
symmetric pairwise mask over pairs of flat levels; a composition is valid
when all its levels and all its pairs are.

The pairwise-interaction features of two axes ``i < j`` are a block of
``n_levels[i] * n_levels[j]`` columns; :attr:`ComponentSpace.pair_index`
maps two flat levels to their column (``-1`` within one axis).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["ComponentSpace", "hill48_space"]

#: Largest space :meth:`ComponentSpace.enumerate_valid` lists.
MAX_ENUMERATE = 1_000_000


@dataclass(frozen=True, kw_only=True, eq=False)
class ComponentSpace:
    """Axes, levels and validity of a creative component space.

    Parameters
    ----------
    axis_names : tuple of str
    n_levels : tuple of int
        Levels per axis, each >= 1.
    level_mask : ndarray of shape (n_levels_total,), bool, optional
        All True when omitted.
    pair_mask : ndarray of shape (n_levels_total, n_levels_total), bool, optional
        Symmetric; all True when omitted.
    level_names : tuple of tuple of str, optional

    Attributes
    ----------
    offsets : ndarray of shape (n_axes + 1,), int64
    axis_of : ndarray of shape (n_levels_total,), int64
        The axis of each flat level.
    pair_index : ndarray of shape (n_levels_total, n_levels_total), int64
        Column of a pairwise feature inside the pairwise block, -1 within an axis.
    n_pair_features : int
    """

    axis_names: tuple[str, ...]
    n_levels: tuple[int, ...]
    level_mask: np.ndarray | None = None
    pair_mask: np.ndarray | None = None
    level_names: tuple[tuple[str, ...], ...] | None = None
    offsets: np.ndarray = field(init=False, repr=False)
    axis_of: np.ndarray = field(init=False, repr=False)
    pair_index: np.ndarray = field(init=False, repr=False)
    n_pair_features: int = field(init=False)

    def __post_init__(self) -> None:
        n = tuple(self.n_levels)
        if not n or any(
            isinstance(x, bool) or not isinstance(x, int | np.integer) or x < 1 for x in n
        ):
            raise ValueError(
                f"`n_levels` must be a non-empty tuple of int >= 1; got {self.n_levels!r}."
            )
        if len(self.axis_names) != len(n):
            raise ValueError(f"`axis_names` must have {len(n)} names; got {len(self.axis_names)}.")
        offsets = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
        total = int(offsets[-1])
        lm = np.ones(total, bool) if self.level_mask is None else np.asarray(self.level_mask, bool)
        pm = (
            np.ones((total, total), bool)
            if self.pair_mask is None
            else np.asarray(self.pair_mask, bool)
        )
        if lm.shape != (total,):
            raise ValueError(f"`level_mask` must have shape ({total},); got {lm.shape}.")
        if pm.shape != (total, total) or not np.array_equal(pm, pm.T):
            raise ValueError(f"`pair_mask` must be a symmetric ({total}, {total}) bool array.")
        axis_of = np.repeat(np.arange(len(n)), n).astype(np.int64)
        pair_index = np.full((total, total), -1, dtype=np.int64)
        start = 0
        for i, j in itertools.combinations(range(len(n)), 2):
            block = np.arange(n[i] * n[j]).reshape(n[i], n[j]) + start
            pair_index[offsets[i] : offsets[i + 1], offsets[j] : offsets[j + 1]] = block
            pair_index[offsets[j] : offsets[j + 1], offsets[i] : offsets[i + 1]] = block.T
            start += n[i] * n[j]
        pm = pm.copy()
        pm[axis_of[:, None] == axis_of[None, :]] = True
        for name, value in (
            ("n_levels", tuple(int(x) for x in n)),
            ("level_mask", lm),
            ("pair_mask", pm),
            ("offsets", offsets),
            ("axis_of", axis_of),
            ("pair_index", pair_index),
            ("n_pair_features", start),
        ):
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_axes(self) -> int:
        """Number of axes."""
        return len(self.n_levels)

    @property
    def n_levels_total(self) -> int:
        """Levels of all axes together (the main-effect features)."""
        return int(self.offsets[-1])

    @property
    def n_raw(self) -> int:
        """Compositions before the constraints: the product of ``n_levels``."""
        return int(np.prod(self.n_levels, dtype=np.float64))

    def valid_pair(self, i: int, j: int) -> np.ndarray:
        """The validity of axis ``i``'s levels with axis ``j``'s.

        Returns
        -------
        mask : ndarray of shape (n_levels[i], n_levels[j]), bool
        """
        o = self.offsets
        return self.pair_mask[o[i] : o[i + 1], o[j] : o[j + 1]]

    def flat(self, combos: np.ndarray) -> np.ndarray:
        """Flat level indices, ndarray of shape (n, n_axes), of combos (n, n_axes)."""
        c = self._check_combos(combos)
        return c + self.offsets[:-1]

    def is_valid(self, combos: np.ndarray) -> np.ndarray:
        """Whether each composition satisfies every constraint.

        Parameters
        ----------
        combos : ndarray of shape (n, n_axes), int

        Returns
        -------
        valid : ndarray of shape (n,), bool
        """
        g = self.flat(combos)
        ok = self.level_mask[g].all(axis=1)
        for i, j in itertools.combinations(range(self.n_axes), 2):
            ok &= self.pair_mask[g[:, i], g[:, j]]
        return ok

    def conflicts(self, combo: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Why one composition is not valid: every constraint it breaks.

        Parameters
        ----------
        combo : ndarray of shape (n_axes,), int

        Returns
        -------
        broken : list of (axis, level, other_axis, other_level)
            ``other_axis`` is -1 for a level not allowed at all (the unary mask), else
            the pair of levels that may not go together (axes in order). Empty exactly
            when :meth:`is_valid` holds.
        """
        g = self.flat(np.asarray(combo).reshape(1, -1))[0]
        c = g - self.offsets[:-1]
        broken = [(j, int(c[j]), -1, -1) for j in range(self.n_axes) if not self.level_mask[g[j]]]
        broken += [
            (i, int(c[i]), j, int(c[j]))
            for i, j in itertools.combinations(range(self.n_axes), 2)
            if not self.pair_mask[g[i], g[j]]
        ]
        return broken

    def conflict_text(
        self,
        combo: np.ndarray,
        *,
        mark: str = "'",
        names: Callable[[int, int], tuple[str, str]] | None = None,
    ) -> str:
        """:meth:`conflicts` as one sentence; empty for a valid composition.

        For example ``"headline 'keyword' cannot go with keyword 'none'"``.

        Parameters
        ----------
        combo : ndarray of shape (n_axes,), int
        mark : str, default "'"
            Put on each side of a level's name (``"*"``: Markdown emphasis).
        names : callable, optional
            ``names(axis, index) -> (axis name, level name)`` as the reader sees them (a
            form's labels); by default the space's own names, as the command line takes.
        """

        def level(axis: int, index: int) -> str:
            if names is not None:
                axis_name, name = names(axis, index)
            else:
                axis_name = self.axis_names[axis]
                name = self.level_names[axis][index] if self.level_names else str(index)
            return f"{axis_name} {mark}{name}{mark}"

        return "; ".join(
            f"{level(a, i)} is never allowed"
            if b < 0
            else f"{level(a, i)} cannot go with {level(b, j)}"
            for a, i, b, j in self.conflicts(combo)
        )

    def encode(self, combos: np.ndarray) -> np.ndarray:
        """One-hot main effects.

        Parameters
        ----------
        combos : ndarray of shape (n, n_axes), int

        Returns
        -------
        x : ndarray of shape (n, n_levels_total), float64
        """
        g = self.flat(combos)
        x = np.zeros((g.shape[0], self.n_levels_total))
        np.put_along_axis(x, g, 1.0, axis=1)
        return x

    def pair_columns(self, combos: np.ndarray) -> np.ndarray:
        """Columns of the active pairwise features (within the pairwise block).

        Parameters
        ----------
        combos : ndarray of shape (n, n_axes), int

        Returns
        -------
        cols : ndarray of shape (n, n_axes * (n_axes - 1) // 2), int64
            Axis pairs in ``itertools.combinations`` order.
        """
        g = self.flat(combos)
        pairs = list(itertools.combinations(range(self.n_axes), 2))
        if not pairs:
            return np.zeros((g.shape[0], 0), dtype=np.int64)
        return np.stack([self.pair_index[g[:, i], g[:, j]] for i, j in pairs], axis=1).reshape(
            g.shape[0], len(pairs)
        )

    def encode_pairs(self, combos: np.ndarray) -> np.ndarray:
        """One-hot pairwise interactions, ndarray of shape (n, n_pair_features)."""
        cols = self.pair_columns(combos)
        x = np.zeros((cols.shape[0], self.n_pair_features))
        np.put_along_axis(x, cols, 1.0, axis=1)
        return x

    def enumerate_valid(self) -> np.ndarray:
        """Every valid composition, in lexicographic order.

        Returns
        -------
        combos : ndarray of shape (n_valid, n_axes), int64

        Raises
        ------
        ValueError
            When the space has more than ``MAX_ENUMERATE`` raw compositions.
        """
        if self.n_raw > MAX_ENUMERATE:
            raise ValueError(
                f"the space must have at most {MAX_ENUMERATE:,} raw compositions to be "
                f"enumerated; got {self.n_raw:,}."
            )
        grids = np.meshgrid(*[np.arange(k) for k in self.n_levels], indexing="ij")
        combos = np.stack([x.ravel() for x in grids], axis=1).astype(np.int64)
        return combos[self.is_valid(combos)]

    @cached_property
    def valid_feature_means(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`simulation.generated.valid_mix.valid_feature_means` of this space, kept.

        Counted once per space (about 0.3-0.8 s on the studio's), not once per learner:
        every seed's learner, and every forked worker when counted before the fork,
        reads the same read-only arrays.
        """
        from simulation.generated.valid_mix import valid_feature_means

        levels, pairs = valid_feature_means(self)
        levels.flags.writeable = False
        pairs.flags.writeable = False
        return levels, pairs

    def count_valid(self) -> int:
        """Number of valid compositions, counted exactly (compiled, no enumeration in memory)."""
        from simulation.generated.search import count_valid

        return count_valid(self)

    @classmethod
    def from_axes(cls, axes) -> ComponentSpace:
        """The space of a ``creative.components.ComponentAxes`` record (or any with its fields).

        Only ``simulation.scenario`` imports ``creative``; it (or a caller) builds the
        axes with :func:`creative.components.component_axes` and passes them here.
        """
        return cls(
            axis_names=tuple(axes.names),
            n_levels=tuple(len(x) for x in axes.levels),
            level_mask=axes.level_mask,
            pair_mask=axes.pair_mask,
            level_names=tuple(tuple(x) for x in axes.levels),
        )

    def _check_combos(self, combos: np.ndarray) -> np.ndarray:
        c = np.asarray(combos)
        if c.ndim != 2 or c.shape[1] != self.n_axes or not np.issubdtype(c.dtype, np.integer):
            raise ValueError(
                f"`combos` must be an int array of shape (n, {self.n_axes}); got "
                f"{c.dtype} {c.shape}."
            )
        if c.size and ((c < 0).any() or (c >= np.asarray(self.n_levels)).any()):
            raise ValueError("`combos` must hold level indices in [0, n_levels) per axis.")
        return c.astype(np.int64, copy=False)


def hill48_space() -> ComponentSpace:
    """Hill et al.'s setting: four axes of 2, 3, 2 and 4 levels, all 48 compositions valid."""
    return ComponentSpace(axis_names=("title", "image", "button", "layout"), n_levels=(2, 3, 2, 4))
