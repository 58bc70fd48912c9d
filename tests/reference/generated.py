"""numpy references for the generated level's compiled kernels (mvt_ts's update and climb)."""

from __future__ import annotations

import numpy as np

from simulation.generated.model import design


def diagonal_update(mu, var, space, x, xb, combos, y, noise_var):
    """Row-by-row assumed-density update on dense design rows; returns new (mu, var).

    ``xb`` (n, k, n_levels_total) is ``x @ B_k`` of every tied pattern at every level.

    Weights of variance 0 (fixed cells) are left out, as the kernel skips them.
    """
    mu, var = mu.copy(), var.copy()
    z = design(space, x, combos)
    g = space.flat(combos)
    tied = np.take_along_axis(xb, g[:, None, :], axis=2).sum(axis=2)
    z = np.concatenate([z, tied], axis=1)
    for i in range(z.shape[0]):
        on = (z[i] != 0) & (var > 0)
        v, w = var[on], z[i, on]
        s = noise_var + (v * w * w).sum()
        r = y[i] - (mu[on] * w).sum()
        gain = v * w / s
        mu[on] += gain * r
        var[on] = v - gain * w * v
    return mu, var


def _score(u_row, pt, g):
    return u_row[g].sum() + sum(pt[g[j], g[k]] for j in range(g.size) for k in range(j + 1, g.size))


def repair(space, u_row, pt, g):
    """The best improving two-axis move out of a constraint's trap, or None.

    Axis ``j`` to a level ``a`` forbidden by exactly one set level (axis ``k``'s, not
    the unary mask), axis ``k`` to any level ``b``; the first best in the order
    (j, a, b), strictly above the current score by 1e-12, and valid.
    """
    best, best_gain = None, 1e-12
    current = _score(u_row, pt, g)
    for j in range(space.n_axes):
        for a in range(space.offsets[j], space.offsets[j + 1]):
            others = [t for t in range(space.n_axes) if t != j]
            blockers = [t for t in others if not space.pair_mask[g[t], a]]
            if not space.level_mask[a] or len(blockers) != 1:
                continue
            k = blockers[0]
            for b in range(space.offsets[k], space.offsets[k + 1]):
                h = g.copy()
                h[j], h[k] = a, b
                if not space.is_valid((h - space.offsets[:-1])[None])[0]:
                    continue
                gain = _score(u_row, pt, h) - current
                if gain > best_gain:
                    best, best_gain = h, gain
    return best


def warm_climb(space, u, pt, start, max_sweeps=10):
    """Coordinate ascent of every row from ``start`` (level per axis), each time it stops
    followed by the best two-axis :func:`repair` move (at most ``max_sweeps`` rounds);
    returns combos."""
    out = np.empty((u.shape[0], space.n_axes), dtype=np.int64)
    for i in range(u.shape[0]):
        g = space.flat(np.asarray(start)[None])[0].copy()
        for _round in range(max_sweeps):
            for _ in range(max_sweeps):
                changed = False
                for j in range(space.n_axes):
                    levels = np.arange(space.offsets[j], space.offsets[j + 1])
                    others = np.delete(g, j)
                    ok = space.level_mask[levels] & space.pair_mask[np.ix_(levels, others)].all(1)
                    acc = u[i, levels] + pt[np.ix_(levels, others)].sum(axis=1)
                    cur = g[j] - space.offsets[j]
                    best = cur
                    for m in np.flatnonzero(ok):
                        if acc[m] > acc[best] + 1e-12:
                            best = m
                    if best != cur:
                        g[j] = space.offsets[j] + best
                        changed = True
                if not changed:
                    break
            moved = repair(space, u[i], pt, g)
            if moved is None:
                break
            g = moved
        out[i] = g - space.offsets[:-1]
    return out


def em_main_scale(mu, var, prior_mean, prior_var, mult, block):
    """One EM step of the main block's prior variance: mean of (mu - mu0)^2 + var, per unit."""
    on = [i for i in range(mu.size) if block[i] == 0 and prior_var[i] > 0]
    return float(np.mean([((mu[i] - prior_mean[i]) ** 2 + var[i]) / mult[i] for i in on]))


def reprior(mu, var, prior_mean, prior_var, mult, block, free, tau):
    """The diagonal posterior re-based on the free blocks' new prior variances ``tau``.

    Written weight by weight: the posterior is the prior times one Gaussian factor
    per weight (precision ``1/var - 1/prior``, shift ``mu/var - prior_mean/prior``).
    Returns new (mu, var, prior_var).
    """
    mu, var, prior_var = mu.copy(), var.copy(), prior_var.copy()
    new = {b: tau[b] for b in range(len(tau)) if free[b]}
    for i in range(mu.size):
        b = block[i]
        if b not in new or prior_var[i] <= 0:
            continue
        lam = 1.0 / var[i] - 1.0 / prior_var[i]
        eta = mu[i] / var[i] - prior_mean[i] / prior_var[i]
        v1 = new[b] * mult[i]
        var[i] = 1.0 / (lam + 1.0 / v1)
        mu[i] = var[i] * (eta + prior_mean[i] / v1)
        prior_var[i] = v1
    return mu, var, prior_var


def relevance_scales(mu, var, prior_mean, prior_var, mult, block, free, tau, floor):
    """MacKay's fixed point per relevance block (index 4 on), written block by block.

    ``tau[b] = sum((mu - mu0)^2 / mult) / max(sum(1 - var / prior_var), 1e-3)`` over
    the block's weights of prior variance > 0, at least ``floor * tau[b]``. Returns new tau.
    """
    tau = np.array(tau, dtype=np.float64)
    for b in range(4, tau.size):
        on = (block == b) & (prior_var > 0)
        if not free[b] or not on.any():
            continue
        num = np.sum((mu[on] - prior_mean[on]) ** 2 / mult[on])
        gamma = np.sum(1.0 - var[on] / prior_var[on])
        tau[b] = max(num / max(gamma, 1e-3), floor * tau[b])
    return tau
