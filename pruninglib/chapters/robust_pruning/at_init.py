"""The network a run starts training from: initialised, pruned and (if asked) rescaled.

For analyses of pruned networks before training (signal propagation, the measured chi of
:func:`pruninglib.analysis.eoc.measured_chi`): the run is computed by
:func:`pruninglib.runs.experiments.run` with ``train.epochs = 0`` and its weights saved, then
loaded back into the network :func:`pruninglib.runs.networks.initial_network` builds. The
network returned is therefore exactly the one a training run of the same spec starts from
(same seed, pruning batch, mask and rescaling), and it is cached like any other run.
"""
from __future__ import annotations

import torch
from torch import nn

from ...config import RunSpec
from ...data import DATASETS
from ...masks import Mask
from ...runs.cache import RUN_KIND, store_for
from ...runs.experiments import run
from ...runs.networks import initial_network, network_from_tensors


def network_at_init(spec: RunSpec, *, results_dir=None, device: str = "auto",
                    data_root=None) -> tuple[nn.Module, Mask]:
    """(model, mask) of ``spec`` right before training, on the CPU, in eval mode.

    model: the architecture of ``spec.model`` holding the pruned (and rescaled) initial
    weights; mask: ``{parameter name: bool tensor}`` over its prunable weights, input to
    output (all True for ``prune.method = 'dense'``). The global torch random state is left
    as it was.
    """
    at_init = spec.replace(**{"train.epochs": 0})
    result = run(at_init, results_dir=results_dir, device=device, progress=False,
                 save_weights=True, data_root=data_root)
    tensors = store_for(RUN_KIND, results_dir).load_weights(result.key)
    info = DATASETS[spec.data.name]
    with torch.random.fork_rng(devices=[]):
        model = initial_network(spec.model, info.input_shape, info.num_classes, spec.seed)
    stored = network_from_tensors(model, tensors)  # safetensors sorts names: input to output
    mask = {name: stored[name] for name, _ in model.named_parameters() if name in stored}
    return model.eval(), mask


def units_without_inputs(mask: Mask) -> dict[str, float]:
    """Per masked layer, the fraction of its output units (rows; conv: output channels) whose
    incoming weights are all pruned. The rescaling trick cannot restore such a unit: it has no
    weight left to rescale."""
    return {name: float((~m.reshape(m.shape[0], -1).any(1)).float().mean())
            for name, m in mask.items()}
