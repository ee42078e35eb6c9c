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


def test_specs_keep_the_keys_the_notebook_stored_before():
    # keys of runs the smoke book stored before the chapter moved into this package
    design = experiment.Design.from_parameters(parameters_for("tost", "smoke"))
    assert design.dense_specs()[0].key() == "14eb904d30ac98fe"
    last = design.protocol_specs("all")[-1]
    assert (last.prune.method, last.prune.density, last.seed) == ("snip", 0.01, 0)
    assert last.key() == "b33246ff00820cff"
    assert len(design.protocol_specs("all")) == 2 * 2 * 1


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
