"""``python -m simulation world``: lay the ground truth of a world open, before any run.

Writes ``DIR/arms.csv`` (per level, arm and segment: the creative's components,
product, price and true (expected) CTR, conversion rate, order value and ROAS, named
``true_*``),
``DIR/spreads.csv`` (best / median of each level's arms and of the content
spaces), ``DIR/mechanisms.csv`` (what each term of the response contributes),
with ``--generated`` (or a config whose levels have it) ``DIR/compositions.csv``
(each user's best composition against random valid ones, and against random valid
ones in the viewer's language, per objective and segment) and ``DIR/world.json``
(the resolved config). Everything is written to a temporary folder beside ``DIR``
and moved into place at the end; bad input writes nothing, and a refused or stopped
command also removes the folders it made for ``DIR``.
``DIR`` may not be empty or lie inside the run store (``$ADLAB_HOME``); an earlier
``world``'s ``compositions.csv`` that this one does not write is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from simulation.cli.common import (
    PathOption,
    UsageError,
    add_world_options,
    check_outside_store,
    plain_text,
    remove_earlier_outputs,
    world_config,
)

__all__ = ["register"]

#: Files the command writes, in order.
OUTPUTS: tuple[str, ...] = ("arms.csv", "spreads.csv", "mechanisms.csv", "world.json")
#: Every file it can write (with the generated level, also compositions.csv).
ALL_OUTPUTS: tuple[str, ...] = (*OUTPUTS, "compositions.csv")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``world`` sub-command."""
    p = subparsers.add_parser(
        "world",
        help="write the world's ground truth: expected outcome of every arm, spreads, mechanisms",
        description=__doc__.splitlines()[0],
    )
    add_world_options(p)
    p.add_argument(
        "--out",
        action=PathOption,
        kind="a folder",
        required=True,
        help="output folder (outside the run store)",
    )
    p.add_argument(
        "--generated",
        action="store_true",
        help="add the generated level: each user's best composition against random ones "
        "(compositions.csv)",
    )
    p.set_defaults(handler=world_command)


def world_command(args: argparse.Namespace) -> int:
    """Handler of ``world``."""
    from simulation.ground_truth import world_report
    from simulation.scenario import build_scenario
    from simulation.store.fs import make_folders, remove_folders
    from simulation.store.paths import resolve_root

    config = world_config(args, with_generated=args.generated)
    try:
        out = Path(args.out).expanduser().resolve()
    except OSError as exc:
        raise UsageError(f"cannot use --out {args.out}: {exc.strerror or exc}") from None
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    # The store this user's runs are saved in ($ADLAB_HOME, else ~/.adlab).
    check_outside_store(out, resolve_root())
    made: list[Path] = []  # the folders made for --out: removed again unless it is written
    try:
        made = make_folders(out.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        remove_folders(made)
        raise UsageError(f"cannot write to {out.parent}: {exc.strerror or exc}") from None
    except BaseException:
        remove_folders(made)
        raise
    try:
        try:
            report = world_report(build_scenario(config), generated="generated" in config.levels)
        except ValueError as exc:  # e.g. too few creatives pass the guardrails
            raise UsageError(plain_text(str(exc))) from None
        report.arms.to_csv(tmp / "arms.csv", index=False)
        report.spreads.to_csv(tmp / "spreads.csv", index=False)
        report.mechanisms.to_csv(tmp / "mechanisms.csv", index=False)
        outputs = OUTPUTS
        if report.compositions is not None:
            report.compositions.to_csv(tmp / "compositions.csv", index=False)
            outputs = (*OUTPUTS[:-1], "compositions.csv", OUTPUTS[-1])
        world = {"config": config.to_dict(), "seed": config.seed}
        (tmp / "world.json").write_text(json.dumps(world, indent=2) + "\n", encoding="utf-8")
        out.mkdir(exist_ok=True)
        earlier = (out / "world.json").is_file()  # this folder holds an earlier world
        for name in outputs:
            os.replace(tmp / name, out / name)
        tmp.rmdir()
        if earlier:
            remove_earlier_outputs(out, ALL_OUTPUTS, outputs)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_folders(made)  # a refusal or a stop leaves the file system as it was
        raise
    spreads = report.spreads
    levels = spreads[
        spreads.scope.str.startswith(("level", "content", "product"))
        & ~spreads.scope.str.contains("segment [0-9]")
    ]
    print(f"wrote {args.out}/" + ", ".join(outputs))
    print(
        "true (expected) spread, all users: the best arm's value over the median arm's "
        "(1.10: the best is 10 % above the median)"
    )
    table = levels.pivot(index="scope", columns="metric", values="best_over_median")
    table = table.rename(
        columns={"conversions_per_1k": "conversions", "ctr": "CTR", "roas": "ROAS"}
    )
    print(table.round(3).to_string())
    if report.compositions is not None:
        print(_compositions_line(report.compositions))
    return 0


def _compositions_line(compositions) -> str:
    """What each user's own best composition earns against random ones, all users.

    Random ones twice: drawn among every valid composition (what ``uniform`` serves,
    about half of them in a language the viewer does not read) and among those in the
    viewer's language (the localized reference; docs/generated.md).
    """
    every = compositions[compositions["scope"] == "all"]
    parts = [
        f"{row.objective}: best {100 * row.true_best_ctr:.3f} % CTR, ROAS {row.true_best_roas:.2f}"
        f" against random {100 * row.true_random_ctr:.3f} % and {row.true_random_roas:.2f}"
        f", random in the viewer's language {100 * row.true_random_local_ctr:.3f} % and"
        f" {row.true_random_local_roas:.2f}"
        f" ({_how_personal(row.distinct_best, row.users)})"
        for row in every.itertuples(index=False)
    ]
    return "generated level, each user's best composition (true, expected): " + "; ".join(parts)


def _how_personal(distinct: int, users: int) -> str:
    if distinct == 1:
        return f"the same best composition for all {users:,} users"
    return f"{distinct} different best compositions among {users:,} users"
