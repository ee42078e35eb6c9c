"""Masks over the prunable weights of a model.

A mask is a plain ``dict[str, torch.BoolTensor]`` keyed by parameter name (``"features.0.weight"``),
each tensor shaped like its parameter; ``True`` means *kept*. Dict order is the model's
``named_modules()`` order, i.e. input to output, and every function here keeps it.

Enforcement (see :func:`apply_mask`, :func:`mask_gradients`): pruned weights are set to exactly
zero in place and their gradients are zeroed before each optimizer step; SGD and Adam then move
a weight whose value, gradient and optimiser state are zero by exactly zero, so pruned weights
stay zero under momentum and weight decay (:func:`pruninglib.train.train`). Masks are for research: a masked network runs
dense kernels (export with :func:`to_torch_prune` to carry a mask into your own code).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

Mask = dict[str, torch.Tensor]

PRUNABLE_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d)


def prunable_parameters(model: nn.Module, include_classifier: bool = True
                        ) -> dict[str, nn.Parameter]:
    """The weights of every Linear / Conv1d / Conv2d layer, input to output.

    Biases and BatchNorm parameters are never prunable (as in the SynFlow reference code).
    ``include_classifier=False`` leaves out ``model.classifier`` (the final Linear layer).
    """
    classifier = getattr(model, "classifier", None)
    params = {}
    for name, module in model.named_modules():
        if not isinstance(module, PRUNABLE_TYPES):
            continue
        if module is classifier and not include_classifier:
            continue
        params[f"{name}.weight" if name else "weight"] = module.weight
    return params


def full_mask(model: nn.Module, include_classifier: bool = True) -> Mask:
    """All-kept mask over the prunable weights."""
    return {name: torch.ones_like(p, dtype=torch.bool)
            for name, p in prunable_parameters(model, include_classifier).items()}


def _parameters(model: nn.Module, mask: Mapping[str, torch.Tensor]) -> dict[str, nn.Parameter]:
    named = dict(model.named_parameters())
    missing = [name for name in mask if name not in named]
    if missing:
        raise KeyError(f"mask names parameters the model does not have: {missing[:3]}")
    return {name: named[name] for name in mask}


@torch.no_grad()
def apply_mask(model: nn.Module, mask: Mapping[str, torch.Tensor]) -> None:
    """Zero the pruned weights in place."""
    for name, p in _parameters(model, mask).items():
        p.mul_(mask[name].to(p.device, p.dtype))


@torch.no_grad()
def mask_gradients(model: nn.Module, mask: Mapping[str, torch.Tensor]) -> None:
    """Zero the gradients of pruned weights in place (call between backward and step)."""
    for name, p in _parameters(model, mask).items():
        if p.grad is not None:
            p.grad.mul_(mask[name].to(p.grad.device, p.grad.dtype))


def count(mask: Mapping[str, torch.Tensor]) -> tuple[int, int]:
    """(kept, total) weights over all masked tensors."""
    kept = sum(int(m.sum()) for m in mask.values())
    total = sum(m.numel() for m in mask.values())
    return kept, total


def density(mask: Mapping[str, torch.Tensor]) -> float:
    """Kept fraction of the masked weights, in [0, 1]."""
    kept, total = count(mask)
    return kept / total


def compression(mask: Mapping[str, torch.Tensor]) -> float:
    """Compression ratio rho = total / kept (inf when nothing is kept)."""
    kept, total = count(mask)
    return total / kept if kept else float("inf")


def layer_densities(mask: Mapping[str, torch.Tensor]) -> list[dict]:
    """One row per masked tensor: name, shape, numel, kept, density (kept / numel)."""
    return [{"name": name, "shape": list(m.shape), "numel": m.numel(), "kept": int(m.sum()),
             "density": int(m.sum()) / m.numel()} for name, m in mask.items()]


def shuffle_within_layers(mask: Mapping[str, torch.Tensor], generator: torch.Generator) -> Mask:
    """Move each layer's kept positions uniformly at random inside that layer.

    Keeps every layer's kept count (Frankle et al. 2021's layer-wise shuffle). Unlike the
    SynFlow reference's ``shuffle``, which rebinds a local name and changes nothing, this
    really permutes.
    """
    out = {}
    for name, m in mask.items():
        perm = torch.randperm(m.numel(), generator=generator)
        out[name] = m.reshape(-1)[perm].reshape(m.shape)
    return out


def to_torch_prune(model: nn.Module, mask: Mapping[str, torch.Tensor]) -> None:
    """Attach the mask with ``torch.nn.utils.prune.custom_from_mask``.

    Afterwards each masked layer has ``weight_orig`` (parameter) and ``weight_mask`` (buffer),
    the standard PyTorch pruning reparametrisation; ``prune.remove`` makes it permanent.
    """
    from torch.nn.utils import prune

    for name, m in mask.items():
        module_name, _, attr = name.rpartition(".")
        module = model.get_submodule(module_name)
        prune.custom_from_mask(module, attr, m.to(getattr(module, attr).device))
