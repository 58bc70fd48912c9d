"""Sweeps page: run a small sweep (progress, Stop) or open a saved one; uplift as pictures.

The sweep runs in a background thread (local worker processes do the work); the
page polls it and the thread never calls Streamlit. A stopped sweep resumes from
its stored runs when run again: its folder is named by the grid's fingerprint.
"""

from __future__ import annotations

import os
import threading
import tomllib
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from simulation.cli.common import MAX_NAME
from simulation.config import ExperimentConfig
from simulation.engine.generated import skipped_pairs
from simulation.store.paths import resolve_root
from simulation.store.sweeps import list_sweeps, load_sweep, rename_sweep, save_sweep
from simulation.sweep import parse_grid, prepare_folder, run_sweep
from simulation.sweep.digest import run_interval_over
from simulation.sweep.grid import canonical_json
from simulation.sweep.workdir import work_folder
from ui import state, sweep_charts
from ui.fmt import LEVEL_NAMES, escape_markdown, policy_name, skipped_text
from ui.forms import sweep_base
from ui.sweep_table import UPLIFT_HEADERS, readable_table

#: Most runs the page starts (bigger sweeps belong on the command line).
APP_MAX_RUNS = 60
#: The form's run size. ROAS rests on sales, which are rare: at 5,000 impressions and 2
#: replications no ROAS uplift had an interval (1 or 2 sales a side, where 10 are needed) and
#: its readings were noise; at these sizes every one had one, the default sweep taking
#: seconds on two shared cores (measured: docs/sweeps.md, "The page's defaults").
DEFAULT_IMPRESSIONS, DEFAULT_SEEDS = 100_000, 3
#: Parameters the page can vary: grid key -> (label, default values).
PARAMETERS: dict[str, tuple[str, str]] = {
    "n_impressions": ("Impressions per policy and level", "50000, 100000, 200000"),
    "n_segments": ("Number of segments", "2, 4, 6"),
    "batch_size": ("Batch size", "250, 1000"),
    "n_variants": ("Creatives per level", "3, 5"),
    "n_users": ("Audience size", "2000, 5000"),
}
if "world" in ExperimentConfig.__dataclass_fields__:
    PARAMETERS["world.personalization_scale"] = ("Personalization scale (world)", "0, 1, 2")
    PARAMETERS["world.jitter"] = ("Jitter of effect sizes (world)", "0, 0.2")
POLICIES = ("uniform", "epsilon_greedy", "ucb1", "thompson", "lin_ucb", "lin_ts", "mvt_ts")
#: The levels a sweep can compare with the generic one (which every sweep runs: its baseline).
PERSONALIZED_LEVELS = ("segment", "user", "generated")
#: The run form's inputs kept across page switches (each parameter's values are kept too).
FORM_KEYS = (
    "sw-users", "sw-impressions", "sw-seeds", "sw-policies", "sw-levels", "sw-x", "sw-y", "sw-name",
)  # fmt: skip


@dataclass(eq=False)
class _Job:
    """A sweep running in a background thread; written by the thread, read by the page."""

    total: int
    grid_text: str = ""
    name: str | None = None
    done: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    table: pd.DataFrame | None = None
    sweep_id: str | None = None
    error: str | None = None
    finished: bool = False
    stopped: bool = False


def _values(text: str, label: str) -> list:
    """The numbers typed for the parameter labelled ``label`` (messages name it so).

    One number typed twice, or in two spellings (``0.1, 0.10``, ``5000, 5_000``), is refused
    naming both as typed: it would run the same experiment twice.
    """
    typed: list[tuple[str, int | float]] = []  # (as typed, the number)
    for part in text.split(","):
        shown = part.strip()
        part = shown.replace("_", "")
        if not part:
            continue
        try:
            number = float(part)
        except ValueError:
            raise ValueError(
                f"{label}: values must be numbers separated by commas; got {shown!r}."
            ) from None
        value = int(number) if number.is_integer() and "." not in part else number
        # Numbers compare by value, as the grid compares them (1 and 1.0 are one setting);
        # checked here, where the spellings are still known (the grid sees only numbers).
        for first, earlier in typed:
            if earlier == value and first == shown:
                raise ValueError(f"{label} has the value {shown} twice.")
            if earlier == value:
                raise ValueError(
                    f"{label} has one setting twice: {first} and {shown} are both {earlier!r}."
                )
        typed.append((shown, value))
    if not typed:
        raise ValueError(f"{label}: type at least one value.")
    return [value for _, value in typed]


