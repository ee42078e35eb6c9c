"""The ToST chapter's design and grid: knobs to specs, sparsity bands, run keys, one batch of
cached runs on an executor, and paired gains."""
from __future__ import annotations

import pytest

from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.tost import experiment
from pruninglib.config import ConfigError

from .conftest import TINY, known_gain


def test_design_turns_sparsities_into_bands_of_densities(design):
    assert design.densities == (0.1, 0.01)
    assert design.high == [0.01] and design.very_high == [0.01]
    assert (design.highest, design.lowest) == (0.1, 0.01)
    assert design.components == ["ghost_skips", "fan_in"]
    assert design.parts_of_all() == ["ghost_skips"]  # fan-in is not in ToST's recipe
    assert design.num_classes == 4
    wide = experiment.Design.from_parameters({**TINY, "sparsities": [0.5, 0.95, 0.98, 0.9]})
    assert wide.densities == (0.5, 0.1, 0.05, 0.02)
    assert wide.high == [0.05, 0.02] and wide.very_high == [0.02]


def test_design_refuses_protocols_without_default():
    with pytest.raises(ConfigError, match=r"protocols=\['all'\] is not allowed: it must "
                                          r"contain 'default'"):
        experiment.Design.from_parameters({**TINY, "protocols": ["all"]})


def test_smoke_specs_are_a_conv_resnet_with_pinned_keys():
    # pinned when the chapter moved from bf16 to float32 channels-last (bf16 was slower here)
    design = experiment.Design.from_parameters(parameters_for("tost", "smoke"))
    dense = design.dense_specs()[0]
    assert (dense.model.name, dense.model.width) == ("resnet20", 0.25)
    assert (dense.train.bf16, dense.train.channels_last) == (False, True)
    assert dense.key() == "90c3228110312c80"
    last = design.protocol_specs("all")[-1]
    assert (last.prune.method, last.prune.density, last.seed) == ("snip", 0.02, 0)
    assert last.key() == "e5964b8ad6d24f0b"
    assert len(design.protocol_specs("all")) == 2 * 2 * 1


def test_single_tricks_run_on_their_subset_only():
    design = experiment.Design.from_parameters(
        {**TINY, "trick_methods": ["snip"], "trick_sparsities": [0.99]})
    assert [(s.prune.method, s.prune.density) for s in design.protocol_specs("fan_in")] == \
        [("snip", 0.01)] * 3
    assert len(design.protocol_specs("default")) == len(design.protocol_specs("all")) == 12
    assert design.trick_very_high == [0.01]
    with pytest.raises(ConfigError, match=r"trick_methods=\['grasp'\] is not allowed: a "
                                          r"subset of methods"):
        experiment.Design.from_parameters({**TINY, "trick_methods": ["grasp"]})
    with pytest.raises(ConfigError, match=r"trick_sparsities=\[0.5\] is not allowed"):
        experiment.Design.from_parameters({**TINY, "trick_sparsities": [0.5]})


def test_plan_lists_every_run_the_notebook_trains_once():
    params = parameters_for("tost", "smoke")
    tasks = experiment.plan(params)
    keys = [t.key() for t in tasks]
    assert len(keys) == len(set(keys)) == 1 + 4 + 5 + 4  # dense, default, 5 tricks, all
    assert {t.kind for t in tasks} == {"run"}
    design = experiment.Design.from_parameters(params)
    first = [*design.dense_specs(), *design.protocol_specs("default")]
    assert {s.key() for s in first} <= set(keys)
    # a protocol without changes trains the default's runs: listed once
    same = experiment.plan({**params, "recipe": [], "protocols": ["default", "all"]})
    assert len(same) == 1 + 4


def test_dense_gap_is_paired_by_seed(design, runs_frame, dense_frame):
    gap = experiment.dense_gap(design, experiment.ProtocolRuns(dense_frame, runs_frame))
    assert list(gap["seed"]) == [0, 1, 2]
    assert gap["gap"].tolist() == pytest.approx([30.0] * 3)


def test_the_grid_runs_in_one_batch_and_loads_on_a_second_call(tmp_path):
    design = experiment.Design.from_parameters(
        {**TINY, "protocols": ["default", "ghost_skips"], "methods": ["random"],
         "sparsities": [0.9], "seeds": 1})
    first = experiment.run_protocols(design, results_dir=tmp_path, progress=False)
    assert first.count == 3 and list(first.runs["protocol"]) == ["default", "ghost_skips"]
    assert list(first.dense["prune.method"]) == ["dense"]
    again = experiment.run_protocols(design, results_dir=tmp_path, progress=False,
                                     executor="pool:2")
    # a recomputed run would have a new wall-clock time
    assert list(again.runs["train_seconds"]) == list(first.runs["train_seconds"])
    gain = first.gains
    expected = 100 * (first.runs["test_accuracy"][1] - first.runs["test_accuracy"][0])
    assert gain["gain"].tolist() == [pytest.approx(expected)]


def test_gains_are_paired_by_seed_in_points(runs_frame):
    gain = experiment.gains(runs_frame)
    assert set(gain["protocol"]) == {"ghost_skips", "fan_in", "all"}
    assert len(gain) == 3 * 2 * 2 * 3
    for row in gain.itertuples(index=False):
        assert row.gain == pytest.approx(known_gain(row.protocol, row[1], row[2], row.seed))
    unpaired = runs_frame[~((runs_frame["protocol"] == "default")
                            & (runs_frame["seed"] == 0))]
    assert 0 not in set(experiment.gains(unpaired)["seed"])


def test_recorded_compute_time_adds_every_run(runs_frame):
    dense = runs_frame.head(2)
    result = experiment.ProtocolRuns(dense, runs_frame)
    assert result.count == len(runs_frame) + 2
    assert result.compute_seconds() == pytest.approx(6.0 * (len(runs_frame) + 2))
