"""The app's resume folders: kept until a sweep is saved, then removed (never under another)."""

from __future__ import annotations

import os
import threading

import pytest

from simulation.sweep import workdir
from simulation.sweep.workdir import WORK_DIR, work_folder

FINGERPRINT = "0123456789abcdef" + "f" * 48


def _fill(path) -> None:
    (path / "runs").mkdir(parents=True)
    (path / "runs" / "a.parquet").write_bytes(b"run")


def test_a_saved_sweep_leaves_no_folder_behind(tmp_path):
    with work_folder(tmp_path, FINGERPRINT) as work:
        assert work.path == tmp_path / WORK_DIR / FINGERPRINT[:16]
        _fill(work.path)
        work.saved = True
    assert list((tmp_path / WORK_DIR).iterdir()) == [], "neither the folder nor its lock file"


def test_a_stopped_sweep_keeps_its_runs_to_resume_from(tmp_path):
    with work_folder(tmp_path, FINGERPRINT) as work:
        _fill(work.path)
    assert (work.path / "runs" / "a.parquet").read_bytes() == b"run"


def test_a_failed_save_keeps_the_runs(tmp_path):
    with pytest.raises(OSError), work_folder(tmp_path, FINGERPRINT) as work:
        _fill(work.path)
        raise OSError("disk full")  # as save_sweep may: saved is never set
    assert (work.path / "runs" / "a.parquet").exists()


def test_the_folder_stays_while_another_session_runs_in_it(tmp_path):
    # Two sessions on the same grid share the folder: the first to save must not take the
    # second's runs away; the second, the last, removes it.
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with work_folder(tmp_path, FINGERPRINT) as work:
            inside.set()
            release.wait(10)
            work.saved = True

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with work_folder(tmp_path, FINGERPRINT) as work:
        _fill(work.path)
        work.saved = True
    assert (work.path / "runs" / "a.parquet").exists(), "the other session still uses it"
    release.set()
    thread.join(10)
    assert not thread.is_alive()
    assert list((tmp_path / WORK_DIR).iterdir()) == []


def test_a_session_whose_lock_file_was_removed_takes_the_new_one(tmp_path, monkeypatch):
    # The lock file goes with the folder. A session that opened it just before (and then
    # waited for the lock) would hold a lock on a file no one else can open: it must see
    # that the path now names another file, or none, and open that instead.
    lock = tmp_path / WORK_DIR / f"{FINGERPRINT[:16]}.lock"
    real_flock, removed = workdir.fcntl.flock, []

    def flock_after_a_removal(fd, op):
        if op == workdir.fcntl.LOCK_SH and not removed:
            lock.unlink()  # the other session's removal, between our open and our lock
            removed.append(fd)
        real_flock(fd, op)

    monkeypatch.setattr(workdir.fcntl, "flock", flock_after_a_removal)
    with work_folder(tmp_path, FINGERPRINT):
        assert removed, "the removal happened"
        assert lock.exists(), "a new lock file at the path, held by this session"
        # Another session now waits on the same file as this one (refused while held).
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                real_flock(fd, workdir.fcntl.LOCK_EX | workdir.fcntl.LOCK_NB)
        finally:
            os.close(fd)
