"""A rule-based target policy: a small table of conditions, each naming a creative.

A marketer's targeting rule, written down, e.g.::

    when,creative
    segment == 2,4
    x_device == 1,3
    else,1

reads "segment 2 gets creative 4; otherwise people with ``x_device == 1`` get
creative 3; everyone else creative 1". Rules are tried top to bottom and the first
match wins; the ``else`` row (or ``default``) catches the rest. A condition is
``column operator number`` with an operator in :data:`OPERATORS`; the column is a
context column of the log (``x_*``, ``context_*``, an Open Bandit Dataset one-hot
column such as ``user_feature_0=<value>``) or ``segment``, which
:func:`append_segment` adds to the context from the log's segment column.

:class:`RulePolicy` follows the policy contract of :mod:`simulation.policies.base`
(deterministic: one-hot action probabilities), so
:func:`simulation.ope.evaluate.evaluate_policy` evaluates it like any registered
policy. Rules do not learn: :meth:`RulePolicy.update` checks its inputs and
changes nothing, so the training share of the log is simply not used.

Creatives (arms) are numbered from 0, like the log's ``action`` column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from simulation.policies.base import Policy, check_contexts

__all__ = [
    "DEFAULT_WORDS",
    "OPERATORS",
    "SEGMENT_COLUMN",
    "Rule",
    "RulePolicy",
    "append_segment",
    "parse_condition",
    "parse_rules_csv",
    "rules_from_rows",
]

#: Comparison operators a condition may use.
OPERATORS: dict[str, np.ufunc] = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
#: Name of the context column :func:`append_segment` adds.
SEGMENT_COLUMN = "segment"
#: Words in the condition column that mark the default row.
DEFAULT_WORDS = ("else", "default", "otherwise", "*")
#: Most rules in one table (each is a pass over the contexts).
MAX_RULES = 100

# column, then an operator made of <>=!, then a value without those characters.
# The column is matched lazily so one-hot names like ``user_feature_0=abc`` keep their '='.
_CONDITION = re.compile(r"^\s*(?P<column>.+?)\s*(?P<op>[<>=!]{1,2})\s*(?P<value>[^<>=!\s]+)\s*$")


def _short(text: object, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arm(value: object, where: str, n_arms: int | None = None) -> int:
    """A creative number: a whole number in ``[0, n_arms)``."""
    if isinstance(value, np.generic):
        value = value.item()  # messages quote 2.5, not np.float64(2.5)
    if isinstance(value, str):
        value = value.strip()
        try:
            value = float(value) if value else math.nan
        except ValueError:
            raise ValueError(
                f"{where}: the creative must be a whole number; got {_short(value)!r}."
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{where}: the creative must be a whole number; got {value!r}.")
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{where}: the creative must be a whole number; got {value!r}.")
    arm = int(value)
    if arm < 0 or (n_arms is not None and arm >= n_arms):
        top = "" if n_arms is None else f" (the log has {n_arms} creatives, 0 to {n_arms - 1})"
        raise ValueError(f"{where}: creative {arm} is out of range{top}.")
    return arm


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One row of a rule table: ``column op value`` → ``arm``.

    Parameters
    ----------
    column : str
        Context column the condition reads.
    op : str
        One of :data:`OPERATORS`.
    value : float
        Finite number the column is compared with.
    arm : int
        Creative shown when the condition holds, ``>= 0``.
    """

    column: str
    op: str
    value: float
    arm: int

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column.strip():
            raise ValueError(f"`column` must be a non-empty string; got {self.column!r}.")
        if self.op not in OPERATORS:
            raise ValueError(
                f"`op` must be one of {', '.join(OPERATORS)}; got {_short(self.op)!r}."
            )
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise TypeError(f"`value` must be a number; got {self.value!r}.")
        if not math.isfinite(self.value):
            raise ValueError(f"`value` must be finite; got {self.value!r}.")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "arm", _arm(self.arm, "`arm`"))

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value:g} → creative {self.arm}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RulePolicy(Policy):
    """A deterministic policy from a rule table; the first matching rule wins.

    Parameters
    ----------
    rules : tuple of Rule
        Tried in order; at most :data:`MAX_RULES`.
    default : int
        Creative for rows no rule matches.
    columns : tuple of str
        Names of the context columns, in the order of the ``contexts`` arrays
        (e.g. ``LoggedFeedback.feature_names``, after :func:`append_segment`).
    n_arms : int
        Number of creatives; every rule's creative and ``default`` are below it.

    Notes
    -----
    Rules do not learn: :meth:`reset` only checks that the log matches the
    table (its arm and column counts) and :meth:`update` changes nothing.
    Hashable, so a rule table can key a cache.

    Examples
    --------
    >>> import numpy as np
    >>> policy = rules_from_rows([("segment == 2", 4)], columns=("x_0", "segment"),
    ...                          n_arms=5, default=1)
    >>> policy.select(np.array([[0.3, 2.0], [0.3, 0.0]]), np.random.default_rng(0))
    array([4, 1])
    """

    name: ClassVar[str] = "rules"

    rules: tuple[Rule, ...]
    default: int
    columns: tuple[str, ...]
    n_arms: int

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        if not all(isinstance(rule, Rule) for rule in rules):
            raise TypeError("`rules` must be a sequence of Rule.")
        if len(rules) > MAX_RULES:
            raise ValueError(f"`rules` must hold at most {MAX_RULES} rules; got {len(rules)}.")
        columns = tuple(self.columns)
        if not all(isinstance(c, str) for c in columns) or len(set(columns)) != len(columns):
            raise ValueError("`columns` must be distinct strings.")
        n_arms = self.n_arms
        if isinstance(n_arms, bool) or not isinstance(n_arms, int | np.integer) or n_arms < 1:
            raise ValueError(f"`n_arms` must be an int >= 1; got {n_arms!r}.")
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "n_arms", int(n_arms))
        object.__setattr__(self, "default", _arm(self.default, "the default", int(n_arms)))
        for i, rule in enumerate(rules, start=1):
            if rule.column not in columns:
                raise ValueError(f"rule {i}: {_unknown_column(rule.column, columns)}")
            _arm(rule.arm, f"rule {i}", int(n_arms))

    # The contract's learned-state names, read-only here.
    @property
    def n_arms_(self) -> int:
        """Number of creatives (fixed by the table)."""
        return self.n_arms

    @property
    def n_features_(self) -> int:
        """Number of context columns (fixed by the table)."""
        return len(self.columns)

    def reset(self, n_arms: int, n_features: int = 0) -> RulePolicy:
        """Check that a log with ``n_arms`` creatives and ``n_features`` columns fits the table."""
        if n_arms != self.n_arms:
            raise ValueError(
                f"the rule table is for {self.n_arms} creatives; the log has {n_arms!r}."
            )
        if n_features != len(self.columns):
            raise ValueError(
                f"the rule table reads {len(self.columns)} context columns; "
                f"the log has {n_features!r}."
            )
        return self

    def _reset_state(self) -> None:
        """Nothing to learn."""

    def choose(self, contexts: np.ndarray) -> np.ndarray:
        """The creative of the first matching rule for every row.

        Parameters
        ----------
        contexts : ndarray of shape (n, n_features)

        Returns
        -------
        arms : ndarray of int64 of shape (n,)
        """
        x = check_contexts(contexts, len(self.columns))
        arms = np.full(x.shape[0], self.default, dtype=np.int64)
        # Apply the rules last to first: an earlier rule overwrites a later one,
        # so the first match wins.
        for rule in reversed(self.rules):
            hit = OPERATORS[rule.op](x[:, self.columns.index(rule.column)], rule.value)
            arms[hit] = rule.arm
        return arms

    def select(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Same as :meth:`choose` (``rng`` is unused: rules are deterministic)."""
        return self.choose(contexts)

    def action_probabilities(self, contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One-hot rows: probability 1 on the chosen creative, shape (n, n_arms)."""
        arms = self.choose(contexts)
        probs = np.zeros((arms.shape[0], self.n_arms))
        probs[np.arange(arms.shape[0]), arms] = 1.0
        return probs

    def update(self, contexts: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Check the batch's shapes and learn nothing (rules are fixed)."""
        x = check_contexts(contexts, len(self.columns))
        if np.shape(arms) != (x.shape[0],) or np.shape(rewards) != (x.shape[0],):
            raise ValueError(
                f"`arms` and `rewards` must have shape ({x.shape[0]},); "
                f"got {np.shape(arms)} and {np.shape(rewards)}."
            )

    def forget(self, arms: np.ndarray) -> None:
        """Nothing to forget."""

    def describe(self) -> list[str]:
        """The table in words, one line per rule, then the default."""
        return [str(rule) for rule in self.rules] + [f"everyone else → creative {self.default}"]


def _unknown_column(column: str, columns: Sequence[str]) -> str:
    shown = ", ".join(columns[:12]) + (", …" if len(columns) > 12 else "")
    return f"unknown column {_short(column)!r}; the log's columns are: {shown or '(none)'}."


def parse_condition(text: str) -> tuple[str, str, float]:
    """Split ``"column op number"`` into its parts.

    Parameters
    ----------
    text : str
        E.g. ``"segment == 2"``, ``"context_age >= 30"``.

    Returns
    -------
    column : str
    op : str
        One of :data:`OPERATORS`.
    value : float

    Raises
    ------
    ValueError
        For a malformed condition, an unknown operator or a value that is not a number.
    """
    if not isinstance(text, str):
        raise TypeError(f"a condition must be text; got {type(text).__name__}.")
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(
            f"the condition must look like 'column operator number' (e.g. 'segment == 2'); "
            f"got {_short(text)!r}."
        )
    column, op, raw = match.group("column", "op", "value")
    if op not in OPERATORS:
        raise ValueError(f"bad operator {op!r}; use one of {', '.join(OPERATORS)}.")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"the value must be a number; got {_short(raw)!r}.") from None
    if not math.isfinite(value):
        raise ValueError(f"the value must be a finite number; got {_short(raw)!r}.")
    return column, op, value


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def rules_from_rows(
    rows: Iterable[tuple[object, object]],
    *,
    columns: Sequence[str],
    n_arms: int,
    default: object = None,
    default_name: str = "`default`",
) -> RulePolicy:
    """Build a :class:`RulePolicy` from ``(condition, creative)`` rows.

    Parameters
    ----------
    rows : iterable of (str, int)
        Conditions as :func:`parse_condition` reads them, in priority order. A
        condition in :data:`DEFAULT_WORDS` sets the default; fully blank rows (an
        editable table's empty last row) are skipped.
    columns : sequence of str
        The log's context column names.
    n_arms : int
        The log's number of creatives.
    default : int, optional
        Creative for everyone else; then no row may be a default row.
    default_name : str, default="`default`"
        What messages call ``default``: where the person set it (the app's
        "Everyone else gets creative" box).

    Returns
    -------
    RulePolicy

    Raises
    ------
    ValueError
        Naming the row: a malformed condition, a bad operator, an unknown column,
        a creative out of range, two defaults (naming both) or none.
    """
    if default is not None:
        default = _arm(default, default_name, n_arms)
    rules: list[Rule] = []
    default_row: int | None = None
    default_at: int | None = None
    for i, row in enumerate(rows, start=1):
        when, creative = row
        if _blank(when) and _blank(creative):
            continue
        where = f"row {i}"
        if _blank(when):
            raise ValueError(f"{where}: the condition is empty (use 'else' for everyone else).")
        if _blank(creative):
            raise ValueError(f"{where}: the creative is empty.")
        if isinstance(when, str) and when.strip().lower() in DEFAULT_WORDS:
            if default is not None:
                raise ValueError(
                    f"{where}: an 'else' row, but everyone else already gets creative "
                    f"{default} from {default_name}; remove the row (and set its creative "
                    f"in {default_name})."
                )
            if default_row is not None:
                raise ValueError(
                    f"{where}: a second 'else' row (row {default_at} is one); keep one."
                )
            default_row, default_at = _arm(creative, where, n_arms), i
            continue
        try:
            column, op, value = parse_condition(when)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if column not in columns:
            raise ValueError(f"{where}: {_unknown_column(column, list(columns))}")
        rules.append(Rule(column=column, op=op, value=value, arm=_arm(creative, where, n_arms)))
    chosen = default if default is not None else default_row
    if chosen is None:
        raise ValueError("the table needs a default: add a row 'else,<creative>'.")
    return RulePolicy(
        rules=tuple(rules),
        default=chosen,
        columns=tuple(columns),
        n_arms=n_arms,
    )


def parse_rules_csv(
    text: str, *, columns: Sequence[str], n_arms: int, default: object = None
) -> RulePolicy:
    r"""Parse a rule table from CSV text with the header ``when,creative``.

    Parameters
    ----------
    text : str
        E.g. ``"when,creative\nsegment == 2,4\nelse,1\n"``.
    columns, n_arms, default
        As in :func:`rules_from_rows`.

    Returns
    -------
    RulePolicy

    Raises
    ------
    ValueError
        For a wrong header, a row without two cells, or any error of
        :func:`rules_from_rows`.
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string; got {type(text).__name__}.")
    reader = csv.reader(io.StringIO(text.strip()))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header != ["when", "creative"]:
        raise ValueError(f"the header must be 'when,creative'; got {_short(','.join(header))!r}.")
    rows = []
    for i, cells in enumerate(reader, start=1):
        if not cells:
            continue
        if len(cells) != 2:
            raise ValueError(f"row {i}: expected 2 cells (when, creative); got {len(cells)}.")
        rows.append((cells[0], cells[1]))
    return rules_from_rows(rows, columns=columns, n_arms=n_arms, default=default)


def append_segment(
    context: np.ndarray, feature_names: Sequence[str], segment: np.ndarray
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Add the segment as a last context column named :data:`SEGMENT_COLUMN`.

    The policy contract passes only contexts, so a rule on ``segment`` reads it
    from this column.

    Parameters
    ----------
    context : ndarray of shape (n, d)
    feature_names : sequence of str
        The ``d`` column names, or empty (then ``x_0 .. x_{d-1}``).
    segment : ndarray of int of shape (n,)
        ``LoggedFeedback.segment``; None (a log without segments) is refused.

    Returns
    -------
    context : ndarray of shape (n, d + 1)
    names : tuple of str
        ``feature_names`` then ``"segment"``.
    """
    if segment is None:  # LoggedFeedback.segment of an OBD or plain CSV log
        raise ValueError(
            "`segment` is None: the log records no segment (an adlab log does; an Open "
            "Bandit Dataset or plain CSV log does not), so no rule can read one."
        )
    x = np.asarray(context, dtype=np.float64)
    s = np.asarray(segment)
    if x.ndim != 2 or s.shape != (x.shape[0],):
        raise ValueError(
            f"`segment` must have shape ({x.shape[0] if x.ndim == 2 else 'n'},) and `context` "
            f"(n, d); got {s.shape} and {x.shape}."
        )
    names = tuple(feature_names) or tuple(f"x_{j}" for j in range(x.shape[1]))
    if len(names) != x.shape[1]:
        raise ValueError(f"`feature_names` must name the {x.shape[1]} columns; got {len(names)}.")
    if SEGMENT_COLUMN in names:
        raise ValueError(f"the context already has a {SEGMENT_COLUMN!r} column.")
    return np.column_stack([x, s.astype(np.float64)]), (*names, SEGMENT_COLUMN)
