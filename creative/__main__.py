"""Command line: render creatives for segments, with a manifest and contact sheets.

Usage::

    python -m creative render [--preset default | --audiences FILE.csv|FILE.toml]
        [--segments all|ID,...] [--per-segment N] [--size auto|feed|story|link|preview]
        [--lang en|ko] [--templates FILE.toml] [--catalogue FILE.csv] [--out DIR]
        [--seed S] [--format png|jpeg|webp]

Counts are bounded (``--per-segment`` by ``LIMITS.per_segment``, the whole
run by ``LIMITS.images``; see ``creative.limits``) and checked before any
work, so a typo cannot start a run that never ends.

This module is an entry point, so it may ask ``simulation`` for its default
segments; the library modules of ``creative`` never import ``simulation``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import secrets
import shutil
import sys
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from creative.audience import Audience
from creative.audience_io import read_audiences
from creative.catalogue import CATALOGUE, read_catalogue
from creative.cli_safety import (
    PathOption,
    Terminated,
    make_folders,
    plain_text,
    remove_folders,
    sigterm_stops,
)
from creative.contact_sheet import contact_sheet
from creative.encode import FORMATS, encode_image
from creative.fonts import check_drawable
from creative.generate import (
    GenerationReport,
    generate_for_segment,
    generate_generic,
    recommended_placement,
    shortfall_message,
)
from creative.guardrails import banned_names_warning
from creative.limits import LIMITS, short_repr
from creative.manifest import MANIFEST_COLUMNS, manifest_row
from creative.record import Creative
from creative.render import draw_plan, plan_creative
from creative.templates import TemplateSet, load_templates
from creative.vocabulary import LANGUAGES, PLACEMENTS, component_name

__all__ = ["DEMO_AUDIENCES", "MANIFEST_COLUMNS", "main"]


#: Used by ``--preset default`` while ``simulation.population`` cannot be imported.
DEMO_AUDIENCES: tuple[Audience, ...] = (
    Audience(
        kind="segment",
        audience_id="segment-0",
        name="Night-owl gamers, mobile, deal-seekers",
        top_interests=("gaming", "tech", "music"),
        keywords=("gaming headset", "mechanical keyboard", "rpg"),
        active_hours="night",
        mobile_share=0.85,
        price_sensitivity=0.8,
        language="en",
        size=1200,
    ),
    Audience(
        kind="segment",
        audience_id="segment-1",
        name="Morning wellness, desktop, premium",
        top_interests=("fitness", "beauty", "food"),
        keywords=("yoga mat", "vitamin c serum", "matcha"),
        active_hours="morning",
        mobile_share=0.3,
        price_sensitivity=0.2,
        language="en",
        size=900,
    ),
    Audience(
        kind="segment",
        audience_id="segment-2",
        name="서울 여행·아웃도어, 저녁",
        top_interests=("travel", "outdoors", "home"),
        keywords=("제주 항공권", "캠핑 텐트", "등산화"),
        active_hours="evening",
        mobile_share=0.6,
        price_sensitivity=0.5,
        language="ko",
        size=700,
    ),
)


class _UsageError(Exception):
    """Bad input: reported as one ``error:`` line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse prints usage and exits; we want one "error:" line, so raise instead.
        raise _UsageError(message)


def _int_in(low: int, high: int):
    # An argparse type: an int in [low, high], with a short message for anything else.
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an int in [{low:,}, {high:,}]; got {short_repr(text)}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be an int in [{low:,}, {high:,}]; got {short_repr(value)}"
            )
        return value

    return parse


