import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.store.catalog import Catalog
from simulation.store.fs import clean_stale, locked_workdir
from simulation.store.paths import check_run_id, new_run_id, resolve_root
from simulation.store.run_store import (
    LIST_COLUMNS,
    RunNotFoundError,
    RunStore,
    StoreBusyError,
    StoredRun,
)


def make_run(i: int = 0, n_rounds: int = 50) -> dict:
    rounds = np.arange(n_rounds)
    return dict(
        config={"policy": "ucb1", "n_rounds": n_rounds, "arms": ["a", "b"], "alpha": 0.5 + i},
        seed=i,
        summary=pd.DataFrame(
            {"policy": ["ucb1", "random"], "ctr": [0.04 + i / 100, 0.02], "roas": [2.0, 1.0]}
        ),
        timeseries=pd.DataFrame(
            {"round": rounds, "ctr": np.linspace(0.01, 0.05, n_rounds), "policy": "ucb1"}
        ),
    )


@pytest.fixture
def store(tmp_path):
    return RunStore.open(tmp_path / "store")


def write_log(path: Path, n: int = 100) -> Path:
    pd.DataFrame({"arm": np.arange(n) % 3, "click": np.arange(n) % 2, "pscore": 1 / 3}).to_parquet(
        path
    )
    return path


def test_round_trip_keeps_frames_config_and_meta(store, tmp_path):
    run = make_run(3)
    segments = pd.DataFrame({"segment": ["a", "b"], "size": [10, 20]}).set_index("segment")
    log = write_log(tmp_path / "log.parquet")
    run_id = store.save(
        **run,
        tables={"allocation": run["timeseries"].head(5), "segments": segments},
        log_path=log,
        source="app",
        name="first try",
    )
    loaded = store.load(run_id)
    assert isinstance(loaded, StoredRun)
    assert loaded.run_id == run_id
    pd.testing.assert_frame_equal(loaded.summary, run["summary"])
    pd.testing.assert_frame_equal(loaded.timeseries, run["timeseries"])
    pd.testing.assert_frame_equal(loaded.tables["segments"], segments)
    pd.testing.assert_frame_equal(loaded.tables["allocation"], run["timeseries"].head(5))
    assert dict(loaded.config) == run["config"]
    assert loaded.seed == 3
    assert loaded.meta["name"] == "first try" and loaded.meta["source"] == "app"
    assert set(loaded.meta["versions"]) >= {"numpy", "pandas", "duckdb", "pyarrow", "pillow"}
    assert loaded.meta["versions"]["pandas"] == pd.__version__
    assert loaded.meta["python"].count(".") == 2
    assert loaded.created_at.tzinfo is not None
    # The log is moved in: readable from the store, gone from where it was.
    assert loaded.log_path is not None and loaded.log_path.is_relative_to(store.root)
    assert len(pd.read_parquet(loaded.log_path)) == 100
    assert not log.exists()
    with pytest.raises(AttributeError):
        loaded.run_id = "x"
    with pytest.raises(TypeError):
        loaded.meta["seed"] = 1
    assert loaded != store.load(run_id) and loaded == loaded  # identity, not elementwise


def test_config_with_numpy_values_is_saved_as_plain_json(store):
    run = make_run()
    run["config"] = {
        "eps": np.float64(0.1),
        "n": np.int64(3),
        "w": np.array([1, 2]),
        "p": Path("x"),
    }
    loaded = store.load(store.save(**run))
    assert dict(loaded.config) == {"eps": 0.1, "n": 3, "w": [1, 2], "p": "x"}