def _interval_over(grid_text: str | None) -> str | None:
    """What each run's intervals cover ("2 seeds × 1 world"), read from the sweep's grid.

    None when the grid cannot be read again (a saved sweep whose input files are gone, or
    one written by another version): the page then says "the replications of each run".
    """
    try:
        plan = parse_grid(tomllib.loads(grid_text or ""))
    except (TypeError, ValueError, KeyError, OSError):
        return None
    return " or ".join(dict.fromkeys(run_interval_over(run.config) for run in plan.runs))


def _work(job: _Job, plan, grid_text: str, root: str) -> None:
    try:
        # Held for the whole sweep: the folder is removed on leaving only once the sweep is
        # saved (a stop or an error keeps it, so the same sweep resumes from its runs).
        with work_folder(root, plan.fingerprint) as work:
            out = work.path
            prepare_folder(out, plan, grid_text, force=True)

            def progress(done: int, total: int) -> None:
                job.done, job.total = done, total

            outcome = run_sweep(
                plan, out, workers=min(2, os.cpu_count() or 1), progress=progress, stop=job.stop
            )
            if outcome.table is None:
                job.stopped = True
            else:
                job.sweep_id = save_sweep(
                    root,
                    grid_text=grid_text,
                    table=outcome.table,
                    # None keeps the name of this grid's identical table if it was saved before.
                    name=job.name,
                    # No `out`: this folder is removed once the sweep is saved, which
                    # then lives in the store alone (sweeps/<id>/).
                    meta=outcome.store_meta(plan, None),
                )
                job.table = outcome.table
                work.saved = True
    except Exception as exc:  # shown on the page; the thread must not die silently
        job.error = f"{type(exc).__name__}: {exc}"
    finally:
        job.finished = True


def _unplayed(levels: tuple[str, ...], policies: tuple[str, ...]) -> str | None:
    """Why no chosen policy plays one of ``levels`` (None when every level has one)."""
    config = ExperimentConfig(levels=levels, policies=policies)
    skipped = set(skipped_pairs(config))
    empty = [lv for lv in levels if all((lv, p) in skipped for p in policies)]
    if not empty:
        return None
    level = empty[0]
    if level == "generated":
        return (
            "No chosen policy plays the generated level (it composes each creative): "
            "add Uniform (A/B/n split) or mvt_ts."
        )
    return (
        f"No chosen policy plays the {level} level: mvt_ts composes "
        "creatives at the generated level only; add a policy that chooses among a pool "
        "(the uplift compares each level with the generic one)."
    )


def _grid_plan(base: dict, typed: dict[str, str]) -> tuple[object, dict]:
    """The sweep of the form: ``base`` settings over the typed values of each parameter.

    Returns the validated plan and the grid as data (kept with the sweep); raises
    ValueError (or TypeError) with the reason for values it cannot run.
    """
    # The fields above by their labels too: a grid point's config error may name them.
    fields = {"n_users": "Audience size", "n_impressions": "Impressions", "n_seeds": "Replications"}
    labels = {**fields, **{key: _title(key) for key in typed}}
    data = {**base, "grid": {key: _values(text, labels[key]) for key, text in typed.items()}}
    # The grid's own messages say `grid.KEY`, as a grid file writes it; here, the labels.
    plan = parse_grid(data, names=labels)
    if len(plan.runs) > APP_MAX_RUNS:
        raise ValueError(
            f"this sweep has {len(plan.runs)} runs; the app runs at most {APP_MAX_RUNS} "
            "(use `python -m simulation sweep` for more)."
        )
    return plan, data


def _plan_text(plan) -> str:
    """What the sweep will run, before it runs: its points, runs and each run's size."""
    config = plan.runs[0].config
    points, runs = len(plan.points), len(plan.runs)
    size = (
        "the grid's impressions"
        if "n_impressions" in plan.keys
        else f"{config.n_impressions:,} impressions"
    )
    return (
        f"This sweep: {points} grid point{'s' * (points != 1)}, {runs} run{'s' * (runs != 1)}, "
        f"each {config.n_seeds} replications of {size} per policy and level (the app runs "
        f"at most {APP_MAX_RUNS})."
    )


