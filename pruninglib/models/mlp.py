"""Fully-connected models: LeNet-300-100, plain MLPs and residual MLPs.

All of them flatten any input: (B, *input_shape) -> (B, prod(input_shape)) -> (B, num_classes).
BatchNorm1d (after each hidden Linear, before the activation) is off unless asked for.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from torch import nn

from .layers import Network, Residual, dense_stack, residual_scale, scaled, use_batchnorm

if TYPE_CHECKING:
    from ..config import ModelSpec


def _dense_net(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int,
               hidden: tuple[int, ...], activation: str) -> Network:
    """flatten -> features ([Linear, (BN), activation] per hidden width x spec.width) ->
    classifier."""
    widths = [scaled(h, spec.width) for h in hidden]
    return Network(
        flatten=nn.Flatten(),
        features=dense_stack(math.prod(input_shape), widths, activation=activation,
                             bias=spec.bias, batchnorm=use_batchnorm(spec, False)),
        classifier=nn.Linear(widths[-1], num_classes, bias=spec.bias),
    )


def lenet_300_100(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> Network:
    """LeNet-300-100: n_in -> 300 -> 100 -> num_classes (hidden widths x spec.width), ReLU.

    266,610 parameters on 28x28 inputs with 10 classes at width 1.
    """
    return _dense_net(spec, input_shape, num_classes, (300, 100), "relu")


def mlp(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> Network:
    """MLP with hidden widths ``spec.hidden`` (x spec.width) and ``spec.activation``."""
    return _dense_net(spec, input_shape, num_classes, spec.hidden, spec.activation)


def resmlp(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> Network:
    """Residual MLP of L = len(spec.hidden) blocks of width w = spec.hidden[0] x spec.width.

    flatten -> embed: Linear(n_in, w), no activation -> blocks: L x [x <- x + s * F(x)] ->
    classifier: Linear(w, num_classes). F(x) = W2 phi(W1 x + b1) + b2 is a two-layer branch
    (stage names ``blocks.<l>.branch.0`` = W1, ``.branch.<last>`` = W2; BatchNorm1d after W1
    if asked for); s = 1/sqrt(L) when ``spec.stable`` (Stable ResNet), else 1.
    """
    from ..config import ConfigError

    if len(set(spec.hidden)) != 1:
        raise ConfigError(f"model.hidden={spec.hidden!r} is not allowed: equal widths "
                          f"(w repeated L times) for model 'resmlp'")
    width, depth = scaled(spec.hidden[0], spec.width), len(spec.hidden)
    batchnorm = use_batchnorm(spec, False)
    blocks = [
        Residual(nn.Sequential(*dense_stack(width, [width], activation=spec.activation,
                                            bias=spec.bias, batchnorm=batchnorm),
                               nn.Linear(width, width, bias=spec.bias)),
                 scale=residual_scale(spec, depth))
        for _ in range(depth)
    ]
    return Network(
        flatten=nn.Flatten(),
        embed=nn.Linear(math.prod(input_shape), width, bias=spec.bias),
        blocks=nn.Sequential(*blocks),
        classifier=nn.Linear(width, num_classes, bias=spec.bias),
    )
