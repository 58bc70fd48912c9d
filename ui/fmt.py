"""Formatting helpers: percentages, money and ratios as a marketer reads them."""

from __future__ import annotations

import math
import re

__all__ = [
    "LEVEL_NAMES",
    "POLICY_NAMES",
    "escape_markdown",
    "interval",
    "money",
    "multiple",
    "pct",
    "policy_name",
    "signed_pct",
]

LEVEL_NAMES: dict[str, str] = {
    "generic": "Generic (same ads for everyone)",
    "segment": "Per segment",
    "user": "Per user",
}

POLICY_NAMES: dict[str, str] = {
    "uniform": "Uniform (A/B/n split)",
    "epsilon_greedy": "ε-greedy",
    "ucb1": "UCB1",
    "thompson": "Thompson sampling",
    "thompson_value": "Thompson sampling (value)",
    "lin_ucb": "LinUCB (contextual)",
    "lin_ts": "Linear Thompson (contextual)",
    "oracle": "Oracle (knows the truth)",
}


def policy_name(spec: str) -> str:
    """Readable name of a policy spec (``segment:NAME`` runs one copy per segment)."""
    if spec.startswith("segment:"):
        return f"{policy_name(spec.removeprefix('segment:'))} per segment"
    return POLICY_NAMES.get(spec, spec)


def _bad(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def pct(value: float | None, digits: int = 2) -> str:
    """``0.0231`` -> ``"2.31 %"``; missing -> ``"–"``."""
    return "–" if _bad(value) else f"{100 * value:.{digits}f} %"


def signed_pct(value: float | None, digits: int = 1) -> str:
    """``0.123`` -> ``"+12.3 %"``."""
    return "–" if _bad(value) else f"{100 * value:+.{digits}f} %"


def money(value: float | None, digits: int = 2) -> str:
    """``1234.5`` -> ``"$1,234.50"``; negative -> ``"-$3.00"``."""
    if _bad(value):
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{digits}f}"


def multiple(value: float | None, digits: int = 2) -> str:
    """A ratio such as ROAS: ``1.46`` -> ``"1.46×"``."""
    return "–" if _bad(value) else f"{value:.{digits}f}×"


def interval(fmt, mean: float, low: float, high: float) -> str:
    """``"2.31 % (2.28 – 2.35 %)"``-style text from a formatter and three numbers."""
    if _bad(low) or _bad(high) or low == high:
        return fmt(mean)
    return f"{fmt(mean)} ({fmt(low)} – {fmt(high)})"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Escape Markdown so user text (file names, copy) renders literally, never as links."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
