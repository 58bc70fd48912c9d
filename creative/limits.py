"""Bounds on every creative input, in one table, and the checks that apply them.

Files, uploads and command-line flags are read into frozen records at the
boundary; these limits keep each record small enough that generating,
fitting and rendering it takes bounded time and memory, whatever the input.
``docs/security.md`` lists them for users.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "LIMITS",
    "MIN_BRAND_CTA_PX",
    "MIN_TEXT_PX",
    "RESERVED_IDS",
    "InputLimits",
    "check_count",
    "check_csv_row",
    "check_length",
    "finite_number",
    "read_bounded",
    "read_text",
    "read_toml",
    "short_repr",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InputLimits:
    """The largest input each reader accepts.

    Attributes
    ----------
    file_bytes : int
        Size of an audiences or templates file.
    audiences : int
        Audiences (rows or ``[[audience]]`` tables) in one file.
    audience_id : int
        Characters of an audience id (it also names an output folder).
    name : int
        Characters of an audience's readable name.
    keyword : int
        Characters of one search keyword (it fills the ``{keyword}`` slot).
    keywords : int
        Keywords per audience.
    top_interests : int
        Interests per audience.
    size : int
        Users an audience stands for.
    template : int
        Characters of one template line.
    template_slots : int
        Slots one template line may use (each repeats a value of up to ``keyword`` characters).
    templates_per_list : int
        Templates in one ``language.tone.part`` list.
    per_segment : int
        ``--per-segment``: variants per audience.
    images : int
        Images one command-line run renders, ``(audiences + 1) * per_segment``.
    seed : int
        Largest ``--seed``.
    fit_chars : int
        Characters text fitting looks at; anything longer is cut first (and shows as "…").
    """

    file_bytes: int = 5 * 1024 * 1024
    audiences: int = 1_000
    audience_id: int = 64
    name: int = 120
    keyword: int = 100
    keywords: int = 50
    top_interests: int = 20
    size: int = 1_000_000_000
    template: int = 300
    template_slots: int = 5
    templates_per_list: int = 100
    per_segment: int = 500
    images: int = 20_000
    seed: int = 2**32 - 1
    fit_chars: int = 4_096

    def as_dict(self) -> dict[str, int]:
        """Name -> limit, in the order above."""
        return asdict(self)


#: The limits every creative reader applies.
LIMITS = InputLimits()

#: Smallest font pixel size of every text an ad prints: the headline, the body, the
#: "AI-generated" label (the disclosure), the price badge, the brand name and the call to
#: action. One floor for all, at the rendered size: a size that cannot show one of them
#: whole at it is refused (``creative.render.plan_creative`` names one that can), the body
#: alone may instead end at a whole sentence or be left out. 10 px is the smallest size of
#: the common interface type scales (Material's overline, 10 sp; Apple asks 11 pt of
#: running text): the bundled font's capitals are 8 px tall and its lower-case letters 5 to
#: 6 px. At 7 to 8 px (the badge's and the brand's old last resort) capitals are 6 px, a
#: smudge on a phone at 1x; until 2026-12-05 the copy, the label and the price kept a 9 px
#: floor and the badge's offer 8 px while the brand and the call to action had 10, so an ad
#: could print its "AI-generated" label or its price smaller than its brand.
MIN_TEXT_PX: int = 10

#: The brand name's and the call to action's floor: the same as every text's
#: (:data:`MIN_TEXT_PX`), kept as a name for callers that import it.
MIN_BRAND_CTA_PX: int = MIN_TEXT_PX

#: Audience ids a file may not use: the control creatives' folder and manifest name, and
#: the directory names ``.`` and ``..`` (compared case-insensitively, as some file systems do).
RESERVED_IDS: frozenset[str] = frozenset({"generic", ".", ".."})


def short_repr(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to about ``limit`` characters so an error stays one short line.

    Parameters
    ----------
    value : object
    limit : int, default 40

    Returns
    -------
    text : str
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def check_length(name: str, text: str, limit: int) -> str:
    """Return ``text`` when it has at most ``limit`` characters.

    Parameters
    ----------
    name : str
        Field name for the message.
    text : str
    limit : int

    Returns
    -------
    text : str

    Raises
    ------
    ValueError
        "`keyword` must be at most 100 characters; got 100000."
    """
    if len(text) > limit:
        raise ValueError(f"`{name}` must be at most {limit} characters; got {len(text)}.")
    return text


def check_count(name: str, n: int, limit: int, what: str = "items") -> None:
    """Raise unless ``n <= limit``.

    Parameters
    ----------
    name : str
    n, limit : int
    what : str, default "items"
        Unit for the message.

    Raises
    ------
    ValueError
        "`keywords` must have at most 50 items; got 51."
    """
    if n > limit:
        raise ValueError(f"`{name}` must have at most {limit} {what}; got {n}.")


def check_csv_row(row: Mapping[object, object]) -> None:
    """Raise unless a ``csv.DictReader`` row has one cell for each header column.

    The readers of audiences and catalogues share it, so a short row reads the same in
    both. A column the header leaves out is no part of the row: a row as long as its header
    is never short, whichever optional columns that header omits.

    Parameters
    ----------
    row : mapping
        Header column -> cell, as ``csv.DictReader`` yields it: surplus cells under the key
        None, None for each column a short row has no cell for (a TOML table has neither).

    Raises
    ------
    ValueError
        "more cells than header columns." or "the row is short: 6 of 8 cells, none for
        price_sensitivity, language." (the caller adds the file and the row).
    """
    if None in row:
        raise ValueError("more cells than header columns.")
    absent = [str(k) for k, v in row.items() if v is None]
    if absent:
        raise ValueError(
            f"the row is short: {len(row) - len(absent)} of {len(row)} cells, none for "
            f"{', '.join(absent)}."
        )


def finite_number(value: object, name: str) -> float | int:
    """Parse a finite number from a TOML value or a CSV cell.

    Parameters
    ----------
    value : object
        An int, a float or a string such as ``"0.5"``; not a bool.
    name : str
        Field name for the message.

    Returns
    -------
    number : int or float
        Ints stay ints (TOML integers of any size), the rest become floats.

    Raises
    ------
    ValueError
        On anything else, and on ``inf``, ``nan`` or ``1e400`` (which overflows to inf).
    """
    if isinstance(value, bool):
        raise ValueError(f"`{name}` must be a number; got {short_repr(value)}.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"`{name}` must be a number; got {short_repr(value)}.") from None
    if not math.isfinite(number):
        raise ValueError(f"`{name}` must be a finite number; got {short_repr(value)}.")
    return number


def read_bounded(path: str | Path, what: str) -> bytes:
    """Read at most ``LIMITS.file_bytes`` bytes of a regular file, refusing anything else.

    The one check of every input file the command lines and the app read (the creative
    readers through :func:`read_text`, ``simulation.inputs`` for ``run``'s files): a
    folder, a device (``/dev/zero``) or a named pipe is refused by name, since a bounded
    read cannot take it whole and opening a pipe waits for a writer, for ever. The file is
    opened without waiting (``O_NONBLOCK``) and judged by what was opened (``fstat``), so
    a pipe swapped in after a check cannot hang the read either.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file holds, for messages (``"audiences"``, ``"catalogue"``).

    Returns
    -------
    data : bytes

    Raises
    ------
    ValueError
        "{what} file not found: PATH", "{what} file PATH is not a regular file", "cannot
        read {what} file PATH: ..." or "{what} file PATH is larger than N bytes; ...".

    Examples
    --------
    >>> read_bounded("/dev/null", "catalogue")
    Traceback (most recent call last):
    ...
    ValueError: catalogue file /dev/null is not a regular file
    """
    # O_NONBLOCK makes opening a pipe return at once; on a regular file it changes nothing.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ValueError(f"{what} file not found: {path}") from None
    except IsADirectoryError:  # where a folder cannot be opened at all (Windows)
        raise ValueError(f"{what} file {path} is not a regular file") from None
    except OSError as exc:  # a name longer than the file system takes (ENAMETOOLONG), ...
        name = str(path)
        short = name if len(name) <= 80 else f"{name[:79]}…"
        raise ValueError(f"cannot read {what} file {short}: {exc.strerror or exc}.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{what} file {path} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(LIMITS.file_bytes + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {what} file {path}: {exc.strerror or exc}.") from None
    finally:
        os.close(fd)
    if len(data) > LIMITS.file_bytes:
        raise ValueError(
            f"{what} file {path} is larger than {LIMITS.file_bytes:,} bytes; split it or trim it."
        )
    return data


def read_text(path: Path, what: str) -> str:
    """Read a bounded UTF-8 text file (:func:`read_bounded`), skipping a byte-order mark.

    Parameters
    ----------
    path : Path
    what : str
        What the file holds, for messages (``"audiences"``, ``"templates"``).

    Returns
    -------
    text : str

    Raises
    ------
    ValueError
        As :func:`read_bounded` (missing, not a regular file, unreadable, larger than
        ``LIMITS.file_bytes``), and when the file is not UTF-8.
    """
    data = read_bounded(path, what)
    try:
        # utf-8-sig: spreadsheet programs and some editors start the file with a BOM.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"cannot read {what} file {path}: not UTF-8 text ({exc.reason})."
        ) from None


def read_toml(path: Path, what: str) -> dict:
    """Read a bounded TOML file (see :func:`read_text`) into plain data.

    Parameters
    ----------
    path : Path
    what : str
        What the file holds, for messages.

    Returns
    -------
    data : dict

    Raises
    ------
    ValueError
        As :func:`read_text`, and "malformed TOML in PATH: ..." on a syntax error, an
        integer of more than 4,300 digits or nesting deeper than Python's recursion limit.
    """
    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ValueError(f"malformed TOML in {path}: values are nested too deeply.") from None
    except ValueError as exc:  # TOMLDecodeError, and int() refusing a huge literal
        raise ValueError(f"malformed TOML in {path}: {' '.join(str(exc).split())}") from None
