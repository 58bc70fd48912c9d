"""``python -m simulation runs list|show|export|delete|check|report``: browse and manage saved runs.

Examples
--------
::

    python -m simulation runs list
    python -m simulation runs --store ./my-runs show 20261122-074044
    python -m simulation runs export 20261122-074044 --format parquet --out exports/
    python -m simulation runs delete 20261122-074044-123456-3f9a2c1b
    python -m simulation runs check --repair

An id may be shortened to any prefix that matches exactly one run. ``check`` reads every run in
full and exits 1 if one is damaged; ``--repair`` moves damaged runs to the store's
``quarantine/`` folder. ``export`` and ``report`` replace nothing already at ``--out``
unless given ``--force``. Text from the store (names, reasons) is printed without control
characters. Only ``delete`` and ``check --repair`` change the store; the reading actions never
create one: for a store that does not exist, ``list`` and ``check`` print a note naming the
path, and ``show``, ``export`` and ``report`` (whose run cannot exist) fail.

A catalogue another process holds open (even read-only) delays no action by more than about a
second each for opening and listing: ``list`` and ``check`` then read the run folders and say
so in one line on stderr; ``show``, ``export`` and ``report`` read only the run's folder anyway.
``check`` also reads every saved sweep (``--repair`` moves damaged ones to
``quarantine/sweeps/``).
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from simulation.cli.common import PathOption, UsageError
from simulation.interval_words import NOT_CLEAR_RULE
from simulation.store.export import ExportExistsError
from simulation.store.integrity import clean_text
from simulation.store.run_store import (
    RunDamagedError,
    RunNotFoundError,
    RunStore,
    StoreNotFoundError,
)
from simulation.store.sweeps import (
    SWEEP_COUNT_COLUMNS,
    check_sweeps,
    list_sweeps,
    sweep_folders,
)

__all__ = ["register"]

#: Seconds a reading action waits for a catalogue another process holds before it reads the
#: run folders instead: other writers hold it for milliseconds, so a longer wait means a
#: process keeping it open, and waiting longer would not help.
READ_WAIT = 1.0

#: Said (on stderr) when a listing came from the run folders because the catalogue was busy.
BUSY_NOTE = "the catalogue is busy (held by another process): listing from the run folders"

#: The mark of a best that is not clearly best, and the line under the list that explains it.
NOT_CLEAR = "(not clear)"
NOT_CLEAR_NOTE = (
    f'{NOT_CLEAR_RULE}, as the report\'s "Not clearly best" says: a tie or noise, no win'
)


def _add_store_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--store",
        action=PathOption,
        kind="a folder",
        convert=str,
        metavar="DIR",
        default=default,
        help="run store directory (default: $ADLAB_HOME, else ~/.adlab)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``runs`` command and its actions to ``subparsers``."""
    runs = subparsers.add_parser("runs", help="list, show, export, delete or check saved runs")
    _add_store_option(runs, None)
    actions = runs.add_subparsers(dest="runs_action", required=True, parser_class=type(runs))
    # --store is accepted after the action too; SUPPRESS keeps an omitted one from
    # overwriting a value given before the action.
    parsers = {
        "list": actions.add_parser("list", help="list saved runs, newest first"),
        "show": actions.add_parser("show", help="print a run's config and summary"),
        "export": actions.add_parser("export", help="write a run's tables to DIR/<run_id>/"),
        "delete": actions.add_parser("delete", help="delete a run"),
        "check": actions.add_parser(
            "check", help="read every run; report (and with --repair set aside) damaged ones"
        ),
        "report": actions.add_parser("report", help="write a run's self-contained HTML report"),
    }
    for name, parser in parsers.items():
        _add_store_option(parser, argparse.SUPPRESS)
        if name not in ("list", "check"):
            parser.add_argument("run_id", metavar="ID", help="run id or a unique prefix of it")
        parser.set_defaults(handler=_HANDLERS[name])
    parsers["list"].add_argument("--sweeps", action="store_true", help="list saved sweeps only")
    parsers["export"].add_argument("--format", choices=("csv", "parquet"), default="csv")
    parsers["export"].add_argument(
        "--out", action=PathOption, kind="a folder", convert=str, metavar="DIR", required=True
    )
    parsers["export"].add_argument(
        "--force", action="store_true", help="replace an earlier export of the same run"
    )
    parsers["check"].add_argument(
        "--repair",
        action="store_true",
        help="move damaged runs to the store's quarantine/ folder (nothing is deleted)",
    )
    parsers["report"].add_argument(
        "--out",
        action=PathOption,
        kind="an .html file path",
        convert=str,
        metavar="FILE.html",
        required=True,
    )
    parsers["report"].add_argument(
        "--force", action="store_true", help="replace a file already at --out"
    )


