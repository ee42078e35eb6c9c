"""The network a run starts training from: initialised, pruned and (if asked) rescaled.

For analyses of pruned networks before training (signal propagation, the measured chi of
:func:`pruninglib.analysis.eoc.measured_chi`): the run is computed by
:func:`pruninglib.experiments.run` with ``train.epochs = 0`` and its weights saved, then loaded
back into a freshly built model. The network returned is therefore exactly the one a training
run of the same spec starts from (same seed, pruning batch, mask and rescaling), and it is
cached like any other run.
"""
from __future__ import annotations

import torch
from torch import nn

from ...config import RunSpec
from ...data import DATASETS
from ...runs.experiments import run
from ...masks import Mask
from ...models import build_model
from ...runs.store import ResultStore


def network_at_init(spec: RunSpec, *, results_dir=None, device: str = "auto",
                    data_root=None) -> tuple[nn.Module, Mask]:
    """(model, mask) of ``spec`` right before training, on the CPU, in eval mode.

    model: the architecture of ``spec.model`` holding the pruned (and rescaled) initial
    weights; mask: ``{parameter name: bool tensor}`` over its prunable weights (all True for
    ``prune.method = 'dense'``).
    """
    at_init = spec.replace(**{"train.epochs": 0})
    result = run(at_init, results_dir=results_dir, device=device, progress=False,
                 save_weights=True, data_root=data_root)
    tensors = ResultStore(results_dir).load_weights(result.key)
    info = DATASETS[spec.data.name]
    with torch.random.fork_rng(devices=[]):  # the weights drawn here are overwritten
        model = build_model(spec.model, info.input_shape, info.num_classes)
    model.load_state_dict({name[len("param/"):]: t for name, t in tensors.items()
                           if name.startswith("param/")})
    mask = {name[len("mask/"):]: t.bool() for name, t in tensors.items()
            if name.startswith("mask/")}
    return model.eval(), mask


def units_without_inputs(mask: Mask) -> dict[str, float]:
    """Per masked layer, the fraction of its output units (rows; conv: output channels) whose
    incoming weights are all pruned. The rescaling trick cannot restore such a unit: it has no
    weight left to rescale."""
    return {name: float((~m.reshape(m.shape[0], -1).any(1)).float().mean())
            for name, m in mask.items()}
