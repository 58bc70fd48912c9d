"""Minimal policies with the policy contract, for the off-policy evaluation tests."""

from dataclasses import dataclass

import numpy as np


@dataclass
class StubUniform:
    def reset(self, n_arms, n_features=0):
        self.n_arms_ = n_arms

    def update(self, contexts, arms, rewards):
        pass

    def action_probabilities(self, contexts, rng):
        return np.full((len(contexts), self.n_arms_), 1 / self.n_arms_)


@dataclass
class StubGreedy:
    """Epsilon-greedy on per-arm means learned from the replayed log."""

    epsilon: float = 0.1

    def reset(self, n_arms, n_features=0):
        self.sums_, self.counts_ = np.zeros(n_arms), np.zeros(n_arms)

    def update(self, contexts, arms, rewards):
        self.sums_ += np.bincount(arms, weights=rewards, minlength=self.sums_.size)
        self.counts_ += np.bincount(arms, minlength=self.sums_.size)

    def action_probabilities(self, contexts, rng):
        k = self.sums_.size
        means = np.divide(self.sums_, self.counts_, out=np.zeros(k), where=self.counts_ > 0)
        probs = np.full(k, self.epsilon / k)
        probs[means.argmax()] += 1 - self.epsilon
        return np.tile(probs, (len(contexts), 1))
