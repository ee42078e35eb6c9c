"""Layer similarities of stored networks, cached per network (kind ``drift``)."""
from __future__ import annotations

import pandas as pd

from pruninglib.analysis.drift import drift_frame
from pruninglib.chapters.pruning_similarity import drift, finetune
from pruninglib.chapters.pruning_similarity.finetune import FinetuneSpec, load_trained
from pruninglib.config import DataSpec, ModelSpec, RunSpec, TrainSpec
from pruninglib.data import load_data

DENSE = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(16, 8)),
                train=TrainSpec(epochs=2, batch_size=64))
TUNE = TrainSpec(epochs=1, batch_size=64, lr=0.01)


def test_drift_of_matches_drift_frame_and_is_loaded_the_second_time(tmp_path, monkeypatch):
    others = [FinetuneSpec(DENSE, (0.3,), TUNE), DENSE.replace(seed=1)]
    pairs = [(DENSE, other) for other in others]
    frame = drift.drift_of(pairs, DENSE.data, measures=("svcca", "cka"), results_dir=tmp_path)
    assert len(list((tmp_path / "drift").glob("*/*/result.json"))) == 2
    images = load_data(DENSE.data).test_x
    direct = drift_frame(load_trained(DENSE, results_dir=tmp_path)[0],
                         [(finetune.describe(s), load_trained(s, results_dir=tmp_path)[0])
                          for s in others], images, measures=("svcca", "cka"))
    pd.testing.assert_frame_equal(frame, direct.assign(reference=0))
    assert frame.loc[frame["seed"] == 1, "similarity"].lt(1 - 1e-6).any()  # another net
    assert len(frame) == 2 * 3 * 2  # networks x layers x measures

    def fail(*args, **kwargs):
        raise AssertionError("recomputed")
    monkeypatch.setattr(drift, "compute_drift", fail)
    again = drift.drift_of(pairs, DENSE.data, measures=("svcca", "cka"), results_dir=tmp_path)
    pd.testing.assert_frame_equal(again, frame)
    monkeypatch.undo()  # another measure set is another cache entry, computed afresh
    drift.drift_of(pairs, DENSE.data, measures=("svcca",), results_dir=tmp_path)
    assert len(list((tmp_path / "drift").glob("*/*/result.json"))) == 4
    swapped = drift.drift_of([(DENSE.replace(seed=1), DENSE)], DENSE.data,
                             measures=("svcca",), results_dir=tmp_path)
    assert set(swapped["reference"]) == {1} and set(swapped["seed"]) == {0}


def test_a_drift_task_is_keyed_by_both_networks_the_data_and_the_measures():
    spec = FinetuneSpec(DENSE, (0.3,), TUNE)
    task = drift.drift_task(DENSE, spec, DENSE.data)
    assert task.kind == "drift"
    assert task.spec["network"] == finetune.tagged(spec)
    other = [drift.drift_task(DENSE.replace(seed=1), spec, DENSE.data),
             drift.drift_task(DENSE, spec.previous, DENSE.data),
             drift.drift_task(DENSE, spec, DataSpec("synthetic", test_subset=100)),
             drift.drift_task(DENSE, spec, DENSE.data, measures=("cka",)),
             drift.drift_task(DENSE, spec, DENSE.data, conv="positions")]
    assert len({task.key(), *(t.key() for t in other)}) == 6
