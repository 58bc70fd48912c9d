"""World page: the ground truth of the shared audience, with its mechanisms chart."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from simulation.scenario import audience_of


def test_world_page_lays_the_ground_truth_open(app, open_page):
    at = open_page(app, "world")
    assert at.title[0].value == "World"
    assert not at.dataframe  # nothing is computed before the button
    next(b for b in at.button if b.label == "Lay the world open").click().run()
    assert not at.exception, at.exception
    arms = at.dataframe[0].value
    assert {"Product", "Price ($)", "True CTR", "True conversion rate", "True ROAS"} <= set(
        arms.columns
    )
    assert set(arms["Level"]) == {"Generic (same ads for everyone)", "Per segment", "Per user"}
    assert arms["True CTR"].between(0, 1).all()
    # Tones and offers in words, as every label a marketer reads ("social proof", "10 % off",
    # "no offer"), not the engine's codes; a note after the offer ("(none on finance
    # products, ...)") is kept.
    for column in ("Creative", "Tone", "Offer"):
        assert not arms[column].str.contains(r"social_proof|free_shipping|discount_\d+").any()
    for column in ("Tone", "Offer"):
        assert not arms[column].str.contains("_").any(), set(arms[column])
    assert "none" not in set(arms["Offer"]) and "10 % off" in set(arms["Offer"])
    spreads = at.dataframe[1].value
    assert list(spreads.columns) == [
        "What is compared", "Arms", "Metric", "Best", "Median", "Worst", "Best ÷ median"
    ]  # fmt: skip
    config = at.session_state["world-report"][0]
    names = [p.name for p in audience_of(config)[1].profiles]
    # Segments by name, levels as the other pages call them; no raw "segment 3".
    assert any(n in scope for scope in spreads["What is compared"] for n in names)
    assert not spreads["What is compared"].str.contains(r"segment \d|level ").any()
    assert set(arms["Segment"]) <= {"all", *names}  # the arms' segments by name too
    assert set(spreads["Metric"]) == {"CTR", "Conversions per 1k", "ROAS"}
    # The scope column has a fixed width: sized to its longest scope (about 500 px), it
    # pushed Worst and Best ÷ median past a 1280 px window (about 820 px of page), where
    # the six short columns take about 80 px each.
    columns = json.loads(at.dataframe[1].proto.columns)
    assert columns["What is compared"]["width"] + 6 * 80 <= 820
    (chart,) = at.get("vega_lite_chart")
    spec = chart.proto.spec
    assert '"ctr_lift"' in spec and '"mark"' in spec
    # Every mechanism keeps its label: a row each, no labels dropped for overlap (at a
    # fixed 220 px Vega showed 8 of 15).
    assert '"labelOverlap": false' in spec and '"step": 20' in spec
    # Mechanisms by readable name, no engine key; the default world has no built-in bonus
    # for personalized copy, and its row says it is off rather than measuring nothing.
    (data,) = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
    shown = set(data["Mechanism"])
    assert not shown & {"tone_x_offer", "offer_taste", "greeting_match", "personalized"}
    assert "built-in bonus for personalized copy (off: 0)" in shown
    assert {"tone × offer", "offer × price sensitivity", "greeting × active hours"} <= shown
    # Kept for the session: another rerun does not compute it again.
    report = at.session_state["world-report"]
    at.run()
    assert at.session_state["world-report"] is report


def test_mechanism_names_are_never_cut_and_the_panels_fit_the_page():
    import pandas as pd

    from simulation.display import mechanism_name
    from ui.pages import world

    keys = ["personalized", "interest", "tone_x_offer", "language"]
    frame = pd.DataFrame(
        {
            "level": [lv for lv in ("generic", "segment", "user") for _ in keys],
            "mechanism": keys * 3, "what": "x", "kind": "content", "ctr_lift": 0.01,
            "conversions_lift": 0.0, "click_logit_mean": 0.0, "click_logit_sd": 0.0,
            "conv_logit_mean": 0.0,
        }
    )  # fmt: skip
    spec = world.mechanisms_chart(frame).to_dict()
    axis = spec["spec"]["encoding"]["y"]["axis"]
    longest = max(len(mechanism_name(k, off=True)) for k in keys)
    # Streamlit's 12 px axis labels average under 0.6 em a character: the whole name fits.
    assert axis["labelLimit"] >= 0.6 * 12 * longest * 0.9
    assert spec["resolve"]["scale"]["y"] == "shared"  # the names once, at the left
    # The names and three panels fit the app's content at 1280 px wide (about 820 px).
    width = axis["labelLimit"] + 3 * spec["spec"]["width"] + 2 * spec["spacing"] + 40
    assert width <= 820


def test_the_bonus_is_named_off_only_when_it_adds_nothing_at_every_level():
    import pandas as pd

    from ui.pages.world import mechanism_labels

    def frame(bonus: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "level": ["generic", "segment", "segment"],
                "mechanism": ["personalized", "personalized", "tone_x_offer"],
                "click_logit_mean": [0.0, bonus, 0.1], "click_logit_sd": [0.0, 0.0, 0.2],
                "conv_logit_mean": [0.0, 0.0, 0.0],
            }
        )  # fmt: skip

    assert list(mechanism_labels(frame(0.0))) == [
        "built-in bonus for personalized copy (off: 0)",
        "built-in bonus for personalized copy (off: 0)",
        "tone × offer",
    ]
    # A world built with a bonus (a test world) names it without "off".
    assert list(mechanism_labels(frame(0.3)))[:2] == ["built-in bonus for personalized copy"] * 2


def test_spreads_table_formats_each_metric_in_its_unit():
    import pandas as pd

    from ui.pages.world import spreads_table

    raw = pd.DataFrame(
        {
            "scope": ["level segment: its arms, segment 1", "level generic: its arms, all users",
                      "product space: every catalogue product, one plain creative"],
            "n_arms": [5, 5, 42],
            "metric": ["ctr", "roas", "conversions_per_1k"],
            "best": [0.0123, 2.5, 0.4155], "median": [0.01, 2.0, 0.2266],
            "worst": [0.009, 1.0, 0.1], "best_over_median": [1.23, 1.25, 1.8336],
        }
    )  # fmt: skip
    t = spreads_table(raw, ["Gamers", "Savers"])
    assert list(t["What is compared"]) == [
        "Per segment: its arms, Savers",
        "Generic (same ads for everyone): its arms, all users",
        "product space: every catalogue product, one plain creative",
    ]
    assert list(t["Best"]) == ["1.23 %", "2.50×", "0.42"]
    assert list(t["Best ÷ median"]) == ["1.23×", "1.25×", "1.83×"]
    assert list(t["Arms"]) == [5, 5, 42]


def test_world_page_lays_the_generated_level_open_on_request(app, open_page):
    at = open_page(app, "world")
    at.checkbox(key="world-generated").check()
    next(b for b in at.button if b.label == "Lay the world open").click().run()
    assert not at.exception, at.exception
    assert "Generated level: each user's best composition" in [s.value for s in at.subheader]
    table = at.dataframe[-1].value
    assert list(table.columns[:5]) == [
        "Objective", "Who", "Users", "Best: true CTR", "Random: true CTR",
    ]  # fmt: skip
    assert set(table["Objective"]) == {"clicks", "net value"}
    assert table["Who"].iloc[0] == "all users"
    # The arms of the pool levels are still there, and the generated level is not an arm.
    arms = at.dataframe[0].value
    assert set(arms["Level"]) == {"Generic (same ads for everyone)", "Per segment", "Per user"}
    assert any("different best compositions among the" in c.value or "the same best" in c.value
               for c in at.caption)  # fmt: skip
    # Beside random, random in the viewer's language, and how much of the gap it closes.
    assert "Random in the viewer's language: true CTR" in table.columns
    assert any("in the viewer's language already close" in c.value for c in at.caption)
    # A picture first: best against random, true CTR under clicks and ROAS under net value.
    _mechanisms, compositions = at.get("vega_lite_chart")
    spec = compositions.proto.spec
    assert '"True CTR"' in spec and '"True ROAS"' in spec and '"yOffset"' in spec
    assert "random, viewer's language" in spec
    # Ticked, it stays ticked after a visit to another page.
    at.switch_page("ui/pages/audience.py").run()
    at.switch_page("ui/pages/world.py").run()
    assert at.checkbox(key="world-generated").value
    # Unticked: the report without it (a new one, for the other world).
    at.checkbox(key="world-generated").uncheck()
    next(b for b in at.button if b.label == "Lay the world open").click().run()
    assert "Generated level: each user's best composition" not in [s.value for s in at.subheader]


def test_the_language_s_share_of_the_gap_is_said_per_objective():
    from ui.pages.world import language_share_text

    rows = pd.DataFrame(
        {
            "objective": ["clicks", "clicks", "net value"],
            "scope": ["all", "segment", "all"],
            "true_best_ctr": [0.012, 0.5, 0.011],
            "true_random_ctr": [0.008, 0.1, 0.008],
            "true_random_local_ctr": [0.009, 0.2, 0.009],
            "true_best_roas": [2.0, 9.0, 3.0],
            "true_random_roas": [1.0, 1.0, 1.0],
            "true_random_local_roas": [1.5, 1.0, 1.0],
        }
    )
    text = language_share_text(rows)
    # Clicks read the CTR of all users (25 %, not the segment row); net value the ROAS (0 %).
    assert "Under clicks: random compositions in the viewer's language already close 25 %" in text
    assert "close 0 % of the gap in true ROAS" in text
    # No gap, no share.
    flat = rows.assign(true_best_roas=1.0)
    assert "Under net value: no gap" in language_share_text(flat)


def test_the_compositions_chart_fits_the_page_at_1280_px():
    import pandas as pd

    from ui.pages import world

    names = ["all users", "Tech-leaning shoppers, English, multi-device, value-minded"]
    frame = pd.DataFrame(
        {
            "objective": ["clicks"] * 2 + ["net value"] * 2,
            "segment_name": names * 2,
            **{
                f"true_{key}_{m}": 0.01
                for key in ("best", "random", "random_local")
                for m in ("ctr", "roas")
            },
        }
    )
    spec = world.compositions_chart(frame).to_dict()
    panels = spec["hconcat"]
    axis = panels[0]["encoding"]["y"]["axis"]
    # The longest segment name the audience writes (sixty characters) fits its axis: in
    # Chromium at 1280 px the 58 of "Tech-leaning shoppers, …" took 310 px, under 6 px each...
    assert axis["labelLimit"] >= 6 * 60
    # ... and the names and both panels fit the app's content at 1280 px wide (about 820
    # px; at 260 px a panel the net-value one ran some 60 px past it). Vega-Lite's
    # default concat spacing is 20 px; 40 px for the axis titles and padding, as above.
    width = axis["labelLimit"] + sum(p["width"] for p in panels) + spec.get("spacing", 20) + 40
    assert width <= 820
