"""plan(params): every cached task the notebook computes, made by the notebook's functions."""
from __future__ import annotations

from collections import Counter

from pruninglib.book.parameters import parameters_for
from pruninglib.chapters import ramanujan
from pruninglib.chapters.ramanujan import sweep
from pruninglib.chapters.ramanujan.mask_graphs import graph_task
from pruninglib.config import RunSpec


def test_plan_at_smoke_holds_every_run_and_graph_task_once():
    params = parameters_for("ramanujan", "smoke")
    tasks = ramanujan.plan(params)
    keys = [(task.kind, task.key()) for task in tasks]
    assert len(set(keys)) == len(keys)
    dense, pruned = sweep.sweep_specs(params)
    runs = {task.key() for task in tasks if task.kind == "run"}
    assert runs == {spec.key() for spec in dense + pruned}  # the notebook's first grid
    graphs = [task for task in tasks if task.kind == "graphs"]
    assert {task.key() for task in graphs} == {graph_task(spec, twins=True).key()
                                              for spec in pruned}
    assert Counter(task.kind for task in tasks) == {"run": len(dense) + len(pruned),
                                                    "graphs": len(pruned)}
    stored = {RunSpec.from_dict(task.spec).prune.method for task in tasks
              if task.kind == "run" and task.weights}
    assert stored == {"snip", "synflow"}  # iterative SNIP and SynFlow keep their masks
