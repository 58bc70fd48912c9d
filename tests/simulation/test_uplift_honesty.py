"""The headline's honesty: no reference is a best, the policies are named, one world says so."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.metrics import like_for_like_uplift
from simulation.references import REFERENCE_POLICIES, is_reference
from simulation.store.report import best_row
from simulation.uplift_text import ONE_WORLD_CAVEAT, uplift_headline, world_caveat


def _summary(ctr: dict[tuple[str, str], list[float]], *, worlds: int = 1) -> pd.DataFrame:
    """One row per (level, policy, world, seed) with the given CTR per seed (no noise)."""
    rows = []
    for (level, policy), by_seed in ctr.items():
        for world in range(worlds):
            for seed, rate in enumerate(by_seed):
                n = 10_000
                rows.append(
                    {
                        "level": level, "policy": policy, "world": world, "seed": seed,
                        "impressions": n, "clicks": rate * n, "conversions": rate * n * 0.05,
                        "revenue": rate * n * 2.0, "spend": n * 0.01, "ctr": rate,
                        "roas": rate * 200.0, "expected_ctr": rate,
                        "expected_roas": rate * 200.0,
                    }
                )  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame if worlds > 1 else frame.drop(columns="world")


def test_the_oracle_is_a_reference_and_learners_are_not():
    assert "oracle" in REFERENCE_POLICIES
    assert is_reference("oracle")
    assert not any(map(is_reference, ("thompson", "segment:thompson", "mvt_ts", "uniform")))


def test_an_oracle_with_the_highest_ctr_is_never_the_headlines_best():
    summary = _summary(
        {
            ("generic", "thompson"): [0.010, 0.011, 0.012],
            ("generic", "oracle"): [0.030, 0.031, 0.032],
            ("user", "thompson"): [0.012, 0.013, 0.014],
            ("user", "oracle"): [0.050, 0.051, 0.052],
        }
    )
    uplift = like_for_like_uplift(summary)
    best = uplift[uplift["policy"].str.startswith("best (")]
    assert set(best["policy"]) == {"best (thompson)"}
    assert set(best["baseline"]) == {"generic · best (thompson)"}
    (line,) = uplift_headline(uplift, "ctr")
    assert "Oracle" not in line and "Thompson sampling" in line
    row = best_row(summary, "ctr")
    assert (row["level"], row["policy"]) == ("user", "thompson")


def test_a_level_where_only_the_oracle_ran_has_no_best_row():
    summary = _summary(
        {
            ("generic", "thompson"): [0.010, 0.011, 0.012],
            ("user", "thompson"): [0.012, 0.013, 0.014],
            ("generated", "oracle"): [0.050, 0.051, 0.052],
        }
    )
    uplift = like_for_like_uplift(summary)
    assert set(uplift.loc[uplift["policy"].str.startswith("best ("), "level"]) == {"user"}
    assert len(uplift_headline(uplift, "ctr")) == 1
    assert best_row(summary[summary["policy"] == "oracle"], "ctr") is None


def test_a_saved_table_whose_best_is_the_oracle_gives_no_sentence():
    # Tables saved before the rule may name the oracle as a best: the headline skips them.
    summary = _summary(
        {("generic", "thompson"): [0.010, 0.011, 0.012], ("user", "thompson"): [0.02] * 3}
    )
    uplift = like_for_like_uplift(summary)
    old = uplift.assign(policy=uplift["policy"].str.replace("best (thompson)", "best (oracle)"))
    assert uplift_headline(uplift, "ctr") and not uplift_headline(old, "ctr")


def test_the_sentence_names_one_policy_when_both_levels_used_it():
    summary = _summary(
        {("generic", "thompson"): [0.010, 0.011, 0.012], ("user", "thompson"): [0.02] * 3}
    )
    (line,) = uplift_headline(like_for_like_uplift(summary), "ctr")
    assert line.startswith("Per user ads raised CTR by ")
    assert "over generic ads, both with Thompson sampling (95 % interval" in line
    assert "not like for like" not in line


@pytest.mark.parametrize("observed", [[0.02] * 3, [0.0105, 0.0110, 0.0115]])
def test_the_sentence_names_both_policies_and_says_so_when_they_differ(observed):
    summary = _summary(
        {
            ("generic", "thompson"): [0.010, 0.011, 0.012],
            ("generic", "ucb1"): [0.009, 0.010, 0.011],
            ("user", "thompson"): [0.001, 0.001, 0.001],
            ("user", "lin_ucb"): observed,
        }
    )
    (line,) = uplift_headline(like_for_like_uplift(summary), "ctr")
    assert line.startswith("Per user ads with LinUCB (contextual)")
    assert "generic ads with Thompson sampling" in line
    assert line.endswith("each level's best policy, not like for like.")


def test_the_one_world_caveat_appears_with_one_world_and_not_with_two():
    ctr = {("generic", "thompson"): [0.010, 0.011], ("user", "thompson"): [0.02, 0.021]}
    assert world_caveat(_summary(ctr)) == ONE_WORLD_CAVEAT
    assert world_caveat(_summary(ctr, worlds=2)) is None
    # One sentence, naming both ways to run more worlds.
    assert ONE_WORLD_CAVEAT.count(". ") == 0 and "--worlds" in ONE_WORLD_CAVEAT
    assert "Worlds" in ONE_WORLD_CAVEAT


def test_one_replication_has_no_caveat_about_what_its_interval_covers():
    # One seed in one world draws no interval: the caveat would describe one.
    from simulation.interval_words import metrics_over, one_replication, tiles_over

    one = _summary({("generic", "thompson"): [0.010], ("user", "thompson"): [0.02]})
    assert one_replication(one) and world_caveat(one) is None
    assert "interval" not in tiles_over(one) and metrics_over(one).endswith("no interval")
    # One seed in each of two worlds: the interval is over the world means, drawn.
    two = _summary({("generic", "thompson"): [0.010], ("user", "thompson"): [0.02]}, worlds=2)
    assert not one_replication(two) and "95 % interval" in metrics_over(two)


def test_the_policy_column_names_a_levels_best_as_compared_with_does():
    from simulation.display import policy_name
    from simulation.uplift_text import uplift_table

    summary = _summary(
        {("generic", "epsilon_greedy"): [0.010, 0.011], ("user", "lin_ucb"): [0.02, 0.021]}
    )
    table = uplift_table(like_for_like_uplift(summary), policy_name=policy_name)
    best = table[table["Policy"].str.startswith("best (")]
    assert set(best["Policy"]) == {"best (LinUCB (contextual))"}
    assert set(best["Compared with"]) == {"Generic · best (ε-greedy)"}
