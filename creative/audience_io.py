"""Read segment profiles (``Audience`` records) from CSV or TOML files.

CSV: one row per audience with a header; list columns (``top_interests``,
``keywords``) separate items with ``;`` or ``|``; blank optional cells take
the defaults. TOML: an array of tables ``[[audience]]`` with the same keys.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from pathlib import Path

from creative.audience import Audience

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


def _as_list(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.replace("|", ";").split(";") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise ValueError(f"`{key}` must be a list of strings; got {value!r}.")


def _as_number(value: object, key: str, kind: type) -> float | int:
    if isinstance(value, bool):
        raise ValueError(f"`{key}` must be a number; got {value!r}.")
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"`{key}` must be a number; got {value!r}.") from None
    if kind is int:
        if float(number) != int(float(number)):
            raise ValueError(f"`{key}` must be an int; got {value!r}.")
        return int(float(number))
    return float(number)


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
    unknown = sorted(set(data) - set(AUDIENCE_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; expected {list(AUDIENCE_FIELDS)}.")
    if "audience_id" not in data:
        raise ValueError("`audience_id` is required.")
    audience_id = str(data["audience_id"]).strip()
    kwargs: dict[str, object] = {
        "audience_id": audience_id,
        "name": str(data.get("name", audience_id)).strip(),
        "kind": str(data.get("kind", "segment")).strip(),
        "top_interests": _as_list(data.get("top_interests"), "top_interests"),
        "keywords": _as_list(data.get("keywords"), "keywords"),
        "language": str(data.get("language", "en")).strip(),
    }
    if "active_hours" in data:
        kwargs["active_hours"] = str(data["active_hours"]).strip()
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
        message names the file and the row) or duplicate ids.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".toml"):
        raise ValueError(f"audiences file must end in .csv or .toml; got {path.name!r}.")
    try:
        if suffix == ".toml":
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            rows = data.get("audience")
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError(f"{path}: expected an array of tables [[audience]].")
        else:
            with path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise ValueError(f"audiences file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"malformed TOML in {path}: {exc}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"cannot read audiences file {path}: {exc}") from None
    if not rows:
        raise ValueError(f"{path}: no audiences found.")
    audiences, seen = [], set()
    for i, row in enumerate(rows, start=1):
        if None in row:  # csv puts surplus cells under the key None
            raise ValueError(f"{path}, audience {i}: more cells than header columns.")
        try:
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
