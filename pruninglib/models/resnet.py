"""CIFAR ResNets (He et al. 2016, section 4.2) and the Stable ResNet variant (Hayou et al.)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .layers import Network, Residual, check_input, conv_unit, residual_scale, scaled, \
    use_batchnorm

if TYPE_CHECKING:
    from ..config import ModelSpec


def _basic_block(c_in: int, c_out: int, stride: int, scale: float, *, bias: bool,
                 batchnorm: bool) -> Residual:
    """relu(shortcut(x) + scale * branch(x)), branch = conv3x3 (stride), BN, ReLU, conv3x3, BN.

    The shortcut is a 1x1 conv (stride) + BN when the shape changes, else the identity.
    """
    branch = nn.Sequential(
        *conv_unit(c_in, c_out, stride=stride, bias=bias, batchnorm=batchnorm),
        *conv_unit(c_out, c_out, bias=bias, batchnorm=batchnorm, relu=False))
    shortcut = None
    if stride != 1 or c_in != c_out:
        shortcut = nn.Sequential(*conv_unit(c_in, c_out, kernel_size=1, stride=stride,
                                            bias=bias, batchnorm=batchnorm, relu=False))
    return Residual(branch, shortcut, scale=scale, post=nn.ReLU())


def resnet(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int, *,
           depth: int) -> Network:
    """ResNet-``depth`` (depth = 6n + 2): (B, C, H, W) -> (B, num_classes).

    stem: conv3x3 16 (+BN) + ReLU -> layer1, layer2, layer3: n basic blocks each with 16, 32,
    64 channels (x spec.width; the first block of layer2/3 has stride 2) -> pool: global
    average -> flatten -> classifier. BatchNorm by default. ``spec.stable`` scales every
    residual branch by 1/sqrt(L), L = 3n blocks in all.
    """
    channels, _, _ = check_input(spec, input_shape, "image")
    blocks_per_stage = (depth - 2) // 6
    batchnorm = use_batchnorm(spec, True)
    scale = residual_scale(spec, 3 * blocks_per_stage)
    c_in = scaled(16, spec.width)
    stages: dict[str, nn.Module] = {
        "stem": nn.Sequential(*conv_unit(channels, c_in, bias=spec.bias, batchnorm=batchnorm))}
    for stage, base in enumerate((16, 32, 64)):
        c_out, blocks = scaled(base, spec.width), []
        for index in range(blocks_per_stage):
            stride = 2 if stage > 0 and index == 0 else 1
            blocks.append(_basic_block(c_in, c_out, stride, scale, bias=spec.bias,
                                       batchnorm=batchnorm))
            c_in = c_out
        stages[f"layer{stage + 1}"] = nn.Sequential(*blocks)
    return Network(
        **stages,
        pool=nn.AdaptiveAvgPool2d(1),
        flatten=nn.Flatten(),
        classifier=nn.Linear(c_in, num_classes, bias=spec.bias),
    )
