"""Export of one stored run to CSV or Parquet files, staged and published in one rename."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from simulation.store.fs import make_folders, remove_folders

__all__ = ["ExportExistsError", "export_run"]


class ExportExistsError(FileExistsError):
    """An earlier export of the run is in the way (pass ``overwrite=True`` to replace it)."""


def _convert(src: Path, dst_stem: Path, fmt: str) -> Path:
    if fmt == "parquet":
        dst = dst_stem.with_suffix(".parquet")
        shutil.copyfile(src, dst)  # byte-for-byte: dtypes and index survive exactly
        return dst
    dst = dst_stem.with_suffix(".csv")
    if src.name == "log.parquet":
        # Logs can be far larger than memory: stream them batch by batch.
        parquet = pq.ParquetFile(src)
        with pacsv.CSVWriter(dst, parquet.schema_arrow) as writer:
            for batch in parquet.iter_batches():
                writer.write_batch(batch)
        return dst
    frame = pd.read_parquet(src)
    frame.to_csv(dst, index=not isinstance(frame.index, pd.RangeIndex))
    return dst


def export_run(
    run_dir: Path, out_dir: Path, fmt: str, *, files: list[str], overwrite: bool = False
) -> list[Path]:
    """Copy a published run directory to ``out_dir/<run_id>/`` in ``fmt``.

    Parameters
    ----------
    run_dir : Path
        ``root/runs/<run_id>``.
    out_dir : Path
        Parent of the export (created if missing; removed again if the export fails and it was
        created here).
    fmt : {"csv", "parquet"}
        Table format.
    files : list of str
        The run's Parquet files, relative to ``run_dir`` (``tables/<name>.parquet`` included),
        as ``meta.json`` lists them: a missing one fails the export instead of being skipped.
    overwrite : bool
        Replace an existing ``out_dir/<run_id>``.

    Returns
    -------
    paths : list of Path
        The exported files, sorted.

    Raises
    ------
    ExportExistsError
        If ``out_dir/<run_id>`` exists and ``overwrite`` is false.
    NotADirectoryError
        If ``out_dir`` (or one of its parents) is a file.
    OSError
        If ``out_dir`` cannot be written.
    """
    run_id = run_dir.name
    out_dir = Path(out_dir).expanduser().resolve()
    for parent in (out_dir, *out_dir.parents):
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "a file is in the way", str(parent))
            break
    target = out_dir / run_id
    if target.exists() and not overwrite:
        raise ExportExistsError(f"{target} already exists")
    # The folders made here are removed again on failure, also when the last one cannot be
    # made (a name too long) after its parents were.
    made = make_folders(out_dir)
    staging = out_dir / f".{run_id}.export-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        staging.mkdir()
        shutil.copyfile(run_dir / "meta.json", staging / "meta.json")
        for rel in files:
            dst_stem = staging / Path(rel).with_suffix("")
            dst_stem.parent.mkdir(exist_ok=True)
            _convert(run_dir / rel, dst_stem, fmt)
        if target.exists():  # overwrite: move the old export aside first, then swap
            old = out_dir / f".{run_id}.old-{os.urandom(4).hex()}"
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_folders(made)
        raise
    return sorted(p for p in target.rglob("*") if p.is_file())
