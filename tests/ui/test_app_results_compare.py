"""Results you can compare: names, labels that differ, A − B, one palette, robust axes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulation.config import ExperimentConfig
from simulation.display import PALETTE
from simulation.engine.core import run_experiment
from simulation.store.run_store import RunStore
from ui import charts, tables
from ui.fmt import escape_markdown

BASE = ExperimentConfig(
    n_users=1_000, n_segments=2, n_impressions=3_000, batch_size=500, n_seeds=3,
    policies=("uniform", "thompson"), n_variants=2, n_checkpoints=6,
)  # fmt: skip


@pytest.fixture(scope="module")
def two_results():
    """Two runs differing in budget and delay, on the same seeds."""
    a = BASE.replace(budget=500.0)
    b = BASE.replace(conversion_delay=1_000)
    return (a, run_experiment(a)), (b, run_experiment(b))


def _save(home, config, result, name=None):
    return RunStore.open(home).save(
        config=config.to_dict(), seed=config.seed, summary=result.summary_frame(),
        timeseries=result.timeseries_frame(), source="cli", name=name,
        tables={"allocation": result.allocation_frame(), "segments": result.segment_frame(),
                "uplift": result.uplift_frame()},
    )  # fmt: skip


def test_cli_runs_without_names_are_named_and_compared(app, open_page, adlab_home, two_results):
    (ca, ra), (cb, rb) = two_results
    id_a = _save(adlab_home, ca, ra)
    id_b = _save(adlab_home, cb, rb)
    at = open_page(app, "results")
    assert not at.exception
    saved = at.dataframe[0].value
    assert "None" not in saved["Name"].tolist()
    assert saved["Name"].str.contains("impressions").all()
    assert saved["Best policy and level"].str.contains(", ").all()
    sel = at.selectbox(key="rs-a")
    assert len(sel.options) == 2 and all("None" not in o for o in sel.options)
    at.selectbox(key="rs-a").set_value(id_a)
    at.selectbox(key="rs-b").set_value(id_b).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    # The labels are the settings that differ, and only those.
    assert escape_markdown("budget $500 · delay 0") in text
    assert escape_markdown("no spend cap · delay 1,000") in text
    diff = next(d.value for d in at.dataframe if "CTR A − B" in d.value.columns)
    assert diff.iloc[0]["Level"] == "Best of A − best of B"
    assert {"ROAS A − B", "Seeds"} <= set(diff.columns)
    assert (diff["Seeds"] == BASE.n_seeds).all()  # paired seed by seed
    # Budget and delay change what the policies do, not whom they meet: still paired.
    assert any(c.value.startswith("Paired:") for c in at.caption)
    assert any("paired differences" in m.value for m in at.markdown)
    # Side by side without cut columns: one full-width table with CTR right after the names
    # (wrapped to the window: tests/ui/test_tables_fit.py).
    both = next(t.value for t in at.table if "Run" in t.value.columns)
    assert list(both.columns[:5]) == ["Run", "Level", "Policy", "CTR", "ROAS"]
    assert sorted(set(both["Run"])) == ["A", "B"]
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download report (HTML)") == 1
    # No yardstick of the old kind: the A − B table is of observed metrics only.
    assert not any("uplift" in c.lower() for c in diff.columns)


def test_runs_on_different_audiences_are_compared_unpaired(app, open_page, adlab_home):
    # The same seeds on another audience meet other visitors: replication r of A and r of B
    # are independent, so A − B must be Welch's over each run's replications, said plainly.
    ca, cb = BASE, BASE.replace(n_users=2_000, n_segments=3, n_seeds=2)
    id_a = _save(adlab_home, ca, run_experiment(ca))
    id_b = _save(adlab_home, cb, run_experiment(cb))
    at = open_page(app, "results")
    at.selectbox(key="rs-a").set_value(id_a)
    at.selectbox(key="rs-b").set_value(id_b).run()
    assert not at.exception
    assert not any("paired differences" in m.value for m in at.markdown)
    assert any("differences of independent runs" in m.value for m in at.markdown)
    said = next(c.value for c in at.caption if c.value.startswith("Not paired"))
    assert "audience size" in said and "number of segments" in said and "Welch" in said
    assert not any("replications agree on" in c.value for c in at.caption)
    diff = next(d.value for d in at.dataframe if "CTR A − B" in d.value.columns)
    # Welch: the count is the smaller run's replications, not pairs joined by seed.
    assert (diff["Seeds"] == 2).all()


def test_the_stored_uplift_table_is_what_the_page_shows(
    app, open_page, adlab_home, two_results, shown_tables
):
    (ca, ra), _ = two_results
    stored = ra.uplift_frame().assign(observed=0.4321, ci_low=0.4, ci_high=0.5, interval_note="")
    RunStore.open(adlab_home).save(
        config=ca.to_dict(), seed=ca.seed, summary=ra.summary_frame(),
        timeseries=ra.timeseries_frame(), source="cli", tables={"uplift": stored},
    )  # fmt: skip
    at = open_page(app, "results")
    assert not at.exception
    shown = next(t for t in shown_tables(at) if "True (expected)" in t.columns)
    assert (shown["Observed (95 % interval)"] == "+43.2 % (+40.0 % – +50.0 %)").all()
    headline = next(m.value for m in at.markdown if m.value.startswith("**Observed**"))
    assert "raised CTR by 43" in headline  # the stored observed values, never the truth


def test_the_a_minus_b_view_pairs_runs_with_several_worlds(two_results):
    # A run over two worlds has two rows per seed: A − B pairs (world, seed), not seed.
    config = BASE.replace(n_worlds=2, n_seeds=2)
    summary = run_experiment(config).summary_frame()
    diff = tables.difference_table(summary, summary, paired=True)
    assert (diff["Seeds"] == 4).all()
    assert diff["CTR A − B"].str.startswith("+0.000 pp").all()


def test_paired_difference_is_per_seed_with_a_t_interval():
    import pandas as pd

    a = pd.DataFrame({"seed": [0, 1, 2], "ctr": [0.03, 0.04, 0.05]})
    b = pd.DataFrame({"seed": [2, 0, 1], "ctr": [0.04, 0.02, 0.03]})  # shuffled: joined by seed
    mean, low, high, n = tables.paired_difference(a, b, "ctr")
    assert n == 3 and mean == pytest.approx(0.01) and (low, high) == pytest.approx((0.01, 0.01))
    # Unpaired (different seeds): Welch's interval, wider than zero here.
    mean, low, high, n = tables.paired_difference(a, b, "ctr", paired=False)
    assert mean == pytest.approx(0.01) and low < 0.01 < high


def test_with_several_worlds_a_difference_is_over_world_means():
    import pandas as pd

    # The runs differ by 0.01 in world 0 and by 0.03 in world 1, identically in every seed.
    a = pd.DataFrame({"world": [0, 0, 1, 1], "seed": [0, 1, 0, 1],
                      "ctr": [0.03, 0.04, 0.05, 0.06]})  # fmt: skip
    b = a.assign(ctr=[0.02, 0.03, 0.02, 0.03])
    mean, low, high, n = tables.paired_difference(a, b, "ctr")
    half = 12.706204736174707 * np.std([0.01, 0.03], ddof=1) / np.sqrt(2)
    assert n == 4 and mean == pytest.approx(0.02)
    assert (low, high) == pytest.approx((0.02 - half, 0.02 + half))
    # Unpaired: Welch's over each run's two world means, not its four replications.
    mean, low, high, n = tables.paired_difference(a, b, "ctr", paired=False)
    assert n == 2 and mean == pytest.approx(0.02)


def test_the_chart_and_the_headline_name_the_same_best(two_results):
    (ca, ra), (cb, rb) = two_results
    best = {}
    for tag, (config, result) in (("A", (ca, ra)), ("B", (cb, rb))):
        row = tables.best_row(result.summary_frame(), config.objective)
        best[tag] = (row["level"], row["policy"])
    series = {"A": ra.timeseries_frame(), "B": rb.timeseries_frame()}
    for metric in ("ctr", "roas"):
        spec = charts.compare_chart(series, metric, best).to_dict()
        data = next(iter(spec["datasets"].values()))
        runs = sorted({row["Run"] for row in data})
        for tag in ("A", "B"):
            name = tables.best_label(pd_row(best[tag]))
            assert f"{tag}: {name}" in runs, (metric, runs)
        # Rates start after the first 5 % of impressions.
        assert min(row["step"] for row in data) >= 0.05 * BASE.n_impressions
        assert spec["layer"][0]["encoding"]["color"]["scale"]["range"] == list(PALETTE)


def pd_row(level_policy):
    import pandas as pd

    return pd.Series({"level": level_policy[0], "policy": level_policy[1]})


def test_one_palette_of_distinct_colours_in_every_chart():
    # Distinct: every pair differs clearly in RGB (the two near-identical blues are gone).
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in PALETTE], dtype=float)
    dist = np.sqrt(((rgb[:, None] - rgb[None]) ** 2).sum(-1))
    assert dist[np.triu_indices(len(PALETTE), 1)].min() > 60
    # Every colour encoding in the chart module takes the palette's scale (or, for the
    # interest heat map's quantity, a sequential scheme).
    source = Path(charts.__file__).read_text(encoding="utf-8")
    calls = _calls(source, "alt.Color(")
    assert len(calls) >= 6
    for call in calls:
        assert "colour_scale(" in call or "scheme=" in call, call


def _calls(source: str, opener: str) -> list[str]:
    """The text of every ``opener ...)`` call, parentheses balanced."""
    out = []
    start = source.find(opener)
    while start >= 0:
        depth, i = 0, start + len(opener) - 1
        while True:
            depth += {"(": 1, ")": -1}.get(source[i], 0)
            if depth == 0:
                break
            i += 1
        out.append(source[start : i + 1])
        start = source.find(opener, i)
    return out


def test_robust_domain_ignores_early_wide_bands():
    from simulation.display import robust_domain

    means = np.array([1.0, 1.1, 1.2])
    lows, highs = np.array([-5.0, 0.9, 1.0]), np.array([9.0, 1.3, 1.4])
    low, high = robust_domain(means, lows, highs)
    assert low == pytest.approx(0.7) and high == pytest.approx(1.5)  # ±1.5 × the spread 0.2
    assert robust_domain(np.array([np.nan]), lows, highs) is None


def test_report_download_holds_the_runs_numbers(app, open_page, adlab_home, two_results):
    from ui.pages.results import report_html

    (ca, ra), _ = two_results
    run_id = _save(adlab_home, ca, ra, name="spring launch")
    open_page(app, "results")
    page = report_html(run_id).decode()
    best = tables.best_row(ra.summary_frame(), "ctr")
    assert f"{100 * best['ctr']:.2f} %" in page and "spring launch" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    json.dumps(page)  # plain text
