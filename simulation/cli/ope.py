"""``python -m simulation ope``: evaluate a registered policy on a log, off-policy.

The method (train, then evaluate, on one log) is described in :mod:`simulation.ope.evaluate`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.cli.common import PathOption, UsageError, plain_text, positive_int
from simulation.ope.estimators import DM_INTERVAL_NOTE, ESTIMATORS
from simulation.ope.evaluate import FORMATS, OPEReport, evaluate_policy, load_any_log
from simulation.ope.limits import MAX_BOOTSTRAP, shorten
from simulation.unknown_keys import did_you_mean

__all__ = ["DEFAULT_ESTIMATORS", "OPEReport", "evaluate_policy", "load_any_log", "register"]

DEFAULT_ESTIMATORS = "ips,snips,dm,dr"


def _policy_registry() -> dict[str, type]:
    """The policy registry, imported only when the command runs."""
    try:
        from simulation.policies import POLICIES
    except ImportError as exc:
        raise UsageError(plain_text(f"the policy registry is not available ({exc}).")) from None
    return POLICIES


def _policy_of(text: str) -> tuple[object, str | None]:
    """``--policy``: (the policy, or its parsed spec, and its name), checked before the log is read.

    A bare name is looked up in the registry; a spec with settings or ``segment:``
    (``epsilon_greedy(epsilon=0.05)``, ``segment:lin_ucb(alpha=0.3)``) is parsed by
    :class:`~simulation.policies.PolicySpec`, as ``run --policies`` parses it: a bad
    setting is its one-line error naming the settings' ranges (plain text: the names
    without the library's markdown backticks, as the app shows them), and the report names
    the policy by the spec's canonical text (``None`` here: the spec names itself).
    """
    policies = _policy_registry()
    # Offered: what a log can evaluate (not the wrapper, not what reads the ground truth).
    usable = sorted(
        name
        for name, cls in policies.items()
        if not getattr(cls, "wraps_policies", False)
        and not getattr(cls, "uses_ground_truth", False)
    )
    # The name in front of any settings, only to say which policy is refused; the spec
    # itself is parsed by PolicySpec below.
    head = text.partition("(")[0].strip()
    name = head.removeprefix("segment:").strip()
    if name in policies and getattr(policies[name], "uses_ground_truth", False):
        raise UsageError(
            f"policy {name!r} reads the true expected rewards; it cannot be evaluated from a log."
        )
    if name in policies and name not in usable:
        # A wrapper (per_segment) reads segment codes the command does not give it: on
        # the Open Bandit Dataset it read one-hot feature columns as segments.
        raise UsageError(
            f"policy {name!r} wraps other policies and cannot be evaluated from a "
            f"log on the command line; choose from {usable} (or 'segment:NAME' on a log "
            "with a segment column)."
        )
    if name not in usable:
        raise UsageError(
            f"unknown policy {shorten(name)!r}{did_you_mean(name, usable)}; choose from {usable}."
        )
    if text.strip() == name:
        return policies[name](), name
    from simulation.policies.spec import PolicySpec

    try:
        return PolicySpec.parse(text), None
    except (ValueError, TypeError) as exc:
        # The spec's message is the library's, in markdown; the terminal gets plain text.
        raise UsageError(plain_text(str(exc))) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1); got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1); got {text!r}")
    return value


def _bootstrap_count(text: str) -> int:
    """``--n-bootstrap``: an integer in ``[2, MAX_BOOTSTRAP]``, checked before the log is read.

    One resample has no spread, hence no interval (``check_bootstrap``'s lower bound).
    """
    try:
        value = positive_int(text)
    except argparse.ArgumentTypeError:
        value = None
    if value is None or not 2 <= value <= MAX_BOOTSTRAP:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 2 to {MAX_BOOTSTRAP:,}; got {shorten(text)!r}"
        )
    return value


def _switch_threshold(text: str) -> float:
    """``--switch-threshold``: a number >= 0 (``inf`` makes switch_dr equal dr)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 0 (or inf); got {shorten(text)!r}"
        ) from None
    if not value >= 0:  # also NaN
        raise argparse.ArgumentTypeError(f"expected a number >= 0 (or inf); got {shorten(text)!r}")
    return value


def _reward_range(text: str) -> tuple[float, float]:
    """``--reward-range LOW,HIGH``: two finite numbers, LOW < HIGH, checked before reading."""
    from simulation.ope.evaluate import check_reward_range

    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return check_reward_range(float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH, two finite numbers with LOW < HIGH; got {shorten(text)!r}"
        ) from None


