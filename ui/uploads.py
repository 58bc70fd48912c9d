"""Validation of uploaded files: size-capped, parsed as data only, errors that name the reason.

Streamlit's ``AppTest`` cannot upload files, so every upload goes through one of these plain
functions (tested directly). Each writes the bytes to a private temporary file with a fixed
name (the user's file name is never used as a path), hands it to the package reader, and turns
every failure into :class:`UploadError` whose message mentions the user's file name instead of
the temporary path. Nothing is ever unpickled or executed: CSV, TOML and Parquet only.

Messages quote the user's file name and cells as they are (capped at
:data:`MAX_MESSAGE_CHARS`); the pages escape them with ``ui.fmt.escape_markdown``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TypeVar

from creative.audience import Audience
from creative.audience_io import read_audiences
from creative.templates import TemplateSet, load_templates

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_SEGMENTS",
    "MAX_UPLOAD_BYTES",
    "UploadError",
    "parse_log_upload",
    "parse_segments_upload",
    "parse_templates_upload",
]

#: Uploads larger than this are refused before parsing (the server caps them too).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: More segments than this in an uploaded file are refused (the gallery renders each).
MAX_SEGMENTS = 50
#: Longer messages are cut (they may quote a cell of the file, which can be megabytes).
MAX_MESSAGE_CHARS = 500

T = TypeVar("T")


class UploadError(ValueError):
    """An uploaded file was refused; the message says why, in plain words (not Markdown)."""

    def __init__(self, message: str) -> None:
        message = str(message)
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        super().__init__(message)


def _check(name: str, data: bytes, suffixes: tuple[str, ...]) -> str:
    if not isinstance(data, bytes | bytearray):
        raise UploadError(f"{name}: expected file contents as bytes.")
    if len(data) == 0:
        raise UploadError(f"{name}: the file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"{name}: the file is {len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB."
        )
    suffix = PurePath(str(name)).suffix.lower()
    if suffix not in suffixes:
        raise UploadError(f"{name}: expected a {' or '.join(suffixes)} file; got {suffix!r}.")
    return suffix


def _with_file(name: str, data: bytes, suffix: str, stem: str, read: Callable[[Path], T]) -> T:
    with tempfile.TemporaryDirectory(prefix="adlab-upload-") as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        path.write_bytes(bytes(data))
        try:
            return read(path)
        except Exception as exc:
            # Any failure of a reader on user data is a refusal with a one-line reason,
            # never an uncaught exception whose traceback the page would show.
            message = str(exc).replace(str(path), name).replace(path.name, name)
            fallback = f"{name}: could not be read ({type(exc).__name__})."
            raise UploadError(message or fallback) from None


def parse_segments_upload(name: str, data: bytes) -> list[Audience]:
    """Parse an uploaded segments file (CSV or TOML, as ``creative.read_audiences`` reads).

    Parameters
    ----------
    name : str
        The user's file name (for messages and the format only).
    data : bytes
        The file contents.

    Returns
    -------
    audiences : list of Audience
        At most :data:`MAX_SEGMENTS`, ids unique.

    Raises
    ------
    UploadError
        With the reason: empty, too big, wrong type, not UTF-8, a bad row, too many rows.
    """
    suffix = _check(name, data, (".csv", ".toml"))
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError(f"{name}: the file is not UTF-8 text.") from None
    audiences = _with_file(name, data, suffix, "segments", read_audiences)
    if len(audiences) > MAX_SEGMENTS:
        raise UploadError(f"{name}: {len(audiences)} segments; at most {MAX_SEGMENTS} are allowed.")
    generic = [a.audience_id for a in audiences if a.kind == "generic"]
    if generic:
        raise UploadError(f"{name}: segment {generic[0]!r} has kind 'generic'; use 'segment'.")
    return audiences


def parse_templates_upload(name: str, data: bytes) -> TemplateSet:
    """Parse an uploaded copy-templates TOML (extends the bundled templates).

    Raises
    ------
    UploadError
        With the reason: malformed TOML, unknown language/tone/part, an unknown slot.
    """
    suffix = _check(name, data, (".toml",))
    return _with_file(name, data, suffix, "templates", load_templates)


def parse_log_upload(name: str, data: bytes):
    """Parse an uploaded bandit log.

    An adlab Parquet log, a CSV or Parquet file with ``action``, ``reward`` and
    ``propensity`` columns, or an Open Bandit Dataset CSV.

    Returns
    -------
    log : simulation.ope.logs.LoggedFeedback

    Raises
    ------
    UploadError
        Naming the bad column and row where the reader does.
    """
    from simulation.ope.evaluate import load_any_log

    suffix = _check(name, data, (".csv", ".parquet"))
    return _with_file(name, data, suffix, "log", lambda p: load_any_log(p, "auto"))
