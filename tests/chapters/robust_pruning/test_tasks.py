"""plan(params): every cached task the chapter computes, for the dry run of a profile."""
from __future__ import annotations

from collections import Counter

from pruninglib.chapters.robust_pruning import plan, sweeps
from pruninglib.runs.experiments import run_task

from .frames import params


def test_plan_lists_the_grids_runs_then_the_networks_at_init_and_their_chi():
    p = params()
    tasks = plan(p)
    grids = [spec for grid in (sweeps.prune_grid, sweeps.train_grid, sweeps.residual_grid)
             for spec, _ in grid(p)]
    measured = 3 * (1 + 2 * 2 * 2)     # seeds x (dense + methods x densities x rescales)
    wide = 3 * 3                        # seeds x (dense, SNIP, SNIP + rescaling), one width
    assert Counter(t.kind for t in tasks) == {"run": len(grids) + measured, "chi": measured,
                                              "chi_width": wide}
    assert [t.key() for t in tasks[:len(grids)]] == [run_task(s).key() for s in grids]
    at_init = tasks[len(grids):len(grids) + measured]
    assert all(t.weights and t.spec["train"]["epochs"] == 0 for t in at_init)
    assert {t.function for t in tasks if t.kind == "chi"} == {
        "pruninglib.chapters.robust_pruning.rescaling:compute_chi"}


def test_plan_at_the_smoke_profile_lists_each_task_once_with_the_weights_it_needs():
    from pruninglib.book.parameters import parameters_for

    tasks = plan(parameters_for("robust_pruning", "smoke"))
    pairs = [(t.kind, t.key()) for t in tasks]
    assert len(pairs) == len(set(pairs))
    # the prune-only runs at train_depth are also networks at init: listed with weights
    first = sweeps.train_grid(parameters_for("robust_pruning", "smoke"))[0][0]
    assert run_task(first).key() in {t.key() for t in tasks if t.kind == "run"}
