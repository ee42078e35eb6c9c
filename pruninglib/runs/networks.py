"""A network at initialisation, and a trained network with its mask in the store.

One place builds the network a run starts from (:func:`initial_network`) and one place
defines how a network is stored beside its result: tensors ``param/<name>`` (the state dict)
and ``mask/<name>`` (bool masks of the prunable weights), in a safetensors file
(:func:`network_tensors`, :func:`network_from_tensors`).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..config import ModelSpec
from ..masks import Mask
from ..models import build_model
from ..seeds import derive_seed

PARAM, MASK = "param/", "mask/"


def seeded_network(model: ModelSpec, input_shape: Sequence[int], num_classes: int,
                   torch_seed: int, device="cpu") -> nn.Module:
    """``build_model`` after ``torch.manual_seed(torch_seed)``. The global torch RNG is left
    in that seeded state, so draws that follow in the same run are reproducible too."""
    torch.manual_seed(torch_seed)
    return build_model(model, tuple(input_shape), num_classes).to(device)


def initial_network(model: ModelSpec, input_shape: Sequence[int], num_classes: int,
                    seed: int, device="cpu") -> nn.Module:
    """The network run ``seed`` starts from (torch seed: the run seed's ``"init"`` stream)."""
    return seeded_network(model, input_shape, num_classes, derive_seed(seed, "init"), device)


def network_tensors(model: nn.Module, mask: Mask) -> dict[str, torch.Tensor]:
    """The tensors stored for a network: its state dict and its mask, by prefix."""
    return {**{PARAM + n: t for n, t in model.state_dict().items()},
            **{MASK + n: m for n, m in mask.items()}}


def mask_from_tensors(tensors: dict[str, torch.Tensor], names: Sequence[str] | None = None
                      ) -> Mask:
    """The mask stored in ``tensors`` (bool, CPU), in the order of ``names`` if given
    (safetensors sorts names; a run's layer order is input to output)."""
    names = names if names is not None else [k[len(MASK):] for k in tensors if
                                             k.startswith(MASK)]
    return {n: tensors[MASK + n].bool().cpu() for n in names}


def network_from_tensors(model: nn.Module, tensors: dict[str, torch.Tensor]) -> Mask:
    """Load the stored state dict into ``model``; return the stored mask."""
    model.load_state_dict({k[len(PARAM):]: v for k, v in tensors.items()
                           if k.startswith(PARAM)})
    return mask_from_tensors(tensors)
