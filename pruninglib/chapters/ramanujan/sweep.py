"""The chapter's training runs: every method prunes the same initial network to every density,
the mask is trained from scratch; each model is also trained once per seed unpruned.

:func:`sweep_specs` builds the grid from the chapter's parameters (a mapping with the knobs of
the ``ramanujan`` section of ``notebooks/profiles.yml``); :func:`run_tasks` makes its cached
tasks and :func:`train` runs them (on any executor) and returns a :class:`Runs`. A run whose
mask takes many scoring rounds to find (:func:`keeps_mask`: iterative SNIP, SynFlow) stores its
weights and mask, so that the graph metrics read the mask back instead of finding it again.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.cache import Task
from ...runs.executors import execute
from ...runs.experiments import Result, grid_specs, run_task, to_frame
from .mask_graphs import ITERATIVE_SNIP, method_variant


def method_change(method: str, iter_snip_rounds: int) -> dict:
    """Spec changes of a method name ("iter_snip" is SNIP with ``iter_snip_rounds`` rounds)."""
    if method == ITERATIVE_SNIP:
        return {"prune.method": "snip", "prune.iterations": int(iter_snip_rounds)}
    return {"prune.method": method}


def base_spec(params: Mapping, model: str) -> RunSpec:
    """The unpruned run of ``model`` with the data, width and training of ``params``
    (``optimizer``, ``lr``, ``bf16`` and ``channels_last`` per model; a model without an entry
    gets SGD and off)."""
    return RunSpec(
        data=DataSpec(params["dataset"], train_subset=params["train_subset"][model],
                      test_subset=params["test_subset"][model], augment=params["augment"]),
        model=ModelSpec(model, width=params["widths"].get(model, 1.0),
                        hidden=tuple(params["hidden"]) if model == "mlp" else ()),
        train=TrainSpec(epochs=params["epochs"][model], lr=params["lr"][model],
                        optimizer=params["optimizer"].get(model, "sgd"),
                        batch_size=params["batch_size"], schedule=params["schedule"],
                        weight_decay=params["weight_decay"],
                        bf16=bool(params["bf16"].get(model, False)),
                        channels_last=bool(params["channels_last"].get(model, False))))


def sweep_specs(params: Mapping) -> tuple[list[RunSpec], list[RunSpec]]:
    """(dense specs, pruned specs): per model, seeds 0 .. ``seeds`` - 1 unpruned, and every
    method of ``methods`` at every density of ``densities[model]`` and seed (iterative SNIP
    with ``iter_snip_rounds[model]`` rounds)."""
    seeds = list(range(params["seeds"]))
    dense, pruned = [], []
    for model in params["models"]:
        base = base_spec(params, model)
        dense += grid_specs(base, {"seed": seeds})
        for method in params["methods"]:
            changed = base.replace(**method_change(method, params["iter_snip_rounds"][model]))
            pruned += grid_specs(changed, {"prune.density": params["densities"][model],
                                           "seed": seeds})
    return dense, pruned


def keeps_mask(spec: RunSpec) -> bool:
    """Whether the run of ``spec`` stores its weights and mask: its pruning takes more than one
    scoring round (iterative SNIP, SynFlow), so finding the mask again would cost as much
    again, while a one-round mask (random, ERK, SNIP, GraSP) is found again in a fraction of a
    second (:func:`pruninglib.runs.experiments.mask_of`)."""
    return spec.prune.method != "dense" and spec.prune.rounds > 1


def run_tasks(params: Mapping) -> tuple[list[Task], list[Task]]:
    """(dense, pruned): the cached training tasks of :func:`sweep_specs`, the pruned ones
    storing their weights where :func:`keeps_mask` says so."""
    dense, pruned = sweep_specs(params)
    return ([run_task(spec) for spec in dense],
            [run_task(spec, save_weights=keeps_mask(spec)) for spec in pruned])


@dataclass
class Runs:
    """The chapter's finished runs.

    dense: one row per unpruned run (:func:`pruninglib.runs.experiments.to_frame`).
    results: the pruned runs' :class:`~pruninglib.runs.experiments.Result` objects.
    pruned: one row per pruned run, with ``variant`` (``iter_snip`` told apart from SNIP).
    """

    dense: pd.DataFrame
    results: list[Result]
    pruned: pd.DataFrame


def train(params: Mapping) -> Runs:
    """Run (or load) the tasks of :func:`run_tasks`, all at once on ``params["executor"]``,
    with the parameters' ``results_dir``, ``device`` and ``progress``."""
    dense_tasks, pruned_tasks = run_tasks(params)
    payloads = execute(dense_tasks + pruned_tasks, executor=params["executor"],
                       results_dir=params["results_dir"], device=params["device"],
                       progress=params["progress"])
    results = [Result.from_dict(payload) for payload in payloads]
    dense, pruned = results[:len(dense_tasks)], results[len(dense_tasks):]
    frame = to_frame(pruned).assign(variant=[method_variant(r.spec) for r in pruned])
    return Runs(to_frame(dense), pruned, frame)