def test_list_has_catalogue_columns_newest_first(store):
    assert store.list().empty
    ids = [store.save(**make_run(i), name=f"run {i}") for i in range(3)]
    no_metrics = make_run(9)
    no_metrics["summary"] = pd.DataFrame({"policy": ["x"], "clicks": [3]})
    ids.append(store.save(**no_metrics))
    listed = store.list()
    assert list(listed.columns) == list(LIST_COLUMNS)
    assert LIST_COLUMNS[:6] == ("run_id", "created_at", "name", "source", "seed", "n_rows")
    assert listed["run_id"].tolist() == ids[::-1]
    first = listed.set_index("run_id").loc[ids[0]]
    assert first["name"] == "run 0" and first["source"] == "cli" and first["seed"] == 0
    assert first["n_rows"] == 2
    # No level column (not made by the engine): no best pair to name, and no mean instead.
    assert first["best"] is None and np.isnan(first["its_ctr"]) and np.isnan(first["its_roas"])
    assert first["best_clear"] is None  # no best, so nothing to be clear about
    assert str(listed["created_at"].dt.tz) == "UTC"


ENGINE_SUMMARY = pd.DataFrame(
    {
        "level": ["generic"] * 6 + ["user"] * 6,
        "policy": ["uniform", "thompson", "oracle"] * 4,
        "seed": ([0] * 3 + [1] * 3) * 2,
        # The oracle has the highest CTR and ROAS everywhere: a yardstick, never the best.
        "ctr": [0.010, 0.012, 0.090, 0.012, 0.014, 0.090, 0.011, 0.019, 0.090, 0.013, 0.021, 0.090],
        "roas": [3.0, 1.0, 9.0, 3.2, 1.2, 9.0, 2.0, 1.4, 9.0, 2.2, 1.6, 9.0],
    }
)


@pytest.mark.parametrize(
    ("objective", "best", "its_ctr", "its_roas"),
    [("ctr", "thompson @ user", 0.020, 1.5), ("roas", "uniform @ generic", 0.011, 3.1)],
)
def test_list_names_the_best_pair_by_the_objective_never_a_mean(
    store, objective, best, its_ctr, its_roas
):
    run_id = store.save(
        config={"objective": objective}, seed=0, summary=ENGINE_SUMMARY,
        timeseries=pd.DataFrame({"round": [0]}),
    )  # fmt: skip
    row = store.list().set_index("run_id").loc[run_id]
    assert row["best"] == best
    # That pair's mean over the replications, not a mean over levels and policies.
    assert row["its_ctr"] == pytest.approx(its_ctr)
    assert row["its_roas"] == pytest.approx(its_roas)
    assert "mean_ctr" not in row.index and "mean_roas" not in row.index


#: Catalogues of older layouts, each with a stale row the rebuild must replace: schema 2 held
#: means over every level and policy; schema 3 named a best with no word on whether it was
#: clearly best (a tie was listed as a win); schema 4 had today's columns but marked clear
#: a best whose interval the report refuses (too few events).
OLD_LAYOUTS = {
    "2": (
        "mean_ctr DOUBLE, mean_roas DOUBLE",
        "0.5, 5.0",
    ),
    "3": (
        "best VARCHAR, its_ctr DOUBLE, its_roas DOUBLE",
        "'uniform @ generic', 0.5, 5.0",
    ),
    "4": (
        "best VARCHAR, best_clear BOOLEAN, its_ctr DOUBLE, its_roas DOUBLE",
        "'uniform @ generic', TRUE, 0.5, 5.0",
    ),
}


