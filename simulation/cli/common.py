"""Shared pieces of the command line: the usage error and argument checkers."""

from __future__ import annotations

import argparse

__all__ = ["ArgumentParser", "UsageError", "positive_int"]


class UsageError(Exception):
    """Bad input at the command-line boundary: printed as ``error: ...``, exit code 2."""


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        raise UsageError(message)


def positive_int(text: str) -> int:
    """Parse a strictly positive integer argument (``1_000`` and ``1e6`` allowed)."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return int(value)
