"""Derived runs: magnitude pruning of trained weights with fine-tuning, masks retrained from
scratch, trained models rebuilt from the store."""
from __future__ import annotations

import pytest
import torch

from pruninglib.chapters.pruning_similarity import finetune
from pruninglib.chapters.pruning_similarity.finetune import (
    FinetuneSpec,
    ScratchSpec,
    finetune_path,
    load_trained,
    run,
)
from pruninglib.config import ConfigError, DataSpec, ModelSpec, RunSpec, TrainSpec
from pruninglib.data import load_data
from pruninglib.masks import full_mask
from pruninglib.models import build_model
from pruninglib.runs import experiments
from pruninglib.seeds import derive_seed
from pruninglib.train import evaluate

DENSE = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(16, 8)),
                train=TrainSpec(epochs=2, batch_size=64))
PRUNE_ONLY = TrainSpec(epochs=0)
TUNE = TrainSpec(epochs=1, batch_size=64, lr=0.01)


def _weights(model, mask):
    named = dict(model.named_parameters())
    return {n: named[n].detach() for n in mask}


def test_specs_validate_with_one_line_errors():
    for densities in ((0.5, 0.5), (), (1.0,), (0.2, 0.4), (0.5, -0.1), (True,)):
        with pytest.raises(ConfigError, match="finetune.densities=.* strictly decreasing "
                                              "tuple of densities in \\(0, 1\\)") as error:
            FinetuneSpec(DENSE, densities)
        assert "\n" not in str(error.value)
    pruned = DENSE.replace(**{"prune.method": "random", "prune.density": 0.3})
    with pytest.raises(ConfigError, match=r"below the parent's density"):
        FinetuneSpec(pruned, (0.4,))
    with pytest.raises(ConfigError, match="scratch.variant='shuffle'"):
        ScratchSpec(FinetuneSpec(DENSE, (0.5,)), "shuffle", TUNE)


def test_keys_are_stable_and_change_with_anything_upstream():
    spec = FinetuneSpec(DENSE, (0.5, 0.2), TUNE)
    assert spec.key() == FinetuneSpec(DENSE, [0.5, 0.2], TUNE).key()
    assert spec.key() != FinetuneSpec(DENSE.replace(seed=1), (0.5, 0.2), TUNE).key()
    assert spec.key() != FinetuneSpec(DENSE, (0.5, 0.2), TUNE, seed=1).key()
    assert spec.previous == FinetuneSpec(DENSE, (0.5,), TUNE)
    assert FinetuneSpec(DENSE, (0.5,), TUNE).previous == DENSE
    scratch = ScratchSpec(spec, "reinit", DENSE.train)
    assert scratch.key() != ScratchSpec(spec, "random", DENSE.train).key()
    assert [s.densities for s in finetune_path(DENSE, [0.5, 0.2, 0.1])] == [
        (0.5,), (0.5, 0.2), (0.5, 0.2, 0.1)]


def test_derived_keys_are_those_of_the_results_built_before_the_cached_task_path():
    # sha256 of {"kind": "finetune" | "scratch", "spec": ...}, as stored in results/derived/
    spec = FinetuneSpec(DENSE, (0.5, 0.2), TUNE)
    assert spec.key() == "f9a7ca8d7b962131"
    assert ScratchSpec(spec, "reinit", DENSE.train, seed=1).key() == "268b19c72e213f7f"
    assert finetune.task_of(spec).kind == "derived" and finetune.task_of(spec).weights
    assert finetune.task_of(DENSE).key() == DENSE.key()  # a parent is a training run
    random = ScratchSpec(spec, "random", DENSE.train, seed=1)  # its draw order changed
    assert random.to_dict()["draw_order"] == "layers"
    for each in (spec, random, DENSE):
        assert finetune.spec_from_tagged(finetune.tagged(each)) == each
    assert [finetune.depth(s) for s in (DENSE, spec, random)] == [0, 2, 3]


