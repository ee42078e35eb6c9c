"""Ensembles: each member trained together with others matches the same network trained
alone, step by step, up to float32 rounding."""
from __future__ import annotations

import copy

import pytest
import torch

from helpers import make_model
from pruninglib.config import DataSpec, PruneSpec, TrainSpec
from pruninglib.data import load_data
from pruninglib.ensemble import EnsembleError, can_stack, train_ensemble
from pruninglib.pruners import ScoringContext, prune
from pruninglib.train import train

SYNTHETIC = load_data(DataSpec("synthetic", train_subset=200, test_subset=80))


def _alone_and_together(name, fields, spec, *, members=3, density=0.3, augment=False,
                        data=SYNTHETIC):
    models = [make_model(name, input_shape=data.input_shape, num_classes=data.num_classes,
                         seed=seed, **fields) for seed in range(members)]
    masks = [prune(m, PruneSpec("random", density=density),
                   ScoringContext(input_shape=data.input_shape,
                                  generator=torch.Generator().manual_seed(seed)))
             for seed, m in enumerate(models)]
    alone = []
    for seed, (model, mask) in enumerate(zip(models, masks)):
        net, steps = copy.deepcopy(model), []
        history = train(net, data, spec, generator=torch.Generator().manual_seed(100 + seed),
                        mask=mask, augment=augment, progress=False, on_step=steps.append)
        alone.append((net, history, steps))
    nets, steps = [copy.deepcopy(m) for m in models], []
    histories = train_ensemble(
        nets, data, spec, generators=[torch.Generator().manual_seed(100 + s)
                                      for s in range(members)],
        masks=masks, augment=augment, progress=False, on_step=steps.append)
    return alone, list(zip(nets, histories, [[s[i] for s in steps] for i in range(members)])), \
        masks


def _assert_same_run(alone, together, masks, data=SYNTHETIC):
    for (net_a, hist_a, steps_a), (net_b, hist_b, steps_b), mask in zip(alone, together,
                                                                         masks):
        assert len(steps_a) == len(steps_b)
        torch.testing.assert_close(torch.tensor(steps_b), torch.tensor(steps_a), rtol=1e-5,
                                   atol=1e-6)  # the loss of every step
        for a, b in zip(hist_a, hist_b):
            assert a["epoch"] == b["epoch"] and a["lr"] == b["lr"]
            for k in ("train_loss", "test_loss"):
                assert b[k] == pytest.approx(a[k], rel=1e-5)
            # an argmax may flip on a rounding-level tie: at most one sample
            assert abs(a["train_accuracy"] - b["train_accuracy"]) <= 1 / len(data.train_y)
            assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 1 / len(data.test_y)
        params_a, params_b = dict(net_a.named_parameters()), dict(net_b.named_parameters())
        for n in params_a:
            torch.testing.assert_close(params_b[n], params_a[n], rtol=1e-4, atol=1e-5)
        for n, m in mask.items():  # pruned weights stay exactly zero
            assert torch.count_nonzero(params_b[n].detach()[~m]) == 0
        for (n, t), (_, u) in zip(net_a.named_buffers(), net_b.named_buffers()):
            torch.testing.assert_close(u, t, rtol=1e-4, atol=1e-5)  # BatchNorm statistics


@pytest.mark.parametrize("name, fields", [
    ("lenet_300_100", dict(width=0.25)),
    ("mlp", dict(hidden=(24, 24), activation="tanh")),
    ("conv2", dict(width=0.125)),
    ("conv2", dict(width=0.125, batchnorm=True)),
    ("resnet20", dict(width=0.25)),
])
def test_a_member_matches_the_run_trained_alone_step_by_step(name, fields):
    spec = TrainSpec(epochs=2, batch_size=64, lr=0.05, weight_decay=5e-4)
    alone, together, masks = _alone_and_together(name, fields, spec)
    _assert_same_run(alone, together, masks)


def test_members_match_with_adam_nesterov_smoothing_schedules_and_augmentation():
    for spec in (TrainSpec(epochs=2, batch_size=48, optimizer="adam", lr=0.003,
                           weight_decay=1e-4, label_smoothing=0.1, schedule="step",
                           milestones=(0.5,)),
                 TrainSpec(epochs=2, batch_size=48, lr=0.05, nesterov=True,
                           schedule="constant")):
        alone, together, masks = _alone_and_together("conv2", dict(width=0.125), spec,
                                                     augment=True, members=2)
        _assert_same_run(alone, together, masks)


def test_a_large_linear_layer_runs_member_by_member_and_still_matches(monkeypatch):
    import pruninglib.ensemble as ensemble

    monkeypatch.setattr(ensemble, "BATCHED_LINEAR_BYTES", 0)  # every layer member by member
    spec = TrainSpec(epochs=1, batch_size=64)
    alone, together, masks = _alone_and_together("mlp", dict(hidden=(16, 16)), spec)
    _assert_same_run(alone, together, masks)


def test_an_unknown_layer_falls_back_to_vmap_and_still_matches(monkeypatch):
    import pruninglib.ensemble as ensemble

    monkeypatch.setattr(ensemble, "_groupable", lambda model: False)
    spec = TrainSpec(epochs=1, batch_size=64)
    alone, together, masks = _alone_and_together("conv2", dict(width=0.125, batchnorm=True),
                                                 spec, members=2)
    _assert_same_run(alone, together, masks)


def test_members_are_independent_of_their_companions():
    spec = TrainSpec(epochs=1, batch_size=64)
    models = [make_model("mlp", hidden=(16,), seed=s) for s in range(3)]
    gens = lambda: [torch.Generator().manual_seed(s) for s in range(3)]  # noqa: E731
    three = train_ensemble([copy.deepcopy(m) for m in models], SYNTHETIC, spec,
                           generators=gens(), progress=False)
    two = train_ensemble([copy.deepcopy(m) for m in models[:2]], SYNTHETIC, spec,
                         generators=gens()[:2], progress=False)
    for a, b in zip(three, two):
        assert a[0]["train_loss"] == pytest.approx(b[0]["train_loss"], rel=1e-6)
    assert three[0][0]["train_loss"] != three[1][0]["train_loss"]


def test_networks_that_cannot_share_a_model_are_refused():
    a = make_model("mlp", hidden=(16,))
    b = make_model("mlp", hidden=(17,))
    assert "differ" in can_stack([a, b])
    dropout = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4),
                                  torch.nn.Dropout(0.5))
    assert "dropout" in can_stack([dropout, copy.deepcopy(dropout)])
    with pytest.raises(EnsembleError, match="differ"):
        train_ensemble([a, b], SYNTHETIC, TrainSpec(epochs=1),
                       generators=[torch.Generator(), torch.Generator()], progress=False)
