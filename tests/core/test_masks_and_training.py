"""Masks stay exact through training; training is deterministic and learns; masks export."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import make_model
from pruninglib.config import DataSpec, TrainSpec
from pruninglib.data import load_data
from pruninglib.masks import (apply_mask, compression, density, full_mask, prunable_parameters,
                              to_torch_prune)
from pruninglib.train import evaluate, train

SYNTHETIC = load_data(DataSpec("synthetic", train_subset=128, test_subset=64))


def _random_mask(model, keep: float, seed: int):
    g = torch.Generator().manual_seed(seed)
    return {n: torch.rand(p.shape, generator=g) < keep
            for n, p in prunable_parameters(model).items()}


@settings(max_examples=12, deadline=None)
@given(hidden=st.lists(st.integers(1, 24), min_size=1, max_size=3),
       keep=st.floats(0.05, 0.95), seed=st.integers(0, 10_000),
       optimizer=st.sampled_from(["sgd", "adam"]), nesterov=st.booleans())
def test_pruned_weights_stay_exactly_zero_under_momentum_and_weight_decay(
        hidden, keep, seed, optimizer, nesterov):
    model = make_model("mlp", hidden=tuple(hidden), seed=seed)
    mask = _random_mask(model, keep, seed)
    spec = TrainSpec(epochs=2, batch_size=32, optimizer=optimizer, lr=0.1 if optimizer == "sgd"
                     else 0.01, momentum=0.9, nesterov=nesterov and optimizer == "sgd",
                     weight_decay=5e-4)
    train(model, SYNTHETIC, spec, generator=torch.Generator().manual_seed(seed), mask=mask,
          progress=False)
    named = dict(model.named_parameters())
    for n, m in mask.items():
        assert torch.count_nonzero(named[n].detach()[~m]) == 0
        assert torch.count_nonzero(named[n].detach()[m]) > 0 or not m.any()


def test_training_is_deterministic_and_learns(synthetic):
    spec = TrainSpec(epochs=3, batch_size=64, lr=0.05)
    histories = []
    for _ in range(2):
        model = make_model("mlp", hidden=(32,))
        histories.append(train(model, synthetic, spec, progress=False,
                               generator=torch.Generator().manual_seed(3)))
    strip = [[{k: v for k, v in h.items() if k != "seconds"} for h in hist]
             for hist in histories]
    assert strip[0] == strip[1]
    assert histories[0][-1]["test_accuracy"] > 0.9  # 4 well-separated classes
    assert [h["epoch"] for h in histories[0]] == [1, 2, 3]


def test_cosine_schedule_reaches_zero_and_step_schedule_decays(synthetic):
    model = make_model("mlp", hidden=(8,))
    cos = train(model, synthetic, TrainSpec(epochs=2, lr=0.1, schedule="cosine"),
                generator=torch.Generator().manual_seed(0), progress=False)
    assert cos[-1]["lr"] == 0.0
    step = train(model, synthetic, TrainSpec(epochs=4, lr=0.1, schedule="step",
                                             milestones=(0.5,), gamma=0.1),
                 generator=torch.Generator().manual_seed(0), progress=False)
    assert abs(step[0]["lr"] - 0.1) < 1e-12 and abs(step[-1]["lr"] - 0.01) < 1e-12


def test_evaluate_returns_loss_in_nats_and_accuracy(synthetic):
    model = make_model("mlp", hidden=(8,))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()  # uniform logits: loss = ln(4), accuracy = share of class 0
    loss, accuracy = evaluate(model, synthetic.test_x, synthetic.test_y)
    assert abs(loss - torch.log(torch.tensor(4.0)).item()) < 1e-6
    assert accuracy == (synthetic.test_y == 0).float().mean().item()


def test_density_and_compression_of_a_mask():
    mask = {"a": torch.tensor([True, False, False, False]), "b": torch.ones(4, dtype=torch.bool)}
    assert density(mask) == 5 / 8
    assert compression(mask) == 8 / 5


def test_export_to_torch_prune_gives_the_same_function():
    model = make_model("conv2", width=0.125)
    mask = _random_mask(model, 0.3, 1)
    apply_mask(model, mask)
    x = torch.randn(4, 1, 8, 8)
    expected = model(x)
    to_torch_prune(model, mask)
    torch.testing.assert_close(model(x), expected)
    first = next(iter(mask))
    module = model.get_submodule(first.rpartition(".")[0])
    assert torch.equal(module.weight_mask.bool(), mask[first])


def test_full_mask_covers_conv_and_linear_weights_only():
    model = make_model("vgg11", input_shape=(3, 32, 32), num_classes=10, width=0.125)
    mask = full_mask(model)
    assert all(n.endswith(".weight") for n in mask)
    assert all(m.dim() in (2, 4) for m in mask.values())  # no BatchNorm (1-D) weights
    assert len(mask) == 9  # 8 convs + the classifier


def _old_masked_training(model, data, spec, generator, mask):
    """train()'s masked loop as it was: gradients masked before the step, weights re-zeroed
    after it, masks converted at every step."""
    from pruninglib.data import batches
    from pruninglib.masks import mask_gradients
    from pruninglib.train import make_optimizer, make_scheduler, num_batches

    optimizer = make_optimizer(model, spec)
    scheduler = make_scheduler(optimizer, spec, num_batches(len(data.train_x), spec.batch_size))
    apply_mask(model, mask)
    losses = []
    for _ in range(spec.epochs):
        for xb, yb in batches(data.train_x, data.train_y, spec.batch_size, generator=generator):
            loss = torch.nn.functional.cross_entropy(model(xb), yb,
                                                     label_smoothing=spec.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            mask_gradients(model, mask)
            optimizer.step()
            apply_mask(model, mask)
            scheduler.step()
            losses.append(loss.item())
    return losses


@pytest.mark.parametrize("spec", [
    TrainSpec(epochs=2, batch_size=32, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4),
    TrainSpec(epochs=2, batch_size=32, optimizer="adam", lr=0.01, weight_decay=1e-3,
              schedule="step", milestones=(0.5,)),
])
def test_masking_gradients_only_changes_no_bit_of_the_former_masked_training(spec):
    def bits(model):
        return [p.detach().view(torch.int32).clone() for p in model.parameters()]
    model = make_model("mlp", hidden=(24, 12), seed=3)
    mask = _random_mask(model, 0.3, 3)
    old, new = make_model("mlp", hidden=(24, 12), seed=3), model
    old_losses = _old_masked_training(old, SYNTHETIC, spec, torch.Generator().manual_seed(1),
                                      mask)
    new_losses = []
    train(new, SYNTHETIC, spec, generator=torch.Generator().manual_seed(1), mask=mask,
          progress=False, on_step=new_losses.append)
    assert new_losses == old_losses
    assert all(torch.equal(a, b) for a, b in zip(bits(old), bits(new)))  # signed zeros too


def test_channels_last_training_matches_the_default_layout_up_to_rounding():
    """Conv-4 (4-D activations) with a mask: channels-last changes only the summation order;
    pruned weights stay zero and the model comes back in the default layout."""
    histories, weights = [], []
    for channels_last in (False, True):
        model = make_model("conv4", width=0.25, seed=1)
        mask = _random_mask(model, 0.3, seed=1)
        spec = TrainSpec(epochs=2, batch_size=32, lr=0.05, channels_last=channels_last)
        histories.append(train(model, SYNTHETIC, spec, mask=mask, progress=False,
                               generator=torch.Generator().manual_seed(1)))
        named = dict(model.named_parameters())
        assert all(p.is_contiguous() for p in named.values())
        assert all(torch.count_nonzero(named[n].detach()[~m]) == 0 for n, m in mask.items())
        weights.append(torch.cat([p.detach().flatten() for p in named.values()]))
    for default, other in zip(*histories):
        assert other["train_loss"] == pytest.approx(default["train_loss"], rel=1e-4)
        assert other["test_loss"] == pytest.approx(default["test_loss"], rel=1e-4)
    torch.testing.assert_close(weights[1], weights[0], rtol=1e-4, atol=1e-5)