def test_pruning_without_fine_tuning_keeps_the_largest_trained_weights(tmp_path):
    dense_model, _ = load_trained(DENSE, results_dir=tmp_path)
    trained = _weights(dense_model, full_mask(dense_model))
    flat = torch.cat([w.abs().flatten() for w in trained.values()])
    keep = round(0.2 * flat.numel())
    threshold = flat.sort(descending=True).values[keep - 1]
    for path in ((0.2,), (0.5, 0.2)):  # magnitude pruning is nested: the path does not matter
        spec = FinetuneSpec(DENSE, path, PRUNE_ONLY)
        result = run(spec, results_dir=tmp_path, progress=False)
        model, mask = load_trained(spec, results_dir=tmp_path)
        assert sum(int(m.sum()) for m in mask.values()) == keep
        assert result.metrics["density"] == pytest.approx(keep / flat.numel())
        for name, m in mask.items():
            assert torch.equal(m, trained[name].abs() >= threshold)
            assert torch.equal(_weights(model, mask)[name], trained[name] * m)


def test_fine_tuning_keeps_the_mask_nested_and_pruned_weights_zero(tmp_path):
    first, second = finetune_path(DENSE, (0.5, 0.2), train=TUNE)
    results = finetune.run_all([first, second], results_dir=tmp_path, progress=False)
    assert [len(r.history) for r in results] == [1, 1]
    _, mask1 = load_trained(first, results_dir=tmp_path)
    model2, mask2 = load_trained(second, results_dir=tmp_path)
    for name in mask1:
        assert not (mask2[name] & ~mask1[name]).any()  # nothing revived
        assert (_weights(model2, mask2)[name][~mask2[name]] == 0).all()
    data = load_data(DataSpec("synthetic"))
    _loss, accuracy = evaluate(model2, data.test_x, data.test_y)
    assert accuracy == results[1].metrics["test_accuracy"]


