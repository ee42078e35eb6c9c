"""Every cached task the chapter computes at given parameters (for the dry run of a profile,
:mod:`pruninglib.chapters.dry_run`), made by the functions the notebook calls."""
from __future__ import annotations

from ...config import RunSpec
from ...runs.cache import Task
from ...runs.experiments import run_task
from .rescaling import chi_plan, width_plan
from .sweeps import prune_grid, residual_grid, train_grid


def plan(params) -> list[Task]:
    """The training runs of the three grids of :mod:`.sweeps`, then per measured chi the
    network at initialisation (a run with ``train.epochs = 0`` and its weights) and the
    ``chi`` task itself, then the ``chi_width`` tasks of the width study (which build their
    networks themselves). Each (kind, key) once: a prune-only run that is also a network at
    init is listed with its weights (the run that stores them serves both)."""
    runs = [run_task(spec) for grid in (prune_grid, train_grid, residual_grid)
            for spec, _ in grid(params)]
    chis = [task for _, task in chi_plan(params)]
    at_init = [run_task(RunSpec.from_dict(task.spec["run"]), save_weights=True)
               for task in chis]
    widths = [task for _, task in width_plan(params)]
    unique: dict[tuple[str, str], Task] = {}
    for task in runs + at_init + chis + widths:
        known = unique.get((task.kind, task.key()))
        if known is None or (task.weights and not known.weights):
            unique[(task.kind, task.key())] = task
    return list(unique.values())
