"""Declared limits of the log and config readers, and the helpers that enforce them.

Every reader of user files (CSV and Parquet logs, the Open Bandit Dataset, adlab
logs, TOML configs) goes through these helpers, so memory is bounded by the input
and by the constants below, whatever the file holds:

- only regular files are opened (no FIFO, device or ``/dev/zero`` symlink), with
  ``O_NONBLOCK`` so a FIFO swapped in after the check cannot hang the reader;
- sizes and line lengths are checked while the bytes stream in
  (:class:`BoundedReader`), not after a whole file is in memory;
- the arrays built from a log are checked against ``MAX_MATRIX_CELLS`` before
  they are allocated;
- any user text echoed in an error is cut by :func:`shorten`, so an error stays
  one short line.

The constants are the documented limits (docs/security.md, "Limits of logs and
configs"); tests scale some of them down through the ``limit`` parameters.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np

__all__ = [
    "MAX_ARMS",
    "MAX_BOOTSTRAP",
    "MAX_COLUMNS",
    "MAX_CONFIG_BYTES",
    "MAX_CONTEXT_FEATURES",
    "MAX_CONTEXT_VALUES",
    "MAX_DECODED_BYTES",
    "MAX_ECHO_CHARS",
    "MAX_LINE_BYTES",
    "MAX_LOG_BYTES",
    "MAX_LOG_ROWS",
    "MAX_MATRIX_CELLS",
    "MAX_REWARD",
    "MIN_EVAL_ROWS",
    "BoundedReader",
    "check_bootstrap",
    "check_cells",
    "check_regular_file",
    "check_reward",
    "open_bounded",
    "open_regular",
    "shorten",
]

#: Largest log file read (CSV or Parquet), in bytes.
MAX_LOG_BYTES = 512 * 2**20
#: Longest CSV line (the header included), in bytes; checked while reading.
MAX_LINE_BYTES = 64 * 2**10
#: Most columns in a log file (CSV header or Parquet schema).
MAX_COLUMNS = 1024
#: Most rows in a Parquet log (from its footer, before any data is read).
MAX_LOG_ROWS = 2**24
#: Most decoded (uncompressed) bytes of a Parquet log, from its footer.
MAX_DECODED_BYTES = 4 * 2**30
#: Most distinct values of one text context column (each becomes a one-hot column).
MAX_CONTEXT_VALUES = 100
#: Most context features after encoding (numeric columns plus one-hot columns).
MAX_CONTEXT_FEATURES = 256
#: Most arms: ``max(action) + 1``, a declared ``n_arms`` or the ``q_true_*`` count.
MAX_ARMS = 1000
#: Most cells of one float matrix built from a log: rows times features, or rows
#: times arms (the policy's action distribution, the reward model, the ground truth).
#: 2**26 cells of float64 are 512 MiB.
MAX_MATRIX_CELLS = 2**26
#: Most bootstrap resamples for an interval.
MAX_BOOTSTRAP = 100_000
#: Largest absolute reward: larger values are timestamps, ids or money in cents,
#: whose squares and sums lose all precision in the estimators.
MAX_REWARD = 1e6
#: Fewest evaluation rows: a one-row log has no spread, hence no interval.
MIN_EVAL_ROWS = 2
#: Largest TOML config file, in bytes.
MAX_CONFIG_BYTES = 2**20
#: Longest piece of user text echoed in an error message, in characters.
MAX_ECHO_CHARS = 80


def shorten(value: object, limit: int = MAX_ECHO_CHARS) -> str:
    r"""One-line, bounded text of ``value`` for an error message.

    Line breaks and other control characters are escaped (the message stays on
    one line) and text longer than ``limit`` is cut, ending with ``…``.

    Parameters
    ----------
    value : object
        User text, or anything whose ``str`` is echoed.
    limit : int, default=MAX_ECHO_CHARS
        Most characters returned.

    Returns
    -------
    str

    Examples
    --------
    >>> shorten("a" * 100, 10)
    'aaaaaaaaa…'
    >>> shorten("two\nlines")
    'two\\nlines'
    """
    text = value if isinstance(value, str) else str(value)
    # Cut before escaping too, so a 100 MB value is never copied whole.
    text = text[: 4 * limit]
    text = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def check_regular_file(
    path: str | os.PathLike, *, max_bytes: int = MAX_LOG_BYTES, what: str = "log file"
) -> Path:
    """Check that ``path`` is a regular file of at most ``max_bytes``, without opening it.

    Symbolic links are followed: a link to a regular file is accepted, a link to
    ``/dev/zero`` is not.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        When the path is missing, not a regular file, or too large.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"no {what} at {shorten(str(path))!r}.") from None
    except OSError as exc:
        raise ValueError(
            f"cannot read {what} {shorten(str(path))!r}: {shorten(exc.strerror or exc)}"
        ) from None
    _check_stat(st, path, max_bytes, what)
    return path


