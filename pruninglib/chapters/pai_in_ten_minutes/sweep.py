"""The tour's grid: every model trained dense and pruned by every method at every density,
each with every seed, as cached training runs (:mod:`pruninglib.runs.experiments`)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.experiments import layers_frame, sweep, sweep_results, to_frame


@dataclass
class Tour:
    """The tour's results.

    dense: one row per dense run (model × seed), :func:`~pruninglib.runs.experiments.to_frame`
        columns. runs: the same, one row per pruned run (model × method × density × seed).
    layers: one row per (pruned run, prunable layer), :func:`~pruninglib.runs.experiments.layers_frame`.
    """

    dense: pd.DataFrame
    runs: pd.DataFrame
    layers: pd.DataFrame


def run_tour(data: DataSpec, training: TrainSpec, *, models: Sequence[str],
             widths: Mapping[str, float], methods: Sequence[str], densities: Sequence[float],
             seeds: int, executor=None, results_dir=None, device="auto",
             progress: bool = True) -> Tour:
    """Train every model of ``models`` (width multiplier ``widths.get(model, 1)``) dense and
    pruned at initialization by every method and density, with seeds 0 .. seeds-1, on
    ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]'); runs already
    stored are loaded. One seed gives the dense and the pruned runs the same initial
    weights."""
    options = dict(executor=executor, results_dir=results_dir, device=device,
                   progress=progress)
    seed_list = list(range(seeds))
    grid = {"prune.method": list(methods), "prune.density": list(densities),
            "seed": seed_list}
    dense, results = [], []
    for model in models:
        # the default PruneSpec of a RunSpec is the dense (unpruned) network
        base = RunSpec(data=data, model=ModelSpec(model, width=widths.get(model, 1.0)),
                       train=training)
        dense.append(sweep(base, {"seed": seed_list}, **options))
        results += sweep_results(base, grid, **options)
    return Tour(pd.concat(dense, ignore_index=True), to_frame(results), layers_frame(results))
