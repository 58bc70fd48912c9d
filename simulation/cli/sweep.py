r"""``python -m simulation sweep``: run an experiment at every point of a grid of settings.

Examples
--------
::

    python -m simulation sweep --grid grid.toml --out sweeps/scale
    python -m simulation sweep --grid grid.toml --out sweeps/scale --workers 2
    python -m simulation sweep --grid grid.toml --out sweeps/scale --backend dask
    python -m simulation sweep --grid grid.toml --out sweeps/scale \\
        --backend dask --scheduler tcp://10.0.0.5:8786

Writes ``DIR/sweep.parquet`` and ``DIR/sweep.csv`` (one row per grid point, world,
level and policy), saves the sweep in the run store and prints each level's uplift at
each grid point (:func:`simulation.sweep.digest.uplift_digest`). Finished runs are kept
in ``DIR/runs/``: the same command after an interruption resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulation.cli.common import UsageError, positive_int

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` sub-command."""
    p = subparsers.add_parser(
        "sweep",
        help="run experiments over a grid of settings (locally or on a Dask cluster)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--grid", type=Path, required=True, help="TOML file: base config + [grid]")
    p.add_argument("--out", type=Path, required=True, help="folder of the sweep's files")
    p.add_argument("--backend", choices=("local", "dask"), default="local")
    p.add_argument("--workers", type=positive_int, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="address of a running dask scheduler (--backend dask)")
    p.add_argument("--force", action="store_true", help="run a changed grid in the same folder")
    p.add_argument("--store", type=Path, help="run store folder (default: $ADLAB_HOME, ~/.adlab)")
    p.add_argument("--name", help="a name for the sweep in the store")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(
        handler=sweep_command,
        interrupted="the finished runs are kept in the --out folder's runs/; the same command "
        "resumes from there",
    )


def sweep_command(args: argparse.Namespace) -> int:
    """Handler of ``sweep``."""
    from simulation.store.sweeps import save_sweep
    from simulation.sweep import (
        SchedulerUnreachableError,
        SweepConflictError,
        load_grid,
        prepare_folder,
        run_sweep,
    )
    from simulation.sweep.digest import uplift_digest

    if args.scheduler is not None and args.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    try:
        plan, text = load_grid(args.grid)
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    try:
        out = prepare_folder(args.out, plan, text, force=args.force)
    except SweepConflictError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    bar = None
    if not args.no_progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(plan.runs), unit="run", desc="sweep")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    try:
        outcome = run_sweep(
            plan,
            out,
            backend=args.backend,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=progress,
        )
    except SchedulerUnreachableError as exc:
        # The folder keeps its grid: the same command resumes once the scheduler is up.
        raise UsageError(f"{exc}; is it running, and is the address right?") from None
    finally:
        if bar is not None:
            bar.close()
    sweep_id = save_sweep(
        args.store,
        grid_text=text,
        table=outcome.table,
        name=args.name,
        meta={
            "fingerprint": plan.fingerprint,
            "parameters": list(plan.keys),
            "n_points": len(plan.points),
            "n_runs": outcome.n_runs,
            "worlds": plan.worlds,
            "out": str(out.resolve()),
        },
    )
    print(
        f"wrote {args.out}/sweep.parquet and sweep.csv ({len(outcome.table):,} rows); "
        f"{outcome.n_executed} run(s) executed, {outcome.n_skipped} already stored; "
        f"saved as sweep {sweep_id}"
    )
    for line in uplift_digest(outcome.table, plan):
        print(line)
    return 0
