"""``mvt_ts`` on a catalogue that covers only some of the categories.

The learner's patterns and user cells are sized by the contexts' layout
(:func:`simulation.engine.generated.generated_contexts`), which spans every
category the world knows, whatever the catalogue holds.
"""

from __future__ import annotations

import numpy as np
import pytest

import simulation.__main__ as cli
from simulation.config import ExperimentConfig
from simulation.engine.core import run_experiment
from simulation.engine.generated import (
    engine_funnel,
    engine_learner,
    generated_contexts,
    tied_patterns,
    user_cells,
)
from simulation.inputs import resolve_inputs
from simulation.scenario import build_scenario

# One, two and three categories; none of them the last of the world's list, so a
# catalogue's highest category index is below the world's (the audit's crash).
CATALOGUES = {
    1: "name,category,price\nTrail Mix,food,6.5\nProtein Bars,food,24\n",
    2: "name,category,price\nTrail Mix,food,6.5\nRain Jacket,outdoors,129\n",
    3: (
        "name,category,price\nTrail Mix,food,6.5\nProtein Bars,food,24\n"
        "Rain Jacket,outdoors,129\nBest Headphones Ever,music,199\n"
    ),
}


def _config(path, **kw) -> ExperimentConfig:
    base = dict(
        n_users=300, n_segments=2, levels=("generated",), policies=("uniform", "mvt_ts"),
        n_impressions=1_500, batch_size=250, n_seeds=1, n_checkpoints=3,
        catalogue_file=str(path),
    )  # fmt: skip
    config, _ = resolve_inputs(ExperimentConfig(**(base | kw)))
    return config


@pytest.fixture(params=sorted(CATALOGUES), ids=lambda k: f"{k}-categories")
def catalogue(request, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUES[request.param])
    return path


def test_the_learner_is_sized_as_its_contexts(catalogue):
    sc = build_scenario(_config(catalogue))
    users = np.arange(10)
    d = generated_contexts(sc, users).shape[1]
    assert tied_patterns(sc)[0].shape[1] == d
    assert user_cells(sc).shape[0] == d
    assert engine_learner(sc).n_user_features_ == d
    assert engine_funnel(sc).n_user_features_ == d
    # The interest pattern points at the product's own category's column.
    level = sc.levels["generated"]
    patterns, names = tied_patterns(sc)
    interest = patterns[names.index("interest")]
    rows = np.flatnonzero(interest.any(axis=1))
    first = rows.min() - level.product_category.min()
    assert set(rows - first) == set(level.product_category.tolist())
    # The searched-product pattern points each product at the column of its own search,
    # whose value is whether the user made that search.
    named = patterns[names.index("searched_product")]
    x = generated_contexts(sc, np.arange(sc.population.n_users))
    axis = sc.levels["generated"].space.axis_names.index("product")
    start = sc.levels["generated"].space.offsets[axis]
    for j, value in enumerate(level.factor_values[0]):
        (row,) = np.flatnonzero(named[:, start + j])
        made = (sc.population.keywords == level.product_keyword[value]).any(axis=1)
        np.testing.assert_array_equal(x[:, row], made & (level.product_keyword[value] >= 0))


@pytest.mark.parametrize("objective", ["ctr", "roas"])
def test_mvt_ts_runs_end_to_end(catalogue, objective):
    config = _config(catalogue, objective=objective)
    result = run_experiment(config, n_jobs=1)
    s = result.summary_frame().set_index("policy")
    assert s.loc["mvt_ts", "impressions"] == config.n_impressions


def test_mvt_ts_runs_under_cpc_pricing(catalogue):
    # Net value under CPC pricing: the single learner (not the funnel).
    config = _config(catalogue, objective="roas", pricing="cpc")
    s = run_experiment(config, n_jobs=1).summary_frame().set_index("policy")
    assert s.loc["mvt_ts", "impressions"] == config.n_impressions


def test_the_cli_runs_mvt_ts_on_a_partial_catalogue(tmp_path, capsys):
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUES[3])
    args = ["run", "--catalogue", str(path), "--levels", "generated", "--policies",
            "uniform,mvt_ts", "--impressions", "1000", "--seeds", "1", "--users", "300",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert cli.main(args) == 0
    assert "mvt_ts" in capsys.readouterr().out
