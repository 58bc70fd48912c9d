"""Serve the app: ``python -m ui [streamlit options]`` (what ``make run`` does).

Streamlit runs ``app.py`` only when a browser connects, so the first visitor would
pay for importing adlab (numpy, pandas, scikit-learn, Pillow, Altair: about 1.5 s),
for building the default audience and its creatives, and for loading the engine's
compiled kernels. This launcher does all that before the server starts answering,
then hands over to ``streamlit run app.py`` with the options given (for example
``--server.port 8600``). ``streamlit run app.py`` serves the same app; only the
first visit is slower.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"
_BARE_MODE_LOGGERS = ("caching.cache_data_api", "scriptrunner_utils.script_run_context")


def preload() -> float:
    """Import the pages' modules, build the default world and warm the engine; seconds taken."""
    start = time.perf_counter()
    import streamlit  # noqa: F401  (creates the loggers quieted below)

    # Before the server exists Streamlit warns that there is no runtime or session
    # (when caches are declared and called); expected here, so kept out of the log.
    quiet = [logging.getLogger(f"streamlit.runtime.{name}") for name in _BARE_MODE_LOGGERS]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)
    try:
        import altair  # noqa: F401
        import pandas  # noqa: F401

        from simulation.engine.core import run_experiment
        from ui import cache, charts, forms, runner, state, tables, uploads  # noqa: F401

        # The same cached calls the Audience and Experiment pages make with their
        # defaults (the caches are process-wide, so every session finds them built).
        cache.world(forms.WorldSettings())
        world = cache.scenario(forms.DEFAULT_CONFIG)
        # One batch of the default experiment (not cached, not saved): loads numba's
        # compiled kernels and the audience-wide tables the engine keeps per world.
        config = forms.DEFAULT_CONFIG
        run_experiment(
            config.replace(n_impressions=config.batch_size, n_seeds=1), scenario=world, n_jobs=1
        )
        # The Experiment page's chart specs, built once per process.
        for metric in ("ctr", "roas", "regret"):
            charts.metric_bands_spec(metric)
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Preload, then run ``streamlit run app.py`` with ``argv`` as its options."""
    args = sys.argv[1:] if argv is None else argv
    # Seconds of silence otherwise, and a minute or two on a machine's very first start
    # (numba compiles the engine and caches it beside the sources): say so up front.
    print(
        "adlab: loading (the first start on a machine also compiles the engine: a minute "
        "or two)...",
        file=sys.stderr,
        flush=True,
    )
    seconds = preload()
    print(f"adlab: modules, default world and engine ready in {seconds:.1f} s", file=sys.stderr)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *args]
    cli.main()


if __name__ == "__main__":
    main()
