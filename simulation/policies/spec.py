"""Policy specs: the text that names a policy in configs, parsed once into a frozen record.

Grammar (whitespace around the parts is ignored)::

    spec   := ["segment:"] NAME ["(" params ")"]
    params := KEY "=" VALUE ("," KEY "=" VALUE)*

``NAME`` is a key of :data:`simulation.policies.POLICIES`; ``segment:`` runs one
copy of the policy per audience segment (allowed where the class says
``per_segment_ok``); ``VALUE`` is a Python literal (int, float, bool or quoted
str). ``str(PolicySpec.parse(text))`` is the canonical text, equal to ``text``
for canonical input (``"thompson"``, ``"segment:ucb1"``,
``"lin_ucb(alpha=0.5, ridge=2.0)"``). A spec is at most :data:`MAX_SPEC_CHARS`
characters; a bad setting is one error naming the policy's settings and their ranges
(each class's ``param_ranges``).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from simulation.policies.base import Policy

__all__ = ["MAX_SPEC_CHARS", "SEGMENT_PREFIX", "PolicySpec", "takes"]

#: Prefix of per-segment specs.
SEGMENT_PREFIX = "segment:"
#: Longest spec text: every policy's settings written out fit in well under it, and the
#: text is a column of every table and a key of the run store.
MAX_SPEC_CHARS = 200

_SPEC = re.compile(r"^\s*(segment:)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def takes(cls: type[Policy]) -> str:
    """What policy class ``cls`` takes in a spec, in words (the tail of a bad setting's error).

    Examples
    --------
    >>> from simulation.policies import POLICIES
    >>> takes(POLICIES["epsilon_greedy"])
    'epsilon_greedy takes epsilon (a float in [0, 1]).'
    >>> takes(POLICIES["uniform"])
    'uniform takes no settings.'
    """
    if not cls.param_ranges:
        return f"{cls.name} takes no settings."
    return f"{cls.name} takes " + ", ".join(f"{k} ({r})" for k, r in cls.param_ranges) + "."


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySpec:
    """A parsed, validated policy spec.

    Parameters
    ----------
    name : str
        Registry name of the policy.
    per_segment : bool, default=False
        One copy of the policy per segment (``segment:`` prefix).
    params : tuple of (str, value) pairs, default=()
        Hyperparameters in the order given, keys unique.
    """

    name: str
    per_segment: bool = False
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        from simulation.policies.registry import POLICIES

        if not isinstance(self.name, str) or self.name not in POLICIES:
            raise ValueError(self._unknown(self.name, POLICIES))
        cls = POLICIES[self.name]
        if cls.wraps_policies:
            raise ValueError(self._unknown(self.name, POLICIES))
        if not isinstance(self.per_segment, bool):
            raise TypeError(f"`per_segment` must be a bool; got {self.per_segment!r}.")
        if self.per_segment and not cls.per_segment_ok:
            raise ValueError(f"policy {self.name!r} cannot run per segment; got {str(self)!r}.")
        if not isinstance(self.params, tuple) or not all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in self.params
        ):
            raise TypeError(f"`params` must be a tuple of (str, value) pairs; got {self.params!r}.")
        bad = [k for k, v in self.params if not isinstance(v, int | float | str)]
        if bad:
            raise TypeError(f"hyperparameters must be int, float, bool or str; got {bad}.")
        keys = [k for k, _ in self.params]
        if len(set(keys)) != len(keys):
            raise ValueError(f"`params` has duplicate keys: {keys}.")
        allowed = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(keys) - allowed)
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {unknown} of {self.name!r}; {takes(cls)}")
        try:
            cls(**dict(self.params))  # the class validates the values
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{str(exc).rstrip('.')} in {str(self)!r}; {takes(cls)}") from None

    @staticmethod
    def _unknown(name: object, policies: dict) -> str:
        allowed = sorted(n for n, c in policies.items() if not c.wraps_policies)
        return (
            f"unknown policy {name!r}; choose from {allowed} "
            f"(or '{SEGMENT_PREFIX}NAME' for one copy per segment)."
        )

    @classmethod
    def parse(cls, text: object) -> PolicySpec:
        """Parse and validate ``text`` (see the module docstring for the grammar).

        Raises
        ------
        TypeError
            When ``text`` is not a str.
        ValueError
            When it is longer than :data:`MAX_SPEC_CHARS`, names no registered policy,
            has a malformed, unknown or out-of-range hyperparameter (the message names
            the policy's settings and their ranges), or asks for a per-segment copy of a
            policy that has none.
        """
        if not isinstance(text, str):
            raise TypeError(f"policy names must be str; got {text!r}.")
        if len(text) > MAX_SPEC_CHARS:
            raise ValueError(
                f"a policy spec must be at most {MAX_SPEC_CHARS} characters; got "
                f"{len(text):,} ({text[:40]!r}...)."
            )
        match = _SPEC.match(text)
        if match is None:
            raise ValueError(
                f"policy spec must look like '[segment:]NAME[(k=v, ...)]'; got {text!r}."
            )
        prefix, name, args = match.groups()
        params: list[tuple[str, Any]] = []
        if args is not None and args.strip():
            for part in args.split(","):
                key, sep, value = part.partition("=")
                key = key.strip()
                if not sep or not _KEY.match(key):
                    raise ValueError(
                        f"hyperparameters must be KEY=VALUE; got {part.strip()!r} in {text!r}."
                    )
                try:
                    parsed = ast.literal_eval(value.strip())
                except (ValueError, SyntaxError):
                    raise ValueError(
                        f"`{key}` must be a literal (int, float, bool or quoted str); "
                        f"got {value.strip()!r} in {text!r}."
                    ) from None
                params.append((key, parsed))
        return cls(name=name, per_segment=prefix is not None, params=tuple(params))

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params)
        prefix = SEGMENT_PREFIX if self.per_segment else ""
        return f"{prefix}{self.name}({args})" if self.params else f"{prefix}{self.name}"

    @property
    def stream_name(self) -> str:
        """The spec without its settings: the name of the policy's random stream.

        Variants of one policy (``epsilon_greedy(epsilon=0.05)``,
        ``epsilon_greedy(epsilon=0.2)``) draw from the same stream as the bare name, as
        they meet the same users and outcomes: their difference is their settings', and
        a spec without settings keeps the stream it always had.
        """
        return f"{SEGMENT_PREFIX if self.per_segment else ''}{self.name}"

    @property
    def settings(self) -> tuple[tuple[str, Any], ...]:
        """Every setting of the policy, defaults filled in, sorted by name.

        Two specs with equal :attr:`name`, :attr:`per_segment` and settings build the
        same policy, however they are written: ``epsilon_greedy`` and
        ``epsilon_greedy(epsilon=0.1)`` (0.1 is the default) are one policy.

        Examples
        --------
        >>> PolicySpec.parse("epsilon_greedy").settings
        (('epsilon', 0.1),)
        >>> PolicySpec.parse("epsilon_greedy(epsilon=0.1)").settings
        (('epsilon', 0.1),)
        """
        given = dict(self.params)
        filled = {
            f.name: given.get(f.name, f.default)
            for f in dataclasses.fields(self.policy_class)
            if f.init and f.default is not dataclasses.MISSING
        }
        filled.update(given)
        return tuple(sorted(filled.items()))

    @property
    def policy_class(self) -> type[Policy]:
        """The registered class of :attr:`name` (the per-segment wrapper's base)."""
        from simulation.policies.registry import POLICIES

        return POLICIES[self.name]

    @property
    def needs_contexts(self) -> bool:
        """True when the built policy reads the contexts (per-segment copies do)."""
        return self.per_segment or self.policy_class.needs_contexts

    @property
    def needs_truth(self) -> bool:
        """True when the built policy reads the true expected rewards (the oracle)."""
        return self.policy_class.needs_truth

    @property
    def learns(self) -> bool:
        """True when the built policy learns from rewards."""
        return self.policy_class.learns

    def build(self, *, n_segments: int = 6) -> Policy:
        """A new, not yet reset policy for this spec.

        Parameters
        ----------
        n_segments : int, default=6
            Copies of a per-segment spec.
        """
        if self.per_segment:
            from simulation.policies.special import PerSegment

            return PerSegment(base=self.name, n_segments=n_segments, base_params=dict(self.params))
        return self.policy_class(**dict(self.params))
