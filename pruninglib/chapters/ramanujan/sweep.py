"""The chapter's training runs: every method prunes the same initial network to every density,
the mask is trained from scratch; each model is also trained once per seed unpruned.

:func:`sweep_specs` builds the grid from the chapter's parameters (a mapping with the knobs of
the ``ramanujan`` section of ``notebooks/profiles.yml``); :func:`train` runs it (cached, on
any executor) and returns a :class:`Runs`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.experiments import Result, grid_specs, run_all, to_frame
from .mask_graphs import ITERATIVE_SNIP, method_variant


def method_change(method: str, iter_snip_rounds: int) -> dict:
    """Spec changes of a method name ("iter_snip" is SNIP with ``iter_snip_rounds`` rounds)."""
    if method == ITERATIVE_SNIP:
        return {"prune.method": "snip", "prune.iterations": int(iter_snip_rounds)}
    return {"prune.method": method}


def base_spec(params: Mapping, model: str) -> RunSpec:
    """The unpruned run of ``model`` with the data, width and training of ``params``."""
    return RunSpec(
        data=DataSpec(params["dataset"], train_subset=params["train_subset"][model],
                      test_subset=params["test_subset"][model], augment=params["augment"]),
        model=ModelSpec(model, width=params["widths"].get(model, 1.0),
                        hidden=tuple(params["hidden"]) if model == "mlp" else ()),
        train=TrainSpec(epochs=params["epochs"][model], lr=params["lr"],
                        batch_size=params["batch_size"], schedule=params["schedule"],
                        weight_decay=params["weight_decay"]))


def sweep_specs(params: Mapping) -> tuple[list[RunSpec], list[RunSpec]]:
    """(dense specs, pruned specs): per model, seeds 0 .. ``seeds`` - 1 unpruned, and every
    method of ``methods`` at every density of ``densities[model]`` and seed."""
    seeds = list(range(params["seeds"]))
    dense, pruned = [], []
    for model in params["models"]:
        base = base_spec(params, model)
        dense += grid_specs(base, {"seed": seeds})
        for method in params["methods"]:
            changed = base.replace(**method_change(method, params["iter_snip_rounds"]))
            pruned += grid_specs(changed, {"prune.density": params["densities"][model],
                                           "seed": seeds})
    return dense, pruned


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
    """Run (or load) the grid of :func:`sweep_specs` on ``params["executor"]``, with the
    parameters' ``results_dir``, ``device`` and ``progress``."""
    options = {name: params[name] for name in ("executor", "results_dir", "device", "progress")}
    dense_specs, specs = sweep_specs(params)
    dense = to_frame(run_all(dense_specs, **options))
    results = run_all(specs, **options)
    pruned = to_frame(results).assign(variant=[method_variant(r.spec) for r in results])
    return Runs(dense, results, pruned)
