"""Read segment profiles (``Audience`` records) from CSV or TOML files.

CSV: one row per audience with a header; list columns (``top_interests``,
``keywords``) separate items with ``;`` or ``|``; blank optional cells take
the defaults; a UTF-8 byte-order mark (as spreadsheet programs write) is
skipped. TOML: an array of tables ``[[audience]]`` with the same keys.
Every value is bounded by :data:`creative.limits.LIMITS`; every failure is a
one-line ``ValueError`` that names the file and the audience.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from creative.audience import Audience
from creative.limits import (
    LIMITS,
    RESERVED_IDS,
    check_count,
    check_csv_row,
    check_length,
    finite_number,
    read_text,
    read_toml,
    short_repr,
)

__all__ = ["AUDIENCE_FIELDS", "audience_from_mapping", "read_audiences"]

#: Accepted keys; ``audience_id`` and ``top_interests`` are required for segments.
AUDIENCE_FIELDS: tuple[str, ...] = (
    "audience_id",
    "name",
    "kind",
    "top_interests",
    "keywords",
    "active_hours",
    "mobile_share",
    "price_sensitivity",
    "language",
    "size",
)


def _as_text(value: object, key: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"`{key}` must be a str; got {short_repr(value)}.")
    return check_length(key, str(value).strip(), limit)


def _as_list(value: object, key: str, limit: int, item_limit: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.replace("|", ";").split(";")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise ValueError(f"`{key}` must be a list of strings; got {short_repr(value)}.")
    out = tuple(v.strip() for v in items if v.strip())
    check_count(key, len(out), limit)
    for item in out:
        check_length(key[:-1] if key.endswith("s") else key, item, item_limit)
    return out


def _as_number(value: object, key: str, kind: type) -> float | int:
    number = finite_number(value, key)
    if kind is int:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError(f"`{key}` must be an int; got {short_repr(value)}.")
        number = int(number)
        if not 1 <= number <= LIMITS.size:
            raise ValueError(
                f"`{key}` must be an int in [1, {LIMITS.size:,}]; got {short_repr(value)}."
            )
        return number
    try:
        return float(number)
    except OverflowError:  # a TOML integer such as 10**400 has no float
        raise ValueError(f"`{key}` must be a finite number; got {short_repr(value)}.") from None


def _check_id(audience_id: str) -> str:
    check_length("audience_id", audience_id, LIMITS.audience_id)
    if audience_id.casefold() in RESERVED_IDS:
        raise ValueError(
            f"`audience_id` must not be one of {sorted(RESERVED_IDS)} (reserved for the "
            f"control creatives and folder names); got {audience_id!r}."
        )
    if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in audience_id):
        raise ValueError(
            f"`audience_id` must not contain control, format or line-break characters; "
            f"got {short_repr(audience_id)}."
        )
    return audience_id


def audience_from_mapping(row: Mapping[str, object]) -> Audience:
    """Build an ``Audience`` from a dict of strings or TOML values.

    Parameters
    ----------
    row : mapping of str to object
        Keys from :data:`AUDIENCE_FIELDS`; blank strings mean "use the default".

    Returns
    -------
    audience : Audience

    Raises
    ------
    ValueError
        On unknown keys, missing ids, or values the record rejects.
    """
    data = {k: v for k, v in row.items() if not (isinstance(v, str) and not v.strip())}
    unknown = sorted(map(str, set(data) - set(AUDIENCE_FIELDS)))
    if unknown:
        shown = ", ".join(short_repr(k) for k in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise ValueError(f"unknown field(s) [{shown}]; expected {list(AUDIENCE_FIELDS)}.")
    if "audience_id" not in data:
        raise ValueError("`audience_id` is required.")
    audience_id = _check_id(_as_text(data["audience_id"], "audience_id", LIMITS.audience_id))
    kwargs: dict[str, object] = {
        "audience_id": audience_id,
        "name": _as_text(data.get("name", audience_id), "name", LIMITS.name),
        # Closed vocabularies: the record rejects anything else; the cap keeps messages short.
        "kind": _as_text(data.get("kind", "segment"), "kind", LIMITS.name),
        "top_interests": _as_list(
            data.get("top_interests"), "top_interests", LIMITS.top_interests, LIMITS.name
        ),
        "keywords": _as_list(data.get("keywords"), "keywords", LIMITS.keywords, LIMITS.keyword),
        "language": _as_text(data.get("language", "en"), "language", LIMITS.name),
    }
    if "active_hours" in data:
        kwargs["active_hours"] = _as_text(data["active_hours"], "active_hours", LIMITS.name)
    for key in ("mobile_share", "price_sensitivity"):
        if key in data:
            kwargs[key] = _as_number(data[key], key, float)
    if "size" in data:
        kwargs["size"] = _as_number(data["size"], "size", int)
    return Audience(**kwargs)


def read_audiences(path: str | Path) -> list[Audience]:
    """Read audiences from a ``.csv`` or ``.toml`` file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    audiences : list of Audience
        In file order; ids are unique.

    Raises
    ------
    ValueError
        On a missing or unreadable file, malformed CSV/TOML, a bad row (the
        message names the file and the row; a short CSV row is named as such) or
        duplicate ids.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".toml"):
        raise ValueError(f"audiences file must end in .csv or .toml; got {path.name!r}.")
    if suffix == ".toml":
        rows = read_toml(path, "audiences").get("audience")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError(f"{path}: expected an array of tables [[audience]].")
    else:
        rows = []
        try:
            for row in csv.DictReader(io.StringIO(read_text(path, "audiences"), newline="")):
                rows.append(row)
                if len(rows) > LIMITS.audiences:
                    break
        except csv.Error as exc:
            raise ValueError(f"cannot read audiences file {path}: {exc}") from None
    if len(rows) > LIMITS.audiences:
        raise ValueError(f"{path}: more than {LIMITS.audiences:,} audiences in one file.")
    if not rows:
        raise ValueError(f"{path}: no audiences found.")
    audiences, seen = [], set()
    for i, row in enumerate(rows, start=1):
        try:
            # Before the fields: a short row is named as short, not by the first field it lacks.
            check_csv_row(row)
            audience = audience_from_mapping(row)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}, audience {i}: {exc}") from None
        if audience.audience_id in seen:
            raise ValueError(
                f"{path}, audience {i}: duplicate audience_id {audience.audience_id!r}."
            )
        seen.add(audience.audience_id)
        audiences.append(audience)
    return audiences
