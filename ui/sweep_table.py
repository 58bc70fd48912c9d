"""The Sweeps page's table as a marketer reads it (no Streamlit here).

The sweep table (:func:`simulation.sweep.build_table`) names its columns and levels by
code (``uplift_roas_expected``, ``user``); the page shows them in words, each number
marked observed or true, as docs/sweeps.md's column table describes them. The download
keeps the raw table: its columns are what ``python -m simulation sweep`` writes.
"""

from __future__ import annotations

import pandas as pd

from ui.fmt import LEVEL_NAMES, policy_name

__all__ = ["HIDDEN", "UPLIFT_HEADERS", "readable_table"]

#: Raw columns the page's table leaves out (the download keeps them): the grid point's hash,
#: its position and the world's derived seed identify a row to the command line, not to a reader.
HIDDEN: tuple[str, ...] = ("point_index", "point_id", "world_seed")

#: Headers of the run columns: observed (what the replications drew) or true (expected from the
#: world's response model, for the same impressions).
_HEADERS: dict[str, str] = {
    "world": "World",
    "level": "Level",
    "policy": "Policy",
    "best_policy": "Best policy",
    "baseline": "Compared with (generic)",
    "ctr": "CTR (observed)",
    "cvr": "Conversion rate (observed)",
    "roas": "ROAS (observed)",
    "regret": "Regret (true)",
    "expected_ctr": "CTR (true)",
    "expected_roas": "ROAS (true)",
}


def _uplift_headers(metric: str) -> dict[str, str]:
    name = metric.upper()
    return {
        f"uplift_{metric}": f"{name} uplift (observed)",
        f"uplift_{metric}_low": f"{name} uplift, 95 % interval low (observed)",
        f"uplift_{metric}_high": f"{name} uplift, 95 % interval high (observed)",
        f"uplift_{metric}_expected": f"{name} uplift (true)",
        f"uplift_{metric}_pairs": f"{name} uplift, replications paired",
        f"uplift_{metric}_note": f"{name} uplift, why no interval",
    }


#: Headers of the uplift columns (fractions: 0.12 is +12 %), by raw column.
UPLIFT_HEADERS: dict[str, str] = {**_uplift_headers("ctr"), **_uplift_headers("roas")}


def _policy(spec: object) -> str:
    """A policy cell in words: "best" is each level's best; "best (x)" names x readably."""
    text = "" if pd.isna(spec) else str(spec)
    if text == "best":
        return "Each level's best"
    if text.startswith("best (") and text.endswith(")"):
        return f"best ({policy_name(text[len('best (') : -1])})"
    return policy_name(text) if text else ""


def readable_table(table: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """The sweep table with readable headers and names, for display only.

    Parameters
    ----------
    table : DataFrame
        The sweep table (one row per grid point, world, level and policy); columns it lacks
        (a table saved by an older version) are simply not shown.
    titles : dict of str to str
        Each grid parameter's readable name, by its column ("Number of segments").

    Returns
    -------
    view : DataFrame
        The same rows, without :data:`HIDDEN`; levels by ``ui.fmt.LEVEL_NAMES``, policies by
        ``policy_name``; headers in words, each number marked "(observed)" or "(true)". The
        uplift columns stay fractions (the page formats them as percentages).
    """
    view = table.drop(columns=[c for c in HIDDEN if c in table.columns])
    if "level" in view:
        view["level"] = view["level"].map(lambda lv: LEVEL_NAMES.get(lv, lv))
    for col in ("policy", "best_policy", "baseline"):
        if col in view:
            view[col] = view[col].map(_policy)
    headers = {**titles, **_HEADERS, **UPLIFT_HEADERS}
    return view.rename(columns={c: headers[c] for c in view.columns if c in headers})
