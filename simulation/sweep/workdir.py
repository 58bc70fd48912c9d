"""The app's resume folders: ``root/sweep-work/<fingerprint>/``, removed once a sweep is saved.

The app runs a sweep in a folder named by its grid's fingerprint, so the same sweep run
again after a Stop (or a crash) finds its finished runs and resumes. Once the finished
sweep is saved in the run store, the folder has nothing left to give (its table is in
``sweeps/<id>/``) and is removed; a stopped or failed sweep keeps it.

Two sessions may run the same grid at once, in the same folder: each holds a shared
``flock`` on ``sweep-work/<fingerprint>.lock`` while it uses the folder, and the folder is
removed only by the one that can then take the lock alone (the others are still running
in it; the last to finish removes it). A session that opened the lock file just before it
was removed notices (the path no longer names its file) and opens the new one.

A folder left by a session that crashed, or by a sweep stopped and never run again, would
stay for ever: a sweep the app starts first removes the other resume folders nobody has
written to for :data:`STALE_WORK_AFTER` seconds (a day), by the same rule, only when it
can take their lock alone (no live session runs in them), and only the folders and lock
files this module names, inside the store root's ``sweep-work/``
(:func:`clean_stale_work`). A sweep's own folder is never removed on entering it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from simulation.store.paths import resolve_root

__all__ = ["STALE_WORK_AFTER", "WORK_DIR", "WorkFolder", "clean_stale_work", "work_folder"]

#: The store root's folder of resume folders.
WORK_DIR = "sweep-work"
#: Seconds since its last write after which another session's resume folder is removed
#: when no session holds it (a day): its runs only save recomputing them (an app sweep is
#: at most 60 runs), and a folder still in use is locked, whatever its age.
STALE_WORK_AFTER = 24 * 60 * 60.0
#: The names of resume folders (a fingerprint's first 16 hex digits); nothing else in
#: ``sweep-work/`` is touched.
_FOLDER_NAME = re.compile(r"[0-9a-f]{16}")


@dataclass(eq=False, slots=True)
class WorkFolder:
    """A sweep's resume folder while a session uses it.

    Attributes
    ----------
    path : Path
        The folder to run the sweep in (``root/sweep-work/<fingerprint[:16]>``).
    saved : bool
        Set it once the finished sweep is saved in the run store: only then is the folder
        removed on leaving :func:`work_folder`.
    """

    path: Path
    saved: bool = False


def _hold_shared(lock: Path) -> int:
    """Open ``lock`` (creating it) and hold a shared lock on the file the path names."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:  # pragma: no cover - Windows: no removal, so no race
            return fd
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        # Removed (with its folder) between our open and our lock: take the new one.
        os.close(fd)


def _last_write(path: Path) -> float:
    """The newest modification time of ``path`` and, for a folder, of everything in it."""
    # mtime, not ctime: a run written is a write; ctime also moves on a chmod or a backup
    # tool's touch, and no one can set it back, so it would keep an idle folder young.
    newest = path.lstat().st_mtime
    for folder, names, files in os.walk(path):
        for name in (*names, *files):
            try:
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def clean_stale_work(root: str | os.PathLike[str] | None, *, keep: str | None = None) -> list[Path]:
    """Remove resume folders no live session holds and none has written to for a day.

    Each folder's lock is taken exclusively without waiting, as :func:`work_folder` does
    before it removes a saved sweep's folder: refused while any session runs in the
    folder, which then stays whatever its age. Then, unless something in the folder was
    written in the last :data:`STALE_WORK_AFTER` seconds, the folder and its lock file are
    removed (a lock file left without its folder, by a removal cut short, goes too). Without
    ``flock`` (Windows) nothing can tell a live session: nothing is removed.

    Parameters
    ----------
    root : str or path-like or None
        The store root (None: ``$ADLAB_HOME``, else ``~/.adlab``).
    keep : str, optional
        A folder name never to remove (the one the caller is about to use).

    Returns
    -------
    removed : list of Path
        The folders (or, without one, the lock files) removed.
    """
    parent = resolve_root(root) / WORK_DIR
    if fcntl is None:  # pragma: no cover - Windows
        return []
    try:
        entries = os.listdir(parent)
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = {e.removesuffix(".lock") for e in entries}
    removed = []
    for name in sorted(n for n in names if _FOLDER_NAME.fullmatch(n) and n != keep):
        folder, lock = parent / name, parent / f"{name}.lock"
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            continue  # not a folder this module made
        # A folder without its lock file gets one to lock it by (an entering session opens
        # the same file); a lock file alone is opened as it is.
        has_folder = folder.exists()
        flags = os.O_RDWR | os.O_NOFOLLOW | (os.O_CREAT if has_folder else 0)
        try:
            fd = os.open(lock, flags, 0o644)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a session runs in it
            try:
                # Replaced since we opened it: a session entering now holds the new one.
                if os.stat(lock).st_ino != os.fstat(fd).st_ino:
                    continue
                last = _last_write(folder if has_folder else lock)
            except FileNotFoundError:
                continue
            if time.time() - last < STALE_WORK_AFTER:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlink(missing_ok=True)
            removed.append(folder if has_folder else lock)
        finally:
            os.close(fd)
    return removed


@contextmanager
def work_folder(root: str | os.PathLike[str] | None, fingerprint: str) -> Iterator[WorkFolder]:
    """Hold the resume folder of the grid ``fingerprint`` while the block runs a sweep in it.

    Parameters
    ----------
    root : str or path-like or None
        The store root (None: ``$ADLAB_HOME``, else ``~/.adlab``).
    fingerprint : str
        The grid's fingerprint (``SweepPlan.fingerprint``); its first 16 digits name the folder.

    Yields
    ------
    work : WorkFolder
        Its ``path`` is not created here (``prepare_folder`` does that). Set ``work.saved``
        once the sweep is saved: on leaving, the folder and its lock file are then removed,
        unless another session still runs the same sweep there. Without ``saved`` (a stop,
        an error) the folder stays, so the same sweep resumes from its runs.
    """
    parent = resolve_root(root) / WORK_DIR
    parent.mkdir(parents=True, exist_ok=True)
    name = fingerprint[:16]
    # Other sessions' folders left for a day with no one in them (a crash, a sweep stopped
    # and never resumed); never this sweep's own, which it may resume from.
    clean_stale_work(root, keep=name)
    lock = parent / f"{name}.lock"
    work = WorkFolder(path=parent / name)
    fd = _hold_shared(lock)
    try:
        yield work
        if work.saved and fcntl is not None:
            # Shared -> exclusive without waiting: refused while another session holds it
            # (it is still running in the folder, and removes it when it has saved).
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            shutil.rmtree(work.path, ignore_errors=True)
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)
