"""``python -m simulation runs list|show|export|delete``: browse and manage saved runs.

Examples
--------
::

    python -m simulation runs list
    python -m simulation runs --store ./my-runs show 20261122-074044
    python -m simulation runs export 20261122-074044 --format parquet --out exports/
    python -m simulation runs delete 20261122-074044-123456-3f9a2c1b

An id may be shortened to any prefix that matches exactly one run.
"""

from __future__ import annotations

import argparse
import json

import pandas as pd

from simulation.cli.common import UsageError
from simulation.store.run_store import RunNotFoundError, RunStore, StoreBusyError
from simulation.store.sweeps import list_sweeps

__all__ = ["register"]


def _add_store_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--store",
        metavar="DIR",
        default=default,
        help="run store directory (default: $ADLAB_HOME, else ~/.adlab)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``runs`` command and its actions to ``subparsers``."""
    runs = subparsers.add_parser("runs", help="list, show, export or delete saved runs")
    _add_store_option(runs, None)
    actions = runs.add_subparsers(dest="runs_action", required=True, parser_class=type(runs))
    # --store is accepted after the action too; SUPPRESS keeps an omitted one from
    # overwriting a value given before the action.
    parsers = {
        "list": actions.add_parser("list", help="list saved runs, newest first"),
        "show": actions.add_parser("show", help="print a run's config and summary"),
        "export": actions.add_parser("export", help="write a run's tables to DIR/<run_id>/"),
        "delete": actions.add_parser("delete", help="delete a run"),
    }
    for name, parser in parsers.items():
        _add_store_option(parser, argparse.SUPPRESS)
        if name != "list":
            parser.add_argument("run_id", metavar="ID", help="run id or a unique prefix of it")
        parser.set_defaults(handler=_HANDLERS[name])
    parsers["list"].add_argument("--sweeps", action="store_true", help="list saved sweeps only")
    parsers["export"].add_argument("--format", choices=("csv", "parquet"), default="csv")
    parsers["export"].add_argument("--out", metavar="DIR", required=True)
    parsers["export"].add_argument(
        "--force", action="store_true", help="replace an earlier export of the same run"
    )


def _open(args: argparse.Namespace) -> RunStore:
    where = args.store or "the default location"
    try:
        return RunStore.open(args.store)
    except StoreBusyError as exc:  # a TimeoutError, hence an OSError: catch it first
        raise UsageError(str(exc)) from None
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        where = exc.filename or where
        raise UsageError(f"cannot open the run store at {where}: {reason}") from None


def _resolve(store: RunStore, run_id: str) -> str:
    try:
        return store.resolve(run_id)
    except RunNotFoundError as exc:
        raise UsageError(str(exc)) from None


def _list(args: argparse.Namespace) -> int:
    if args.sweeps:
        return _list_sweeps(args.store)
    store = _open(args)
    try:
        frame = store.list()
    except StoreBusyError as exc:
        raise UsageError(str(exc)) from None
    if frame.empty:
        print(f"no runs in {store.root}")
    else:
        frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
        frame["name"] = frame["name"].fillna("")
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-"))
    if not list_sweeps(store.root).empty:
        print("\nsweeps:")
        _list_sweeps(store.root)
    return 0


def _list_sweeps(root: object) -> int:
    frame = list_sweeps(root)
    if frame.empty:
        print("no sweeps saved")
        return 0
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame["name"] = frame["name"].fillna("")
    print(frame.to_string(index=False))
    return 0


def _show(args: argparse.Namespace) -> int:
    store = _open(args)
    run_id = _resolve(store, args.run_id)
    try:
        run = store.load(run_id)
    except RunNotFoundError as exc:
        raise UsageError(str(exc)) from None
    meta = run.meta
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v is not None)
    lines = [
        f"run      {run.run_id}",
        f"created  {run.created_at:%Y-%m-%d %H:%M:%S} UTC",
        f"name     {meta['name'] or '-'}",
        f"source   {meta['source']}",
        f"seed     {run.seed}",
        f"python   {meta['python']}; {versions}",
        f"series   {len(run.timeseries)} rows x {run.timeseries.shape[1]} columns",
        f"tables   {', '.join(run.tables) or '-'}",
        f"log      {run.log_path or '-'}",
        "",
        "config:",
        json.dumps(dict(run.config), indent=2, sort_keys=True),
        "",
        "summary:",
    ]
    with pd.option_context("display.width", 120, "display.max_columns", 50):
        lines.append(
            run.summary.to_string(
                index=not isinstance(run.summary.index, pd.RangeIndex),
                float_format=lambda v: f"{v:.4f}",
            )
        )
    print("\n".join(lines))
    return 0


def _export(args: argparse.Namespace) -> int:
    store = _open(args)
    run_id = _resolve(store, args.run_id)
    try:
        paths = store.export(run_id, args.out, args.format, overwrite=args.force)
    except RunNotFoundError as exc:
        raise UsageError(str(exc)) from None
    except FileExistsError as exc:
        raise UsageError(f"{exc.args[0]}; pass --force to replace it") from None
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    for path in paths:
        print(path)
    return 0


def _delete(args: argparse.Namespace) -> int:
    store = _open(args)
    run_id = _resolve(store, args.run_id)
    try:
        store.delete(run_id)
    except RunNotFoundError as exc:
        raise UsageError(str(exc)) from None
    print(f"deleted {run_id}")
    return 0


_HANDLERS = {"list": _list, "show": _show, "export": _export, "delete": _delete}
