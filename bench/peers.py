"""Shared helpers of the bandit benchmarks: optional peers, timing, machine facts, tables.

Peers (MABWiser, Vowpal Wabbit, numba) are optional: :func:`optional` returns
``None`` and prints "<name> not installed: skipped" when one is missing, so every
script still runs adlab's part in the plain runtime environment.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: Import name -> (display name, distribution name).
PEERS = {
    "mabwiser": ("MABWiser", "mabwiser"),
    "vowpalwabbit": ("Vowpal Wabbit", "vowpalwabbit"),
    "numba": ("numba", "numba"),
}


def single_blas():
    """Context manager limiting BLAS/OpenMP pools to one thread, for every library alike.

    At these matrix sizes (16 x 16 per arm) a second BLAS thread only adds
    contention, badly so on a loaded 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def optional(module: str, *, quiet: bool = False):
    """Import ``module`` or return None after printing that it was skipped."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if not quiet:
            name = PEERS.get(module, (module,))[0]
            print(f"{name} not installed: skipped")
        return None


def version(dist: str) -> str:
    """Installed version of a distribution, or "not installed"."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, str]:
    """Date, cores, CPU, load, Python and library versions, as display strings."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    libs = ["numpy", "scipy", "pandas", "numba", "mabwiser", "vowpalwabbit", "pillow"]
    return {
        "date (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "cores": str(os.cpu_count()),
        "CPU": cpu_model(),
        "load average at start (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in load),
        "Python": platform.python_version(),
        "platform": platform.platform(),
        **{lib: version(lib) for lib in libs},
    }


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Fastest wall-clock seconds of ``repeats`` calls of ``fn`` (the least disturbed run)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """Run ``fn`` once; return its result and the wall-clock seconds it took."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def mean_sd(values: Sequence[float] | np.ndarray, digits: int = 1) -> str:
    """``"mean ± sd"`` over seeds (sd with ddof=1; just the value for one seed)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return "—"
    if x.size == 1:
        return f"{x[0]:,.{digits}f}"
    return f"{x.mean():,.{digits}f} ± {x.std(ddof=1):,.{digits}f}"


def rate(n: float, seconds: float) -> str:
    """Decisions per second, human-readable."""
    if seconds <= 0 or not np.isfinite(seconds):
        return "—"
    r = n / seconds
    if r >= 1e6:
        return f"{r / 1e6:,.2f} M/s"
    if r >= 1e3:
        return f"{r / 1e3:,.1f} k/s"
    return f"{r:,.0f} /s"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows aligned in columns."""
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for j, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


class Report:
    """Collects the markdown a script contributes to bench/RESULTS.md and prints as it goes."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, line: str = "") -> None:
        """Print a line and keep it for the markdown."""
        print(line)
        self.parts.append(line)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Print a table and keep it as markdown."""
        print_table(header, rows)
        print()
        self.parts.append("")
        self.parts.append(markdown_table(header, rows))
        self.parts.append("")

    def write(self, path: str | None) -> None:
        """Write the collected markdown to ``path`` (nothing when None)."""
        if path:
            Path(path).write_text("\n".join(self.parts) + "\n", encoding="utf-8")
