"""Chart builders: tidy frames in, Altair charts out (no Streamlit calls here).

The frames are the engine's and the store's own (``timeseries_frame``, ``allocation_frame``,
segment profiles), so the Experiment and Results pages draw saved runs exactly like fresh ones.
"""

from __future__ import annotations

import copy
import functools

import altair as alt
import numpy as np
import pandas as pd

from creative.vocabulary import INTERESTS, TIMES_OF_DAY
from simulation.display import PALETTE, robust_domain
from simulation.metrics import METRIC_BOUNDS, NONNEGATIVE_TOTALS, bounded_interval
from ui.fmt import LEVEL_NAMES, policy_name

__all__ = [
    "COMPARE_PLOT_HEIGHT",
    "LIVE_COVERAGE",
    "MAX_LINE_POINTS",
    "METRIC_AXES",
    "PALETTE",
    "RATE_CHART_START",
    "active_hours_chart",
    "allocation_chart",
    "allocation_share",
    "band_frame",
    "colour_scale",
    "compare_chart",
    "interest_heatmap",
    "live_bands_data",
    "live_bands_spec",
    "metric_bands_chart",
    "metric_bands_data",
    "metric_bands_domain",
    "metric_bands_spec",
    "ope_chart",
    "robust_domain",
    "segment_allocation_chart",
    "segment_sizes_chart",
]

#: metric -> (axis title, d3 format of the axis).
METRIC_AXES: dict[str, tuple[str, str]] = {
    "ctr": ("Cumulative CTR", ".2%"),
    "roas": ("Cumulative ROAS (revenue per $ spent)", ".2f"),
    "regret": ("Cumulative regret (clicks or value lost)", ",.0f"),
    "cvr": ("Cumulative conversion rate", ".2%"),
}


def colour_scale(domain: list | None = None) -> alt.Scale:
    """The categorical colour scale of :data:`PALETTE` (``domain`` fixes the order)."""
    if domain is None:
        return alt.Scale(range=list(PALETTE))
    return alt.Scale(domain=list(domain), range=list(PALETTE))


#: Width of one level panel of the band charts: three, their axis and the legend fit the page
#: of a 1280 px wide window (at 260 the third ran off its right edge).
_WIDTH = 220
#: Level panels per row of the band charts (three fit the app's page width).
_PANELS_PER_ROW = 3
#: Row height of the segment allocation chart: Streamlit's axis labels are 14 px,
#: so a row fits its label with room to spare.
_ALLOCATION_ROW_PX = 22
#: Legend of line + band charts: solid strokes, not the faint band colour.
_LINE_LEGEND = alt.Legend(
    orient="bottom",
    columns=3,
    labelLimit=420,
    symbolType="stroke",
    symbolOpacity=1.0,
    symbolStrokeWidth=3,
)
#: Plot height (px) of :func:`compare_chart`, legend and axis titles not included.
COMPARE_PLOT_HEIGHT = 240
#: Rate charts start at this share of the impressions.
RATE_CHART_START = 0.05
#: Points per line in the band charts. The curves are cumulative and smooth; every
#: point drawn is work for the browser (each chart has 3 panels x policies x 2 marks).
MAX_LINE_POINTS = 30


def band_frame(
    timeseries: pd.DataFrame, metric: str, *, alpha: float = 0.05, by=("level", "policy")
) -> pd.DataFrame:
    """Mean and (1 - alpha) Student-t band across replications of a cumulative metric.

    With one world the band is over seeds. With several (a ``world`` column with two
    or more values) it is over world means: each world's seeds are averaged first,
    since seeds of one world share its hidden parameters and creatives and are not
    independent (the same rule as :func:`simulation.metrics.mean_interval`).

    Parameters
    ----------
    timeseries : DataFrame
        One row per (seed, level, policy, step) (and world) with the metric's column.
    metric : str
    alpha : float, default=0.05
    by : tuple of str
        Grouping columns besides ``step``.

    Returns
    -------
    bands : DataFrame
        Columns ``*by``, ``step``, ``mean``, ``low``, ``high``; with one seed (or one
        world of several with a value) the band is the line itself.
    """
    keys = [*by, "step"]
    several = "world" in timeseries.columns and timeseries["world"].nunique() >= 2
    units = [*keys, "world"] if several else keys
    values = timeseries[[*units, metric]].replace([np.inf, -np.inf], np.nan)
    if several:  # NaN for a world with no finite value, which count leaves out
        values = values.groupby(units, sort=False)[metric].mean().reset_index()
    grouped = values.groupby(keys, sort=False)[metric]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    # Rates and ratios get bands on the log or logit scale: never below 0 (or above 1).
    out["low"], out["high"] = bounded_interval(
        out["mean"], out["std"], out["count"], alpha, METRIC_BOUNDS.get(metric)
    )
    if metric in NONNEGATIVE_TOTALS:  # regret: a band below zero would show a gain
        out["low"] = out["low"].clip(lower=0.0)
    return out.drop(columns=["std", "count"])


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "policy" in out:
        out["Policy"] = out["policy"].map(policy_name)
    if "level" in out:
        out["Level"] = out["level"].map(lambda v: LEVEL_NAMES.get(v, v))
    return out


