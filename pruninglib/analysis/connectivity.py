"""Connectivity of masked networks: effective sparsity, layer collapse, critical compression,
and the synaptic-flow conservation law.

* Effective mask (Vysogorets & Kempe 2023): a kept weight is *effective* if it lies on some path
  from the input to the output; weights cut off from either end count as pruned.
* Layer collapse (Tanaka et al. 2020): a prunable layer with no effective weight left, which
  disconnects the network (direct collapse, no kept weight at all, is the special case).
* Conservation (Tanaka et al., Thm 1): for homogeneous activations (ReLU, linear) and no biases,
  the synaptic saliency theta * dR/dtheta summed over a hidden unit's incoming weights equals
  the sum over its outgoing weights, for any scalar R.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from ..masks import PRUNABLE_TYPES, Mask, prunable_parameters


@torch.no_grad()
def _path_network(model: nn.Module, mask: Mapping[str, torch.Tensor]) -> nn.Module:
    """Float64 copy whose kept weights are 1/(kept inputs of their unit), pruned weights 0,
    biases 0 and BatchNorm the identity: every unit's value is the mean of its kept inputs, so
    it is positive exactly when some path from the (all-ones) input reaches it, and values
    neither overflow nor underflow with depth."""
    work = copy.deepcopy(model).double().eval()
    for name, module in work.named_modules():
        if isinstance(module, PRUNABLE_TYPES):
            key = f"{name}.weight"
            pattern = (mask[key] if key in mask else module.weight != 0).double()
            per_unit = pattern.reshape(pattern.shape[0], -1).sum(1).clamp_min(1)
            module.weight.copy_(pattern / per_unit.reshape((-1,) + (1,) * (pattern.dim() - 1)))
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            if module.affine:
                module.weight.fill_(1)
                module.bias.zero_()
            if module.running_mean is not None:
                module.running_mean.zero_()
                module.running_var.fill_(1)
    return work


def effective_mask(model: nn.Module, mask: Mapping[str, torch.Tensor],
                   input_shape: tuple[int, ...]) -> Mask:
    """Kept weights that lie on at least one input-output path (shape of ``mask``).

    Computed as the support of the SynFlow saliency of a positive copy of the network
    (the effective-sparsity reference does the same on |theta|); activations must map positive
    inputs to positive outputs (all of ``ModelSpec.ACTIVATIONS`` do).
    """
    work = _path_network(model, mask)
    named = dict(work.named_parameters())
    params = [named[n] for n in mask]
    device = params[0].device
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    grads = torch.autograd.grad(work(ones).sum(), params)
    return {n: (g * p > 0) & mask[n].to(device) for n, g, p in zip(mask, grads, params)}


def collapsed_layers(mask: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of the layers with no weight left in ``mask`` (pass an effective mask to count
    layers cut off from the input or output as well)."""
    return [n for n, m in mask.items() if not bool(m.any())]


def max_compression(mask: Mapping[str, torch.Tensor]) -> float:
    """rho_max = N / L: one weight kept per prunable layer (Tanaka et al.)."""
    return sum(m.numel() for m in mask.values()) / len(mask)


def critical_compression(compressions: Sequence[float], collapsed: Sequence[bool]) -> float:
    """Largest tested compression reached before the first collapse.

    compressions: tested ratios (any order); collapsed: whether each collapsed a layer.
    Returns NaN when the smallest tested compression already collapses.
    """
    best = float("nan")
    for rho, bad in sorted(zip(compressions, collapsed)):
        if bad:
            break
        best = rho
    return best


def synaptic_saliency(model: nn.Module, objective: Callable[[nn.Module], torch.Tensor],
                      include_classifier: bool = True) -> dict[str, torch.Tensor]:
    """Signed synaptic saliency theta * dR/dtheta of every prunable weight, R = objective(model)."""
    params = prunable_parameters(model, include_classifier)
    grads = torch.autograd.grad(objective(model), list(params.values()))
    return {n: (g * p).detach() for (n, p), g in zip(params.items(), grads)}


def unit_flows(scores: Mapping[str, torch.Tensor]) -> list[dict]:
    """Per hidden unit, the saliency flowing in and out, for consecutive layers of a plain
    feed-forward net (no skip connections).

    Layer l's weight (out_l, in_l, ...) gives unit i's incoming sum over row i; layer l+1's weight
    gives its outgoing sum over the inputs that read unit i (a flattened conv output of C
    channels is read as C contiguous blocks, PyTorch's channel-major flatten). Returns one dict
    per hidden layer: layer (name of the layer feeding the units), incoming and outgoing
    (float64 tensors of shape (units,)).
    """
    names = list(scores)
    flows = []
    for name, nxt in zip(names, names[1:]):
        s_in, s_out = scores[name].double(), scores[nxt].double()
        units = s_in.shape[0]
        incoming = s_in.reshape(units, -1).sum(1)
        if s_out.shape[1] % units:
            raise ValueError(f"{nxt} reads {s_out.shape[1]} inputs, not a multiple of the "
                             f"{units} units of {name}: not consecutive layers")
        outgoing = s_out.reshape(s_out.shape[0], units, -1).sum(dim=(0, 2))
        flows.append({"layer": name, "incoming": incoming, "outgoing": outgoing})
    return flows


def layer_totals(scores: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Sum of the scores of each layer (equal across layers under the conservation law)."""
    return {n: float(s.double().sum()) for n, s in scores.items()}
