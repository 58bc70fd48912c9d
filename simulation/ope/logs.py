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
arm (ground truth), kept apart so OPE can be scored against it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CONTEXT_PREFIXES",
    "LOG_FORMAT_KEY",
    "BanditLogWriter",
    "LoggedFeedback",
    "encode_context",
    "import_log",
    "is_adlab_log",
    "read_log",
]

#: Parquet schema-metadata key marking an adlab log (value: format version).
LOG_FORMAT_KEY = b"adlab.log_format"
_LOG_FORMAT_VERSION = b"1"

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
        set_(self, "n_arms", int(n_arms))
        if n and (self.action.min() < 0 or self.action.max() >= n_arms):
            raise ValueError(f"`action` must be in [0, {n_arms}); got {self.action.max()}.")
        if not np.isfinite(self.reward).all():
            raise ValueError("`reward` must be finite (no NaN or infinity).")
        if ((self.pscore <= 0) | (self.pscore > 1) | np.isnan(self.pscore)).any():
            raise ValueError("`pscore` must be in (0, 1].")
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


def _log_schema(n_features: int, n_arms: int) -> pa.Schema:
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
        self.schema = _log_schema(self.n_features, self.n_arms)
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
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return False
    return LOG_FORMAT_KEY in meta


def _prefixed(columns, prefix: str) -> list[str]:
    """Columns ``prefix0, prefix1, ...`` in numeric order."""
    found = [c for c in columns if c.startswith(prefix) and c[len(prefix) :].isdigit()]
    return sorted(found, key=lambda c: int(c[len(prefix) :]))


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
        ``expected_reward`` is None when the log holds no ground truth.

    Raises
    ------
    ValueError
        When the file is not an adlab log, no row matches the filters, or the
        rows come from more than one targeting level (their arms differ).

    Notes
    -----
    The engine pads the ``q_true_*`` columns of a level with fewer arms than the
    widest level with nulls; ``n_arms`` is then that level's own arm count.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no log file at {str(path)!r}.")
    if not is_adlab_log(path):
        raise ValueError(f"{str(path)!r} is not an adlab log (written by BanditLogWriter).")
    schema = pq.read_schema(path)
    n_arms = int(schema.metadata[b"adlab.n_arms"])
    filters = [
        (name, "=", value)
        for name, value in (("policy", policy), ("level", level), ("seed", seed))
        if value is not None
    ]
    table = pq.read_table(path, filters=filters or None)
    if table.num_rows == 0:
        raise ValueError(f"no rows in {str(path)!r} match the filters {filters}.")
    frame = table.to_pandas()
    levels = sorted(frame["level"].unique().tolist())
    if len(levels) > 1:
        raise ValueError(
            f"{str(path)!r} mixes the targeting levels {levels}, whose arms differ; "
            "choose one with `level` (--level on the command line)."
        )
    x_cols = _prefixed(frame.columns, "x_")
    q_cols = _prefixed(frame.columns, "q_true_")
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
            raise ValueError(f"{str(path)!r} has ground truth for some rows only.")
    meta = {"source": str(path), "format": "adlab"}
    for name in ("policy", "level", "seed"):
        values = frame[name].unique()
        meta[name] = values[0].item() if hasattr(values[0], "item") else values[0]
        if len(values) > 1:
            meta[name] = None  # mixed
    return LoggedFeedback(
        context=frame[x_cols].to_numpy(dtype=np.float64),
        action=frame["action"].to_numpy(dtype=np.int64),
        reward=frame["reward"].to_numpy(dtype=np.float64),
        pscore=frame["pscore"].to_numpy(dtype=np.float64),
        n_arms=n_arms,
        segment=frame["segment"].to_numpy(dtype=np.int64),
        expected_reward=q,
        feature_names=tuple(x_cols),
        metadata=meta,
    )


def encode_context(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Encode context columns as floats: numbers kept, text columns one-hot encoded.

    Categories are sorted, so the encoding depends only on the values present
    in ``frame``.

    Parameters
    ----------
    frame : DataFrame
        The log.
    columns : list of str
        Context columns to encode, in order.

    Returns
    -------
    context : ndarray of shape (n_rounds, n_encoded)
    names : tuple of str
        ``column`` for numeric columns, ``column=value`` for one-hot columns.
    """
    blocks: list[np.ndarray] = [np.empty((len(frame), 0))]
    names: list[str] = []
    for col in columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            blocks.append(values.to_numpy(dtype=np.float64)[:, None])
            names.append(col)
            continue
        cats, codes = np.unique(values.astype(str).to_numpy(), return_inverse=True)
        blocks.append(np.eye(cats.shape[0])[codes])
        names.extend(f"{col}={c}" for c in cats)
    return np.hstack(blocks), tuple(names)


def _numeric_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Column as floats; a row that is not a number raises with its index."""
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {row}: `{col}` must be a number; got {frame[col].iloc[row]!r}.")
    return values


def import_log(path: str | os.PathLike, *, n_arms: int | None = None) -> LoggedFeedback:
    """Import a user's log from CSV or Parquet.

    Required columns: ``action`` (integer arm index from 0), ``reward``
    (number), ``propensity`` (logging probability of the logged action, in
    ``(0, 1]``). Optional: context columns named ``x_*``, ``context_*`` or
    ``user_feature_*`` (text columns are one-hot encoded), ``segment``,
    ``position`` and ground truth ``q_true_0..q_true_{K-1}``. Rows are numbered
    from 0 in error messages, as in a DataFrame index (the CSV header is not a row).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` file.
    n_arms : int, optional
        Number of arms; default: the ``q_true_*`` count, else ``max(action) + 1``.

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
    if not path.is_file():
        raise ValueError(f"no log file at {str(path)!r}.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise ValueError(f"log files must end in .csv or .parquet; got {path.name!r}.")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from None
    frame.columns = [str(c) for c in frame.columns]
    missing = [c for c in ("action", "reward", "propensity") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{missing[0]}` column is missing from {path.name!r}; "
            f"required: action, reward, propensity; found: {list(frame.columns)}."
        )
    if len(frame) == 0:
        raise ValueError(f"{path.name!r} has no rows.")
    action_f = _numeric_column(frame, "action")
    bad = (action_f < 0) | (action_f != np.round(action_f))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row}: `action` must be a non-negative integer; got {float(action_f[row])!r}."
        )
    action = action_f.astype(np.int64)
    reward = _numeric_column(frame, "reward")
    bad = ~np.isfinite(reward)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {row}: `reward` must be finite; got {float(reward[row])!r}.")
    pscore = _numeric_column(frame, "propensity")
    bad = (pscore <= 0) | (pscore > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {row}: `propensity` must be in (0, 1]; got {float(pscore[row])!r}.")
    q_cols = _prefixed(frame.columns, "q_true_")
    q = None
    if q_cols:
        q = np.column_stack([_numeric_column(frame, c) for c in q_cols])
    if n_arms is None:
        n_arms = len(q_cols) if q_cols else int(action.max()) + 1
    bad = action >= n_arms
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {row}: `action` must be in [0, {n_arms}); got {action[row]}.")
    ctx_cols = [c for c in frame.columns if c.startswith(CONTEXT_PREFIXES)]
    for col in ctx_cols:
        nulls = frame[col].isna().to_numpy()
        if nulls.any():
            raise ValueError(f"row {int(np.flatnonzero(nulls)[0])}: `{col}` is missing.")
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
