"""The chapter's experiments built from its resolved parameters (a notebook's ``P``, or any
mapping with the knobs of ``notebooks/profiles.yml``): the specs every grid starts from,
the options every run takes, :func:`plan` (every cached task the notebook computes) and the
tidy tables offered for download.

The notebook and :func:`plan` build their grids with the same functions
(:func:`base_spec`, :func:`ntk_grid`, :func:`.parity.dense_specs`, :func:`.parity.parity_specs`,
:func:`.parity.width_specs`, :func:`.after_training.tasks`, :func:`.ntk_study.cell_tasks`).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.cache import Task
from ...runs.experiments import run_task
from . import after_training, ntk_study, parity


def data_spec(params: Mapping) -> DataSpec:
    """The data of every run and of the NTK inputs."""
    return DataSpec(params["dataset"], train_subset=params["train_subset"],
                    test_subset=params["test_subset"], augment=params["augment"])


def base_spec(params: Mapping) -> RunSpec:
    """The dense run every grid of part 1 varies (model, data, training recipe; seed 0)."""
    training = TrainSpec(epochs=params["epochs"], lr=params["lr"],
                         batch_size=params["batch_size"], weight_decay=params["weight_decay"])
    return RunSpec(data=data_spec(params), model=ModelSpec(params["model"]), train=training)


def seeds(params: Mapping) -> list[int]:
    """The training seeds 0 .. seeds - 1."""
    return list(range(params["seeds"]))


def run_options(params: Mapping) -> dict:
    """Where and how runs execute: executor, results_dir, device, progress."""
    return {name: params[name] for name in ("executor", "results_dir", "device", "progress")}


def ntk_grid(params: Mapping) -> dict:
    """The NTK grid's keyword arguments of :func:`.ntk_study.ntk_sweep` and
    :func:`.ntk_study.cell_tasks`: n_inputs, depth, widths, keeps, seeds."""
    return {"n_inputs": params["ntk_inputs"], "depth": params["ntk_depth"],
            "widths": list(params["ntk_widths"]), "keeps": list(params["ntk_keeps"]),
            "seeds": list(range(params["ntk_seeds"]))}


def plan(params: Mapping) -> list[Task]:
    """Every cached task the notebook computes at ``params``, each once (by kind and key):
    the dense runs (with weights), the parity runs, the width runs, the runs pruned after
    training and the NTK cells."""
    base, seed_list = base_spec(params), seeds(params)
    dense = parity.dense_specs(base, seed_list)
    runs = [run_task(spec, save_weights=True) for spec in dense]
    runs += [run_task(spec) for spec in (
        parity.parity_specs(base, params["methods"], params["ratios"], params["densities"],
                            seed_list)
        + parity.width_specs(base, params["width_multipliers"], params["width_methods"],
                             params["width_density"], seed_list))]
    cells = ntk_study.cell_tasks(data_spec(params), **ntk_grid(params))
    unique: dict[tuple[str, str], Task] = {}
    for task in runs + after_training.tasks(dense, params["densities"]) + cells:
        unique.setdefault((task.kind, task.key()), task)  # the first (with weights) wins
    return list(unique.values())


TIDY_COLUMNS = ["variant", "kind", "model.width", "prune.density", "seed", "test_accuracy",
                "test_loss", "train_accuracy", "density", "effective_density"]
"""The columns of the training runs offered for download (those a run frame has)."""


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` cut to the :data:`TIDY_COLUMNS` it has, accuracies in [0, 1]."""
    return frame[[c for c in TIDY_COLUMNS if c in frame.columns]].reset_index(drop=True)


def download_tables(dense: pd.DataFrame, runs: pd.DataFrame, widths: pd.DataFrame,
                    after: pd.DataFrame, ntk: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frames the figures and verdicts are made from, by download name: ``runs`` (dense
    and parity runs), ``widths``, ``after_training`` and ``ntk`` (one row per cell)."""
    return {"runs": tidy(pd.concat([dense, runs], ignore_index=True)),
            "widths": tidy(widths), "after_training": after.reset_index(drop=True),
            "ntk": ntk.reset_index(drop=True)}
