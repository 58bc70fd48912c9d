"""A result is saved to the run store once, even when two threads finish it at the same moment."""

from __future__ import annotations

import threading
import time

import pandas as pd

from simulation.config import PRESETS
from simulation.store import RunStore
from ui import cache, runner


def test_two_threads_saving_the_same_result_save_it_once(adlab_home, monkeypatch):
    config, result = PRESETS["quick"], object()  # _save_once knows a result by identity only
    calls, start = [], threading.Barrier(2)

    def slow_save(config, result, log):
        calls.append(result)
        time.sleep(0.3)  # wide enough for the other thread to check "saved?" meanwhile
        run_id = cache.run_store().save(
            config={"seed": config.seed}, seed=config.seed,
            summary=pd.DataFrame({"ctr": [0.03]}), timeseries=pd.DataFrame({"ctr": [0.03]}),
        )  # fmt: skip
        return run_id, None

    monkeypatch.setattr(runner, "_save", slow_save)
    answers = []

    def save() -> None:
        start.wait(10)
        answers.append(runner._save_once(config, result))

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(calls) == 1
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0][0] is not None
    assert list(RunStore.open(adlab_home).list()["run_id"]) == [answers[0][0]]


def test_a_different_result_of_the_same_config_is_saved_again(adlab_home, monkeypatch):
    config = PRESETS["quick"]
    ids = iter(["20261122-074044-123456-3f9a2c1b", "20261122-074045-123456-3f9a2c1b"])
    monkeypatch.setattr(runner, "_save", lambda config, result, log: (next(ids), None))
    monkeypatch.setattr(RunStore, "resolve", lambda self, run_id: run_id)
    results = object(), object()  # both alive: ids of live objects differ
    first = runner._save_once(config, results[0])
    assert runner._save_once(config, results[1]) != first