def _check_writable(out_dir: Path) -> None:
    """Fail now, not after the evaluation, when ``--out`` cannot be written.

    A probe file is created and removed in ``out_dir`` (made, as the write would make
    it, and removed again), so a folder without write permission, a read-only file
    system or a path under ``/sys`` is a one-line error before any work, and nothing is
    left behind.
    """
    from simulation.store.fs import make_folders, remove_folders

    made: list[Path] = []
    try:
        made = make_folders(out_dir)
        probe = out_dir / f".ope.csv.{os.getpid()}.probe"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"cannot write to {shorten(str(out_dir))!r}: {shorten(exc.strerror or exc)}"
        ) from None
    finally:
        remove_folders(made)


def _write_csv_atomic(frame: pd.DataFrame, out_dir: Path) -> Path:
    from simulation.store.fs import make_folders, remove_folders

    made = make_folders(out_dir)
    target = out_dir / "ope.csv"
    tmp = out_dir / f".ope.csv.{os.getpid()}.tmp"
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        remove_folders(made)  # a failure or a stop leaves no folder made for --out
        raise
    return target


def run(args: argparse.Namespace) -> int:
    """Handler of ``ope``: read, evaluate, print, optionally write ``ope.csv``."""
    names = tuple(name.strip() for name in args.estimators.split(",") if name.strip())
    if not names:
        raise UsageError("--estimators must name at least one estimator.")
    for name in names:
        if name not in ESTIMATORS:
            raise UsageError(
                f"unknown estimator {shorten(name)!r}{did_you_mean(name, ESTIMATORS)}; "
                f"choose from {sorted(ESTIMATORS)}."
            )
    policy, label = _policy_of(args.policy)
    out_dir = Path(args.out) if args.out is not None else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out must be a directory; {shorten(str(out_dir))!r} is a file.")
    if out_dir is not None:
        _check_writable(out_dir)
    try:
        log = load_any_log(
            args.log, args.format, level=args.level, logging_policy=args.logging_policy
        )
    except ValueError as exc:
        # The readers' messages are the library's, in markdown ("`action` must number the
        # ads from 0"); the terminal gets plain text, as for --policy.
        raise UsageError(plain_text(str(exc))) from None
    try:
        report = evaluate_policy(
            log,
            policy,
            policy_name=label,
            estimators=names,
            train_fraction=args.train_fraction,
            rng=np.random.default_rng(args.seed),
            n_bootstrap=args.n_bootstrap,
            switch_threshold=args.switch_threshold,
            reward_range=args.reward_range,
        )
    except ValueError as exc:
        raise UsageError(plain_text(str(exc))) from None
    if report.support.unsupported:
        # IPS 0 with the interval [0, 0] would be a confident wrong answer.
        raise UsageError(plain_text(report.support.not_supported_message(report.policy)))
    frame = report.to_frame()
    print(
        f"policy {report.policy!r} on {args.log}: trained on {report.n_train} rows, "
        f"evaluated on {report.n_eval} rows; logging policy's mean reward "
        f"{report.logging_value:.6g}; intervals: {args.n_bootstrap} bootstrap resamples of "
        f"the evaluation rows, upper bound plus one unseen event, {report.bounds_note()}"
    )
    for label in report.interval_labels():  # what each interval covers: not all the same
        print(f"interval of {label}")
    meta = log.metadata
    if "reward_unit" in meta:
        unit = f"values are in the log's reward unit: {meta['reward_unit']}"
        if "reward_span" in meta and meta["reward_unit"] != "net value (USD)":  # an older log
            unit += (
                f" (net value in USD per impression = {meta['reward_offset']:.6g} + "
                f"{meta['reward_span']:.6g} x value)"
            )
        print(unit)
    if "truth_note" in meta:
        print(f"no ground truth: {meta['truth_note']}")
    if report.truth is not None:
        print(f"ground truth value of {report.policy!r} on the evaluation rows: {report.truth:.6g}")
    sup = report.support
    print(
        f"support: effective sample size {sup.ess:,.0f} of {sup.n_eval:,} evaluation rows; "
        f"{sup.clicks:,} {sup.events} (rewards above 0) where the policy agrees with the log; "
        f"mean importance weight {sup.mean_weight:.3g} (1 when the log can show every ad "
        "the policy would, less when it cannot, more only by chance or with wrong propensities)"
    )
    for warning in sup.warnings():
        print(f"warning: {warning}")
    bounds_warning = report.bounds_warning()
    if bounds_warning is not None:
        print(f"warning: {bounds_warning}")
    print(_table_text(frame, report.estimate_clipped))
    for note in report.clip_notes():
        print(f"note: {note}")
    if "dm" in set(frame["estimator"]):
        print(DM_INTERVAL_NOTE)
    if "switch_dr" in set(frame["estimator"]):
        print(
            f"switch_dr drops DR's correction on rows whose importance weight is above "
            f"{report.switch_threshold:g}"
            + (" (the number of ads)" if args.switch_threshold is None else "")
        )
    if out_dir is not None:
        try:
            path = _write_csv_atomic(frame, out_dir)
        except OSError as exc:
            raise UsageError(
                f"cannot write to {shorten(str(out_dir))!r}: {shorten(exc.strerror or exc)}"
            ) from None
        print(f"wrote {path}")
    return 0


