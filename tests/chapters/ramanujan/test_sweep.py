"""The chapter's training grid, built from its parameters."""
from __future__ import annotations

from pruninglib.chapters.ramanujan.mask_graphs import method_variant
from pruninglib.chapters.ramanujan.sweep import (
    base_spec,
    keeps_mask,
    method_change,
    run_tasks,
    sweep_specs,
)

PARAMS = {"models": ["mlp", "conv4"], "dataset": "synthetic", "augment": False,
          "hidden": [32, 16], "widths": {"mlp": 1.0, "conv4": 0.25},
          "train_subset": {"mlp": 200, "conv4": None}, "test_subset": {"mlp": 100, "conv4": 50},
          "epochs": {"mlp": 2, "conv4": 1}, "densities": {"mlp": [0.2, 0.05], "conv4": [0.1]},
          "methods": ["random", "iter_snip", "synflow"],
          "iter_snip_rounds": {"mlp": 7, "conv4": 3}, "bf16": {"conv4": True},
          "optimizer": {"conv4": "adam"}, "lr": {"mlp": 0.05, "conv4": 0.001},
          "channels_last": {"conv4": True},
          "schedule": "cosine", "weight_decay": 0.0, "batch_size": 64, "seeds": 2}


def test_method_change_tells_iterative_snip_by_its_rounds():
    assert method_change("iter_snip", 7) == {"prune.method": "snip", "prune.iterations": 7}
    assert method_change("erk", 7) == {"prune.method": "erk"}


def test_base_spec_takes_the_models_knobs():
    mlp, conv = base_spec(PARAMS, "mlp"), base_spec(PARAMS, "conv4")
    assert mlp.model.hidden == (32, 16) and conv.model.hidden == ()
    assert conv.model.width == 0.25 and mlp.data.train_subset == 200
    assert (mlp.train.epochs, conv.train.epochs, conv.data.test_subset) == (2, 1, 50)
    assert (mlp.train.bf16, conv.train.bf16) == (False, True)  # off without an entry
    assert (mlp.train.optimizer, mlp.train.lr) == ("sgd", 0.05)  # sgd without an entry
    assert (conv.train.optimizer, conv.train.lr, conv.train.channels_last) == ("adam", 0.001, True)
    assert not mlp.train.channels_last


def test_sweep_specs_cover_models_methods_densities_and_seeds():
    dense, pruned = sweep_specs(PARAMS)
    assert [(s.model.name, s.seed) for s in dense] == [("mlp", 0), ("mlp", 1), ("conv4", 0),
                                                       ("conv4", 1)]
    assert len(pruned) == 3 * 2 * 2 + 3 * 1 * 2
    cells = {(s.model.name, method_variant(s), s.prune.density, s.seed) for s in pruned}
    assert len(cells) == len(pruned)
    assert ("mlp", "iter_snip", 0.05, 1) in cells and ("conv4", "synflow", 0.1, 0) in cells
    assert {(s.model.name, s.prune.rounds) for s in pruned
            if method_variant(s) == "iter_snip"} == {("mlp", 7), ("conv4", 3)}


def test_runs_of_iterative_methods_keep_their_masks():
    dense, pruned = sweep_specs(PARAMS)
    dense_tasks, pruned_tasks = run_tasks(PARAMS)
    assert [t.key() for t in dense_tasks] == [s.key() for s in dense]
    assert [t.key() for t in pruned_tasks] == [s.key() for s in pruned]
    assert not any(t.weights for t in dense_tasks)
    kept = {method_variant(s) for s, t in zip(pruned, pruned_tasks) if t.weights}
    assert kept == {"iter_snip", "synflow"}  # random is found again in no time
    assert not keeps_mask(dense[0])


def test_the_cpu_profile_runs_conv4_at_its_published_width_with_three_seeds():
    from pruninglib.book.parameters import parameters_for

    params = parameters_for("ramanujan", "cpu")
    assert params.widths["conv4"] == 1.0 and params.seeds >= 3
    conv = base_spec(params, "conv4")
    assert conv.model.width == 1.0
    # float32 channels-last and Adam: bf16 was slower here and SGD left masks at chance
    assert conv.train.channels_last and not conv.train.bf16 and conv.train.optimizer == "adam"
    assert all(len(params.densities[m]) >= 2 for m in params.models)  # a median of >= 2
