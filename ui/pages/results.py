"""Results page: this session's runs and every saved run; reload, compare, download.

A run leads with its like-for-like uplift (the stored ``uplift`` table, or computed for runs
saved before it existed), observed values in the headline, the true uplift in its own
column, as on the Experiment page and in the HTML report.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from simulation.gap_closed import gap_closed
from simulation.interval_words import (
    NOT_CLEAR_RULE,
    headline_note,
    metrics_over,
    one_replication,
    tile_help,
    tile_interval_notes,
    tiles_over,
    uplift_caption,
)
from simulation.metrics import interval_over
from simulation.naming import run_label, saved_run_name
from simulation.pairing import pairing
from simulation.store.report import (
    best_intervals,
    build_report,
    clear_best_note,
    run_uplift,
)
from simulation.uplift_text import OBSERVED_COLUMN
from ui import cache, charts, generated_view, generations, runner, state
from ui.fmt import LEVEL_NAMES, best_pair, budget_stop_text, escape_markdown, multiple, pct
from ui.tables import (
    METRIC_INTERVALS,
    best_label,
    best_row,
    compare_metrics_table,
    difference_table,
    markdown_table,
    metrics_refusal,
    metrics_table,
    table_height,
    uplift_labels,
)
from ui.uplift import uplift_display, uplift_headline, world_caveat


def export_zip(run_id: str, fmt: str) -> bytes:
    """A saved run's tables as a ZIP of CSV or Parquet files.

    Written by the run store's own exporter: ``summary``, ``timeseries``, ``tables/*`` and
    ``meta.json``.
    """
    with tempfile.TemporaryDirectory(prefix="adlab-export-") as tmp:
        paths = cache.run_store().export(run_id, tmp, fmt)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in paths:
                zf.write(path, Path(path).relative_to(tmp).as_posix())
    return buffer.getvalue()


def _saved_runs() -> pd.DataFrame | None:
    try:
        return cache.run_store().list()
    except Exception as exc:
        st.warning(
            escape_markdown(f"The run store could not be read ({type(exc).__name__}: {exc}).")
        )
        return None


def _load(key: str, saved: pd.DataFrame | None) -> dict | None:
    """Frames of a run: ``session:N`` (this tab, maybe unsaved) or a saved run id."""
    if key.startswith("session:"):
        entry = state.session_runs()[int(key.split(":", 1)[1])]
        result = entry["result"]
        return {
            "label": entry["label"],
            "summary": result.summary_frame(),
            "timeseries": result.timeseries_frame(),
            "objective": result.config.objective,
            "run_id": entry["run_id"],
            "config": result.config.to_dict(),
            "uplift": result.uplift_frame(),
            "inputs": _saved_inputs(entry["run_id"]),
            "component_effects": result.component_effects_frame(),
            "top_creatives": result.top_creatives_frame(),
            "component_allocation": result.component_allocation_frame(),
            "gap_closed": cache.gap_table(result),
            "generations": result.generations_frame(),
        }
    try:
        run = cache.stored_run(str(cache.run_store().root), key)
    except LookupError as exc:
        st.error(f"That run could not be loaded: {escape_markdown(exc)}")
        return None
    return {
        "label": _name(run.meta.get("name"), run.config),
        "summary": run.summary,
        "timeseries": run.timeseries,
        "objective": run.config.get("objective", "ctr"),
        "run_id": key,
        "config": dict(run.config),
        "uplift": run_uplift(run),
        "inputs": dict(run.inputs),
        # The generated level's outputs (runs saved before they were kept have none).
        "component_effects": run.tables.get("component_effects", pd.DataFrame()),
        "top_creatives": run.tables.get("top_creatives", pd.DataFrame()),
        "component_allocation": run.tables.get("component_allocation", pd.DataFrame()),
        # Saved with the share from the world's localized floor since 2026-12-05; earlier
        # runs: None, and it is read from the summary, without it, where it is shown.
        "gap_closed": run.tables.get("gap_closed"),
        # A regenerated run's lineage (saved with every such run; None where it is not).
        "generations": run.tables.get("generations"),
    }


def _saved_inputs(run_id: str | None) -> dict:
    """The user's files a saved run used (empty for none, or a run not saved)."""
    if not run_id:
        return {}
    try:
        return dict(cache.stored_run(str(cache.run_store().root), run_id).inputs)
    except LookupError:
        return {}


