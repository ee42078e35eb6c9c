"""Model zoo: builders by name (:data:`MODELS`) and :func:`build_model`.

Every model is a :class:`~pruninglib.models.layers.Network` (an ``nn.Sequential`` of named
stages in forward order) whose last stage ``classifier`` is the final ``nn.Linear``. Only
standard torch layers hold parameters (Linear, Conv1d/2d, BatchNorm1d/2d), so masks keyed by
parameter name apply directly. ResNet shortcut convs are named ``layerK.B.shortcut.0``.
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable

from torch import nn

from .conv import cnn1d, conv_net
from .init import initialize
from .layers import Network, Residual
from .mlp import lenet_300_100, mlp, resmlp
from .resnet import resnet
from .vgg import vgg

if TYPE_CHECKING:
    from ..config import ModelSpec

__all__ = ["MODELS", "Network", "Residual", "build_model", "initialize"]

MODELS: dict[str, Callable[..., Network]] = {
    "lenet_300_100": lenet_300_100,
    "mlp": mlp,
    "resmlp": resmlp,
    **{f"conv{depth}": partial(conv_net, depth=depth) for depth in (2, 4, 6)},
    **{f"vgg{depth}": partial(vgg, depth=depth) for depth in (11, 16, 19)},
    **{f"resnet{depth}": partial(resnet, depth=depth) for depth in (20, 32, 56, 110)},
    "cnn1d": cnn1d,
}
"""Name -> ``builder(spec, input_shape, num_classes)`` giving the architecture with torch's
default initialisation; use :func:`build_model` for the study's initialisation."""


def build_model(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The network ``spec`` names, for inputs (B, *input_shape) and logits (B, num_classes).

    Initialised by :func:`initialize` with ``spec.sigma_w`` / ``spec.sigma_b`` from the global
    torch RNG (seed it first for reproducible weights). An input shape the architecture cannot
    take (e.g. a 2-D conv net on MNIST-1D's (1, 40)) raises a one-line ConfigError.
    """
    model = MODELS[spec.name](spec, tuple(int(size) for size in input_shape), num_classes)
    return initialize(model, spec.sigma_w, spec.sigma_b)
