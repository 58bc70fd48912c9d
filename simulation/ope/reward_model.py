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

The model's own error. :func:`cross_fit` also keeps what each fit learned from
each of its rows, so an estimator's bootstrap can refit the model on every
resample to first order (:meth:`CrossFit.refit_terms`): the fitted parameters
``theta`` solve ``sum_j z_j (r_j - q_j) = P theta`` (a penalized logistic or
ridge regression on standardized features ``z`` with an intercept), and a
resample that weighs row ``j`` by ``w_j`` moves them by ``H^-1 sum_j (w_j - 1)
z_j (r_j - q_j)``, one Newton step (``H`` the Hessian of the fit). An estimate
``sum_i,a B[i, a] q[i, a]`` then moves by ``sum_j (w_j - 1) c_j`` with ``c_j =
(G^T H^-1 z_j) (r_j - q_j)`` and ``G = sum_i,a B[i, a] dq[i, a]/dtheta`` over
the rows the fit predicts: adding ``c_j`` to row ``j``'s term makes the plain
row bootstrap resample the model's fit too, in one gather-and-sum (no model is
refit). The scaler's mean and scale are held fixed (a reparametrization, of
second-order effect). This covers the fit's sampling error, not the bias of a
model that cannot describe the rewards: no resampling of the log shows that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

__all__ = ["MODES", "CrossFit", "cross_fit", "default_model", "fit_reward_model"]

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


def _fit_predict(model, x_train, y_train, x_pred):
    """Fit a clone on the training rows and predict ``x_pred``; mean fallback for one class.

    Returns
    -------
    pred : ndarray of shape (n_pred,), or None when there is no training row
    fitted : the fitted clone, or None when the mean was used (or nothing was fit)
    """
    if y_train.shape[0] == 0:
        return None, None
    if x_pred.shape[0] == 0:
        return np.empty(0), None
    if is_classifier(model):
        classes = np.unique(y_train)
        if classes.shape[0] < 2:
            return np.full(x_pred.shape[0], float(y_train.mean())), None
        fitted = clone(model).fit(x_train, y_train)
        proba = fitted.predict_proba(x_pred)
        # Expected reward: sum over classes of class value times probability.
        return proba @ np.asarray(fitted.classes_, dtype=np.float64), fitted
    fitted = clone(model).fit(x_train, y_train)
    return np.asarray(fitted.predict(x_pred), dtype=np.float64), fitted


@dataclass(frozen=True, slots=True)
class _Fit:
    """One fitted model of the cross-fit, linearized (see the module docstring).

    ``train`` and ``test`` are row indices; ``arm`` its arm, or -1 for the joint model
    (its features are ``[x, one_hot(a)]``); ``center``, ``scale`` (p,) standardize the
    features; ``coef`` (p + 1,) has the intercept first; ``logistic`` says whether
    ``q = sigmoid(z . coef)`` (else ``q = z . coef``); ``hess_inv`` (p + 1, p + 1) is the
    inverse Hessian of the fit per unit of the score ``z (r - q)``. A mean fit is
    ``p = 0``, ``coef = [mean]``, ``hess_inv = [[1 / n_train]]``.
    """

    train: np.ndarray
    test: np.ndarray
    arm: int
    center: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    logistic: bool
    hess_inv: np.ndarray


def _raw_dot(fit: _Fit, context, rows, arms, b: np.ndarray) -> np.ndarray:
    """``X @ b`` for the fit's raw features ``X`` of ``rows`` (arm ``arms``), shape (n,)."""
    d = context.shape[1]
    out = context[rows] @ b[:d]
    if fit.arm < 0:  # joint: X = [x, one_hot(a)]
        out += b[d:][arms]
    return out


def _raw_tdot(fit: _Fit, context, rows, arms, v: np.ndarray) -> np.ndarray:
    """``X.T @ v`` for the fit's raw features ``X`` of ``rows``, shape (p,)."""
    d = context.shape[1]
    head = v @ context[rows]
    if fit.arm < 0:
        n_arms = fit.center.shape[0] - d
        per_arm = np.bincount(np.broadcast_to(arms, rows.shape), weights=v, minlength=n_arms)
        return np.concatenate([head, per_arm])
    return head