@pytest.mark.parametrize("version", sorted(OLD_LAYOUTS))
def test_a_catalogue_of_an_old_layout_is_rebuilt_from_the_runs(tmp_path, version):
    import duckdb

    columns, values = OLD_LAYOUTS[version]
    store = RunStore.open(tmp_path / "store")
    run_id = store.save(config={"objective": "ctr"}, seed=0, summary=ENGINE_SUMMARY,
                        timeseries=pd.DataFrame({"round": [0]}))  # fmt: skip
    catalog = store.root / "catalog.duckdb"
    catalog.unlink()
    con = duckdb.connect(str(catalog))
    con.execute(
        "CREATE TABLE catalog_info (key VARCHAR PRIMARY KEY, value VARCHAR);"
        f"INSERT INTO catalog_info VALUES ('schema_version', '{version}');"
        "CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, name VARCHAR, "
        f"source VARCHAR, seed BIGINT, n_rows BIGINT, {columns}, "
        "config_json VARCHAR, meta_json VARCHAR, summary_json VARCHAR, damaged VARCHAR, "
        "files_sig VARCHAR);"
    )
    con.execute(
        f"INSERT INTO runs VALUES (?, now(), 'old', 'cli', 0, 12, {values}, '{{}}', '{{}}', "
        "'[]', NULL, 'stale')",
        [run_id],
    )
    con.close()
    reopened = RunStore.open(store.root)
    listed = reopened.list().set_index("run_id")
    assert list(listed.reset_index().columns) == list(LIST_COLUMNS)
    assert listed.loc[run_id, "best"] == "thompson @ user"
    # Two seeds give t intervals wide enough to overlap the runner-up's: not clearly best.
    assert listed.loc[run_id, "best_clear"] is False
    assert listed.loc[run_id, "its_ctr"] == pytest.approx(0.020)
    assert reopened.check().empty


