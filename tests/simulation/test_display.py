"""Axis ticks and policy names shared by the app and the HTML report."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from simulation.display import component_name, nice_ticks, policy_name, short_policy_name


def _is_round(step: float) -> bool:
    mantissa = step / 10.0 ** np.floor(np.log10(step))
    return any(np.isclose(mantissa, m) for m in (1.0, 2.0, 5.0, 10.0))


def test_ticks_are_round_values_inside_the_range():
    # A CTR axis from 0.15 % to 2.31 %: 0.5 %, 1 %, 1.5 %, 2 % (not 0.15, 0.69, 1.23 ...).
    assert nice_ticks(0.0015, 0.0231).tolist() == [0.005, 0.01, 0.015, 0.02]
    assert nice_ticks(500, 3000, 4).tolist() == [1000, 2000, 3000]
    assert nice_ticks(0.0, 32.35).tolist() == [0, 10, 20, 30]
    assert not np.signbit(nice_ticks(0.0, 1.0)).any()  # no "-0" tick


@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    span=st.floats(1e-6, 1e6, allow_nan=False),
    target=st.integers(2, 8),
)
def test_ticks_stay_in_range_evenly_spaced_on_a_round_step(low, span, target):
    high = low + span
    ticks = nice_ticks(low, high, target)
    assert 2 <= ticks.size <= target
    tol = 1e-9 * max(abs(low), abs(high), span)
    assert ticks[0] >= low - tol and ticks[-1] <= high + tol
    steps = np.diff(ticks)
    if ticks.size > 2:
        assert np.allclose(steps, steps[0], rtol=1e-6)
        assert _is_round(steps[0])


def test_policy_names_read_as_in_the_app():
    assert policy_name("lin_ucb") == "LinUCB (contextual)"
    assert policy_name("segment:thompson") == "Thompson sampling per segment"
    # The generated level's learner reads as a name, its spec kept for the command line.
    assert policy_name("mvt_ts") == "Multivariate Thompson (mvt_ts)"


def test_policy_names_show_a_specs_settings():
    assert policy_name("epsilon_greedy(epsilon=0.05)") == "ε-greedy (epsilon=0.05)"
    # A name that has brackets takes the settings in them, not a second pair.
    assert policy_name("lin_ucb(alpha=0.3)") == "LinUCB (contextual, alpha=0.3)"
    assert (
        policy_name("segment:thompson(prior_alpha=2, prior_beta=3)")
        == "Thompson sampling (prior_alpha=2, prior_beta=3) per segment"
    )
    assert short_policy_name("segment:lin_ucb(alpha=0.3)") == "LinUCB (alpha=0.3) per segment"
    assert short_policy_name("ucb1") == "UCB1"
    # Text that names no known policy is shown as written.
    assert policy_name("bandit9(x=1)") == "bandit9(x=1)"


def test_components_read_as_a_marketer_names_them():
    assert component_name("product", "home:Cotton Bedding Set") == "Cotton Bedding Set (home)"
    assert component_name("cta", "cta0") == "call to action 1"
    assert component_name("offer", "free_shipping") == "free shipping"
    assert component_name("tone", "premium") == "premium"
    assert component_name("language", "ko") == "Korean"
    assert component_name("tone", "social_proof") == "social proof"
    # An absent greeting, as an absent offer: "greeting | morning | none" named no value.
    assert component_name("greeting", "none") == "no greeting"
    assert component_name("greeting", "morning") == "morning"


def test_every_offer_reads_in_words_from_one_mapping():
    from creative.vocabulary import OFFER_DISCOUNT, OFFERS
    from simulation.display import OFFER_NAMES

    assert set(OFFER_NAMES) == set(OFFERS)  # every offer the studio can make, and no other
    words = {offer: component_name("offer", offer) for offer in OFFERS}
    assert words["discount_10"] == "10 % off" and words["none"] == "no offer"
    assert len(set(words.values())) == len(OFFERS)  # no two offers read alike
    for offer, text in words.items():
        assert "_" not in text and text != offer
        # A discount's words say the share the world gives away (creative.vocabulary).
        if offer.startswith("discount_"):
            assert text == f"{round(100 * OFFER_DISCOUNT[offer])} % off"


def test_the_app_and_the_studio_share_one_word_mapping():
    # One mapping, not two copies that can drift: the studio's contact sheets and the app's
    # labels name a code alike because they call the same function on the same table.
    import creative.vocabulary as vocabulary
    import simulation.display as display

    assert display.component_name is vocabulary.component_name
    assert display.OFFER_NAMES is vocabulary.OFFER_NAMES
    assert set(vocabulary.LANGUAGE_NAMES) == set(vocabulary.LANGUAGES)


def test_each_context_column_is_described_by_what_the_engine_puts_there():
    from simulation.config import ExperimentConfig
    from simulation.display import context_feature_meanings
    from simulation.population import INTERESTS, N_USER_FEATURES
    from simulation.scenario import build_scenario

    scenario = build_scenario(ExperimentConfig(n_users=300, n_segments=3))
    users = np.arange(300)
    x = scenario.contexts(users)
    names = ("A", "B", "C")
    meanings = context_feature_meanings(3, x.shape[1], names)
    assert len(meanings) == x.shape[1] == 3 + N_USER_FEATURES
    pop, labels = scenario.population, scenario.segmentation.labels
    # Each description is checked against the column it names, on the engine's own contexts.
    expected = {
        "1 if in segment 1 (B), else 0": labels == 1,
        "1 if browsing mostly on a phone, else 0": pop.mobile,
        "1 if reading Korean, 0 if English": pop.language == 1,
        "1 if aged 25-34, else 0": pop.age_band == 1,
        "price sensitivity, 0 to 1 (1: a deal-seeker)": pop.price_sensitivity,
        "share of activity in the night, 0 to 1": pop.hours[:, 3],
        f"1 if interested in {INTERESTS[5]}, else 0": pop.interests[:, 5],
    }
    for meaning, values in expected.items():
        column = meanings.index(meaning)
        assert np.allclose(x[:, column], np.asarray(values, dtype=float)), meaning
    assert len(set(meanings)) == len(meanings)  # no two columns read the same


def test_the_generated_layout_is_described_and_a_foreign_one_is_not():
    from simulation.display import context_feature_meanings
    from simulation.population import INTERESTS, N_USER_FEATURES

    n = 2 + N_USER_FEATURES
    generated = context_feature_meanings(2, n + 2 * len(INTERESTS) + 1)
    assert generated[-1] == "always 1 (a constant)"
    assert generated[0] == "1 if in segment 0, else 0"  # no names given: the number alone
    assert context_feature_meanings(2, n + 1) is None  # an uploaded log's own columns
    # With the products, the block of searches naming them, as the engine lays it out.
    from simulation.config import ExperimentConfig
    from simulation.engine.generated import generated_contexts
    from simulation.scenario import build_scenario

    sc = build_scenario(ExperimentConfig(n_users=300, n_segments=2, levels=("generated",),
                                         policies=("uniform",)))  # fmt: skip
    names = tuple(p.split(":", 1)[1] for p in sc.levels["generated"].space.level_names[0])
    x = generated_contexts(sc, np.arange(300))
    meanings = context_feature_meanings(2, x.shape[1], products=names)
    assert meanings is not None and meanings[-1] == "always 1 (a constant)"
    j = meanings.index("1 if a recent search named the Cat Tree Tower, else 0")
    cat_tree = (
        sc.population.keywords
        == sc.levels["generated"].product_keyword[names.index("Cat Tree Tower")]
    )
    np.testing.assert_array_equal(x[:, j], cat_tree.any(axis=1).astype(float))


def test_every_mechanism_of_the_response_has_a_readable_name():
    from simulation.display import MECHANISM_NAMES, mechanism_name
    from simulation.response import MECHANISMS

    # A mechanism added to the response model fails here until the charts can name it.
    assert set(MECHANISM_NAMES) == set(MECHANISMS)
    assert all("_" not in name for name in MECHANISM_NAMES.values())
    assert mechanism_name("personalized", off=True).endswith("(off: 0)")
    assert mechanism_name("tone", off=True) == "tone"  # only the bonus is a switch
