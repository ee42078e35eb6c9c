"""The chapter's plan (every cached task the notebook computes) and its download tables,
built from the smoke profile's parameters, without running anything."""
from __future__ import annotations

from collections import Counter

import pandas as pd

from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.random_pruning import after_training, parity, plan, study
from pruninglib.runs.experiments import run_task

P = parameters_for("random_pruning", "smoke")


def test_plan_has_unique_keys_and_every_run_of_the_first_grid():
    tasks = plan(P)
    assert len({(t.kind, t.key()) for t in tasks}) == len(tasks)
    base, seeds = study.base_spec(P), study.seeds(P)
    first = (parity.dense_specs(base, seeds)
             + parity.parity_specs(base, P.methods, P.ratios, P.densities, seeds))
    keys = {t.key() for t in tasks if t.kind == "run"}
    assert {s.key() for s in first} <= keys
    dense = {t.key(): t.weights for t in tasks if t.kind == "run"}
    assert all(dense[s.key()] for s in parity.dense_specs(base, seeds))  # with weights


def test_plan_counts_every_grid_once_at_smoke():
    kinds = Counter(t.kind for t in plan(P))
    seeds, densities = P.seeds, len(P.densities)
    parity_runs = seeds * (1 + (3 * len(P.methods) + len(P.ratios)) * densities)
    widths = seeds * len(P.width_multipliers) * (1 + len(P.width_methods))
    shared = seeds  # the dense run at width x1 is the parity study's
    assert kinds["run"] == parity_runs + widths - shared
    assert kinds[after_training.KIND] == seeds * densities * 3
    assert kinds["ntk"] == len(P.ntk_widths) * len(P.ntk_keeps) * P.ntk_seeds


def test_the_plans_specs_are_the_notebooks():
    base = study.base_spec(P)
    assert base.prune.method == "dense" and base.model.name == P.model
    assert base.data.train_subset == P.train_subset and base.train.epochs == P.epochs
    assert study.ntk_grid(P)["seeds"] == list(range(P.ntk_seeds))
    assert run_task(base).key() == base.key()
    assert set(study.run_options(P)) == {"executor", "results_dir", "device", "progress"}


def test_download_tables_keep_the_tidy_columns():
    runs = pd.DataFrame({"variant": ["snip"], "kind": ["found"], "prune.density": [0.1],
                         "seed": [0], "test_accuracy": [0.8], "prune.method": ["snip"]})
    dense = runs.assign(variant="dense", kind="dense", **{"prune.density": 1.0})
    tables = study.download_tables(dense, runs, runs, runs, pd.DataFrame({"width": [64]}))
    assert sorted(tables) == ["after_training", "ntk", "runs", "widths"]
    assert list(tables["runs"].columns) == ["variant", "kind", "prune.density", "seed",
                                            "test_accuracy"]
    assert len(tables["runs"]) == 2
