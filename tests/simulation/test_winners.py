"""Winners with reasons: runner-up, a margin paired by seed, components that differ."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simulation.winners import (
    component_differences,
    no_events_note,
    segment_allocation,
    segment_winners,
    winner_verdict,
)


def _frame(clicks_by_seed: dict[int, list[int]], impressions: int = 1_000) -> pd.DataFrame:
    rows = []
    for seed, clicks in clicks_by_seed.items():
        for arm, c in enumerate(clicks):
            rows.append({"seed": seed, "level": "segment", "policy": "p", "segment": 0,
                         "arm": arm, "impressions": impressions, "clicks": c,
                         "revenue": float(c), "spend": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_runner_up_and_margin_interval_over_seeds():
    # Arm 1 beats arm 0 by 10, 20 and 30 clicks per 1,000 in the three seeds: the margin is
    # the mean 0.02 and its t interval over three seeds is 0.02 ± 4.303 * 0.01 / sqrt(3).
    frame = _frame({0: [10, 20, 0], 1: [10, 30, 0], 2: [10, 40, 0]})
    w = segment_winners(frame).iloc[0]
    assert (w["arm"], w["runner_up"], w["n_seeds"]) == (1, 0, 3)
    half = 4.302652729911275 * 0.01 / np.sqrt(3)
    assert w["margin"] == pytest.approx(0.02)
    assert (w["margin_low"], w["margin_high"]) == pytest.approx((0.02 - half, 0.02 + half))


def test_several_worlds_rank_world_zeros_creatives_only():
    # Arm k is another creative in each world: world 1's arm 2 (60 clicks) must not lift
    # world 0's arm 2 above its arm 1, whose label the table shows.
    world0 = _frame({0: [10, 30, 0], 1: [10, 30, 25]}).assign(world=0)
    world1 = _frame({0: [10, 0, 60], 1: [10, 0, 60]}).assign(world=1)
    w = segment_winners(pd.concat([world0, world1], ignore_index=True)).iloc[0]
    assert (w["arm"], w["runner_up"], w["n_seeds"]) == (1, 2, 2)


def test_a_rarely_shown_arm_is_not_the_winner():
    frame = _frame({0: [10, 30, 5]})
    frame.loc[frame["arm"] == 2, "impressions"] = 10
    w = segment_winners(frame).iloc[0]
    assert (w["arm"], w["runner_up"]) == (1, 0)


def test_only_differing_components_are_named():
    a = SimpleNamespace(product="Tint", category="beauty", tone="playful", offer="none",
                        layout="hero", motif="bottle", greeting=None, language="en",
                        headline="H", cta="Buy")  # fmt: skip
    b = SimpleNamespace(**{**vars(a), "tone": "urgent", "greeting": "morning"})
    assert component_differences(a, b) == [
        ("tone", "playful", "urgent"), ("greeting", "no greeting", "morning")
    ]  # fmt: skip
    # In words, not the studio's codes: the app's table and the report print them.
    c = SimpleNamespace(**{**vars(a), "tone": "social_proof", "offer": "discount_10",
                           "language": "ko"})  # fmt: skip
    assert component_differences(a, c) == [
        ("tone", "playful", "social proof"), ("offer", "no offer", "10 % off"),
        ("language", "English", "Korean"),
    ]  # fmt: skip


def test_segment_allocation_names_each_segments_own_creatives():
    frame = pd.concat([_frame({0: [1, 2, 3]}), _frame({0: [1, 2, 3]}).assign(segment=1)])
    alloc = segment_allocation(frame, ["Night owls", "Early birds"])
    assert set(alloc["Segment"]) == {"Night owls", "Early birds"}
    assert np.allclose(alloc.groupby(["segment", "policy"])["share"].sum(), 1.0)


def test_bad_objective_is_refused():
    with pytest.raises(ValueError, match="`objective` must be 'ctr' or 'roas'"):
        segment_winners(_frame({0: [1, 2]}), "cpa")


def _rows(impressions_clicks: dict[int, list[tuple[int, int]]]) -> pd.DataFrame:
    """Rows from ``{seed: [(impressions, clicks) per arm]}`` (seeds may differ in size)."""
    rows = []
    for seed, arms in impressions_clicks.items():
        for arm, (n, c) in enumerate(arms):
            rows.append({"seed": seed, "level": "segment", "policy": "p", "segment": 0,
                         "arm": arm, "impressions": n, "clicks": c,
                         "revenue": float(c), "spend": n / 1_000})  # fmt: skip
    return pd.DataFrame(rows)


def test_leader_and_margin_use_one_statistic_when_pooling_disagrees():
    # Seed 0 is ten times seed 1. Pooled, arm 0 leads (110 vs 103 clicks per 11,000); per
    # seed, arm 1 leads on average (1.1 % vs 1.0 %). Ranking pooled and averaging the paired
    # per-seed differences made arm 0 the leader with a margin of (0.1 - 0.3) / 2 = -0.1 pp.
    frame = _rows({0: [(10_000, 100), (10_000, 90)], 1: [(1_000, 10), (1_000, 13)]})
    w = segment_winners(frame).iloc[0]
    assert (w["arm"], w["runner_up"], w["n_seeds"]) == (1, 0, 2)
    assert w["margin"] >= 0
    assert w["margin"] == pytest.approx(0.001)
    assert w["ctr"] == pytest.approx(0.011)  # the mean of the seeds' rates, not pooled
    assert w["ctr"] - w["runner_up_ctr"] == pytest.approx(w["margin"])
    assert w["impressions"] == 11_000


@pytest.mark.parametrize("objective", ["ctr", "roas"])
def test_the_leaders_margin_is_never_negative(objective):
    # Seeds of very different sizes, arms with close rates, some arms unshown in a seed:
    # whatever the draws, the leader's margin is the difference of the ranking means.
    rng = np.random.default_rng(20261205)
    for _ in range(200):
        n_seeds, n_arms = rng.integers(2, 6), rng.integers(2, 5)
        sizes = rng.integers(0, 5_000, size=(n_seeds, n_arms))
        clicks = rng.binomial(sizes, 0.01 + 0.002 * rng.random(n_arms))
        frame = _rows({s: list(zip(sizes[s], clicks[s], strict=True)) for s in range(n_seeds)})
        w = segment_winners(frame, objective, min_impressions=1).iloc[0]
        if np.isfinite(w["margin"]):
            assert w["margin"] >= -1e-12
            assert w[objective] - w[f"runner_up_{objective}"] == pytest.approx(w["margin"])


def test_a_seed_without_a_ranked_creative_is_left_out_of_ranking_and_margin():
    # Arm 1 was not shown in seed 2: the ranking and the margin use seeds 0 and 1 only.
    frame = _rows({0: [(1_000, 10), (1_000, 20)], 1: [(1_000, 10), (1_000, 30)],
                   2: [(1_000, 90), (0, 0)]})  # fmt: skip
    w = segment_winners(frame).iloc[0]
    assert (w["arm"], w["runner_up"], w["n_seeds"]) == (1, 0, 2)
    assert w["margin"] == pytest.approx(0.015)


def _ad(product, tone="urgent", offer="none", layout="split", language="en", **more):
    from types import SimpleNamespace

    fields = {"palette": None, "greeting": None, "motif": "cup", "cta": "Go", "headline": "H"}
    return SimpleNamespace(product=product, tone=tone, offer=offer, layout=layout,
                           language=language, **{**fields, **more})  # fmt: skip


def test_creative_labels_add_only_the_components_that_tell_creatives_apart():
    from simulation.winners import creative_labels

    ads = [
        _ad("Smartwatch S2", offer="free_shipping", layout="minimal"),
        _ad("Smartwatch S2", offer="discount_10", layout="split"),
        _ad("Smartwatch S2", offer="free_shipping", layout="badge"),
        _ad("Canvas Sneakers", tone="playful"),
    ]
    assert creative_labels(ads) == [
        "1. Smartwatch S2 · urgent · free shipping · minimal layout",
        "2. Smartwatch S2 · urgent · 10 % off",
        "3. Smartwatch S2 · urgent · free shipping · badge layout",
        "4. Canvas Sneakers · playful",
    ]
    # A label is read by a marketer: the studio's codes in words, as everywhere.
    assert creative_labels([_ad("Mat", tone="social_proof"), _ad("Cup")])[0] == (
        "1. Mat · social proof"
    )
    # Two that differ only in a component the label does not list still read apart.
    same = [_ad("Mat", headline="Hi"), _ad("Mat", headline="Hello")]
    first, second = (label.split(". ", 1)[1] for label in creative_labels(same))
    assert first != second


def test_an_absent_offer_or_greeting_reads_as_no_offer_not_none():
    from simulation.winners import creative_labels

    # Two Linen Totes in one tone: the offer is what tells them apart, so the label names
    # it, and the studio's "none" reads as what it is.
    ads = [_ad("Linen Tote", offer="discount_10"), _ad("Linen Tote", offer="none")]
    assert creative_labels(ads) == [
        "1. Linen Tote · urgent · 10 % off",
        "2. Linen Tote · urgent · no offer",
    ]
    greet = [_ad("Mat", greeting="morning"), _ad("Mat", greeting="none")]
    assert creative_labels(greet)[1] == "2. Mat · urgent · no greeting"
    # A label that needs no offer to be distinct names none.
    assert creative_labels([_ad("Mat", offer="none"), _ad("Cup", offer="none")]) == [
        "1. Mat · urgent",
        "2. Cup · urgent",
    ]


def test_a_korean_creative_label_gives_the_english_name_or_the_name_alone():
    from simulation.winners import creative_labels

    ads = [_ad("스마트워치 S2", language="ko"), _ad("나의 제품", language="ko")]
    assert creative_labels(ads) == [
        "1. 스마트워치 S2 (Smartwatch S2) · urgent",  # the bundled catalogue's name
        # A product of one's own Korean catalogue has no English name: no "(Korean)".
        "2. 나의 제품 · urgent",
    ]
    # An English name given for it is shown beside it; an English ad shows its name alone.
    assert creative_labels(ads[1:], english={"나의 제품": "My Product"}) == [
        "1. 나의 제품 (My Product) · urgent"
    ]
    assert creative_labels([_ad("Smartwatch S2")]) == ["1. Smartwatch S2 · urgent"]


@pytest.mark.parametrize(
    ("objective", "value", "text"),
    [("ctr", 0.00024, "+0.024 pp"), ("ctr", -0.00085, "-0.085 pp"),
     ("roas", 0.12, "+0.120 ROAS"), ("roas", float("nan"), "–")],
)  # fmt: skip
def test_a_margin_reads_in_its_own_unit_never_relative_or_a_multiple(objective, value, text):
    from simulation.winners import difference_text

    assert difference_text(objective, value) == text


def test_a_creative_of_an_own_korean_catalogue_is_labelled_by_its_name(tmp_path):
    # The reported label: a catalogue whose names are Korean gave "텐트 (Korean) · ...".
    import numpy as np

    from creative.audience import Audience
    from creative.catalogue import read_catalogue
    from creative.generate import generate_for_user
    from simulation.winners import creative_labels

    path = tmp_path / "mine.csv"
    path.write_text("name,category,price\n가족용 텐트,outdoors,199\n", encoding="utf-8")
    user = Audience(
        kind="user", audience_id="u", name="u", top_interests=("outdoors",), keywords=(),
        active_hours="evening", language="ko",
    )  # fmt: skip
    ad = generate_for_user(user, np.random.default_rng(0), catalogue=read_catalogue(path))
    assert ad.language == "ko" and ad.product == "가족용 텐트"
    (label,) = creative_labels([ad])
    assert label == f"1. 가족용 텐트 · {ad.tone}"


def _sales(conversions_by_seed: dict[int, list[int]]) -> pd.DataFrame:
    """Rows of a ROAS run from ``{seed: [conversions per arm]}``: $25 a sale, $1 a 1,000."""
    rows = []
    for seed, sales in conversions_by_seed.items():
        for arm, c in enumerate(sales):
            rows.append({"seed": seed, "level": "segment", "policy": "p", "segment": 0,
                         "arm": arm, "impressions": 1_000, "clicks": 20, "conversions": c,
                         "revenue": 25.0 * c, "spend": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_no_sale_for_leader_or_runner_up_is_no_leader_not_a_zero_margin():
    # The auditor's tiny ROAS run: both creatives at 0.00× in every seed; arm order alone
    # made one "Leader (not yet clear)" by a margin of +0.000 ROAS.
    w = segment_winners(_sales({0: [0, 0, 0], 1: [0, 0, 0]}), "roas").iloc[0]
    assert w["no_events"] and w["margin"] == 0
    assert winner_verdict(w["n_seeds"], w["margin_low"], w["no_events"]) == "no events"
    assert no_events_note("roas").startswith("no sales yet for either creative")


@pytest.mark.parametrize(
    ("sales", "objective", "expected"),
    [
        ({0: [1, 0], 1: [0, 0]}, "roas", False),  # one sale is something to rank by
        ({0: [0, 0], 1: [0, 0]}, "ctr", False),  # clicks, not sales, rank by CTR
        ({0: [0, 0, 3], 1: [0, 0, 2]}, "roas", False),
    ],
)
def test_any_event_of_the_objective_leaves_a_leader(sales, objective, expected):
    w = segment_winners(_sales(sales), objective).iloc[0]
    assert bool(w["no_events"]) is expected
    assert winner_verdict(w["n_seeds"], w["margin_low"], w["no_events"]) != "no events"


def test_without_a_conversions_column_revenue_tells_a_sale():
    frame = _sales({0: [0, 0], 1: [0, 0]}).drop(columns="conversions")
    assert segment_winners(frame, "roas").iloc[0]["no_events"]
    clicks = _frame({0: [0, 0], 1: [0, 0]})  # no click either: nothing to rank by CTR
    assert segment_winners(clicks, "ctr").iloc[0]["no_events"]
