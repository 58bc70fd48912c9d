import pytest

from simulation.config import PRESETS, ExperimentConfig, load_config


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_impressions": 0}, "`n_impressions` must be an int"),
        ({"n_impressions": 10**12}, "`n_impressions` must be an int"),
        ({"batch_size": 500, "n_impressions": 100}, "must not exceed"),
        ({"n_segments": 0}, "`n_segments` must be an int"),
        ({"policies": ("nope",)}, "unknown policy 'nope'"),
        ({"policies": ("nope",)}, r"or \['mvt_ts'\] \(the generated level only\)"),  # both kinds
        ({"policies": ()}, "must be a non-empty tuple"),
        ({"policies": (["x"],)}, "`policies` must be a non-empty tuple of str"),
        ({"levels": (["generic"],)}, "`levels` must be a non-empty tuple of str"),
        ({"levels": ("global",)}, "unknown level"),
        ({"levels": ("segmnt",)}, r"unknown level\(s\) \['segmnt'\] \(did you mean 'segment'\?\)"),
        ({"policies": ("thomson",)}, r"unknown policy 'thomson' \(did you mean 'thompson'\?\)"),
        ({"objective": "cpa"}, "`objective` must be one of"),
        ({"budget": -1.0}, "`budget` must be None or a float"),
        ({"n_seeds": 1000}, "`n_seeds` must be an int"),
        ({"seed": -1}, "`seed` must be an int"),
        ({"n_users": 10**9}, "`n_users` must be an int"),
    ],
)
def test_bad_configs(changes, match):
    with pytest.raises(ValueError, match=match):
        ExperimentConfig(**changes)


def test_toml_policies_of_arrays_is_a_clear_error(tmp_path):
    # A nested array used to reach set() and fail with "unhashable type: 'list'".
    path = tmp_path / "c.toml"
    path.write_text('policies = [["x"]]\n')
    with pytest.raises(ValueError, match="`policies` must be a non-empty tuple of str"):
        load_config(path)


def test_configs_are_hashable_and_frozen():
    cfg = ExperimentConfig()
    assert hash(cfg) == hash(ExperimentConfig())
    with pytest.raises(AttributeError):
        cfg.seed = 3  # type: ignore[misc]


def test_toml_round_trip(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('preset = "quick"\npolicies = ["thompson", "segment:ucb1"]\nseed = 4\n')
    cfg = load_config(path)
    assert cfg.policies == ("thompson", "segment:ucb1") and cfg.seed == 4
    assert cfg.n_impressions == PRESETS["quick"].n_impressions


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("seed = ", "malformed TOML"),
        ("sed = 3", r"unknown config key 'sed' \(did you mean 'seed'\?\)"),
        ("[grid]\nseed = [1]", r"unknown config key 'grid' \(a \[grid\] table is read by"),
        ('policies = "thompson"', r"must be a list of names, e\.g\. policies = \['thompson'\]"),
        ('preset = "huge"', "unknown preset"),
        ('n_impressions = "many"', "`n_impressions` must be an int"),
    ],
)
def test_bad_toml(tmp_path, text, match):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="config file not found"):
        load_config(tmp_path / "none.toml")
