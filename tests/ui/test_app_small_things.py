"""Issue #15 point 8: the small things a marketer tripped over."""

from __future__ import annotations

from simulation.population import generate_population, segment_population
from simulation.rng import stream
from ui import charts


def test_language_radio_starts_with_a_choice_selected(app, open_page):
    at = open_page(app, "creatives")
    radio = at.radio(key="cr-language")
    assert radio.value == "own" and radio.index == 0  # not None: something is selected
    # Each variant's caption names its language in words ("· Korean"), as the radio chose.
    assert any(c.value.endswith(("· English", "· Korean")) for c in at.caption)


def test_show_rejected_says_so_when_none_were_rejected_and_marks_rejected_ads(app, open_page):
    at = open_page(app, "creatives")
    at.toggle(key="cr-rejected").set_value(True).run()
    assert not at.exception
    rejected_cards = [e for e in at.error if "Rejected by the guardrails" in e.value]
    infos = [i for i in at.info if "No variant was rejected" in i.value]
    # Either some were rejected (each marked in red, with its rule) or the page says none were.
    assert bool(rejected_cards) != bool(infos)
    if rejected_cards:
        assert any("rejected (marked in red" in c.value for c in at.caption)


def test_segment_legends_name_the_segments():
    population = generate_population(1_000, stream(1, "population"))
    segmentation = segment_population(population, 3, stream(1, "segmentation"))
    spec = charts.active_hours_chart(segmentation.profiles).to_dict()
    data = next(iter(spec["datasets"].values()))
    names = {p.name for p in segmentation.profiles}
    assert {row["Segment"] for row in data} == names
    assert not any(n.startswith("Segment ") for n in names)


def test_pricing_select_has_room(app, open_page):
    at = open_page(app, "experiment")
    # The "More settings" fields sit two to a row (four to a row cut the Pricing names).
    select = at.selectbox(key="ex-pricing")
    assert select.options == ["Per 1,000 impressions (CPM)", "Per click (CPC)"]
    widths = [c.proto.weight for c in at.expander[0].columns]
    assert len(widths) >= 4 and all(w >= 0.5 for w in widths[:4]), widths


def test_the_budget_field_is_off_until_the_cap_is_switched_on(app, open_page):
    at = open_page(app, "experiment")
    budget = next(w for w in at.number_input if w.key == "ex-budget")
    assert budget.disabled
    next(w for w in at.toggle if w.key == "ex-cap").set_value(True)
    at.run()
    assert not next(w for w in at.number_input if w.key == "ex-budget").disabled


def test_every_uploader_names_the_apps_own_size_cap(app, open_page):
    # The label says what the app accepts, and Streamlit's drop zone ("5MB per file") says
    # the same number: it printed the server's ceiling ("400MB per file") under "up to 5 MB".
    import re

    for page, count in (("audience", 1), ("creatives", 2), ("ope", 1)):
        at = open_page(app, page)
        if page == "ope":
            at.radio(key="ope-source").set_value("Upload a log").run()
        uploaders = list(at.file_uploader)
        assert len(uploaders) == count, (page, [u.label for u in uploaders])
        for u in uploaders:
            (label_mb,) = re.findall(r"up to (\d+) MB\)", u.label)
            assert u.proto.max_upload_size_mb == int(label_mb), (page, u.label)
