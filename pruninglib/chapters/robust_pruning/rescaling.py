"""The measured chi of pruned networks before training, with and without the rescaling trick.

One cached task of kind ``chi`` per network (:func:`chi_task`): the network a run starts from
(:func:`.at_init.network_at_init`) and the growth factor per layer of a small perturbation of
``inputs`` test images (:func:`pruninglib.analysis.eoc.measured_chi`, geometric mean over the
hidden layers after the first ``skip``), plus the fraction of units left without any incoming
weight. :func:`chi_study` runs the chapter's grid of them on any executor.

:func:`width_study` measures the same chi on nets of several widths (kind ``chi_width``):
the network is built inside the task from the run's initialisation and mask
(:func:`pruninglib.runs.experiments.mask_of`, which stores the mask but no weights), which
makes width 1000 and more affordable. Signal propagation needs no training.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ...analysis import eoc
from ...config import DataSpec, RunSpec, TrainSpec
from ...data import DATASETS, load_data_once
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute
from ...masks import apply_mask
from ...pruners import rescale_fan_in
from ...runs.experiments import mask_of
from ...runs.networks import initial_network
from .at_init import network_at_init, units_without_inputs
from .sweeps import mlp_model

RESCALES = ("none", "fan_in")


def chi_task(run_spec: RunSpec, inputs: int, skip: int) -> Task:
    """The measured chi of ``run_spec``'s network at initialisation, through the first
    ``inputs`` test images, skipping ``skip`` hidden layers (kind ``chi``). The run is taken
    with ``train.epochs = 0``: the task does not depend on the training budget."""
    at_init = run_spec.replace(**{"train.epochs": 0})
    return Task.make("chi", {"run": at_init.to_dict(), "inputs": int(inputs),
                             "skip": int(skip)}, compute_chi)


def compute_chi(spec: dict, context: Context) -> Output:
    """Compute function of :func:`chi_task`: payload chi (dimensionless; 1 on the EOC) and
    inputless (mean over layers of the fraction of units with no incoming weight); the
    perturbation is drawn from a generator seeded with the run's seed."""
    run_spec = RunSpec.from_dict(spec["run"])
    net, mask = network_at_init(run_spec, results_dir=context.results_dir,
                                device=context.device, data_root=context.data_root)
    probe = load_data_once(run_spec.data, root=context.data_root).test_x[:spec["inputs"]]
    chi = eoc.measured_chi(net, probe, skip=spec["skip"],
                           generator=torch.Generator().manual_seed(run_spec.seed))
    inputless = float(np.mean(list(units_without_inputs(mask).values())))
    return Output({"chi": float(chi), "inputless": inputless})


def chi_variants(params) -> list[tuple[str, float, str]]:
    """(method, density, rescale) measured per activation: the dense net, then every
    criterion at every ``train_densities`` without and with rescaling."""
    return [("dense", 1.0, "none")] + [(m, d, r) for m in params.methods
                                       for d in params.train_densities for r in RESCALES]


def chi_plan(params) -> list[tuple[dict, Task]]:
    """The measured networks: (row identifiers, :func:`chi_task`) per EOC MLP of
    ``train_depth`` layers, activation, :func:`chi_variants` entry and seed."""
    skip = min(5, params.train_depth - 2)
    planned = []
    for activation in params.activations:
        base = RunSpec(data=DataSpec(**params.data),
                       model=mlp_model(params, activation, "eoc", params.train_depth),
                       train=TrainSpec(**params.training))
        for method, density, rescale in chi_variants(params):
            for seed in range(params.seeds):
                spec = base.replace(**{"prune.method": method, "prune.density": density,
                                       "prune.rescale": rescale, "seed": seed})
                planned.append(({"activation": activation, "prune.method": method,
                                 "prune.density": density, "prune.rescale": rescale,
                                 "seed": seed}, chi_task(spec, params.chi_inputs, skip)))
    return planned