_KIND_ORDER = {"segments": 0, "catalogue": 1, "templates": 2}
#: Width of the saved runs' Name column: with the run id, the best and its CTR and ROAS
#: the table fits the page at 1280 px (checked in Chromium; docs/app.md).
SAVED_NAME_PX = 260


def _inputs(frames: dict) -> None:
    """Which files the run used: the user's (name and short content hash), else the bundled."""
    inputs = frames.get("inputs") or {}
    if not inputs:
        st.caption("Inputs: the simulated audience, the bundled catalogue and copy templates.")
        return
    parts = [
        f"{kind} **{escape_markdown(Path(entry['path']).name)}** (sha256 `{entry['sha256'][:12]}`)"
        for kind, entry in sorted(inputs.items(), key=lambda item: _KIND_ORDER.get(item[0], 9))
    ]
    st.markdown("**Your files in this run:** " + "; ".join(parts) + ".")


def _name(name, config) -> str:
    """A run's name, or one made from its settings (:func:`simulation.naming.saved_run_name`)."""
    return saved_run_name(name, config)


def report_html(run_id: str) -> bytes:
    """The saved run's self-contained HTML report (:mod:`simulation.store.report`)."""
    return build_report(cache.stored_run(str(cache.run_store().root), run_id)).encode("utf-8")


def _best_of_saved(run_id: str) -> tuple[str, str, str, str]:
    """Best policy and level of a saved run (as in its headline), its CTR and ROAS."""
    try:
        meta, summary = cache.saved_summary(str(cache.run_store().root), run_id)
        config = meta["config"]
        if not {"level", "policy", "ctr", "roas"} <= set(summary.columns):
            return ("–", "–", "–", _name(meta.get("name"), config))
        best = best_row(summary, config.get("objective", "ctr"))
        name = _name(meta.get("name"), config)
        if best is None:  # only the oracle ran: no learner to name
            return ("–", "–", "–", name)
        return (best_label(best), pct(best["ctr"]), multiple(best["roas"]), name)
    except Exception:  # a damaged run still gets a row in the list
        return ("–", "–", "–", "unreadable run")


def _options(saved: pd.DataFrame | None) -> dict[str, str]:
    options: dict[str, str] = {}
    saved_ids = set()
    for i, entry in reversed(list(enumerate(state.session_runs()))):
        if entry["run_id"]:
            options[entry["run_id"]] = f"This session: {entry['label']} ({entry['run_id']})"
            saved_ids.add(entry["run_id"])
        else:
            options[f"session:{i}"] = f"This session (not saved): {entry['label']}"
    if saved is not None:
        # Healthy runs first: a new tab opens on the newest run that can be read.
        if "damaged" in saved:
            saved = saved.iloc[saved["damaged"].notna().to_numpy().argsort(kind="stable")]
        for row in saved.itertuples(index=False):
            if row.run_id not in saved_ids:
                name = row.name if isinstance(row.name, str) and row.name else None
                if name is None:
                    name = _best_of_saved(row.run_id)[3]
                # A damaged run's catalogue row may lack its source.
                source = row.source if isinstance(row.source, str) and row.source else None
                where = f"{row.run_id}, {source}" if source else row.run_id
                options[row.run_id] = f"{name} ({where})"
    return options


def _usable(frames: dict) -> bool:
    needed = {"level", "policy", "seed", "ctr", "roas"}
    ok = needed <= set(frames["summary"].columns) and {"step", "ctr"} <= set(
        frames["timeseries"].columns
    )
    if not ok:
        st.warning("This run was not made by the experiment engine (e.g. a CLI test run); "
                   "only its download is offered.")  # fmt: skip
    return ok


