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

import csv
import hashlib
import io
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TypeVar

from creative.audience import Audience
from creative.audience_io import AUDIENCE_FIELDS, read_audiences
from creative.catalogue import Product, read_catalogue
from creative.templates import TemplateSet, load_templates

__all__ = [
    "LOG_CAP_ENV",
    "MAX_LOG_UPLOAD_BYTES",
    "MAX_MESSAGE_CHARS",
    "MAX_SEGMENTS",
    "MAX_UPLOAD_BYTES",
    "UploadError",
    "format_mb",
    "max_log_upload_bytes",
    "parse_catalogue_upload",
    "parse_log_upload",
    "parse_segments_upload",
    "parse_templates_upload",
    "refit_catalogue",
    "segments_csv",
    "uploader_mb",
    "write_input",
]

#: Segment and template uploads larger than this are refused before parsing.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Default cap of log uploads (OPE page), in bytes: 200 MiB, Streamlit's own default
#: upload size. Logs are bigger than segment files (the Open Bandit Dataset sample
#: alone is 5.04 MB); the log readers bound memory themselves (simulation/ope/limits.py).
MAX_LOG_UPLOAD_BYTES = 200 * 2**20
#: Environment variable that overrides :data:`MAX_LOG_UPLOAD_BYTES`, in MiB.
LOG_CAP_ENV = "ADLAB_MAX_LOG_MB"
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


def max_log_upload_bytes() -> int:
    """The log upload cap: ``$ADLAB_MAX_LOG_MB`` MiB, else :data:`MAX_LOG_UPLOAD_BYTES`.

    Read at each call (not at import), so a test or a deployment can set it.
    Raise the server's ``server.maxUploadSize`` with it (keep the server's cap
    above this one): files over the server's cap are refused by the browser
    before the app sees them.

    Raises
    ------
    ValueError
        When the variable is set but is not a number of MiB in [1, 4096].
    """
    raw = os.environ.get(LOG_CAP_ENV, "").strip()
    if not raw:
        return MAX_LOG_UPLOAD_BYTES
    try:
        mib = float(raw)
    except ValueError:
        mib = math.nan
    if not 1 <= mib <= 4096:  # NaN fails too
        raise ValueError(f"`{LOG_CAP_ENV}` must be a number of MiB in [1, 4096]; got {raw[:40]!r}.")
    return int(mib * 2**20)


def format_mb(n_bytes: int) -> str:
    """``n_bytes`` in MB as the uploaders' labels show it (1 MB = 2**20 bytes)."""
    mb = n_bytes / 2**20
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"