def _pairs_summary(ctr: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """An engine-shaped summary: one row per (level, policy, seed) with the CTRs given."""
    rows = [
        {"level": level, "policy": policy, "seed": seed, "ctr": value, "roas": 1.0}
        for (level, policy), values in ctr.items()
        for seed, value in enumerate(values)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("ctr", "clear"),
    [
        # Every pair with the same clicks in every seed: a tie, whichever pair is named.
        ({pair: [0.010, 0.011, 0.012] for pair in
          [("generic", "uniform"), ("generic", "thompson"), ("user", "thompson")]}, False),
        # One replication: no interval, so nothing is clearly apart.
        ({("generic", "uniform"): [0.010], ("user", "thompson"): [0.020]}, False),
        # Three tight seeds far above the rest: clearly best.
        ({("generic", "uniform"): [0.010, 0.0101, 0.0102],
          ("user", "thompson"): [0.020, 0.0201, 0.0202]}, True),
        # A single learner has no rival to overlap.
        ({("user", "thompson"): [0.020, 0.025]}, True),
    ],
    ids=["tie", "one-seed", "apart", "alone"],
)  # fmt: skip
def test_list_says_whether_the_best_is_clearly_best_as_the_report_does(store, ctr, clear):
    from simulation.store.report import best_note, best_rivals, best_row

    summary = _pairs_summary(ctr)
    run_id = store.save(config={"objective": "ctr"}, seed=0, summary=summary,
                        timeseries=pd.DataFrame({"round": [0]}))  # fmt: skip
    row = store.list().set_index("run_id").loc[run_id]
    assert row["best_clear"] is clear
    # The same judgement as the report's "Not clearly best" note.
    best = best_row(summary, "ctr")
    assert (best_note(*best_rivals(summary, best, "ctr")) == "") is clear


@pytest.mark.parametrize(
    ("clicks", "clear"),
    [
        # Every replication of every pair with plenty of clicks: apart, so clearly best.
        ({"generic": [400, 404, 408], "user": [800, 804, 808]}, True),
        # The same rates from a handful of clicks in one of the best's replications: its
        # interval is refused (the report's tiles show none), so it is not clearly best.
        ({"generic": [400, 404, 408], "user": [800, 804, 8]}, False),
    ],
    ids=["enough-clicks", "too-few-clicks"],
)
def test_a_best_whose_interval_is_refused_is_not_clearly_best(store, clicks, clear):
    from simulation.metrics import MIN_UPLIFT_EVENTS
    from simulation.store.report import best_rivals, best_row, clear_best_note

    ctr = {"generic": [0.010, 0.0101, 0.0102], "user": [0.020, 0.0201, 0.0202]}
    summary = pd.DataFrame(
        [{"level": level, "policy": "thompson", "seed": seed, "ctr": ctr[level][seed],
          "clicks": clicks[level][seed], "impressions": 40_000, "roas": 1.0}
         for level in ctr for seed in range(3)]
    )  # fmt: skip
    assert (min(clicks["user"]) >= MIN_UPLIFT_EVENTS) is clear  # either side of the rule
    best = best_row(summary, "ctr")
    # Apart either way: the intervals alone would call it clear.
    assert best["level"] == "user" and best_rivals(summary, best, "ctr")[1] == []
    run_id = store.save(config={"objective": "ctr"}, seed=0, summary=summary,
                        timeseries=pd.DataFrame({"round": [0]}))  # fmt: skip
    assert store.list().set_index("run_id").loc[run_id, "best_clear"] is clear
    note = clear_best_note(summary, best, "ctr")
    assert note == ("" if clear else "Not clearly best: too few clicks for an interval.")


def test_run_ids_are_sortable_and_distinct():
    ids = [new_run_id() for _ in range(200)]
    assert len(set(ids)) == 200
    stamps = [i[:22] for i in ids]  # the random suffix may order ids of the same microsecond
    assert stamps == sorted(stamps)
    assert all(check_run_id(i) == i for i in ids)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_every_table(store, tmp_path, fmt):
    run = make_run()
    log = write_log(tmp_path / "log.parquet")
    run_id = store.save(**run, tables={"allocation": run["timeseries"].head(3)}, log_path=log)
    paths = store.export(run_id, tmp_path / "out" / "nested", fmt)
    base = tmp_path / "out" / "nested" / run_id
    names = {p.relative_to(base).as_posix() for p in paths}
    assert names == {
        "meta.json",
        f"summary.{fmt}",
        f"timeseries.{fmt}",
        f"log.{fmt}",
        f"tables/allocation.{fmt}",
    }
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    pd.testing.assert_frame_equal(read(base / f"summary.{fmt}"), run["summary"], check_dtype=False)
    assert len(read(base / f"log.{fmt}")) == 100
    assert json.loads((base / "meta.json").read_text())["run_id"] == run_id
    assert not [p for p in base.parent.iterdir() if p.name.startswith(".")]


def test_export_refuses_to_overwrite_unless_asked(store, tmp_path):
    run_id = store.save(**make_run())
    store.export(run_id, tmp_path / "out", "csv")
    with pytest.raises(FileExistsError):
        store.export(run_id, tmp_path / "out", "parquet")
    paths = store.export(run_id, tmp_path / "out", "parquet", overwrite=True)
    assert {p.suffix for p in paths} == {".parquet", ".json"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [run_id]


def test_export_to_unwritable_place_leaves_nothing(store, tmp_path):
    run_id = store.save(**make_run())
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError):
        store.export(run_id, blocker / "out", "csv")
    assert blocker.read_text() == "not a directory"
    with pytest.raises(ValueError, match="`fmt` must be"):
        store.export(run_id, tmp_path / "out", "xlsx")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fails", ["name too long", "stopped while copying"])
def test_an_export_not_written_leaves_no_folder_it_made(store, tmp_path, monkeypatch, fails):
    import simulation.store.export as export

    run_id = store.save(**make_run())
    out = tmp_path / "exports" / "a" / "b"
    if fails == "name too long":  # its parents are made, then the last name is refused
        with pytest.raises(OSError):
            store.export(run_id, out / ("n" * 256), "csv")
    else:

        def stop(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(export, "_convert", stop)
        with pytest.raises(KeyboardInterrupt):
            store.export(run_id, out, "csv")
    assert not (tmp_path / "exports").exists()
    assert (tmp_path / "store").is_dir()  # what was there before stays


def test_delete_removes_run_everywhere(store):
    keep, drop = store.save(**make_run(1)), store.save(**make_run(2))
    store.delete(drop)
    assert store.list()["run_id"].tolist() == [keep]
    assert not (store.runs_dir / drop).exists()
    assert list(store.tmp_dir.iterdir()) == []
    with pytest.raises(RunNotFoundError):
        store.load(drop)
    with pytest.raises(RunNotFoundError):
        store.delete(drop)
    assert RunStore.open(store.root).list()["run_id"].tolist() == [keep]


@pytest.mark.parametrize(
    "run_id", ["20990101-000000-000000-00000000", "nope", "../runs", "", None, "2026*"]
)
def test_unknown_ids_raise_run_not_found(store, tmp_path, run_id):
    store.save(**make_run())
    for call in (store.load, store.delete, lambda r: store.export(r, tmp_path / "x")):
        with pytest.raises(RunNotFoundError, match="no run with id"):
            call(run_id)
    assert not (tmp_path / "x").exists()


def test_resolve_accepts_unique_prefixes(store):
    a, b = store.save(**make_run(1)), store.save(**make_run(2))
    assert store.resolve(a) == a
    assert store.resolve(b[:-3]) == b
    with pytest.raises(RunNotFoundError, match="matches 2 runs"):
        store.resolve(a[:4])
    with pytest.raises(RunNotFoundError):
        store.resolve("")


def test_an_ambiguous_prefix_counts_the_runs_it_does_not_name(store):
    ids = [store.save(**make_run(i)) for i in range(7)]
    with pytest.raises(RunNotFoundError) as info:
        store.resolve(ids[0][:4])
    message = str(info.value)
    assert "matches 7 runs" in message
    assert sum(run_id in message for run_id in ids) == 5
    assert message.count("and 2 more;") == 1
    # Exactly five: every id named, nothing said to be left out.
    for extra in ids[5:]:
        store.delete(extra)
    with pytest.raises(RunNotFoundError) as info:
        store.resolve(ids[0][:4])
    assert " more;" not in str(info.value)
    assert all(run_id in str(info.value) for run_id in ids[:5])


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"config": [1, 2]}, TypeError, "`config` must be a mapping"),
        ({"config": {"f": object()}}, TypeError, "`config` values must be JSON data"),
        ({"seed": 1.5}, TypeError, "`seed` must be an int"),
        ({"seed": True}, TypeError, "`seed` must be an int"),
        ({"seed": -1}, ValueError, r"`seed` must be an int in \[0, 2\*\*63\)"),
        ({"summary": {"ctr": [1]}}, TypeError, "`summary` must be a pandas DataFrame"),
        ({"timeseries": None}, TypeError, "`timeseries` must be a pandas DataFrame"),
        ({"tables": {"../x": pd.DataFrame()}}, ValueError, "table names must be"),
        ({"tables": {"ok": [1]}}, TypeError, r"`tables\['ok'\]` must be a pandas DataFrame"),
        ({"source": "web"}, ValueError, "`source` must be one of"),
        ({"name": 3}, TypeError, "`name` must be a str or None"),
        ({"log_path": "/no/such/log.parquet"}, ValueError, "`log_path` must be a readable"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_written(store, change, error, match):
    with pytest.raises(error, match=match):
        store.save(**{**make_run(), **change})
    assert store.list().empty
    assert list(store.tmp_dir.iterdir()) == []


def test_root_comes_from_argument_then_env_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "env"))
    assert resolve_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_root() == tmp_path / "env"
    monkeypatch.delenv("ADLAB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_root() == tmp_path / "home" / ".adlab"
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "env"))
    store = RunStore.open()
    assert store.root == tmp_path / "env" and (tmp_path / "env" / "catalog.duckdb").is_file()


