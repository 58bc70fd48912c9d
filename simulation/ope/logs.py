"""Logged bandit feedback: the in-memory record, the streaming Parquet writer and readers.

Three ways in, one record out (:class:`LoggedFeedback`):

- :class:`BanditLogWriter` streams the engine's impressions to one Parquet
  file and :func:`read_log` reads it back (adlab logs, ground truth included).
- :func:`import_log` reads a user's own CSV or Parquet log with columns
  ``action``, ``reward``, ``propensity`` and optional context columns.
- :mod:`simulation.ope.obd` reads the Open Bandit Dataset.

adlab log columns: ``impression, seed, level, policy, segment, x_0..x_{d-1},
action, pscore, click, conversion, revenue, cost, reward,
q_true_0..q_true_{K-1}``; the ``q_true_*`` set is the expected reward of every
arm (ground truth), kept apart so OPE can be scored against it. The truth and
``reward`` are in the objective's unit (the click, or net value in USD for ROAS)
for every logging policy, whatever scale a policy learns on; :func:`read_log`
reads older logs, whose ROAS rewards of Beta-posterior policies were scaled to
[0, 1], by putting the truth on the reward's scale (see
:func:`_truth_on_reward_scale`), and refuses one whose policies' units differ.

Errors of the readers name the row as the Audience and Creatives pages count segments
and products: the first data row is row 1 (the header is not counted), and a cell is
quoted in plain words (``got an empty cell (or NaN)``, ``got inf``, ``got 'high'``),
never as a numpy repr.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.ope.limits import (
    MAX_ARMS,
    MAX_COLUMNS,
    MAX_CONTEXT_FEATURES,
    MAX_CONTEXT_VALUES,
    MAX_DECODED_BYTES,
    MAX_LOG_ROWS,
    check_cells,
    check_regular_file,
    check_reward,
    open_bounded,
    open_regular,
    shorten,
)

__all__ = [
    "CONTEXT_PREFIXES",
    "LOG_FORMAT_KEY",
    "BanditLogWriter",
    "LoggedFeedback",
    "arm_indices",
    "check_not_adlab_export",
    "encode_context",
    "import_log",
    "inferred_arm_count",
    "is_adlab_log",
    "read_csv_bounded",
    "read_log",
    "read_parquet_bounded",
]

#: Parquet schema-metadata key marking an adlab log (value: format version).
LOG_FORMAT_KEY = b"adlab.log_format"
_LOG_FORMAT_VERSION = b"1"
#: Schema-metadata keys of the range of one impression's net value (USD) in the world
#: that wrote the log: what the engine maps value onto [0, 1] from for policies that
#: learn on [0, 1], and so what off-policy evaluation trains them on.
_VALUE_LOW, _VALUE_HIGH = b"adlab.value_low", b"adlab.value_high"

#: Column-name prefixes recognized as context by :func:`import_log`.
CONTEXT_PREFIXES: tuple[str, ...] = ("x_", "context_", "user_feature_")


def _frozen_array(name: str, value, dtype, ndim: int, n: int | None) -> np.ndarray:
    arr = np.array(value, dtype=dtype)  # a private copy, then made read-only
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must be a {ndim}-d array; got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"`{name}` must have {n} rows like `action`; got shape {arr.shape}.")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LoggedFeedback:
    """Logged bandit feedback: one row per impression.

    Parameters
    ----------
    context : ndarray of shape (n_rounds, n_features)
        Context (user features) of each impression; ``n_features`` may be 0.
    action : ndarray of int of shape (n_rounds,)
        Logged arm, in ``[0, n_arms)``.
    reward : ndarray of shape (n_rounds,)
        Observed reward.
    pscore : ndarray of shape (n_rounds,)
        Logging policy's probability of the logged arm, in ``(0, 1]``.
    n_arms : int
        Number of arms.
    segment : ndarray of int of shape (n_rounds,), optional
        Audience segment of each impression.
    position : ndarray of int of shape (n_rounds,), optional
        Slot where the arm was shown (Open Bandit Dataset).
    expected_reward : ndarray of shape (n_rounds, n_arms), optional
        Ground-truth expected reward of every arm; None for real logs.
    action_context : ndarray of shape (n_arms, n_arm_features), optional
        Features of each arm.
    feature_names : tuple of str
        Names of the context columns (empty, or one per column).
    metadata : mapping
        Free-form provenance (source path, logging policy, seed, ...).
    """

    context: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    n_arms: int
    segment: np.ndarray | None = None
    position: np.ndarray | None = None
    expected_reward: np.ndarray | None = None
    action_context: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        action = np.asarray(self.action)
        if action.ndim != 1:
            raise ValueError(f"`action` must be a 1-d array; got shape {action.shape}.")
        if action.size and action.dtype.kind not in "iu":
            raise TypeError(f"`action` must be an integer array; got dtype {action.dtype}.")
        n = action.shape[0]
        set_(self, "action", _frozen_array("action", action, np.int64, 1, n))
        set_(self, "context", _frozen_array("context", self.context, np.float64, 2, n))
        set_(self, "reward", _frozen_array("reward", self.reward, np.float64, 1, n))
        set_(self, "pscore", _frozen_array("pscore", self.pscore, np.float64, 1, n))
        for name in ("segment", "position"):
            if getattr(self, name) is not None:
                set_(self, name, _frozen_array(name, getattr(self, name), np.int64, 1, n))
        n_arms = self.n_arms
        if isinstance(n_arms, bool) or not isinstance(n_arms, (int, np.integer)) or n_arms < 1:
            raise ValueError(f"`n_arms` must be an int >= 1; got {n_arms!r}.")
        if n_arms > MAX_ARMS:
            raise ValueError(
                f"`n_arms` must be at most {MAX_ARMS:,} (the arm limit); got {n_arms}."
            )
        set_(self, "n_arms", int(n_arms))
        if n and (self.action.min() < 0 or self.action.max() >= n_arms):
            raise ValueError(f"`action` must be in [0, {n_arms}); got {self.action.max()}.")
        if not np.isfinite(self.reward).all():
            raise ValueError("`reward` must be finite (no NaN or infinity).")
        check_reward(self.reward)
        bad = np.flatnonzero(~((self.pscore > 0) & (self.pscore <= 1)))  # NaN is bad too
        if bad.size:
            raise ValueError(
                f"`pscore` must be in (0, 1]; got {float(self.pscore[bad[0]])!r} at row "
                f"{_rows_text(bad)} ({bad.size:,} of {n:,} rows)."
            )
        if self.expected_reward is not None:
            q = _frozen_array("expected_reward", self.expected_reward, np.float64, 2, n)
            if q.shape[1] != n_arms:
                raise ValueError(
                    f"`expected_reward` must have {n_arms} columns (`n_arms`); got {q.shape[1]}."
                )
            set_(self, "expected_reward", q)
        if self.action_context is not None:
            ac = _frozen_array("action_context", self.action_context, np.float64, 2, n_arms)
            set_(self, "action_context", ac)
        names = tuple(self.feature_names)
        if names and len(names) != self.context.shape[1]:
            raise ValueError(
                f"`feature_names` must name the {self.context.shape[1]} context columns; "
                f"got {len(names)} names."
            )
        set_(self, "feature_names", names)
        set_(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def n_rounds(self) -> int:
        """Number of logged impressions."""
        return int(self.action.shape[0])

    @property
    def n_features(self) -> int:
        """Number of context columns."""
        return int(self.context.shape[1])

    def __len__(self) -> int:
        return self.n_rounds

    def on_policy_value(self) -> float:
        """Mean observed reward: the logging policy's value estimated on its own log."""
        return float(self.reward.mean())

    def ground_truth_value(self, action_dist: np.ndarray) -> float:
        """True value of a policy on these rows: mean of ``sum_a pi(a|x) q_true(x, a)``.

        Parameters
        ----------
        action_dist : ndarray of shape (n_rounds, n_arms)
            The policy's action probabilities on these rows.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            When the log has no ground truth (``expected_reward`` is None).
        """
        if self.expected_reward is None:
            raise ValueError("this log has no ground truth (`expected_reward` is None).")
        action_dist = np.asarray(action_dist, dtype=np.float64)
        if action_dist.shape != self.expected_reward.shape:
            raise ValueError(
                f"`action_dist` must have shape {self.expected_reward.shape}; "
                f"got {action_dist.shape}."
            )
        return float(np.einsum("ik,ik->i", action_dist, self.expected_reward).mean())

    def take(self, rows: np.ndarray | slice) -> LoggedFeedback:
        """A new record with the selected rows (the arm-level fields are kept)."""

        def pick(arr):
            return None if arr is None else arr[rows]

        return LoggedFeedback(
            context=self.context[rows],
            action=self.action[rows],
            reward=self.reward[rows],
            pscore=self.pscore[rows],
            n_arms=self.n_arms,
            segment=pick(self.segment),
            position=pick(self.position),
            expected_reward=pick(self.expected_reward),
            action_context=self.action_context,
            feature_names=self.feature_names,
            metadata=self.metadata,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per impression; ground truth in ``q_true_*`` columns."""
        names = self.feature_names or tuple(f"x_{j}" for j in range(self.n_features))
        data: dict[str, np.ndarray] = {}
        if self.segment is not None:
            data["segment"] = self.segment
        if self.position is not None:
            data["position"] = self.position
        data.update({name: self.context[:, j] for j, name in enumerate(names)})
        data.update(action=self.action, pscore=self.pscore, reward=self.reward)
        if self.expected_reward is not None:
            data.update({f"q_true_{k}": self.expected_reward[:, k] for k in range(self.n_arms)})
        return pd.DataFrame(data)


def _rows_text(bad: np.ndarray, shown: int = 3) -> str:
    """The first ``shown`` of the rows ``bad`` (array indices, as the estimators name them)."""
    head = ", ".join(str(int(r)) for r in bad[:shown])
    more = bad.size - shown
    return head + (f" and {more:,} more" if more > 0 else "")


def _log_schema(
    n_features: int, n_arms: int, value_range: tuple[float, float] | None = None
) -> pa.Schema:
    fields = [
        ("impression", pa.int64()),
        ("seed", pa.int64()),
        ("level", pa.string()),
        ("policy", pa.string()),
        ("segment", pa.int64()),
        *((f"x_{j}", pa.float64()) for j in range(n_features)),
        ("action", pa.int64()),
        ("pscore", pa.float64()),
        ("click", pa.int8()),
        ("conversion", pa.int8()),
        ("revenue", pa.float64()),
        ("cost", pa.float64()),
        ("reward", pa.float64()),
        *((f"q_true_{k}", pa.float64()) for k in range(n_arms)),
    ]
    meta = {
        LOG_FORMAT_KEY: _LOG_FORMAT_VERSION,
        b"adlab.n_features": str(n_features).encode(),
        b"adlab.n_arms": str(n_arms).encode(),
    }
    if value_range is not None:
        meta[_VALUE_LOW], meta[_VALUE_HIGH] = (repr(float(v)).encode() for v in value_range)
    return pa.schema(fields, metadata=meta)


class BanditLogWriter:
    """Stream impression chunks to one Parquet file with flat memory.

    Rows are buffered up to ``row_group_size`` and written as one Parquet row
    group, so memory holds at most one row group. The file is written to
    ``path + ".tmp"`` and renamed to ``path`` by :meth:`close`: a writer killed
    mid-way leaves only the ``.tmp`` file, never a half log under ``path``. Used
    as a context manager, an exception discards the temporary file.

    Parameters
    ----------
    path : str or Path
        Destination ``.parquet`` file; its folder must exist.
    n_features : int
        Context columns ``x_0..x_{n_features-1}``.
    n_arms : int
        Ground-truth columns ``q_true_0..q_true_{n_arms-1}``.
    row_group_size : int, default=65536
        Rows buffered before a write.
    value_range : tuple of (float, float), optional
        The smallest and largest net value (USD) one impression can have in the
        world being logged; :func:`read_log` returns it in ``metadata`` as
        ``value_low`` and ``value_high``.

    Examples
    --------
    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> path = Path(tempfile.mkdtemp()) / "log.parquet"
    >>> n, d, k = 4, 2, 3
    >>> with BanditLogWriter(path, n_features=d, n_arms=k) as writer:
    ...     writer.write(impression=np.arange(n), seed=0, level="user", policy="uniform",
    ...                  segment=np.zeros(n, int), context=rng.normal(size=(n, d)),
    ...                  action=np.array([0, 1, 2, 0]), pscore=np.full(n, 1 / 3),
    ...                  click=np.array([1, 0, 0, 1]), conversion=np.zeros(n, int),
    ...                  revenue=np.zeros(n), cost=np.full(n, 0.1),
    ...                  reward=np.array([1.0, 0, 0, 1]), expected_reward=np.full((n, k), 0.5))
    >>> read_log(path).n_rounds
    4
    """

    def __init__(
        self,
        path: str | os.PathLike,
        n_features: int,
        n_arms: int,
        *,
        row_group_size: int = 65_536,
        value_range: tuple[float, float] | None = None,
    ) -> None:
        for name, value, low in (
            ("n_features", n_features, 0),
            ("n_arms", n_arms, 1),
            ("row_group_size", row_group_size, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"`{name}` must be an int >= {low}; got {value!r}.")
        self.path = Path(path)
        self.tmp_path = Path(f"{self.path}.tmp")
        self.n_features = int(n_features)
        self.n_arms = int(n_arms)
        self.row_group_size = int(row_group_size)
        if value_range is not None and not (
            len(value_range) == 2 and all(math.isfinite(v) for v in value_range)
            and value_range[0] < value_range[1]
        ):  # fmt: skip
            raise ValueError(
                f"`value_range` must be finite (low, high) with low < high; got {value_range!r}."
            )
        self.schema = _log_schema(self.n_features, self.n_arms, value_range)
        self.n_rows = 0
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self.tmp_path, self.schema)

    def write(
        self,
        *,
        impression: np.ndarray,
        seed: int,
        level: str,
        policy: str,
        segment: np.ndarray,
        context: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        click: np.ndarray,
        conversion: np.ndarray,
        revenue: np.ndarray,
        cost: np.ndarray,
        reward: np.ndarray,
        expected_reward: np.ndarray | None,
    ) -> None:
        """Append one chunk of impressions.

        Parameters
        ----------
        impression : ndarray of int of shape (n,)
            Impression index within the run.
        seed : int
            Run seed (repeated on every row).
        level : str
            Targeting level of the run, e.g. ``"segment"`` or ``"user"``.
        policy : str
            Logging policy name.
        segment : ndarray of int of shape (n,)
        context : ndarray of shape (n, n_features)
        action : ndarray of int of shape (n,)
        pscore : ndarray of shape (n,)
            Logging propensity of each chosen arm.
        click, conversion : ndarray of int of shape (n,)
            Realized 0/1 outcomes.
        revenue, cost, reward : ndarray of shape (n,)
        expected_reward : ndarray of shape (n, n_arms) or None
            Ground truth; None writes nulls.
        """
        if self._writer is None:
            raise ValueError("this BanditLogWriter is closed.")
        action = np.asarray(action)
        n = action.shape[0]
        context = np.asarray(context, dtype=np.float64).reshape(n, -1)
        if context.shape[1] != self.n_features:
            raise ValueError(
                f"`context` must have {self.n_features} columns; got {context.shape[1]}."
            )
        columns: dict[str, object] = {
            "impression": impression,
            "seed": np.full(n, seed, dtype=np.int64),
            "level": pa.repeat(pa.scalar(str(level)), n),
            "policy": pa.repeat(pa.scalar(str(policy)), n),
            "segment": segment,
        }
        columns.update({f"x_{j}": context[:, j] for j in range(self.n_features)})
        columns.update(
            action=action,
            pscore=pscore,
            click=click,
            conversion=conversion,
            revenue=revenue,
            cost=cost,
            reward=reward,
        )
        if expected_reward is None:
            nulls = pa.nulls(n, pa.float64())
            columns.update({f"q_true_{k}": nulls for k in range(self.n_arms)})
        else:
            q = np.asarray(expected_reward, dtype=np.float64)
            if q.shape != (n, self.n_arms):
                raise ValueError(
                    f"`expected_reward` must have shape ({n}, {self.n_arms}); got {q.shape}."
                )
            columns.update({f"q_true_{k}": q[:, k] for k in range(self.n_arms)})
        arrays = []
        for fld in self.schema:
            col = columns[fld.name]
            if not isinstance(col, pa.Array):
                col = np.asarray(col)
                if col.shape != (n,):
                    raise ValueError(f"`{fld.name}` must have shape ({n},); got {col.shape}.")
                col = pa.array(col.astype(fld.type.to_pandas_dtype(), copy=False), type=fld.type)
            arrays.append(col)
        self._buffer.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._buffered += n
        self.n_rows += n
        if self._buffered >= self.row_group_size:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.Table.from_batches(self._buffer, schema=self.schema))
            self._buffer, self._buffered = [], 0

    def close(self) -> Path:
        """Flush, close and publish the file at ``path`` (atomic rename); return ``path``."""
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None
            with open(self.tmp_path, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        """Close without publishing and delete the temporary file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._buffer = []
            self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> BanditLogWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def is_adlab_log(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Parquet file written by :class:`BanditLogWriter`."""
    try:
        with open_regular(path) as fh:
            meta = pq.read_schema(fh).metadata or {}
    except (OSError, ValueError, pa.ArrowException):  # any damage: not ours to read
        return False
    return LOG_FORMAT_KEY in meta


def _prefixed(columns, prefix: str) -> list[str]:
    """Columns ``prefix0, prefix1, ...`` in numeric order."""
    found = [c for c in columns if c.startswith(prefix) and c[len(prefix) :].isdigit()]
    return sorted(found, key=lambda c: int(c[len(prefix) :]))


def read_parquet_bounded(
    fh, name: str, *, columns: list[str] | None = None, filters=None
) -> pa.Table:
    """Read a Parquet file after checking its footer against the declared limits.

    Parameters
    ----------
    fh : binary file object
        Seekable, open on a regular file (:func:`simulation.ope.limits.open_regular`).
    name : str
        The file, for errors.
    columns : list of str, optional
        Columns to read; default all.
    filters : list of tuple, optional
        Row filters, as ``pyarrow.parquet.read_table`` takes them.

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    ValueError
        When the file is not Parquet, names a column twice, or holds more than
        ``MAX_LOG_ROWS`` rows, ``MAX_COLUMNS`` columns or ``MAX_DECODED_BYTES`` decoded bytes.
    """
    try:
        parquet = pq.ParquetFile(fh)
        _check_unique_names(parquet.schema_arrow.names, name)
        meta = parquet.metadata
        decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        for what, value, limit in (
            ("rows", meta.num_rows, MAX_LOG_ROWS),
            ("columns", meta.num_columns, MAX_COLUMNS),
            ("decoded bytes", decoded, MAX_DECODED_BYTES),
        ):
            if value > limit:
                raise ValueError(f"{shorten(name)!r} has {value:,} {what}; the limit is {limit:,}.")
        fh.seek(0)
        return pq.read_table(fh, columns=columns, filters=filters)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(
            f"cannot read {shorten(name)!r} as Parquet: {shorten(str(exc).strip(), 200)}"
        ) from None


def read_csv_bounded(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` on a regular file, streaming through the size and line limits.

    The header is read first and refused past ``MAX_COLUMNS`` columns; then the
    whole file is parsed from a stream that raises as soon as it passes
    ``MAX_LOG_BYTES`` or holds a line longer than ``MAX_LINE_BYTES``.

    Parameters
    ----------
    path : str or Path
    **kwargs
        Passed to ``pandas.read_csv`` (e.g. ``index_col``).

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        For a file that is not a regular file, breaks a limit, or is not CSV;
        the message is one line with any echoed text shortened.
    """
    name = Path(path).name
    try:
        with open_bounded(path) as fh:
            header = pd.read_csv(fh, nrows=0, **kwargs).columns
        if len(header) > MAX_COLUMNS:
            raise ValueError(
                f"{shorten(name)!r} has {len(header):,} columns; the limit is {MAX_COLUMNS:,}."
            )
        with open_bounded(path) as fh:
            # pandas renames a repeated name ("reward", "reward.1") and the first copy
            # would be used silently: read the names as written.
            raw = pd.read_csv(fh, header=None, nrows=1, dtype=str, keep_default_na=False)
        names = [n for n in raw.iloc[0].tolist() if n != ""] if len(raw) else []
        _check_unique_names(names, name)
        with open_bounded(path) as fh:
            return pd.read_csv(fh, **kwargs)
    except UnicodeDecodeError:
        # The codec's own words ("can't decode byte 0x95 in position 1") mean nothing to
        # the person who saved the file; these are the Audience uploader's.
        raise ValueError(f"{shorten(name)}: the file is not UTF-8 text.") from None
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        OverflowError,
        OSError,
    ) as exc:
        # pandas ends some messages with a line break, which shorten() would echo as "\n".
        raise ValueError(
            f"cannot read {shorten(name)!r}: {shorten(str(exc).strip(), 200)}"
        ) from None


def _check_unique_names(names, file_name: str) -> None:
    """Refuse a header that names a column twice (which copy holds the data?)."""
    seen: set[str] = set()
    for col in names:
        if col in seen:
            count = list(names).count(col)
            raise ValueError(
                f"{shorten(file_name)!r} has {count} columns named `{shorten(col)}`; each "
                "column needs its own name (rename or drop the copies)."
            )
        seen.add(col)


def read_log(
    path: str | os.PathLike,
    *,
    policy: str | None = None,
    level: str | None = None,
    seed: int | None = None,
) -> LoggedFeedback:
    """Read an adlab log written by :class:`BanditLogWriter`.

    Parameters
    ----------
    path : str or Path
        The Parquet log.
    policy, level, seed : optional
        Keep only the rows of this logging policy, targeting level or seed.

    Returns
    -------
    LoggedFeedback
        ``expected_reward`` is None when the log holds no ground truth. Its
        ``metadata`` has ``value_low`` and ``value_high``, the range of one
        impression's net value (USD) in the world that wrote the log, when the
        log recorded it.

    Raises
    ------
    ValueError
        When the file is not an adlab log or breaks a limit of
        :mod:`simulation.ope.limits`, no row matches the filters, the rows come
        from more than one targeting level (their arms differ), or their logging
        policies recorded the reward in different units (an older ROAS log).

    Notes
    -----
    The engine pads the ``q_true_*`` columns of a level with fewer arms than the
    widest level with nulls; ``n_arms`` is then that level's own arm count.
    """
    path = Path(path)
    check_regular_file(path)
    if not is_adlab_log(path):
        check_not_adlab_export(path)  # a CSV export: name the Parquet one instead
        raise ValueError(
            f"{shorten(str(path))!r} is not an adlab log (written by BanditLogWriter)."
        )
    filters = [
        (name, "=", value)
        for name, value in (("policy", policy), ("level", level), ("seed", seed))
        if value is not None
    ]
    with open_regular(path) as fh:
        schema = pq.read_schema(fh)
        try:
            n_arms = int(schema.metadata[b"adlab.n_arms"])
        except (KeyError, ValueError):
            raise ValueError(
                f"{shorten(str(path))!r} has no valid `adlab.n_arms` metadata."
            ) from None
        if not 1 <= n_arms <= MAX_ARMS:
            raise ValueError(
                f"{shorten(str(path))!r} declares {n_arms:,} arms; the limit is {MAX_ARMS:,}."
            )
        fh.seek(0)
        table = read_parquet_bounded(fh, str(path), filters=filters or None)
        if table.num_rows == 0:
            fh.seek(0)
            held = read_parquet_bounded(fh, str(path), columns=[n for n, _, _ in filters])
            raise ValueError(_no_rows_message(path, filters, held))
    missing = [c for c in ("level", "policy", "seed", "segment", "action", "pscore", "reward")
               if c not in table.column_names]  # fmt: skip
    if missing:
        raise ValueError(f"`{missing[0]}` column is missing from {shorten(str(path))!r}.")
    frame = table.to_pandas()
    levels = sorted(frame["level"].unique().tolist())
    if len(levels) > 1:
        raise ValueError(
            f"{shorten(str(path))!r} mixes the targeting levels {shorten(levels, 200)}, whose "
            "arms differ; choose one with `level` (--level on the command line)."
        )
    _check_one_reward_unit(frame, path)
    x_cols = _prefixed(frame.columns, "x_")
    q_cols = _prefixed(frame.columns, "q_true_")
    check_cells("context", len(frame), len(x_cols))
    check_cells("q_true", len(frame), len(q_cols))
    q = frame[q_cols].to_numpy(dtype=np.float64, na_value=np.nan)
    nulls = np.isnan(q)
    if nulls.all():
        q = None
    else:
        # A level with fewer arms than the file's widest level has all-null
        # trailing q_true columns: its arms are the leading columns with truth.
        n_arms = int(np.flatnonzero(~nulls.all(axis=0))[-1]) + 1
        q = q[:, :n_arms]
        if np.isnan(q).any():
            raise ValueError(f"{shorten(str(path))!r} has ground truth for some rows only.")
    check_cells("action probabilities", len(frame), n_arms)
    meta = {"source": str(path), "format": "adlab"}
    with contextlib.suppress(KeyError, ValueError):  # a log written before the range was kept
        meta["value_low"], meta["value_high"] = (
            float(schema.metadata[key]) for key in (_VALUE_LOW, _VALUE_HIGH)
        )
    if q is not None:
        q, scale = _truth_on_reward_scale(frame, q)
        meta.update(scale)
    elif {"click", "revenue", "cost"}.issubset(frame.columns):
        # Without truth the unit still tells OPE the range a reward can take.
        meta.update(_reward_scale(frame) or {})
    for name in ("policy", "level", "seed"):
        values = frame[name].unique()
        meta[name] = values[0].item() if hasattr(values[0], "item") else values[0]
        if len(values) > 1:
            meta[name] = None  # mixed
    pscore = frame["pscore"].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~((pscore > 0) & (pscore <= 1)))
    if bad.size:
        # Name the impression as the run wrote it: row numbers of a filtered read
        # would point nowhere in the file.
        first = frame.iloc[int(bad[0])]
        where = f"policy {first['policy']!r}, seed {int(first['seed'])}"
        if "impression" in frame:
            where += f", impression {int(first['impression']):,}"
        raise ValueError(
            f"{shorten(str(path))!r}: `pscore` must be in (0, 1]; got "
            f"{float(pscore[bad[0]])!r} in {bad.size:,} of {len(frame):,} rows, the first at "
            f"{where} (lin_ts logs written before its logged propensities were kept above 0 "
            "have such rows: run the experiment again with --log)."
        )
    return LoggedFeedback(
        context=frame[x_cols].to_numpy(dtype=np.float64),
        action=frame["action"].to_numpy(dtype=np.int64),
        reward=frame["reward"].to_numpy(dtype=np.float64),
        pscore=pscore,
        n_arms=n_arms,
        segment=frame["segment"].to_numpy(dtype=np.int64),
        expected_reward=q,
        feature_names=tuple(x_cols),
        metadata=meta,
    )