def _check_stat(st: os.stat_result, path: Path, max_bytes: int, what: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            f"{what} {shorten(str(path))!r} must be a regular file (not a pipe, device or folder)."
        )
    if st.st_size > max_bytes:
        raise ValueError(
            f"{what} {shorten(str(path))!r} is {st.st_size:,} bytes; the limit is {max_bytes:,}."
        )


class BoundedReader(io.RawIOBase):
    r"""A raw binary stream that refuses too long files or lines, checked as each chunk is read.

    The checks run on each chunk as it is read, so a reader that consumes the
    stream (pandas, tomllib through ``read``) never holds more than one chunk
    past a limit. Lines are counted between ``\n`` bytes.

    Parameters
    ----------
    raw : binary file object
        The open file.
    name : str
        Shown in errors.
    max_bytes : int or None
        Most bytes read in total.
    max_line : int or None
        Most bytes in one line; None for no line limit.
    """

    def __init__(self, raw, name: str, *, max_bytes: int | None, max_line: int | None) -> None:
        super().__init__()
        self._raw = raw
        self.name = name
        self.max_bytes = max_bytes
        self.max_line = max_line
        self.n_read = 0
        self._line = 0  # bytes in the current, unfinished line
        self.n_lines = 0

    def readable(self) -> bool:  # noqa: D102 - io hook
        return True

    def readinto(self, buffer) -> int:  # noqa: D102 - io hook
        data = self._raw.read(len(buffer))
        n = len(data)
        self.n_read += n
        if self.max_bytes is not None and self.n_read > self.max_bytes:
            raise ValueError(
                f"{shorten(self.name)!r} is larger than the limit of {self.max_bytes:,} bytes."
            )
        if self.max_line is not None and n:
            last = data.rfind(b"\n")
            if last < 0:
                self._line += n
                longest = self._line
            else:
                first = data.find(b"\n")
                longest = max(self._line + first, _longest_line(data, first, last))
                self._line = n - last - 1
                self.n_lines += data.count(b"\n")
            longest = max(longest, self._line)
            if longest > self.max_line:
                raise ValueError(
                    f"{shorten(self.name)!r} has a line longer than the limit of "
                    f"{self.max_line:,} bytes (line {self.n_lines + 1:,} or near it)."
                )
        buffer[:n] = data
        return n

    def close(self) -> None:  # noqa: D102 - io hook
        try:
            self._raw.close()
        finally:
            super().close()


def _longest_line(data: bytes, first: int, last: int) -> int:
    """Longest complete line strictly between the first and last newline of ``data``."""
    if last == first:
        return 0
    arr = np.frombuffer(data, dtype=np.uint8, count=last + 1, offset=0)
    ends = np.flatnonzero(arr[first:] == 10) + first
    return int(np.diff(ends).max()) - 1


