"""A subclass of a compiled policy keeps the compiled route only while it behaves as its parent.

A kernel plays a chunk in place of ``select`` and ``update``: a subclass that
overrides either (or anything they call) must be played batch by batch, where its
methods run and what its ``select`` returns is checked; a subclass that changes only
data (a name, a docstring) keeps the kernel and its parent's results to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.routes import compiled_route, inherits_kernel
from simulation.policies import POLICIES
from simulation.policies.context_free import EpsilonGreedy, Uniform, counting_kernels

needs_numba = pytest.mark.skipif(counting_kernels() is None, reason="numba not installed")

#: The registered policies that declare a kernel (the compiled route's candidates).
KERNELED = ("uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb", "lin_ts")
#: The audit's repro (with its policy named once registered): the plain case (CTR, no
#: budget, no delay, no log) that a kernel plays.
SETTINGS = {
    "n_users": 500,
    "n_segments": 2,
    "n_impressions": 2_000,
    "n_seeds": 1,
    "batch_size": 500,
    "levels": ("generic",),
}
CONFIG = ExperimentConfig(**SETTINGS)


def _reset(cls):
    return cls().reset(5, 3 if cls.needs_contexts else 0)


@dataclass(kw_only=True, eq=False)
class _Renamed(EpsilonGreedy):
    """The parent's behaviour under another name and docstring."""

    name = "renamed"


@dataclass(kw_only=True, eq=False)
class _FirstArm(Uniform):
    """A valid override: every impression to arm 0."""

    name = "mine"

    def select(self, contexts, rng):
        return np.zeros(self._check_batch(contexts, rng).shape[0], dtype=np.int64)


@dataclass(kw_only=True, eq=False)
class _OutOfRange(Uniform):
    """A broken override: arm ``n_arms``, one past the last."""

    name = "mine"

    def select(self, contexts, rng):
        return np.full(np.asarray(contexts).shape[0], self.n_arms_)


@needs_numba
@pytest.mark.parametrize("name", KERNELED)
def test_a_subclass_that_changes_only_data_keeps_its_parent_s_compiled_route(name):
    parent = POLICIES[name]

    @dataclass(kw_only=True, eq=False)
    class Renamed(parent):
        """Only a new name, docstring and default repr."""

        name = "renamed"

    route = compiled_route(_reset(Renamed), CONFIG)
    assert route is not None
    assert route == compiled_route(_reset(parent), CONFIG)


@needs_numba
@pytest.mark.parametrize("name", KERNELED)
@pytest.mark.parametrize("method", ["select", "update", "reset", "_check_batch"])
def test_a_subclass_that_overrides_a_method_plays_batch_by_batch(name, method):
    # Even an override that only delegates: the kernel would skip it unseen. A helper
    # of select (_check_batch) counts as much as select itself.
    def delegate(self, *args, **kwargs):
        return getattr(super(Sub, self), method)(*args, **kwargs)

    Sub = type("Sub", (POLICIES[name],), {method: delegate})
    assert compiled_route(_reset(POLICIES[name]), CONFIG) is not None
    kernel = "linear_kernel" if hasattr(Sub, "linear_kernel") else "counting_kernel"
    assert not inherits_kernel(_reset(Sub), kernel)
    assert compiled_route(_reset(Sub), CONFIG) is None


@needs_numba
def test_an_instance_that_shadows_a_method_plays_batch_by_batch():
    policy = _reset(Uniform)
    assert compiled_route(policy, CONFIG) is not None
    policy.select = lambda contexts, rng: np.zeros(len(contexts), dtype=np.int64)
    assert compiled_route(policy, CONFIG) is None


@needs_numba
def test_a_subclass_that_declares_its_own_kernel_keeps_it():
    # Defining the kernel method says the kernel plays this class's methods.
    @dataclass(kw_only=True, eq=False)
    class Declared(_FirstArm):
        def counting_kernel(self, config):
            return "uniform", 0.0, 0.0

    assert inherits_kernel(_reset(Declared), "counting_kernel")
    assert compiled_route(_reset(Declared), CONFIG) is not None


def test_an_overridden_select_is_checked_as_a_policy_s_is(monkeypatch):
    monkeypatch.setitem(POLICIES, "mine", _OutOfRange)
    expected = (
        "policy 'mine': select must return an int array of shape (500,) with values in "
        "[0, 5); got 5 at row 0."
    )
    with pytest.raises(ValueError) as caught:
        run_experiment(ExperimentConfig(**SETTINGS, policies=("mine",)), n_jobs=1)
    assert str(caught.value) == expected


def test_an_overridden_select_is_the_one_that_plays(monkeypatch):
    monkeypatch.setitem(POLICIES, "mine", _FirstArm)
    result = run_experiment(ExperimentConfig(**SETTINGS, policies=("mine",)), n_jobs=1)
    final = result.allocation[0, 0, 0, -1]  # (n_arms,) impressions per arm at the end
    assert final[0] == CONFIG.n_impressions
    assert final[1:].sum() == 0


def test_a_renamed_subclass_runs_bit_identical_to_its_parent(monkeypatch):
    # Registered under the parent's name, so it draws from the parent's random stream.
    config = CONFIG.replace(policies=("epsilon_greedy",), n_impressions=4_000)
    parent = run_experiment(config, n_jobs=1)
    monkeypatch.setitem(POLICIES, "epsilon_greedy", _Renamed)
    renamed = run_experiment(config, n_jobs=1)
    np.testing.assert_array_equal(renamed.series, parent.series)
    np.testing.assert_array_equal(renamed.allocation, parent.allocation)
    assert parent.allocation[0, 0, 0, -1].max() < config.n_impressions  # it did explore
