"""Synaptic saliency of the pruning objectives and the conservation summaries, against closed
forms: Euler's theorem per layer, exact conservation without biases, scale invariance under
train-mode BatchNorm."""
from __future__ import annotations

import pytest
import torch

from helpers import make_model
from pruninglib.analysis import saliency as sal

SHAPE = (1, 8, 8)


def _batch(n=16, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *SHAPE), generator=g), torch.randint(0, classes, (n,), generator=g)


def test_synflow_layer_totals_equal_the_synflow_objective_of_a_linear_net():
    # R = 1^T |W3| |W2| |W1| 1 is linear in each layer's weights, so (Euler) every layer's
    # saliency sums to R itself.
    model = make_model("mlp", hidden=(5, 3), bias=False, activation="linear")
    scores = sal.saliency(model, "synflow", input_shape=SHAPE)
    w1, w2, w3 = (p.detach().double().abs() for p in model.parameters())
    r = float((w3 @ w2 @ w1 @ torch.ones(64, dtype=torch.float64)).sum())
    for total in sal.layer_frame(scores)["total"]:
        assert total == pytest.approx(r, rel=1e-12)
    assert sal.total_spread(scores) < 1e-12
    assert sal.size_slope(scores) == pytest.approx(-1.0, abs=1e-9)


def test_snip_saliency_is_conserved_without_biases_and_not_with_them():
    x, y = _batch()
    plain = make_model("mlp", hidden=(24, 6, 12), bias=False)
    assert sal.conservation_error(sal.saliency(plain, "snip", input_shape=SHAPE, x=x, y=y)) \
        < 1e-12
    biased = make_model("mlp", hidden=(24, 6, 12), sigma_b=0.5)
    assert sal.conservation_error(sal.saliency(biased, "snip", input_shape=SHAPE, x=x, y=y)) \
        > 1e-3


def test_train_mode_batchnorm_makes_the_incoming_saliency_vanish():
    # BatchNorm on batch statistics makes the loss invariant to the scale of a unit's incoming
    # weights (up to its eps = 1e-5 added to the variance), so their saliency sums to zero
    # while the outgoing one does not.
    x, y = _batch()
    model = make_model("mlp", hidden=(24, 12), bias=False, batchnorm=True)
    flows = sal.unit_flow_frame(sal.saliency(model, "snip", input_shape=SHAPE, x=x, y=y,
                                             bn_mode="train"))
    assert flows["incoming"].abs().max() < 1e-4 * flows["outgoing"].abs().max()
    assert sal.conservation_error(sal.saliency(model, "snip", input_shape=SHAPE, x=x, y=y,
                                               bn_mode="eval")) < 1e-12


def test_residual_net_conserves_across_a_cut_but_not_per_layer():
    model = make_model("resnet20", width=0.25, bias=False)
    scores = sal.saliency(model, "synflow", input_shape=SHAPE)
    names = list(scores)
    assert sal.total_spread(scores, [names[0], names[-1]]) < 1e-12  # stem and classifier
    assert sal.total_spread(scores) > 0.1


def test_unit_flow_frame_has_one_row_per_hidden_unit():
    model = make_model("mlp", hidden=(5, 3), bias=False)
    frame = sal.unit_flow_frame(sal.saliency(model, "synflow", input_shape=SHAPE))
    assert list(frame.groupby("layer_index").size()) == [5, 3]
    with pytest.raises(ValueError):
        sal.saliency(model, "magnitude", input_shape=SHAPE)
