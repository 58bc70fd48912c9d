"""How much of a log an off-policy estimate rests on: effective sample size, events, overlap.

One rule for the command line and the app (both print :meth:`Support.warnings`).

With importance weights ``w_i = pi(a_i | x_i) / p_i`` on the evaluation rows:

- **Effective sample size** ``(sum w)^2 / sum w^2`` (Kish): the weighted estimate is about
  as precise as a plain mean over ESS impressions of the policy itself; below
  :data:`MIN_ESS` a handful of heavily weighted rows decide it.
- **Events**: rows with a reward above 0 and a weight above 0 (the clicks IPS, SNIPS and
  DR add up). With c of them the estimate's relative standard error is at least about
  ``1/sqrt(c)`` (Poisson), 18 % at :data:`MIN_CLICKS`.
- **Overlap.** Where the logging policy gives an arm probability ``mu(a|x) > 0``,
  ``E[w] = sum over those arms of pi(a|x)``: the mean weight estimates the share of the
  evaluated policy's choices the log can show at all (1 under full overlap). An ad the
  logging policy never showed (a deterministic logger's other ads, or an ad absent from the
  rows) cannot be evaluated: IPS and DR count it as earning 0, so a mean weight well below
  1 is a biased estimate, and a policy with no weight anywhere gets IPS 0 with the interval
  [0, 0], a confident wrong answer; :attr:`Support.unsupported` says so instead.
- **Propensities that cannot be right.** For each arm ``a``, with ``X_i = 1{a_i = a} / p_i``,
  ``E[X_i | x_i] = 1`` where the logging policy can show ``a`` and 0 where it cannot, so the
  mean ``S_a`` of ``X`` over the rows is at most 1 (up to chance) for every logging policy,
  contextual or not, deterministic or not. A log whose ``S_a`` is clearly above 1 claims
  smaller propensities than the frequency it shows the arm with (the audit's log: arm 0 on
  half the rows with propensity 0.2, ``S_0 = 2.5``). "Clearly" is Bernstein's inequality,
  which holds at any sample size, even for an arm shown a handful of times:
  ``P(S_a - 1 >= t) <= exp(-n t^2 / (2 (v + M t / 3)))`` with ``v = m2_a / S_a - 1`` the
  variance of ``X`` under a right log (``m2_a`` the mean of ``X^2``; for a constant
  propensity ``p`` it is ``(1 - p) / p`` exactly) and ``M`` the largest ``X``; the
  propensities are flagged when that bound is below :data:`PROPENSITY_ALPHA` (``1e-6``),
  so a right log is flagged at most ``n_arms`` in a million evaluations. With many rows
  the rule is a one-sided binomial z-test of the arm's frequency against its propensity at
  about 5.3 standard errors. The mean of ``1/p`` over all rows (``n_arms`` for a logger
  with full support) would not do: a constant propensity ``1/n_arms`` gives exactly
  ``n_arms`` however the arms were really drawn. The other direction (``S_a`` below 1) is
  not a sign of wrong propensities: a logger that never shows ``a`` in some contexts gives
  it too; the overlap warning covers its effect on the estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MIN_CLICKS",
    "MIN_ESS",
    "MIN_SUPPORTED_SHARE",
    "PROPENSITY_ALPHA",
    "Support",
    "propensity_excess",
    "support_of",
]

#: Below these the estimate rests on too little data to trust its interval (see above).
MIN_ESS = 100
MIN_CLICKS = 30
#: Below this share of the policy's choices shown by the log (the mean weight, by more than
#: two standard errors), the estimates are biased toward 0 and a warning says so. 0.9: a
#: tenth of the policy's value unseen is already a bias as large as a typical interval's
#: half-width on the logs this sandbox writes.
MIN_SUPPORTED_SHARE = 0.9
#: A share of the policy's choices on ads absent from the evaluation rows above which the
#: warning names them (rounding noise of action probabilities stays far below it).
MIN_UNLOGGED_MASS = 0.005
#: Bernstein tail bound below which an arm's logged propensities are declared inconsistent
#: with how often the log shows it (see above): one false alarm per arm in a million
#: evaluations of a right log, and still below 1e-14 on the audit's 200-row log.
PROPENSITY_ALPHA = 1e-6


@dataclass(frozen=True, slots=True, kw_only=True)
class Support:
    """How much of the log an estimate rests on.

    Parameters
    ----------
    ess : float
        Effective sample size ``(sum w)^2 / sum w^2`` of the importance weights
        ``w = pi(a_i | x_i) / p_i`` on the evaluation rows (0 when every weight is 0).
    clicks : int
        Rows with a reward above 0 and a weight above 0: the clicks behind IPS and DR.
    n_eval : int
        Evaluation rows.
    mean_weight : float
        Mean importance weight: the share of the policy's choices the log supports.
    mean_weight_se : float
        Its standard error, ``std(w) / sqrt(n_eval)``.
    unlogged : tuple of int
        Arms the policy gives probability to that no evaluation row shows.
    unlogged_mass : float
        Mean probability the policy puts on those arms, in [0, 1].
    events : str, default "clicks"
        What ``clicks`` counts, in words: "clicks" for a 0/1 reward, "rewarded rows" for
        another (a ROAS log's rows with a net value above 0 are sales, not clicks).
    arm_ratio : tuple of float, default ()
        Per arm (``n_arms`` entries), ``S_a``: the evaluation rows showing the arm, each
        counted ``1 / pscore`` times, over the number of evaluation rows; at most 1 (up
        to chance) when the propensities are right.
    arm_share : tuple of float, default ()
        Per arm, the share of evaluation rows that show it.
    arm_pscore : tuple of float, default ()
        Per arm, the mean logged propensity over the rows that show it (NaN where none).
    inconsistent_arms : tuple of int, default ()
        Arms whose ``S_a`` exceeds 1 by more than chance allows (:data:`PROPENSITY_ALPHA`),
        the most inconsistent first.
    """

    ess: float
    clicks: int
    n_eval: int
    mean_weight: float
    mean_weight_se: float
    unlogged: tuple[int, ...] = ()
    unlogged_mass: float = 0.0
    events: str = "clicks"
    arm_ratio: tuple[float, ...] = ()
    arm_share: tuple[float, ...] = ()
    arm_pscore: tuple[float, ...] = ()
    inconsistent_arms: tuple[int, ...] = ()

    @property
    def inconsistent(self) -> bool:
        """True when the logged propensities cannot be right (see the module docstring)."""
        return bool(self.inconsistent_arms)

    def propensity_warning(self) -> str | None:
        """One line on propensities inconsistent with the log, or None when they fit it."""
        if not self.inconsistent:
            return None
        arm = self.inconsistent_arms[0]
        others = self.inconsistent_arms[1:]
        also = _ads(others, f" (so do {len(others)} more ads: ", ")") if others else ""
        chance = f"{PROPENSITY_ALPHA:.0e}".replace("e-0", "e-")  # 1e-6, not 1e-06
        return (
            f"The logged propensities cannot be right: ad {arm} is on "
            f"{self.arm_share[arm]:.0%} of the {self.n_eval:,} evaluation rows, but its logged "
            f"propensities average {self.arm_pscore[arm]:.3g}: its rows, each counted "
            f"1/propensity times, add up to {self.arm_ratio[arm]:.3g} times the rows, where "
            "right propensities give at most 1 (a chance excess this large has probability "
            f"under {chance}){also}. IPS, SNIPS and DR weigh rows by these "
            "propensities and are off by an unknown factor: check that the log records the "
            "probability its policy gave the ad it showed, when it showed it."
        )

    @property
    def thin(self) -> bool:
        """True when the estimate rests on too little data to trust its interval."""
        return self.ess < MIN_ESS or self.clicks < MIN_CLICKS

    @property
    def unsupported(self) -> bool:
        """True when no evaluation row shows an ad the policy would have shown."""
        return self.mean_weight == 0.0

    @property
    def partial(self) -> bool:
        """True when the log shows clearly less than :data:`MIN_SUPPORTED_SHARE` of its choices."""
        low_share = self.mean_weight + 2 * self.mean_weight_se < MIN_SUPPORTED_SHARE
        return not self.unsupported and (low_share or self.unlogged_mass > MIN_UNLOGGED_MASS)

    def not_supported_message(self, policy: str) -> str:
        """One line saying why ``policy`` cannot be evaluated on this log."""
        return (
            f"policy {policy!r} is not supported by the log: on none of the {self.n_eval:,} "
            f"evaluation rows would it have shown the ad the log shows"
            f"{_ads(self.unlogged, ' (it chooses ads the rows never show: ', ')')}. An ad "
            "never shown cannot be evaluated (IPS would be 0 with the interval [0, 0], a "
            "confident wrong answer): use a log whose policy showed these ads."
        )

    def clip_causes(self) -> list[str]:
        """What this log shows that puts a weighted estimate outside its range, in words.

        Only causes actually detected, each pointing to the warning that says more:
        propensities that cannot be right (:meth:`propensity_warning`) and a few heavy
        weights (a short effective sample, few events: the too-little-data warning of
        :meth:`warnings`). Empty when neither was detected.

        Returns
        -------
        causes : list of str
            Phrases to follow "it comes from".
        """
        causes = []
        if self.inconsistent:
            causes.append("logged propensities that cannot be right (the propensity warning)")
        if self.thin:
            facts = [f"an effective sample size of {self.ess:,.0f} of {self.n_eval:,} rows"]
            if self.clicks < MIN_CLICKS:
                facts.append(f"{self.clicks:,} {self.events} where the policy agrees with the log")
            causes.append(
                f"a few heavy weights ({' and '.join(facts)}: the too-little-data warning)"
            )
        return causes

    def supported_share(self) -> float:
        """The share of the policy's choices the log supports: one number for every sentence.

        The mean importance weight estimates it (its expectation is the policy's mass on
        ads the logging policy could show), and the mass on ads no evaluation row shows
        bounds it from above, exactly: with few rows the weight can read 1.56 while a
        fifth of the choices fall on ads no row shows, and a warning quoting both said
        the log supported 100 % of the choices and missed 22 % of them.

        Returns
        -------
        float
            ``min(mean_weight, 1 - unlogged_mass)``, in ``[0, 1]``.
        """
        return float(np.clip(min(self.mean_weight, 1.0 - self.unlogged_mass), 0.0, 1.0))

    def _partial_warning(self) -> str:
        """The partial-support warning: the supported share, the rest, and what sets the rest."""
        share = self.supported_share()
        rest = 1.0 - share
        weight = (
            f"its mean importance weight is {self.mean_weight:.2f} ± {self.mean_weight_se:.2f} "
            "(1 when the logging policy could show every ad this policy would)"
        )
        unlogged = ""
        if self.unlogged_mass > MIN_UNLOGGED_MASS:
            unlogged = (
                f"it puts {_share(self.unlogged_mass)} of its choices on ads no evaluation row "
                f"shows{_ads(self.unlogged, ' (', ')')}"
            )
        # Name what sets the share: the ads no row shows when they bound it, else the weight.
        if unlogged and self.mean_weight >= 1.0 - self.unlogged_mass:
            why = unlogged
        else:
            why = weight + (f", and {unlogged}" if unlogged else "")
        return (
            f"The log supports only about {_share(share)} of this policy's choices, and not "
            f"the other {_share(rest)}: {why}. On that {_share(rest)} the log never (or "
            "almost never) showed the ad this policy would: an ad never shown cannot be "
            "evaluated, IPS and DR count it as earning 0, so the estimates are biased low "
            "and their intervals do not cover that part. Use a log from a policy that "
            "explores these ads."
        )

    def warnings(self) -> list[str]:
        """Plain-text warnings, most serious first; empty when the support is ample."""
        out = []
        inconsistent = self.propensity_warning()
        if inconsistent is not None:
            out.append(inconsistent)
        if self.partial:
            out.append(self._partial_warning())
        if self.thin:
            reasons = []
            if self.ess < MIN_ESS:
                reasons.append(f"an effective sample size of {self.ess:,.0f} (under {MIN_ESS})")
            if self.clicks < MIN_CLICKS:
                reasons.append(f"{self.clicks:,} {self.events} (under {MIN_CLICKS})")
            # Say only what set the warning off: a short effective sample means the log
            # rarely shows what the policy would; few events alone mean the events are rare
            # (the logging policy evaluated on its own log has every row behind it).
            if self.ess < MIN_ESS:
                why = (
                    "The log rarely shows what this policy would show, so a few impressions "
                    "decide the estimate."
                )
                cure = "Use a longer log, or a policy closer to the one that wrote it."
            else:
                why = (
                    f"Few {self.events} fall on rows where this policy could have shown the "
                    "logged ad, so those few decide the estimate."
                )
                cure = f"Use a longer log (more {self.events})."
            out.append(
                f"Too little data behind this estimate: {' and '.join(reasons)}. {why} "
                "Read the interval as a rough range, not a 95 % guarantee: it resamples those "
                f"same few {self.events} and can be far too narrow. {cure}"
            )
        return out


def _share(value: float) -> str:
    """A share as a percentage that never rounds a nonzero part to 0 % or a partial one to 100 %."""
    if 0.0 < value < 0.005:
        return "under 1%"
    if 0.995 <= value < 1.0:
        return "over 99%"
    return f"{value:.0%}"


def _ads(arms: tuple[int, ...], before: str, after: str, most: int = 8) -> str:
    if not arms:
        return ""
    shown = ", ".join(str(a) for a in arms[:most])
    more = f" and {len(arms) - most:,} more" if len(arms) > most else ""
    return f"{before}{shown}{more}{after}"


def propensity_excess(
    action: np.ndarray, pscore: np.ndarray, n_arms: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per arm, ``S_a`` and the Bernstein bound on the chance of so large an excess over 1.

    Parameters
    ----------
    action : ndarray of int of shape (n_rounds,)
    pscore : ndarray of shape (n_rounds,)
        Logged propensities of those arms, in (0, 1].
    n_arms : int

    Returns
    -------
    ratio : ndarray of shape (n_arms,)
        ``S_a = sum_i 1{a_i = a} / p_i / n_rounds`` (0 for an arm never shown).
    tail : ndarray of shape (n_arms,)
        ``exp(-n t^2 / (2 (v + M t / 3)))`` with ``t = S_a - 1``, ``v = m2_a / S_a - 1``
        and ``M`` the arm's largest ``1 / p_i``; 1 where ``S_a <= 1``.
    """
    n = action.shape[0]
    inv = 1.0 / pscore
    ratio = np.bincount(action, weights=inv, minlength=n_arms) / n
    m2 = np.bincount(action, weights=inv**2, minlength=n_arms) / n
    largest = np.zeros(n_arms)
    np.maximum.at(largest, action, inv)
    excess = ratio - 1.0
    tail = np.ones(n_arms)
    above = excess > 0  # so ratio > 1 and m2 / ratio >= ratio > 1: v > 0
    v = m2[above] / ratio[above] - 1.0
    t = excess[above]
    tail[above] = np.exp(-n * t**2 / (2.0 * (v + largest[above] * t / 3.0)))
    return ratio, tail


def support_of(
    action: np.ndarray, pscore: np.ndarray, reward: np.ndarray, action_dist: np.ndarray
) -> Support:
    """The :class:`Support` of an evaluation.

    Parameters
    ----------
    action : ndarray of int of shape (n_eval,)
        Logged arms of the evaluation rows.
    pscore : ndarray of shape (n_eval,)
        Logging propensities of those arms, in (0, 1].
    reward : ndarray of shape (n_eval,)
    action_dist : ndarray of shape (n_eval, n_arms)
        The evaluated policy's action probabilities.

    Returns
    -------
    Support
    """
    n = action.shape[0]
    w = action_dist[np.arange(n), action] / pscore
    sq = float((w**2).sum())
    ess = float(w.sum()) ** 2 / sq if sq > 0 else 0.0
    logged = np.bincount(action, minlength=action_dist.shape[1]) > 0
    mass = action_dist[:, ~logged].sum(axis=1)  # (n_eval,)
    chosen = np.flatnonzero(~logged & (action_dist.max(axis=0, initial=0.0) > 0))
    n_arms = action_dist.shape[1]
    ratio, tail = propensity_excess(action, pscore, n_arms)
    counts = np.bincount(action, minlength=n_arms)
    psum = np.bincount(action, weights=pscore, minlength=n_arms)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = psum / counts  # NaN for an arm no row shows
    flagged = np.flatnonzero(tail < PROPENSITY_ALPHA)
    flagged = flagged[np.argsort(tail[flagged], kind="stable")]
    return Support(
        ess=ess,
        clicks=int(((reward > 0) & (w > 0)).sum()),
        n_eval=n,
        mean_weight=float(w.mean()),
        mean_weight_se=float(w.std() / np.sqrt(n)) if n > 1 else 0.0,
        unlogged=tuple(int(a) for a in chosen),
        unlogged_mass=float(mass.mean()),
        events="clicks" if np.isin(reward, (0.0, 1.0)).all() else "rewarded rows",
        arm_ratio=tuple(float(r) for r in ratio),
        arm_share=tuple(float(c) / n for c in counts),
        arm_pscore=tuple(float(p) for p in mean_p),
        inconsistent_arms=tuple(int(a) for a in flagged),
    )
