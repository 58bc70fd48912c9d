"""The like-for-like uplift as the Experiment and Results pages show it: sentences and a table.

One implementation with the HTML report: the builders live in :mod:`simulation.uplift_text`;
here they get the app's names for levels and policies.
"""

from __future__ import annotations

import pandas as pd

from simulation import uplift_text
from simulation.uplift_text import UPLIFT_METRIC_NAMES, world_caveat
from ui.fmt import LEVEL_NAMES, policy_name

__all__ = [
    "UPLIFT_METRIC_NAMES",
    "uplift_display",
    "uplift_headline",
    "uplift_sentence",
    "world_caveat",
]


def uplift_sentence(row: pd.Series, level: str, metric: str) -> str:
    """One observed uplift in words: its value, 95 % interval and what the interval covers."""
    return uplift_text.uplift_sentence(row, level, metric, level_names=LEVEL_NAMES)


def uplift_headline(
    uplift: pd.DataFrame, objective: str, *, interval_noted: bool = False
) -> list[str]:
    """Each level's best policy against the generic level's best, in words (observed only).

    ``interval_noted``: the page says once, under the sentences, that one replication draws
    no interval (:func:`simulation.interval_words.headline_note`); the sentences do not.
    """
    return uplift_text.uplift_headline(
        uplift, objective, level_names=LEVEL_NAMES, policy_name=policy_name,
        interval_noted=interval_noted,
    )  # fmt: skip


def uplift_display(uplift: pd.DataFrame, *, interval_noted: bool = False) -> pd.DataFrame:
    """The uplift table as text: observed with its interval, then the true (expected) uplift.

    ``interval_noted``: one replication, said once under the table's header "Observed"
    (:func:`simulation.interval_words.uplift_caption`); the cells give values alone.
    """
    return uplift_text.uplift_table(
        uplift, level_names=LEVEL_NAMES, policy_name=policy_name, interval_noted=interval_noted
    )