def test_catalogue_is_rebuilt_from_run_directories(store):
    ids = [store.save(**make_run(i)) for i in range(3)]
    before = store.list()
    catalog = store.root / "catalog.duckdb"
    catalog.unlink()
    pd.testing.assert_frame_equal(RunStore.open(store.root).list(), before)
    catalog.write_bytes(b"this is not a duckdb file" * 100)
    pd.testing.assert_frame_equal(RunStore.open(store.root).list(), before)
    assert [p for p in store.root.iterdir() if ".unreadable-" in p.name]
    # A directory that was published but never catalogued (writer killed in between).
    (store.runs_dir / ids[0]).rename(store.root / "aside")
    assert len(store.list()) == 2
    (store.root / "aside").rename(store.runs_dir / ids[0])
    pd.testing.assert_frame_equal(store.list(), before)


def test_foreign_entries_in_runs_are_ignored(store):
    run_id = store.save(**make_run())
    (store.runs_dir / "notes.txt").write_text("hi")
    (store.runs_dir / "20990101-000000-000000-00000000").mkdir()  # a run id but no files
    assert store.list()["run_id"].tolist() == [run_id]
    with pytest.raises(RunNotFoundError):
        store.load("20990101-000000-000000-00000000")


def test_stale_work_dirs_are_removed_but_live_ones_kept(store):
    dead = store.tmp_dir / "20260101-000000-000000-00000000.1.abcd"
    dead.mkdir()
    (dead / "summary.parquet").write_bytes(b"partial")
    with locked_workdir(store.tmp_dir, "live") as live:
        assert clean_stale(store.tmp_dir, grace=60) == []  # too young
        assert clean_stale(store.tmp_dir, grace=0) == [dead]
        assert live.is_dir()
    assert list(store.tmp_dir.iterdir()) == []
    dead.mkdir()
    RunStore.open(store.root, stale_after=0)
    assert not dead.exists()


