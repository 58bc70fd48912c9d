"""Every cached call of the app (the only module with ``st.cache_data`` / ``st.cache_resource``).

Keys are frozen, hashable values: :class:`~ui.forms.WorldSettings`,
:class:`~simulation.config.ExperimentConfig`, audiences, template bytes. Objects that are
read-only after construction and costly to copy (populations, scenarios, experiment results,
stored runs) are kept with ``cache_resource``; small picklable values (PNG bytes, frames) with
``cache_data``. Nothing here runs at import.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from creative.audience import Audience
from creative.encode import encode_image
from creative.generate import generate_for_segment, generate_generic
from creative.record import Creative
from creative.render import render
from creative.templates import TemplateSet
from creative.vocabulary import PLACEMENTS
from simulation.composition_truth import (
    composition_outcomes,
    gap_with_floor,
    most_common_best,
    segment_users,
)
from simulation.config import ExperimentConfig
from simulation.engine.core import ExperimentResult, experiment_tables, run_experiment
from simulation.engine.live import LiveSeries
from simulation.population import Population, Segmentation
from simulation.rng import stream
from simulation.scenario import Scenario, audience_of, build_scenario
from simulation.store.run_store import RunStore, StoredRun
from ui.forms import DEFAULT_CONFIG, WorldSettings, world_config
from ui.uploads import UploadError, parse_catalogue_upload, parse_templates_upload

__all__ = [
    "clear_all",
    "creatives_for",
    "experiment",
    "ope_report",
    "prefetch_scenario",
    "preview_png",
    "preview_size",
    "remember_saved_run",
    "run_store",
    "saved_log",
    "saved_run_id",
    "saved_summary",
    "scenario",
    "stored_run",
    "tables",
    "templates",
    "world",
]


@st.cache_resource(max_entries=4, show_spinner="Generating the audience…")
def _audience(seed: int, n_users: int, n_segments: int) -> tuple[Population, Segmentation]:
    return audience_of(DEFAULT_CONFIG.replace(seed=seed, n_users=n_users, n_segments=n_segments))


def world(settings: WorldSettings) -> tuple[Population, Segmentation]:
    """The simulated users and their segments (the same streams as ``build_scenario``).

    Cached on the audience alone: the hidden world's scale changes how users respond, not
    who they are, so a new scale reuses them (the scenario, keyed on the whole world, is
    rebuilt).
    """
    return _audience(settings.seed, settings.n_users, settings.n_segments)


@st.cache_resource(max_entries=8, show_spinner=False)
def templates(data: bytes | None) -> TemplateSet | None:
    """Uploaded copy templates (``None`` for the bundled ones)."""
    return None if data is None else parse_templates_upload("templates.toml", data)


@st.cache_data(max_entries=8, show_spinner=False)
def bundled_templates_misfit(name: str, data: bytes) -> str | None:
    """Why an uploaded catalogue does not fit the bundled templates; None when it does.

    A catalogue accepted under the user's own templates may hold a name only they have
    room for; an experiment with **Use my catalogue** but not **Use my templates** reads it
    against the bundled ones and is refused at its start. Cached on the file's bytes: the
    Creatives page asks on every rerun.
    """
    try:
        parse_catalogue_upload(name, data)
    except UploadError as exc:
        return str(exc)
    return None


def preview_size(placement: str) -> tuple[int, int]:
    """Half-size render of a placement: fast to draw and send, same layout."""
    width, height = PLACEMENTS[placement]
    return (width // 2, height // 2)


@st.cache_data(max_entries=256, show_spinner=False)
def preview_png(creative: Creative, size: tuple[int, int]) -> bytes:
    """PNG bytes of a creative rendered at ``size``."""
    return encode_image(render(creative, size), "png")


@st.cache_data(max_entries=64, show_spinner="Writing creatives…")
def creatives_for(
    seed: int,
    audience: Audience | None,
    n: int,
    *,
    placement: str,
    language: str | None,
    templates_data: bytes | None,
    stream_name: str,
    catalogue_data: bytes | None = None,
) -> tuple[tuple[Creative, ...], tuple[Creative, ...]]:
    """Accepted and rejected variants for a segment (``audience``) or generic (``None``).

    With the default placement, language and templates these are the creatives the
    experiment uses: the random stream is the scenario's. ``catalogue_data`` is an uploaded
    catalogue CSV's bytes (None: the bundled products), as an experiment with
    "Use my catalogue" reads it.
    """
    tpl = templates(templates_data)
    catalogue = (
        None if catalogue_data is None else parse_catalogue_upload("catalogue.csv", catalogue_data)
    )
    kind, *rest = stream_name.split("/")
    # The scenario names a segment's stream by its integer id; the string "3" is another stream.
    rng = stream(seed, "creatives", kind, *(int(r) if kind == "segment" else r for r in rest))
    if audience is None:
        report = generate_generic(
            n, rng, language=language or "en", templates=tpl, placement=placement,
            catalogue=catalogue,
        )  # fmt: skip
    else:
        if language is not None and language != audience.language:
            audience = replace(audience, language=language)
        report = generate_for_segment(
            audience, n, rng, templates=tpl, placement=placement, catalogue=catalogue
        )
    return report.accepted, report.rejected


@st.cache_resource(max_entries=4, show_spinner=False)
def _scenario(world_cfg: ExperimentConfig) -> Scenario:
    if world_cfg.segments_file is not None:  # drawn around the user's segments, not clustered
        return build_scenario(world_cfg)
    # The audience comes from the Audience page's cache: generated and clustered once.
    return build_scenario(
        world_cfg, world=_audience(world_cfg.seed, world_cfg.n_users, world_cfg.n_segments)
    )


def scenario(config: ExperimentConfig) -> Scenario:
    """The world of an experiment, cached on :func:`ui.forms.world_config` only.

    So changing impressions, policies, seeds or the objective reuses the audience and the
    creatives; the key holds the whole ``[world]`` table, so a world of another
    ``personalization_scale`` is built anew, never served from another scale's entry.
    """
    return _scenario(world_config(config))


def gap_table(result: ExperimentResult) -> pd.DataFrame:
    """The run's gap-closed table, with the share from its world's localized floor.

    ``composition_truth.gap_with_floor`` in the run's world (:func:`scenario`, the one
    it served): the floor is drawn once per world and kept in its memo, so a run again
    in the same world, or the Results page after the Experiment page, pays nothing.
    """
    if result.generated is None:
        return result.gap_closed_frame()
    return gap_with_floor(result, scenario(result.config))


@st.cache_data(max_entries=64, show_spinner=False)
def segment_best(
    config: ExperimentConfig, segment: int
) -> tuple[tuple[int, ...], float, float, float]:
    """The segment's best composition and the true outcomes of its users' own best.

    The composition most of the segment's users (``composition_truth.segment_users``) have as
    their best
    under clicks and its share of them, then the mean true CTR and ROAS of each user's own
    best (``simulation.composition_truth``; seconds the first time, so kept).
    """
    world = scenario(config)
    users = segment_users(world, segment)
    combo, share, best = most_common_best(world, users, "ctr")
    ctr, roas = composition_outcomes(world, users, best)
    return tuple(int(i) for i in combo), share, ctr, roas


@st.cache_resource(max_entries=16, show_spinner=False)
def _tables_built(
    world_cfg: ExperimentConfig,
    levels: tuple[str, ...],
    objective: str,
    scenario_id: int,
    _world: Scenario,
    _config: ExperimentConfig,
) -> bool:
    del world_cfg, levels, objective, scenario_id  # the key only
    experiment_tables(_world, _config)  # kept in the scenario's memo
    return True


def tables(config: ExperimentConfig) -> None:
    """Build the tables ``config``'s run reads in its world, once (the exact oracle: seconds).

    A second caller while a build is under way (a click on **Run** during the page's
    prefetch) waits for that build instead of starting another (``st.cache_resource`` holds
    one compute lock per key). The key names the world object itself, so a world rebuilt
    after it left the cache gets its tables again.
    """
    scn = scenario(config)
    levels = tuple(sorted(set(config.levels)))
    _tables_built(world_config(config), levels, config.objective, id(scn), scn, config)


_prefetched: set[tuple] = set()
_prefetch_lock = threading.Lock()


def prefetch_scenario(config: ExperimentConfig) -> None:
    """Start building the world of ``config`` and its tables in a background thread, once.

    The Experiment page calls this when it is drawn, so the audience, the 30 creatives and
    the tables the run reads (with the generated level, its exact oracle: about 3 s on two
    cores) are usually ready by the time **Run experiment** is pressed (the click then
    waits only for the simulation). Once per world, levels and objective. The page stays
    responsive; a click during the build waits for the same build (``st.cache_resource``
    holds one compute lock per key). ``ADLAB_PREFETCH=0`` turns it off (the AppTest suite
    does, to keep its timings to itself).
    """
    if os.environ.get("ADLAB_PREFETCH", "1") == "0":
        return
    key = (world_config(config), tuple(sorted(set(config.levels))), config.objective)
    with _prefetch_lock:
        if key in _prefetched:
            return
        _prefetched.add(key)

    def build() -> None:
        with contextlib.suppress(Exception):  # a failure resurfaces, with its message, on Run
            tables(config)

    threading.Thread(target=build, name="adlab-prefetch", daemon=True).start()


class _Results:
    """A small thread-safe LRU of experiment results keyed by their frozen config."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.items: OrderedDict[ExperimentConfig, ExperimentResult] = OrderedDict()

    def get(self, config: ExperimentConfig) -> ExperimentResult | None:
        with self.lock:
            if config in self.items:
                self.items.move_to_end(config)
            return self.items.get(config)

    def put(self, config: ExperimentConfig, result: ExperimentResult) -> None:
        with self.lock:
            self.items[config] = result
            while len(self.items) > self.size:
                self.items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _results() -> _Results:
    return _Results(size=8)


