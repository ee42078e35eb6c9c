"""Pieces of Hayou et al.'s robust pruning: SBP-SR's BN-free scoring and the pruned network
at initialisation."""
from __future__ import annotations

import pytest
import torch
from helpers import make_model
from torch import nn

from pruninglib.chapters.robust_pruning.at_init import (
    network_at_init,
    units_without_inputs,
)
from pruninglib.config import (
    ConfigError,
    DataSpec,
    ModelSpec,
    PruneSpec,
    RunSpec,
    TrainSpec,
)
from pruninglib.masks import full_mask
from pruninglib.pruners import ScoringContext, prune
from pruninglib.pruners.scores import snip_scorer


def test_bn_mode_none_scores_the_batchnorm_free_twin():
    """SNIP with bn_mode='none' on a residual MLP with BatchNorm equals SNIP on the same
    weights in the architecture built without BatchNorm (the reference's BN-free copy)."""
    with_bn = make_model("resmlp", input_shape=(6,), num_classes=3, hidden=(5,) * 3,
                         stable=True, batchnorm=True, seed=1)
    without = make_model("resmlp", input_shape=(6,), num_classes=3, hidden=(5,) * 3,
                         stable=True, batchnorm=False, seed=2)
    with torch.no_grad():
        linears_bn = [m for m in with_bn.modules() if isinstance(m, nn.Linear)]
        linears = [m for m in without.modules() if isinstance(m, nn.Linear)]
        for a, b in zip(linears_bn, linears, strict=True):
            b.weight.copy_(a.weight)
            b.bias.copy_(a.bias)
        for m in with_bn.modules():  # make BatchNorm matter if it were used
            if isinstance(m, nn.BatchNorm1d):
                m.weight.fill_(3.0)
                m.running_var.fill_(0.1)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 6, generator=g), torch.randint(0, 3, (12,), generator=g)
    ctx = ScoringContext(input_shape=(6,), x=x, y=y)
    spec = PruneSpec("snip", density=0.5, bn_mode="none")
    got = snip_scorer(with_bn, ctx, spec)(full_mask(with_bn))
    want = snip_scorer(without, ctx, spec)(full_mask(without))
    for a, b in zip(got.values(), want.values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-12)
    evaluated = snip_scorer(with_bn, ctx, PruneSpec("snip", density=0.5))(full_mask(with_bn))
    assert not torch.allclose(next(iter(evaluated.values())), next(iter(got.values())))
    # the model itself keeps its BatchNorm layers
    assert sum(isinstance(m, nn.BatchNorm1d) for m in with_bn.modules()) == 3


def test_bn_mode_none_is_a_valid_choice_and_others_are_not():
    assert PruneSpec("snip", density=0.1, bn_mode="none").bn_mode == "none"
    with pytest.raises(ConfigError, match="bn_mode"):
        PruneSpec("snip", density=0.1, bn_mode="off")


def test_network_at_init_is_the_pruned_and_rescaled_initial_network(tmp_path):
    """Same initial weights as the dense run of the seed; pruned weights are zero; every unit
    with a surviving weight has its dense incoming squared norm back (rescaling)."""
    base = RunSpec(data=DataSpec("synthetic"),
                   model=ModelSpec("mlp", hidden=(24, 24), activation="tanh", sigma_w=1.3,
                                   sigma_b=0.2),
                   train=TrainSpec(epochs=2), seed=3)
    pruned_spec = base.replace(**{"prune.method": "snip", "prune.density": 0.3,
                                  "prune.rescale": "fan_in"})
    dense, dense_mask = network_at_init(base, results_dir=tmp_path, device="cpu")
    state = torch.random.get_rng_state()
    model, mask = network_at_init(pruned_spec, results_dir=tmp_path, device="cpu")
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's stream is kept
    assert list(mask) == ["features.0.weight", "features.2.weight", "classifier.weight"]
    assert all(bool(m.all()) for m in dense_mask.values())
    kept = sum(int(m.sum()) for m in mask.values())
    total = sum(m.numel() for m in mask.values())
    assert kept == round(0.3 * total)
    named, dense_named = dict(model.named_parameters()), dict(dense.named_parameters())
    for name, m in mask.items():
        w, w0 = named[name].detach().double(), dense_named[name].detach().double()
        assert torch.all(w[~m] == 0)
        alive = m.any(1)
        torch.testing.assert_close((w ** 2).sum(1)[alive], (w0 ** 2).sum(1)[alive],
                                   rtol=1e-5, atol=0)
        ratio = w[m] / w0[m]  # one positive factor per unit
        assert torch.all(ratio >= 1 - 1e-6)
    for name in ("features.0.bias", "classifier.bias"):  # biases are neither pruned nor scaled
        torch.testing.assert_close(named[name], dense_named[name])
    # the same network the training run starts from: its mask is the run's mask
    _, again_mask = network_at_init(pruned_spec, results_dir=tmp_path, device="cpu")
    for name in mask:
        assert torch.equal(mask[name], again_mask[name])


def test_prune_on_the_bn_free_copy_keeps_the_requested_count():
    model = make_model("resnet20", input_shape=(3, 8, 8), num_classes=4, width=0.25,
                       stable=True)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 4, (8,), generator=g)
    mask = prune(model, PruneSpec("snip", density=0.05, bn_mode="none"),
                 ScoringContext(input_shape=(3, 8, 8), x=x, y=y, generator=g))
    kept = sum(int(m.sum()) for m in mask.values())
    assert kept == round(0.05 * sum(m.numel() for m in mask.values()))


def test_units_without_inputs_counts_empty_rows():
    mask = {"a": torch.tensor([[True, False], [False, False], [False, False], [True, True]]),
            "conv": torch.zeros(2, 3, 3, 3, dtype=torch.bool)}
    mask["conv"][1, 2, 0, 0] = True
    assert units_without_inputs(mask) == {"a": 0.5, "conv": 0.5}