#: Largest residual, relative to the reward span, of ``reward = (net - offset) / span``
#: for a log to count as a ROAS log (the engine's map is exact up to rounding).
_SCALE_RTOL = 1e-9


#: How :func:`_no_rows_message` names a filter's column, in the singular and the plural.
_FILTER_WORDS = {
    "level": ("level", "levels"),
    "policy": ("logging policy", "logging policies"),
    "seed": ("seed", "seeds"),
}


def _no_rows_message(path: Path, filters: list[tuple], held: pa.Table) -> str:
    """Why no row of ``path`` matched ``filters``, naming what the log does hold.

    Parameters
    ----------
    path : Path
    filters : list of (column, "=", value)
        The filters given (at least one: a log with no rows at all is refused earlier).
    held : pyarrow.Table
        The log's values of the filtered columns, every row.

    Returns
    -------
    str
        ``"sim1/logs.parquet has no rows of level 'generic'; it holds levels: segment,
        user"``; when every value exists alone but not together, what the first filter's
        rows hold of the others.
    """
    frame = held.to_pandas()
    where = shorten(str(path))
    for column, _, value in filters:
        values = sorted({str(v) for v in frame[column].unique()})
        if str(value) not in values:
            one, many = _FILTER_WORDS[column]
            return (
                f"{where} has no rows of {one} {shorten(str(value))!r}; it holds {many}: "
                f"{shorten(', '.join(values), 200)}"
            )
    # Each value exists, but not together: say what the first one's rows hold of the rest.
    (first, _, value), rest = filters[0], filters[1:]
    rows = frame[frame[first].astype(str) == str(value)]
    wanted = " and ".join(f"{_FILTER_WORDS[c][0]} {shorten(str(v))!r}" for c, _, v in filters)
    held_text = "; ".join(
        f"{_FILTER_WORDS[c][1]}: {', '.join(sorted({str(v) for v in rows[c].unique()}))}"
        for c, _, _ in rest
    )
    return (
        f"{where} has no rows of {wanted}; the rows of {_FILTER_WORDS[first][0]} "
        f"{shorten(str(value))!r} hold {shorten(held_text, 200)}"
    )


