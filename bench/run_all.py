"""Run every benchmark script and write bench/RESULTS.md.

Usage::

    python bench/run_all.py            # full sizes (what `make bench` runs)
    python bench/run_all.py --quick    # every script with --quick (a few minutes on 2 cores)

Scripts run one after another in fresh processes of this interpreter (so in ``.venv-bench``
under ``make bench``). adlab's own scripts contribute markdown tables; the other scripts
(``creatives.py``, ``store.py``, ``ope.py``, ``engine.py``, ``app.py``, each when present)
contribute their printed output. A script that fails is reported with its exit code and the
others still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peers import machine_info

HERE = Path(__file__).resolve().parent
#: (script, writes markdown tables).
SCRIPTS = (
    ("w1_context_free.py", True),
    ("w2_contextual.py", True),
    ("chapelle_li.py", True),
    ("creatives.py", False),
    ("store.py", False),
    ("ope.py", False),
    ("engine.py", False),
    ("app.py", False),
)


def run_script(name: str, markdown: bool, quick: bool) -> tuple[str, int, float]:
    """Run one script; return its markdown section, exit code and seconds."""
    cmd = [sys.executable, str(HERE / name)] + (["--quick"] if quick else [])
    with tempfile.TemporaryDirectory() as tmp:
        md = Path(tmp) / "out.md"
        if markdown:
            cmd += ["--markdown", str(md)]
        print(f"$ {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
        seconds = time.perf_counter() - start
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr[-4000:])
        if proc.returncode == 0 and markdown and md.exists():
            body = md.read_text(encoding="utf-8")
        else:
            title = f"## {name}\n\n" if not markdown or proc.returncode else ""
            tail = proc.stdout.strip() or "(no output)"
            if proc.returncode:
                tail += "\n" + proc.stderr.strip()[-2000:]
            body = f"{title}```text\n{tail}\n```\n"
    status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
    body += f"\n_`python bench/{name}{' --quick' if quick else ''}`: {status}, {seconds:,.0f} s_\n"
    return body, proc.returncode, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run every script with --quick")
    parser.add_argument("--only", nargs="+", default=None, help="script names to run")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    info = machine_info()
    sections, failures = [], []
    for name, markdown in SCRIPTS:
        if args.only and name not in args.only and name.removesuffix(".py") not in args.only:
            continue
        if not (HERE / name).exists():
            print(f"{name} not present: skipped")
            continue
        body, code, _ = run_script(name, markdown, args.quick)
        sections.append(body)
        if code:
            failures.append(name)
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `make bench{' BENCH_ARGS=--quick' if args.quick else ''}` (`python"
        f" bench/run_all.py{' --quick' if args.quick else ''}` in `.venv-bench`). One run on the"
        " machine below; compare the ratios measured in the same run, not the absolute times"
        " (see docs/performance.md on noise).",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        *sections,
    ]
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.output}" + (f"; failed: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