def _open(args: argparse.Namespace) -> RunStore:
    """The store of ``--store``, never created: no action here has a run to put in a new one.

    Raises
    ------
    StoreNotFoundError
        If there is no store at the path.
    UsageError
        For an empty ``--store`` or a folder that cannot be opened (a busy catalogue is not
        an error: its sync is deferred).
    """
    where = args.store or "the default location"
    try:
        return RunStore.open(args.store, create=False, lock_timeout=READ_WAIT)
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        where = exc.filename or where
        raise UsageError(f"cannot open the run store at {where}: {reason}") from None


def _missing(exc: StoreNotFoundError, args: argparse.Namespace) -> UsageError:
    return UsageError(f"no run {args.run_id!r}: there is no run store at {exc.root}")


def _missing_note(exc: StoreNotFoundError) -> str:
    return f"no runs: there is no run store at {exc.root} (check --store or $ADLAB_HOME)"


def _resolve(store: RunStore, run_id: str) -> str:
    try:
        return store.resolve(run_id)
    except RunNotFoundError as exc:
        raise UsageError(clean_text(exc)) from None


def _damaged(exc: RunDamagedError) -> UsageError:
    return UsageError(
        f"{clean_text(exc)}; `python -m simulation runs check --repair` moves it aside"
    )


def _list(args: argparse.Namespace) -> int:
    try:
        store = _open(args)
    except StoreNotFoundError as exc:
        print(_missing_note(exc))
        return 0
    if args.sweeps:
        return _list_sweeps(store.root)
    frame = store.list()  # never fails because of the catalogue
    if store.catalog_busy():
        print(f"note: {BUSY_NOTE}", file=sys.stderr)
    if frame.empty:
        print(f"no runs in {store.root}")
    else:
        _print_runs(frame)
        print(
            "best: each run's best policy @ level by its objective (never the oracle, which "
            "knows the truth), its observed CTR and ROAS"
        )
        if frame["best_clear"].eq(False).any():
            print(f"{NOT_CLEAR}: {NOT_CLEAR_NOTE}")
    if not list_sweeps(store.root).empty:
        print("\nsweeps:")
        _list_sweeps(store.root)
    return 0


def _print_runs(frame: pd.DataFrame) -> None:
    damaged = frame.loc[frame["damaged"].notna(), ["run_id", "damaged"]]
    frame = frame.drop(columns="damaged")
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    for column in ("name", "source"):
        frame[column] = frame[column].map(lambda v: "" if v is None or v != v else clean_text(v))
    # The catalogue names each run's best (policy @ level) as the run's headline does; a
    # run not made by the engine, or where only references ran, has none ("-"). A best the
    # report calls "Not clearly best" is marked so here too, in the same column: a tie is
    # then never read as a win.
    frame["best"] = [
        "-" if best is None else clean_text(best) + ("" if clear is not False else f" {NOT_CLEAR}")
        for best, clear in zip(frame["best"], frame.pop("best_clear"), strict=True)
    ]
    frame.loc[damaged.index, "name"] = "(damaged)"
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-"))
    for run_id, reason in damaged.itertuples(index=False):
        print(f"damaged: {run_id}: {clean_text(reason)}")
    if len(damaged):
        print("`python -m simulation runs check --repair` moves damaged runs aside")