def _build_parser() -> _Parser:
    parser = _Parser(prog="python -m creative", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser(
        "render",
        help="render creatives for segments",
        description="Render each segment's creatives (and the generic ones) as images, with "
        "manifest.csv and a contact sheet per audience; rejected variants are listed with "
        "their guardrail reasons.",
    )
    source = r.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", choices=["default"], help="the simulator's default segments (the default)"
    )
    source.add_argument(
        "--audiences", action=PathOption, kind="a file", help="segment profiles, .csv or .toml"
    )
    r.add_argument("--segments", default="all", help="'all' or comma-separated audience ids")
    r.add_argument(
        "--per-segment",
        type=_int_in(1, LIMITS.per_segment),
        default=6,
        help=f"variants per segment (at most {LIMITS.per_segment})",
    )
    r.add_argument(
        "--size",
        choices=["auto", *PLACEMENTS],
        default="auto",
        help="placement; auto (the default) gives mobile-heavy segments the story format "
        "and everyone else the feed",
    )
    r.add_argument("--lang", choices=list(LANGUAGES), help="force the copy language")
    r.add_argument(
        "--templates", action=PathOption, kind="a file", help="extra copy templates, .toml"
    )
    r.add_argument(
        "--catalogue",
        action=PathOption,
        kind="a file",
        metavar="FILE",
        help="your own product catalogue CSV (name, category, price, optional name_ko) "
        "instead of the bundled products",
    )
    r.add_argument(
        "--out",
        action=PathOption,
        kind="a folder",
        default=Path("creatives"),
        help="output directory (creatives)",
    )
    r.add_argument(
        "--seed", type=_int_in(0, LIMITS.seed), default=0,
        help="seed of the variants drawn (0); the same seed, the same image bytes; the "
        "segments stay the default preset's at every seed",
    )  # fmt: skip
    r.add_argument("--format", choices=list(FORMATS), default="png", help="image format (png)")
    return parser


def _preset_audiences() -> list[Audience]:
    # The default preset's segments are those of the simulator's default world (its seed
    # and sizes), whatever --seed says: --seed draws variants, so "segment-0" is the same
    # segment, with the same description and language, at every seed.
    try:
        # Imported here, not at the top: only the entry point may know the simulator.
        from simulation.population import default_audiences
    except ImportError:
        print(
            "note: simulation.population.default_audiences is not available; "
            "using the 3 built-in demo segments.",
            file=sys.stderr,
        )
        return list(DEMO_AUDIENCES)
    return list(default_audiences())


def _select(audiences: list[Audience], spec: str) -> list[Audience]:
    if spec.strip() == "all":
        return audiences
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    if not wanted:
        raise _UsageError("--segments must be 'all' or comma-separated audience ids.")
    by_id = {a.audience_id: a for a in audiences}
    unknown = [s for s in wanted if s not in by_id]
    if unknown:
        known = sorted(by_id)
        raise _UsageError(
            f"unknown segment(s) {_shorten(unknown)}; known: {_shorten(known)}"
            f"{f' ({len(known)} in all)' if len(known) > 10 else ''}."
        )
    return [by_id[s] for s in dict.fromkeys(wanted)]


def _rng(seed: int, audience_id: str) -> np.random.Generator:
    # One stream per audience, keyed by its id: choosing other segments does not
    # change this segment's variants.
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(audience_id.encode())]))


def _shorten(items: list[str], n: int = 10) -> str:
    shown = ", ".join(short_repr(i) for i in items[:n])
    return f"[{shown}{', …' if len(items) > n else ''}]"


def _safe_name(text: str) -> str:
    # A folder name: letters, digits, "-", "_" and inner "." only, so no id can name
    # ".", "..", a hidden folder or a path.
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "audience"
    return f"_{name[1:]}" if name.startswith(".") else name


def _check_folders(audiences: list[Audience]) -> None:
    # Every audience gets its own folder beside generic/ and manifest.csv; two ids that
    # give the same folder (also when only their case differs, as on macOS and Windows)
    # would overwrite each other, so they are refused before any work.
    taken = {"generic": "the control creatives", "manifest.csv": "the manifest"}
    for audience in audiences:
        folder = _safe_name(audience.audience_id)
        other = taken.get(folder.casefold())
        if other is not None:
            raise _UsageError(
                f"audience id {short_repr(audience.audience_id)} would write to folder "
                f"{short_repr(folder)}, which {other} already uses; rename one of them."
            )
        taken[folder.casefold()] = f"audience {short_repr(audience.audience_id)}"


def _write_outputs(
    work: Path, reports: list[tuple[str, str, GenerationReport]], fmt: str
) -> tuple[int, Counter]:
    total = sum(len(r.creatives) for _, _, r in reports)
    rows, rejections = [], Counter()
    with tqdm(
        total=total, desc="rendering", unit="img", disable=not sys.stderr.isatty()
    ) as progress:
        for segment, size, report in reports:
            folder = work / _safe_name(segment)
            folder.mkdir()
            accepted_images = []
            for creative in report.creatives:
                plan = plan_creative(creative, size)
                image = draw_plan(creative, plan)
                name = f"{creative.creative_id}.{'jpg' if fmt == 'jpeg' else fmt}"
                if not creative.guardrail.passed:
                    (folder / "rejected").mkdir(exist_ok=True)
                    name = f"rejected/{name}"
                else:
                    accepted_images.append((creative, image))
                (folder / name).write_bytes(encode_image(image, fmt))
                rows.append(
                    manifest_row(
                        creative, plan, segment=segment, size=size, file=f"{folder.name}/{name}"
                    )
                )
                progress.update(1)
            rejections.update(report.rejection_counts)
            if accepted_images:
                sheet = contact_sheet(
                    [im for _, im in accepted_images],
                    labels=[_sheet_label(c) for c, _ in accepted_images],
                )
                (folder / "contact_sheet.png").write_bytes(encode_image(sheet, "png"))
    with (work / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows), rejections


