"""Tests of ``pruninglib.models``: shapes, training step, layer order, parameter counts,
initialisation statistics, Stable ResNet scaling and determinism."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pruninglib.config import ACTIVATIONS, ConfigError, ModelSpec
from pruninglib.models import MODELS, Residual, build_model, initialize
from pruninglib.models.layers import ACTIVATION_LAYERS

IMAGES = [(1, 28, 28), (3, 32, 32)]
SEQUENCES = [(1, 40)]
FLAT_MODELS = ["lenet_300_100", "mlp", "resmlp"]
IMAGE_MODELS = ["conv2", "conv4", "conv6", "vgg11", "vgg16", "vgg19",
                "resnet20", "resnet32", "resnet56", "resnet110"]
CASES = ([(name, shape) for name in FLAT_MODELS for shape in IMAGES + SEQUENCES]
         + [(name, shape) for name in IMAGE_MODELS for shape in IMAGES]
         + [("cnn1d", shape) for shape in SEQUENCES])
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d)


def small_spec(name: str, **fields) -> ModelSpec:
    """A narrow (width 0.25) spec; mlp / resmlp get three hidden layers of 64."""
    hidden = (64, 64, 64) if name in ("mlp", "resmlp") else ()
    return ModelSpec(**{"name": name, "width": 0.25, "hidden": hidden, **fields})


def weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, WEIGHTED)]


def on_meta(spec: ModelSpec, input_shape, num_classes: int) -> nn.Module:
    """The model built without allocating memory (for parameter counts only)."""
    with torch.device("meta"):
        return build_model(spec, input_shape, num_classes)


def test_registry_and_activations_match_config():
    assert set(MODELS) == set(FLAT_MODELS + IMAGE_MODELS + ["cnn1d"])
    assert set(ACTIVATION_LAYERS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name, shape", CASES)
def test_builds_forwards_and_trains(name, shape):
    torch.manual_seed(0)
    model = build_model(small_spec(name), shape, 7)
    layers = weighted_layers(model)
    assert layers[-1][1] is model.classifier and isinstance(model.classifier, nn.Linear)

    called = []
    for _, module in layers:
        module.register_forward_hook(lambda m, i, o: called.append(m))
    x, y = torch.randn(4, *shape), torch.randint(0, 7, (4,))
    logits = model(x)
    assert logits.shape == (4, 7) and torch.isfinite(logits).all()
    assert called == [module for _, module in layers]  # module order = forward order

    before = [m.weight.detach().clone() for _, m in layers]
    F.cross_entropy(logits, y).backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    for (layer, module), old in zip(layers, before):
        assert not torch.equal(module.weight, old), f"{name}: {layer} did not move"


@pytest.mark.parametrize("name, shape", [
    ("vgg11", (1, 40)), ("conv2", (1, 40)), ("resnet20", (1, 40)),
    ("cnn1d", (1, 28, 28)), ("conv6", (1, 4, 4)),
])
def test_incompatible_input_shape_is_a_one_line_config_error(name, shape):
    with pytest.raises(ConfigError) as info:
        build_model(ModelSpec(name=name), shape, 10)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"model.name={name!r} needs ")
    assert message.endswith(f"got input shape {shape} from the dataset")


def test_incompatible_input_shape_message():
    with pytest.raises(ConfigError, match=r"^model\.name='vgg11' needs image inputs \(C, H, W\); "
                                          r"got input shape \(1, 40\) from the dataset$"):
        build_model(ModelSpec(name="vgg11"), (1, 40), 10)


def test_resmlp_needs_equal_widths():
    with pytest.raises(ConfigError, match=r"^model\.hidden=\(64, 32\) is not allowed"):
        build_model(ModelSpec(name="resmlp", hidden=(64, 32)), (1, 40), 10)


def test_parameter_counts():
    def weights(model, biases=False):
        return sum(m.weight.numel() + (m.bias.numel() if biases and m.bias is not None else 0)
                   for _, m in weighted_layers(model))

    def total(model):
        return sum(p.numel() for p in model.parameters())

    assert total(on_meta(ModelSpec(), (1, 28, 28), 10)) == 266_610
    resnet20 = on_meta(ModelSpec(name="resnet20"), (3, 32, 32), 10)
    assert weights(resnet20) == 270_896  # convs incl. two 1x1 shortcuts, + 64x10 classifier
    assert total(resnet20) == 273_258  # + BatchNorm and conv/linear biases
    assert total(on_meta(ModelSpec(name="resnet20", bias=False), (3, 32, 32), 10)) == 272_464
    vgg16 = on_meta(ModelSpec(name="vgg16"), (3, 32, 32), 10)
    assert weights(vgg16) == 14_715_584
    assert weights(vgg16, biases=True) == 14_719_818
    # SynFlow paper / code: VGG-16 on CIFAR-100 has 14,761,664 prunable weights.
    assert weights(on_meta(ModelSpec(name="vgg16"), (3, 32, 32), 100)) == 14_761_664
    conv_counts = {"conv2": 4_301_642, "conv4": 2_425_930, "conv6": 2_262_602}
    for name, count in conv_counts.items():
        assert total(on_meta(ModelSpec(name=name), (3, 32, 32), 10)) == count


def test_width_multiplier_scales_channels():
    model = on_meta(ModelSpec(name="vgg16", width=0.5), (3, 32, 32), 10)
    assert model.classifier.in_features == 256
    assert model.features[0].out_channels == 32


def test_eoc_init_statistics():
    torch.manual_seed(0)
    sigma_w, sigma_b = 1.5, 0.3
    mlp = build_model(ModelSpec(name="mlp", hidden=(1000,) * 4, sigma_w=sigma_w,
                                sigma_b=sigma_b), (1, 40), 10)
    wide = [m for _, m in weighted_layers(mlp) if m.in_features == 1000 == m.out_features]
    assert len(wide) == 3
    for layer in wide:  # 10**6 samples: relative s.d. of the variance estimate ~0.14 %
        assert layer.weight.var().item() * 1000 == pytest.approx(sigma_w ** 2, rel=0.02)
        assert abs(layer.weight.mean().item()) < 5 * sigma_w / 1000 / math.sqrt(1000)
    biases = torch.cat([m.bias for _, m in weighted_layers(mlp)])
    assert biases.var().item() == pytest.approx(sigma_b ** 2, rel=0.1)  # 4010 samples, s.d. 2 %

    conv = build_model(ModelSpec(name="conv2", sigma_w=sigma_w), (3, 32, 32), 10)
    layer = conv.features[2]  # 64 -> 64 channels, 3x3: fan_in 576, 36,864 samples
    assert layer.weight.var().item() * 576 == pytest.approx(sigma_w ** 2, rel=0.04)
    assert torch.count_nonzero(layer.bias) == 0  # sigma_b None -> zero biases


def test_default_init_is_kaiming_normal_with_zero_biases():
    torch.manual_seed(0)
    model = build_model(ModelSpec(name="resnet20"), (3, 32, 32), 10)
    for name, module in weighted_layers(model):
        if module.weight.numel() >= 10_000:
            fan_in = module.weight[0].numel()
            assert module.weight.var().item() * fan_in == pytest.approx(2.0, rel=0.05), name
        assert torch.count_nonzero(module.bias) == 0, name
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bias_false_removes_every_conv_and_linear_bias(name):
    model = on_meta(small_spec(name, bias=False), (3, 32, 32) if name != "cnn1d" else (1, 40), 10)
    assert all(m.bias is None for _, m in weighted_layers(model))


def test_batchnorm_switch():
    def norms(spec, shape):
        return sum(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))
                   for m in on_meta(spec, shape, 10).modules())

    assert norms(small_spec("vgg11"), (3, 32, 32)) == 8
    assert norms(small_spec("vgg11", batchnorm=False), (3, 32, 32)) == 0
    assert norms(small_spec("resnet20", batchnorm=False), (3, 32, 32)) == 0
    assert norms(small_spec("mlp"), (1, 40)) == 0
    assert norms(small_spec("mlp", batchnorm=True), (1, 40)) == 3


def test_vgg_pads_small_images_to_32():
    small = on_meta(small_spec("vgg11"), (1, 28, 28), 10)
    assert small.pad.padding == (2, 2, 2, 2)
    assert "pad" not in dict(on_meta(small_spec("vgg11"), (3, 32, 32), 10).named_children())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_activations(activation):
    model = build_model(small_spec("mlp", activation=activation), (1, 40), 3)
    assert isinstance(model.features[1], ACTIVATION_LAYERS[activation])
    assert torch.isfinite(model(torch.randn(2, 1, 40))).all()


@pytest.mark.parametrize("name, shape, blocks", [
    ("resnet20", (3, 32, 32), 9), ("resnet56", (1, 28, 28), 27), ("resmlp", (1, 40), 3),
])
def test_stable_residual_branches_are_scaled(name, shape, blocks):
    outputs = {}
    for stable in (False, True):
        torch.manual_seed(0)
        model = build_model(small_spec(name, stable=stable), shape, 10).eval()
        residuals = [m for m in model.modules() if isinstance(m, Residual)]
        assert len(residuals) == blocks
        expected_scale = 1 / math.sqrt(blocks) if stable else 1.0
        seen = {}
        for block in residuals:
            assert block.scale == pytest.approx(expected_scale)
            for part in (block, block.branch, block.shortcut):
                part.register_forward_hook(lambda m, i, o: seen.__setitem__(m, o))
        outputs[stable] = model(torch.randn(2, *shape, generator=torch.Generator().manual_seed(1)))
        for block in residuals:  # y = post(shortcut + scale * branch), with the scale applied
            recomputed = block.post(seen[block.shortcut] + expected_scale * seen[block.branch])
            torch.testing.assert_close(seen[block], recomputed)
    assert not torch.allclose(outputs[False], outputs[True])


@pytest.mark.parametrize("name, shape", [("resnet20", (3, 32, 32)), ("vgg11", (1, 28, 28)),
                                         ("mlp", (1, 40)), ("cnn1d", (1, 40))])
def test_same_seed_same_weights(name, shape):
    def state(seed):
        torch.manual_seed(seed)
        return build_model(small_spec(name, sigma_b=0.1), shape, 10).state_dict()

    first, again, other = state(3), state(3), state(4)
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_initialize_with_generator_ignores_global_rng():
    model = build_model(small_spec("conv2"), (3, 32, 32), 10)

    def draw(global_seed):
        torch.manual_seed(global_seed)
        initialize(model, 1.0, 0.1, generator=torch.Generator().manual_seed(7))
        return [p.detach().clone() for p in model.parameters()]

    assert all(torch.equal(a, b) for a, b in zip(draw(0), draw(1)))
