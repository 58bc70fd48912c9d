"""Concurrent experiments in one process (issue #17): each gets the results it would get alone."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.scenario import build_scenario

BASE = ExperimentConfig(
    n_users=2_000,
    n_segments=3,
    levels=("generic", "segment"),
    policies=("uniform", "thompson", "lin_ucb"),
    n_impressions=3_000,
    batch_size=500,
    n_seeds=2,
    n_checkpoints=4,
)
SEEDS = range(100, 108)


def _run_in_threads(jobs):
    """Call every ``job()`` from its own thread, released at once; results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def target(i):
        barrier.wait()
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a concurrent run did not finish"
    return results


@pytest.fixture(scope="module")
def worlds():
    return {seed: build_scenario(BASE.replace(seed=seed)) for seed in SEEDS}


@pytest.fixture(scope="module")
def solo(worlds):
    # n_jobs=2 with 4 units: the forked-worker path, as in the concurrent runs.
    return {
        seed: run_experiment(BASE.replace(seed=seed), scenario=worlds[seed], n_jobs=2)
        for seed in SEEDS
    }


def test_solo_results_differ_between_seeds(solo):
    # Otherwise a run given another seed's numbers could not be told apart.
    finals = {seed: r.series[..., -1, :].tobytes() for seed, r in solo.items()}
    assert len(set(finals.values())) == len(SEEDS)


def test_concurrent_runs_equal_their_solo_results(worlds, solo):
    def job(seed):
        def run():
            return run_experiment(BASE.replace(seed=seed), scenario=worlds[seed], n_jobs=2)

        return run

    results = _run_in_threads([job(seed) for seed in SEEDS])
    for seed, result in zip(SEEDS, results):
        if isinstance(result, BaseException):
            raise AssertionError(f"seed {seed} failed") from result
        assert result.config.seed == seed
        np.testing.assert_array_equal(result.series, solo[seed].series, err_msg=f"seed {seed}")
        np.testing.assert_array_equal(result.allocation, solo[seed].allocation)
        np.testing.assert_array_equal(result.segment_stats, solo[seed].segment_stats)


def test_concurrent_progress_is_each_runs_own(worlds):
    seen = {seed: [] for seed in SEEDS[:4]}

    def job(seed):
        def run():
            config = BASE.replace(seed=seed)
            progress = lambda done, total: seen[seed].append((done, total))  # noqa: E731
            return run_experiment(config, scenario=worlds[seed], n_jobs=2, progress=progress)

        return run

    results = _run_in_threads([job(seed) for seed in seen])
    assert not [r for r in results if isinstance(r, BaseException)]
    total = BASE.n_seeds * len(BASE.levels) * len(BASE.policies) * BASE.n_impressions
    for seed, calls in seen.items():
        # Exactly this run's impressions: none lost to, nor borrowed from, another run.
        assert calls[-1] == (total, total), seed
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)
