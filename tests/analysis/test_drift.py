"""Representation drift: which outputs are a layer's representation, similarity to a
reference through real networks (function-preserving permutations give exactly 1)."""
from __future__ import annotations

import copy
import itertools
import math

import pandas as pd
import pytest
import torch

from pruninglib.analysis.drift import (drift_frame, layer_similarity, minus_control,
                                       position_means, representation_layers, with_positions)

from helpers import make_model


def test_representation_layers_follow_the_activation_after_each_prunable_layer():
    lenet = make_model("lenet_300_100", input_shape=(1, 28, 28), num_classes=10)
    assert representation_layers(lenet) == {"features.0.weight": "features.1",
                                            "features.2.weight": "features.3",
                                            "classifier.weight": "classifier"}
    vgg = make_model("vgg11", input_shape=(1, 28, 28), num_classes=10, width=0.25)
    layers = representation_layers(vgg)
    assert list(layers.items())[:2] == [("features.0.weight", "features.2"),  # after BN
                                        ("features.4.weight", "features.6")]
    assert len(layers) == 9 and layers["classifier.weight"] == "classifier"
    resnet = make_model("resnet20", input_shape=(3, 32, 32), num_classes=10, width=0.25)
    layers = representation_layers(resnet)
    assert layers["layer2.0.branch.0.weight"] == "layer2.0.branch.2"
    assert layers["layer2.0.branch.3.weight"] == layers["layer2.0.shortcut.0.weight"] \
        == "layer2.0.post"  # both feed the block's output
    linear = make_model("mlp", hidden=(5, 5), activation="linear")  # Identity: no activation
    assert representation_layers(linear) == {"features.0.weight": "features.0",
                                             "features.2.weight": "features.2",
                                             "classifier.weight": "classifier"}


def test_constant_layers_give_nan_and_unknown_measures_fail():
    x = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))
    assert layer_similarity(x, x) == pytest.approx({"svcca": 1, "pwcca": 1, "cka": 1})
    dead = torch.zeros(3, 50)
    assert all(math.isnan(v) for v in layer_similarity(x, dead, ["svcca", "cka"]).values())
    with pytest.raises(ValueError, match="measures: 'cca'"):
        layer_similarity(x, x, ["cca"])


def _permute_hidden(model, generator):
    """The same function with the hidden units of every hidden layer permuted."""
    model = copy.deepcopy(model)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for layer, following in itertools.pairwise(linears):
            perm = torch.randperm(layer.out_features, generator=generator)
            layer.weight.copy_(layer.weight[perm])
            layer.bias.copy_(layer.bias[perm])
            following.weight.copy_(following.weight[:, perm])
    return model


def test_a_function_preserving_permutation_is_fully_similar_and_a_new_seed_is_not():
    reference = make_model("mlp", hidden=(12, 6), seed=0)
    x = torch.randn(400, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    permuted = _permute_hidden(reference, torch.Generator().manual_seed(2))
    assert torch.allclose(permuted(x), reference(x), atol=1e-6)
    models = [({"name": "permuted"}, permuted),
              ({"name": "other seed"}, make_model("mlp", hidden=(12, 6), seed=5))]
    frame = drift_frame(reference, iter(models), x, measures=["svcca", "pwcca", "cka"],
                        batch_size=64)
    assert len(frame) == 2 * 3 * 3
    assert frame["neurons"].tolist()[:9] == [12] * 3 + [6] * 3 + [4] * 3
    same = frame[frame["name"] == "permuted"]["similarity"]
    assert same.to_numpy() == pytest.approx(1.0, abs=1e-6)
    other = frame[(frame["name"] == "other seed") & (frame["measure"] == "cka")]
    assert (other["similarity"] < 0.99).all()


def test_positions_mark_first_middle_and_last_per_model():
    frame = pd.DataFrame({"model.name": ["a"] * 4 + ["b"] * 2,
                          "layer_index": [0, 1, 2, 3, 0, 1]})
    assert with_positions(frame)["position"].tolist() == [
        "first", "middle", "middle", "last", "first", "last"]


def test_position_means_and_gaps_to_the_control_by_hand():
    frame = pd.DataFrame({
        "model.name": ["m"] * 8, "variant": ["dense"] * 4 + ["pruned"] * 4,
        "seed": [1] * 4 + [0] * 4, "measure": ["svcca"] * 8,
        "layer_index": [0, 1, 2, 3] * 2,
        "similarity": [0.9, 0.5, 0.7, 0.8, 0.95, 0.6, float("nan"), 0.9]})
    means = position_means(frame, ["model.name", "variant", "seed"])
    dense = means[means["variant"] == "dense"].iloc[0]
    assert (dense["first"], dense["middle"], dense["last"]) == pytest.approx((0.9, 0.6, 0.8))
    pruned = means[means["variant"] == "pruned"].iloc[0]
    assert math.isnan(pruned["middle"])  # a NaN layer is not skipped
    gaps = minus_control(means, means[means["variant"] == "dense"])
    row = gaps[gaps["variant"] == "pruned"].iloc[0]
    assert row["first_gap"] == pytest.approx(0.05) and row["last_gap"] == pytest.approx(0.1)
    assert row["middle_control"] == pytest.approx(0.6)