def _toml(grid: dict) -> str:
    """The grid as TOML text (kept with the sweep, re-readable by the command line)."""

    def value(v: object) -> str:
        return canonical_json(v)

    lines = [f"{k} = {value(v)}" for k, v in grid.items() if not isinstance(v, dict)]
    for table, content in grid.items():
        if isinstance(content, dict):
            lines += ["", f"[{table}]"] + [f'"{k}" = {value(v)}' for k, v in content.items()]
    return "\n".join(lines) + "\n"


def _run_form(*, running: bool = False) -> None:
    """The sweep's inputs and its Run button (disabled, saying why, while a sweep runs)."""
    c1, c2, c3 = st.columns(3)
    # No min/max on the numbers: the browser would keep its last valid value and show the
    # reason only behind a hover icon; ui.forms.sweep_base checks them and says why below.
    # Every input is kept across page switches (ui.state.keep), as on the Experiment page.
    n_users = c1.number_input("Audience size", step=500, key=state.keep("sw-users", 2_000))
    n_impressions = c2.number_input(
        "Impressions", step=1_000, key=state.keep("sw-impressions", DEFAULT_IMPRESSIONS)
    )
    n_seeds = c3.number_input("Replications", step=1, key=state.keep("sw-seeds", DEFAULT_SEEDS))
    policies = st.multiselect(
        "Policies", POLICIES, format_func=policy_name,
        key=state.keep("sw-policies", ["uniform", "thompson"]),
    )  # fmt: skip
    chosen = st.multiselect(
        "Personalization levels, each compared with the generic level", PERSONALIZED_LEVELS,
        format_func=LEVEL_NAMES.get, key=state.keep("sw-levels", ["segment", "user"]),
    )  # fmt: skip
    base = None
    try:
        base = sweep_base(
            levels=chosen, policies=policies, n_users=n_users, n_impressions=n_impressions,
            n_seeds=n_seeds,
        )  # fmt: skip
    except ValueError as exc:
        st.error(escape_markdown(exc))
    else:
        levels, policies = tuple(base["levels"]), tuple(policies)
        if unplayed := _unplayed(levels, policies):
            st.error(unplayed)  # fixed names only, no user text
            base = None
        elif skipped := skipped_text(ExperimentConfig(levels=levels, policies=policies)):
            st.caption(skipped)
    p1, p2 = st.columns(2)
    keys = list(PARAMETERS)
    x = p1.selectbox("First parameter", keys, key=state.keep("sw-x", keys[1]),
                     format_func=lambda k: PARAMETERS[k][0])  # fmt: skip
    # Values are kept per parameter: switching to another and back finds them as typed.
    x_key = state.keep(f"sw-x-values-{x}", PARAMETERS[x][1])
    x_values = p1.text_input("Its values", key=x_key)
    y_options = ["(none)", *[k for k in keys if k != x]]
    y = p2.selectbox("Second parameter", y_options, key=state.keep("sw-y", "(none)"),
                     format_func=lambda k: PARAMETERS.get(k, (k,))[0])  # fmt: skip
    # No values box until a second parameter is chosen: an empty box there read as a field
    # still to fill in. (Its values, once typed, are kept per parameter as the first's.)
    y_key, y_values = None, ""
    if y != "(none)":
        y_key = state.keep(f"sw-y-values-{y}", PARAMETERS[y][1])
        y_values = p2.text_input("Its values", key=y_key)
    name = st.text_input(
        "Name (optional)", key=state.keep("sw-name", ""),
        placeholder="shown in the list of saved sweeps",
    )  # fmt: skip
    if too_long := _name_error(name):
        st.error(escape_markdown(too_long))
    state.remember(*FORM_KEYS, x_key, *([y_key] if y_key else []))
    plan = data = None
    if base is not None:
        # Checked as the values are typed, so the reason shows next to them before any click.
        try:
            plan, data = _grid_plan(
                base, {x: x_values, y: y_values} if y != "(none)" else {x: x_values}
            )
        except (ValueError, TypeError) as exc:
            st.error(escape_markdown(exc))
        else:
            st.caption(_plan_text(plan))
    if running:
        # The form stays as typed while a sweep runs (it used to vanish at the first change,
        # and the page jumped up); a second sweep waits for this one, which Stop ends.
        st.caption(
            "A sweep is running, on the settings it started with: Stop it, or let it finish, "
            "to start another."
        )
    blocked = plan is None or running or too_long is not None
    if not st.button("Run sweep", type="primary", disabled=blocked) or blocked:
        return
    text = _toml(data)
    job = _Job(total=len(plan.runs), grid_text=text, name=name.strip() or None)
    root = str(resolve_root())
    threading.Thread(target=_work, args=(job, plan, text, root), daemon=True).start()
    st.session_state["sweep-job"] = job


