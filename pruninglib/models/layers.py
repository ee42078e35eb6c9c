"""Building blocks shared by the model families.

Every model is a :class:`Network`: an ``nn.Sequential`` of named stages, so module order is
forward order (input to output) and the last stage, ``classifier``, is the final ``nn.Linear``.
Only standard torch layers hold parameters, so masks keyed by parameter name
(``features.0.weight``) apply directly.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from ..config import ModelSpec

ACTIVATION_LAYERS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "selu": nn.SELU, "gelu": nn.GELU,
    "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU, "linear": nn.Identity,
}
"""Activation name (``ModelSpec.activation``) -> layer class, default torch constants."""

_LAYOUTS = {"image": "(C, H, W)", "sequence": "(C, L)"}


class Network(nn.Sequential):
    """Named stages applied in order; the last stage is ``classifier``, the final nn.Linear.

    Built as ``Network(features=..., flatten=..., classifier=...)``; parameter names are
    ``<stage>.<index>.weight`` (e.g. ``features.0.weight``, ``classifier.weight``).
    """

    def __init__(self, **stages: nn.Module) -> None:
        super().__init__(OrderedDict(stages))


class Residual(nn.Module):
    """y = post(shortcut(x) + scale * branch(x)).

    ``scale`` is a plain float (not a parameter): 1, or 1/sqrt(L) in a Stable ResNet with L
    blocks. Registration order is branch, shortcut, post, which is the order of the forward.
    """

    def __init__(self, branch: nn.Module, shortcut: nn.Module | None = None, *,
                 scale: float = 1.0, post: nn.Module | None = None) -> None:
        super().__init__()
        self.branch = branch
        self.shortcut = shortcut if shortcut is not None else nn.Identity()
        self.post = post if post is not None else nn.Identity()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.scale * self.branch(x)  # before the shortcut: registration order
        return self.post(self.shortcut(x) + branch)

    def extra_repr(self) -> str:
        return f"scale={self.scale:.6g}"


def scaled(n: int, width: float) -> int:
    """``n`` units (or channels) times the width multiplier, rounded, at least 1."""
    return max(1, round(n * width))


def use_batchnorm(spec: ModelSpec, default: bool) -> bool:
    """``spec.batchnorm``, or the architecture's ``default`` when it is None."""
    return default if spec.batchnorm is None else spec.batchnorm


def residual_scale(spec: ModelSpec, blocks: int) -> float:
    """Branch scale of a residual net with ``blocks`` blocks: 1/sqrt(blocks) if stable, else 1."""
    return 1.0 / math.sqrt(blocks) if spec.stable else 1.0


def dense_stack(n_in: int, widths, *, activation: str, bias: bool,
                batchnorm: bool) -> nn.Sequential:
    """[Linear -> (BatchNorm1d) -> activation] per width: (B, n_in) -> (B, widths[-1])."""
    layers: list[nn.Module] = []
    for n_out in widths:
        layers.append(nn.Linear(n_in, n_out, bias=bias))
        if batchnorm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(ACTIVATION_LAYERS[activation]())
        n_in = n_out
    return nn.Sequential(*layers)


def conv_unit(c_in: int, c_out: int, *, bias: bool, batchnorm: bool, dim: int = 2,
              kernel_size: int = 3, stride: int = 1, relu: bool = True) -> list[nn.Module]:
    """Conv{dim}d (padding kernel_size // 2) -> (BatchNorm{dim}d) -> (ReLU).

    (B, c_in, *S) -> (B, c_out, *S') with S' = floor((S - 1) / stride) + 1 for odd kernels.
    """
    conv = (nn.Conv1d, nn.Conv2d)[dim - 1]
    norm = (nn.BatchNorm1d, nn.BatchNorm2d)[dim - 1]
    layers: list[nn.Module] = [conv(c_in, c_out, kernel_size, stride=stride,
                                    padding=kernel_size // 2, bias=bias)]
    if batchnorm:
        layers.append(norm(c_out))
    if relu:
        layers.append(nn.ReLU())
    return layers


def conv_stack(c_in: int, plan, width: float, *, bias: bool,
               batchnorm: bool) -> tuple[nn.Sequential, int]:
    """3x3 conv units and 2x2 max-pools from a plan like ``(64, 64, "M", 128)``.

    Channel counts are multiplied by ``width``. Returns the stack,
    (B, c_in, H, W) -> (B, c_out, H / 2**pools, W / 2**pools) (floored), and c_out.
    """
    layers: list[nn.Module] = []
    for item in plan:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            c_out = scaled(item, width)
            layers += conv_unit(c_in, c_out, bias=bias, batchnorm=batchnorm)
            c_in = c_out
    return nn.Sequential(*layers), c_in


def check_input(spec: ModelSpec, input_shape: tuple[int, ...], layout: str,
                min_size: int = 1) -> tuple[int, ...]:
    """``input_shape`` itself if it has the ``layout`` ('image': (C, H, W), 'sequence': (C, L))
    and spatial sizes >= ``min_size``; otherwise raise a one-line ConfigError."""
    from ..config import ConfigError

    dims = _LAYOUTS[layout]
    got = f"got input shape {input_shape} from the dataset"
    if len(input_shape) != dims.count(",") + 1:
        raise ConfigError(f"model.name={spec.name!r} needs {layout} inputs {dims}; {got}")
    if min(input_shape[1:]) < min_size:
        raise ConfigError(f"model.name={spec.name!r} needs {layout} inputs {dims} with "
                          f"spatial sizes >= {min_size}; {got}")
    return input_shape
