"""Pairing A and B replication by replication only when they met the same visitors and draws."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.config import ExperimentConfig
from simulation.pairing import DRAW_SETTINGS, pairing

BASE = ExperimentConfig(n_users=1_000, n_segments=2, n_impressions=3_000, batch_size=500)


def _summary(seeds, worlds=None):
    frame = pd.DataFrame({"seed": list(seeds), "ctr": 0.01})
    return frame if worlds is None else frame.assign(world=list(worlds))


def test_same_world_runs_are_paired_whatever_the_policies_do():
    a = BASE.to_dict()
    # What the comparison is for: policies, levels, objective, cap, delay, regeneration.
    b = BASE.replace(
        policies=("thompson",), levels=("generic", "segment"), objective="roas",
        budget=300.0, conversion_delay=500, regenerate_every=1_000, n_checkpoints=4,
    ).to_dict()  # fmt: skip
    how = pairing(a, b, summary_a=_summary([0, 1, 2]), summary_b=_summary([2, 1, 0]))
    assert how.paired and how.differences == ()
    assert how.sentence.startswith("Paired:")


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"n_users": 2_000}, "audience size"),
        ({"n_segments": 3}, "number of segments"),
        ({"seed": 1}, "seed"),
        ({"n_impressions": 4_000}, "impressions"),
        ({"batch_size": 250}, "batch size"),
        ({"n_variants": 3}, "creatives per level"),
        ({"pricing": "cpc"}, "pricing"),
        ({"n_worlds": 2}, "number of worlds"),
    ],
)
def test_a_different_world_or_draw_setup_is_not_paired(change, word):
    how = pairing(BASE.to_dict(), BASE.replace(**change).to_dict())
    assert not how.paired and word in how.differences
    assert how.sentence.startswith(f"Not paired: the runs differ in {word}")
    assert "Welch" in how.sentence


def test_every_draw_setting_has_words():
    # A setting added to the world without words would read as its key in the sentence.
    from simulation.pairing import _WORDS

    assert set(DRAW_SETTINGS) <= set(_WORDS)


def test_the_differences_are_all_named_in_one_sentence():
    b = BASE.replace(n_users=2_000, n_impressions=6_000).to_dict()
    how = pairing(BASE.to_dict(), b)
    assert how.differences == ("audience size", "impressions")
    assert "audience size, impressions" in how.sentence


def test_a_saved_config_pairs_with_the_live_one():
    import json

    saved = json.loads(json.dumps(BASE.to_dict()))  # lists where the live config has tuples
    assert pairing(saved, BASE.to_dict()).paired


def test_other_input_file_contents_or_replications_are_not_paired():
    a = BASE.to_dict()
    files = {"segments": {"path": "s.csv", "sha256": "aa"}}
    other = {"segments": {"path": "s.csv", "sha256": "bb"}}
    how = pairing(a, a, inputs_a=files, inputs_b=other)
    assert not how.paired and how.differences == ("segments file contents",)
    assert pairing(a, a, inputs_a=files, inputs_b=dict(files)).paired
    assert pairing(a, a, inputs_a=files, inputs_b={}).paired  # a run not saved: no record
    how = pairing(a, a, summary_a=_summary([0, 1, 2]), summary_b=_summary([0, 1]))
    assert not how.paired and "replications" in how.differences[0]
    worlds = pairing(a, a, summary_a=_summary([0, 0], [0, 1]), summary_b=_summary([0, 0], [0, 2]))
    assert not worlds.paired


def test_a_setting_missing_from_an_old_run_is_a_difference():
    old = {k: v for k, v in BASE.to_dict().items() if k != "space"}
    how = pairing(old, BASE.to_dict())
    assert not how.paired and how.differences == ("component space",)


@pytest.mark.parametrize("bad", [None, "config", 3])
def test_configs_must_be_mappings(bad):
    with pytest.raises(TypeError, match="`config_a` must be a mapping"):
        pairing(bad, BASE.to_dict())
