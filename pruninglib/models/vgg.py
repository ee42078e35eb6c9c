"""CIFAR-style VGG, the "lottery" variant of the SynFlow code (``Models/lottery_vgg.py``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .layers import Network, check_input, conv_stack, use_batchnorm

if TYPE_CHECKING:
    from ..config import ModelSpec

PLANS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512),
}
"""Conv channels per layer ('M' = 2x2 max-pool), before the width multiplier."""

_SIDE = 32


def vgg(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int, *,
        depth: int) -> Network:
    """VGG-``depth`` (11, 16 or 19): (B, C, H, W) -> (B, num_classes).

    [pad] -> features: conv3x3 (+BN by default) + ReLU per plan entry, max-pools ->
    pool: global average -> flatten -> classifier: Linear(512 x width, num_classes).
    Inputs smaller than 32x32 are zero-padded (centred) to 32x32 by a ``pad`` stage
    (nn.ZeroPad2d, no parameters), so 28x28 images see the same feature-map sizes as CIFAR.
    At width 1, VGG-16 has 14,710,464 conv weights + 512 x num_classes classifier weights.
    """
    channels, height, width = check_input(spec, input_shape, "image")
    stages: dict[str, nn.Module] = {}
    pad_h, pad_w = max(0, _SIDE - height), max(0, _SIDE - width)
    if pad_h or pad_w:
        stages["pad"] = nn.ZeroPad2d((pad_w // 2, pad_w - pad_w // 2,
                                      pad_h // 2, pad_h - pad_h // 2))
    features, c_out = conv_stack(channels, PLANS[depth], spec.width, bias=spec.bias,
                                 batchnorm=use_batchnorm(spec, True))
    return Network(
        **stages,
        features=features,
        pool=nn.AdaptiveAvgPool2d(1),
        flatten=nn.Flatten(),
        classifier=nn.Linear(c_out, num_classes, bias=spec.bias),
    )
