"""``python -m simulation run``: run an experiment and write its results.

Writes ``DIR/summary.csv`` (one row per policy x level x seed),
``DIR/timeseries.parquet`` and ``DIR/run.json`` (the resolved config, seed and
package versions), and saves the run in the run store (``--store``,
``$ADLAB_HOME`` or ``~/.adlab``). Everything is written to a temporary folder beside ``DIR``
and moved into place at the end, so a failed run leaves nothing partial.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from simulation.cli.common import UsageError, positive_int
from simulation.config import LEVELS, OBJECTIVES, PRESETS, ExperimentConfig, load_config

__all__ = ["package_versions", "register"]

SUMMARY_COLUMNS = (
    "policy", "level", "seed", "impressions", "clicks", "conversions", "spend", "revenue",
    "ctr", "cvr", "roas", "regret",
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
    p.add_argument("--config", type=Path, help="TOML file of experiment settings")
    p.add_argument("--preset", choices=sorted(PRESETS), help="named starting point (default)")
    p.add_argument("--policies", help="comma-separated policy names, e.g. thompson,ucb1,lin_ucb")
    p.add_argument("--levels", help=f"comma-separated levels from {','.join(LEVELS)}")
    p.add_argument("--impressions", type=positive_int, help="impressions per policy and level")
    p.add_argument("--batch-size", type=positive_int, help="impressions between policy updates")
    p.add_argument("--seeds", type=positive_int, help="number of replications")
    p.add_argument("--seed", type=int, help="the base seed")
    p.add_argument("--objective", choices=OBJECTIVES, help="what policies maximize")
    p.add_argument("--budget", type=float, help="spend cap (USD) per policy and level")
    p.add_argument("--users", type=positive_int, help="audience size")
    p.add_argument("--segments", type=positive_int, help="number of segments")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument("--log", action="store_true", help="also write impression-level logs.parquet")
    p.add_argument(
        "--store",
        type=Path,
        help="run store folder (default: $ADLAB_HOME, else ~/.adlab); every run is saved there",
    )
    p.add_argument("--name", help="a name for the run in the store")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(handler=run_command)


def resolve_config(args: argparse.Namespace) -> ExperimentConfig:
    """Preset, then config file, then flags; raise :class:`UsageError` on bad input."""
    base = PRESETS[args.preset or "default"]
    try:
        config = load_config(args.config, base=base) if args.config else base
        changes = {}
        if args.policies is not None:
            changes["policies"] = tuple(p.strip() for p in args.policies.split(",") if p.strip())
        if args.levels is not None:
            changes["levels"] = tuple(p.strip() for p in args.levels.split(",") if p.strip())
        for flag, key in (
            ("impressions", "n_impressions"),
            ("batch_size", "batch_size"),
            ("seeds", "n_seeds"),
            ("seed", "seed"),
            ("objective", "objective"),
            ("budget", "budget"),
            ("users", "n_users"),
            ("segments", "n_segments"),
        ):
            value = getattr(args, flag)
            if value is not None:
                changes[key] = value
        return config.replace(**changes) if changes else config
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def _prepare_out(out: Path) -> Path:
    """Check ``out`` can be written and make a temporary sibling folder."""
    out = out.resolve()
    parent = out.parent
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as exc:
        raise UsageError(f"cannot write to {parent}: {exc.strerror or exc}") from None


def run_command(args: argparse.Namespace) -> int:
    """Handler of ``run``."""
    from simulation.engine.core import run_experiment
    from simulation.store.run_store import RunStore

    config = resolve_config(args)
    try:
        store = RunStore.open(args.store)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot open the run store: {exc}") from None
    tmp = _prepare_out(args.out)
    bar = None
    try:
        show = not args.no_progress and sys.stderr.isatty()
        if show:
            from tqdm import tqdm

            bar = tqdm(total=config.n_seeds * len(config.levels) * config.n_batches, unit="batch")

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done - bar.n)

        result = run_experiment(
            config, progress=progress, log_path=tmp / "logs.parquet" if args.log else None
        )
        summary = result.summary_frame()
        summary.loc[:, list(SUMMARY_COLUMNS)].to_csv(tmp / "summary.csv", index=False)
        timeseries = result.timeseries_frame()
        timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        run = {
            "config": config.to_dict(),
            "seed": config.seed,
            "versions": package_versions(),
            "elapsed_seconds": round(result.elapsed_seconds, 3),
        }
        run_id = store.save(
            config=config.to_dict(),
            seed=config.seed,
            summary=summary,
            timeseries=timeseries,
            tables={"allocation": result.allocation_frame(), "segments": result.segment_frame()},
            log_path=_copy_log(tmp) if args.log else None,
            source="cli",
            name=args.name,
        )
        run["run_id"] = run_id
        (tmp / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
        _publish(tmp, args.out.resolve())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    print(f"wrote {args.out}/summary.csv, timeseries.parquet, run.json; saved as run {run_id}")
    print(
        summary.groupby(["level", "policy"], sort=False)[["ctr", "roas", "regret"]]
        .mean()
        .to_string()
    )
    return 0


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


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished files into ``out`` (created if needed), replacing old ones."""
    out.mkdir(exist_ok=True)
    (tmp / "store-log.parquet").unlink(missing_ok=True)
    for item in tmp.iterdir():
        os.replace(item, out / item.name)
    tmp.rmdir()
