"""What the studio's command line needs to stop or refuse cleanly.

``kill`` (SIGTERM) takes Ctrl-C's way out (:func:`sigterm_stops`), and the folders a command
creates for its output are removed again when it ends without an output
(:func:`make_folders`, :func:`remove_folders`), so a refused or stopped command leaves the
file system as it found it. A refusal is one line of plain text (:func:`plain_text`).

``simulation``'s command line uses the same ones (``simulation.cli.common`` and
``simulation.store.fs`` import them from here): one copy, in the lowest layer, which every
command can reach.

Every path option of both command lines is declared with :class:`PathOption`, which refuses
an empty value at the boundary: ``Path("")`` is ``Path(".")``, so ``--out ""`` would
otherwise write into the working folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = [
    "PathOption",
    "Terminated",
    "make_folders",
    "plain_text",
    "remove_folders",
    "sigterm_stops",
]


#: A name the library's messages wrap in markdown backticks (sklearn's "`epsilon` must be").
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def plain_text(message: str) -> str:
    """A library message as one line of plain text for the terminal.

    The library's errors are written for a reader of rendered markdown ("`epsilon` must
    be a float in [0, 1]"); on a terminal the backticks are noise, so a wrapped name is
    shown bare, and line breaks become spaces (a usage error is one line).

    Examples
    --------
    >>> plain_text("`epsilon` must be a float in [0.0, 1.0]; got 2.")
    'epsilon must be a float in [0.0, 1.0]; got 2.'
    """
    return " ".join(_CODE_SPAN.sub(r"\1", message).split())


class PathOption(argparse.Action):
    """An argparse action for a path option that refuses an empty (or blank) value.

    ``type=Path`` cannot refuse it: ``Path("")`` is already the working folder by the time
    any check sees it. The action sees the text as typed and raises an
    :class:`argparse.ArgumentError` without an argument name, so the parser's ``error``
    hook prints the message as written: ``--out must be a folder; got an empty string``.

    Parameters
    ----------
    kind : str, keyword-only
        What the option names, with its article ("a folder", "a file").
    convert : callable, default=Path, keyword-only
        Applied to the accepted text (``str`` where the handler wants the text as typed,
        e.g. to see a trailing slash). A default is stored as given, never converted.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(exit_on_error=False)
    >>> _ = parser.add_argument("--out", action=PathOption, kind="a folder")
    >>> parser.parse_args(["--out", "sweeps/a"]).out
    PosixPath('sweeps/a')
    """

    def __init__(
        self,
        option_strings: list[str],
        dest: str,
        *,
        kind: str,
        convert: Callable[[str], object] = Path,
        **kwargs,
    ) -> None:
        if kwargs.get("nargs") is not None or kwargs.get("type") is not None:
            raise ValueError("PathOption takes one value as text; use convert, not type")
        super().__init__(option_strings, dest, **kwargs)
        self.kind = kind
        self.convert = convert

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: D102
        if not str(values).strip():
            flag = option_string or self.dest
            raise argparse.ArgumentError(None, f"{flag} must be {self.kind}; got an empty string")
        setattr(namespace, self.dest, self.convert(values))


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so the same clean-up runs (exit code 143)."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """Handle SIGTERM like Ctrl-C while the block runs.

    Without it ``kill`` ends the process where it stands: no ``interrupted:`` line and the
    half-written work folder left beside the output. Signal handlers can only be set from
    the main thread; elsewhere (a command run from a test's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents, as ``mkdir -p``; return those it created.

    A folder that already exists, or that another process creates meanwhile, is not
    counted, so :func:`remove_folders` never removes a folder this call did not make.

    Parameters
    ----------
    folder : Path
        The folder to create.

    Returns
    -------
    made : list of Path
        The folders this call created, innermost first (the order to remove them in).

    Raises
    ------
    OSError
        A folder could not be created (a file in the way, no permission, a name too long);
        the folders made before it are removed first.
    """
    missing = []
    for path in (folder, *folder.parents):
        if os.path.lexists(path):
            break
        missing.append(path)
    made: list[Path] = []
    try:
        for path in reversed(missing):  # outermost first
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir():
                    raise
                continue  # made by someone else since we looked: theirs, not ours
            made.insert(0, path)
    except BaseException:
        remove_folders(made)
        raise
    return made


def remove_folders(made: Iterable[Path]) -> None:
    """Remove folders :func:`make_folders` created, innermost first, each only while empty.

    A folder that holds anything (a file someone put there meanwhile) is kept, and so
    are the folders around it.

    Parameters
    ----------
    made : iterable of Path
        :func:`make_folders`' result.
    """
    for path in made:
        try:
            path.rmdir()
        except FileNotFoundError:
            continue  # already gone: its parent may still be ours to remove
        except OSError:
            break