def _sheet_label(creative: Creative) -> str:
    """A contact sheet's caption: the variant's tone, layout and offer in a marketer's words.

    ``social proof · hero layout · 10 % off``, by :func:`creative.vocabulary.component_name`
    as the app and the report name them; the manifest keeps the codes.
    """
    return (
        f"{component_name('tone', creative.tone)} · "
        f"{component_name('layout', creative.layout)} layout · "
        f"{component_name('offer', creative.offer)}"
    )


def _own_outputs(out: Path) -> set[str] | None:
    """The paths (relative, POSIX) an earlier render wrote into ``out``, from its manifest.

    None when ``out`` holds no readable ``manifest.csv`` with a ``file`` column: then it is
    not an earlier output at all.
    """
    try:
        with (out / "manifest.csv").open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "file" not in reader.fieldnames:
                return None
            files = {row["file"] for row in reader if row.get("file")}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    own = {"manifest.csv"}
    for file in files:
        parts = Path(file).parts
        # Every folder on the way down is ours too, and each audience folder's contact sheet
        # (written only when a variant passed, so never listed in the manifest).
        own.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        own.add(f"{parts[0]}/contact_sheet.png")
    return own


def _foreign_path(out: Path) -> str | None:
    """One path inside ``out`` that no earlier render wrote (the user's own), or None.

    Raises
    ------
    _UsageError
        If ``out`` is a non-empty folder that is not an earlier output at all.
    """
    if not any(out.iterdir()):
        return None
    own = _own_outputs(out)
    if own is None:
        raise _UsageError(
            f"--out {out} is a non-empty directory that is not a previous output "
            "(no manifest.csv); refusing to replace it."
        )
    foreign_dir = None
    for parent, dirs, files in os.walk(out):
        dirs.sort()
        # A file is named before a folder (it says what would be lost); symbolic links to
        # folders show up in ``dirs``, are not followed and are judged by their name.
        for name in sorted(files):
            rel = (Path(parent) / name).relative_to(out).as_posix()
            if rel not in own:
                return rel
        for name in dirs:
            rel = (Path(parent) / name).relative_to(out).as_posix()
            if rel not in own and foreign_dir is None:
                foreign_dir = rel
    return foreign_dir


def _check_replaceable(out: Path) -> None:
    # Replacing the folder deletes what is in it: only adlab's own outputs may go, so a file
    # the user added (notes, an approved final) stops the run instead of vanishing.
    if not out.exists():
        return
    if not out.is_dir():
        raise _UsageError(f"--out {out} exists and is not a directory.")
    foreign = _foreign_path(out)
    if foreign is not None:
        raise _UsageError(
            f"--out {out} holds {short_repr(foreign)}, which no earlier render wrote; "
            "move it elsewhere or choose another --out (only adlab's own outputs are replaced)."
        )


