import numpy as np
import pandas as pd
import pytest

from simulation.config import ExperimentConfig
from simulation.engine import core as engine
from simulation.engine.core import SERIES_METRICS, run_experiment
from simulation.scenario import build_scenario

SMALL = ExperimentConfig(
    n_users=2_000,
    n_segments=3,
    policies=("uniform", "thompson", "oracle", "lin_ucb", "segment:ucb1"),
    n_impressions=6_000,
    batch_size=500,
    n_seeds=2,
    n_checkpoints=6,
)


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(SMALL)


@pytest.fixture(scope="module")
def result(scenario):
    return run_experiment(SMALL, scenario=scenario)


def test_shapes_do_not_grow_with_impressions(scenario, result):
    longer = run_experiment(SMALL.replace(n_impressions=12_000), scenario=scenario)
    assert result.series.shape == longer.series.shape
    assert result.series.shape == (2, 3, 5, 6, len(SERIES_METRICS))


def test_summary_rows_and_columns(result):
    summary = result.summary_frame()
    assert len(summary) == 2 * 3 * 5
    assert set(summary["level"]) == {"generic", "segment", "user"}
    for col in (
        "impressions",
        "clicks",
        "conversions",
        "spend",
        "revenue",
        "ctr",
        "cvr",
        "roas",
        "regret",
    ):
        assert col in summary.columns
    assert (summary["impressions"] == 6_000).all()
    np.testing.assert_allclose(summary["ctr"], summary["clicks"] / summary["impressions"])


def test_oracle_has_zero_regret_and_others_positive(result):
    summary = result.summary_frame()
    oracle = summary[summary["policy"] == "oracle"]
    np.testing.assert_allclose(oracle["regret"], 0.0, atol=1e-9)
    assert (summary[summary["policy"] == "uniform"]["regret"] > 0).all()


def test_common_random_numbers_make_runs_reproducible(scenario, result):
    again = run_experiment(SMALL, scenario=scenario)
    np.testing.assert_array_equal(result.series, again.series)
    np.testing.assert_array_equal(result.allocation, again.allocation)


def test_adding_a_policy_does_not_change_the_others(scenario, result):
    more = run_experiment(SMALL.replace(policies=(*SMALL.policies, "ucb1")), scenario=scenario)
    np.testing.assert_array_equal(more.series[:, :, :5], result.series)


def test_time_series_is_cumulative(result):
    ts = result.timeseries_frame()
    for _, g in ts.groupby(["seed", "level", "policy"]):
        assert (np.diff(g["impressions"].to_numpy()) > 0).all()
        assert (np.diff(g["regret"].to_numpy()) >= -1e-9).all()


def test_allocation_and_segments_add_up(result):
    alloc = result.allocation_frame()
    last = alloc[alloc["step"] == alloc["step"].max()]
    per_run = last.groupby(["seed", "level", "policy"])["impressions"].sum()
    assert (per_run == 6_000).all()
    seg = result.segment_frame()
    assert seg.groupby(["seed", "level", "policy"])["impressions"].sum().eq(6_000).all()


def test_budget_caps_spend(scenario):
    cfg = SMALL.replace(budget=20.0, policies=("uniform", "thompson"))
    summary = run_experiment(cfg, scenario=scenario).summary_frame()
    cpm_max = scenario.response.max_cost
    assert (summary["spend"] <= 20.0 + cpm_max).all()
    assert (summary["impressions"] < 6_000).all()


def test_conversion_delay_changes_learning_not_exposure(scenario):
    cfg = SMALL.replace(policies=("thompson",), conversion_delay=3_000)
    delayed = run_experiment(cfg, scenario=scenario).summary_frame()
    assert (delayed["impressions"] == 6_000).all()


def test_roas_objective_runs(scenario):
    cfg = SMALL.replace(objective="roas", policies=("thompson_value", "oracle"))
    summary = run_experiment(cfg, scenario=scenario).summary_frame()
    np.testing.assert_allclose(summary[summary["policy"] == "oracle"]["regret"], 0.0, atol=1e-9)