def _reward_scale(frame: pd.DataFrame) -> dict | None:
    """The unit of the rows' ``reward``, read back from their ``click``, ``revenue`` and ``cost``.

    Parameters
    ----------
    frame : DataFrame
        Rows with ``reward``, ``click``, ``revenue`` and ``cost``.

    Returns
    -------
    dict or None
        ``objective``, ``reward_unit`` and, for ROAS, ``reward_offset`` and
        ``reward_span`` (net value in USD is ``offset + span * reward``); None when
        the reward is neither the click nor an affine map of revenue minus cost.
    """
    reward = frame["reward"].to_numpy(dtype=np.float64)
    if np.array_equal(reward, frame["click"].to_numpy(dtype=np.float64)):
        return {"objective": "ctr", "reward_unit": "click probability"}
    net = frame["revenue"].to_numpy(dtype=np.float64) - frame["cost"].to_numpy(dtype=np.float64)
    lo, hi = int(np.argmin(net)), int(np.argmax(net))
    if net[hi] > net[lo] and reward[hi] > reward[lo]:
        span = (net[hi] - net[lo]) / (reward[hi] - reward[lo])
        offset = net[lo] - span * reward[lo]
        if np.abs(offset + span * reward - net).max() <= _SCALE_RTOL * span:
            # Logs record net value itself, in dollars (offset 0, span 1); logs written
            # before that recorded a Beta-posterior policy's reward scaled to [0, 1].
            dollars = abs(offset) <= _SCALE_RTOL * span and abs(span - 1.0) <= _SCALE_RTOL
            return {
                "objective": "roas",
                "reward_unit": "net value (USD)" if dollars else "net value scaled to [0, 1]",
                "reward_offset": float(offset),
                "reward_span": float(span),
            }
    return None


