"""The generated level on the engine: route, exact oracle, validity, skip notes, CLI."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import simulation.__main__ as cli
from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.generated import (
    applies,
    composed_expectations,
    generated_route,
    generated_tables,
    log_note,
    logged_pairs,
    oracle_table,
    skip_notes,
)
from simulation.engine.live import LiveSeries
from simulation.rng import stream
from simulation.scenario import build_scenario


def _config(**kw) -> ExperimentConfig:
    base = dict(
        n_users=300, n_segments=3, levels=("generated",), policies=("uniform", "oracle"),
        n_impressions=2_000, batch_size=250, n_seeds=1, n_checkpoints=4,
    )  # fmt: skip
    return ExperimentConfig(**(base | kw))


@pytest.fixture(scope="module")
def hill():
    return build_scenario(_config(space="hill48"))


@pytest.mark.parametrize("objective", ["ctr", "roas"])
def test_oracle_is_the_brute_force_best(hill, objective):
    # Every one of the 48 compositions for every user through expectations().
    space = hill.levels["generated"].space
    combos = space.enumerate_valid()
    n = hill.population.n_users
    users = np.repeat(np.arange(n), len(combos))
    exp = composed_expectations(hill, users, np.tile(combos, (n, 1)))
    reward = exp.reward(objective)[:, 0].reshape(n, len(combos))
    best = oracle_table(hill, objective)
    got = composed_expectations(hill, np.arange(n), best).reward(objective)[:, 0]
    np.testing.assert_allclose(got, reward.max(axis=1), rtol=1e-12, atol=0)


def test_default_space_oracle_beats_every_sampled_composition():
    # The default space is too large to brute-force per user; thousands of valid
    # compositions per user must never beat the oracle's.
    sc = build_scenario(_config(n_users=100, n_segments=2))
    space = sc.levels["generated"].space
    best = oracle_table(sc, "roas")
    assert space.is_valid(best).all()
    top = composed_expectations(sc, np.arange(100), best).reward("roas")[:, 0]
    from simulation.generated.search import sample_valid

    rng = np.random.default_rng(0)
    for _ in range(5):
        trial = sample_valid(space, 100 * 400, rng)
        users = np.repeat(np.arange(100), 400)
        r = composed_expectations(sc, users, trial).reward("roas")[:, 0].reshape(100, 400)
        assert (r.max(axis=1) <= top + 1e-15).all()


def test_route_outcomes_match_a_numpy_reference_loop(hill):
    # The engine's totals for uniform against a loop: the same compositions (the
    # policy's stream), expectations row by row, outcomes from the chunk's uniforms.
    from simulation.engine.chunks import draw_chunks
    from simulation.generated.search import sample_valid

    config = _config(space="hill48", policies=("uniform",))
    result = run_experiment(config, scenario=hill, n_jobs=1)
    tables = generated_tables(hill, "ctr")
    chunk = next(draw_chunks(hill, tables, config, 0, "generated", True, 1 << 16))
    assert chunk.n_rows == config.n_impressions
    rng = stream(config.seed, "replication", 0, "policy", "generated", "uniform")
    space = hill.levels["generated"].space
    clicks = conversions = 0
    regret = 0.0
    for lo, hi in zip(chunk.offsets[:-1], chunk.offsets[1:]):
        combos = sample_valid(space, int(hi - lo), rng)
        for i, c in zip(range(lo, hi), combos):
            e = composed_expectations(hill, chunk.users[i : i + 1], c[None])
            click = chunk.uniforms[0, i] < e.ctr[0, 0]
            clicks += click
            conversions += click and chunk.uniforms[1, i] < e.cvr[0, 0]
            regret += tables.truth.best[chunk.users[i]] - e.ctr[0, 0]
    s = result.summary_frame().iloc[0]
    assert (s["clicks"], s["conversions"]) == (clicks, conversions)
    assert s["regret"] == pytest.approx(regret, rel=1e-9)


def test_uniform_never_serves_an_invalid_composition():
    sc = build_scenario(_config())
    space = sc.levels["generated"].space
    route = generated_route(sc, _config(), "generated", "uniform", np.random.default_rng(1))
    combos = route.policy.select(np.empty((5_000, 0)), np.random.default_rng(2))
    assert space.is_valid(combos).all()


@pytest.mark.parametrize("objective", ["ctr", "roas"])
def test_oracle_has_zero_regret_and_uniform_does_not(objective):
    r = run_experiment(_config(objective=objective, space="hill48"), n_jobs=1)
    s = r.summary_frame().set_index("policy")
    assert s.loc["oracle", "regret"] == pytest.approx(0.0, abs=1e-9)
    assert s.loc["uniform", "regret"] > 0.0


def test_skip_notes_and_applicability():
    config = _config(levels=("user", "generated"), policies=("thompson", "mvt_ts", "uniform"))
    assert applies("generated", "mvt_ts") and not applies("generated", "thompson")
    assert not applies("user", "mvt_ts") and applies("user", "uniform")
    assert not applies("generated", "segment:thompson")
    notes = skip_notes(config)
    assert len(notes) == 2
    assert any("thompson skipped at the generated level" in n for n in notes)
    assert any("mvt_ts skipped at the user level" in n for n in notes)


def test_the_log_records_the_pairs_that_play_a_pool_level():
    config = _config(levels=("user", "generated"), policies=("thompson", "mvt_ts", "uniform"))
    assert logged_pairs(config) == [("user", "thompson"), ("user", "uniform")]
    assert "not logged" in log_note(config)
    alone = _config(levels=("generated",), policies=("uniform", "mvt_ts"))
    assert logged_pairs(alone) == []
    pools = _config(levels=("segment",), policies=("uniform",))
    assert logged_pairs(pools) == [("segment", "uniform")] and log_note(pools) is None


def test_all_four_levels_from_python():
    config = _config(
        levels=("generic", "segment", "user", "generated"),
        policies=("uniform", "thompson", "mvt_ts"),
        n_impressions=1_000,
    )
    r = run_experiment(config, n_jobs=1)
    s = r.summary_frame()
    pairs = set(zip(s["level"], s["policy"]))
    expected = {(lv, p) for lv, p in itertools.product(config.levels, config.policies)}
    expected -= {("generated", "thompson")} | {(lv, "mvt_ts") for lv in config.levels[:3]}
    assert pairs == expected
    assert (s["impressions"] == 1_000).all()
    alloc = r.allocation_frame().query("level == 'generated'")
    assert set(alloc["arm_label"]) == {"composed"}
    assert set(r.timeseries_frame()["level"]) == set(config.levels)


def test_all_four_levels_from_the_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "store"))
    out = tmp_path / "out"
    code = cli.main(
        [
            "run", "--levels", "generic,segment,user,generated",
            "--policies", "uniform,thompson,mvt_ts", "--impressions", "1000",
            "--batch-size", "250", "--seeds", "1", "--users", "300", "--segments", "3",
            "--out", str(out), "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "note: thompson skipped at the generated level" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.query("level == 'generated'")["policy"]) == {"uniform", "mvt_ts"}


@pytest.mark.parametrize(
    ("levels", "policies"),
    [(("generated",), ("thompson",)), (("generic", "segment"), ("mvt_ts",)),
     (("generated",), ("segment:thompson", "lin_ucb"))],
)  # fmt: skip
def test_a_run_where_nothing_plays_is_refused(levels, policies):
    # Every pair would be skipped with a note, leaving an empty experiment to save.
    with pytest.raises(ValueError, match="no chosen policy plays a chosen level"):
        _config(levels=levels, policies=policies)
    _config(levels=levels, policies=(*policies, "uniform"))  # one pair that plays is enough


def test_the_cli_refuses_a_run_where_nothing_plays(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADLAB_HOME", str(tmp_path / "store"))
    out = tmp_path / "out"
    code = cli.main(
        ["run", "--levels", "segment", "--policies", "mvt_ts", "--out", str(out), "--no-progress"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no chosen policy plays a chosen level: mvt_ts at segment" in err[0]
    assert not out.exists() and not (tmp_path / "store").exists()


def test_hill48_preset_has_48_valid_compositions():
    from simulation.config import PRESETS

    sc = build_scenario(PRESETS["hill48"].replace(n_users=200, n_segments=2))
    space = sc.levels["generated"].space
    assert space.n_raw == 48 and space.count_valid() == 48
    # The same best composition for every user (no user-dependent effects).
    assert len(np.unique(oracle_table(sc, "ctr"), axis=0)) == 1


def test_generated_level_is_opt_in():
    assert "generated" not in ExperimentConfig().levels
    with pytest.raises(ValueError, match="space"):
        ExperimentConfig(space="nope")


def _general_expectations(scenario, users, combos):
    # The general path every level takes: the level's content, the response's expectations.
    level = scenario.levels["generated"]
    pop = scenario.population.take(users)
    return scenario.response.expectations(pop, level.content(pop, level.factors(combos)[:, None]))


@pytest.mark.parametrize(
    ("space", "pricing", "weight_table"),
    [("default", "cpm", True), ("default", "cpc", True), ("hill48", "cpm", True),
     ("default", "cpm", False)],
)  # fmt: skip
def test_composed_expectations_are_the_general_path_bit_for_bit(
    monkeypatch, space, pricing, weight_table
):
    # The compiled content and the gathered weight rows against level.content +
    # response.expectations, exactly (the engine's results must not move): every
    # field, every bit, for batches with and without keywords, of 1 to 3,000 rows.
    import simulation.engine.generated as eg

    if not weight_table:  # a large audience's weights, computed per call
        monkeypatch.setattr(eg, "_WEIGHT_TABLE_USERS", 10)
    sc = build_scenario(_config(n_users=2_000, n_segments=4, space=space, pricing=pricing))
    level = sc.levels["generated"]
    rng = np.random.default_rng(7)
    for n in (1, 13, 3_000):
        users = rng.integers(0, sc.population.n_users, n)
        combos = rng.integers(0, np.array(level.space.n_levels), size=(n, level.space.n_axes))
        cases = [combos]
        if "keyword" in level.space.axis_names:  # a batch with no keyword at all
            none = combos.copy()
            none[:, level.space.axis_names.index("keyword")] = 0
            cases.append(none)
        for c in cases:
            got, want = composed_expectations(sc, users, c), _general_expectations(sc, users, c)
            for name in ("ctr", "cvr", "order_value", "cost"):
                a, b = getattr(got, name), getattr(want, name)
                assert a.shape == b.shape == (n, 1)
                assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    assert (sc.memo[("generated_composed",)].w_click is None) is not weight_table


def test_composed_expectations_reject_out_of_range_levels(hill):
    combos = np.zeros((2, hill.levels["generated"].space.n_axes), dtype=np.int64)
    combos[1, 0] = 99
    with pytest.raises(IndexError):
        composed_expectations(hill, np.arange(2), combos)


def test_served_counts_match_a_dict_reference():
    # The first-seen dict the counts replaced: totals, each segment's most-served
    # code, ties to the key seen first (a call's new keys in ascending order).
    from simulation.engine.generated import _ServedCounts

    rng = np.random.default_rng(3)
    n_seg, n_raw = 5, 40
    counts, ref = _ServedCounts(), {}
    for size in (0, 50, 200, 1, 300):
        segs = rng.integers(0, n_seg - 1, size)  # the last segment is never served
        keys = segs * n_raw + rng.integers(0, 12, size)  # few codes: many ties
        counts.add(keys)
        uniq, c = np.unique(keys, return_counts=True)
        for k, v in zip(uniq.tolist(), c.tolist()):
            ref[k] = ref.get(k, 0) + v
    want_top, want_best, want_total = np.zeros(n_seg, int), np.zeros(n_seg), np.zeros(n_seg)
    for key, count in ref.items():
        s, code = divmod(key, n_raw)
        want_total[s] += count
        if count > want_best[s]:
            want_best[s], want_top[s] = count, code
    top, best, total = counts.top(n_seg, n_raw)
    np.testing.assert_array_equal(top, want_top)
    np.testing.assert_array_equal(best, want_best)
    np.testing.assert_array_equal(total, want_total)
    assert best[-1] == total[-1] == 0


def test_forked_runs_start_the_generated_units_and_match_the_serial_run():
    # The engine hands the generated level's (longest) units to its workers first;
    # results are reassembled by unit, so they equal the serial run's (including
    # the order of the lineage rows and the generated outputs).
    from simulation.engine.generated import fork_safe
    from simulation.engine.live import LiveSeries

    if not fork_safe():
        pytest.skip("this process has started OpenMP threads: the engine runs serially")

    class Recording(LiveSeries):
        def __init__(self):
            super().__init__()
            self.levels_seen = []

        def _add(self, replication, level, first, rows):
            self.levels_seen.append(level)
            super()._add(replication, level, first, rows)

    config = _config(
        n_users=600, levels=("generic", "segment", "generated"),
        policies=("uniform", "thompson", "mvt_ts"), n_seeds=2, n_impressions=6_000,
        regenerate_every=2_000,
    )  # fmt: skip
    sc = build_scenario(config)
    live = Recording()
    forked = run_experiment(config, scenario=sc, n_jobs=2, live=live)
    serial = run_experiment(config, scenario=sc, n_jobs=1)
    # Two workers, two generated units: nothing else starts before one of them ends.
    assert live.levels_seen[0] == 2
    assert live.levels_seen.index(0) > live.levels_seen.index(2)
    for name in ("series", "allocation", "segment_stats"):
        np.testing.assert_array_equal(getattr(forked, name), getattr(serial, name))
    pd.testing.assert_frame_equal(forked.generations_frame(), serial.generations_frame())
    for name in ("estimate", "sd", "top", "top_share", "served", "truth"):
        a, b = getattr(forked.generated, name), getattr(serial.generated, name)
        np.testing.assert_array_equal(a, b)
    # The true effects, kept in the world's memo for the second run, are the function's.
    from simulation.engine.generated import true_component_effects

    fresh = true_component_effects(sc, "ctr", stream(config.seed, "generated", "true_effects"))
    np.testing.assert_array_equal(serial.generated.truth, fresh)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_pool_levels_are_handed_over_early_and_equal_a_run_without_the_generated_level(
    n_jobs,
):
    # `early` gets the pool levels as soon as they are done, while the generated level still
    # runs: their numbers are those of the same run without the generated level.
    from simulation.engine.core import _unit_order
    from simulation.engine.generated import fork_safe

    if n_jobs > 1 and not fork_safe():
        pytest.skip("this process has started OpenMP threads: the engine runs serially")
    config = _config(
        n_users=600, levels=("generic", "segment", "generated"),
        policies=("uniform", "thompson", "mvt_ts"), n_seeds=3, n_impressions=6_000,
        regenerate_every=2_000,
    )  # fmt: skip
    sc = build_scenario(config)
    seen = []

    class Recording(LiveSeries):
        def _add(self, replication, level, first, rows):
            seen.append(level)
            super()._add(replication, level, first, rows)

    full = run_experiment(config, scenario=sc, n_jobs=n_jobs, live=Recording(),
                          early=seen.append)  # fmt: skip
    # Once, after every pool unit's checkpoints (in one process: before any generated
    # unit's; in two, one worker may start them while the other ends the pool levels).
    (at,) = [i for i, x in enumerate(seen) if not isinstance(x, int)]
    early = seen.pop(at)
    assert {0, 1} <= set(seen[:at]) and set(seen[at:]) <= {2}
    if n_jobs == 1:
        assert set(seen[:at]) == {0, 1} and set(seen[at:]) == {2}
    assert early.levels == ("generic", "segment") and early.generated is None
    assert early.config == config.replace(levels=("generic", "segment"))
    without = run_experiment(early.config, scenario=sc, n_jobs=1)
    for name in ("series", "allocation", "segment_stats"):
        np.testing.assert_array_equal(getattr(early, name), getattr(without, name))
        # ... and they are the full run's too (the allocation is as wide as its widest level).
        part = getattr(full, name)[:, :2]
        if name != "series":
            width = getattr(early, name).shape[-1 if name == "allocation" else -2]
            part = part[..., :width] if name == "allocation" else part[..., :width, :]
        np.testing.assert_array_equal(getattr(early, name), part)
    pd.testing.assert_frame_equal(early.generations_frame(), without.generations_frame())
    pd.testing.assert_frame_equal(early.summary_frame(), without.summary_frame())
    # The order: the pool units first; without `early`, the generated ones (longest first).
    units = [(s, li) for s in range(3) for li in range(3)]
    first = _unit_order(units, config.levels, pools_first=True)
    assert [u[1] for u in first] == [0, 1] * 3 + [2] * 3
    assert [u[1] for u in _unit_order(units, config.levels)] == [2] * 3 + [0, 1] * 3


def test_a_logged_run_is_not_shown_early(tmp_path):
    config = _config(n_users=600, levels=("generic", "generated"), policies=("uniform",),
                     n_seeds=1, n_impressions=3_000)  # fmt: skip
    seen = []
    run_experiment(config, log_path=tmp_path / "log.parquet", early=seen.append)
    assert seen == []


def test_no_early_results_without_a_pool_level_that_plays():
    seen = []
    only_generated = _config(n_users=600, levels=("generated",), policies=("uniform", "mvt_ts"),
                             n_seeds=2, n_impressions=3_000)  # fmt: skip
    run_experiment(only_generated, early=seen.append)
    # mvt_ts plays no pool level: nothing to show before the generated level.
    nobody = only_generated.replace(levels=("generic", "generated"), policies=("mvt_ts",))
    run_experiment(nobody, early=seen.append)
    assert seen == []


def test_the_simulated_search_and_greeting_are_what_the_studio_prints():
    # The response reads GeneratedLevel.content; the creative the app renders is
    # creative.components.compose. A greeting or a search is credited only when printed
    # (the space forbids one switched on beside a headline style that does not print
    # it), and both choose the same search: the viewer's own naming the product, else
    # none (no search the viewer did not make, none naming another product).
    from creative.attributes import attribute_slices
    from creative.catalogue import GREETINGS, product_search
    from creative.components import products
    from creative.vocabulary import INTEREST_KEYWORDS, TIMES_OF_DAY, localize_keyword
    from simulation.generated.search import sample_valid
    from simulation.population import KEYWORDS, user_audience

    sc = build_scenario(_config(n_users=3_000))
    level, pop = sc.levels["generated"], sc.population
    space = level.space
    rng = np.random.default_rng(3)
    combos = sample_valid(space, 3_000, rng)
    users = rng.integers(0, pop.n_users, len(combos))
    content = level.content(pop.take(users), level.factors(combos)[:, None])
    greeting_columns = content.attributes[:, 0, attribute_slices()["greeting"]]
    greets = greeting_columns.any(axis=1)
    hours = greeting_columns.argmax(axis=1)
    codes = content.keyword[:, 0]
    kinds, greeted = set(), 0
    for u, combo, code, greet, hour in zip(users, combos, codes, greets, hours, strict=True):
        c = level.compose(combo, user_audience(pop, int(u)))
        copy = f"{c.headline} {c.body}"

        # Read apart from the product's name, which may hold a search ("린넨 토트백"). A
        # search that is the name itself ("기내용 캐리어") reads the same quoted or named:
        # the text cannot tell, so the creative's record answers.
        def shows(k: str, c=c, copy=copy) -> bool:
            word = localize_keyword(k, c.language)
            if word == c.product:
                return c.keyword == word
            return word in copy.replace(c.product, "")

        printed = [k for k in INTEREST_KEYWORDS[c.category] if shows(k)]
        assert greet == (c.greeting is not None and GREETINGS[c.language][c.greeting] in copy), copy
        if greet:  # the same time of day
            assert c.greeting == TIMES_OF_DAY[hour]
        greeted += int(greet)
        on = combo[space.axis_names.index("keyword")] == 1
        named = product_search(products()[combo[space.axis_names.index("product")]])
        searched = named is not None and named in {KEYWORDS[k] for k in pop.keywords[u]}
        if code < 0:
            assert not printed and "“" not in copy, copy
            if on:
                kinds.add("searched, not quoted" if searched else "not searched")
            continue
        assert on and searched and KEYWORDS[code] == named, (KEYWORDS[code], named)
        assert printed == [named], (named, c.headline, c.body)
        kinds.add("quoted")
    # Every branch of the rule is seen (a viewer whose search names the product has it
    # quoted whenever the keyword level is on).
    assert kinds == {"quoted", "not searched"}
    assert greeted > 100


def test_a_composed_ad_prints_its_greeting_and_search_or_the_size_is_refused():
    # python -m simulation compose --size takes 200 to 4,096 px and prints the composition's
    # true CTR, which credits its greeting and search. A headline that carries them is never
    # left out; a greet_search body may be, at a small size, and then composition_image
    # refuses the size (scenario._unprinted, naming one that prints them) rather than show
    # an image its figures do not describe. So what a small image leaves out is only ever a
    # greet_search body's, and the compositions drawn here include such bodies.
    from creative.components import HEADLINE_STYLES
    from creative.render import plan_creative
    from simulation.generated.search import sample_valid
    from simulation.population import user_audience
    from simulation.scenario import _unprinted

    sc = build_scenario(_config(n_users=1_000))
    level, pop = sc.levels["generated"], sc.population
    rng = np.random.default_rng(5)
    drawn = sample_valid(level.space, 3_000, rng)
    headline = level.space.axis_names.index("headline")
    both = drawn[drawn[:, headline] == HEADLINE_STYLES.index("greet_search")]
    combos = np.vstack([drawn[:300], both[:200]])
    # Viewers who made a search: a greet_search body quotes it only for them.
    searchers = np.flatnonzero((pop.keywords >= 0).any(axis=1))
    users = rng.choice(searchers, len(combos))
    personal, left_out = 0, 0
    for u, combo in zip(users, combos, strict=True):
        c = level.compose(combo, user_audience(pop, int(u)))
        personal += c.greeting is not None or c.keyword is not None
        for size in ((200, 200), (240, 240)):
            try:
                plan = plan_creative(c, size)
            except ValueError:
                continue  # refused, naming a size that works: no image to credit
            if _unprinted(c, plan):
                # Only a body's sentence is ever left out: the headline prints in full.
                assert combo[headline] == HEADLINE_STYLES.index("greet_search"), c.headline
                left_out += 1
            else:
                assert (plan.greeting, plan.keyword) == (c.greeting, c.keyword), c.headline
    assert personal > 50
    assert left_out > 0  # the refused case is exercised
