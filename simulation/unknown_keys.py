"""The error for a key a settings table does not have: which one, what was meant, what exists.

A typo in a TOML file (``n_user`` for ``n_users``) is the commonest bad input there is;
the message names the closest known key so the fix is one edit.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

__all__ = ["did_you_mean", "unknown_keys_message"]


def did_you_mean(name: str, choices: Iterable[str], *, prefix: str = "") -> str:
    """``" (did you mean 'n_users'?)"`` for the choice closest to ``name``, else ``""``.

    Examples
    --------
    >>> did_you_mean("thomson", ["thompson", "ucb1"]), did_you_mean("zzz", ["thompson"])
    (" (did you mean 'thompson'?)", '')
    """
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {prefix + close[0]!r}?)" if close else ""


def unknown_keys_message(
    what: str,
    unknown: Iterable[str],
    known: Iterable[str],
    *,
    hints: Mapping[str, str] | None = None,
    prefix: str = "",
) -> str:
    """One line naming the unknown keys, the known key each most likely meant, and all known.

    Parameters
    ----------
    what : str
        What the keys belong to: ``"config"``, ``"world"``, ``"grid"``.
    unknown, known : iterable of str
    hints : mapping of str to str, optional
        A sentence for a key that is known elsewhere (``"grid"`` in a run's config).
    prefix : str, default ""
        Written before every key named (``"world."`` for a nested table's fields); the
        closest key is found without it.

    Returns
    -------
    message : str

    Examples
    --------
    >>> unknown_keys_message("config", ["n_user"], ["n_users", "seed"])
    "unknown config key 'n_user' (did you mean 'n_users'?); known keys are ['n_users', 'seed']."
    """
    unknown, known = sorted(map(str, unknown)), sorted(map(str, known))
    parts = []
    for key in unknown:
        if hints and key in hints:
            parts.append(f"{prefix + key!r} ({hints[key]})")
            continue
        parts.append(f"{prefix + key!r}{did_you_mean(key, known, prefix=prefix)}")
    noun = f"key{'s' * (len(unknown) != 1)}"
    named = [prefix + k for k in known]
    return f"unknown {what} {noun} {', '.join(parts)}; known keys are {named}."