@st.fragment(run_every=1.0)
def _progress() -> None:
    job: _Job | None = st.session_state.get("sweep-job")
    if job is None:
        return
    if job.finished:
        # Done (or stopped): the whole page redraws with the result.
        st.session_state.pop("sweep-job")
        if job.table is not None:
            st.session_state["sweep-table"] = job.table
            st.session_state["sweep-id"] = job.sweep_id
            st.session_state["sweep-over"] = _interval_over(job.grid_text)
        elif job.error:
            st.session_state["sweep-error"] = job.error
        else:
            st.session_state["sweep-error"] = (
                f"Stopped after {job.done} of {job.total} runs; run the same sweep again to "
                "resume from there."
            )
        st.rerun(scope="app")
    # The click sets the event in its callback, before this redraw: the page says
    # "Stopping…" at once and the button cannot be pressed again while the runs in
    # flight are ended (a second or two) rather than "running" until the thread is done.
    stopping = job.stop.is_set()
    text = (
        f"Stopping… ({job.done} of {job.total} runs done and kept; ending the runs in flight)"
        if stopping
        else f"Sweep: {job.done} of {job.total} runs"
    )
    st.progress(job.done / max(job.total, 1), text=text)
    st.button("Stop", key="sw-stop", on_click=job.stop.set, disabled=stopping)


def _name_error(name: str) -> str | None:
    """Why ``name`` cannot be a sweep's name (the command's ``--name`` rule), or None."""
    if len(name) > MAX_NAME:
        return f"The name must be at most {MAX_NAME} characters; got {len(name):,}."
    return None


def _rename(sweep_id: str) -> None:
    """The Rename button's callback: rename, then empty the box (allowed before it is drawn)."""
    try:
        rename_sweep(None, sweep_id, st.session_state["sw-rename"])
    except (LookupError, OSError, TypeError) as exc:
        st.session_state["sw-rename-error"] = str(exc)
    else:
        st.session_state["sw-rename"] = ""
        # A new key for the box of saved sweeps: under its old key, the browser kept showing
        # the old name as the box's text (its list had the new one) until the page reloaded.
        st.session_state["sw-saved-gen"] = st.session_state.get("sw-saved-gen", 0) + 1


def _open_saved() -> None:
    saved = list_sweeps()
    if saved.empty:
        st.info("No saved sweeps yet: run one here or with `python -m simulation sweep`.")
        return

    def label(row) -> str:
        # The grid's keys by the page's labels ("Number of segments", not n_segments); a
        # record without them (saved by hand, or by an older version) shows its id alone.
        keys = ", ".join(_title(k) for k in row.parameters.split(", ") if k)
        return f"{row.name or 'sweep'} ({row.sweep_id}{'; ' * bool(keys)}{keys})"

    labels = {row.sweep_id: label(row) for row in saved.itertuples(index=False)}
    ids = list(labels)
    # The sweep chosen survives the box's new key after a rename (see _rename).
    chosen = st.session_state.get("sw-saved-choice")
    choice = st.selectbox(
        "Saved sweep", ids, index=ids.index(chosen) if chosen in labels else 0,
        format_func=labels.get, key=f"sw-saved-{st.session_state.get('sw-saved-gen', 0)}",
    )  # fmt: skip
    st.session_state["sw-saved-choice"] = choice
    if st.button("Open", key="sw-open"):
        try:
            table, grid_text, _ = load_sweep(None, choice)
        except (LookupError, OSError, ValueError) as exc:
            st.error(escape_markdown(exc))
        else:
            st.session_state["sweep-table"] = table
            st.session_state["sweep-id"] = choice
            st.session_state["sweep-over"] = _interval_over(grid_text)
    # Rename after Open: choosing a sweep and opening it read top to bottom, one under the other.
    r1, r2 = st.columns([4, 1], vertical_alignment="bottom")
    new_name = r1.text_input("New name", key="sw-rename")
    too_long = _name_error(new_name)
    r2.button(
        "Rename", key="sw-rename-button", on_click=_rename, args=(choice,),
        disabled=not new_name.strip() or too_long is not None,
    )  # fmt: skip
    if failed := too_long or st.session_state.pop("sw-rename-error", None):
        st.error(escape_markdown(failed))


