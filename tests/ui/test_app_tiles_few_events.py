"""The best's CTR and ROAS tiles refuse an interval on too few events, as the uplift cells do."""

from __future__ import annotations

import re

import pandas as pd

from simulation.interval_words import tile_help
from simulation.metrics import MIN_UPLIFT_EVENTS
from ui import tables
from ui.fmt import WORD_JOINER


def _shown(body: str) -> str:
    """The text a reader sees in a Markdown body escaped by ``ui.fmt.escape_markdown``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def test_a_tiny_runs_roas_tile_says_too_few_conversions_instead_of_an_interval(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    # 2,000 impressions of a ~1 % CTR: a few dozen clicks and a handful of sales a seed.
    run_small_experiment(at, **{"ex-impressions": 2_000, "ex-objective": "roas"})
    assert not at.exception
    summary = at.session_state["ex-current"]["result"].summary_frame()
    best = tables.best_row(summary, "roas")
    rows = summary[(summary["level"] == best["level"]) & (summary["policy"] == best["policy"])]
    assert rows["conversions"].min() < MIN_UPLIFT_EVENTS  # what this test is about
    roas = next(m for m in at.metric if m.label == "Best ROAS (observed)")
    assert roas.proto.delta == "no interval: few sales"
    assert "95 %" not in roas.proto.delta and roas.value.endswith("×")
    # The tile's short note has its whole rule in the tile's help, from one source.
    assert roas.proto.help == tile_help("roas", "roas")
    assert f'fewer than {MIN_UPLIFT_EVENTS} conversions ("few sales"' in roas.proto.help
    best_caption = next(_shown(c.value) for c in at.caption if c.value.startswith("Best:"))
    assert "Not clearly best: too few conversions for an interval." in best_caption
    # The Results page's tiles follow the same rule.
    at.switch_page("ui/pages/results.py").run()
    assert not at.exception
    roas = next(m for m in at.metric if m.label == "Best ROAS (observed)")
    assert roas.proto.delta == "no interval: few sales"
    # It lacked a help: "few sales" and "not clear" were explained nowhere on the page.
    assert roas.proto.help == tile_help("roas", "roas")
    assert "Not clearly best when" in roas.proto.help
    ctr = next(m for m in at.metric if m.label == "Its CTR (observed)")
    assert ctr.proto.help == tile_help("ctr", "roas") and "Not clearly" not in ctr.proto.help


def test_the_final_metrics_table_refuses_the_same_intervals_and_says_why(
    app, open_page, run_small_experiment
):
    at = open_page(app, "experiment")
    run_small_experiment(at, **{"ex-impressions": 2_000, "ex-objective": "roas"})
    assert not at.exception
    summary = at.session_state["ex-current"]["result"].summary_frame()
    metrics = tables.metrics_table(summary)
    few = summary.groupby(["level", "policy"], sort=False)["conversions"].min()
    assert (few < MIN_UPLIFT_EVENTS).any()  # what this test is about
    # Every (level, policy) with a replication of too few sales shows no ROAS interval.
    for (level, policy), n in few.items():
        row = metrics[
            (metrics["Level"] == tables.LEVEL_NAMES[level])
            & (metrics["Policy"] == tables.policy_name(policy))
        ].iloc[0]
        if n < MIN_UPLIFT_EVENTS:
            assert row["ROAS"].endswith("(no interval: too few conversions)"), row["ROAS"]
            # Every rate over conversions, as the ROAS: "3.33 % (0.00 % – 99.99 %)" before
            # (a cell whose replications drew no interval at all has none to refuse).
            for column in ("Conversion rate", "Cost per conversion"):
                assert " – " not in row[column], row[column]
    captions = [_shown(c.value) for c in at.caption]
    rule = next(c for c in captions if c.startswith("No interval when a replication has fewer"))
    # The rule names the columns it judges, and that regret keeps its interval.
    assert "(ROAS, conversion rate, cost per conversion)" in rule and "Regret" in rule


def test_an_interval_on_enough_events_stands_in_the_table():
    import pandas as pd

    summary = pd.DataFrame(
        {
            "level": ["generic"] * 3, "policy": ["thompson"] * 3, "seed": [0, 1, 2],
            "impressions": [10_000] * 3, "clicks": [100, 110, 95], "conversions": [20, 25, 22],
            "spend": [50.0, 52.0, 49.0], "revenue": [100.0, 120.0, 98.0], "regret": [5.0, 6.0, 4.0],
            "ctr": [0.010, 0.011, 0.0095], "cvr": [0.2, 0.227, 0.23], "roas": [2.0, 2.31, 2.0],
            "cpa": [2.5, 2.08, 2.23],
        }
    )  # fmt: skip
    metrics = tables.metrics_table(summary)
    assert "no interval" not in metrics.loc[0, "ROAS"] and " – " in metrics.loc[0, "ROAS"]
    assert tables.metrics_refusal(metrics) == ""


def test_a_cost_per_conversion_with_a_seed_without_a_sale_is_pooled_over_both_seeds():
    import pandas as pd

    from simulation.metrics import add_rates

    # The auditor's tiny ROAS run: seed 0 had two sales, seed 1 none. "$21.76" (seed 0's
    # alone) under "over 2 seeds" was wrong; both seeds cost $87.06 for two sales.
    summary = add_rates(
        pd.DataFrame(
            {
                "level": ["generic"] * 2, "policy": ["uniform"] * 2, "seed": [0, 1],
                "impressions": [1_000] * 2, "clicks": [30, 25], "conversions": [2, 0],
                "spend": [43.52, 43.54], "revenue": [50.0, 0.0], "regret": [5.0, 6.0],
            }
        )
    )  # fmt: skip
    row = tables.metrics_table(summary).iloc[0]
    assert row["Cost per conversion"] == (
        "$43.53 (total spend / total conversions, no interval: 1 of 2 seeds had no conversion)"
    )
    assert "$21.76" not in row["Cost per conversion"]


def _replications(conversions: list[int], regret: list[float]) -> pd.DataFrame:
    """Three seeds of one (level, policy): plenty of clicks, ``conversions`` sales each."""
    n = len(conversions)
    clicks = [400 + 20 * s for s in range(n)]
    cvr = [c / k for c, k in zip(conversions, clicks, strict=True)]
    spend = [50.0 + s for s in range(n)]
    revenue = [30.0 * c for c in conversions]
    return pd.DataFrame(
        {
            "level": ["generic"] * n, "policy": ["thompson"] * n, "seed": list(range(n)),
            "impressions": [40_000] * n, "clicks": clicks, "conversions": conversions,
            "spend": spend, "revenue": revenue, "regret": regret,
            "ctr": [k / 40_000 for k in clicks], "cvr": cvr,
            "roas": [r / s for r, s in zip(revenue, spend, strict=True)],
            "cpa": [s / c if c else float("nan") for s, c in zip(spend, conversions, strict=True)],
        }
    )  # fmt: skip


def test_conversion_rate_and_cost_per_conversion_follow_the_conversions_rule():
    few = tables.metrics_table(_replications([1, 3, 40], [0.0, 2.0, 70.0])).iloc[0]
    for column in ("ROAS", "Conversion rate", "Cost per conversion"):
        assert few[column].endswith("(no interval: too few conversions)"), few[column]
    # CTR rests on clicks, and there are plenty: its interval stands.
    assert "no interval" not in few["CTR"] and " – " in few["CTR"]
    # Regret is true (expected): its interval over seeds stands, even from 0.
    assert "no interval" not in few["Regret"] and " – " in few["Regret"]
    enough = tables.metrics_table(_replications([38, 41, 40], [5.0, 6.0, 4.0])).iloc[0]
    for column in ("Conversion rate", "Cost per conversion"):
        assert "no interval" not in enough[column] and " – " in enough[column], enough[column]