def chi_study(params, *, executor=None, results_dir=None, device="auto",
              progress: bool = False) -> pd.DataFrame:
    """Measured chi of :func:`chi_plan`'s networks, one row per (activation, method,
    density, rescale, seed): columns activation, prune.method, prune.density,
    prune.rescale, seed, chi, inputless."""
    planned = chi_plan(params)
    payloads = execute([task for _, task in planned], executor=executor,
                       results_dir=results_dir, device=device, progress=progress)
    return pd.DataFrame([{**row, "chi": p["chi"], "inputless": p["inputless"]}
                         for (row, _), p in zip(planned, payloads)])


def chi_width_task(run_spec: RunSpec, inputs: int, skip: int) -> Task:
    """Like :func:`chi_task` (kind ``chi_width``), the network built inside the task."""
    at_init = run_spec.replace(**{"train.epochs": 0})
    return Task.make("chi_width", {"run": at_init.to_dict(), "inputs": int(inputs),
                                   "skip": int(skip)}, compute_chi_width)


def compute_chi_width(spec: dict, context: Context) -> Output:
    """Compute function of :func:`chi_width_task`: the run's initial network
    (:func:`~pruninglib.runs.networks.initial_network`) with the run's mask
    (:func:`~pruninglib.runs.experiments.mask_of`, cached without the weights, found once for
    both rescalings) applied and, if asked, the rescaling trick; payload chi and inputless as
    in :func:`compute_chi`."""
    run_spec = RunSpec.from_dict(spec["run"])
    info = DATASETS[run_spec.data.name]
    with torch.random.fork_rng(devices=[]):
        model = initial_network(run_spec.model, info.input_shape, info.num_classes,
                                run_spec.seed)
    mask = None
    if run_spec.prune.method != "dense":
        mask = mask_of(run_spec.replace(**{"prune.rescale": "none"}),
                       results_dir=context.results_dir, device="cpu",
                       data_root=context.data_root)
        dense_init = {n: p.detach().clone() for n, p in model.named_parameters()}
        apply_mask(model, mask)
        if run_spec.prune.rescale == "fan_in":
            rescale_fan_in(model, mask, dense_init)
    probe = load_data_once(run_spec.data, root=context.data_root).test_x[:spec["inputs"]]
    chi = eoc.measured_chi(model.eval(), probe, skip=spec["skip"],
                           generator=torch.Generator().manual_seed(run_spec.seed))
    inputless = 0.0 if mask is None else float(
        np.mean(list(units_without_inputs(mask).values())))
    return Output({"chi": float(chi), "inputless": inputless})


def width_plan(params) -> list[tuple[dict, Task]]:
    """Per ``chi_widths`` entry (default: ``width``) and seed, the first activation's EOC MLP of ``train_depth``
    layers: dense, and SNIP at the lowest ``train_densities`` without and with rescaling."""
    skip = min(5, params.train_depth - 2)
    activation, low = params.activations[0], float(min(params.train_densities))
    planned = []
    for width in getattr(params, "chi_widths", None) or [params.width]:
        base = RunSpec(data=DataSpec(**params.data),
                       model=mlp_model(params, activation, "eoc", params.train_depth),
                       train=TrainSpec(**params.training)
                       ).replace(**{"model.hidden": (int(width),) * params.train_depth})
        for method, density, rescale in [("dense", 1.0, "none"), ("snip", low, "none"),
                                         ("snip", low, "fan_in")]:
            for seed in range(params.seeds):
                spec = base.replace(**{"prune.method": method, "prune.density": density,
                                       "prune.rescale": rescale, "seed": seed})
                planned.append(({"activation": activation, "width": int(width),
                                 "prune.method": method, "prune.density": density,
                                 "prune.rescale": rescale, "seed": seed},
                                chi_width_task(spec, params.chi_inputs, skip)))
    return planned


def width_study(params, *, executor=None, results_dir=None, device="auto",
                progress: bool = False) -> pd.DataFrame:
    """Measured chi of :func:`width_plan`'s networks, one row per (width, method, rescale,
    seed): columns activation, width, prune.method, prune.density, prune.rescale, seed, chi,
    inputless."""
    planned = width_plan(params)
    payloads = execute([task for _, task in planned], executor=executor,
                       results_dir=results_dir, device=device, progress=progress)
    return pd.DataFrame([{**row, "chi": p["chi"], "inputless": p["inputless"]}
                         for (row, _), p in zip(planned, payloads)])