def _check_one_reward_unit(frame: pd.DataFrame, path: Path) -> None:
    """Refuse rows whose logging policies recorded the reward in different units.

    The engine now logs every policy's reward in the objective's unit (the click;
    net value in USD), but logs written before recorded a ROAS run's Beta-posterior
    policies (``thompson``) on a [0, 1] scale beside the others' dollars: averaged
    together, every estimate would mix the two silently. The unit is read per
    logging policy; policies whose unit cannot be told are left out of the check.
    """
    if not {"click", "revenue", "cost"}.issubset(frame.columns):
        return
    if frame["policy"].nunique() < 2:
        return
    units: dict[str, dict] = {}
    for name, rows in frame.groupby("policy", sort=True):
        scale = _reward_scale(rows)
        if scale is not None:
            units[str(name)] = scale
    keyed = {
        name: (s["objective"], s.get("reward_offset", 0.0), s.get("reward_span", 1.0))
        for name, s in units.items()
    }
    first = next(iter(keyed.items()), None)
    for name, key in keyed.items():
        same = key[0] == first[1][0] and np.allclose(key[1:], first[1][1:], rtol=1e-6, atol=1e-9)
        if not same:
            raise ValueError(
                f"{shorten(str(path))!r} mixes reward units: policy {first[0]!r} logged "
                f"{units[first[0]]['reward_unit']}, {name!r} {units[name]['reward_unit']} "
                "(a log written before every policy was logged in USD); read one logging "
                "policy (--logging-policy) or run the experiment again with --log."
            )