def _affine(fit: _Fit, context, rows, arms, vec: np.ndarray) -> np.ndarray:
    """``z @ vec`` with ``z = [1, (X - center) / scale]``, without forming ``z``, shape (n,)."""
    if fit.center.shape[0] == 0:
        return np.full(rows.shape[0], vec[0])
    b = vec[1:] / fit.scale
    return vec[0] - fit.center @ b + _raw_dot(fit, context, rows, arms, b)


def _affine_t(fit: _Fit, context, rows, arms, v: np.ndarray) -> np.ndarray:
    """``z.T @ v`` for ``z = [1, (X - center) / scale]``, shape (p + 1,)."""
    total = v.sum()
    if fit.center.shape[0] == 0:
        return np.array([total])
    rest = (_raw_tdot(fit, context, rows, arms, v) - fit.center * total) / fit.scale
    return np.concatenate([[total], rest])


def _predict(fit: _Fit, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictions from ``eta = z . coef`` (n,), and their derivative in ``eta`` (n,)."""
    if not fit.logistic:
        return eta, np.ones_like(eta)
    q = 1.0 / (1.0 + np.exp(-eta))
    return q, q * (1.0 - q)


def _linearize(fitted, train, test, arm, context, action, reward, n_arms) -> _Fit:
    """The :class:`_Fit` of a default-model pipeline (None: a mean over ``train``)."""
    if fitted is None:
        mean = float(reward[train].mean())
        return _Fit(train, test, arm, np.empty(0), np.empty(0), np.array([mean]), False,
                    np.array([[1.0 / train.shape[0]]]))  # fmt: skip
    scaler, last = fitted[0], fitted[-1]
    logistic = is_classifier(last)
    coef = np.concatenate([np.ravel(last.intercept_)[:1], np.ravel(last.coef_)])
    # The penalty per unit of score: 1/C on the coefficients (logistic), alpha (ridge);
    # the intercept is not penalized in either.
    penalty = 1.0 / float(last.C) if logistic else float(last.alpha)
    x = context[train]
    if arm < 0:
        x = np.column_stack([x, np.eye(n_arms)[action[train]]])
    z = np.column_stack([np.ones(train.shape[0]), (x - scaler.mean_) / scaler.scale_])
    _, slope = _predict(_Fit(train, test, arm, scaler.mean_, scaler.scale_, coef, logistic,
                             np.empty((0, 0))), z @ coef)  # fmt: skip
    hess = (z * slope[:, None]).T @ z
    hess[np.arange(1, hess.shape[0]), np.arange(1, hess.shape[0])] += penalty
    return _Fit(train, test, arm, scaler.mean_, scaler.scale_, coef, logistic, np.linalg.pinv(hess))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CrossFit:
    """A cross-fitted reward model: its predictions and, for the default model, its fits.

    Parameters
    ----------
    q : ndarray of shape (n_rounds, n_arms)
        ``q[i, a]``: predicted reward of arm ``a`` for row ``i`` from models that did
        not see row ``i``.
    context : ndarray of shape (n_rounds, n_features)
    action : ndarray of int of shape (n_rounds,)
    reward : ndarray of shape (n_rounds,)
        The rows the model was fit on.
    fits : tuple of _Fit, or None
        Every fitted model, linearized; None for a model given by the caller, whose
        fit this module cannot linearize (:meth:`refit_terms` then returns None).
    """

    q: np.ndarray
    context: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    fits: tuple[_Fit, ...] | None

    def refit_terms(self, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """What each row adds to ``sum_i,a weight[i, a] q[i, a]`` through the model's fit.

        Parameters
        ----------
        weight : ndarray of shape (n_rounds, n_arms)
            The derivative of ``n_rounds`` times an estimate with respect to ``q``
            (``action_dist`` for DM).

        Returns
        -------
        terms : ndarray of shape (n_rounds,)
            ``c_j`` of the module docstring, minus their mean: added to each row's
            term, a bootstrap over rows also refits the model, to first order.
        slope : ndarray of shape (n_rounds,)
            The change of the weighted sum per unit of row ``j``'s reward (through the
            refit): what one more event on row ``j`` would add.
        Or None when the model's fits are unknown (a caller's own model).
        """
        if self.fits is None:
            return None
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape != self.q.shape:
            raise ValueError(
                f"`weight` must have the shape of `q` {self.q.shape}; got {weight.shape}."
            )
        n = self.q.shape[0]
        terms, slope = np.zeros(n), np.zeros(n)
        # Many small products: BLAS on one thread, as for the fits themselves.
        with threadpool_limits(limits=1, user_api="blas"):
            for fit in self.fits:
                _add_refit(fit, weight, self.context, self.action, self.reward, terms, slope)
        return terms - terms.mean(), slope


def _add_refit(fit: _Fit, weight, context, action, reward, terms, slope) -> None:
    """Add one fit's ``c_j`` to ``terms`` and its slopes to ``slope`` (its training rows)."""
    if fit.test.shape[0] == 0:
        return
    n_arms = weight.shape[1]
    arms = range(n_arms) if fit.arm < 0 else (fit.arm,)
    grad = np.zeros(fit.coef.shape[0])
    for arm in arms:
        _, d_eta = _predict(fit, _affine(fit, context, fit.test, arm, fit.coef))
        grad += _affine_t(fit, context, fit.test, arm, weight[fit.test, arm] * d_eta)
    u = fit.hess_inv @ grad
    train_arms = action[fit.train]
    pred, _ = _predict(fit, _affine(fit, context, fit.train, train_arms, fit.coef))
    h = _affine(fit, context, fit.train, train_arms, u)
    terms[fit.train] += h * (reward[fit.train] - pred)
    slope[fit.train] += h


