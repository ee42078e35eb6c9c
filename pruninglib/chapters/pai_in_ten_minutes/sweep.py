"""The tour's grid: every model trained dense and pruned by every method at every density,
each with every seed, as cached training runs (:mod:`pruninglib.runs.experiments`).

:class:`TourDesign` turns the chapter's parameters into that grid once; :func:`run_tour`
trains it and :meth:`TourDesign.tasks` lists its cached tasks without training (what
:func:`pruninglib.chapters.pai_in_ten_minutes.plan` returns).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.cache import Task
from ...runs.experiments import (grid_specs, layers_frame, run_task, sweep, sweep_results,
                                 to_frame)


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


@dataclass(frozen=True)
class TourDesign:
    """The tour's grid: ``models`` (width multiplier ``widths.get(model, 1)``) trained with
    ``training`` on ``data``, dense and pruned at initialization by every method and density,
    with seeds 0 .. seeds-1. One seed gives the dense and the pruned runs the same initial
    weights."""

    data: DataSpec
    training: TrainSpec
    models: tuple[str, ...]
    methods: tuple[str, ...]
    densities: tuple[float, ...]
    seeds: int
    widths: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_parameters(cls, params: Mapping) -> TourDesign:
        """The design of the chapter's parameters (dataset, train_subset, test_subset,
        models, widths, methods, densities, epochs, optimizer, lr, batch_size, seeds)."""
        return cls(
            data=DataSpec(params["dataset"], train_subset=params["train_subset"],
                          test_subset=params["test_subset"]),
            training=TrainSpec(epochs=params["epochs"], optimizer=params["optimizer"],
                               lr=params["lr"], batch_size=params["batch_size"]),
            models=tuple(params["models"]), methods=tuple(params["methods"]),
            densities=tuple(params["densities"]), seeds=params["seeds"],
            widths=dict(params["widths"] or {}))

    def grids(self) -> list[tuple[RunSpec, dict, dict]]:
        """Per model: (base spec, dense grid, pruned grid) for
        :func:`~pruninglib.runs.experiments.grid_specs`; the base's default PruneSpec is the
        dense (unpruned) network."""
        seeds = list(range(self.seeds))
        pruned = {"prune.method": list(self.methods), "prune.density": list(self.densities),
                  "seed": seeds}
        return [(RunSpec(data=self.data, model=ModelSpec(m, width=self.widths.get(m, 1.0)),
                         train=self.training), {"seed": seeds}, pruned)
                for m in self.models]

    def tasks(self) -> list[Task]:
        """The cached training task of every run of the grid, dense runs first per model."""
        return [run_task(spec) for base, dense, pruned in self.grids()
                for grid in (dense, pruned) for spec in grid_specs(base, grid)]


def run_tour(design: TourDesign, *, executor=None, results_dir=None, device="auto",
             progress: bool = True) -> Tour:
    """Train every run of ``design`` on ``executor`` (None/'inline', 'pool[:N]',
    'submitit[:...]', 'ray[:...]'); runs already stored are loaded."""
    options = {"executor": executor, "results_dir": results_dir, "device": device,
               "progress": progress}
    dense, results = [], []
    for base, dense_grid, pruned_grid in design.grids():
        dense.append(sweep(base, dense_grid, **options))
        results += sweep_results(base, pruned_grid, **options)
    return Tour(pd.concat(dense, ignore_index=True), to_frame(results), layers_frame(results))


def plan(params: Mapping) -> list[Task]:
    """Every cached task the tour's notebook computes at ``params``: its training runs."""
    return TourDesign.from_parameters(params).tasks()