def _params(table: pd.DataFrame) -> list[str]:
    start = list(table.columns).index("point_id") + 1
    return list(table.columns[start : list(table.columns).index("world")])


def _show(table: pd.DataFrame, over: str | None = None) -> None:
    params = _params(table)
    st.subheader("Like-for-like uplift over the generic level")
    # A heat map has cells, a line chart points: the caption names what is drawn.
    what = "Each cell and point" if len(params) >= 2 else "Each point"
    st.caption(
        f"{what}: the observed uplift of the same policy at a personalized level against "
        "the generic level, paired replication by replication. Its 95 % interval, over the "
        f"{over or 'replications'} of each run, and the true (expected) uplift are in the "
        "tooltip; where there is no interval, the reason is said."
    )
    c1, c2, c3 = st.columns(3)
    # Like for like: a policy has an uplift only where it also played the generic level
    # (mvt_ts composes creatives at the generated level alone: it is in "each level's best").
    at_generic = set(table.loc[table["level"] == "generic", "policy"])
    policies = [p for p in dict.fromkeys(table["policy"]) if p in at_generic or p == "best"]
    policy = c1.selectbox(
        "Policy", policies, key="sw-show-policy",
        format_func=lambda p: "Each level's best" if p == "best" else policy_name(p),
    )  # fmt: skip
    played = table[(table["policy"] == policy) & (table["level"] != "generic")]
    levels = list(dict.fromkeys(played["level"]))
    level = c2.selectbox("Level", levels, key="sw-show-level", format_func=LEVEL_NAMES.get)
    world = c3.selectbox("World", sorted(table["world"].unique()), key="sw-show-world")
    alone = [policy_name(p) for p in dict.fromkeys(table["policy"]) if p not in policies]
    if alone:
        st.caption(
            f"{', '.join(alone)}: not played at the generic level, so no like-for-like "
            "uplift of its own; it counts in each level's best, and its rows are in the table."
        )
    if level is None:
        st.info("This policy played the generic level only: nothing to compare.")
        return
    titles = {p: _title(p) for p in params}
    if len(params) >= 2:
        h1, h2 = st.columns(2)
        x = h1.selectbox("Across", params, 0, key="sw-hx", format_func=titles.get)
        y = h2.selectbox(
            "Down", [p for p in params if p != x], 0, key="sw-hy", format_func=titles.get
        )
        fixed = _fixed(table, [p for p in params if p not in (x, y)])
        rows = sweep_charts.select_rows(table, fixed=fixed, level=level, policy=policy, world=world)
        m1, m2 = st.columns(2)
        for metric, col in (("ctr", m1), ("roas", m2)):
            chart = sweep_charts.uplift_heatmap(rows, x, y, metric, titles)
            col.altair_chart(chart, width="stretch")
        shown = {g for m in ("ctr", "roas") for g in sweep_charts.interval_gaps(rows, m) if g}
        if shown:
            # The cells say why in a few words; the rule behind each, once, under them.
            st.caption(
                "A cell without an interval says why: "
                + "; ".join(f"({g}): {sweep_charts.GAP_RULES[g]}" for g in sweep_charts.GAP_RULES
                            if g in shown)
                + "."
            )  # fmt: skip
    along = st.selectbox("Along", params, 0, key="sw-along", format_func=titles.get)
    fixed = _fixed(table, [p for p in params if p != along], key="line")
    # The chosen level only, as in the heat maps: the Level box decides what every chart shows.
    rows = sweep_charts.select_rows(table, fixed=fixed, level=level, policy=policy, world=world)
    l1, l2 = st.columns(2)
    for metric, col in (("ctr", l1), ("roas", l2)):
        col.altair_chart(sweep_charts.uplift_lines(rows, along, metric, titles), width="stretch")
        # Next to the chart it explains: a point with no band says why it has none.
        if gap := sweep_charts.gap_caption(rows, along, metric, titles):
            col.caption(escape_markdown(gap))
    shown = rows[rows["level"] != "generic"]
    gaps = [m.upper() for m in ("ctr", "roas") if shown[f"uplift_{m}"].isna().any()]
    st.caption(
        "Lines: observed uplift; bands: its 95 % interval over the replications, clipped to "
        "the chart (with few replications it can span thousands of percent: the tooltip "
        "has its ends)."
        + (
            f" A missing {' and '.join(gaps)} point: no replication there had a usable "
            "pair (a level with no clicks or no sales, where the ratio is undefined); more "
            "impressions fill it in."
            if gaps
            else ""
        )
    )
    with st.expander("The table"):
        st.caption(
            "Observed: what the replications drew; true: expected from the world's response "
            "model, for the same impressions. Uplifts are over the generic level, paired "
            f"replication by replication; the 95 % interval is over the {over or 'replications'} "
            "of each run. The download keeps the command line's column names and codes, with "
            "each point's id and each world's seed."
        )
        uplifts = {h: st.column_config.NumberColumn(h, format="percent")
                   for c, h in UPLIFT_HEADERS.items()
                   if not c.endswith(("_pairs", "_note"))}  # fmt: skip
        st.dataframe(readable_table(table, titles), hide_index=True, column_config=uplifts)
        st.download_button("sweep.csv", table.to_csv(index=False).encode(), "sweep.csv")


