"""adlab's offline command line: ``python -m simulation COMMAND ...``.

Each command lives in its own module that exposes ``register(subparsers)``; the
module sets ``handler`` (a function ``args -> int``) as the parser default.
Every bad input ends as one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys

from simulation.cli.common import ArgumentParser, UsageError

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
    """Run the command line; return the process exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
