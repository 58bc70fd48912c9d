"""Drive the app headless in Chromium and time what a user waits for.

Usage::

    .venv/bin/python bench/app.py            # the default experiment (300,000 impressions)
    .venv/bin/python bench/app.py --quick    # 30,000 impressions, 2 seeds (a few seconds)
    .venv/bin/python bench/app.py --generated  # the click-to-charts of the default experiment
                                               # with the generated level and mvt_ts added:
                                               # its pool levels' early charts and the whole
                                               # run's, in a warm page and in new sessions
    .venv/bin/python bench/app.py --generated --runs 9   # the same, nine runs of each

Starts the app as ``make run`` does (``python -m ui``: adlab's modules and the default
audience preloaded, then ``streamlit run app.py``) on a free local port, its run store in a
temporary directory; opens it with Playwright and Debian's Chromium (``/usr/bin/chromium``,
or ``ADLAB_CHROMIUM``), and prints:

- each page's first render: a fresh browser session opens the page, until the script has
  finished and the page's content is visible (the first page, Audience, also pays the
  server's first imports and building the audience; it is timed again in a new session);
- click-to-charts of the experiment: from the click on **Run experiment** until Vega has
  drawn the four charts (their canvases have a size), and until the script has finished
  (tables, winners, saving the run), three ways: *cold* on a fresh server (the audience and
  creatives are built first), *warm* (the median of three new experiments on a world already
  built by an earlier run) and *repeat* (the same experiment again: served from the cache);
- the same work without the app, measured in this process as the reference:
  ``build_scenario + run_experiment`` (cold) and ``run_experiment`` on a built scenario (warm).
  The ratios app / reference are what carry over between machines.

Every timed click comes after the page has been left quiet (:func:`quiet`, 1.5 s and an
idle main thread): the browser was still drawing the previous run's results for a second or
more after its script ended, and a click then timed that drawing too.

Every timed wait polls inside the page on each animation frame: Playwright's own waits
back off to polling every 500 ms, which added 0.1-0.5 s to the times they measured.

The form is filled as a user fills it; each field is left by taking its focus away (not with
Tab, which lands on a help icon whose tooltip covers the form), and a click on **Run
experiment** that starts no script run within a minute ends the bench with that message.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from simulation import build_scenario, run_experiment  # noqa: E402
from simulation.config import PRESETS  # noqa: E402

CHROMIUM = os.environ.get("ADLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: URL of each page: the default page (Audience) is served at "/".
URLS = {
    "audience": "",
    "creatives": "creatives",
    "experiment": "experiment",
    "results": "results",
    "ope": "ope",
}
PAGES = {
    "audience": ".vega-embed",
    "creatives": '[data-testid="stImage"] img',
    "experiment": '[data-testid="stFormSubmitButton"] button',
    "results": "h1",
    "ope": "h1",
}
FRESH_CHART = '[data-testid="stElementContainer"][data-stale="false"] .vega-embed'
TIMEOUT = 600_000
#: Seconds a click on Run experiment has to start the script before the bench gives up.
_RUN_START_S = 60
# Resolves once the Run button has kept its place for ten animation frames in a row: the
# page's layout after a widget change has settled.
_LAYOUT_STILL_JS = """() => new Promise((resolve) => {
  let last = null;
  let still = 0;
  const look = () => {
    const button = [...document.querySelectorAll('[data-testid="stFormSubmitButton"] button')]
      .find((b) => b.textContent.includes("Run experiment"));
    const top = button ? button.getBoundingClientRect().top : null;
    still = top !== null && top === last ? still + 1 : 0;
    last = top;
    if (still >= 10) resolve(); else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})"""
# Timed waits poll inside the page on every animation frame. Playwright's own waits
# back off to polling every 500 ms, which added 0.1-0.5 s to what they timed.
_VISIBLE_JS = """([selector, nth]) => {
  const found = document.querySelectorAll(selector);
  if (found.length <= nth) return false;
  const box = found[nth].getBoundingClientRect();
  return box.width > 0 && box.height > 0;
}"""
_SETTLED_JS = """() => !!document.querySelector(
  '[data-testid="stApp"][data-test-script-state="notRunning"]')
  && !document.querySelector('[data-testid="stStatusWidget"]')"""
# Notes, from before the click, that the script has started running: a short run (a repeat
# from the cache takes 0.2 s) could start and end before a wait for the "running" state began,
# which then waited forever (seen twice on a loaded machine).
_WATCH_RUN_JS = """() => {
  window.__adlabRan = false;
  const app = document.querySelector('[data-testid="stApp"]');
  const seen = new MutationObserver((records) => {
    if (app.getAttribute("data-test-script-state") === "running"
        || records.some((r) => r.oldValue === "running")) {
      window.__adlabRan = true;
      seen.disconnect();
    }
  });
  seen.observe(app, {attributes: true, attributeOldValue: true,
                     attributeFilter: ["data-test-script-state"]});
}"""
# Resolves when the page's main thread is idle (at the latest after 5 s).
_IDLE_JS = """() => new Promise((resolve) =>
  requestIdleCallback(() => resolve(), {timeout: 5000}))"""
# A chart counts when Vega has drawn it: its canvas has a size.
_CHART_DRAWN_JS = """(nth) => {
  const charts = document.querySelectorAll(
    '[data-testid="stElementContainer"][data-stale="false"] .vega-embed');
  if (charts.length <= nth) return false;
  const canvas = charts[nth].querySelector("canvas, svg");
  return !!canvas && canvas.getBoundingClientRect().width > 0;
}"""


# Waits for a long run in the page itself, checking every _POLL_MS: the live charts' first
# drawing, the pool levels' results shown while the generated level runs (its note and the
# fourth chart) and the final results (the caption and the fourth chart). Each check reads a few
# elements; a Playwright text query from Python 50 times a second took the renderer a third
# of a core, which the run's workers need (the engine ran 3.9 s instead of 3.0 s).
_LONG_RUN_JS = """(pollMs) => new Promise((resolve) => {
  const start = performance.now();
  let live = null;
  let early = null;
  const drawn = (nth) => {
    const charts = document.querySelectorAll(
      '[data-testid="stElementContainer"][data-stale="false"] .vega-embed');
    if (charts.length <= nth) return false;
    const canvas = charts[nth].querySelector("canvas, svg");
    return !!canvas && canvas.getBoundingClientRect().width > 0;
  };
  // Only this run's elements: an earlier run's stay on the page, marked stale, until
  // this one replaces them.
  const has = (selector, pattern) => {
    for (const e of document.querySelectorAll(selector)) {
      const box = e.closest('[data-testid="stElementContainer"]');
      const fresh = !box || box.getAttribute("data-stale") === "false";
      if (fresh && pattern.test(e.textContent)) return true;
    }
    return false;
  };
  const check = () => {
    if (live === null && has("h3", /Live: the (run|generated level) so far/) && drawn(0)) {
      live = performance.now() - start;
    }
    if (early === null && has('[data-testid="stAlert"]', /generated level is still running/)
        && drawn(3)) {
      early = performance.now() - start;
    }
    // An earlier run's results are drawn again, said to be out of date, while this one runs.
    if (has('[data-testid="stCaptionContainer"]', /Simulated in [0-9.]+ s/) && drawn(3)
        && !has('[data-testid="stAlert"]', /out of date/)) {
      resolve([live, early, performance.now() - start]);
    } else {
      setTimeout(check, pollMs);
    }
  };
  check();
})"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server():
    """A fresh app server; yields its URL and how long it took to answer /_stcore/health."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="adlab-bench-") as home:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "ui", "--server.headless", "true",
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, env={**os.environ, "ADLAB_HOME": home}, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                        if r.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.perf_counter() - started > 60:
                    raise SystemExit("the app server did not start")
                time.sleep(0.05)
            yield url, time.perf_counter() - started
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def settle(page: Page) -> None:
    """Wait until the script has finished and the status widget is gone."""
    page.wait_for_function(_SETTLED_JS, polling="raf", timeout=TIMEOUT)


def visible(page: Page, selector: str, nth: int = 0) -> None:
    """Wait until the ``nth`` element matching ``selector`` has a size on screen."""
    page.wait_for_function(_VISIBLE_JS, arg=[selector, nth], polling="raf", timeout=TIMEOUT)


def first_render(browser, url: str, path: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(f"{url}/{URLS[path]}")
    visible(page, PAGES[path])
    settle(page)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def set_number(page: Page, label: str, value: int) -> None:
    """Type ``value`` into the number field ``label`` and leave it, as a user does.

    Left by taking its focus away, not with Tab: Tab from Seeds lands on the Worlds field's
    help icon, whose tooltip then covers the form and took the next click meant for a
    multiselect.
    """
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.blur()


#: Seconds the page is left before a timed click, as a user reads what is on it first.
QUIET_S = 1.5


def quiet(page: Page) -> None:
    """Let the browser finish what it is drawing before a timed click.

    The script's end (:func:`settle`) is not the browser's: the previous run's last charts,
    tables and images were still being drawn for a second or more after it (Chromium at
    one to one and a half cores, sampled every 60 ms; the generated level's views are the
    heaviest), and a click then timed that drawing, on the same two cores as the run, with
    the new run. A user reads the results before running again. Waits ``QUIET_S``, then for
    the page's main thread to be idle.
    """
    time.sleep(QUIET_S)
    page.evaluate(_IDLE_JS)


def click_run(page: Page) -> tuple[float, float, float]:
    """Seconds from the click to the charts and to the end of the script, and the engine's part.

    The engine's part is the run's own clock, which the page prints ("Simulated in 1.2 s").
    The page is left quiet first (:func:`quiet`).
    """
    quiet(page)
    page.evaluate(_WATCH_RUN_JS)
    start = time.perf_counter()
    page.get_by_role("button", name="Run experiment").click()
    # Charts of an earlier run stay on screen (marked stale) until this run replaces them.
    run_started(page)
    page.wait_for_function(_CHART_DRAWN_JS, arg=3, polling="raf", timeout=TIMEOUT)
    charts = time.perf_counter() - start
    settle(page)
    done = time.perf_counter() - start
    # With the generated level the charts above are the pool levels' (drawn early) and the
    # engine's clock is printed only when the generated level ends: on a loaded machine
    # later than Playwright's default 30 s (seen: a fresh server's first generated run).
    caption = page.get_by_text(re.compile(r"Simulated in [0-9.]+ s")).first
    caption.wait_for(timeout=TIMEOUT)
    simulated = float(re.search(r"Simulated in ([0-9.]+) s", caption.inner_text()).group(1))
    return charts, done, simulated


def experiment_page(browser, url: str, impressions: int, seeds: int) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
    page.goto(f"{url}/experiment")
    settle(page)
    set_number(page, "Impressions per policy and level", impressions)
    set_number(page, "Seeds (repeats, for the 95 % bands)", seeds)
    return page


def add_option(page: Page, label: str, option: str) -> None:
    """Add ``option`` (its shown name) to the multiselect labelled ``label``, then leave it.

    Its focus is taken away and the layout left to settle before anything else is clicked:
    a click whose mousedown blurs the box must not find the form moving under it (the app
    keeps the box's height on blur since 2026-12-05; before, the first click on **Run
    experiment** after adding mvt_ts missed the button and the bench waited for a run that
    never started).
    """
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label)
    field = box.locator("input")
    field.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    field.blur()
    box.get_by_text(option).first.wait_for(timeout=TIMEOUT)
    page.evaluate(_LAYOUT_STILL_JS)


def run_started(page: Page) -> None:
    """Wait for the script run the click on **Run experiment** started; fail fast if none.

    The script starts within milliseconds of the click; ``_RUN_START_S`` covers a loaded
    machine. A click that missed the button would otherwise wait ``TIMEOUT`` for nothing.
    """
    try:
        page.wait_for_function(
            "() => window.__adlabRan", polling="raf", timeout=_RUN_START_S * 1000
        )
    except PlaywrightTimeout:
        raise SystemExit(
            f"the click on Run experiment started no run within {_RUN_START_S} s"
        ) from None


#: Milliseconds between looks at the page while a long run is under way.
_POLL_MS = 20


def click_run_long(page: Page) -> tuple[float, float, float, float, float]:
    """Seconds from the click to the live charts, the early and final charts, and the end.

    A run longer than the page's synchronous wait (``ui.runner.SYNC_WAIT``) first shows its
    progress with live charts of the checkpoints tallied so far, then its results; the
    fourth result chart counts as the charts drawn. A run with the generated level shows
    its pool levels' results first (*early*), while the generated level runs. NaN for what
    a run did not show. Also the engine's own clock. The page is left quiet first
    (:func:`quiet`).
    """
    quiet(page)
    page.evaluate(_WATCH_RUN_JS)
    start = time.perf_counter()
    page.get_by_role("button", name="Run experiment").click()
    run_started(page)
    # The page's clock from the moment the wait starts, which follows the click closely.
    offset = time.perf_counter() - start
    live_ms, early_ms, charts_ms = page.evaluate(_LONG_RUN_JS, _POLL_MS)
    live = float("nan") if live_ms is None else offset + live_ms / 1000
    early = float("nan") if early_ms is None else offset + early_ms / 1000
    charts = offset + charts_ms / 1000
    settle(page)
    done = time.perf_counter() - start
    caption = page.get_by_text(re.compile(r"Simulated in [0-9.]+ s")).first.inner_text()
    simulated = float(re.search(r"Simulated in ([0-9.]+) s", caption).group(1))
    return live, early, charts, done, simulated


def generated_page(browser, url: str, impressions: int, seeds: int, run: bool = True) -> Page:
    """The experiment page with the generated level and mvt_ts added (and run, if ``run``)."""
    page = experiment_page(browser, url, impressions, seeds)
    add_option(page, "Personalization levels", "Generated (composed per impression)")
    add_option(page, "Policies", "mvt_ts")
    if run:
        click_run(page)
    return page


def _sizes(n_impressions: int, runs: int) -> list[int]:
    """``runs`` experiment sizes around ``n_impressions``, all different (a repeat is cached)."""
    steps = [0] + [sign * k for k in range(1, runs) for sign in (-1, 1)]
    return [n_impressions + 1_000 * step for step in steps[:runs]]


def generated_main(config, runs: int = 3) -> None:
    """Click-to-charts of ``config`` with the generated level and mvt_ts added (warm).

    Two ways, ``runs`` runs each: *warm browser*, runs one after another in one page that
    has already drawn a tiny run's results (as the default experiment's warm runs above: the
    page's chart code is loaded), and *new session*, each run in a fresh browser session
    opened on the Experiment page (it loads and compiles the chart code, Vega, for its first
    charts: about a second on two busy cores). The first warm run is often the slowest to
    draw (the browser's first charts of a full-size run); more runs make the medians steadier.
    """
    config = config.replace(
        levels=(*config.levels, "generated"), policies=(*config.policies, "mvt_ts")
    )
    scenario = build_scenario(config)
    run_experiment(config, scenario=scenario)
    start = time.perf_counter()
    run_experiment(config, scenario=scenario)
    ref_warm = time.perf_counter() - start
    sizes = _sizes(config.n_impressions, runs)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        with server() as (url, _):
            # Builds the world and the oracle's tables, and loads the page's chart code.
            page = generated_page(browser, url, 1_000, 1)
            set_number(page, "Seeds (repeats, for the 95 % bands)", config.n_seeds)
            warm = []
            # Not the same experiment twice: a repeat would come from the cache.
            for n in sizes:
                set_number(page, "Impressions per policy and level", n)
                warm.append(click_run_long(page))
            page.context.close()
            fresh = []
            for n in (n + 500 for n in sizes):  # none run above (those are 1,000 apart)
                page = generated_page(browser, url, n, config.n_seeds, run=False)
                fresh.append(click_run_long(page))
                page.context.close()
        browser.close()
    what = f"{config.n_impressions:,} impressions, {config.n_seeds} seeds, levels "
    what += f"{', '.join(config.levels)}; policies {', '.join(config.policies)}"
    print(f"adlab app bench, generated level added ({what})")
    print(f"reference: run_experiment {ref_warm:.2f} s (warm)")
    names = (
        "click-to-live-charts",
        "click-to-early-charts (the pool levels)",
        "click-to-final-charts",
        "click-to-finished",
        "  of which the engine",
    )
    for label, done in (("warm browser", warm), ("new session", fresh)):
        print(f"{'measure (' + label + f', median of {runs})':44s} {'seconds':>8s} "
              f"{'x reference':>12s}")  # fmt: skip
        for name, column in zip(names, zip(*done)):
            # Over the runs that showed it (the live charts only for long runs).
            shown = [x for x in column if not np.isnan(x)]
            seconds = float(np.median(shown)) if shown else float("nan")
            print(f"{name:44s} {seconds:8.2f} {seconds / ref_warm:12.2f}")
        print(f"runs, {label} (live / early / final charts / engine): " + "; ".join(
            f"{live:.2f} / {early:.2f} / {final:.2f} / {engine:.2f} s"
            for live, early, final, _, engine in done
        ))  # fmt: skip
        early = [run[1] for run in done]
        within = sum(e < 2.0 for e in early)
        missing = sum(np.isnan(e) for e in early)
        print(
            f"early charts within 2 s, {label}: {within} of {len(early)} runs"
            + (f" ({missing} never showed them before the whole run's)" if missing else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small experiment")
    parser.add_argument(
        "--generated",
        action="store_true",
        help="only the warm click-to-charts with the generated level and mvt_ts added",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="with --generated: runs in the warm page and new sessions (default 3, at most 20)",
    )
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"error: no Chromium at {CHROMIUM} (apt-get install chromium)")
    config = PRESETS["default"]
    if args.quick:
        config = config.replace(n_impressions=30_000, n_seeds=2)
    if args.generated:
        generated_main(config, args.runs)
        return

    start = time.perf_counter()
    scenario = build_scenario(config)
    run_experiment(config, scenario=scenario)
    ref_cold = time.perf_counter() - start
    start = time.perf_counter()
    run_experiment(config, scenario=scenario)
    ref_warm = time.perf_counter() - start

    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        with server() as (url, boot):
            renders = {path: first_render(browser, url, path) for path in PAGES}
            # The first page above also paid the server's imports and the audience build.
            renders["audience, new session"] = first_render(browser, url, "audience")
            page = experiment_page(browser, url, config.n_impressions, config.n_seeds)
            cold = click_run(page)
            repeat = click_run(page)
        with server() as (url, _):
            page = experiment_page(browser, url, 1_000, 1)
            click_run(page)  # builds the world (audience, creatives) with a tiny run
            set_number(page, "Seeds (repeats, for the 95 % bands)", config.n_seeds)
            # New experiments on the built world: the default, then two of (almost) the
            # same size, since a repeat of the same one would come from the cache.
            warm = []
            for n in (config.n_impressions, config.n_impressions - 1_000,
                      config.n_impressions + 1_000):  # fmt: skip
                set_number(page, "Impressions per policy and level", n)
                warm.append(click_run(page))
        browser.close()

    what = f"{config.n_impressions:,} impressions, {config.n_seeds} seeds, "
    what += f"{len(config.policies)} policies, {len(config.levels)} levels"
    print(f"adlab app bench ({what}); server up in {boot:.2f} s")
    print(f"reference: build_scenario + run_experiment {ref_cold:.2f} s (cold), "
          f"run_experiment {ref_warm:.2f} s (warm)")  # fmt: skip
    print(f"{'measure':44s} {'seconds':>8s} {'x reference':>12s}")
    for path, seconds in renders.items():
        rows.append((f"first render: {path}", seconds, None))
    median_warm = tuple(float(np.median(column)) for column in zip(*warm))
    for name, (charts, done, simulated), ref in (
        ("cold", cold, ref_cold),
        ("warm (median of 3)", median_warm, ref_warm),
        ("repeat (cached)", repeat, ref_warm),
    ):
        rows.append((f"click-to-charts, {name}", charts, ref))
        rows.append((f"click-to-finished, {name}", done, ref))
        if name != "repeat (cached)":
            rows.append((f"  of which the engine, {name}", simulated, ref))
    for name, seconds, ref in rows:
        ratio = f"{seconds / ref:12.2f}" if ref else " " * 12
        print(f"{name:44s} {seconds:8.2f} {ratio}")
    print("warm runs (impressions: click-to-charts / engine): " + "; ".join(
        f"{n:,}: {c:.2f} / {e:.2f} s" for n, (c, _, e) in zip(
            (config.n_impressions, config.n_impressions - 1_000, config.n_impressions + 1_000),
            warm,
        )
    ))  # fmt: skip


if __name__ == "__main__":
    main()