def _list_sweeps(root: object) -> int:
    frame = list_sweeps(root)
    if frame.empty:
        print("no sweeps saved")
        return 0
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    # Both read from meta.json, which anyone can write: cleaned as run names are.
    for column in ("name", "parameters"):
        frame[column] = frame[column].map(lambda v: "" if v is None or v != v else clean_text(v))
    # A count a record lacks is blank; the others print as integers ("12", never "12.0").
    for column in SWEEP_COUNT_COLUMNS:
        frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else str(int(v)))
    print(frame.to_string(index=False))
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        store = _open(args)
    except StoreNotFoundError as exc:
        raise _missing(exc, args) from None
    run_id = _resolve(store, args.run_id)
    try:
        run = store.load(run_id)
    except RunDamagedError as exc:
        raise _damaged(exc) from None
    except RunNotFoundError as exc:
        raise UsageError(clean_text(exc)) from None
    meta = run.meta
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items() if v is not None)
    lines = [
        f"run      {run.run_id}",
        f"created  {run.created_at:%Y-%m-%d %H:%M:%S} UTC",
        f"name     {clean_text(meta['name'] or '-')}",
        f"source   {clean_text(meta['source'])}",
        f"seed     {run.seed}",
        f"python   {clean_text(meta.get('python', '?'))}; {clean_text(versions)}",
        f"series   {len(run.timeseries)} rows x {run.timeseries.shape[1]} columns",
        f"tables   {', '.join(run.tables) or '-'}",
        f"log      {run.log_path or '-'}",
        "",
        "config:",
        json.dumps(dict(run.config), indent=2, sort_keys=True),  # escapes control characters
        "",
        "summary:",
    ]
    with pd.option_context("display.width", 120, "display.max_columns", 50):
        lines.append(
            clean_text_lines(
                run.summary.to_string(
                    index=not isinstance(run.summary.index, pd.RangeIndex),
                    float_format=lambda v: f"{v:.4f}",
                )
            )
        )
    print("\n".join(lines))
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        store = _open(args)
    except StoreNotFoundError as exc:
        raise _missing(exc, args) from None
    run_id = _resolve(store, args.run_id)
    try:
        paths = store.export(run_id, args.out, args.format, overwrite=args.force)
    except RunDamagedError as exc:
        raise _damaged(exc) from None
    except RunNotFoundError as exc:
        raise UsageError(clean_text(exc)) from None
    except ValueError as exc:  # --out inside the store
        raise UsageError(f"--out must be outside the run store {store.root}") from exc
    except ExportExistsError as exc:
        raise UsageError(f"{exc}; pass --force to replace it") from None
    except OSError as exc:
        where = exc.filename or args.out
        reason = (exc.strerror or str(exc)).lower()
        raise UsageError(f"cannot write to {where}: {reason}") from None
    for path in paths:
        print(path)
    return 0


def _delete(args: argparse.Namespace) -> int:
    try:
        store = _open(args)  # nothing to delete where there is no store: never create one
    except StoreNotFoundError as exc:
        raise _missing(exc, args) from None
    run_id = _resolve(store, args.run_id)
    try:
        store.delete(run_id)
    except RunNotFoundError as exc:
        raise UsageError(clean_text(exc)) from None
    print(f"deleted {run_id}")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        store = _open(args)
    except StoreNotFoundError as exc:
        print(_missing_note(exc))
        return 0
    n_runs = len(store.list())
    report = store.check(repair=args.repair)
    if store.catalog_busy():
        print(f"note: {BUSY_NOTE}", file=sys.stderr)
    n_sweeps = len(sweep_folders(store.root))
    sweeps = check_sweeps(store.root, repair=args.repair)
    for path in store.catalog_moved_aside():
        print(f"catalogue: unreadable; moved aside to {path} and rebuilt from the run folders")
    for row in report.itertuples(index=False):
        where = f"; moved to {row.moved_to}" if row.moved_to is not None else ""
        print(f"damaged: {row.run_id}: {clean_text(row.reason)}{where}")
    for row in sweeps.itertuples(index=False):
        where = f"; moved to {row.moved_to}" if row.moved_to is not None else ""
        print(f"damaged sweep: {row.sweep_id}: {clean_text(row.reason)}{where}")
    print(f"{n_runs} runs checked in {store.root}; {len(report)} damaged")
    if n_sweeps or len(sweeps):
        print(f"{n_sweeps} sweeps checked; {len(sweeps)} damaged")
    if (len(report) or len(sweeps)) and not args.repair:
        print("run `python -m simulation runs check --repair` to move them to quarantine/")
        return 1
    return 0


def clean_text_lines(text: str) -> str:
    """``clean_text`` for each line of a multi-line block (keeps the line breaks)."""
    return "\n".join(clean_text(line) for line in text.split("\n"))


def _report(args: argparse.Namespace) -> int:
    from simulation.store.report import write_report  # rebuilds worlds: load only when asked

    try:
        store = _open(args)
    except StoreNotFoundError as exc:
        raise _missing(exc, args) from None
    try:
        run = store.load(_resolve(store, args.run_id))
        print(write_report(run, args.out, overwrite=args.force))
    except FileExistsError as exc:  # never replace a file (a log, an earlier report) unasked
        raise UsageError(f"{exc}; pass --force to replace it") from None
    except RunNotFoundError as exc:
        raise UsageError(str(exc)) from None
    except RunDamagedError as exc:
        raise _damaged(exc) from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    return 0


_HANDLERS = {
    "list": _list,
    "show": _show,
    "export": _export,
    "delete": _delete,
    "check": _check,
    "report": _report,
}