def open_regular(
    path: str | os.PathLike, *, max_bytes: int = MAX_LOG_BYTES, what: str = "log file"
):
    """Open a regular file of at most ``max_bytes`` for binary, seekable reading (Parquet).

    The file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open
    descriptor, so a FIFO never blocks the open and a file swapped after an
    earlier check is still refused.

    Returns
    -------
    io.BufferedReader
        Close it (use ``with``).

    Raises
    ------
    ValueError
        When the path is missing, not a regular file or too large.
    """
    path = check_regular_file(path, max_bytes=max_bytes, what=what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ValueError(
            f"cannot read {what} {shorten(str(path))!r}: {shorten(exc.strerror or exc)}"
        ) from None
    try:
        _check_stat(os.fstat(fd), path, max_bytes, what)
    except ValueError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def open_bounded(
    path: str | os.PathLike,
    *,
    max_bytes: int = MAX_LOG_BYTES,
    max_line: int | None = MAX_LINE_BYTES,
    what: str = "log file",
    text: bool = False,
):
    """Open a regular file as a stream that enforces the size and line limits while read.

    Like :func:`open_regular`, then every chunk read is checked by
    :class:`BoundedReader`: a file that grows past ``max_bytes`` (or reports a
    wrong size) or holds a line longer than ``max_line`` raises while it streams.

    Parameters
    ----------
    path : str or Path
    max_bytes : int, default=MAX_LOG_BYTES
    max_line : int or None, default=MAX_LINE_BYTES
    what : str
        Names the file in errors ("log file", "config file").
    text : bool, default=False
        Return a UTF-8 text stream instead of a binary one.

    Returns
    -------
    io.BufferedReader or io.TextIOWrapper
        Not seekable. Close it (use ``with``).

    Raises
    ------
    ValueError
        When the path is missing, not a regular file or too large (the limits
        met while reading raise from ``read``).
    """
    raw = open_regular(path, max_bytes=max_bytes, what=what)
    stream = io.BufferedReader(
        BoundedReader(raw, str(path), max_bytes=max_bytes, max_line=max_line), 1 << 16
    )
    if text:
        return io.TextIOWrapper(stream, encoding="utf-8", newline="")
    return stream


def check_cells(name: str, n_rows: int, n_cols: int, *, limit: int | None = None) -> None:
    """Refuse a ``(n_rows, n_cols)`` float matrix of more than ``limit`` cells, before allocating.

    Raises
    ------
    ValueError
    """
    if limit is None:
        limit = MAX_MATRIX_CELLS  # read at call time, so a test can scale it down
    if int(n_rows) * int(n_cols) > limit:
        raise ValueError(
            f"`{name}` would have {int(n_rows):,} rows x {int(n_cols):,} columns; "
            f"the limit is {limit:,} cells (fewer rows, features or arms)."
        )


def check_reward(reward: np.ndarray, *, limit: float = MAX_REWARD) -> None:
    """Refuse rewards that are not finite or whose size exceeds ``limit``.

    Parameters
    ----------
    reward : ndarray of shape (n_rounds,)

    Raises
    ------
    ValueError
        Naming the first bad row, counted from 1; a value past ``1e8`` is called
        out as a likely timestamp or identifier column.
    """
    reward = np.asarray(reward, dtype=np.float64)
    bad = ~(np.abs(reward) <= limit)  # NaN and infinity fail the comparison
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = float(reward[row])
        hint = ""
        if np.isfinite(value) and abs(value) > 1e8:
            hint = " (is it a timestamp or an id column?)"
        raise ValueError(
            f"row {row + 1}: `reward` must be a finite number with |reward| <= {limit:g}; "
            f"got {value!r}{hint}."
        )


def check_bootstrap(n_bootstrap: object, *, limit: int = MAX_BOOTSTRAP) -> int:
    """Check a bootstrap resample count: an int in ``[2, limit]``.

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)):
        raise TypeError(f"`n_bootstrap` must be an int; got {type(n_bootstrap).__name__}.")
    if not 2 <= n_bootstrap <= limit:
        raise ValueError(f"`n_bootstrap` must be an int in [2, {limit:,}]; got {n_bootstrap}.")
    return int(n_bootstrap)