def _uplift_lines(frames: dict) -> None:
    """The run's like-for-like uplift in words: observed values only, with their interval."""
    objective = "roas" if frames["objective"] == "roas" else "ctr"
    # One replication: one note says there is no interval, not each sentence.
    note = headline_note(frames["summary"])
    lines = uplift_headline(frames["uplift"], objective, interval_noted=note is not None)
    if not lines:
        st.caption("No like-for-like uplift: the run has no generic level to compare with.")
        return
    st.markdown(
        "**Observed** (best policy at each level against the best at the generic level): "
        + " ".join(escape_markdown(line) for line in lines)
    )
    if note:
        st.caption(note)  # the app's own words and numbers
    caveat = world_caveat(frames["summary"])
    if caveat:
        st.caption(escape_markdown(caveat))


def _uplift(frames: dict) -> None:
    """The headline sentences and the uplift table, observed beside the true uplift."""
    _uplift_lines(frames)
    if frames["uplift"].empty:
        return
    shown = uplift_display(frames["uplift"], interval_noted=one_replication(frames["summary"]))
    st.table(
        markdown_table(
            shown, intervals=(OBSERVED_COLUMN,), headers=uplift_labels(frames["summary"])
        ),
        hide_index=True,
        height=table_height(len(shown)),
    )
    st.caption(uplift_caption(frames["summary"]))


def _headline(frames: dict) -> pd.Series | None:
    """The run's best policy and level (by its objective), drawn as two metrics; returned.

    None, said, when only the oracle ran (it knows the truth: a yardstick, not a best).
    """
    best = best_row(frames["summary"], frames["objective"])
    if best is None:
        st.caption("No best policy: only the oracle, which knows the truth, ran.")
        return None
    # The interval alone on the tile (it was cut off with what it covers at 1280 px); the
    # caption under the tiles names the replications, once.
    # An interval on a handful of events is refused, in the uplift cells' words.
    intervals = best_intervals(frames["summary"], best)
    notes = tile_interval_notes(frames["summary"], best, intervals)
    tiles = best_pair(best, frames["objective"], intervals, notes=notes)
    objective = "roas" if frames["objective"] == "roas" else "ctr"
    for column, (label, value, span) in zip(st.columns(2), tiles, strict=True):
        # The tile's note is short ("no interval: few sales"): its help gives the whole rule.
        metric = "roas" if "ROAS" in label else "ctr"
        column.metric(
            label, value, span, delta_color="off", delta_arrow="off",
            help=tile_help(metric, objective),
        )  # fmt: skip
    # A saved run's policy and level are whatever its file says (it may come from the CLI).
    # Not clearly best by the report's rule (a refused interval included), in its words.
    note = clear_best_note(frames["summary"], best, objective, level_names=LEVEL_NAMES)
    st.caption(
        escape_markdown(
            f"Best by {frames['objective'].upper()}: {best_label(best)} "
            f"({tiles_over(frames['summary'])})" + (f". {note}" if note else "")
        )
    )
    return best


def _downloads(frames: dict, key: str) -> None:
    run_id = frames.get("run_id")
    if not run_id:
        csv = frames["summary"].to_csv(index=False).encode()
        st.download_button("Summary (CSV)", csv, "summary.csv", "text/csv", key=f"dl-{key}")
        return
    c1, c2, c3 = st.columns(3)
    c3.download_button(
        "Download report (HTML)", data=partial(report_html, run_id),
        file_name=f"adlab-{run_id}-report.html", mime="text/html", key=f"dl-html-{key}",
        help="One self-contained file: charts, uplift table, winners, configuration and "
        "provenance. Opens offline in any browser.",
    )  # fmt: skip
    c1.download_button(
        "Download (CSV, zipped)", data=partial(export_zip, run_id, "csv"),
        file_name=f"adlab-{run_id}-csv.zip", mime="application/zip", key=f"dl-csv-{key}",
    )  # fmt: skip
    c2.download_button(
        "Download (Parquet, zipped)", data=partial(export_zip, run_id, "parquet"),
        file_name=f"adlab-{run_id}-parquet.zip", mime="application/zip", key=f"dl-pq-{key}",
    )  # fmt: skip