def test_a_stored_derived_run_is_loaded_not_recomputed(tmp_path, monkeypatch):
    spec = FinetuneSpec(DENSE, (0.3,), TUNE)
    first = run(spec, results_dir=tmp_path, progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("a stored run was recomputed")
    monkeypatch.setattr(finetune, "train", fail)
    monkeypatch.setattr(experiments, "train", fail)
    again = run(spec, results_dir=tmp_path, progress=False)
    assert again.metrics == first.metrics and again.key == first.key


def test_scratch_variants_share_fresh_weights_and_keep_the_layer_counts(tmp_path):
    source = FinetuneSpec(DENSE, (0.25,), PRUNE_ONLY)
    _, source_mask = load_trained(source, results_dir=tmp_path)
    reinit_spec = ScratchSpec(source, "reinit", PRUNE_ONLY)
    random_spec = ScratchSpec(source, "random", PRUNE_ONLY)
    reinit, reinit_mask = load_trained(reinit_spec, results_dir=tmp_path)
    shuffled, random_mask = load_trained(random_spec, results_dir=tmp_path)

    torch.manual_seed(derive_seed(0, "scratch-init"))
    fresh = _weights(build_model(DENSE.model, (1, 8, 8), 4), source_mask)
    torch.manual_seed(derive_seed(0, "init"))  # the parent's initial weights
    parent_init = _weights(build_model(DENSE.model, (1, 8, 8), 4), source_mask)
    for name, m in source_mask.items():
        assert torch.equal(reinit_mask[name], m)
        assert int(random_mask[name].sum()) == int(m.sum())
        assert not torch.equal(random_mask[name], m)
        assert torch.equal(_weights(reinit, source_mask)[name], fresh[name] * m)
        assert torch.equal(_weights(shuffled, random_mask)[name], fresh[name] * random_mask[name])
        assert not torch.equal(fresh[name], parent_init[name])


def test_to_frame_describes_every_kind_of_run(tmp_path):
    source = FinetuneSpec(DENSE, (0.3,), PRUNE_ONLY, seed=3)
    specs = [DENSE, source, ScratchSpec(source, "random", PRUNE_ONLY, seed=1),
             DENSE.replace(**{"prune.method": "snip", "prune.density": 0.3})]
    frame = finetune.to_frame(finetune.run_all(specs, results_dir=tmp_path, progress=False))
    assert frame["variant"].tolist() == ["dense", "magnitude", "random", "snip"]
    assert frame["density"].tolist() == [1.0, 0.3, 0.3, 0.3]  # asked for: 0.3 x 1184 weights
    assert frame["achieved_density"].tolist() == [1.0] + [355 / 1184] * 3  # kept 355
    assert frame["seed"].tolist() == [0, 3, 1, 0]
    assert frame["finetune_epochs"].tolist() == [0, 0, 0, 0]  # prune only: 0 epochs a step
    assert frame["finetune_lr"].tolist() == [0.0, PRUNE_ONLY.lr, 0.0, 0.0]
    assert frame["test_accuracy"].between(0, 1).all()


def test_masks_come_input_to_output_whatever_the_stored_order(tmp_path):
    source = FinetuneSpec(DENSE, (0.25,), PRUNE_ONLY)
    for spec in (DENSE, source, ScratchSpec(source, "random", PRUNE_ONLY)):
        _, mask = load_trained(spec, results_dir=tmp_path)
        assert list(mask) == ["features.0.weight", "features.2.weight", "classifier.weight"]


def test_derived_runs_go_through_a_process_pool_and_are_loaded_not_recomputed(
        tmp_path, monkeypatch):
    path = finetune_path(DENSE, (0.5, 0.2), train=TUNE)
    specs = [DENSE, *path, ScratchSpec(path[-1], "reinit", PRUNE_ONLY)]
    first = finetune.run_all(specs, executor="pool:2", results_dir=tmp_path, progress=False)
    assert len(list((tmp_path / "derived").glob("*/*/weights.safetensors"))) == 3

    def fail(*args, **kwargs):
        raise AssertionError("a stored run was recomputed")
    monkeypatch.setattr(finetune, "compute_derived", fail)
    monkeypatch.setattr(experiments, "compute_run", fail)
    again = finetune.run_all(specs, results_dir=tmp_path, progress=False)
    assert [r.metrics for r in again] == [r.metrics for r in first]
    monkeypatch.undo()
    inline = finetune.run_all(specs, results_dir=tmp_path / "inline", progress=False)
    assert [r.metrics["test_accuracy"] for r in inline] == [
        r.metrics["test_accuracy"] for r in first]  # the pool computes the same numbers


def test_uniform_random_masks_keep_the_total_at_one_density_in_every_layer(tmp_path):
    source = FinetuneSpec(DENSE, (0.25,), PRUNE_ONLY)
    _, source_mask = load_trained(source, results_dir=tmp_path)
    uniform_spec = ScratchSpec(source, "uniform", PRUNE_ONLY)
    assert uniform_spec.to_dict()["draw_order"] == "layers"
    model, mask = load_trained(uniform_spec, results_dir=tmp_path)
    kept = {n: int(m.sum()) for n, m in mask.items()}
    total = sum(m.numel() for m in mask.values())
    density = sum(int(m.sum()) for m in source_mask.values()) / total
    assert kept == {n: max(1, round(density * m.numel())) for n, m in mask.items()}
    assert kept != {n: int(m.sum()) for n, m in source_mask.items()}  # magnitude is not uniform
    torch.manual_seed(derive_seed(0, "scratch-init"))  # the fresh weights of every variant
    fresh = _weights(build_model(DENSE.model, (1, 8, 8), 4), mask)
    for name, m in mask.items():
        assert torch.equal(_weights(model, mask)[name], fresh[name] * m)
    random = finetune.random_mask(source_mask, "random", 0)
    again = finetune.random_mask(source_mask, "uniform", 0)
    assert all(torch.equal(again[n], mask[n].cpu()) for n in mask)  # drawn from (seed, purpose)
    assert any(not torch.equal(random[n] & again[n], again[n]) for n in mask)
    with pytest.raises(ValueError, match="variant='reinit' is not allowed: random or uniform"):
        finetune.random_mask(source_mask, "reinit", 0)