def experiment(
    config: ExperimentConfig,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    live: LiveSeries | None = None,
    early: Callable[[ExperimentResult], None] | None = None,
) -> ExperimentResult:
    """Run (or recall) the experiment ``config``; the callbacks are not in the key.

    ``early`` is :func:`~simulation.engine.core.run_experiment`'s (never called on a hit).

    Not an ``st.cache_*`` function itself: those record the Streamlit calls made inside (the
    progress bar here) to replay them on a hit, which cannot work for a bar drawn outside.
    The results live in a process-wide LRU held by ``st.cache_resource`` instead.
    """
    cache = _results()
    result = cache.get(config)
    if result is None:
        tables(config)  # or wait for the page's prefetch of them
        # A stopped run raises RunCancelled here and is not cached.
        result = run_experiment(
            config, scenario=scenario(config), progress=progress, stop=stop, live=live,
            early=early,
        )  # fmt: skip
        cache.put(config, result)
    return result


@st.cache_resource(show_spinner=False)
def _saved_runs() -> dict[tuple[str, ExperimentConfig], tuple[int, str]]:
    return {}


def saved_run_id(config: ExperimentConfig, result: ExperimentResult) -> str | None:
    """The id under which this very ``result`` was saved to the current store, if it still is."""
    store = run_store()
    entry = _saved_runs().get((str(store.root), config))
    if entry is None or entry[0] != id(result):
        return None
    try:
        return store.resolve(entry[1])
    except LookupError:  # deleted meanwhile
        return None


