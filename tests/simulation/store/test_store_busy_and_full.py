"""A busy catalogue, a full disk and a stop mid-save: no run lost, none half-kept, no long wait."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.store import run_store as run_store_module
from simulation.store.catalog import Catalog
from simulation.store.paths import CATALOG_NAME
from simulation.store.run_store import RunStore

#: Holds the catalogue open read-only, as any DuckDB client (a notebook, the duckdb shell) may.
HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM runs").fetchall()
print("holding", flush=True)
time.sleep(300)
"""


def make_run(i: int = 0) -> dict:
    return dict(
        config={"policy": "ucb1", "alpha": 0.5 + i},
        seed=i,
        summary=pd.DataFrame({"policy": ["ucb1", "random"], "ctr": [0.04, 0.02]}),
        timeseries=pd.DataFrame({"round": np.arange(20), "ctr": np.linspace(0.01, 0.05, 20)}),
    )


@contextmanager
def catalogue_held(root: Path):
    """A second process holding ``root``'s catalogue open (read-only) for the block."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root / CATALOG_NAME)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def catalogued(root: Path) -> set[str]:
    with Catalog(root / CATALOG_NAME, timeout=30).connect() as con:
        return Catalog.ids(con)


def test_a_held_catalogue_blocks_nothing_and_the_run_is_catalogued_later(tmp_path):
    root = tmp_path / "store"
    first = RunStore.open(root).save(**make_run(0))
    with catalogue_held(root):
        started = time.monotonic()
        store = RunStore.open(root, lock_timeout=0.5)  # raised StoreBusyError before
        assert store.catalog_busy()
        run_id = store.save(**make_run(1))
        assert store.load(run_id).seed == 1
        listed = store.list()
        # One wait of lock_timeout at open, then one try per step: not a wait at each.
        assert time.monotonic() - started < 10
        assert store.catalog_busy()
        assert list(listed["run_id"]) == [run_id, first]  # read from the run folders
        assert RunStore.open(root, create=False, lock_timeout=0.2).list()["run_id"].size == 2
    assert catalogued(root) == {first}  # the save could not catalogue it...
    reopened = RunStore.open(root)
    assert not reopened.catalog_busy()
    assert catalogued(root) == {first, run_id}  # ...the next open did


def test_the_busy_flag_clears_once_the_catalogue_answers(tmp_path):
    root = tmp_path / "store"
    RunStore.open(root)
    with catalogue_held(root):
        store = RunStore.open(root, lock_timeout=0.2)
        assert store.catalog_busy()
    store.list()
    assert not store.catalog_busy()


def test_a_full_disk_while_saving_raises_oserror_and_leaves_the_store_clean(tmp_path, monkeypatch):
    store = RunStore.open(tmp_path / "store")
    kept = store.save(**make_run(0))
    calls = []
    real = run_store_module.write_parquet

    def full(frame, path):
        calls.append(path.name)
        if len(calls) == 2:  # the disk fills up after the first file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(frame, path)

    monkeypatch.setattr(run_store_module, "write_parquet", full)
    with pytest.raises(OSError) as info:
        store.save(**make_run(1))
    assert info.value.errno == errno.ENOSPC
    assert calls == ["summary.parquet", "timeseries.parquet"]
    assert list(store.list()["run_id"]) == [kept]
    assert [p.name for p in store.runs_dir.iterdir()] == [kept]
    assert list(store.tmp_dir.iterdir()) == []  # the half-written work dir went too


@pytest.mark.parametrize("step", ["published", "catalogued"])
def test_a_stop_after_publishing_unpublishes_the_run(tmp_path, monkeypatch, step):
    store = RunStore.open(tmp_path / "store")
    kept = store.save(**make_run(0))

    def stop_at(name):
        if name == step:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_store_module, "checkpoint", stop_at)
    with pytest.raises(KeyboardInterrupt):
        store.save(**make_run(1))
    # The caller heard "not saved": the run is in no listing, folder or catalogue row.
    assert [p.name for p in store.runs_dir.iterdir()] == [kept]
    assert list(store.tmp_dir.iterdir()) == []
    assert list(RunStore.open(store.root).list()["run_id"]) == [kept]
    assert catalogued(store.root) == {kept}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tmpfs: Linux only")
def test_a_really_full_disk_is_an_oserror_and_leaves_the_store_clean(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        store = RunStore.open(mount / "store")
        filler = mount / "filler"
        with filler.open("wb") as fh, pytest.raises(OSError):
            while True:  # fill what is left, so the next write fails
                fh.write(b"\0" * 65536)
                fh.flush()
        big = make_run(1)
        big["timeseries"] = pd.DataFrame({"x": np.random.default_rng(0).random(200_000)})
        with pytest.raises(OSError) as info:
            store.save(**big)
        assert info.value.errno == errno.ENOSPC
        assert list(store.runs_dir.iterdir()) == [] and list(store.tmp_dir.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)