def _title(parameter: str) -> str:
    """A grid parameter's readable name; a saved sweep's other keys as they are."""
    return PARAMETERS[parameter][0] if parameter in PARAMETERS else parameter


def _fixed(table: pd.DataFrame, others: list[str], key: str = "heat") -> dict[str, object]:
    fixed = {}
    for p in others:
        fixed[p] = st.selectbox(
            f"Hold {_title(p)} at", list(dict.fromkeys(table[p])), key=f"sw-fix-{key}-{p}"
        )
    return fixed


def _heading(sweep_id: str | None) -> str:
    """The opened sweep by its name, as listed (renamed: the new one), its id after it.

    The id is what ``python -m simulation runs list --sweeps`` prints beside the name.
    """
    if not sweep_id:
        return "Sweep (not saved)"
    saved = list_sweeps()
    names = saved.loc[saved["sweep_id"] == sweep_id, "name"].dropna().tolist()
    name = f"**{escape_markdown(names[0])}**" if names and names[0] else "Unnamed sweep"
    return f"{name} · id {escape_markdown(sweep_id)}"


def render() -> None:
    """Draw the page."""
    st.title("Sweeps")
    st.markdown(
        "When does personalization pay? A sweep runs the experiment at every combination "
        "of the settings you choose and shows how the uplift of per-segment, per-user and "
        "generated creatives changes with them. Big sweeps: `python -m simulation sweep` (on this "
        "machine or a Dask cluster); they are listed here too."
    )
    tab = st.radio("Mode", ["Run a small sweep", "Open a saved sweep"],
                   key=state.keep("sw-mode", "Run a small sweep"), horizontal=True,
                   label_visibility="collapsed")  # fmt: skip
    state.remember("sw-mode")
    running = "sweep-job" in st.session_state
    if tab == "Run a small sweep":
        _run_form(running=running)
        if "sweep-job" in st.session_state:
            _progress()
    elif running:
        _progress()
    else:
        _open_saved()
    if error := st.session_state.pop("sweep-error", None):
        st.warning(escape_markdown(error))
    table = st.session_state.get("sweep-table")
    if table is not None and "sweep-job" not in st.session_state:
        st.caption(_heading(st.session_state.get("sweep-id")))
        _show(table, st.session_state.get("sweep-over"))


render()