def remember_result(config: ExperimentConfig, result: ExperimentResult) -> None:
    """Keep ``result`` as the experiment ``config``'s, as if it had just been run."""
    _results().put(config, result)


def remember_saved_run(config: ExperimentConfig, result: ExperimentResult, run_id: str) -> None:
    """Record that ``result`` of ``config`` was saved as ``run_id`` in the current store."""
    _saved_runs()[(str(run_store().root), config)] = (id(result), run_id)


@st.cache_resource(max_entries=4, show_spinner=False)
def _store_at(root: str | None) -> RunStore:
    return RunStore.open(root)


def run_store() -> RunStore:
    """The run store at ``$ADLAB_HOME`` (else ``~/.adlab``), opened once per location."""
    return _store_at(os.environ.get("ADLAB_HOME") or None)


@st.cache_resource(max_entries=32, show_spinner=False)
def stored_run(root: str, run_id: str) -> StoredRun:
    """A saved run (runs never change once saved; a deleted one is dropped by ``clear_all``)."""
    del root  # part of the key only
    return run_store().load(run_id)


@st.cache_resource(max_entries=4096, show_spinner=False)
def saved_summary(root: str, run_id: str) -> tuple[Mapping[str, Any], pd.DataFrame]:
    """A saved run's metadata and summary alone: the Results page lists one per saved run.

    Kept apart from :func:`stored_run` (32 whole runs): a store of more runs than that
    would read every run in full again on each redraw of the list.
    """
    del root  # part of the key only
    return run_store().load_summary(run_id)


def clear_all() -> None:
    """Forget every cached value (tests; the Results page after a delete)."""
    st.cache_data.clear()
    st.cache_resource.clear()


@st.cache_resource(max_entries=4, show_spinner="Reading the log…")
def saved_log(root: str, run_id: str, level: str, logging_policy: str | None):
    """The rows of a saved run's impression log for one level (and logging policy)."""
    from simulation.ope.logs import read_log

    run = stored_run(root, run_id)
    if run.log_path is None:
        raise ValueError(f"run {run_id} has no impression-level log.")
    return read_log(run.log_path, level=level, policy=logging_policy)


@st.cache_data(max_entries=32, show_spinner="Estimating…")
def ope_report(
    source: tuple,
    policy: str,
    estimators: tuple[str, ...],
    train_fraction: float,
    n_bootstrap: int,
    seed: int,
    _log=None,
):
    """Off-policy estimates of ``policy`` on a log (``source`` names the log; ``_log`` is it).

    Reuses :func:`simulation.ope.evaluate.evaluate_policy`, the command line's evaluation.
    """
    import numpy as np

    from simulation.ope.evaluate import evaluate_policy
    from simulation.policies import make_policy

    del source  # the cache key of ``_log``
    return evaluate_policy(
        _log,
        make_policy(policy),
        policy_name=policy,
        estimators=estimators,
        train_fraction=train_fraction,
        rng=np.random.default_rng(seed),
        n_bootstrap=n_bootstrap,
    )
