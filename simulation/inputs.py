"""The user's own input files of an experiment: segments, product catalogue, copy templates.

:class:`~simulation.config.ExperimentConfig` names them (``segments_file``,
``catalogue_file``, ``templates_file``); this module reads them with the creative
studio's bounded readers, records what was read (path and content sha256) and
checks them at the boundary (:func:`resolve_inputs`), so a bad file is one clear
``ValueError`` before anything runs. Each file is read once per call: its bytes
are hashed and parsed from the same read.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from creative.audience import Audience
from creative.audience_io import read_audiences
from creative.catalogue import Product, read_catalogue
from creative.limits import read_bounded
from creative.templates import TemplateSet, load_templates
from simulation.config import INPUT_FIELDS, ExperimentConfig

__all__ = [
    "MAX_FILE_SEGMENTS",
    "Inputs",
    "InputsRejected",
    "file_sha256",
    "read_inputs",
    "resolve_inputs",
]

#: Most segments a segments file may hold in an experiment (the config's ``n_segments`` cap).
MAX_FILE_SEGMENTS = 50


class InputsRejected(ValueError):
    """The inputs cannot make the experiment's ads: too few pass the guardrails.

    Bad input, not a failure of the program: the command line prints it as one
    ``error:`` line (exit code 2) and the app as one sentence. The message names the
    inputs that gave the copy (the user's catalogue and templates files, when any).
    """


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Inputs:
    """What a config's input files hold (None where the config names no file).

    Attributes
    ----------
    segments : tuple of Audience or None
    catalogue : dict of str to tuple of Product, or None
        Category -> products, the shape of ``creative.catalogue.CATALOGUE``.
    templates : TemplateSet or None
    files : dict of str to dict
        Kind (``"segments"``, ``"catalogue"``, ``"templates"``) -> ``{"path", "sha256"}``
        of each file read, in that order; what a run records.
    """

    segments: tuple[Audience, ...] | None = None
    catalogue: dict[str, tuple[Product, ...]] | None = None
    templates: TemplateSet | None = None
    files: dict[str, dict[str, str]]

    @property
    def max_price(self) -> float | None:
        """Highest price of the catalogue (USD), None without one."""
        if self.catalogue is None:
            return None
        return max(p.price for products in self.catalogue.values() for p in products)


def file_sha256(path: str | Path, what: str = "input") -> str:
    """Hex sha256 of an input file's content, as a run records it (:attr:`Inputs.files`).

    One bounded read, the same as the files a run reads (``creative.limits.read_bounded``):
    a folder, a device or a named pipe is refused by name and a file over the input limit
    by its size, so checking a file against a run's record cannot hang on a pipe or read
    ``/dev/zero`` for ever.

    Parameters
    ----------
    path : str or Path
        The file (``~`` expanded, as the run's own reads do).
    what : str, default="input"
        What the file holds, for messages (``"segments"``, ``"catalogue"``, ``"templates"``).

    Returns
    -------
    sha256 : str
        64 hex digits.

    Raises
    ------
    ValueError
        One line naming the file: not found, not a regular file, unreadable or too large.

    Examples
    --------
    >>> file_sha256("/dev/null")
    Traceback (most recent call last):
    ...
    ValueError: input file /dev/null is not a regular file
    """
    return hashlib.sha256(read_bounded(os.path.expanduser(path), what)).hexdigest()


def _snapshot(path: str, what: str) -> tuple[Path, str, Path]:
    """Copy ``path`` (bounded) into a private temporary folder; return (copy, sha256, folder).

    The copy is what gets parsed and hashed, so the recorded hash is that of the
    content read even if the file changes meanwhile.
    """
    # The studio's bounded read, as render's: a folder, a device or a pipe is refused by
    # name (a pipe would otherwise hold the read open for ever). A string, not a Path, so
    # the message names the file as the user wrote it ("./x.csv", not "x.csv").
    data = read_bounded(os.path.expanduser(path), what)
    source = Path(path)
    folder = Path(tempfile.mkdtemp(prefix="adlab-input-"))
    copy = folder / f"{what}{source.suffix.lower()}"
    copy.write_bytes(data)
    return copy, hashlib.sha256(data).hexdigest(), folder


def _read(path: str, what: str, reader):
    copy, sha, folder = _snapshot(path, what)
    try:
        return reader(copy), sha
    except (ValueError, TypeError) as exc:
        # The reader names its copy; the user knows the file by the path they gave.
        message = str(exc).replace(str(copy), path).replace(copy.name, path)
        raise ValueError(message if path in message else f"{path}: {message}") from None
    finally:
        copy.unlink(missing_ok=True)
        folder.rmdir()


def read_inputs(config: ExperimentConfig) -> Inputs:
    """Read the input files ``config`` names.

    Parameters
    ----------
    config : ExperimentConfig

    Returns
    -------
    inputs : Inputs

    Raises
    ------
    ValueError
        Naming the file and the bad row: a missing, unreadable or oversized file, a
        file its reader refuses (a catalogue is checked against the templates file's
        lines, when there is one), a segments file with a generic audience or more than
        :data:`MAX_FILE_SEGMENTS` segments.
    """
    parsed: dict[str, object] = {}
    files: dict[str, dict[str, str]] = {}
    readers = {
        "segments": read_audiences,
        # A product name must fit the copy it will be written into: the user's templates.
        "catalogue": lambda p: read_catalogue(p, templates=parsed.get("templates")),
        "templates": load_templates,
    }
    # Templates first: the catalogue is checked against them.
    order = sorted(INPUT_FIELDS.items(), key=lambda item: item[1] != "templates")
    for field, kind in order:
        path = getattr(config, field)
        if path is None:
            continue
        value, sha = _read(path, kind, readers[kind])
        if kind == "segments":
            value = tuple(value)
            if len(value) > MAX_FILE_SEGMENTS:
                raise ValueError(
                    f"{path}: {len(value)} segments; an experiment takes at most "
                    f"{MAX_FILE_SEGMENTS}."
                )
            generic = [a.audience_id for a in value if a.kind == "generic"]
            if generic:
                raise ValueError(
                    f"{path}: segment {generic[0]!r} has kind 'generic'; use 'segment'."
                )
        if kind == "templates":
            value = replace(value, source=str(path))
        parsed[kind] = value
        files[kind] = {"path": str(path), "sha256": sha}
    files = {kind: files[kind] for kind in INPUT_FIELDS.values() if kind in files}
    return Inputs(**parsed, files=files)


def resolve_inputs(config: ExperimentConfig) -> tuple[ExperimentConfig, Inputs]:
    """Check ``config``'s input files and fit the config to them (the boundary's call).

    With a segments file, ``n_segments`` becomes its number of segments.

    Returns
    -------
    config : ExperimentConfig
    inputs : Inputs

    Raises
    ------
    ValueError
        As :func:`read_inputs`, and when the audience is too small for the file's
        segments (at least 10 users per segment).
    """
    inputs = read_inputs(config)
    if inputs.segments is not None and len(inputs.segments) != config.n_segments:
        n = len(inputs.segments)
        if n > config.n_users // 10:
            raise ValueError(
                f"{config.segments_file}: {n} segments need at least {10 * n:,} users; "
                f"the audience has {config.n_users:,}."
            )
        config = config.replace(n_segments=n)
    return config, inputs
