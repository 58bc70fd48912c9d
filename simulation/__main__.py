"""adlab's offline command line: ``python -m simulation COMMAND [options]``.

Each command lives in its own module that exposes ``register(subparsers)``; the
module sets ``handler`` (a function ``args -> int``) as the parser default.
Every bad input ends as one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import os
import sys

#: What an interrupted command (Ctrl-C, SIGTERM) leaves, unless its parser sets ``interrupted``:
#: every command writes its outputs only once complete (or not at all).
INTERRUPTED = "nothing partial was written or saved"

try:
    from simulation.cli.common import ArgumentParser, Terminated, UsageError, sigterm_stops
except KeyboardInterrupt:
    # Ctrl-C while the command line itself is still importing (a second on a busy machine):
    # nothing has run yet, so the same one line as a later stop, not a traceback.
    print(f"interrupted: {INTERRUPTED}", file=sys.stderr)
    sys.exit(130)

#: Modules that each add one sub-command.
COMMAND_MODULES: tuple[str, ...] = (
    "simulation.cli.run",
    "simulation.cli.runs",
    "simulation.cli.ope",
    "simulation.cli.world",
    "simulation.cli.sweep",
    "simulation.cli.compose",
)


def build_parser() -> ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = ArgumentParser(prog="python -m simulation", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    0 on success, 2 on bad input (after one ``error: ...`` line on stderr), 130 when
    interrupted with Ctrl-C and 143 when stopped with ``kill`` (SIGTERM), after one
    ``interrupted: ...`` line saying what was kept.
    """
    args = None
    try:
        # SIGTERM takes Ctrl-C's way out, so every command (and the workers a run forks)
        # is cleaned up the same way.
        with sigterm_stops():
            args = build_parser().parse_args(argv)
            return int(args.handler(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # A user's stop, not a failure: one line, no traceback (the commands clean up
        # on the way out, so there is nothing half-written to mention).
        print(f"interrupted: {getattr(args, 'interrupted', INTERRUPTED)}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        # The reader went away (``... | head``): the outputs are written; stop printing
        # quietly, as the Python docs advise, so the interpreter's flush at exit is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
