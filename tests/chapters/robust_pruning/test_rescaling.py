"""The measured chi of pruned networks: cached tasks of kind 'chi', on any executor."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from pruninglib.analysis import eoc
from pruninglib.chapters.robust_pruning import rescaling, sweeps
from pruninglib.chapters.robust_pruning.at_init import (
    network_at_init,
    units_without_inputs,
)
from pruninglib.config import DataSpec, RunSpec
from pruninglib.data import load_data

from .frames import params

SMALL = params(seeds=1, methods=["snip"], train_densities=[0.5], width=12, train_depth=6)


def test_a_chi_task_does_not_depend_on_the_training_budget():
    spec = RunSpec(data=DataSpec("synthetic"))
    key = rescaling.chi_task(spec, 16, 2).key()
    assert rescaling.chi_task(spec.replace(**{"train.epochs": 7}), 16, 2).key() == key
    assert rescaling.chi_task(spec, 32, 2).key() != key
    assert rescaling.chi_task(spec, 16, 2).spec["run"]["train"]["epochs"] == 0


def test_chi_study_runs_on_a_pool_and_is_loaded_not_recomputed(tmp_path, monkeypatch):
    first = rescaling.chi_study(SMALL, executor="pool:2", results_dir=tmp_path, device="cpu")
    assert first[["prune.method", "prune.rescale"]].values.tolist() == [
        ["dense", "none"], ["snip", "none"], ["snip", "fan_in"]]
    assert len(list((tmp_path / "chi").glob("*/*/result.json"))) == 3
    assert first.loc[0, "inputless"] == 0.0 and (first["chi"] > 0).all()

    def fail(*args, **kwargs):
        raise AssertionError("a stored chi was recomputed")

    monkeypatch.setattr(rescaling, "compute_chi", fail)
    again = rescaling.chi_study(SMALL, results_dir=tmp_path, device="cpu")
    pd.testing.assert_frame_equal(first, again)


def test_chi_is_measured_on_the_network_the_run_starts_from(tmp_path):
    """The task's numbers are those of the network at init measured directly (the
    computation the notebook did inline before it was a cached task)."""
    frame = rescaling.chi_study(SMALL, results_dir=tmp_path, device="cpu")
    row = frame.iloc[1]
    spec = RunSpec(data=DataSpec("synthetic"),
                   model=sweeps.mlp_model(SMALL, "tanh", "eoc", SMALL.train_depth))
    spec = spec.replace(**{"prune.method": "snip", "prune.density": 0.5, "seed": 0})
    net, mask = network_at_init(spec, results_dir=tmp_path, device="cpu")
    probe = load_data(DataSpec("synthetic")).test_x[:SMALL.chi_inputs]
    chi = eoc.measured_chi(net, probe, skip=min(5, SMALL.train_depth - 2),
                           generator=torch.Generator().manual_seed(0))
    assert row["chi"] == pytest.approx(chi, rel=1e-12)
    assert row["inputless"] == pytest.approx(
        sum(units_without_inputs(mask).values()) / len(mask))


def test_the_width_study_builds_in_the_task_the_network_a_run_starts_from(tmp_path):
    """chi_width (built in the task from the run's mask) equals chi (the run's stored network)
    at the same width; one row per (width, variant, seed)."""
    small = params(seeds=1, methods=["snip"], train_densities=[0.5], width=12,
                   train_depth=6, chi_widths=[12, 24])
    widths = rescaling.width_study(small, results_dir=tmp_path, device="cpu")
    assert widths[["width", "prune.rescale"]].values.tolist() == [
        [12, "none"], [12, "none"], [12, "fan_in"], [24, "none"], [24, "none"], [24, "fan_in"]]
    assert not list(tmp_path.glob("run/*/*/*.safetensors"))   # masks only, no weights
    at_12 = widths[widths["width"] == 12].reset_index(drop=True)
    stored = rescaling.chi_study(small, results_dir=tmp_path, device="cpu")
    assert at_12["chi"].tolist() == pytest.approx(stored["chi"].tolist(), rel=1e-9)
    assert at_12["inputless"].tolist() == pytest.approx(stored["inputless"].tolist())
