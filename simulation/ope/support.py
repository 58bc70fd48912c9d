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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_CLICKS", "MIN_ESS", "MIN_SUPPORTED_SHARE", "Support", "support_of"]

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
    """

    ess: float
    clicks: int
    n_eval: int
    mean_weight: float
    mean_weight_se: float
    unlogged: tuple[int, ...] = ()
    unlogged_mass: float = 0.0
    events: str = "clicks"

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

    def warnings(self) -> list[str]:
        """Plain-text warnings, most serious first; empty when the support is ample."""
        out = []
        if self.partial:
            share = min(self.mean_weight, 1.0)
            unlogged = ""
            if self.unlogged_mass > MIN_UNLOGGED_MASS:
                unlogged = (
                    f" It puts {self.unlogged_mass:.0%} of its choices on ads no evaluation row "
                    f"shows{_ads(self.unlogged, ' (', ')')}."
                )
            out.append(
                f"The log supports only about {share:.0%} of this policy's choices (mean "
                f"importance weight {self.mean_weight:.2f} ± {self.mean_weight_se:.2f}; 1 when "
                "the logging policy could show every ad this policy would)." + unlogged + " On "
                "the rest it never (or almost never) showed the ad this policy would: an ad "
                "never shown cannot be evaluated, IPS and DR count it as earning 0, so the "
                "estimates are biased low and their intervals do not cover that part. Use a "
                "log from a policy that explores these ads."
            )
        if self.thin:
            reasons = []
            if self.ess < MIN_ESS:
                reasons.append(f"an effective sample size of {self.ess:,.0f} (under {MIN_ESS})")
            if self.clicks < MIN_CLICKS:
                reasons.append(f"{self.clicks:,} {self.events} (under {MIN_CLICKS})")
            out.append(
                f"Too little data behind this estimate: {' and '.join(reasons)}. The log rarely "
                "shows what this policy would show, so a few impressions decide the estimate. "
                "Read the interval as a rough range, not a 95 % guarantee: it resamples those "
                f"same few {self.events} and can be far too narrow. Use a longer log, or a policy "
                "closer to the one that wrote it."
            )
        return out


def _ads(arms: tuple[int, ...], before: str, after: str, most: int = 8) -> str:
    if not arms:
        return ""
    shown = ", ".join(str(a) for a in arms[:most])
    more = f" and {len(arms) - most:,} more" if len(arms) > most else ""
    return f"{before}{shown}{more}{after}"


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
    return Support(
        ess=ess,
        clicks=int(((reward > 0) & (w > 0)).sum()),
        n_eval=n,
        mean_weight=float(w.mean()),
        mean_weight_se=float(w.std() / np.sqrt(n)) if n > 1 else 0.0,
        unlogged=tuple(int(a) for a in chosen),
        unlogged_mass=float(mass.mean()),
        events="clicks" if np.isin(reward, (0.0, 1.0)).all() else "rewarded rows",
    )