def test_store_files_are_where_the_docs_say(store):
    run_id = store.save(**make_run(), tables={"allocation": pd.DataFrame({"a": [1]})})
    files = sorted(
        p.relative_to(store.runs_dir / run_id).as_posix()
        for p in (store.runs_dir / run_id).rglob("*")
        if p.is_file()
    )
    expected = "meta.json summary.parquet tables/allocation.parquet timeseries.parquet"
    assert files == expected.split()
    assert os.listdir(store.tmp_dir) == []


def busy(*args, **kwargs):
    raise StoreBusyError("catalogue locked by another process")


def test_busy_catalogue_loses_nothing(store, monkeypatch):
    first = store.save(**make_run(1))
    expected_first = store.list()
    monkeypatch.setattr(Catalog, "connect", busy)
    second = store.save(**make_run(2))  # published; catalogue row deferred
    fallback = store.list()  # read from the run directories
    assert fallback["run_id"].tolist() == [second, first]
    fallback_first = fallback.iloc[[1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(fallback_first, expected_first, check_dtype=False)
    store.delete(first)
    monkeypatch.undo()
    assert store.list()["run_id"].tolist() == [second]  # re-synced: row added and row dropped


def test_unwritable_frame_leaves_nothing_behind(store):
    run = make_run()
    run["timeseries"] = pd.DataFrame({"mixed": [1, "a", 2.5]})  # Parquet needs one type per column
    with pytest.raises((TypeError, ValueError)):
        store.save(**run)
    assert store.list().empty
    assert list(store.tmp_dir.iterdir()) == [] and list(store.runs_dir.iterdir()) == []


def test_open_for_reading_never_creates_a_store(tmp_path):
    from simulation.store.run_store import StoreNotFoundError

    with pytest.raises(StoreNotFoundError, match="no run store at") as info:
        RunStore.open(tmp_path / "typo", create=False)
    assert info.value.root == tmp_path / "typo"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "plain").mkdir()  # an existing folder that holds no store is no store
    with pytest.raises(StoreNotFoundError):
        RunStore.open(tmp_path / "plain", create=False)
    assert list((tmp_path / "plain").iterdir()) == []


def test_open_for_reading_a_store_holding_only_sweeps(tmp_path):
    (tmp_path / "store" / "sweeps").mkdir(parents=True)
    store = RunStore.open(tmp_path / "store", create=False)
    assert store.list().empty
    assert not store.runs_dir.exists() and not store.tmp_dir.exists()


def test_export_refuses_an_empty_out_dir(store, monkeypatch, tmp_path):
    run_id = store.save(**make_run(0))
    monkeypatch.chdir(tmp_path)
    for empty in ("", " "):
        with pytest.raises(ValueError, match="must be a folder path, not empty"):
            store.export(run_id, empty)
    assert not (tmp_path / run_id).exists()