def cross_fit(
    context: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    *,
    n_arms: int,
    rng: np.random.Generator,
    n_folds: int = 5,
    model=None,
    mode: str = "per_arm",
) -> CrossFit:
    """Cross-fitted predictions of the expected reward of every arm, and the fits behind them.

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
    CrossFit
        ``.q`` of shape (n_rounds, n_arms): predicted reward of arm ``a`` for row
        ``i`` from models that did not see row ``i``; with the default model, the
        fits an estimator's bootstrap refits to first order
        (:meth:`CrossFit.refit_terms`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2))
    >>> a = rng.integers(0, 3, size=200)
    >>> r = (rng.random(200) < 0.3).astype(float)
    >>> cross_fit(x, a, r, n_arms=3, rng=rng).q.shape
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
    # Only the default model's fits are known well enough to linearize.
    linear = model is None
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
        fitted = _cross_fit(q, context, action, reward, fold, n_folds, n_arms, model, mode)
        fits = None
        if linear:
            fits = tuple(
                _linearize(f, train, test, arm, context, action, reward, n_arms)
                for f, train, test, arm in fitted
            )
    return CrossFit(q=q, context=context, action=action, reward=reward, fits=fits)


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

    :func:`cross_fit`'s ``q``, for callers that need no more; same parameters.

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
    return cross_fit(
        context, action, reward, n_arms=n_arms, rng=rng, n_folds=n_folds, model=model, mode=mode
    ).q


def _cross_fit(q, context, action, reward, fold, n_folds, n_arms, model, mode) -> list:
    """Fill ``q`` (n_rounds, n_arms) fold by fold (see :func:`cross_fit`).

    Returns
    -------
    list of (fitted model or None for a mean, train rows, test rows, arm or -1)
    """
    arms = np.arange(n_arms)
    fitted = []
    for k in range(n_folds):
        test = fold == k
        train = ~test
        test_rows, train_rows = np.flatnonzero(test), np.flatnonzero(train)
        fallback = float(reward[train].mean())
        if mode == "joint":
            x_train = np.column_stack([context[train], np.eye(n_arms)[action[train]]])
            x_test = context[test]
            n_test = x_test.shape[0]
            # Predict every arm at once: repeat the test rows once per arm.
            x_all = np.column_stack(
                [np.repeat(x_test, n_arms, axis=0), np.tile(np.eye(n_arms), (n_test, 1))]
            )
            pred, model_k = _fit_predict(model, x_train, reward[train], x_all)
            q[test] = pred.reshape(n_test, n_arms)
            fitted.append((model_k, train_rows, test_rows, -1))
            continue
        for arm in arms:
            rows = train & (action == arm)
            pred, model_k = _fit_predict(model, context[rows], reward[rows], context[test])
            if pred is None:  # no training row of this arm: the fold's mean
                q[test, arm] = fallback
                fitted.append((None, train_rows, test_rows, int(arm)))
            else:
                q[test, arm] = pred
                fitted.append((model_k, np.flatnonzero(rows), test_rows, int(arm)))
    return fitted