def _publish(work: Path, out: Path) -> None:
    # Replace the output directory in one rename; an old output is removed only after.
    _check_replaceable(out)  # again: the folder may have changed while we rendered
    old = None
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
            os.replace(out, old / "out")
        os.replace(work, out)
    except BaseException:
        # A stop (or a failure) half-way: undo both renames, so the earlier output is where
        # it was, never stranded in the hidden folder, and "nothing was written" holds.
        if not work.exists() and out.exists():
            os.replace(out, work)
        if old is not None:
            if (old / "out").exists():
                os.replace(old / "out", out)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _run(args: argparse.Namespace) -> str:
    templates: TemplateSet | None = load_templates(args.templates) if args.templates else None
    if templates is not None:
        # Refused before anything is written: the images would silently leave them out.
        for template in templates.templates:
            check_drawable(template.text, f"{args.templates}: template {template.name}")
    if args.audiences is not None:
        audiences = read_audiences(args.audiences)
    else:
        audiences = _preset_audiences()
    # The reader simulation run and the app use, against the templates the ads are written
    # from: a name only the user's templates have room for is refused without them.
    catalogue = (
        read_catalogue(args.catalogue, templates=templates) if args.catalogue is not None else None
    )
    audiences = _select(audiences, args.segments)
    _check_folders(audiences)
    n_images = (len(audiences) + 1) * args.per_segment
    if n_images > LIMITS.images:
        raise _UsageError(
            f"this run would render {n_images:,} images ({len(audiences) + 1} audiences incl. "
            f"generic x {args.per_segment} per segment); the limit is {LIMITS.images:,}: "
            "lower --per-segment or choose fewer --segments."
        )
    if args.lang:
        audiences = [dataclasses.replace(a, language=args.lang) for a in audiences]
    # The catalogue the ads name (the user's, else the bundled one), checked as simulation
    # run and compose check a user's.
    named = CATALOGUE if catalogue is None else catalogue
    warning = banned_names_warning(p for products in named.values() for p in products)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)

    # As simulation run stops when a pool is short of ads (n_variants), render stops when an
    # audience gets fewer than --per-segment ads that pass, before writing anything: written,
    # a name near the length bound left hundreds of rejected images and few or no ads.
    files = [
        (kind, path)
        for kind, path in (("catalogue", args.catalogue), ("templates", args.templates))
        if path is not None
    ]

    def enough(whose: str, report: GenerationReport) -> GenerationReport:
        if len(report.accepted) < args.per_segment:
            raise _UsageError(
                shortfall_message(
                    report,
                    args.per_segment,
                    whose,
                    needs="--per-segment asks for",
                    knob="--per-segment",
                    files=files,
                    catalogue=catalogue,
                )
            )
        return report

    generic_size = "feed" if args.size == "auto" else args.size
    reports = [
        (
            "generic",
            generic_size,
            enough(
                "generic",
                generate_generic(
                    args.per_segment,
                    _rng(args.seed, "generic"),
                    language=args.lang or "en",
                    templates=templates,
                    placement=generic_size,
                    catalogue=catalogue,
                ),
            ),
        )
    ]
    for audience in audiences:
        size = recommended_placement(audience) if args.size == "auto" else args.size
        reports.append(
            (
                audience.audience_id,
                size,
                enough(
                    audience.audience_id,
                    generate_for_segment(
                        audience,
                        args.per_segment,
                        _rng(args.seed, audience.audience_id),
                        templates=templates,
                        placement=size,
                        catalogue=catalogue,
                    ),
                ),
            )
        )

    out = args.out.resolve()
    if out.exists() and not out.is_dir():
        raise _UsageError(f"--out {args.out} exists and is not a directory.")
    _check_replaceable(out)  # before the rendering, so a refusal costs nothing
    made: list[Path] = []  # the folders made for --out: removed again unless it is written
    try:
        made = make_folders(out.parent)
        # An ordinary mkdir, not mkdtemp: its folder would stay private (0700) once renamed.
        work = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        work.mkdir()
    except OSError as exc:
        remove_folders(made)
        raise _UsageError(f"cannot write to {args.out}: {exc.strerror or exc}.") from None
    except BaseException:
        remove_folders(made)
        raise
    try:
        n, rejections = _write_outputs(work, reports, args.format)
        _publish(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        remove_folders(made)
        raise
    # Written: a stop from here on no longer means that nothing was.
    args.interrupted = f"the output was already complete in {args.out}"
    why = ", ".join(f"{k} {v}" for k, v in sorted(rejections.items()))
    n_rejected = sum(len(r.rejected) for _, _, r in reports)
    return (
        f"wrote {n} images ({n_rejected} rejected{': ' + why if why else ''}) "
        f"for {len(reports)} audiences (incl. generic) to {args.out}/manifest.csv"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    code : int
        0 on success, 2 on bad input (after one ``error: ...`` line on stderr), 130 when
        interrupted with Ctrl-C and 143 when stopped with ``kill`` (SIGTERM), after one
        ``interrupted: ...`` line.
    """
    args = None
    try:
        # SIGTERM takes Ctrl-C's way out: the work folder and the folders made for --out
        # are removed on the way, where ``kill`` would leave them.
        with sigterm_stops():
            args = _build_parser().parse_args(argv)
            print(_run(args))
    except (_UsageError, ValueError) as exc:
        print(f"error: {plain_text(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or kill: the work folder is removed on the way
        print(
            f"interrupted: {getattr(args, 'interrupted', 'nothing was written')}", file=sys.stderr
        )
        return 143 if isinstance(exc, Terminated) else 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
