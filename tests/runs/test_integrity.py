"""Nothing wrong is ever used: every file the store reads back is verified, and runs whose
numbers are not a trained network's are stored as such (issue: store integrity)."""
from __future__ import annotations

import json
import math
import os
import shutil
import stat

import pytest
import torch

from helpers import SMALL_RUN
from pruninglib.runs import experiments
from pruninglib.runs.executors import summary
from pruninglib.runs.experiments import AbnormalRunWarning, run, sweep
from pruninglib.runs.store import CorruptResultWarning, ResultStore


def _attempts(root, spec) -> int:
    return len(ResultStore(root).attempts(spec.key()))


def _overwrite(path, offset: int, size: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset:offset + size] = b"\xff" * size
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["tensor", "header"])
def test_damaged_weights_are_moved_aside_and_recomputed(tmp_path, where):
    first = run(SMALL_RUN, results_dir=tmp_path, progress=False, save_weights=True)
    path = ResultStore(tmp_path).directory(first.key) / "weights.safetensors"
    size = path.stat().st_size
    offset, length = (size - 4096, 4096) if where == "tensor" else (8, 64)
    _overwrite(path, max(offset, 0), min(length, size))
    with pytest.warns(CorruptResultWarning, match="corrupt weights"):
        again = run(SMALL_RUN, results_dir=tmp_path, progress=False, save_weights=True)
    assert _attempts(tmp_path, SMALL_RUN) == 2  # computed again, not "2 of 2 stored"
    assert again.metrics["test_accuracy"] == first.metrics["test_accuracy"]
    tensors = ResultStore(tmp_path).load_weights(first.key)
    assert all(torch.isfinite(t.float()).all() for t in tensors.values())
    mask = experiments.mask_of(SMALL_RUN, results_dir=tmp_path)
    weights = tensors["param/" + next(iter(mask))]
    assert (weights[~mask[next(iter(mask))]] == 0).all()  # pruned weights are zero


def test_a_result_copied_into_another_runs_folder_is_not_used(tmp_path):
    other = SMALL_RUN.replace(seed=1)
    store = ResultStore(tmp_path)
    run(SMALL_RUN, results_dir=tmp_path, progress=False)
    source = store.directory(SMALL_RUN.key()) / "result.json"
    target = store.directory(other.key()) / "result.json"
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    with pytest.warns(CorruptResultWarning, match="names key"):
        frame = sweep(SMALL_RUN, {"seed": [0, 1]}, results_dir=tmp_path, progress=False)
    assert list(frame["key"]) == [SMALL_RUN.key(), other.key()]  # each run once, both there
    assert list(frame["seed"]) == [0, 1]
    assert summary([SMALL_RUN, other], tmp_path)["done"] == 2


def test_a_dead_workers_claim_on_a_finished_run_is_removed(tmp_path):
    run(SMALL_RUN, results_dir=tmp_path, progress=False)
    claim = ResultStore(tmp_path).directory(SMALL_RUN.key()) / "claim"
    claim.write_text(json.dumps({"host": "elsewhere/1", "pid": 1, "time": 0, "token": "t"}))
    os.utime(claim, (0, 0))  # no heartbeat for decades
    run(SMALL_RUN, results_dir=tmp_path, progress=False)
    assert not claim.exists()


def test_result_files_are_readable_by_colleagues(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    run(SMALL_RUN, results_dir=tmp_path, progress=False, save_weights=True)
    directory = ResultStore(tmp_path).directory(SMALL_RUN.key())
    for name in ("result.json", "weights.safetensors"):
        mode = stat.S_IMODE((directory / name).stat().st_mode)
        assert mode == 0o666 & ~mask, f"{name}: {oct(mode)}"


def test_a_diverged_run_is_stored_as_diverged_with_a_warning(tmp_path):
    spec = SMALL_RUN.replace(**{"train.lr": 1e6})
    with pytest.warns(AbnormalRunWarning, match="non-finite"):
        result = run(spec, results_dir=tmp_path, progress=False)
    assert result.metrics["diverged"] is True
    frame = sweep(spec, {"seed": [0]}, results_dir=tmp_path, progress=False)
    assert frame["diverged"].tolist() == [True]
    assert run(SMALL_RUN, results_dir=tmp_path, progress=False).metrics["diverged"] is False


def test_a_mask_that_empties_a_layer_is_stored_with_a_warning(tmp_path):
    spec = SMALL_RUN.replace(**{"prune.density": 1e-9, "prune.method": "random"})
    with pytest.warns(AbnormalRunWarning, match="without any weight"):
        result = run(spec, results_dir=tmp_path, progress=False)
    assert result.metrics["empty_layers"] >= 1
    assert result.metrics["empty_layers"] == sum(layer["kept"] == 0 for layer in result.layers)
    assert not math.isnan(result.metrics["test_accuracy"])


def test_the_thread_count_is_recorded_with_every_result(tmp_path):
    result = run(SMALL_RUN, results_dir=tmp_path, progress=False)
    assert result.env["threads"] == torch.get_num_threads()


def test_submitits_pickles_are_kept_beside_the_results_directory_never_inside(tmp_path):
    from pruninglib.runs.executors import SubmititExecutor

    executor = SubmititExecutor(cluster="local")
    executor.bind(tmp_path / "results")
    assert executor.folder == tmp_path / "results.submitit"
    assert tmp_path / "results" not in executor.folder.parents
