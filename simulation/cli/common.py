"""Shared pieces of the command line: the usage error, argument checkers and stops."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

# One copy of the SIGTERM handling, the path options and the messages' plain text, shared
# with the studio's command line.
from creative.cli_safety import PathOption, Terminated, plain_text, sigterm_stops

__all__ = [
    "MAX_NAME",
    "ArgumentParser",
    "PathOption",
    "Terminated",
    "UsageError",
    "check_name",
    "check_outside_store",
    "open_store",
    "plain_text",
    "positive_int",
    "remove_earlier_outputs",
    "sigterm_stops",
    "warn_banned_names",
    "world_config",
]


class UsageError(Exception):
    """Bad input at the command-line boundary: printed as ``error: ...``, exit code 2."""


#: Longest ``--name`` of ``run`` and ``sweep`` (characters): every row of ``runs list``
#: (and of ``runs list --sweeps``) shows it.
MAX_NAME = 80


def check_name(name: str | None) -> None:
    """Refuse a ``--name`` longer than :data:`MAX_NAME`, before any work.

    Control characters are not refused: the store removes them when it keeps the name
    (:func:`simulation.store.integrity.clean_name`), from the command, the app and the
    Python API alike.

    Raises
    ------
    UsageError
        ``--name must be at most 80 characters; got 81``.
    """
    if name is not None and len(name) > MAX_NAME:
        raise UsageError(f"--name must be at most {MAX_NAME} characters; got {len(name):,}")


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of exiting.

    Descriptions come from the modules' docstrings: their reStructuredText literals
    (````python -m simulation run````) are printed as plain text in ``--help``.
    """

    def __init__(self, *args, **kwargs) -> None:
        if isinstance(kwargs.get("description"), str):
            kwargs["description"] = kwargs["description"].replace("``", "")
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        raise UsageError(message)


def warn_banned_names(catalogue) -> None:
    """Print one ``warning:`` line on stderr when a catalogue's product name holds a banned phrase.

    Not an error: the name is the brand's own and its ads pass the guardrails
    (:func:`creative.guardrails.banned_names_warning` says why); the app's Creatives page
    gives the same news on an upload.

    Parameters
    ----------
    catalogue : dict of str to tuple of Product, or None
        The user's catalogue (None: the bundled one, which holds no such name).
    """
    if catalogue is None:
        return
    from creative.guardrails import banned_names_warning

    warning = banned_names_warning(p for products in catalogue.values() for p in products)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)


def check_outside_store(out: Path, store_root: Path, flag: str = "--out") -> None:
    """Refuse an output folder inside (or equal to) the run store.

    Writing there would replace a saved run's files (``runs check`` then finds it damaged)
    or leave loose files among the runs.

    Parameters
    ----------
    out : Path
        The output folder, already resolved (symbolic links followed).
    store_root : Path
        The run store's root, resolved the same way.

    Raises
    ------
    UsageError
        ``out`` is ``store_root`` or below it.
    """
    if out == store_root or store_root in out.parents:
        raise UsageError(f"{flag} must be outside the run store {store_root}; got {out}")


def remove_earlier_outputs(out: Path, known: Iterable[str], written: Iterable[str]) -> None:
    """Remove the files a command's earlier run left in ``out`` that this one did not write.

    Otherwise a folder would describe this run beside, say, an earlier run's
    ``logs.parquet``. Only the command's own file names (``known``) are touched, never
    anything else the folder holds.

    Parameters
    ----------
    out : Path
        The output folder, after this run's files were moved in.
    known : iterable of str
        Every file name the command can write.
    written : iterable of str
        The names this run wrote.
    """
    for name in sorted(set(known) - set(written)):
        path = out / name
        if path.is_file() or path.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def positive_int(text: str) -> int:
    """Parse a strictly positive integer argument (``1_000`` and ``1e6`` allowed)."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return int(value)


def add_world_options(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--preset`` and ``--seed``: the options :func:`world_config` reads."""
    from simulation.config import PRESETS

    parser.add_argument(
        "--config",
        action=PathOption,
        kind="a file",
        help="TOML file of experiment settings and [world]",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="named starting point (default)")
    parser.add_argument("--seed", type=int, help="the world's seed")


def world_config(args: argparse.Namespace, *, with_generated: bool = False):
    """The config of ``--preset``, ``--config`` and ``--seed`` (the world commands' options).

    With ``with_generated`` the generated level is added to its levels when missing. A bad
    file or value (a policy spec with a bad setting among them) is a :class:`UsageError`
    in plain text (:func:`plain_text`).
    """
    from simulation.config import PRESETS, load_config

    base = PRESETS[args.preset or "default"]
    try:
        config = load_config(args.config, base=base) if args.config else base
        if with_generated and "generated" not in config.levels:
            config = config.replace(levels=(*config.levels, "generated"))
        return config if args.seed is None else config.replace(seed=args.seed)
    except (ValueError, TypeError) as exc:
        raise UsageError(plain_text(str(exc))) from None


def open_store(text: str | Path | None):
    """The run store at ``text`` (None: the default), opened before any work starts.

    Raises
    ------
    UsageError
        An empty path, or a store that cannot be opened (a file, no permission), in one line.
    """
    from simulation.store.run_store import RunStore

    if text is not None and not str(text).strip():
        raise UsageError("--store must be a folder; got an empty string")
    try:
        return RunStore.open(text)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot open the run store: {exc}") from None