def test_logs_written_with_propensities(tmp_path, scenario):
    cfg = SMALL.replace(policies=("uniform", "epsilon_greedy"), n_impressions=1_000, n_seeds=1)
    path = tmp_path / "logs.parquet"
    run_experiment(cfg, scenario=scenario, log_path=path)
    logs = pd.read_parquet(path)
    assert len(logs) == 2 * 3 * 1_000
    uniform = logs[logs["policy"] == "uniform"]
    np.testing.assert_allclose(uniform["pscore"], 1 / cfg.n_variants)
    assert ((logs["pscore"] > 0) & (logs["pscore"] <= 1)).all()
    assert any(c.startswith("q_true_") for c in logs.columns)


def test_a_roas_log_records_net_value_in_usd_for_every_policy(tmp_path, scenario):
    # thompson learns on net value scaled to [0, 1], uniform on dollars: the log must
    # record what happened, in one unit, whatever scale each policy learns on.
    cfg = SMALL.replace(
        objective="roas", policies=("uniform", "thompson"), n_impressions=1_000, n_seeds=1
    )
    path = tmp_path / "logs.parquet"
    run_experiment(cfg, scenario=scenario, log_path=path)
    logs = pd.read_parquet(path)
    assert set(logs["policy"]) == {"uniform", "thompson"}
    np.testing.assert_allclose(logs["reward"], logs["revenue"] - logs["cost"], rtol=1e-12)


def test_levels_run_without_the_generic_one_are_unchanged(scenario, result):
    # The scenario has generic creatives; the run compares only the others.
    cfg = SMALL.replace(levels=("segment", "user"))
    run = run_experiment(cfg, scenario=scenario)
    summary, full = run.summary_frame(), result.summary_frame()
    # Same users, same draws: a level's numbers do not depend on the levels beside it.
    for level in ("segment", "user"):
        a = summary[summary["level"] == level].drop(columns="level").reset_index(drop=True)
        b = full[full["level"] == level].drop(columns="level").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    # Without the generic level there is no like-for-like baseline: no uplift rows.
    assert run.uplift_frame().empty


def test_results_do_not_depend_on_worker_processes(scenario, result):
    one = run_experiment(SMALL, scenario=scenario, n_jobs=1)
    two = run_experiment(SMALL, scenario=scenario, n_jobs=2)
    np.testing.assert_array_equal(one.series, two.series)
    np.testing.assert_array_equal(one.segment_stats, two.segment_stats)
    np.testing.assert_array_equal(one.series, result.series)


def test_progress_reaches_the_total(scenario):
    seen = []
    run_experiment(
        SMALL, scenario=scenario, progress=lambda done, total: seen.append((done, total))
    )
    # Impressions: 2 seeds x 3 levels x 5 policies.
    assert seen and seen[-1][0] == seen[-1][1] == 2 * 3 * 5 * SMALL.n_impressions
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_counts_the_impressions_of_the_pairs_played(n_jobs):
    # The generated level plays two of these four policies and the generic level three:
    # counted in batches, the generic level's would be half the run; in impressions they
    # are 3 / 5 of it, and the report when the generic units are done says so exactly.
    config = ExperimentConfig(
        n_users=2_000,
        n_segments=3,
        levels=("generic", "generated"),
        policies=("uniform", "thompson", "ucb1", "mvt_ts"),
        n_impressions=4_000,
        batch_size=500,
        n_seeds=2,
    )
    seen, early_at = [], []
    run_experiment(
        config,
        progress=lambda done, total: seen.append((done, total)),
        early=lambda result: early_at.append(seen[-1][0] if seen else 0),
        n_jobs=n_jobs,
    )
    total = 2 * (3 + 2) * config.n_impressions
    assert seen[-1] == (total, total)
    assert all(t == total for _, t in seen)
    # The early results (the generic level's) are handed over once its units are counted.
    assert early_at and early_at[0] >= 2 * 3 * config.n_impressions


@pytest.mark.parametrize(
    "overrides",
    [{}, {"budget": 3.0}, {"objective": "roas"}, {"conversion_delay": 700, "pricing": "cpc"}],
    ids=["plain", "budget", "roas", "delay"],
)
def test_results_do_not_depend_on_chunking_or_truth_tables(monkeypatch, scenario, overrides):
    # Chunks of 3 batches (and a short last batch) and ground truth computed per chunk
    # instead of looked up in whole-audience tables: same draws, same numbers (up to
    # the order of floating-point sums).
    config = SMALL.replace(n_impressions=5_700, **overrides)
    if config.pricing != SMALL.pricing:  # pricing is part of the world (its response model)
        scenario = build_scenario(config)
    reference = run_experiment(config, scenario=scenario, n_jobs=1)
    monkeypatch.setattr(engine, "_CHUNK_ROWS", 3 * config.batch_size)
    monkeypatch.setattr(engine, "_TABLE_CELLS", 0)
    chunked = run_experiment(config, scenario=scenario, n_jobs=1)
    np.testing.assert_array_equal(chunked.allocation, reference.allocation)
    np.testing.assert_allclose(chunked.series, reference.series, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        chunked.segment_stats, reference.segment_stats, rtol=1e-12, atol=1e-9
    )