def _thinned(data: pd.DataFrame, n_points: int, grid: np.ndarray | None = None) -> pd.DataFrame:
    """Rows at no more than ``n_points`` evenly spread steps, always the first and last.

    With ``grid`` (every step the run will have) the steps are chosen from it, so a growing
    frame keeps the same points from one refresh to the next; steps off the grid (where a
    spend cap stopped serving) are kept.
    """
    steps = np.sort(data["step"].unique()) if grid is None else np.asarray(grid)
    if steps.size <= n_points:
        return data
    keep = steps[np.unique(np.linspace(0, steps.size - 1, n_points).round().astype(int))]
    on_grid = data["step"].isin(keep)
    return data[on_grid if grid is None else on_grid | ~data["step"].isin(steps)]


def metric_bands_data(timeseries: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows :func:`metric_bands_chart` draws: labelled bands, thinned, rates trimmed.

    Rate charts (not regret) start at :data:`RATE_CHART_START` of the impressions.
    """
    data = _labelled(band_frame(timeseries, metric))
    if metric != "regret" and not data.empty:
        # Rates over the first few batches are mostly noise and would set the axis range.
        data = data[data["step"] >= RATE_CHART_START * data["step"].max()]
    return _thinned(data, MAX_LINE_POINTS)


def metric_bands_spec(metric: str, domain: list[float] | None = None) -> dict:
    """Vega-Lite spec of :func:`metric_bands_chart` without its data (for ``st.vega_lite_chart``).

    The spec depends on the metric only, so it is built once; a fresh copy is returned.
    With ``domain`` (:func:`metric_bands_domain` of the data drawn) the y axis is fixed to
    it and the bands and lines are clipped to it, as in :func:`metric_bands_chart`.
    """
    spec = copy.deepcopy(_metric_bands_template(metric))
    if domain is not None:
        for layer in spec["spec"]["layer"]:
            layer["mark"]["clip"] = True
        band_y = spec["spec"]["layer"][0]["encoding"]["y"]
        band_y["scale"] = {"zero": False, "domain": list(domain), "clamp": True}
    return spec


@functools.cache
def _metric_bands_template(metric: str) -> dict:
    empty = pd.DataFrame(columns=["level", "policy", "step", "mean", "low", "high"])
    spec = _metric_bands_layers(_labelled(empty), metric).to_dict()
    # The data comes with each call; the view config is Altair's default theme,
    # which Streamlit drops for Altair charts too.
    for key in ("data", "datasets", "config"):
        spec.pop(key, None)
    return spec


#: Values of the live charts' ``Seeds`` column: whether every replication has the point.
LIVE_COVERAGE = ("every seed", "not every seed yet")


def live_bands_data(
    timeseries: pd.DataFrame, metric: str, *, n_replications: int, checkpoints: np.ndarray
) -> pd.DataFrame:
    """:func:`metric_bands_data` of a run under way (rows of a partial ``timeseries_frame``).

    The line at each step is the mean of the replications that have reached it; the band is
    drawn only where all ``n_replications`` have (elsewhere ``low`` and ``high`` are NaN, which
    Vega-Lite leaves out), so an interval never rests on part of the seeds. Column ``Seeds``
    (:data:`LIVE_COVERAGE`) says which: the line is dashed past the last point every
    replication has (that point is repeated in the dashed part, so the two join). Rate charts
    start at :data:`RATE_CHART_START` of the furthest point reached so far, and the points
    are taken from the run's ``checkpoints``, so they stay put as the frame grows.
    """
    keys = ["level", "policy", "step"]
    data = band_frame(timeseries, metric)
    # The same grouping as band_frame's, in the same order.
    data["reached"] = timeseries.groupby(keys, sort=False).size().to_numpy()
    if metric != "regret" and len(data):
        # The noisy start is cut relative to how far the run has got, not to its end,
        # so the first points show at once (a cut at 5 % of the whole run left the
        # charts empty for the first 5 % of a long run).
        data = data[data["step"] >= RATE_CHART_START * data["step"].max()]
    data = _thinned(data, MAX_LINE_POINTS, grid=checkpoints).sort_values(keys)
    every = (data["reached"] >= n_replications).to_numpy()
    data["Seeds"] = np.where(every, LIVE_COVERAGE[0], LIVE_COVERAGE[1])
    data.loc[~every, ["low", "high"]] = np.nan
    # Each replication fills a prefix of the steps, so the complete points come first: the
    # last complete point before a partial one of the same line starts the dashed part too.
    line = data["level"].to_numpy() + "\0" + data["policy"].to_numpy()
    last = np.flatnonzero(every[:-1] & ~every[1:] & (line[:-1] == line[1:]))
    joins = data.iloc[last].assign(Seeds=LIVE_COVERAGE[1], low=np.nan, high=np.nan)
    data = pd.concat([data, joins]).sort_values(keys, kind="stable")
    return _labelled(data.drop(columns="reached").reset_index(drop=True))


def live_bands_spec(metric: str, n_impressions: int) -> dict:
    """:func:`metric_bands_spec` for :func:`live_bands_data`: the x axis fixed to the whole run.

    The lines grow along the axis; dashed where not every seed has the point yet. The same
    spec at every refresh, so the browser only swaps the chart's data.
    """
    spec = metric_bands_spec(metric)
    for layer in spec["spec"]["layer"]:
        layer["encoding"]["x"]["scale"] = {"domain": [0, int(n_impressions)]}
    line = spec["spec"]["layer"][1]["encoding"]
    line["strokeDash"] = {
        "field": "Seeds",
        "type": "nominal",
        "scale": {"domain": list(LIVE_COVERAGE), "range": [[1, 0], [5, 4]]},
        "legend": {"orient": "bottom", "title": "Line", "symbolType": "stroke"},
    }
    line["tooltip"].append({"field": "Seeds", "type": "nominal"})
    return spec


def metric_bands_chart(timeseries: pd.DataFrame, metric: str) -> alt.FacetChart:
    """Cumulative ``metric`` over impressions per policy (colour), one panel per level.

    The shaded band is the 95 % interval across seeds (rows from :func:`metric_bands_data`).
    """
    data = metric_bands_data(timeseries, metric)
    # A shared rate axis spans the lines and no more band than is informative: the early,
    # wide bands of a few seeds (CTR bands up to 40 %, ROAS to 1e6) flattened every line
    # into the bottom pixels.
    return _metric_bands_layers(data, metric, domain=metric_bands_domain(data, metric))


def metric_bands_domain(data: pd.DataFrame, metric: str) -> list[float] | None:
    """The y range of a rate band chart: :func:`robust_domain` of its rows; None for regret.

    Parameters
    ----------
    data : DataFrame
        Rows of :func:`metric_bands_data` (``mean``, ``low``, ``high``).
    metric : str

    Returns
    -------
    domain : [low, high] or None
        None for regret (its panels each have their own scale) or without finite values.
    """
    if metric == "regret" or data.empty:
        return None
    return robust_domain(data["mean"], data["low"], data["high"])


def _metric_bands_layers(
    data: pd.DataFrame, metric: str, *, domain: list[float] | None = None
) -> alt.FacetChart:
    """The faceted band + line chart; with ``domain`` the y axis is fixed and marks clipped."""
    title, fmt = METRIC_AXES[metric]
    y_scale = alt.Scale(zero=False, domain=domain, clamp=True) if domain else alt.Scale(zero=False)
    base = alt.Chart().encode(
        x=alt.X("step:Q", title="Impressions", axis=alt.Axis(format="~s")),
        color=alt.Color("Policy:N", legend=_LINE_LEGEND, scale=colour_scale()),
    )
    # Panels on their own scale each repeat the axis title, which then pushed the third
    # panel off the page: regret's title is the heading above the chart.
    axis_title = None if metric == "regret" else title
    band = base.mark_area(opacity=0.18, clip=domain is not None).encode(
        y=alt.Y("low:Q", title=axis_title, axis=alt.Axis(format=fmt), scale=y_scale),
        y2="high:Q",
    )
    line = base.mark_line(strokeWidth=2, clip=domain is not None).encode(
        y=alt.Y("mean:Q", title=axis_title),
        tooltip=[
            "Policy:N",
            "Level:N",
            alt.Tooltip("step:Q", title="Impressions", format=","),
            alt.Tooltip("mean:Q", title=title, format=fmt),
            alt.Tooltip("low:Q", title="95 % low", format=fmt),
            alt.Tooltip("high:Q", title="95 % high", format=fmt),
        ],
    )
    return (
        alt.layer(band, line, data=data)
        .properties(width=_WIDTH, height=220)
        # Three panels a row: a fourth level (generated) wraps to a second row instead of
        # running off the page's right edge.
        .facet(
            facet=alt.Facet("Level:N", title=None, sort=list(LEVEL_NAMES.values())),
            columns=_PANELS_PER_ROW,
        )
        # Rates share one axis, so panels compare at a glance. Regret does not: each
        # level's is counted against its own best (the best arm of its pool, or the best
        # composition at the generated level), so a shared axis would invite comparing
        # yardsticks and flatten the pool levels' panels under the generated one's.
        .resolve_scale(y="independent" if metric == "regret" else "shared")
    )


def allocation_share(
    allocation: pd.DataFrame, level: str, policy: str, *, slots: bool = False
) -> pd.DataFrame:
    """Share of each creative among the impressions served between checkpoints (mean of seeds).

    Parameters
    ----------
    allocation : DataFrame
        ``allocation_frame()``: cumulative impressions per (seed, level, policy, step, arm).
    slots : bool, default=False
        Name the arms "Slot k" instead of by their creative: a regenerated pool's arm is
        a slot whose creative changed during the run (``arm_label`` names the founder).

    Returns
    -------
    share : DataFrame
        Columns ``step``, ``arm``, ``arm_label``, ``impressions`` (per interval), ``share``.
    """
    rows = allocation[(allocation["level"] == level) & (allocation["policy"] == policy)]
    wide = rows.pivot_table(
        index=["seed", "step"], columns="arm", values="impressions", aggfunc="sum"
    ).sort_index()
    per_interval = wide.groupby(level="seed").diff().fillna(wide)
    mean = per_interval.groupby(level="step").mean()
    total = mean.sum(axis=1).replace(0, np.nan)
    share = mean.div(total, axis=0).fillna(0.0)
    labels = rows.drop_duplicates("arm").set_index("arm")["arm_label"]
    out = share.stack().rename("share").reset_index()
    out["impressions"] = mean.stack().to_numpy()
    out["arm_label"] = out["arm"].map(labels).fillna(out["arm"].astype(str))
    out["Creative"] = (
        [f"Slot {a + 1}" for a in out["arm"]]
        if slots
        else [f"{a + 1}. {lab}" for a, lab in zip(out["arm"], out["arm_label"])]
    )
    return out


def allocation_chart(
    allocation: pd.DataFrame, level: str, policy: str, *, slots: bool = False
) -> alt.Chart:
    """Stacked area: which creatives (or pool slots, ``slots=True``) a policy showed over time."""
    data = allocation_share(allocation, level, policy, slots=slots)
    # The legend in arm order: as text "10. …" sorted before "2. …" with ten creatives or more.
    order = list(data.drop_duplicates("arm").sort_values("arm")["Creative"])
    return (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("step:Q", title="Impressions", axis=alt.Axis(format="~s")),
            y=alt.Y(
                "share:Q",
                stack="normalize",
                title="Share of impressions",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color(
                "Creative:N",
                title="Slot" if slots else "Creative",
                legend=alt.Legend(orient="right", labelLimit=260),
                scale=colour_scale(),
                sort=order,
            ),
            order=alt.Order("arm:Q"),
            tooltip=[
                "Creative:N",
                alt.Tooltip("step:Q", title="Impressions", format=","),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
            ],
        )
        .properties(height=260, width="container")
    )


def segment_sizes_chart(segments: pd.DataFrame) -> alt.Chart:
    """Bar chart of segment sizes (``segment``, ``name``, ``size``, ``share`` columns)."""
    return (
        alt.Chart(segments)
        .mark_bar()
        .encode(
            x=alt.X("size:Q", title="Users"),
            y=alt.Y("name:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
            tooltip=[
                "name:N",
                alt.Tooltip("size:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(height=alt.Step(26), width="container")
    )


def interest_heatmap(profiles) -> alt.Chart:
    """Share of each segment holding each interest (``SegmentProfile.interest_rates``)."""
    rows = [
        {"Segment": p.name, "Interest": interest, "share": rate}
        for p in profiles
        for interest, rate in zip(INTERESTS, p.interest_rates)
    ]
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_rect()
        .encode(
            x=alt.X("Interest:N", sort=list(INTERESTS), title=None),
            y=alt.Y("Segment:N", title=None, axis=alt.Axis(labelLimit=320), sort=None),
            color=alt.Color(
                "share:Q",
                title="Share",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format="%"),
            ),
            tooltip=["Segment:N", "Interest:N", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(height=alt.Step(26), width="container")
    )


def active_hours_chart(profiles) -> alt.Chart:
    """Mean share of activity by part of the day, one line per segment."""
    rows = [
        {"Segment": p.name, "Id": p.segment_id, "Part of day": t, "share": h}
        for p in profiles
        for t, h in zip(TIMES_OF_DAY, p.hours)
    ]
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("Part of day:N", sort=list(TIMES_OF_DAY), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("share:Q", title="Share of activity", axis=alt.Axis(format="%")),
            color=alt.Color(
                "Segment:N",
                sort=[p.name for p in profiles],
                scale=colour_scale(),
                # One column: segment names are long, and two columns of them were wider
                # than the chart, which Vega then squeezed to nothing.
                # The chart is the page's width (Audience page): room for the long names.
                legend=alt.Legend(orient="bottom", title=None, columns=1, labelLimit=560),
            ),
            tooltip=["Segment:N", "Id:Q", "Part of day:N", alt.Tooltip("share:Q", format=".0%")],
        )
        # Fit the width only: the legend adds to the height instead of taking the plot's.
        .properties(height=220, width="container", autosize=alt.AutoSizeParams(type="fit-x"))
    )


def compare_chart(
    timeseries: dict[str, pd.DataFrame],
    metric: str,
    best: dict[str, tuple[str, str]] | None = None,
) -> alt.Chart:
    """One metric over impressions for several runs: ``{run label: timeseries}``.

    Parameters
    ----------
    timeseries : dict of str to DataFrame
        Each run's ``timeseries_frame``.
    metric : str
        A key of :data:`METRIC_AXES`.
    best : dict of str to (level, policy), optional
        The line drawn for each run: its headline's best policy and level
        (:func:`ui.tables.best_row`), so the chart and the headline name the same one.
        Without it, the line with the highest final mean of ``metric``.

    Rates start after :data:`RATE_CHART_START` of the impressions, and the y axis is a
    :func:`robust_domain` of the lines.
    """
    title, fmt = METRIC_AXES[metric]
    parts = []
    for label, frame in timeseries.items():
        bands = band_frame(frame, metric)
        if best is not None and label in best:
            level, policy = best[label]
        else:
            last = bands.sort_values("step").groupby(["level", "policy"]).tail(1)
            pick = last.sort_values("mean", ascending=metric == "regret").iloc[0]
            level, policy = pick["level"], pick["policy"]
        sel = bands[(bands["level"] == level) & (bands["policy"] == policy)]
        if metric != "regret" and not sel.empty:
            sel = sel[sel["step"] >= RATE_CHART_START * sel["step"].max()]
        level_name = LEVEL_NAMES.get(level, level).lower()
        parts.append(sel.assign(Run=f"{label}: {policy_name(policy)}, {level_name}"))
    data = pd.concat(parts, ignore_index=True)
    domain = robust_domain(data["mean"], data["low"], data["high"])
    y_scale = alt.Scale(zero=False, domain=domain, clamp=True) if domain else alt.Scale(zero=False)
    base = alt.Chart(data).encode(
        x=alt.X("step:Q", title="Impressions", axis=alt.Axis(format="~s")),
        color=alt.Color(
            "Run:N", legend=_LINE_LEGEND, scale=colour_scale(list(dict.fromkeys(data["Run"])))
        ),
    )
    # The short title: the long one ("... (revenue per $ spent)") is taller than the plot,
    # and fitting it squeezed the ROAS plot to ~50 px with its title still cut. The
    # tooltip keeps the full one.
    short = title.split(" (")[0]
    band = base.mark_area(opacity=0.18, clip=True).encode(
        y=alt.Y("low:Q", title=short, axis=alt.Axis(format=fmt), scale=y_scale),
        y2="high:Q",
    )
    line = base.mark_line(strokeWidth=2, clip=True).encode(
        y="mean:Q", tooltip=["Run:N", alt.Tooltip("mean:Q", title=title, format=fmt)]
    )
    # Fit the width only: the legend below adds to the height instead of taking the plot's.
    return alt.layer(band, line).properties(
        height=COMPARE_PLOT_HEIGHT, width="container", autosize=alt.AutoSizeParams(type="fit-x")
    )


def segment_allocation_chart(allocation: pd.DataFrame, policy: str) -> alt.Chart:
    """Per segment, the share of its impressions each of its own creatives got.

    Parameters
    ----------
    allocation : DataFrame
        :func:`simulation.winners.segment_allocation` with a ``Creative`` column naming
        each segment's own creative (``arm`` alone is a different ad in every segment).
    policy : str
        The policy whose allocation is drawn.
    """
    data = allocation[allocation["policy"] == policy]
    # Every creative must be named: Streamlit's theme turns on labelOverlap, which
    # hid every other label at 18 px rows, so it is off here and rows fit a label. The
    # labels add what tells two creatives apart (and a Korean product's English name):
    # up to 460 px, so the segment's name goes above its rows, not beside them, and the
    # chart stays within the page at 1280 px.
    axis = alt.Axis(labelLimit=460, labelOverlap=False)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("Creative:N", title=None, sort=None, axis=axis),
            x=alt.X(
                "share:Q",
                title="Share of the segment's impressions",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("Segment:N", legend=None, scale=colour_scale()),
            row=alt.Row(
                "Segment:N",
                title=None,
                sort=None,
                header=alt.Header(
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelOrient="top",
                    labelLimit=700,
                    labelFontWeight="bold",
                ),
            ),
            tooltip=[
                "Segment:N",
                "Creative:N",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("impressions:Q", format=","),
            ],
        )
        .properties(width=300, height=alt.Step(_ALLOCATION_ROW_PX))
        .resolve_scale(y="independent")
    )


def ope_chart(report: pd.DataFrame, truth: float | None, logging_value: float | None) -> alt.Chart:
    """Estimates with their intervals, and the true value (when known) as a rule."""
    data = report.assign(kind="estimate")
    # The estimators' full names ("SNIPS (self-normalized IPS)"): a wider label column.
    y = alt.Y("estimator:N", title=None, sort=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X(
            "ci_low:Q",
            title="Policy value (mean reward per impression)",
            scale=alt.Scale(zero=False),
        ),
        x2="ci_high:Q",
    )
    points = base.mark_point(filled=True, size=80).encode(
        x="estimate:Q",
        tooltip=[
            "estimator:N",
            alt.Tooltip("estimate:Q", format=".4f"),
            alt.Tooltip("ci_low:Q", format=".4f"),
            alt.Tooltip("ci_high:Q", format=".4f"),
        ],
    )
    layers = [bars, points]
    refs = []
    if truth is not None:
        refs.append({"what": "truth", "value": truth})
    if logging_value is not None:
        refs.append({"what": "logging policy", "value": logging_value})
    if refs:
        rules = (
            alt.Chart(pd.DataFrame(refs))
            .mark_rule(strokeDash=[4, 3])
            .encode(
                x="value:Q",
                color=alt.Color("what:N", title=None, scale=colour_scale()),
                tooltip=["what:N", alt.Tooltip("value:Q", format=".4f")],
            )
        )
        layers.append(rules)
    return alt.layer(*layers).properties(height=alt.Step(34), width="container")