def _truth_on_reward_scale(frame: pd.DataFrame, q: np.ndarray) -> tuple[np.ndarray | None, dict]:
    """Put the ``q_true_*`` ground truth on the scale of the ``reward`` column.

    The engine logs ``q_true_*`` as the objective's expected reward in its own
    unit: the click probability for ``ctr``, the net value (revenue minus cost,
    USD) for ``roas``. Its ``reward`` column is what happened in the same unit:
    the click for ``ctr``, the net value in USD for ``roas`` (logs written
    before recorded a Beta-posterior policy's reward mapped affinely onto
    ``[0, 1]``, ``(net - offset) / span``). The objective and the map are read
    back from the rows themselves (the ``click``, ``revenue`` and ``cost``
    columns), so older logs are read correctly too.

    Parameters
    ----------
    frame : DataFrame
        The log's rows, with ``reward``, ``click``, ``revenue`` and ``cost``.
    q : ndarray of shape (n_rounds, n_arms)
        The ``q_true_*`` columns.

    Returns
    -------
    q : ndarray of shape (n_rounds, n_arms) or None
        The truth on the reward's scale; None when the scale cannot be told
        (the reason is in the returned metadata under ``truth_note``).
    meta : dict
        ``objective``, ``reward_unit`` and, for ROAS, ``reward_offset`` and
        ``reward_span`` (net value in USD is ``offset + span * reward``).
    """
    if not {"click", "revenue", "cost"}.issubset(frame.columns):
        return None, {"truth_note": "the log lacks click, revenue and cost: truth scale unknown"}
    scale = _reward_scale(frame)
    if scale is None:
        return None, {
            "truth_note": "the reward is neither the click nor an affine map of revenue minus "
            "cost: its scale differs from the truth's, which is dropped"
        }
    if scale["objective"] == "ctr":
        return q, scale
    return (q - scale["reward_offset"]) / scale["reward_span"], scale


