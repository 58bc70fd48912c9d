"""The app's resume folders: kept until a sweep is saved, then removed (never under another)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from simulation.sweep import workdir
from simulation.sweep.workdir import STALE_WORK_AFTER, WORK_DIR, clean_stale_work, work_folder

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


OTHER = "fedcba9876543210" + "0" * 48


def _age(path, seconds: float) -> None:
    """Set back the modification time of ``path`` and everything in it by ``seconds``."""
    when = time.time() - seconds
    for item in sorted(path.rglob("*"), reverse=True):
        os.utime(item, (when, when), follow_symlinks=False)
    os.utime(path, (when, when))


def _left(tmp_path, fingerprint: str, age: float):
    """A resume folder (with its lock file) a stopped or crashed session left ``age`` ago."""
    with work_folder(tmp_path, fingerprint) as work:
        _fill(work.path)
    _age(work.path, age)
    return work.path


def test_a_folder_left_for_a_day_goes_when_another_sweep_starts(tmp_path):
    old = _left(tmp_path, OTHER, STALE_WORK_AFTER + 60)
    young = _left(tmp_path, "a" * 64, STALE_WORK_AFTER - 60)
    # Files of the user's own in the work root, even named alike, are not this module's.
    (tmp_path / WORK_DIR / "notes").mkdir()
    (tmp_path / WORK_DIR / "notes.lock").write_text("mine")
    stray = tmp_path / WORK_DIR / ("b" * 16)
    stray.symlink_to(tmp_path / WORK_DIR / "notes")
    _age(tmp_path / WORK_DIR / "notes", 10 * STALE_WORK_AFTER)
    with work_folder(tmp_path, FINGERPRINT) as work:
        _fill(work.path)
    assert not old.exists() and not (tmp_path / WORK_DIR / f"{old.name}.lock").exists()
    assert (young / "runs" / "a.parquet").exists(), "used within the day: kept to resume"
    assert (work.path / "runs" / "a.parquet").exists()
    assert (tmp_path / WORK_DIR / "notes.lock").read_text() == "mine"
    assert stray.is_symlink() and (tmp_path / WORK_DIR / "notes").is_dir()


def test_an_old_folder_a_live_session_holds_stays(tmp_path):
    old = _left(tmp_path, OTHER, 2 * STALE_WORK_AFTER)
    # A session still running there (a long sweep that wrote nothing for a day): its lock.
    fd = os.open(tmp_path / WORK_DIR / f"{old.name}.lock", os.O_RDWR)
    try:
        workdir.fcntl.flock(fd, workdir.fcntl.LOCK_SH)
        assert clean_stale_work(tmp_path) == []
        assert (old / "runs" / "a.parquet").exists()
    finally:
        os.close(fd)
    assert clean_stale_work(tmp_path) == [old], "once it has gone, the folder goes"


def test_an_old_sweep_entered_again_keeps_its_runs_to_resume_from(tmp_path):
    old = _left(tmp_path, FINGERPRINT, 2 * STALE_WORK_AFTER)
    with work_folder(tmp_path, FINGERPRINT) as work:
        assert (work.path / "runs" / "a.parquet").exists()
    # A lock file left alone (a removal cut short between the folder and its lock) goes too.
    old_lock = tmp_path / WORK_DIR / f"{OTHER[:16]}.lock"
    old_lock.touch()
    _age(old_lock, 2 * STALE_WORK_AFTER)
    assert clean_stale_work(tmp_path, keep=old.name) == [old_lock]
    assert sorted(p.name for p in (tmp_path / WORK_DIR).iterdir()) == [
        old.name, f"{old.name}.lock"
    ]  # fmt: skip