def test_a_scenario_of_another_world_is_refused(scenario):
    # Run under seed 5, a world built with seed 0 would report seed 0's numbers as seed 5's.
    with pytest.raises(ValueError, match="`scenario` was built for another world: seed 0 there"):
        run_experiment(SMALL.replace(seed=5), scenario=scenario)
    with pytest.raises(ValueError, match="pricing 'cpm' there, 'cpc'"):
        run_experiment(SMALL.replace(pricing="cpc"), scenario=scenario)
    with pytest.raises(TypeError, match="`scenario` must be a Scenario"):
        run_experiment(SMALL, scenario={"levels": {}})


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_units_run_with_single_threaded_blas(n_jobs, tmp_path, monkeypatch):
    """Set once per run, and inherited by the forked workers."""
    import json

    from threadpoolctl import threadpool_info

    original = engine._SeedJob.run_unit

    def spy(self, s, li, writer, tick, *rest):
        threads = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        (tmp_path / f"unit-{s}-{li}").write_text(json.dumps(threads))
        return original(self, s, li, writer, tick, *rest)

    monkeypatch.setattr(engine._SeedJob, "run_unit", spy)
    config = SMALL.replace(n_seeds=1, policies=("uniform", "lin_ucb"))
    run_experiment(config, n_jobs=n_jobs)
    seen = [json.loads(p.read_text()) for p in tmp_path.iterdir()]
    assert len(seen) == len(config.levels)
    assert all(threads and set(threads) == {1} for threads in seen)


def test_a_failing_worker_fails_the_run(monkeypatch):
    def broken(self, s, li, writer, tick, *rest):
        raise RuntimeError(f"unit {s},{li} broke")

    monkeypatch.setattr(engine._SeedJob, "run_unit", broken)
    with pytest.raises(RuntimeError, match="broke"):
        run_experiment(SMALL, n_jobs=2)


def test_a_log_path_that_cannot_be_written_is_refused_before_the_run(scenario, tmp_path):
    with pytest.raises(ValueError, match="`log_path` must name a file"):
        run_experiment(SMALL, scenario=scenario, log_path=tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        run_experiment(SMALL, scenario=scenario, log_path=tmp_path / "no" / "log.parquet")
    assert list(tmp_path.iterdir()) == []  # nothing left beside it either


def test_numpy_numbers_are_taken_as_numbers():
    import json

    config = SMALL.replace(n_users=np.int64(2_000), budget=np.float64(50.0))
    assert type(config.n_users) is int and type(config.budget) is float
    json.dumps(config.to_dict())  # still plain JSON


def test_alpha_is_checked():
    from simulation.metrics import like_for_like_uplift

    for alpha in (2, 0, True, "0.1", float("nan")):
        with pytest.raises(ValueError, match="`alpha` must be a float in \\(0, 1\\)"):
            like_for_like_uplift(pd.DataFrame(), alpha=alpha)


def test_n_jobs_is_checked():
    for n_jobs in (0, -1, "1", 1.5):
        with pytest.raises(ValueError, match="`n_jobs` must be a whole number of processes"):
            run_experiment(SMALL, n_jobs=n_jobs)


def test_a_preset_that_is_not_a_name_is_refused(tmp_path):
    from simulation.config import load_config
    from simulation.sweep import parse_grid

    path = tmp_path / "c.toml"
    path.write_text('preset = ["quick"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown preset \\['quick'\\]"):
        load_config(path)
    with pytest.raises(ValueError, match="unknown preset \\['quick'\\]"):
        parse_grid({"preset": ["quick"], "grid": {"n_segments": [2, 3]}})


def test_result_arrays_are_read_only(result):
    """The frames are memoized from the arrays: an in-place edit must not make them disagree."""
    for array in (result.checkpoints, result.series, result.allocation, result.segment_stats):
        with pytest.raises(ValueError, match="read-only"):
            array[...] = 0
    assert result.series.copy().flags.writeable