def _table_text(frame: pd.DataFrame, estimate_clipped: np.ndarray) -> str:
    """The estimates table as printed: a clipped estimate's interval reads ``—``.

    Clipped with its estimate, the interval is often one point (``1 1``), which reads as
    certainty for an estimate its note calls out of range; ``ope.csv`` keeps the numbers
    (and the ``clipped`` column). An interval whose bound alone was cut is shown cut: it
    still contains its estimate, and ``clipped`` says so.
    """
    shown = frame.copy()
    for column in ("ci_low", "ci_high"):  # text: to_string's float_format skips text
        shown[column] = [
            "—" if cut else f"{value:.6g}"
            for value, cut in zip(frame[column], estimate_clipped, strict=True)
        ]
    return shown.to_string(index=False, float_format=lambda v: f"{v:.6g}")


def _seed(text: str) -> int:
    """Parse ``--seed``: an int in [0, 2**63), checked before the log is read.

    argparse names the option in front of this message; numpy's own ("expected
    non-negative integer"), raised later, named nothing.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an int in [0, 2**63); got {shorten(text)!r}"
        ) from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**63); got {value}")
    return value


def register(subparsers) -> None:
    """Add the ``ope`` sub-command."""
    parser = subparsers.add_parser(
        "ope",
        help="estimate a policy's value from logged bandit feedback",
        description=(
            "Estimate a registered policy's value from a log (off-policy): the policy "
            "is trained on a random --train-fraction of the rows (replaying the logged "
            "actions and rewards; the split's seed is fixed) and evaluated on the rest."
        ),
    )
    parser.add_argument(
        "--log",
        action=PathOption,
        kind="a file or folder",
        convert=str,
        required=True,
        help="log file (adlab Parquet, CSV, OBD)",
    )
    parser.add_argument(
        "--policy",
        required=True,
        help="policy spec, as run --policies takes one: a registered name, NAME(key=value, "
        "...) for its settings, e.g. 'epsilon_greedy(epsilon=0.05)', or segment:NAME for "
        "one copy per segment (logs with a segment column)",
    )
    parser.add_argument(
        "--estimators",
        default=DEFAULT_ESTIMATORS,
        help=f"comma-separated estimator names (default {DEFAULT_ESTIMATORS}; "
        f"available: {','.join(ESTIMATORS)})",
    )
    parser.add_argument(
        "--out", action=PathOption, kind="a folder", convert=str, help="directory for ope.csv"
    )
    parser.add_argument(
        "--train-fraction",
        type=_fraction,
        default=0.5,
        help="share of the log's rows, drawn at random with a fixed seed, used to train the "
        "policy (default 0.5)",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="seed (default 0)")
    parser.add_argument("--format", choices=FORMATS, default="auto", help="log format")
    parser.add_argument("--level", help="adlab logs: keep the rows of this targeting level")
    parser.add_argument("--logging-policy", help="adlab logs: keep the rows logged by this policy")
    parser.add_argument(
        "--n-bootstrap",
        type=_bootstrap_count,
        default=1000,
        help=f"bootstrap resamples (default 1000, 2 to {MAX_BOOTSTRAP:,})",
    )
    parser.add_argument(
        "--switch-threshold",
        type=_switch_threshold,
        default=None,
        metavar="TAU",
        help="switch_dr: drop DR's correction on rows whose importance weight pi/p is above "
        "TAU (default: the number of ads, the largest weight of a uniform logging policy; "
        "inf is dr, 0 is dm)",
    )
    parser.add_argument(
        "--reward-range",
        type=_reward_range,
        default=None,
        metavar="LOW,HIGH",
        help="the range one reward can take, e.g. 0,500 for order values up to 500: "
        "estimates and intervals are clipped to it and the interval's unseen event has its "
        "top reward; on a log without an adlab world's range, thompson trains on rewards "
        "mapped from it (default: an adlab ROAS log's own range, [0, 1] for 0/1 rewards, "
        "else the observed rewards, with a warning)",
    )
    parser.set_defaults(handler=run)
