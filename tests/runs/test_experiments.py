"""Runs and sweeps: reproducible, cached, resumable, corruption-safe."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from helpers import SMALL_RUN, TIMING, numbers
from pruninglib.runs import experiments
from pruninglib.runs.experiments import grid_specs, layers_frame, run, sweep, sweep_results
from pruninglib.runs.store import CorruptResultWarning, ResultStore

BASE = SMALL_RUN



def test_same_spec_gives_identicalnumbers(tmp_path):
    first = run(BASE, results_dir=tmp_path / "a", progress=False)
    second = run(BASE, results_dir=tmp_path / "b", progress=False)
    assert numbers(first) == numbers(second)
    assert first.metrics["density"] == pytest.approx(0.2, abs=1 / first.metrics["prunable_weights"])
    other_seed = run(BASE.replace(seed=1), results_dir=tmp_path / "a", progress=False)
    assert numbers(other_seed) != numbers(first)


def test_a_cached_run_is_loaded_not_recomputed(tmp_path, monkeypatch):
    first = run(BASE, results_dir=tmp_path, progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("a cached run was recomputed")
    monkeypatch.setattr(experiments, "train", fail)
    again = run(BASE, results_dir=tmp_path, progress=False)
    assert again.to_dict() == first.to_dict()


@pytest.mark.parametrize("damage", ["truncate", "empty", "garble"])
def test_a_corrupted_result_is_detected_and_recomputed(tmp_path, damage):
    first = run(BASE, results_dir=tmp_path, progress=False)
    path = ResultStore(tmp_path).directory(first.key) / "result.json"
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "empty":
        path.write_text("")
    else:  # valid JSON, wrong number: only the checksum can tell
        record = json.loads(text)
        record["payload"]["metrics"]["test_accuracy"] = 0.123
        path.write_text(json.dumps(record))
    with pytest.warns(CorruptResultWarning, match="corrupt result"):
        again = run(BASE, results_dir=tmp_path, progress=False)
    assert numbers(again) == numbers(first)
    assert path.with_name("result.json.corrupt").exists()


def test_weights_are_saved_and_loaded_without_pickle(tmp_path):
    result = run(BASE, results_dir=tmp_path, progress=False, save_weights=True)
    tensors = ResultStore(tmp_path).load_weights(result.key)
    masks = {k: v for k, v in tensors.items() if k.startswith("mask/")}
    assert sum(int(m.sum()) for m in masks.values()) == round(
        0.2 * result.metrics["prunable_weights"])
    for name, m in masks.items():
        weight = tensors["param/" + name.removeprefix("mask/")]
        assert (weight[~m.bool()] == 0).all()


def test_sweep_returns_one_tidy_row_per_run(tmp_path):
    grid = {"prune.method": ["random", "synflow"], "prune.density": [0.5, 0.1], "seed": [0, 1]}
    frame = sweep(BASE.replace(**{"train.epochs": 1}), grid, results_dir=tmp_path,
                  progress=False)
    assert len(frame) == 8
    assert {"key", "prune.method", "prune.density", "seed", "model.hidden", "test_accuracy",
            "effective_density"} <= set(frame.columns)
    assert frame["key"].is_unique
    assert (frame.groupby("prune.density")["density"].max() <= frame.groupby(
        "prune.density")["prune.density"].first() + 1e-3).all()
    layers = layers_frame(sweep_results(BASE.replace(**{"train.epochs": 1}), grid,
                                        results_dir=tmp_path, progress=False))
    assert len(layers) == 8 * 2 and {"layer", "density", "effective_density"} <= set(layers)


def test_grid_rejects_an_invalid_combination_with_one_line():
    from pruninglib.config import ConfigError
    with pytest.raises(ConfigError, match=r"prune\.density=0\.5 .*'dense'"):
        grid_specs(BASE, {"prune.method": ["dense"], "prune.density": [0.5]})


@pytest.mark.parametrize("method, extra", [
    ("imp", {"prune.iterations": 2}),
    ("erk", {"prune.reinit": True}),
    ("grasp", {"prune.shuffle": True}),
    ("random", {"prune.rescale": "fan_in"}),
    ("dense", {"prune.density": 1.0}),
])
def test_every_option_runs_end_to_end(tmp_path, method, extra):
    spec = BASE.replace(**{"prune.method": method, **extra})
    result = run(spec, results_dir=tmp_path, progress=False)
    expected = spec.prune.density
    assert result.metrics["density"] == pytest.approx(expected,
                                                      abs=1 / result.metrics["prunable_weights"])
    assert 0 <= result.metrics["test_accuracy"] <= 1


SWEEP_SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from pruninglib.config import *
    from pruninglib.runs.experiments import sweep
    base = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(64, 64)),
                   prune=PruneSpec("synflow", density=0.3), train=TrainSpec(epochs=3, batch_size=16))
    frame = sweep(base, {"prune.density": [0.5, 0.2, 0.1, 0.05], "seed": [0, 1]},
                  results_dir=sys.argv[1], progress=False)
    frame.to_json(sys.argv[2])
""")


def _sweep_process(results: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT, str(results), str(out)],
                            env={**os.environ, "PYTHONHASHSEED": "0"})


def test_a_killed_sweep_resumes_to_the_same_frame(tmp_path):
    reference = tmp_path / "ref.json"
    assert _sweep_process(tmp_path / "uninterrupted", reference).wait(120) == 0

    results = tmp_path / "interrupted"
    proc = _sweep_process(results, tmp_path / "never.json")
    deadline = time.time() + 120
    while len(ResultStore(results).keys()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = ResultStore(results).keys()
    assert 2 <= len(finished) < 8, "the kill should land mid-sweep"
    assert not list(results.glob("**/*.tmp")) or all(
        not p.name.startswith("result") for p in results.glob("**/*.tmp"))

    resumed = tmp_path / "resumed.json"
    assert _sweep_process(results, resumed).wait(120) == 0
    drop = TIMING
    a = pd.read_json(reference).drop(columns=drop)
    b = pd.read_json(resumed).drop(columns=drop)
    pd.testing.assert_frame_equal(a, b)
    # runs finished before the kill were loaded, not recomputed: their files are untouched
    store = ResultStore(results)
    for key in finished:
        assert store.load(key) is not None


def test_results_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLIB_RESULTS", str(tmp_path / "env-results"))
    result = run(BASE.replace(**{"train.epochs": 0}), progress=False)
    assert ResultStore(tmp_path / "env-results").has(result.key)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run(BASE.replace(**{"train.epochs": 0}), progress=False).key == result.key
