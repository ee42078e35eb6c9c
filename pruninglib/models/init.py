"""Weight initialisation shared by every model (one scheme, two parameterisations)."""
from __future__ import annotations

import math

import torch
from torch import nn

_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


@torch.no_grad()
def initialize(model: nn.Module, sigma_w: float | None = None, sigma_b: float | None = None,
               generator: torch.Generator | None = None) -> nn.Module:
    """Re-draw every conv / linear / BatchNorm parameter of ``model`` in place; returns it.

    Conv and linear layers: W ~ N(0, sigma_w**2 / fan_in), fan_in = C_in * k (* k) (in_features
    for Linear), and b ~ N(0, sigma_b**2). ``sigma_w=None`` means sqrt(2), i.e. Kaiming-normal
    (fan_in, ReLU gain) as the SynFlow code does; ``sigma_b=None`` means 0 (zero biases).
    BatchNorm: gamma = 1, beta = 0. Draws come from ``generator`` (default: the global torch
    RNG, which the caller seeds), so the same seed gives the same weights.
    """
    sigma_w = math.sqrt(2.0) if sigma_w is None else sigma_w
    sigma_b = 0.0 if sigma_b is None else sigma_b
    for module in model.modules():
        if isinstance(module, _WEIGHTED):
            fan_in = module.weight[0].numel()
            module.weight.normal_(0.0, sigma_w / math.sqrt(fan_in), generator=generator)
            if module.bias is not None:
                module.bias.normal_(0.0, sigma_b, generator=generator)
        elif isinstance(module, _NORMS):
            module.weight.fill_(1.0)
            module.bias.zero_()
    return model
