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
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from simulation.store.paths import resolve_root

__all__ = ["WORK_DIR", "WorkFolder", "work_folder"]

#: The store root's folder of resume folders.
WORK_DIR = "sweep-work"


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
