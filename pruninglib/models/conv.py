"""Plain convolutional nets: Frankle & Carbin's Conv-2/4/6 and a 1-D CNN for MNIST-1D.

ReLU everywhere; BatchNorm is off unless ``spec.batchnorm`` is True (then after every conv,
and after every hidden Linear of Conv-N).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .layers import Network, check_input, conv_stack, conv_unit, dense_stack, scaled, \
    use_batchnorm

if TYPE_CHECKING:
    from ..config import ModelSpec


def conv_net(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int, *,
             depth: int) -> Network:
    """Conv-``depth`` (2, 4 or 6), Frankle & Carbin (2019): (B, C, H, W) -> (B, num_classes).

    features: 3x3 convs (padding 1) 64, 64, pool [, 128, 128, pool [, 256, 256, pool]] ->
    flatten -> fc: Linear 256, 256 -> classifier; channels and FC units x spec.width.
    H and W must be >= 2**(depth/2) (28x28 and 32x32 both work).
    """
    pools = depth // 2
    channels, height, width = check_input(spec, input_shape, "image", min_size=2 ** pools)
    plan = [item for c in (64, 128, 256)[:pools] for item in (c, c, "M")]
    batchnorm = use_batchnorm(spec, False)
    features, c_out = conv_stack(channels, plan, spec.width, bias=spec.bias,
                                 batchnorm=batchnorm)
    hidden = [scaled(256, spec.width)] * 2
    return Network(
        features=features,
        flatten=nn.Flatten(),
        fc=dense_stack(c_out * (height >> pools) * (width >> pools), hidden,
                       activation="relu", bias=spec.bias, batchnorm=batchnorm),
        classifier=nn.Linear(hidden[-1], num_classes, bias=spec.bias),
    )


def cnn1d(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> Network:
    """1-D CNN for MNIST-1D: (B, C, L) -> (B, num_classes).

    features: 3 x [Conv1d kernel 5, stride 2, padding 2 -> ReLU] with 32 x spec.width
    channels (L -> ceil(L/2) each, 40 -> 5) -> flatten -> classifier.
    """
    c_in, length = check_input(spec, input_shape, "sequence")
    channels = scaled(32, spec.width)
    layers: list[nn.Module] = []
    for _ in range(3):
        layers += conv_unit(c_in, channels, bias=spec.bias,
                            batchnorm=use_batchnorm(spec, False), dim=1, kernel_size=5,
                            stride=2)
        c_in, length = channels, (length + 1) // 2
    return Network(
        features=nn.Sequential(*layers),
        flatten=nn.Flatten(),
        classifier=nn.Linear(channels * length, num_classes, bias=spec.bias),
    )