def encode_context(
    frame: pd.DataFrame,
    columns: list[str],
    *,
    max_values: int = MAX_CONTEXT_VALUES,
    max_features: int = MAX_CONTEXT_FEATURES,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Encode context columns as floats: numbers kept, text columns one-hot encoded.

    Categories are sorted, so the encoding depends only on the values present
    in ``frame``. The width is checked before anything is allocated: a text
    column with more than ``max_values`` distinct values (an id, a free-text
    field) or more than ``max_features`` encoded columns in all is refused, as is
    a matrix of more than ``MAX_MATRIX_CELLS`` cells.

    Parameters
    ----------
    frame : DataFrame
        The log.
    columns : list of str
        Context columns to encode, in order.
    max_values : int, default=MAX_CONTEXT_VALUES
        Most distinct values of one text column.
    max_features : int, default=MAX_CONTEXT_FEATURES
        Most encoded columns.

    Returns
    -------
    context : ndarray of shape (n_rounds, n_encoded)
    names : tuple of str
        ``column`` for numeric columns, ``column=value`` for one-hot columns.

    Raises
    ------
    ValueError
        Naming the column over a limit, or a numeric value that is not finite.
    """
    n = len(frame)
    plan: list[tuple[str, np.ndarray | None, np.ndarray]] = []  # (column, categories, data)
    width = 0
    for col in columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            data = values.to_numpy(dtype=np.float64)
            bad = ~np.isfinite(data)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"row {row + 1}: `{shorten(col)}` must be a finite number; "
                    f"got {_cell(data[row])}."
                )
            plan.append((col, None, data))
            width += 1
        else:
            _check_not_mixed(values, col)
            n_values = int(values.nunique(dropna=False))
            if n_values > max_values:
                raise ValueError(
                    f"context column `{shorten(col)}` has {n_values:,} distinct text values; "
                    f"at most {max_values:,} are one-hot encoded (bucket it, or give numbers)."
                )
            cats, codes = np.unique(values.astype(str).to_numpy(), return_inverse=True)
            plan.append((col, cats, codes))
            width += cats.shape[0]
        if width > max_features:
            raise ValueError(
                f"the context would have more than {max_features:,} encoded features "
                f"(at column `{shorten(col)}`); drop or bucket some context columns."
            )
    check_cells("context", n, width)
    context = np.zeros((n, width))
    names: list[str] = []
    start = 0
    for col, cats, data in plan:
        if cats is None:
            context[:, start] = data
            names.append(col)
            start += 1
        else:
            context[np.arange(n), start + data] = 1.0
            names.extend(f"{col}={c}" for c in cats)
            start += cats.shape[0]
    return context, tuple(names)


def _check_not_mixed(values: pd.Series, col: str) -> None:
    """Refuse a context column holding both numbers and text, naming its first text cell.

    One text cell (a typo, a unit, "n/a") turns a numeric column into text, which would
    then be one-hot encoded, one column per distinct number, without a word.
    """
    if pd.api.types.is_bool_dtype(values):
        return
    numeric = pd.to_numeric(values, errors="coerce").notna().to_numpy()
    if numeric.any() and not numeric.all():
        row = int(np.flatnonzero(~numeric)[0])
        n_num, n_text = int(numeric.sum()), int((~numeric).sum())
        raise ValueError(
            f"row {row + 1}: `{shorten(col)}` must be a number like the column's other "
            f"{n_num:,} cells; got {_cell(values.iloc[row])} ({n_text:,} text "
            f"cell{'s' if n_text > 1 else ''} in all): a context column holds numbers or "
            "text, not both."
        )


def _cell(value: object) -> str:
    """A cell as an error quotes it, in plain words: never ``np.float64(nan)``."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        # pandas reads an empty CSV cell, and texts such as "nan" or "NA", as NaN.
        return "an empty cell (or NaN)"
    return shorten(repr(value))


def _numeric_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Column as floats; a row that is not a number raises with its number (from 1)."""
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        got = _cell(frame[col].iloc[row])
        raise ValueError(f"row {row + 1}: `{shorten(col)}` must be a number; got {got}.")
    return values


def arm_indices(frame: pd.DataFrame, col: str, *, max_arms: int = MAX_ARMS) -> np.ndarray:
    """Column of arm indices: whole numbers in ``[0, max_arms)``, as int64.

    Raises
    ------
    ValueError
        Naming the first bad row.
    """
    values = _numeric_column(frame, col)
    bad = (values < 0) | (values != np.round(values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row + 1}: `{col}` must be a non-negative integer; got {values[row]:.6g}."
        )
    bad = values >= max_arms
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row + 1}: `{col}` must be an arm index below {max_arms:,} (the arm limit); "
            f"got {float(values[row]):.6g}."
        )
    return values.astype(np.int64)


def inferred_arm_count(action: np.ndarray, col: str = "action") -> int:
    """The arm count ``max(action) + 1`` of a log that does not declare its arms.

    Actions are arm indices, the numbers a policy's choices and a rule table's
    creatives refer to, so they count from 0. A gap (an arm the logging policy
    never showed) is legitimate and kept as an arm with no rows; but a smallest
    action above 0 means the numbers are not indices (ad identities such as
    100-103, or a count from 1): taking them as indices would invent the arms
    below them, and every estimate would be silently wrong (IPS of a uniform
    policy over 104 arms on a log of 4). Such a log is refused.

    Parameters
    ----------
    action : ndarray of int of shape (n_rounds,)
        Non-negative arm indices (:func:`arm_indices`), at least one.
    col : str, default="action"
        The column, for the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When the smallest action is not 0.
    """
    low, high = int(action.min()), int(action.max())
    if low > 0:
        n_seen = int(np.unique(action).shape[0])
        raise ValueError(
            f"`{col}` must number the ads from 0 (0 to K-1, as policies and rule tables "
            f"choose them); found {n_seen:,} ads numbered {low:,} to {high:,}: renumber "
            f"them from 0 (subtract {low:,})."
        )
    return high + 1


#: Columns that together mark an adlab log (``pscore`` where a user's log has
#: ``propensity``): a file holding them without the Parquet metadata is an adlab log
#: exported as CSV (``runs export --format csv``) or re-saved by another tool.
_ADLAB_ONLY_COLUMNS: tuple[str, ...] = ("impression", "seed", "level", "policy", "pscore")


def check_not_adlab_export(path: str | os.PathLike, columns=None) -> None:
    """Refuse an adlab log that lost its Parquet metadata (a CSV export, a re-saved copy).

    Such a file reads as a user's log with the wrong column (``pscore``) and, renamed, would
    be evaluated without the arm count, the world's range of net values and the reward
    unit that the adlab reader takes from the metadata, and with its levels mixed: the
    Parquet log (or its byte-for-byte Parquet export) has them all.

    Parameters
    ----------
    path : str or Path
        The log file.
    columns : sequence of str, optional
        Its column names when already read; otherwise a ``.csv`` file's header is read
        (other files are left to their reader).

    Raises
    ------
    ValueError
        Naming the Parquet export command, with the run id when the file sits in an
        export folder (beside its ``meta.json``).
    """
    path = Path(path)
    if columns is None:
        if path.suffix.lower() != ".csv":
            return
        try:
            with open_bounded(path) as fh:
                columns = pd.read_csv(fh, nrows=0).columns  # the header only
        except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
            return  # not readable as CSV: the reader says what is wrong
    if not set(_ADLAB_ONLY_COLUMNS) <= {str(c) for c in columns} or "propensity" in columns:
        return
    run_id = path.parent.name if (path.parent / "meta.json").is_file() else "RUN_ID"
    raise ValueError(
        f"{shorten(path.name)!r} is an adlab log without its Parquet metadata (a CSV export?), "
        "which ope needs (arm count, value range, reward unit); read the Parquet log: "
        f"`python -m simulation runs export {shorten(run_id)} --format parquet --out DIR`, "
        f"then --log DIR/{shorten(run_id)}/log.parquet."
    )


def _check_one_level(frame: pd.DataFrame, name: str) -> None:
    """Refuse a user's log whose ``level`` column names several targeting levels.

    Rows of different levels choose among different arms (arm 3 of the segment level is
    not arm 3 of the user level), so evaluating them together mixes unrelated ads, as the
    adlab reader refuses to.
    """
    if "level" not in frame.columns:
        return
    levels = sorted(str(v) for v in frame["level"].dropna().unique())
    if len(levels) > 1:
        raise ValueError(
            f"{shorten(name)!r} mixes the targeting levels {shorten(levels, 200)} in its "
            "`level` column, whose arms differ; keep the rows of one level."
        )


def import_log(path: str | os.PathLike, *, n_arms: int | None = None) -> LoggedFeedback:
    """Import a user's log from CSV or Parquet.

    Required columns: ``action`` (integer arm index from 0), ``reward``
    (number), ``propensity`` (logging probability of the logged action, in
    ``(0, 1]``). Optional: context columns named ``x_*``, ``context_*`` or
    ``user_feature_*`` (text columns are one-hot encoded), ``segment``,
    ``position`` and ground truth ``q_true_0..q_true_{K-1}``. Rows are numbered
    from 1 in error messages, the header not counted (the first data row is row 1).
    The limits of :mod:`simulation.ope.limits` apply (file size, line length,
    columns, distinct text values, arms, reward size).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` file.
    n_arms : int, optional
        Number of arms; default: the ``q_true_*`` count, else ``max(action) + 1``
        (then the smallest action must be 0: see :func:`inferred_arm_count`).

    Returns
    -------
    LoggedFeedback

    Raises
    ------
    ValueError
        Naming the bad column and row, e.g.
        ``row 17: `propensity` must be in (0, 1]; got 0.0``.
    """
    path = Path(path)
    check_regular_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = read_csv_bounded(path)
    elif suffix in (".parquet", ".pq"):
        with open_regular(path) as fh:
            frame = read_parquet_bounded(fh, path.name).to_pandas()
    else:
        raise ValueError(f"log files must end in .csv or .parquet; got {shorten(path.name)!r}.")
    frame.columns = [str(c) for c in frame.columns]
    check_not_adlab_export(path, frame.columns)
    missing = [c for c in ("action", "reward", "propensity") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{missing[0]}` column is missing from {shorten(path.name)!r}; "
            f"required: action, reward, propensity; found: {shorten(list(frame.columns))}."
        )
    if len(frame) == 0:
        raise ValueError(f"{shorten(path.name)!r} has no rows.")
    _check_one_level(frame, path.name)
    if n_arms is not None and (
        isinstance(n_arms, bool) or not isinstance(n_arms, (int, np.integer))
        or not 1 <= n_arms <= MAX_ARMS
    ):  # fmt: skip
        raise ValueError(f"`n_arms` must be an int in [1, {MAX_ARMS:,}]; got {n_arms!r}.")
    action = arm_indices(frame, "action")
    reward = _numeric_column(frame, "reward")
    check_reward(reward)
    pscore = _numeric_column(frame, "propensity")
    bad = (pscore <= 0) | (pscore > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row + 1}: `propensity` must be in (0, 1]; got {float(pscore[row])!r}."
        )
    q_cols = _prefixed(frame.columns, "q_true_")
    if len(q_cols) > MAX_ARMS:
        raise ValueError(f"{len(q_cols):,} `q_true_*` columns; the arm limit is {MAX_ARMS:,}.")
    if n_arms is None:
        n_arms = len(q_cols) if q_cols else inferred_arm_count(action)
    bad = action >= n_arms
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {row + 1}: `action` must be in [0, {n_arms}); got {action[row]}.")
    check_cells("action probabilities", len(frame), n_arms)
    q = None
    if q_cols:
        q = np.column_stack([_numeric_column(frame, c) for c in q_cols])
    ctx_cols = [c for c in frame.columns if c.startswith(CONTEXT_PREFIXES)]
    for col in ctx_cols:
        nulls = frame[col].isna().to_numpy()
        if nulls.any():
            row = int(np.flatnonzero(nulls)[0]) + 1
            raise ValueError(f"row {row}: `{shorten(col)}` is an empty cell.")
    context, names = encode_context(frame, ctx_cols)
    extra = {
        name: _numeric_column(frame, name).astype(np.int64)
        for name in ("segment", "position")
        if name in frame.columns
    }
    return LoggedFeedback(
        context=context,
        action=action,
        reward=reward,
        pscore=pscore,
        n_arms=n_arms,
        expected_reward=q,
        feature_names=names,
        metadata={"source": str(path), "format": "csv" if suffix == ".csv" else "parquet"},
        **extra,
    )
