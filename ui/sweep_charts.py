"""Chart builders of the Sweeps page: the sweep table in, Altair charts out (no Streamlit here).

The table is :func:`simulation.sweep.build_table`'s: one row per (grid point, world,
level, policy) with ``uplift_ctr``/``uplift_roas``, their ``_low``/``_high`` interval
and ``_expected`` (true) value.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from simulation.display import PALETTE
from simulation.interval_words import ONE_REPLICATION, TILE_NOTES, note_reason
from simulation.metrics import MIN_UPLIFT_EVENTS
from ui.fmt import LEVEL_NAMES, policy_name

__all__ = [
    "GAP_RULES",
    "UPLIFT_TITLES",
    "band_domain",
    "gap_caption",
    "interval_gaps",
    "interval_words",
    "level_colours",
    "select_rows",
    "uplift_heatmap",
    "uplift_lines",
]

UPLIFT_TITLES: dict[str, str] = {"ctr": "CTR uplift", "roas": "ROAS uplift"}
#: The rule behind each reason an uplift has no interval, keyed by the few words a heat-map
#: cell has room for: the words of the Experiment page's tiles
#: (``simulation.interval_words.TILE_NOTES``, the one table of them; a cell is about 75 px
#: wide at 1280 px with three columns, where "(too few sales)" touched its edges).
GAP_RULES: dict[str, str] = {
    TILE_NOTES["too few clicks"]: (
        f"a replication had fewer than {MIN_UPLIFT_EVENTS} clicks on the generic or the "
        "personalized side, too few for an interval; more impressions give one"
    ),
    TILE_NOTES["too few conversions"]: (
        f"a replication had fewer than {MIN_UPLIFT_EVENTS} conversions on the generic or the "
        "personalized side, too few for an interval; more impressions give one"
    ),
    TILE_NOTES["no spread"]: (
        "every replication gave the same ratio: no spread to measure an interval from"
    ),
    TILE_NOTES[ONE_REPLICATION]: (
        "one usable replication gives no interval; more replications give one"
    ),
}


def interval_gaps(rows: pd.DataFrame, metric: str) -> pd.Series:
    """Why each row's uplift has no interval, in :data:`GAP_RULES`' words ("" where it has one).

    The table's ``uplift_<metric>_note`` says why an interval was refused (too few events,
    no spread); an uplift with neither interval nor note rests on one usable replication.
    Both are worded by ``simulation.interval_words.TILE_NOTES``, as the tiles word them.
    A row with no uplift at all (no usable pair) has no reason here: the charts say that.

    Parameters
    ----------
    rows : DataFrame
        Rows of the sweep table (:func:`select_rows`).
    metric : {"ctr", "roas"}

    Returns
    -------
    reasons : Series of str, aligned with ``rows``
    """
    col = f"uplift_{metric}"
    # Tables written before the rule have no note column: their gaps are "one replication".
    notes = rows.get(f"{col}_note", pd.Series("", index=rows.index)).fillna("").astype(str)
    measured = rows[col].notna()
    interval = rows[f"{col}_low"].notna() & rows[f"{col}_high"].notna()

    def reason(note: str, has_value: bool, has_interval: bool) -> str:
        if not has_value or (has_interval and not note):
            return ""
        why = note_reason(note) if note else ONE_REPLICATION
        return TILE_NOTES.get(why, why)

    return pd.Series(
        [reason(*t) for t in zip(notes, measured, interval, strict=True)],
        index=rows.index,
        dtype=object,
    )


def _pct(value: float) -> str:
    # As Vega's "+.1%" writes it in the cells beside: a true minus sign, no space.
    return f"{value:+.1%}".replace("-", "\u2212")


def interval_words(rows: pd.DataFrame, metric: str) -> pd.Series:
    """Each row's 95 % interval in words, for the tooltips: its ends, or why there is none.

    Parameters
    ----------
    rows : DataFrame
        Rows of the sweep table (:func:`select_rows`).
    metric : {"ctr", "roas"}

    Returns
    -------
    words : Series of str, aligned with ``rows``
        "−14.9% to +23.5%", "none: few sales" (:func:`interval_gaps`' reasons) or "none:
        no usable pair" where there is no uplift at all.
    """
    col = f"uplift_{metric}"
    gaps = interval_gaps(rows, metric)
    words = []
    for low, high, gap in zip(rows[f"{col}_low"], rows[f"{col}_high"], gaps, strict=True):
        if gap:
            words.append(f"none: {gap}")
        elif pd.notna(low) and pd.notna(high):
            words.append(f"{_pct(low)} to {_pct(high)}")
        else:
            words.append("none: no usable pair")
    return pd.Series(words, index=rows.index, dtype=object)


def gap_caption(rows: pd.DataFrame, x: str, metric: str, titles: dict[str, str] | None = None):
    """The line chart's points that have an uplift but no interval, and why; None if none.

    Parameters
    ----------
    rows : DataFrame
        The rows drawn (:func:`select_rows`), generic rows included or not.
    x : str
        The parameter along the chart.
    metric : {"ctr", "roas"}
    titles : dict, optional
        Readable names of parameters.

    Returns
    -------
    caption : str or None
        For example "ROAS uplift, no interval (no band) at Number of segments 2 and 4: few
        sales (a replication had fewer than 10 conversions on the generic or ...)".
    """
    shown = rows[rows["level"] != "generic"]
    gaps = interval_gaps(shown, metric)
    parts = []
    for why in GAP_RULES:
        at = list(dict.fromkeys(shown.loc[gaps == why, x]))
        if at:
            values = ", ".join(str(v) for v in at[:-1]) + (" and " if len(at) > 1 else "")
            parts.append(
                f"at {(titles or {}).get(x, x)} {values}{at[-1]}: {why} ({GAP_RULES[why]})"
            )
    if not parts:
        return None
    return f"{UPLIFT_TITLES[metric]}, no interval (no band) " + "; ".join(parts) + "."


def select_rows(
    table: pd.DataFrame, *, fixed: dict[str, object], level: str | None, policy: str, world: int
) -> pd.DataFrame:
    """Rows of one policy (and level), one world, with other parameters held at ``fixed``."""
    keep = (table["policy"] == policy) & (table["world"] == world)
    if level is not None:
        keep &= table["level"] == level
    for key, value in fixed.items():
        keep &= table[key] == value
    return table[keep]


def _tooltip(metric: str, params: list[str], titles: dict[str, str]) -> list:
    col = f"uplift_{metric}"
    return [
        # The parameters' readable names ("Number of segments"), not the grid's keys.
        *[alt.Tooltip(f"{p.replace('.', '·')}:N", title=titles.get(p, p)) for p in params],
        alt.Tooltip(f"{col}:Q", title="observed", format="+.1%"),
        # One field in words: the ends as numbers read "null" where there is no interval.
        alt.Tooltip("interval:N", title="95 % interval"),
        alt.Tooltip(f"{col}_expected:Q", title="expected (true)", format="+.1%"),
        alt.Tooltip(f"{col}_pairs:Q", title="paired replications"),
    ]


def _fields(rows: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Altair reads dots in field names as nesting: give the parameters plain names."""
    return rows.rename(columns={p: p.replace(".", "·") for p in params})


def _end(values: pd.Series, side: int) -> float:
    # The colour scale's end on one side of zero (it diverges at 0): the largest value
    # (side 1) or the smallest (side -1), 0 when none lies on that side.
    finite = values.dropna()
    if not len(finite):
        return 0.0
    return float(max(finite.max(), 0.0)) if side > 0 else float(min(finite.min(), 0.0))


def uplift_heatmap(
    rows: pd.DataFrame, x: str, y: str, metric: str, titles: dict[str, str] | None = None
) -> alt.LayerChart:
    """Observed like-for-like uplift over two parameters, the interval in the tooltip.

    Parameters
    ----------
    rows : DataFrame
        One row per (x, y) value pair (see :func:`select_rows`).
    x, y : str
        Grid parameters.
    metric : {"ctr", "roas"}
    titles : dict, optional
        Readable names of parameters ("Number of segments" for ``n_segments``).
    """
    titles = titles or {}
    fx, fy = x.replace(".", "·"), y.replace(".", "·")
    col = f"uplift_{metric}"
    data = _fields(rows, [x, y]).assign(
        no_interval=interval_gaps(rows, metric), interval=interval_words(rows, metric)
    )
    base = alt.Chart(data).encode(
        x=alt.X(f"{fx}:O", title=titles.get(x, x), axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{fy}:O", title=titles.get(y, y), sort="descending"),
        tooltip=_tooltip(metric, [x, y], titles),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            f"{col}:Q",
            title=UPLIFT_TITLES[metric],
            scale=alt.Scale(scheme="redblue", domainMid=0),
            legend=alt.Legend(format="+.0%"),
        )
    )
    # A cell without a usable pair (no clicks or no sales in a level: the ratio is
    # undefined) says so instead of Vega's "null"; one with an uplift but no interval says
    # why on a second line, where the reader looks, not only in the tooltip.
    value = f"format(datum['{col}'], '+.1%')"
    text = (
        base.transform_calculate(
            cell=f"isValid(datum['{col}']) ? (datum.no_interval ? {value} + '\\n(' + "
            f"datum.no_interval + ')' : {value}) : 'no usable pair'"
        )
        .mark_text(fontSize=12, lineBreak="\n")
        .encode(
            text="cell:N",
            # White on the darkest cells (the scale's far ends), black elsewhere.
            color=alt.condition(
                f"datum['{col}'] > {0.6 * _end(data[col], 1)} "
                f"|| datum['{col}'] < {0.6 * _end(data[col], -1)}",
                alt.value("white"),
                alt.value("black"),
            ),
        )
    )
    return alt.layer(cells, text).properties(
        # The cells' numbers are observed (the true uplift is in the tooltip): said where
        # they are read, not only in the page's caption.
        title=f"Observed {UPLIFT_TITLES[metric]}",
        height=alt.Step(40),
        width="container",
    )


def band_domain(rows: pd.DataFrame, metric: str) -> list[float] | None:
    """The y range of :func:`uplift_lines`: every observed and true value, with room.

    With two or three replications a 95 % interval can span thousands of percent (a
    Student-t with one degree of freedom), which flattens every line to the axis; the range
    is the values' own, widened by its width on each side (at least 5 points), never wider
    than the band, and always holding zero. None when there is nothing to draw.
    """
    col = f"uplift_{metric}"
    values = pd.concat([rows[col], rows.get(f"{col}_expected", rows[col])]).dropna()
    if values.empty:
        return None
    lo, hi = float(values.min()), float(values.max())
    room = max(hi - lo, 0.05)
    low = rows[f"{col}_low"].dropna()
    high = rows[f"{col}_high"].dropna()
    bottom = lo - room if low.empty else max(float(low.min()), lo - room)
    top = hi + room if high.empty else min(float(high.max()), hi + room)
    return [min(bottom, 0.0), max(top, 0.0)]  # the zero line stays in view


def level_colours(levels) -> alt.Scale:
    """The palette's colour of each level present, by the level's place in ``LEVEL_NAMES``.

    Parameters
    ----------
    levels : iterable of str
        The levels drawn (engine names; repeats are fine).

    Returns
    -------
    scale : alt.Scale
        Its domain the levels' display names in ``LEVEL_NAMES`` order (unknown names
        after them), its range their colours: "Per segment" is the same colour on every
        line chart, whichever other levels are drawn.
    """
    order = list(LEVEL_NAMES)
    present = list(dict.fromkeys(levels))
    known = [v for v in order if v in present]
    extra = [v for v in present if v not in order]
    slots = [order.index(v) for v in known] + [len(order) + i for i in range(len(extra))]
    return alt.Scale(
        domain=[LEVEL_NAMES.get(v, v) for v in known + extra],
        range=[PALETTE[k % len(PALETTE)] for k in slots],
    )


def uplift_lines(
    rows: pd.DataFrame, x: str, metric: str, titles: dict[str, str] | None = None
) -> alt.LayerChart:
    """Observed uplift along one parameter, one line per level, with its interval as a band.

    Each level keeps its colour of the app's palette (:func:`level_colours`), and the
    legend's swatches are drawn at full strength (they would take the faint band's).

    Parameters
    ----------
    rows : DataFrame
        One row per (x value, level) (see :func:`select_rows`: the page passes its chosen
        level; ``level=None`` draws every level).
    x : str
    metric : {"ctr", "roas"}
    titles : dict, optional
        Readable names of parameters.
    """
    titles = titles or {}
    fx = x.replace(".", "·")
    shown = rows[rows["level"] != "generic"]
    data = _fields(shown, [x]).assign(
        no_interval=interval_gaps(shown, metric), interval=interval_words(shown, metric)
    )
    data = data.assign(Level=data["level"].map(LEVEL_NAMES).fillna(data["level"]))
    col = f"uplift_{metric}"
    numeric = pd.api.types.is_numeric_dtype(data[fx])
    axis = alt.Axis()
    if numeric and len(data):
        grid = sorted(data[fx].dropna().unique())
        # Ticks at the grid's own values (2, 4, 6 segments; never 2.5).
        whole = all(float(v).is_integer() for v in grid)
        axis = alt.Axis(values=[float(v) for v in grid], format="d" if whole else "")
    base = alt.Chart(data).encode(
        x=alt.X(f"{fx}:{'Q' if numeric else 'O'}", title=titles.get(x, x), axis=axis),
        color=alt.Color(
            "Level:N", scale=level_colours(data["level"]),
            legend=alt.Legend(orient="bottom", title=None, symbolType="stroke",
                              symbolOpacity=1.0, symbolStrokeWidth=3),
        ),
    )  # fmt: skip
    domain = band_domain(data, metric)
    scale = alt.Scale(domain=domain, clamp=True) if domain else alt.Scale()
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y(
            f"{col}_low:Q", title=UPLIFT_TITLES[metric], axis=alt.Axis(format="+.0%"), scale=scale
        ),
        y2=f"{col}_high:Q",
    )
    line = base.mark_line(point=True, strokeWidth=2).encode(
        y=f"{col}:Q", tooltip=["Level:N", *_tooltip(metric, [x], titles)]
    )
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(y="zero:Q")
    # The "best" rows compare each level's best policy with the generic level's best: say so,
    # not the table's code ("CTR uplift (best)").
    spec = str(data["policy"].iloc[0]) if len(data) else ""
    who = "each level's best" if spec == "best" else policy_name(spec)
    return alt.layer(band, line, zero).properties(
        title=f"Observed {UPLIFT_TITLES[metric]} ({who})",
        height=220,
        width="container",
        # Fit the width only: the title, axis and legend add to the height instead of
        # squeezing the plot (it was 90 px of 260).
        autosize=alt.AutoSizeParams(type="fit-x"),
    )
