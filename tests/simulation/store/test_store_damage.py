"""The store under damaged files: each file kind truncated, overwritten, of the wrong schema or
missing. A damaged run is listed with its reason and fails alone; every other run keeps working
in list, load and export; a damaged catalogue is rebuilt from the run folders; ``check`` finds
the damage and ``check(repair=True)`` moves it to ``quarantine/``."""

import json
import os

import duckdb
import numpy as np
import pandas as pd
import pytest

from simulation.store import RunDamagedError, RunNotFoundError, RunStore
from simulation.store.integrity import clean_text


def make_run(i: int) -> dict:
    return dict(
        config={"policy": "ucb1", "i": i},
        seed=i,
        summary=pd.DataFrame({"policy": ["ucb1", "uniform"], "ctr": [0.04 + i / 100, 0.02]}),
        timeseries=pd.DataFrame({"step": np.arange(20), "ctr": np.linspace(0.01, 0.05, 20)}),
        tables={"allocation": pd.DataFrame({"arm": [0, 1], "share": [0.6, 0.4]})},
    )


@pytest.fixture
def store(tmp_path):
    store = RunStore.open(tmp_path / "store")
    for i in range(3):
        store.save(**make_run(i))
    return store


def ids(store):
    return sorted(p.name for p in store.runs_dir.iterdir())


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path):
    path.write_bytes(os.urandom(max(64, path.stat().st_size)))


def wrong_schema(path):
    if path.suffix == ".json":  # valid JSON, not a meta.json (the issue's `{}`)
        path.write_text("{}")
    else:  # valid Parquet, other rows and columns than recorded
        pd.DataFrame({"other": [1, 2, 3, 4, 5]}).to_parquet(path)


def missing(path):
    path.unlink()


