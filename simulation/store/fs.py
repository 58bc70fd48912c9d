"""File-system helpers for the run store: durable writes, locked work dirs, stale clean-up.

Also the folders a command makes for its output (:func:`make_folders`), which it removes
again (:func:`remove_folders`) when it is refused or stopped before the output is written.

A run is assembled in a *work dir* under ``root/tmp`` and published by renaming that directory
into ``root/runs``. The writer holds an advisory ``flock`` on the work dir for as long as it
lives; the operating system drops the lock when the process dies, even by SIGKILL, so a work dir
that can be locked by somebody else belongs to a dead writer and may be removed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

# One copy of the folder helpers, in the lowest layer (the studio's command line uses them too).
from creative.cli_safety import make_folders, remove_folders

try:  # POSIX only; elsewhere stale work dirs are recognised by age alone.
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None

__all__ = [
    "checkpoint",
    "clean_stale",
    "fsync_dir",
    "locked_workdir",
    "make_folders",
    "remove_folders",
    "write_json",
    "write_parquet",
]

#: Without ``flock`` a work dir counts as abandoned only after this many seconds.
_UNLOCKABLE_STALE_AFTER = 24 * 3600.0


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (after a create or rename) to disk, where the OS allows it."""
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as Parquet and flush it to disk.

    The fsync matters only for power loss; a killed process is already covered by the
    rename-to-publish step, but a published run should not turn out empty after a crash.
    """
    frame.to_parquet(path)
    _fsync_file(path)


def write_json(obj: object, path: Path) -> None:
    """Write ``obj`` as indented UTF-8 JSON to ``path`` and flush it to disk."""
    with path.open("w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _lock(fd: int, blocking: bool) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        return not blocking
    flags = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
    try:
        fcntl.flock(fd, flags)
    except BlockingIOError:
        return False
    return True


@contextmanager
def locked_workdir(tmp_dir: Path, label: str) -> Iterator[Path]:
    """Create a fresh directory under ``tmp_dir`` and hold a lock on it while the block runs.

    Parameters
    ----------
    tmp_dir : Path
        Parent of all work dirs (``root/tmp``).
    label : str
        Readable prefix of the directory name, e.g. the run id.

    Yields
    ------
    path : Path
        The new, empty, locked directory. If the block publishes it by renaming, the lock moves
        with it; whatever is left at ``path`` afterwards is removed.
    """
    path = Path(tmp_dir) / f"{label}.{os.getpid()}.{os.urandom(4).hex()}"
    path.mkdir()
    fd = os.open(path, os.O_RDONLY)
    try:
        _lock(fd, blocking=True)
        yield path
    finally:
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def clean_stale(tmp_dir: Path, grace: float, prefixes: tuple[str, ...] | None = None) -> list[Path]:
    """Remove work dirs left behind by dead writers.

    A directory is removed only if it is older than ``grace`` seconds *and* nobody holds its
    lock. The age check closes the short window between a writer's ``mkdir`` and its ``flock``.

    Parameters
    ----------
    tmp_dir : Path
        Parent of all work dirs.
    grace : float
        Minimum age in seconds (by the latest of mtime and ctime).
    prefixes : tuple of str or None
        Consider only directories whose names start with one of these (for folders shared
        with other files, such as the parent of ``run --out``); every directory when None.

    Returns
    -------
    removed : list of Path
        The directories that were removed.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(tmp_dir))
    except FileNotFoundError:
        return removed
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if prefixes is not None and not entry.name.startswith(prefixes):
                continue
            st = entry.stat(follow_symlinks=False)
            age = now - max(st.st_mtime, st.st_ctime)
            if age < grace:
                continue
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:  # another process cleaned or published it meanwhile
            continue
        try:
            # Without flock (Windows) only age can tell that a writer is gone.
            owned = _lock(fd, blocking=False) if fcntl else age >= _UNLOCKABLE_STALE_AFTER
            if owned:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
        finally:
            os.close(fd)
    return removed


def checkpoint(step: str) -> None:
    """Test hook between the steps of a write; does nothing unless an env variable asks.

    ``ADLAB_STORE_TEST_PAUSE=<step>`` prints ``paused at <step>`` to stderr and sleeps, so a test
    can SIGKILL the writer at exactly that point; ``ADLAB_STORE_TEST_DELAY=<seconds>`` sleeps at
    every step, so a test can kill at random moments.
    """
    pause = os.environ.get("ADLAB_STORE_TEST_PAUSE")
    delay = os.environ.get("ADLAB_STORE_TEST_DELAY")
    if pause is None and delay is None:
        return
    if pause == step:
        # One write of the whole line: print() writes the text and the newline apart,
        # and stderr writes through, so two paused writers sharing the pipe could
        # interleave ("paused at metapaused at log") and the test never saw its line.
        sys.stderr.write(f"paused at {step}\n")
        sys.stderr.flush()
        time.sleep(600)
    if delay:
        time.sleep(float(delay))
