"""Every cached task the chapter computes at given parameters (for the dry run of a profile,
:mod:`pruninglib.chapters.dry_run`), made by the functions the notebook calls."""
from __future__ import annotations

from collections.abc import Mapping

from ...runs.cache import Task
from .mask_graphs import CHAPTER_GRAPHS, graph_tasks
from .sweep import run_tasks, sweep_specs


def plan(params: Mapping) -> list[Task]:
    """The training runs of :func:`.sweep.run_tasks` (dense, then pruned), then the graph
    metrics of every pruned run's mask and twin (kind ``graphs``). A graph task whose run
    stored no mask finds the mask again inside it (kind ``masks``, through
    :func:`pruninglib.runs.experiments.mask_of`), which is not listed as a task of its own."""
    dense, pruned = run_tasks(params)
    return dense + pruned + graph_tasks(sweep_specs(params)[1], **CHAPTER_GRAPHS)
