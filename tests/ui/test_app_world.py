"""World page: the ground truth of the shared audience, with its mechanisms chart."""

from __future__ import annotations


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
    spreads = at.dataframe[1].value
    assert (spreads["best"] >= spreads["median"]).all()
    (chart,) = at.get("vega_lite_chart")
    spec = chart.proto.spec
    assert '"ctr_lift"' in spec and '"mark"' in spec
    # Kept for the session: another rerun does not compute it again.
    report = at.session_state["world-report"]
    at.run()
    assert at.session_state["world-report"] is report
