"""bench/app.py, the app timing benchmark: runs end to end; its form filling runs with one click."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]


def test_app_bench_quick_prints_every_timing(browser_type_launch_args):
    # browser_type_launch_args (conftest) skips, or fails in CI, without Chromium.
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "app.py"), "--quick"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    out = result.stdout
    for page in ("audience", "creatives", "experiment", "results", "ope"):
        assert f"first render: {page}" in out
    for row in (
        "click-to-charts, cold",
        "click-to-charts, warm (median of 3)",
        "of which the engine, warm",
        "click-to-charts, repeat (cached)",
        "warm runs (impressions",
    ):
        assert row in out


def _bench_app():
    spec = importlib.util.spec_from_file_location("bench_app", ROOT / "bench" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")
def test_app_bench_fills_the_form_and_one_click_runs_it(page: Page, app_url: str):
    # The path `bench/app.py --generated` takes: two numbers, then the generated level and
    # mvt_ts added by typing, then Run experiment. It used to leave the Seeds field with Tab
    # onto the Worlds help icon (whose tooltip took the multiselect's click) and to click
    # Run with the policies box still focused (the click missed; the bench waited 600 s).
    bench = _bench_app()
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{app_url}/experiment")
    bench.settle(page)
    bench.set_number(page, "Impressions per policy and level", 1_000)
    bench.set_number(page, "Seeds (repeats, for the 95 % bands)", 1)
    # Leaving a number field puts no tooltip over the form and focuses nothing.
    expect(page.locator('[data-testid="stTooltipContent"]')).to_have_count(0)
    assert page.evaluate("() => document.activeElement === document.body")
    bench.add_option(page, "Personalization levels", "Generated (composed per impression)")
    bench.add_option(page, "Policies", "mvt_ts")
    assert page.evaluate("() => document.activeElement === document.body")
    charts, done, simulated = bench.click_run(page)
    assert 0 < charts <= done
    assert simulated > 0


def test_generated_bench_runs_are_all_different_experiments():
    # A repeat of an experiment comes from the app's cache: every timed run must be new,
    # in the warm page and in the new sessions alike.
    bench = _bench_app()
    for runs in (1, 3, 9, 20):
        sizes = bench._sizes(300_000, runs)
        assert sizes[0] == 300_000 and len(sizes) == runs == len(set(sizes))
        assert not {n + 500 for n in sizes} & set(sizes)


@pytest.mark.parametrize("runs", ["0", "21"])
def test_generated_bench_refuses_runs_out_of_range(runs):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "app.py"), "--generated", "--runs", runs],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--runs must be between 1 and 20" in result.stderr
