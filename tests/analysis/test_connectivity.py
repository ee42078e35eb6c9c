"""Effective sparsity, layer collapse and critical compression."""
from __future__ import annotations

import math

import torch

from helpers import make_model
from pruninglib.analysis.connectivity import (collapsed_layers, critical_compression,
                                              effective_mask, max_compression)
from pruninglib.config import PruneSpec
from pruninglib.masks import count, full_mask
from pruninglib.pruners import ScoringContext, prune


def test_weights_cut_off_from_the_input_are_not_effective():
    model = make_model("mlp", input_shape=(4,), num_classes=2, hidden=(3, 3), bias=False)
    mask = full_mask(model)
    first, second, last = mask
    mask[first][1] = False  # hidden unit 1 of layer 1 receives nothing
    eff = effective_mask(model, mask, (4,))
    assert not eff[second][:, 1].any()  # so what it sends is useless
    assert eff[second][:, [0, 2]].all() and eff[first][[0, 2]].all()
    mask[last][:, 2] = False  # unit 2 of layer 2 reaches no output
    eff = effective_mask(model, mask, (4,))
    assert not eff[second][2].any()


def test_effective_mask_is_the_full_mask_when_dense_even_with_batchnorm_and_shortcuts():
    model = make_model("resnet20", input_shape=(3, 16, 16), num_classes=10, width=0.25)
    mask = full_mask(model)
    eff = effective_mask(model, mask, (3, 16, 16))
    assert count(eff) == count(mask)


def test_random_pruning_loses_effective_weights_but_synflow_does_not():
    # Vysogorets & Kempe: at high compression random masks have far fewer effective weights,
    # SynFlow's almost none fewer (a handful, cut off by its last pruning round, which is not
    # re-scored: 796 of 799 here with 100 rounds).
    model = make_model("lenet_300_100", input_shape=(1, 28, 28), num_classes=10)
    ctx = ScoringContext(input_shape=(1, 28, 28), generator=torch.Generator().manual_seed(0))
    rand = prune(model, PruneSpec("random", density=0.003), ctx)
    syn = prune(model, PruneSpec("synflow", density=0.003), ctx)
    assert count(effective_mask(model, rand, (1, 28, 28)))[0] < 0.5 * count(rand)[0]
    assert count(effective_mask(model, syn, (1, 28, 28)))[0] >= 0.99 * count(syn)[0]


def test_collapsed_layers_and_critical_compression():
    mask = {"a": torch.zeros(3, dtype=torch.bool), "b": torch.ones(2, dtype=torch.bool)}
    assert collapsed_layers(mask) == ["a"]
    assert critical_compression([100, 10, 1000, 1], [True, False, True, False]) == 10
    assert math.isnan(critical_compression([10], [True]))


def test_max_compression_is_weights_per_layer():
    mask = {"a": torch.ones(100, dtype=torch.bool), "b": torch.ones(20, dtype=torch.bool)}
    assert max_compression(mask) == 60