def render() -> None:
    """Draw the page."""
    st.title("Results")
    st.markdown(
        "Every experiment you run is kept: this tab's runs and all runs saved in the run "
        "store (also those run from the command line). Reload one to see its numbers again, "
        "put two side by side to see what a change of settings did, and download the tables "
        "for your own analysis."
    )
    saved = _saved_runs()
    runs = state.session_runs()
    st.subheader("This session")
    job = st.session_state.get("ex-job")
    if job is not None and job.status == "running":
        # Not "no experiment yet": the Experiment page holds it until it ends.
        st.info(
            f"An experiment is running on the Experiment page ({job.impressions_done:,} of "
            f"{runner.run_impressions(job.config):,} impressions); it is listed here when it "
            "ends."
        )
    if runs:
        st.dataframe(
            pd.DataFrame(
                {
                    "Run": [r["label"] for r in runs],
                    "Saved as": [r["run_id"] or "not saved" for r in runs],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    elif job is None or job.status != "running":
        st.info("No experiment run in this tab yet; run one on the Experiment page.")
    st.subheader("Saved runs")
    if saved is not None and not saved.empty:
        st.caption(
            f"In {escape_markdown(cache.run_store().root)}. *Best* is each run's best policy "
            "and level by its objective, as in its headline (never an average over levels); "
            f"*(not clear)*: {escape_markdown(NOT_CLEAR_RULE)}: a tie or noise, no win; "
            "*CTR* and *ROAS* are that best's, observed. "
            "A run id starts with the run's date and time (UTC): 20261205\\-101731 is "
            "5 December 2026, 10:17:31."
        )
        best = [_best_of_saved(r) for r in saved["run_id"]]
        # The catalogue's verdict (as `runs list` marks it); absent for a damaged run.
        clear = saved["best_clear"] if "best_clear" in saved else pd.Series([None] * len(saved))
        damaged = saved["damaged"] if "damaged" in saved else pd.Series([None] * len(saved))
        # Fits the page at 1280 px (it was 1,200 px wide, its best past the right edge):
        # no Created column (a run id starts with its UTC date and time) nor From (the
        # picker below says it), and the name, the widest, in a column of its own width
        # (a long name is cut there; the picker below shows it whole).
        st.dataframe(
            pd.DataFrame(
                {
                    "Run id": saved["run_id"],
                    # A damaged run says so (and why) where its name would be.
                    "Name": [
                        b[3] if not isinstance(why, str) else f"damaged: {why}"
                        for b, why in zip(best, damaged, strict=True)
                    ],
                    "Best policy and level": [
                        f"{b[0]} (not clear)" if pd.notna(is_clear) and not bool(is_clear) else b[0]
                        for b, is_clear in zip(best, clear, strict=True)
                    ],
                    "Its CTR": [b[1] for b in best],
                    "Its ROAS": [b[2] for b in best],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "Name": st.column_config.TextColumn(width=SAVED_NAME_PX),
                "Its CTR": "CTR",
                "Its ROAS": "ROAS",
            },
        )
    elif saved is not None:
        st.info("The run store is empty.")
    options = _options(saved)
    if not options:
        return

    st.subheader("Look at a run")
    keys = list(options)
    key = st.selectbox("Run", keys, format_func=options.get, key="rs-run")
    frames = _load(key, saved)
    if frames is not None:
        if _usable(frames):
            _uplift(frames)
            _headline(frames)
            st.markdown(f"**Final metrics, observed** ({metrics_over(frames['summary'])})")
            metrics = metrics_table(frames["summary"])
            st.table(
                markdown_table(metrics, intervals=METRIC_INTERVALS),
                hide_index=True,
                height=table_height(len(metrics)),
            )
            if rule := metrics_refusal(metrics):
                st.caption(rule)
            config = frames["config"]
            stop = budget_stop_text(
                frames["summary"], config.get("budget"), int(config.get("n_impressions") or 0)
            )
            ts = frames["timeseries"]
            if stop:  # as the Experiment page says it, the lines ending where spending did
                st.warning(escape_markdown(stop), icon=":material/payments:")
                if {"seed", "level", "policy", "impressions"} <= set(ts.columns):
                    ts = runner.served_only(ts)
            st.altair_chart(charts.metric_bands_chart(ts, "ctr"))
            generated_view.render(
                frames["component_effects"],
                frames["top_creatives"],
                served=frames["component_allocation"],
                gap=(
                    gap_closed(frames["summary"])
                    if frames["gap_closed"] is None
                    else frames["gap_closed"]
                ),
                objective=frames["objective"],
                key="rs",
            )
            generations.render_saved(config, frames["generations"])
        _inputs(frames)
        _downloads(frames, "one")

    st.subheader("Compare two runs")
    if len(keys) < 2:
        st.info("Run at least two experiments to compare them.")
        return
    c1, c2 = st.columns(2)
    key_a = c1.selectbox("Run A", keys, format_func=options.get, key="rs-a")
    key_b = c2.selectbox("Run B", keys, index=1, format_func=options.get, key="rs-b")
    if key_a == key_b:
        st.warning("Choose two different runs.")
        return
    a, b = _load(key_a, saved), _load(key_b, saved)
    if a is None or b is None or not (_usable(a) and _usable(b)):
        return
    _compare(a, b)


def _compare(a: dict, b: dict) -> None:
    """A and B side by side, labelled by the settings that differ, and A − B with intervals."""
    label_a, label_b = run_label([a["config"], b["config"]])
    st.markdown(
        f"**A:** {escape_markdown(label_a)}  \n**B:** {escape_markdown(label_b)}"
        if label_a != "same settings"
        else "A and B have the same settings."
    )
    c1, c2 = st.columns(2)
    best = {}
    for column, frames, tag in ((c1, a, "A"), (c2, b, "B")):
        with column:
            st.markdown(f"**{tag}**")
            _uplift_lines(frames)
            row = _headline(frames)
            if row is not None:
                best[tag] = (row["level"], row["policy"])
    # One full-width table (two half-width ones cut their columns off), its cells wrapped
    # to the window as the other metric tables are (an st.dataframe never wraps a cell).
    table = compare_metrics_table(a["summary"], b["summary"])
    st.table(
        markdown_table(table, intervals=METRIC_INTERVALS),
        hide_index=True,
        height=table_height(len(table)),
    )

    # Paired only when replication r of A and of B met the same visitors and draws: the
    # same world, impressions and batches, and the same replications (simulation.pairing).
    how = pairing(
        a["config"], b["config"], inputs_a=a.get("inputs"), inputs_b=b.get("inputs"),
        summary_a=a["summary"], summary_b=b["summary"],
    )  # fmt: skip
    paired = how.paired
    st.markdown(
        "**A − B: paired differences** (mean and 95 % interval)"
        if paired
        else "**A − B: differences of independent runs** (mean and 95 % interval)"
    )
    # The app's own words and numbers only: nothing to escape.
    st.caption(
        how.sentence
        + (
            " The difference is taken replication by replication and its Student-t "
            f"interval is over the {interval_over(a['summary'])}. An interval that excludes 0 "
            "is a difference the replications agree on."
            if paired
            else f" A: {interval_over(a['summary'])}; B: {interval_over(b['summary'])}."
        )
    )
    diff = difference_table(
        a["summary"],
        b["summary"],
        paired=paired,
        best=(best["A"], best["B"]) if len(best) == 2 else None,
    )
    st.dataframe(diff, hide_index=True, width="stretch")

    series = {"A": a["timeseries"], "B": b["timeseries"]}
    st.markdown("**Best policy of each run (as in its headline): cumulative CTR and ROAS**")
    st.caption("From 5 % of the impressions on; the axis covers the lines, bands are clipped.")
    left, right = st.columns(2)
    left.altair_chart(charts.compare_chart(series, "ctr", best), width="stretch")
    right.altair_chart(charts.compare_chart(series, "roas", best), width="stretch")


render()
