"""``python -m simulation compose``: render one composition of the generated level.

Starts from the composition most of a segment's users have as their own best (under
``--objective``), changes the components given with ``--set AXIS=LEVEL``, and writes the ad
written for the segment as an image in the format ``--out``'s suffix names (``.png``,
``.jpg``/``.jpeg`` or ``.webp``, as ``python -m creative render --format`` writes them; any
other suffix is an error). Prints the composition, the guardrails' verdict, the ad's copy and
its true (expected) CTR and ROAS on the segment's users (the first 2,000) beside each user's
own best composition's. A composition the constraints refuse is an error naming every rule it
breaks, and nothing is written (the engine never serves one). A refused or stopped command
leaves no folder it made for ``--out``.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from simulation.cli.common import (
    PathOption,
    UsageError,
    add_world_options,
    plain_text,
    warn_banned_names,
    world_config,
)

__all__ = ["register"]

#: Most ``--set`` options (one per axis is all a composition has).
MAX_SETS = 32

#: ``--out`` suffix -> image format (:data:`creative.encode.FORMATS`).
SUFFIX_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compose`` sub-command."""
    p = subparsers.add_parser(
        "compose",
        help="render one composition of the generated level, with its true CTR and ROAS",
        description=__doc__.splitlines()[0],
    )
    add_world_options(p)
    p.add_argument("--segment", type=int, default=0, help="whose ad: a segment's number (0)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="AXIS=LEVEL",
        help="a component to change, e.g. tone=urgent or product='fashion:Canvas Sneakers'",
    )
    p.add_argument(
        "--objective",
        choices=("ctr", "roas"),
        default="ctr",
        help="whose best composition to start from: clicks (ctr) or net value (roas)",
    )
    p.add_argument("--size", type=int, default=1080, help="side of the image in pixels (1080)")
    p.add_argument(
        "--out",
        action=PathOption,
        kind="an image file",
        convert=str,  # as typed: a trailing slash says "a folder"
        required=True,
        help="the image file to write: .png, .jpg, .jpeg or .webp",
    )
    p.set_defaults(handler=compose_command)


def _changes(space, sets: list[str]) -> dict[int, int]:
    """``--set`` values as {axis index: level index}; a clear error for a bad one."""
    if len(sets) > MAX_SETS:
        raise UsageError(f"--set given {len(sets)} times; at most {MAX_SETS}")
    out = {}
    for text in sets:
        axis, sep, name = text.partition("=")
        axis, name = axis.strip(), name.strip()
        if not sep or axis not in space.axis_names:
            raise UsageError(
                f"--set {text[:80]!r}: expected AXIS=LEVEL with AXIS one of "
                + ", ".join(space.axis_names)
            )
        j = space.axis_names.index(axis)
        names = space.level_names[j]
        if name not in names:
            raise UsageError(
                f"--set {axis}: no level {name[:80]!r}; choose from " + ", ".join(names)
            )
        out[j] = names.index(name)
    return out


def compose_command(args: argparse.Namespace) -> int:
    """Handler of ``compose``."""
    from simulation.composition_truth import (
        composition_outcomes,
        most_common_best,
        segment_users,
    )
    from simulation.scenario import AXES, build_scenario, composition_image
    from simulation.store.fs import make_folders, remove_folders

    config = world_config(args, with_generated=True)
    out = Path(args.out).resolve()
    if out.is_dir() or args.out.endswith(("/", os.sep)):
        raise UsageError(f"--out {args.out} is a folder; give the image file's name")
    fmt = SUFFIX_FORMATS.get(out.suffix.lower())
    if fmt is None:
        # A suffix is what viewers go by: never write one format under another's name.
        raise UsageError(
            f"--out {args.out[:200]}: the suffix must name the image format, "
            + ", ".join(SUFFIX_FORMATS)
        )
    if not 200 <= args.size <= 4096:  # the renderer's bounds (creative.layouts)
        raise UsageError(f"--size must be in [200, 4096]; got {args.size}")
    try:
        scenario = build_scenario(config)
    except ValueError as exc:
        raise UsageError(plain_text(str(exc))) from None
    warn_banned_names(scenario.levels["generated"].catalogue)
    space = scenario.levels["generated"].space
    if tuple(space.axis_names) != AXES:
        raise UsageError(
            "this preset's generated level is not a whole creative (hill48): nothing to render"
        )
    n_segments = scenario.segmentation.n_segments
    if not 0 <= args.segment < n_segments:
        raise UsageError(f"--segment must be in [0, {n_segments - 1}]; got {args.segment}")
    changes = _changes(space, args.set)
    users = segment_users(scenario, args.segment)
    combo, share, best = most_common_best(scenario, users, args.objective)
    combo = combo.copy()
    for j, level in changes.items():
        combo[j] = level
    broken = space.conflict_text(combo)
    if broken:
        raise UsageError(f"not a valid composition, so never served: {broken}")
    try:
        data, (passed, reasons), copy = composition_image(
            scenario, combo, args.segment, size=args.size, fmt=fmt
        )
    except ValueError as exc:
        # A size too small for the ad, or for the greeting or search it is credited with:
        # the message names one that works.
        raise UsageError(str(exc).removesuffix(".")) from None
    made: list[Path] = []  # the folders made for --out: removed again unless it is written
    try:
        made = make_folders(out.parent)
        # An ordinary exclusive create, not mkstemp: its file would stay private (0600).
        tmp = out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}"
        tmp.touch(exist_ok=False)  # ours from here on
        try:
            tmp.write_bytes(data)
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except BaseException as exc:
        remove_folders(made)  # a refusal or a stop leaves the file system as it was
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
        raise
    ctr, roas = composition_outcomes(scenario, users, combo)
    best_ctr, best_roas = composition_outcomes(scenario, users, best)
    name = scenario.segmentation.profiles[args.segment].name
    start = (
        "each user's own best" if args.objective == "ctr" else "each user's own best (net value)"
    )
    print(
        "composition: "
        + " · ".join(
            f"{a}={space.level_names[j][int(i)]}" for j, (a, i) in enumerate(zip(AXES, combo))
        )
    )
    print(f"written for segment {args.segment}: {name}")
    print("guardrails: pass" if passed else "guardrails: rejected (" + "; ".join(reasons) + ")")
    print(copy)
    print(
        f"true (expected) on the segment's first {users.size:,} users: CTR {100 * ctr:.3f} %, "
        f"ROAS {roas:.2f}; {start}: CTR {100 * best_ctr:.3f} %, "
        f"ROAS {best_roas:.2f} (started from the best of {100 * share:.0f} % of them"
        + (", then changed " + ", ".join(space.axis_names[j] for j in changes) if changes else "")
        + ")"
    )
    print(f"wrote {args.out}")
    return 0
