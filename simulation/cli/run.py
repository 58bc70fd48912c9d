"""``python -m simulation run``: run an experiment and write its results.

Writes ``DIR/summary.csv`` (one row per policy x level x seed, and world with
``--worlds``), ``DIR/uplift.csv`` (the like-for-like uplift of each level over
the generic one: observed with its interval, beside the expected (true) uplift),
``DIR/timeseries.parquet``, ``DIR/run.json`` (the resolved config, seed and
package versions), with the generated level ``DIR/component_effects.csv``
(mvt_ts's per-component effect estimates with 95 % intervals beside the true
effects, per seed and segment), ``DIR/component_allocation.csv`` (what each policy served,
component by component: impressions and share, per seed and segment) and
``DIR/top_creatives.csv`` (each segment's most-served
composition, by component names; with mvt_ts over the studio's space also rendered, on one
sheet, ``DIR/top_creatives.png``) and, with ``uniform`` and another policy playing it,
``DIR/gap_closed.csv`` (the share of the uniform -> oracle gap each policy closed over the
run, with its interval, and the share of the gap from random ads in the viewer's language
with the language's own share of the gap; also printed), with ``--regenerate-every G``
``DIR/generations.csv``
(every creative the regenerated pools held: generation, parent, changed components,
what it earned while it lived), and saves the run in the run store (``--store``,
``$ADLAB_HOME`` or ``~/.adlab``).

Both or neither: the paths are checked before the simulation starts; the files are written to a
locked temporary folder beside ``DIR``; the run is saved to the store; then the files are moved
into ``DIR`` (earlier files of the same names kept aside until all are in). If moving fails, the
earlier files are put back and the run is deleted from the store again. If saving to the
store fails (a full disk, any ``OSError``), the outputs still go to ``DIR``, and the command
ends with one ``error: ...`` line saying so and exit code 1 (the run is in ``DIR``, not in
the store). Temporary folders of killed runs (``.adlab-run.tmp.*``, and the older
``.DIR.tmp-*``) are removed by the next run once they are an hour old and no live run holds
them.

``DIR`` must lie outside the run store (writing there would damage a saved run). In a ``DIR``
an earlier run wrote (it holds ``run.json``), that run's files this one does not write (an old
``logs.parquet``) are removed, so the folder describes one run. Ctrl-C and ``kill`` (SIGTERM)
stop the same way: the forked workers end, the temporary folder goes, nothing is saved (a run
that had already reached the store is deleted from it again). A refused or stopped run also
removes the folders it made for ``DIR``, and creates no store until ``DIR``'s folder is known
to be writable.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from simulation.cli.common import (
    MAX_NAME,
    PathOption,
    UsageError,
    check_name,
    check_outside_store,
    open_store,
    plain_text,
    positive_int,
    remove_earlier_outputs,
    warn_banned_names,
)
from simulation.config import (
    LEVELS,
    MAX_WORLDS,
    OBJECTIVES,
    PRESETS,
    ExperimentConfig,
    canonical_policy,
    load_config,
)
from simulation.gap_closed import gap_has_rows, gap_sentences
from simulation.generated.policies import GENERATED_POLICIES
from simulation.inputs import read_inputs, resolve_inputs
from simulation.interval_words import headline_note
from simulation.metrics import UPLIFT_COLUMNS, interval_over
from simulation.policies.registry import POLICIES
from simulation.store.fs import clean_stale, locked_workdir, make_folders, remove_folders
from simulation.store.paths import resolve_root
from simulation.uplift_text import uplift_headline, world_caveat

__all__ = ["RUN_OUTPUTS", "package_versions", "register", "split_policies"]

#: Every file ``run`` can write into ``--out``: an earlier run's files that this run does
#: not write are removed, so the folder describes one run.
RUN_OUTPUTS: tuple[str, ...] = (
    "summary.csv", "uplift.csv", "timeseries.parquet", "run.json", "logs.parquet",
    "component_effects.csv", "component_allocation.csv", "top_creatives.csv",
    "top_creatives.png", "gap_closed.csv", "generations.csv",
)  # fmt: skip


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages results depend on."""
    out = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "scikit-learn", "scipy", "pillow", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are required
            out[name] = "missing"
    return out


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` sub-command."""
    p = subparsers.add_parser(
        "run",
        help="run an experiment (policies x personalization levels x seeds)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "--config", action=PathOption, kind="a file", help="TOML file of experiment settings"
    )
    p.add_argument("--preset", choices=sorted(PRESETS), help="named starting point (default)")
    pool = sorted(n for n, c in POLICIES.items() if not c.wraps_policies)
    composing = sorted(set(GENERATED_POLICIES) - set(POLICIES))
    p.add_argument(
        "--policies",
        help=f"comma-separated policy specs: {', '.join(pool)} (segment:NAME: one copy per "
        f"segment; NAME(key=value, ...): its settings, e.g. 'epsilon_greedy(epsilon=0.05)'); "
        f"{', '.join(composing)} (the generated level only)",
    )
    p.add_argument("--levels", help=f"comma-separated levels from {','.join(LEVELS)}")
    p.add_argument("--impressions", type=positive_int, help="impressions per policy and level")
    p.add_argument("--batch-size", type=positive_int, help="impressions between policy updates")
    p.add_argument("--seeds", type=positive_int, help="number of replications")
    p.add_argument("--seed", type=int, help="the base seed")
    p.add_argument(
        "--worlds",
        type=positive_int,
        help=f"repeat the experiment in N worlds (hidden parameters redrawn; at most "
        f"{MAX_WORLDS}); intervals are then over world means, covering world-to-world variation",
    )
    p.add_argument("--objective", choices=OBJECTIVES, help="what policies maximize")
    p.add_argument("--budget", type=float, help="spend cap (USD) per policy and level")
    p.add_argument("--users", type=positive_int, help="audience size")
    p.add_argument("--segments", type=positive_int, help="number of segments")
    p.add_argument(
        "--segments-file",
        action=PathOption,
        kind="a file",
        convert=str,
        metavar="FILE",
        help="your own segments (CSV or TOML); the audience is drawn around them",
    )
    p.add_argument(
        "--catalogue",
        action=PathOption,
        kind="a file",
        convert=str,
        metavar="FILE",
        help="your own product catalogue CSV (name, category, price, optional name_ko)",
    )
    p.add_argument(
        "--templates",
        action=PathOption,
        kind="a file",
        convert=str,
        metavar="FILE",
        help="your own copy templates TOML (extends the bundled)",
    )
    p.add_argument(
        "--regenerate-every",
        type=positive_int,
        metavar="G",
        help="every G impressions retire each pool's weakest creatives and breed children "
        "of its best (generic and segment levels); writes generations.csv",
    )
    p.add_argument(
        "--out",
        action=PathOption,
        kind="a folder",
        convert=str,
        default="out",
        help="output folder (default: out)",
    )
    p.add_argument("--log", action="store_true", help="also write impression-level logs.parquet")
    p.add_argument(
        "--store",
        action=PathOption,
        kind="a folder",
        convert=str,
        help="run store folder (default: $ADLAB_HOME, else ~/.adlab); every run is saved there",
    )
    p.add_argument(
        "--name", help=f"a name for the run in the store (at most {MAX_NAME} characters)"
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(handler=run_command)


def resolve_config(args: argparse.Namespace) -> ExperimentConfig:
    """Preset, then config file, then flags; raise :class:`UsageError` on bad input."""
    base = PRESETS[args.preset or "default"]
    try:
        config = load_config(args.config, base=base) if args.config else base
        changes = {}
        if args.policies is not None:
            changes["policies"] = split_policies(args.policies)
        if args.levels is not None:
            changes["levels"] = tuple(p.strip() for p in args.levels.split(",") if p.strip())
        for flag, key in (
            ("impressions", "n_impressions"),
            ("batch_size", "batch_size"),
            ("seeds", "n_seeds"),
            ("worlds", "n_worlds"),
            ("seed", "seed"),
            ("objective", "objective"),
            ("budget", "budget"),
            ("users", "n_users"),
            ("segments", "n_segments"),
            ("segments_file", "segments_file"),
            ("catalogue", "catalogue_file"),
            ("templates", "templates_file"),
            ("regenerate_every", "regenerate_every"),
        ):
            value = getattr(args, flag, None)
            if value is not None:
                changes[key] = value
        config = config.replace(**changes) if changes else config
        if args.segments is not None and config.segments_file is not None:
            raise ValueError(
                "--segments and --segments-file do not go together: the file's segments "
                "are the segments."
            )
        return resolve_inputs(config)[0]
    except (ValueError, TypeError) as exc:
        # Plain text, as ope --policy prints a bad spec: the library's messages are written
        # for rendered markdown ("`epsilon` must be ..."); on a terminal backticks are noise.
        raise UsageError(plain_text(str(exc))) from None


def split_policies(text: str) -> tuple[str, ...]:
    """Split ``--policies`` at its top-level commas.

    A comma inside brackets separates a policy spec's settings
    (``thompson(prior_alpha=2, prior_beta=3)``), not two policies. Each spec is
    written canonically (:func:`simulation.config.canonical_policy`: the text its
    rows and the store name it by); one that does not parse reaches the config's
    check as typed, which says what is wrong with it.

    Examples
    --------
    >>> split_policies("uniform, segment:thompson(prior_alpha=2,prior_beta=3)")
    ('uniform', 'segment:thompson(prior_alpha=2, prior_beta=3)')
    """
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)  # an unmatched ")" is the spec parser's to report
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return tuple(canonical_policy(p.strip()) for p in parts if p.strip())


#: Prefix of the temporary folder beside ``--out``; short, so any valid ``--out`` name fits.
TMP_PREFIX = ".adlab-run.tmp"
#: Prefix of the folder inside ``--out`` that holds replaced files until the publish is done.
OLD_PREFIX = ".adlab-run.old-"
#: Temporary folders of killed runs are removed once they are this old (seconds).
STALE_AFTER = 3600.0


def _limit(path: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(path, name)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not POSIX
        return default


def check_out(text: str, outputs: tuple[str, ...]) -> Path:
    """Return ``--out`` as an absolute path, or raise :class:`UsageError` saying what is wrong.

    Everything that can be known before the simulation runs is checked: an empty value, names
    longer than the file system allows, a file in the way, a folder where an output file goes,
    and a parent that cannot be written.
    """
    if not text.strip():
        raise UsageError("--out must be a folder; got an empty string")
    out = Path(os.path.abspath(Path(text).expanduser()))
    anchor = next((q for q in (out, *out.parents) if os.path.lexists(q)), Path(out.anchor))
    name_max = _limit(anchor, "PC_NAME_MAX", 255)
    path_max = _limit(anchor, "PC_PATH_MAX", 4096)
    for part in out.parts[1:]:
        size = len(os.fsencode(part))
        if size > name_max:
            raise UsageError(
                f"--out has a folder name of {size} bytes; the file system allows {name_max}"
            )
    longest = max(len(os.fsencode(out / name)) for name in outputs)
    if longest >= path_max:
        raise UsageError(f"--out is too long: {longest} bytes with its files, limit {path_max}")
    try:
        out = out.resolve()
    except OSError as exc:
        raise UsageError(f"cannot use --out {out}: {(exc.strerror or str(exc)).lower()}") from None
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    for name in outputs:
        if (out / name).is_dir():
            raise UsageError(f"--out {out} holds a folder named {name}; move it away first")
    anchor = next(q for q in (out, *out.parents) if q.exists())
    if not anchor.is_dir():
        raise UsageError(f"cannot write to {out}: {anchor} is a file")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {anchor}: permission denied")
    return out


def run_command(args: argparse.Namespace) -> int:
    """Handler of ``run``."""
    from simulation.composition_truth import gap_with_floor
    from simulation.engine.core import run_experiment
    from simulation.engine.generated import log_note, logged_pairs, skip_notes
    from simulation.scenario import build_scenario

    config = resolve_config(args)
    try:
        # The files' content hashes, recorded with the run (checked by resolve_config).
        own = read_inputs(config)
    except ValueError as exc:  # changed or removed since it was checked
        raise UsageError(plain_text(str(exc))) from None
    inputs = own.files
    warn_banned_names(own.catalogue)
    outputs = ("summary.csv", "uplift.csv", "timeseries.parquet", "run.json")
    if args.log:
        if not logged_pairs(config):
            raise UsageError(
                "--log records the pool levels (generic, segment, user), and --levels has "
                "none: the generated level's compositions are not logged"
            )
        if config.n_worlds > 1:  # the engine's rule, checked before anything runs
            raise UsageError(
                f"--log records one world's impressions; this run has {config.n_worlds} "
                "worlds (--worlds or n_worlds): drop --log or run one world"
            )
        outputs += ("logs.parquet",)
    if "generated" in config.levels:
        outputs += ("component_effects.csv", "component_allocation.csv", "top_creatives.csv")
        if gap_has_rows(config):
            outputs += ("gap_closed.csv",)
        if "mvt_ts" in config.policies and config.space == "default":
            outputs += ("top_creatives.png",)
    if config.regenerate_every is not None:
        outputs += ("generations.csv",)
    check_name(args.name)
    out = check_out(args.out, outputs)
    # Before the store is opened (which creates it): a refused run leaves nothing.
    check_outside_store(out, resolve_root(args.store))
    try:
        # Built here (as run_experiment would) to render the generated level's creatives,
        # and before any folder or the store is made: inputs that cannot make the ads
        # (too few pass the guardrails) are refused with nothing created.
        scenario = build_scenario(config)
    except ValueError as exc:
        raise UsageError(plain_text(str(exc))) from None
    try:
        made = make_folders(out.parent)  # removed again unless the run reaches --out
    except OSError as exc:
        raise UsageError(f"cannot write to {out.parent}: {exc.strerror or exc}") from None
    bar = None
    try:
        clean_stale(out.parent, STALE_AFTER, prefixes=(TMP_PREFIX, f".{out.name}.tmp-"))
        if out.is_dir():
            clean_stale(out, STALE_AFTER, prefixes=(OLD_PREFIX,))
        with contextlib.ExitStack() as stack:
            try:
                tmp = stack.enter_context(locked_workdir(out.parent, TMP_PREFIX))
            except OSError as exc:  # a parent os.access let through (/proc, a read-only mount)
                reason = (exc.strerror or str(exc)).lower()
                raise UsageError(f"cannot write to {out.parent}: {reason}") from None
            # Opened (and created) once --out's folder is known to be writable: a run
            # refused for --out leaves no new store behind.
            store = open_store(args.store)
            show = not args.no_progress and sys.stderr.isatty()
            if show:
                from tqdm import tqdm

                # Impressions over seeds, worlds and the pairs played; the engine
                # gives the total with its first report.
                bar = tqdm(total=None, unit=" impressions", unit_scale=True)

            def progress(done: int, total: int) -> None:
                if bar is not None:
                    if bar.total != total:
                        bar.total = total
                    bar.update(done - bar.n)

            for note in skip_notes(config):  # (level, policy) pairs that do not apply
                print(note)
            if args.log and log_note(config):
                print(log_note(config))
            result = run_experiment(
                config,
                scenario=scenario,
                progress=progress,
                log_path=tmp / "logs.parquet" if args.log else None,
            )
            summary, run_id, store_error = _write_and_save(
                tmp, result, config, store, args, inputs, scenario=scenario, outputs=outputs
            )
            try:
                earlier = (out / "run.json").is_file()  # this folder holds an earlier run
                written = [q.name for q in tmp.iterdir() if q.name in RUN_OUTPUTS]
                _publish(tmp, out)
            except OSError as exc:
                # Neither half: the store gives the run back up, --out keeps its old files.
                _unsave(store, run_id)
                reason = (exc.strerror or str(exc)).lower()
                where = exc.filename or out
                raise UsageError(
                    f"cannot write to {where}: {reason}; the run was not kept in the store either"
                ) from None
            except BaseException:  # a stop: _publish put the old files back; so does the store
                _unsave(store, run_id)
                raise
            if earlier:
                remove_earlier_outputs(out, RUN_OUTPUTS, written)
    except BaseException:
        remove_folders(made)  # a refusal or a stop leaves the file system as it was
        raise
    finally:
        if bar is not None:
            bar.close()
    saved = f"saved as run {run_id}" if run_id is not None else "not saved to the run store"
    print(f"wrote {out}/{', '.join(n for n in outputs if (out / n).exists())}; {saved}")
    stops = budget_stops(summary)
    if stops:
        first = min(stops, key=lambda r: r["stopped_at_impression"])
        print(
            f"the budget of ${config.budget:,.2f} stopped {len(stops)} of {len(summary)} runs "
            f"before {config.n_impressions:,} impressions (earliest: {first['policy']} at the "
            f"{first['level']} level, seed {first['seed']}, after "
            f"{first['stopped_at_impression']:,} impressions)"
        )
    for line in results_printout(summary, result.uplift_frame(), config.objective):
        print(line)
    for line in gap_sentences(gap_with_floor(result, scenario)):
        print(line)
    if store_error is not None:
        # Not a usage error (exit 2): the command did its work, only the store could not keep it.
        reason = store_error.strerror or str(store_error)
        print(
            f"error: the run's outputs are in --out {out}, but it could not be saved to the "
            f"run store ({store.root}): {reason}",
            file=sys.stderr,
        )
        return 1
    return 0


def _unsave(store, run_id: str | None) -> None:
    """Delete a run this command saved, when its outputs did not reach ``--out``."""
    if run_id is not None:
        with contextlib.suppress(LookupError, OSError):
            store.delete(run_id)


def results_printout(summary, uplift, objective: str) -> list[str]:
    """What the command prints after a run: the means per level and policy, then the answer.

    Every number says whether it is observed or true and what it is a mean over; the
    answer is the like-for-like uplift's headline (observed, with its interval), as the
    app and the report say it: with one replication the sentences give observed values and
    one line under them says there is no interval
    (:func:`simulation.interval_words.headline_note`).

    Parameters
    ----------
    summary : DataFrame
        ``ExperimentResult.summary_frame()``: one row per policy x level (x world) x seed.
    uplift : DataFrame
        ``ExperimentResult.uplift_frame()``.
    objective : {"ctr", "roas"}

    Returns
    -------
    lines : list of str
    """
    lost = "expected clicks" if objective == "ctr" else "expected net value (USD)"
    table = summary.groupby(["level", "policy"], sort=False)[["ctr", "roas", "regret"]].mean()
    table.columns = ["CTR (observed)", "ROAS (observed)", "regret (true)"]
    table["CTR (observed)"] = [f"{100 * v:.3f} %" for v in table["CTR (observed)"]]
    lines = [
        f"mean over {interval_over(summary)}; regret: the {lost} lost against always "
        "showing each visitor the best ad of its level",
        table.to_string(float_format=lambda v: f"{v:,.2f}"),
    ]
    # One replication: one line says there is no interval, not each sentence (the app's).
    single = headline_note(summary)
    headline = uplift_headline(uplift, objective, interval_noted=single is not None)
    if headline:
        lines.append(
            "Observed, the best policy at each level against the best at the generic level:"
        )
        lines.extend(f"  {line}" for line in headline)
        if single:
            lines.append(f"  {single}")
        caveat = world_caveat(summary)
        if caveat:
            lines.append(f"  {caveat}")
    return lines


def budget_stops(summary) -> list[dict]:
    """The (policy, level, seed) runs a spend cap stopped, for ``run.json``.

    Each is ``{"policy", "level", "seed", "stopped_at_impression", "spend"}``: the
    impressions served before the budget ran out and what they cost.
    """
    stopped = summary[summary["stopped_at_impression"].notna()]
    return [
        {
            "policy": str(row.policy),
            "level": str(row.level),
            "seed": int(row.seed),
            "stopped_at_impression": int(row.stopped_at_impression),
            "spend": round(float(row.spend), 2),
        }
        for row in stopped.itertuples(index=False)
    ]


def _write_and_save(
    tmp: Path,
    result,
    config: ExperimentConfig,
    store,
    args,
    inputs: dict | None = None,
    *,
    scenario=None,
    outputs: tuple[str, ...] = (),
) -> tuple:
    """Write the output files into ``tmp`` and save the run.

    Returns the summary, the run id and None; or, when the store could not save the run (an
    ``OSError``, e.g. a full disk: the store is left as it was), the summary, None and that
    error, with the outputs written all the same (``run.json``'s ``run_id`` is then null).
    ``inputs`` (kind -> ``{"path", "sha256"}``) are the user's files the run used;
    ``scenario`` the run's world (renders ``top_creatives.png`` when in ``outputs``).
    """
    summary = result.summary_frame()
    # The stored summary's columns in its order (engine.core.SUMMARY_COLUMNS; `world` before `seed`
    # when several worlds ran): `runs export` of this run writes the same table.
    summary.to_csv(tmp / "summary.csv", index=False)
    uplift = result.uplift_frame()
    uplift.loc[:, list(UPLIFT_COLUMNS)].to_csv(tmp / "uplift.csv", index=False)
    timeseries = result.timeseries_frame()
    timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
    tables = {
        "allocation": result.allocation_frame(),
        "segments": result.segment_frame(),
        "uplift": uplift,
    }
    if result.generated is not None:  # mvt_ts's beliefs beside the truth; what it served
        effects, top = result.component_effects_frame(), result.top_creatives_frame()
        effects.to_csv(tmp / "component_effects.csv", index=False)
        from simulation.generated.compositions import readable_compositions

        space = scenario.levels["generated"].space if scenario is not None else None
        names = dict(zip(space.axis_names, space.level_names or ())) if space else {}
        readable_compositions(top, names).to_csv(tmp / "top_creatives.csv", index=False)
        served = result.component_allocation_frame()
        served.to_csv(tmp / "component_allocation.csv", index=False)
        tables.update(component_effects=effects, top_creatives=top, component_allocation=served)
        if "top_creatives.png" in outputs:
            from simulation.scenario import most_served_sheet

            sheet = most_served_sheet(scenario, top)
            if sheet is not None:
                (tmp / "top_creatives.png").write_bytes(sheet)
    if "gap_closed.csv" in outputs:  # how far each policy got from uniform to the oracle
        # ...and from random ads in the viewer's language (the world's true floor).
        from simulation.composition_truth import gap_with_floor

        gap = gap_with_floor(result, scenario)
        gap.to_csv(tmp / "gap_closed.csv", index=False)
        tables["gap_closed"] = gap
    if result.generations is not None:  # the regenerated pools' lineage
        generations = result.generations_frame()
        generations.to_csv(tmp / "generations.csv", index=False)
        tables["generations"] = generations
    run = {
        "config": config.to_dict(),
        "seed": config.seed,
        "versions": package_versions(),
        "elapsed_seconds": round(result.elapsed_seconds, 3),
        "budget_stops": budget_stops(summary),
        "inputs": dict(inputs or {}),
    }
    run_id, store_error = None, None
    try:
        run_id = store.save(
            config=config.to_dict(),
            seed=config.seed,
            summary=summary,
            timeseries=timeseries,
            tables=tables,
            log_path=_copy_log(tmp) if args.log else None,
            source="cli",
            name=args.name,
            inputs=inputs or None,
        )
    except OSError as exc:  # the store's disk, not --out's: the outputs are still worth keeping
        store_error = exc
    try:
        run["run_id"] = run_id
        (tmp / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    except BaseException:  # a stop or a failure now: the run must not stay in the store alone
        _unsave(store, run_id)
        raise
    return summary, run_id, store_error


def _copy_log(tmp: Path) -> Path:
    """A second name for the log, for the store (which takes over what it is given).

    A hard link costs no copy of a log that may be gigabytes; a copy is the
    fallback where links are not supported.
    """
    copy = tmp / "store-log.parquet"
    try:
        os.link(tmp / "logs.parquet", copy)
    except OSError:
        shutil.copyfile(tmp / "logs.parquet", copy)
    return copy


def _place(src: Path, dst: Path) -> None:
    """Move one file into place (a rename: same file system, since ``tmp`` is beside ``out``)."""
    os.rename(src, dst)


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished files into ``out`` (created if needed): all of them, or none.

    Files of the same names already in ``out`` are moved into a hidden folder first and put
    back if any step fails; on success they are removed.
    """
    created = not out.exists()
    out.mkdir(exist_ok=True)
    (tmp / "store-log.parquet").unlink(missing_ok=True)
    old = Path(tempfile.mkdtemp(prefix=OLD_PREFIX, dir=out))
    set_aside, placed = [], []
    try:
        for item in sorted(tmp.iterdir()):
            dst = out / item.name
            if os.path.lexists(dst):
                os.rename(dst, old / item.name)
                set_aside.append(item.name)
            _place(item, dst)
            placed.append(item.name)
    except BaseException:
        for name in placed:
            with contextlib.suppress(OSError):
                os.rename(out / name, tmp / name)
        for name in set_aside:
            with contextlib.suppress(OSError):
                os.rename(old / name, out / name)
        shutil.rmtree(old, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)
