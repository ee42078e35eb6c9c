"""ToST's training tricks: schedules, ghost neurons and skips, GradInit scales, and the
guarantees around them (masks hold, defaults change nothing, the evaluated net is plain)."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from helpers import make_model
from torch import nn

from pruninglib import seeds
from pruninglib.config import (
    ConfigError,
    DataSpec,
    ModelSpec,
    PruneSpec,
    RunSpec,
    ToSTSpec,
    TrainSpec,
)
from pruninglib.data import load_data
from pruninglib.masks import apply_mask
from pruninglib.models import build_model
from pruninglib.runs import experiments
from pruninglib.runs.store import ResultStore
from pruninglib.train import train
from pruninglib.tricks import (
    GHOST_INIT,
    GRADINIT,
    GhostActivation,
    Ghosts,
    GhostSkip,
    ghost_alpha,
    gradinit,
    label_smoothing_for,
    smooth_active,
)

BASE = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("resnet20", width=0.25),
               prune=PruneSpec("snip", density=0.2), train=TrainSpec(epochs=3, batch_size=64))
ALL = ToSTSpec("silu", ghost_activation_epochs=1, ghost_skip_epochs=2, gradinit_steps=2)


def _with(spec: RunSpec, tost: ToSTSpec) -> RunSpec:
    return spec.replace(**{f"tost.{k}": v for k, v in vars(tost).items()})


# -- spec -----------------------------------------------------------------------------------
def test_specs_without_tricks_keep_their_hash_and_with_them_change_it():
    # hashes computed before the tost section existed
    assert RunSpec().key() == "3703599bfae8bb84"
    old = RunSpec(data=DataSpec("fashion_mnist", train_subset=500, test_subset=500),
                  model=ModelSpec("resnet20", width=0.25), prune=PruneSpec("snip", density=0.1),
                  train=TrainSpec(epochs=2, label_smoothing=0.1), seed=2)
    assert old.key() == "475befaae98afd1f"
    assert "tost" not in old.to_json() and "tost" not in old.to_dict()
    assert old.to_dict(full=True)["tost"] == vars(ToSTSpec())
    used = old.replace(**{"tost.ghost_skip_epochs": 1})
    assert used.key() != old.key() and '"tost":{' in used.to_json()
    assert RunSpec.from_dict(used.to_dict()) == used
    assert RunSpec.from_dict(old.to_dict(full=True)).key() == old.key()


@pytest.mark.parametrize("tost, train, match", [
    ({"ghost_activation": "gelu"}, {}, r"tost\.ghost_activation='gelu' .*mish, none, silu"),
    ({"ghost_activation_epochs": 1}, {}, r"tost\.ghost_activation_epochs=1 .*'none'"),
    ({"ghost_skip_epochs": -1}, {}, r"tost\.ghost_skip_epochs=-1 .*>= 0"),
    ({"gradinit_steps": 1.5}, {}, r"tost\.gradinit_steps=1\.5 .*integer"),
    ({"ghost_skip_epochs": 3}, {"epochs": 3}, r"tost\.ghost_skip_epochs=3 .*< train\.epochs"),
    ({"ghost_activation": "silu", "ghost_activation_epochs": 2}, {"epochs": 2},
     r"tost\.ghost_activation_epochs=2 .*< train\.epochs = 2"),
])
def test_bad_options_fail_with_one_line(tost, train, match):
    with pytest.raises(ConfigError, match=match) as info:
        RunSpec(train=TrainSpec(**train), tost=ToSTSpec(**tost))
    assert "\n" not in str(info.value)


# -- schedules ------------------------------------------------------------------------------
def test_schedules_by_hand():
    spec = ToSTSpec("mish", ghost_activation_epochs=2, ghost_skip_epochs=4)
    assert [smooth_active(spec, e) for e in range(1, 5)] == [True, True, False, False]
    assert [ghost_alpha(spec, e) for e in range(1, 7)] == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    never = ToSTSpec("silu")
    assert all(smooth_active(never, e) for e in range(1, 100))
    assert not smooth_active(ToSTSpec(), 1) and ghost_alpha(ToSTSpec(), 1) == 0.0


def test_alpha_falls_linearly_at_every_step():
    spec = ToSTSpec(ghost_skip_epochs=2)
    per_step = [ghost_alpha(spec, e, i, 4) for e in (1, 2) for i in range(4)]
    assert per_step == pytest.approx([1 - t / 8 for t in range(8)])  # 1, 7/8, ..., 1/8
    assert ghost_alpha(spec, 3, 0, 4) == 0.0
    one = ToSTSpec(ghost_skip_epochs=1)  # K = 1: no more a drop from 1 to 0 at once
    assert [ghost_alpha(one, 1, i, 5) for i in range(5)] == pytest.approx(
        [1.0, 0.8, 0.6, 0.4, 0.2])
    with pytest.raises(ValueError, match=r"step=4 is not allowed: 0 <= step < steps = 4"):
        ghost_alpha(spec, 1, 4, 4)


def test_training_sets_alpha_before_every_step(synthetic):
    model = make_model("resnet20", width=0.25)
    ghosts = Ghosts(model, ToSTSpec(ghost_skip_epochs=1))
    seen = []
    ghosts.skips[0][1].register_forward_hook(
        lambda m, args, out: seen.append(m.alpha) if m.training else None)
    spec = TrainSpec(epochs=2, batch_size=64)
    train(model, synthetic, spec, generator=torch.Generator().manual_seed(0), progress=False,
          before_epoch=ghosts.set_epoch, before_step=ghosts.set_step)
    steps = -(-len(synthetic.train_x) // 64)
    assert steps > 2 and len(seen) == steps  # computed in epoch 1 only, once per step
    assert seen == pytest.approx([1 - i / steps for i in range(steps)])


def test_label_smoothing_matches_tost_targets():
    logits, target, alpha = torch.randn(5, 10, dtype=torch.float64), torch.arange(5), 0.1
    smoothed = torch.full((5, 10), alpha / 9, dtype=torch.float64)
    smoothed[torch.arange(5), target] = 1 - alpha  # ToST: 1 - alpha, rest alpha / (C - 1)
    tost_loss = -(smoothed * logits.log_softmax(1)).sum(1).mean()
    eps = label_smoothing_for(alpha, 10)
    assert eps == pytest.approx(1 / 9)
    assert F.cross_entropy(logits, target, label_smoothing=eps).item() == pytest.approx(
        tost_loss.item(), rel=1e-12)


# -- ghost neurons --------------------------------------------------------------------------
def test_ghost_activation_is_silu_then_relu():
    x = torch.linspace(-3, 3, 13)
    ghost = GhostActivation("silu")
    assert torch.allclose(ghost(x), x * torch.sigmoid(x))
    ghost.smooth = False
    assert torch.equal(ghost(x), x.clamp_min(0))
    mish = GhostActivation("mish")
    assert torch.allclose(mish(x), x * torch.tanh(F.softplus(x)))


def test_the_activation_switches_at_the_scheduled_epoch(synthetic):
    model = make_model("mlp", hidden=(8, 8))
    ghosts = Ghosts(model, ToSTSpec("silu", ghost_activation_epochs=2))
    assert len(ghosts.activations) == 2
    seen, epoch = set(), [0]

    def before(e):
        epoch[0] = e
        ghosts.set_epoch(e)
    for _, _, ghost in ghosts.activations:
        ghost.register_forward_pre_hook(lambda m, args: seen.add((epoch[0], m.smooth)))
    train(model, synthetic, TrainSpec(epochs=4, batch_size=128),
          generator=torch.Generator().manual_seed(0), progress=False, before_epoch=before)
    assert seen == {(1, True), (2, True), (3, False), (4, False)}
    ghosts.remove()
    assert [type(m) for m in model.features] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]


def test_without_a_switch_the_smooth_activation_stays():
    model = make_model("mlp", hidden=(8,))
    Ghosts(model, ToSTSpec("mish")).remove()
    assert isinstance(model.features[1], nn.Mish)


# -- ghost skips ----------------------------------------------------------------------------
def _two_units() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Conv2d(3, 4, 3, padding=1, stride=2), nn.BatchNorm2d(4)).eval()


def test_a_ghost_skip_adds_alpha_times_its_shortcut_and_nothing_at_alpha_zero():
    plain = _two_units()
    model = copy.deepcopy(plain)
    ghosts = Ghosts(model, ToSTSpec(ghost_skip_epochs=4))
    assert [conv for conv, _ in ghosts.skips] == [model[3]]  # the first conv gets none
    x = torch.randn(5, 2, 6, 6)
    h = plain[:3](x)  # the second unit's input
    # 1x1 weights all 1e-4, stride 2, then a fresh BatchNorm in eval mode (mean 0, var 1)
    shortcut = GHOST_INIT * h[:, :, ::2, ::2].sum(1, keepdim=True).expand(-1, 4, -1, -1) \
        / math.sqrt(1 + 1e-5)
    for epoch, alpha in ((1, 1.0), (2, 0.75), (4, 0.25)):
        ghosts.set_epoch(epoch)
        assert torch.allclose(model(x), plain(x) + alpha * shortcut, atol=1e-6)
    ghosts.set_epoch(5)
    assert torch.equal(model(x), plain(x))
    ghosts.remove()
    assert model.state_dict().keys() == plain.state_dict().keys()
    assert torch.equal(model(x), plain(x))


def test_ghost_skips_on_a_resnet_train_and_then_vanish():
    plain = make_model("resnet20", width=0.25)
    model = copy.deepcopy(plain)
    ghosts = Ghosts(model, ToSTSpec(ghost_skip_epochs=1))
    assert len(ghosts.skips) == 18  # two 3x3 convs in each of the 9 blocks
    assert all(isinstance(g.norm, nn.BatchNorm2d) for _, g in ghosts.skips)
    x = torch.randn(8, 1, 8, 8)
    model(x).square().mean().backward()  # epoch 1, alpha = 1: the ghosts learn
    assert all(g.conv.weight.grad is not None for _, g in ghosts.skips)
    model = copy.deepcopy(plain)
    ghosts = Ghosts(model, ToSTSpec(ghost_skip_epochs=1))
    ghosts.set_epoch(2)
    for mode in (True, False):
        model.train(mode), plain.train(mode)
        assert torch.equal(model(x), plain(x))
    ghosts.remove()
    assert not any(isinstance(m, GhostSkip) for m in model.modules())


def test_ghost_skips_of_a_residual_mlp_are_linear_maps_beside_the_branch_layers():
    plain = make_model("resmlp", hidden=(6, 6)).eval()
    model = copy.deepcopy(plain)
    ghosts = Ghosts(model, ToSTSpec(ghost_skip_epochs=2))
    assert [n for n, m in model.named_modules() if isinstance(m, GhostSkip)] == [
        f"blocks.{b}.branch.{i}.ghost_skip" for b in (0, 1) for i in (0, 2)]
    ghosts.set_epoch(2)  # alpha = 1/2
    x = torch.randn(3, 1, 8, 8)
    h = plain.embed(plain.flatten(x))
    inner = plain.blocks[0].branch[:2](h)
    # block 0: x + W2 relu(W1 h + g1) + g2, with g = alpha * 1e-4 * (sum of the unit's input)
    h1 = plain.blocks[0].branch[1](plain.blocks[0].branch[0](h) + 0.5e-4 * h.sum(1, True))
    assert not torch.equal(h1, inner)
    h2 = h + plain.blocks[0].branch[2](h1) + 0.5e-4 * h1.sum(1, True)
    g = plain.blocks[1].branch[1](plain.blocks[1].branch[0](h2) + 0.5e-4 * h2.sum(1, True))
    out = plain.classifier(h2 + plain.blocks[1].branch[2](g) + 0.5e-4 * g.sum(1, True))
    assert torch.allclose(model(x), out, atol=1e-6)


def test_a_model_without_the_needed_layers_is_refused():
    with pytest.raises(ConfigError, match=r"tost\.ghost_skip_epochs=1 .*classifier"):
        Ghosts(make_model("mlp", hidden=(8,)), ToSTSpec(ghost_skip_epochs=1))
    with pytest.raises(ConfigError, match=r"tost\.ghost_activation='silu' .*nn\.ReLU"):
        Ghosts(make_model("mlp", hidden=(8,), activation="tanh"), ToSTSpec("silu"))


# -- GradInit -------------------------------------------------------------------------------
def test_gradinit_scales_whole_tensors_keeps_the_mask_and_the_batchnorm_statistics(synthetic):
    model = make_model("resnet20", width=0.25)
    mask = {n: torch.rand(p.shape, generator=torch.Generator().manual_seed(1)) < 0.3
            for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1}
    apply_mask(model, mask)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    scales = gradinit(model, mask, synthetic.train_x, synthetic.train_y, steps=3, batch_size=16,
                      generator=torch.Generator().manual_seed(0))
    # 21 convs, 21 BatchNorms, the classifier
    assert len(scales) == 21 + 21 + 1 and min(scales.values()) >= GRADINIT["min_scale"]
    assert any(abs(s - 1) > 1e-3 for s in scales.values())
    for n, p in model.named_parameters():
        assert torch.allclose(p, scales.get(n, 1.0) * before[n]), n
        if n in mask:
            assert (p[~mask[n]] == 0).all()
    assert all(torch.equal(b, buffers[n]) for n, b in model.named_buffers())


# -- runs -----------------------------------------------------------------------------------
def _numbers(result):
    history = [{k: v for k, v in h.items() if k != "seconds"} for h in result.history]
    return history, {k: v for k, v in result.metrics.items() if not k.endswith("_seconds")}


def test_default_options_reproduce_plain_training_bit_for_bit(tmp_path, synthetic):
    result = experiments.run(BASE, results_dir=tmp_path, progress=False, save_weights=True)
    # the pipeline as it was before the tricks existed
    data = load_data(BASE.data)
    torch.manual_seed(seeds.derive_seed(BASE.seed, "init"))
    model = build_model(BASE.model, tuple(data.input_shape), data.num_classes)
    mask = experiments._find_mask(model, BASE, data, False)
    apply_mask(model, mask)
    history = train(model, data, BASE.train, mask=mask, progress=False,
                    generator=seeds.generator(BASE.seed, "batches"))
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in history] == \
        _numbers(result)[0]
    weights = ResultStore(tmp_path).load_weights(result.key)
    assert all(torch.equal(weights[f"param/{n}"], t) for n, t in model.state_dict().items())


def test_all_tricks_keep_the_mask_and_end_with_the_plain_net(tmp_path):
    spec = _with(BASE, ALL)
    result = experiments.run(spec, results_dir=tmp_path, progress=False, save_weights=True)
    tensors = ResultStore(tmp_path).load_weights(result.key)
    plain = build_model(BASE.model, (1, 8, 8), 4)
    assert {k.removeprefix("param/") for k in tensors if k.startswith("param/")} == \
        set(plain.state_dict())  # no ghost left
    kept = 0
    for name in (k.removeprefix("mask/") for k in tensors if k.startswith("mask/")):
        m = tensors[f"mask/{name}"].bool()
        assert (tensors[f"param/{name}"][~m] == 0).all()
        kept += int(m.sum())
    assert kept == round(0.2 * result.metrics["prunable_weights"])
    # the same mask as the default protocol (masks come from the plain net, same seed)
    default = experiments.run(BASE, results_dir=tmp_path, progress=False, save_weights=True)
    other = ResultStore(tmp_path).load_weights(default.key)
    assert all(torch.equal(other[k], v) for k, v in tensors.items() if k.startswith("mask/"))
    # the last epoch's test numbers are the plain net's (ghosts off by then)
    plain.load_state_dict({k.removeprefix("param/"): v for k, v in tensors.items()
                           if k.startswith("param/")})
    data = load_data(spec.data)
    assert experiments.evaluate(plain, data.test_x, data.test_y)[1] == \
        result.metrics["test_accuracy"]


def test_a_resumed_run_with_ghosts_gives_identical_numbers(tmp_path, monkeypatch):
    spec = _with(BASE.replace(**{"train.epochs": 4}), ToSTSpec(
        "silu", ghost_activation_epochs=2, ghost_skip_epochs=2, gradinit_steps=1))
    uninterrupted = experiments.run(spec, results_dir=tmp_path / "a", progress=False)

    class Preempted(BaseException):
        pass
    save = ResultStore.save_checkpoint

    def save_then_die(self, key, state, tensors):
        save(self, key, state, tensors)
        if state["epoch"] == 1:
            raise Preempted
    monkeypatch.setattr(ResultStore, "save_checkpoint", save_then_die)
    with pytest.raises(Preempted):
        experiments.run(spec, results_dir=tmp_path / "b", progress=False, checkpoint_every=1)
    monkeypatch.undo()
    resumed = experiments.run(spec, results_dir=tmp_path / "b", progress=False)
    assert _numbers(resumed) == _numbers(uninterrupted)