def uploader_mb(max_bytes: int) -> int:
    """The ``max_upload_size`` (whole MB) to give ``st.file_uploader`` for a cap of ``max_bytes``.

    Streamlit's drop zone prints its own cap ("5MB per file") beside the uploader's label;
    without a cap of its own it prints the server's ``server.maxUploadSize``, which said
    "400MB per file" under a label that said "up to 5 MB". Given this, the drop zone says
    the label's number, and the browser refuses a larger file as it is dropped: the file
    turns red in the box, the reason ("File must be 5.0MB or smaller.") on hover. The
    checks here still run on what the browser lets through (the browser's MB is
    10**6 bytes outside Windows, so it is the stricter of the two there; a fractional
    ``ADLAB_MAX_LOG_MB`` is rounded up here and refused in words by :func:`_check`).

    Parameters
    ----------
    max_bytes : int
        The app's own cap, in bytes (:data:`MAX_UPLOAD_BYTES`, :func:`max_log_upload_bytes`).

    Returns
    -------
    mb : int
        At least 1.

    Raises
    ------
    ValueError
        When ``max_bytes`` is not a positive whole number.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"`max_bytes` must be a positive int; got {max_bytes!r}.")
    return max(1, math.ceil(max_bytes / 2**20))


def _check(
    name: str, data: bytes, suffixes: tuple[str, ...], max_bytes: int = MAX_UPLOAD_BYTES
) -> str:
    if not isinstance(data, bytes | bytearray):
        raise UploadError(f"{name}: expected file contents as bytes.")
    if len(data) == 0:
        raise UploadError(f"{name}: the file is empty.")
    if len(data) > max_bytes:
        raise UploadError(
            f"{name}: the file is {len(data) / 2**20:.2f} MB; the limit is {format_mb(max_bytes)}."
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
            # The reader names its temporary copy; name the user's file instead, once (the
            # user's name may end with the copy's: "my_segments.csv" and "segments.csv").
            hole = "\0"
            message = str(exc).replace(str(path), hole).replace(path.name, hole)
            message = message.replace(hole, name)
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


def parse_catalogue_upload(
    name: str, data: bytes, *, templates: TemplateSet | None = None
) -> dict[str, tuple[Product, ...]]:
    """Parse an uploaded product catalogue CSV (``creative.catalogue.read_catalogue``).

    Parameters
    ----------
    name : str
        The user's file name.
    data : bytes
        The file contents.
    templates : TemplateSet, optional
        The copy templates in force (the user's upload); default: the bundled ones. A
        product name must fit some headline of these, as a command-line run with both
        files checks it.

    Raises
    ------
    UploadError
        With the reason: empty, too big, not CSV or UTF-8, a missing column, a bad row
        (named, with the valid categories), a name no headline of ``templates`` can hold,
        too many products.
    """
    suffix = _check(name, data, (".csv",))
    return _with_file(
        name, data, suffix, "catalogue", lambda p: read_catalogue(p, templates=templates)
    )


def refit_catalogue(
    upload: tuple[str, bytes, dict] | None, templates: TemplateSet | None
) -> tuple[str, bytes, dict] | None:
    """An accepted catalogue upload read again against new templates in force.

    Uploading templates or going back to the bundled ones changes how long a product name
    may be; the catalogue the user uploaded earlier must still fit, or the change is
    refused (and the page keeps what was in force).

    Parameters
    ----------
    upload : (file name, CSV bytes, parsed catalogue) or None
        The catalogue upload as the Creatives page keeps it; None when there is none.
    templates : TemplateSet or None
        The templates about to be in force (None: the bundled ones).

    Returns
    -------
    upload : (file name, CSV bytes, parsed catalogue) or None
        Parsed against ``templates``; None when ``upload`` is None.

    Raises
    ------
    UploadError
        Naming the catalogue and its first product that no longer fits.
    """
    if upload is None:
        return None
    name, data, _ = upload
    try:
        return name, data, parse_catalogue_upload(name, data, templates=templates)
    except UploadError as exc:
        raise UploadError(f"the uploaded catalogue {name} would not fit them: {exc}") from None


def segments_csv(audiences: list[Audience]) -> bytes:
    """Parsed segments written back as a segments CSV (what ``read_audiences`` reads).

    The app runs experiments on this file: the segments exactly as parsed.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(AUDIENCE_FIELDS), lineterminator="\n")
    writer.writeheader()
    for a in audiences:
        writer.writerow(
            {
                "audience_id": a.audience_id,
                "name": a.name,
                "kind": a.kind,
                "top_interests": ";".join(a.top_interests),
                "keywords": ";".join(a.keywords),
                "active_hours": a.active_hours or "",
                "mobile_share": repr(float(a.mobile_share)),
                "price_sensitivity": repr(float(a.price_sensitivity)),
                "language": a.language,
                "size": a.size,
            }
        )
    return out.getvalue().encode("utf-8")


def write_input(folder: str | Path, name: str, data: bytes) -> str:
    """Write an upload the experiment will read into ``folder``; return its path.

    The path is ``folder/<sha256 of data>/<name, made safe>``: the same content is one
    file, and the run records the user's file name (its unsafe characters replaced;
    the name never chooses the folder).
    """
    digest = hashlib.sha256(bytes(data)).hexdigest()
    stem, suffix = os.path.splitext(PurePath(str(name)).name)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:80] or "upload"
    path = Path(folder) / digest / f"{safe}{suffix.lower()}"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
    return str(path)


def parse_log_upload(name: str, data: bytes, *, max_bytes: int | None = None):
    """Parse an uploaded bandit log.

    An adlab Parquet log, a CSV or Parquet file with ``action``, ``reward`` and
    ``propensity`` columns, or an Open Bandit Dataset CSV.

    Parameters
    ----------
    name : str
        The user's file name.
    data : bytes
        The file contents.
    max_bytes : int, optional
        Size cap; default :func:`max_log_upload_bytes`.

    Returns
    -------
    log : simulation.ope.logs.LoggedFeedback

    Raises
    ------
    UploadError
        Naming the bad column and row where the reader does.
    """
    from simulation.ope.evaluate import load_any_log

    cap = max_log_upload_bytes() if max_bytes is None else max_bytes
    suffix = _check(name, data, (".csv", ".parquet"), cap)
    return _with_file(name, data, suffix, "log", lambda p: load_any_log(p, "auto"))