DAMAGES = {
    "truncate": truncate,
    "garbage": garbage,
    "wrong schema": wrong_schema,
    "missing": missing,
}
FILES = ["meta.json", "summary.parquet", "timeseries.parquet", "tables/allocation.parquet"]
REASONS = {  # what the reason must say, per damage
    "truncate": "not",  # "not valid JSON" / "not a readable Parquet file"
    "garbage": "not",
    "wrong schema": "",  # "lacks ..." / "rows; meta.json says"
    "missing": "missing",
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("rel", FILES)
def test_one_damaged_run_fails_alone(store, tmp_path, rel, damage):
    victim, *healthy = ids(store)
    before = store.list().set_index("run_id")
    DAMAGES[damage](store.runs_dir / victim / rel)

    listing = store.list().set_index("run_id")
    assert sorted(listing.index) == sorted([victim, *healthy])  # still listed, nothing hidden
    reason = listing.loc[victim, "damaged"]
    assert rel.split("/")[-1] in reason and REASONS[damage] in reason, reason
    assert listing.loc[victim, "created_at"] == before.loc[victim, "created_at"]
    for run_id in healthy:
        assert listing.loc[run_id, "damaged"] is None
        assert listing.loc[run_id, "seed"] == before.loc[run_id, "seed"]
        assert listing.loc[run_id, "n_rows"] == before.loc[run_id, "n_rows"]
        seed = store.load(run_id).seed
        pd.testing.assert_frame_equal(store.load(run_id).summary, make_run(seed)["summary"])
        assert store.export(run_id, tmp_path / "exports", "csv")

    with pytest.raises(RunDamagedError, match="is damaged") as info:
        store.load(victim)
    assert isinstance(info.value, LookupError)  # what the app pages catch
    assert rel.split("/")[-1] in info.value.reason
    with pytest.raises(RunDamagedError):
        store.export(victim, tmp_path / "exports", "parquet")
    assert not (tmp_path / "exports" / victim).exists()

    # A fresh process, a lost catalogue: the same listing, rebuilt from the folders.
    (store.root / "catalog.duckdb").unlink()
    rebuilt = RunStore.open(store.root).list().set_index("run_id")
    assert rebuilt.loc[victim, "damaged"] == reason
    assert rebuilt["damaged"].isna().sum() == len(healthy)

    report = store.check()
    assert report["run_id"].tolist() == [victim] and report["reason"].iloc[0] == reason
    repaired = store.check(repair=True)
    assert repaired["moved_to"].iloc[0] == store.root / "quarantine" / victim
    assert (store.root / "quarantine" / victim).is_dir()
    assert sorted(store.list()["run_id"]) == sorted(healthy)
    assert store.check().empty


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong schema", "missing"])
def test_damaged_catalogue_is_rebuilt_from_run_folders(store, damage):
    expected = store.list()
    catalog = store.root / "catalog.duckdb"
    if damage == "wrong schema":  # a valid DuckDB file whose runs table is not ours
        catalog.unlink()
        con = duckdb.connect(str(catalog))
        con.execute("CREATE TABLE runs (run_id VARCHAR, something INTEGER)")
        con.execute("INSERT INTO runs VALUES ('x', 1)")
        con.close()
    else:
        DAMAGES[damage](catalog)
    reopened = RunStore.open(store.root)
    pd.testing.assert_frame_equal(reopened.list(), expected)
    run_id = expected["run_id"].iloc[0]
    assert reopened.load(run_id).seed == store.load(run_id).seed
    assert reopened.check().empty
    if damage in ("truncate", "garbage"):
        assert reopened.catalog_moved_aside()  # kept for inspection
        assert reopened.catalog_moved_aside()[0].name.startswith("catalog.duckdb.unreadable-")


def test_catalogue_damaged_after_opening_is_rebuilt_on_next_use(store):
    expected = store.list()
    garbage(store.root / "catalog.duckdb")  # this instance already checked its schema
    pd.testing.assert_frame_equal(store.list(), expected)
    run_id = store.save(**make_run(9))
    assert run_id in set(store.list()["run_id"])


def test_unusable_catalogue_falls_back_to_the_run_folders(store, monkeypatch):
    from simulation.store import catalog

    expected = store.list()

    def broken(self):
        raise catalog.CatalogDamagedError("cannot be recreated")

    monkeypatch.setattr(catalog.Catalog, "_connect_once", broken)
    pd.testing.assert_frame_equal(store.list(), expected, check_dtype=False)
    assert store.save(**make_run(5)) in set(store.list()["run_id"])


def test_empty_meta_json_does_not_block_a_rebuilt_listing(store):
    # The case: one run whose meta.json is {} while the catalogue is rebuilt.
    victim = ids(store)[1]
    (store.runs_dir / victim / "meta.json").write_text("{}")
    (store.root / "catalog.duckdb").unlink()
    listing = RunStore.open(store.root).list()
    assert len(listing) == 3
    assert listing["damaged"].notna().tolist().count(True) == 1


def test_damage_inside_data_pages_is_found_by_check(store):
    victim = ids(store)[0]
    path = store.runs_dir / victim / "timeseries.parquet"
    data = bytearray(path.read_bytes())
    stat = path.stat()
    data[4:40] = os.urandom(36)  # inside the first data page; footer intact
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and time: list() trusts it
    assert store.list()["damaged"].isna().all()
    report = store.check()
    assert report["run_id"].tolist() == [victim]
    assert "timeseries.parquet" in report["reason"].iloc[0]


def test_missing_run_folder_is_not_found_but_a_missing_table_is_damage(store):
    victim = ids(store)[0]
    (store.runs_dir / victim / "tables" / "allocation.parquet").unlink()
    with pytest.raises(RunDamagedError, match=r"tables/allocation\.parquet is missing"):
        store.load(victim)
    store.delete(victim)  # a damaged run can still be deleted
    with pytest.raises(RunNotFoundError) as info:
        store.load(victim)
    assert not isinstance(info.value, RunDamagedError)


def test_meta_pointing_outside_the_run_is_damage(store):
    victim = ids(store)[0]
    meta_path = store.runs_dir / victim / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["files"]["../../catalog.duckdb"] = {}
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(RunDamagedError, match="bad file"):
        store.load(victim)


def test_names_lose_control_characters_when_stored(store):
    run_id = store.save(**make_run(7), name="\x1b[31mred\x1b[0m launch\x07\u202e")
    assert store.load(run_id).meta["name"] == "red launch"
    assert store.list().set_index("run_id").loc[run_id, "name"] == "red launch"
    assert store.save(**make_run(8), name="\x1b[2J") and store.list()["name"].iloc[0] is None


def test_a_runaway_name_is_refused_before_anything_is_written(store, tmp_path):
    # The commands refuse names over 80 characters; the store itself took any length
    # from Python (a 500-character name went into the catalogue and every listing).
    from simulation.store.integrity import MAX_STORED_NAME
    from simulation.store.sweeps import save_sweep

    before = ids(store)
    # The bound counts what is kept: escapes removed first, so this one fits.
    kept = store.save(**make_run(9), name="x" * MAX_STORED_NAME + "\x1b[0m")
    assert store.load(kept).meta["name"] == "x" * MAX_STORED_NAME
    with pytest.raises(ValueError) as caught:
        store.save(**make_run(10), name="x" * (MAX_STORED_NAME + 1))
    assert str(caught.value) == "`name` must be at most 1,000 characters; got 1,001."
    assert ids(store) == sorted([*before, kept])
    with pytest.raises(ValueError, match="`name` must be at most 1,000 characters"):
        save_sweep(
            tmp_path / "s", grid_text="", table=pd.DataFrame({"a": [1]}), meta={}, name="y" * 1001
        )
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("plain", "plain"),
        ("\x1b[1;31mbold\x1b[0m", "bold"),
        ("\x1b]0;title\x07x", "x"),
        ("tab\tand\nnewline\r", "tabandnewline"),
        ("del\x7fc1\x9b", "delc1"),
        ("bidi\u202eevil\u2066", "bidievil"),
        ("한국어 é", "한국어 é"),
    ],
)
def test_clean_text(text, clean):
    assert clean_text(text) == clean


def test_export_refuses_the_store_itself_and_names_a_file_in_the_way(store, tmp_path):
    run_id = ids(store)[0]
    for inside in (store.root, store.runs_dir, store.root / "exports"):
        with pytest.raises(ValueError, match="outside the run store"):
            store.export(run_id, inside, "csv", overwrite=True)
    assert store.load(run_id).seed in range(3) and store.check().empty
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(NotADirectoryError) as info:
        store.export(run_id, tmp_path / "a-file", "csv")
    assert info.value.filename == str(tmp_path / "a-file")


def test_empty_root_is_refused(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for root in ("", "  "):
        with pytest.raises(ValueError, match="`root` must be a folder path"):
            RunStore.open(root)
    assert list(tmp_path.iterdir()) == []
