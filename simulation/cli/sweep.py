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

Everything that can be checked is checked before anything is created: ``--name`` (at most
80 characters, as ``run``'s; control characters are removed when it is stored), the grid (a
regular file of bounded size), every grid point's input files, the run store (without
creating it: the sweep is saved there once finished), the ``--out`` folder and, with
``--scheduler``, the address and the scheduler's answer. ``--out`` must be outside the
run store, as for ``run`` and ``world``. A problem is one ``error:``
line, exit code 2, and no new file or folder. Ctrl-C or ``kill`` (SIGTERM) stops at
once: queued runs are cancelled, runs in flight are terminated (their work is lost), the
finished ones stay in ``DIR/runs/``; one ``interrupted:`` line, exit code 130 (143 for
SIGTERM). A stop while the workers start (a Dask LocalCluster's too) takes effect as soon
as they are up, a few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from simulation.cli.common import (
    MAX_NAME,
    PathOption,
    UsageError,
    check_name,
    check_outside_store,
    plain_text,
    positive_int,
)

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` sub-command."""
    p = subparsers.add_parser(
        "sweep",
        help="run experiments over a grid of settings (locally or on a Dask cluster)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "--grid",
        action=PathOption,
        kind="a file",
        required=True,
        help="TOML file: base config + [grid]",
    )
    p.add_argument(
        "--out",
        action=PathOption,
        kind="a folder",
        required=True,
        help="folder of the sweep's files (outside the run store)",
    )
    p.add_argument("--backend", choices=("local", "dask"), default="local")
    p.add_argument("--workers", type=positive_int, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="address of a running dask scheduler (--backend dask)")
    p.add_argument("--force", action="store_true", help="run a changed grid in the same folder")
    p.add_argument(
        "--store",
        action=PathOption,
        kind="a folder",
        help="run store folder (default: $ADLAB_HOME, ~/.adlab)",
    )
    p.add_argument(
        "--name", help=f"a name for the sweep in the store (at most {MAX_NAME} characters)"
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(handler=sweep_command, interrupted=INTERRUPTED)


#: What an interrupted sweep keeps (the ``interrupted:`` line).
INTERRUPTED = (
    "the finished runs are kept in the --out folder's runs/ (runs in flight were stopped); "
    "the same command resumes from there"
)


#: What a sweep stopped before its --out folder was set up leaves.
NOTHING_WRITTEN = "nothing was written"


def sweep_command(args: argparse.Namespace) -> int:
    """Handler of ``sweep``.

    Ctrl-C and SIGTERM (turned into the same stop by ``main``) print ``args.interrupted``.
    """
    # Until the --out folder is set up, a stop leaves nothing (main prints this line).
    args.interrupted = NOTHING_WRITTEN
    return _sweep(args)


def _check_store(text: str | Path | None) -> Path:
    """The run store's root, checked as :func:`save_sweep` will write it, creating nothing.

    A sweep only adds ``sweeps/<id>/`` to the store, once finished: opening the store
    (which creates its folders and catalogue) up front would leave them behind when a
    later check fails.

    Raises
    ------
    UsageError
        A file where a folder must be, or a folder that cannot be written (an empty
        ``--store`` is refused by the parser, :class:`~simulation.cli.common.PathOption`).
    """
    from simulation.store.paths import resolve_root
    from simulation.store.sweeps import SWEEPS_DIR

    root = resolve_root(text)
    for folder in (root / SWEEPS_DIR, root, *root.parents):
        if not folder.exists():
            continue
        if not folder.is_dir():
            raise UsageError(f"cannot open the run store: {folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(f"cannot open the run store: {folder} is not writable")
        return root
    raise AssertionError("unreachable: the file system root exists")  # pragma: no cover


def _sweep(args: argparse.Namespace) -> int:
    from simulation.store.sweeps import save_sweep
    from simulation.sweep import (
        SchedulerUnreachableError,
        SweepConflictError,
        check_folder,
        load_grid,
        prepare_folder,
        run_sweep,
    )
    from simulation.sweep.digest import uplift_digest
    from simulation.sweep.runner import check_scheduler_address, connect_scheduler

    # Every check comes before anything is created: a failed one leaves no file or
    # folder behind (the slow one, the scheduler's answer, last).
    check_name(args.name)  # as run's: every row of runs list --sweeps shows it
    if args.scheduler is not None and args.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    if args.scheduler is not None:
        try:
            check_scheduler_address(args.scheduler)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    try:
        plan, text = load_grid(args.grid)
    except ValueError as exc:
        # Its first line, in plain text (a bad policy spec as ope --policy prints it).
        raise UsageError(plain_text(str(exc).splitlines()[0])) from None
    store_root = _check_store(args.store)
    try:
        out_path = args.out.expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic-link loop
        raise UsageError(f"cannot use --out {args.out}: {exc}") from None
    # As run and world: a sweep folder in the store would replace a saved sweep's files
    # (runs check then finds it damaged) or leave loose files among the runs.
    check_outside_store(out_path, store_root)
    try:
        check_folder(args.out, plan, force=args.force)
    except SweepConflictError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot use {args.out}: {exc.strerror or exc}") from None
    client = None
    if args.scheduler is not None:
        try:
            client = connect_scheduler(args.scheduler)
        except SchedulerUnreachableError as exc:
            raise UsageError(f"{exc}; is it running, and is the address right?") from None
    args.interrupted = INTERRUPTED
    try:
        # Removes what it created if it fails half-way.
        out = prepare_folder(args.out, plan, text, force=args.force)
    except BaseException as exc:
        if client is not None:
            client.close()
        if isinstance(exc, SweepConflictError):
            raise UsageError(str(exc)) from None
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
        raise
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
            client=client,
        )
    finally:
        if bar is not None:
            bar.close()
    try:
        sweep_id = save_sweep(
            args.store,
            grid_text=text,
            table=outcome.table,
            name=args.name,
            meta=outcome.store_meta(plan, out.resolve()),
        )
    except OSError as exc:
        raise UsageError(
            f"cannot save the sweep in the run store: {exc.strerror or exc}; its table is "
            f"in {args.out}/sweep.csv, and the same command saves it"
        ) from None
    print(
        f"wrote {args.out}/sweep.parquet and sweep.csv ({len(outcome.table):,} rows); "
        f"{outcome.n_executed} run(s) executed, {outcome.n_skipped} already stored; "
        f"saved as sweep {sweep_id}"
    )
    for line in uplift_digest(outcome.table, plan):
        print(line)
    return 0
