"""Cross-fitted reward model ``q(x, a)`` for the direct and doubly robust estimators.

The rows are split into ``n_folds`` folds; the predictions for a fold come from
models fit on the other folds only, so ``q`` is never fit on the rows it
predicts (cross-fitting, as in double machine learning). This keeps the DR
correction term unbiased even with a flexible model.

Two designs:

The default model is a standardized logistic regression for 0/1 rewards and a
standardized ridge regression for other rewards.

- ``"per_arm"`` (default): one scikit-learn model per arm on that arm's rows;
  it captures any context-by-arm interaction. Fitting loops over arms and
  folds (scikit-learn fits cannot be stacked on an arm axis).
- ``"joint"``: one model on ``[x, one_hot(a)]`` for all rows; it shares
  strength across arms (useful when arms have few positive rewards, as in the
  Open Bandit Dataset) but is additive in ``x`` and ``a``.

A fold in which an arm's training rows hold a single class (e.g. no click at
all) cannot fit a classifier: the arm then predicts the mean reward of those
rows, or the fold's overall mean when the arm has no training rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

__all__ = ["MODES", "default_model", "fit_reward_model"]

#: Reward model designs accepted by :func:`fit_reward_model`.
MODES: tuple[str, ...] = ("per_arm", "joint")


def default_model(reward: np.ndarray | None = None):
    """The default model for these rewards.

    Parameters
    ----------
    reward : ndarray of shape (n_rounds,), optional
        Observed rewards; binary (0/1) rewards, or none given, get a classifier.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Standardized logistic regression for binary rewards, standardized ridge
        regression otherwise.
    """
    if reward is None or np.isin(reward, (0.0, 1.0)).all():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return make_pipeline(StandardScaler(), Ridge())


def _fit_predict(model, x_train, y_train, x_pred) -> np.ndarray:
    """Fit a clone on the training rows and predict ``x_pred``; mean fallback for one class."""
    if x_pred.shape[0] == 0:
        return np.empty(0)
    if y_train.shape[0] == 0:
        return None
    if is_classifier(model):
        classes = np.unique(y_train)
        if classes.shape[0] < 2:
            return np.full(x_pred.shape[0], float(y_train.mean()))
        fitted = clone(model).fit(x_train, y_train)
        proba = fitted.predict_proba(x_pred)
        # Expected reward: sum over classes of class value times probability.
        return proba @ np.asarray(fitted.classes_, dtype=np.float64)
    return np.asarray(clone(model).fit(x_train, y_train).predict(x_pred), dtype=np.float64)


def fit_reward_model(
    context: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    *,
    n_arms: int,
    rng: np.random.Generator,
    n_folds: int = 5,
    model=None,
    mode: str = "per_arm",
) -> np.ndarray:
    """Cross-fitted predictions of the expected reward of every arm for every row.

    Parameters
    ----------
    context : ndarray of shape (n_rounds, n_features)
        Contexts; ``n_features`` may be 0 (the model is then a per-arm mean).
    action : ndarray of int of shape (n_rounds,)
        Logged actions in ``[0, n_arms)``.
    reward : ndarray of shape (n_rounds,)
        Observed rewards.
    n_arms : int
        Number of arms.
    rng : numpy.random.Generator
        Source of the fold assignment.
    n_folds : int, default=5
        Number of cross-fitting folds, ``>= 2`` and ``<= n_rounds``.
    model : scikit-learn estimator, optional
        Classifier (binary or multi-class over reward values) or regressor;
        cloned for each fit. Default: :func:`default_model` of ``reward``
        (logistic regression for 0/1 rewards, ridge regression otherwise).
    mode : {"per_arm", "joint"}, default="per_arm"
        One model per arm, or one model on contexts plus one-hot actions.

    Returns
    -------
    ndarray of shape (n_rounds, n_arms)
        ``q[i, a]``: predicted reward of arm ``a`` for row ``i`` from models that
        did not see row ``i``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2))
    >>> a = rng.integers(0, 3, size=200)
    >>> r = (rng.random(200) < 0.3).astype(float)
    >>> fit_reward_model(x, a, r, n_arms=3, rng=rng).shape
    (200, 3)
    """
    context = np.asarray(context, dtype=np.float64)
    action = np.asarray(action)
    reward = np.asarray(reward, dtype=np.float64)
    if context.ndim != 2:
        raise ValueError(f"`context` must be a 2-d array; got shape {context.shape}.")
    n = context.shape[0]
    if action.shape != (n,) or reward.shape != (n,):
        raise ValueError(
            f"`action` and `reward` must have shape ({n},) like the rows of `context`; "
            f"got {action.shape} and {reward.shape}."
        )
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {list(MODES)}; got {mode!r}.")
    if isinstance(n_arms, bool) or not isinstance(n_arms, (int, np.integer)) or n_arms < 1:
        raise ValueError(f"`n_arms` must be an int >= 1; got {n_arms!r}.")
    if action.dtype.kind not in "iu" or (n and (action.min() < 0 or action.max() >= n_arms)):
        raise ValueError(f"`action` must hold integers in [0, {n_arms}).")
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)):
        raise TypeError(f"`n_folds` must be an int; got {type(n_folds).__name__}.")
    if not 2 <= n_folds <= n:
        raise ValueError(f"`n_folds` must be an int in [2, n_rounds={n}]; got {n_folds}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy.random.Generator; got {type(rng).__name__}.")
    model = default_model(reward) if model is None else model

    # Balanced random folds: a permutation cut into n_folds near-equal parts.
    fold = np.empty(n, dtype=np.int64)
    fold[rng.permutation(n)] = np.arange(n) % n_folds
    if context.shape[1] == 0:
        # No features: a model is only a per-arm mean; a constant column lets sklearn fit.
        context = np.zeros((n, 1))
    q = np.empty((n, n_arms))
    # Many small fits: multi-threaded BLAS only adds overhead (10x slower on a busy
    # 2-core machine in bench/ope.py), so BLAS runs on one thread here.
    with threadpool_limits(limits=1, user_api="blas"):
        _cross_fit(q, context, action, reward, fold, n_folds, n_arms, model, mode)
    return q


def _cross_fit(q, context, action, reward, fold, n_folds, n_arms, model, mode) -> None:
    """Fill ``q`` (n_rounds, n_arms) fold by fold (see :func:`fit_reward_model`)."""
    arms = np.arange(n_arms)
    for k in range(n_folds):
        test = fold == k
        train = ~test
        fallback = float(reward[train].mean())
        if mode == "joint":
            x_train = np.column_stack([context[train], np.eye(n_arms)[action[train]]])
            x_test = context[test]
            n_test = x_test.shape[0]
            # Predict every arm at once: repeat the test rows once per arm.
            x_all = np.column_stack(
                [np.repeat(x_test, n_arms, axis=0), np.tile(np.eye(n_arms), (n_test, 1))]
            )
            pred = _fit_predict(model, x_train, reward[train], x_all)
            q[test] = pred.reshape(n_test, n_arms)
            continue
        for arm in arms:
            rows = train & (action == arm)
            pred = _fit_predict(model, context[rows], reward[rows], context[test])
            q[test, arm] = fallback if pred is None else pred
