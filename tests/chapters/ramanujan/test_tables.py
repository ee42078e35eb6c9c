"""The chapter's tables and computed text, on small frames."""
from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from pruninglib.book.claims import plan_table, verdict_table
from pruninglib.chapters.ramanujan import tables

from .test_verdicts import PARAMS, frame


def pruned() -> pd.DataFrame:
    return pd.DataFrame({"model.name": ["mlp"] * 4, "variant": ["random", "random", "snip",
                                                                 "snip"],
                         "prune.density": [0.1, 0.01, 0.1, 0.01], "seed": 0,
                         "test_accuracy": [0.8, 0.1, 0.85, 0.6]})


def test_accuracy_table_and_chance_failures():
    table = tables.accuracy_table(pruned())
    assert list(table.columns) == ["0.1", "0.01"]
    assert table.loc[("mlp", "snip"), "0.01"] == pytest.approx(60.0)
    text = tables.chance_failures(pruned(), ["mlp"])
    assert "- **MLP**: 1 of 4 pruned runs end at chance level (test accuracy ≤ 11 %, " \
           "10 classes): random at d = 0.01." in text


def test_correlation_table_counts_the_methods_that_entered():
    table = tables.correlation_table(frame(), {"imdb_mean": "IMDB"})
    assert list(table.columns) == ["0.2", "0.1", "0.05"]
    assert table.loc[("MLP", "IMDB", "all"), "0.05"] == "+1.00 (5/6)"
    assert table.loc[("MLP", "IMDB", "that train"), "0.2"] == "+1.00 (5/5)"
    few = frame()
    few.loc[few["variant"].isin(["erk", "snip", "iter_snip"]), "imdb_mean"] = math.nan
    assert tables.correlation_table(few, {"imdb_mean": "IMDB"}).loc[
        ("MLP", "IMDB", "all"), "0.2"] == "not measured (3/6)"


def test_beside_authors_puts_ours_over_the_authors_computed_values():
    table = tables.beside_authors(frame())
    assert list(table.columns) == ["d = 0.01", "d = 0.05", "d = 0.1", "d = 0.2", "d = 0.4"]
    assert table.loc[("ours", "MLP", "IMDB"), "d = 0.2"] == pytest.approx(1.0)
    assert table.loc[("authors", "ResNet-34", "IMDB"), "d = 0.01"] == pytest.approx(0.942857,
                                                                                    abs=1e-6)
    authors = tables.authors_correlations({"R5": "imdb_mean"})
    assert set(authors) == {"authors' IMDB, ResNet-34", "authors' IMDB, VGG-16"}
    assert authors["authors' IMDB, VGG-16"][0.1] == pytest.approx(1.0)


def test_partial_and_summary_text():
    table, per_seed = tables.partial_table(frame())
    # the twin's IMDB ranks exactly against IMDB: nothing is left to correlate (NaN, kept)
    assert list(table.index) == ["mlp"] and table.isna().all().all()
    assert per_seed["densities"].tolist() == [3, 3, 3] and per_seed["entered"].sum() == 0
    assert tables.partial_text(per_seed.assign(value=[0.1, 0.2, 0.3]), ["mlp"]).startswith(
        "Median over densities of the partial ρ(accuracy, IMDB | twin's IMDB), mean ± 95 % CI "
        "over seeds: MLP 0.20 ± 0.25 (3 seeds).")
    from pruninglib.chapters.ramanujan import claims, verdicts

    rows = claims.chapter_claims({**PARAMS, "hidden": [8], "widths": {}})
    results = verdicts.estimates(frame(), PARAMS)
    text = tables.summary_text(results, verdict_table(rows, results), ["mlp"])
    assert text.startswith("- **MLP**: median ρ(accuracy, ·) across methods: IMDB: 1.00 ± "
                           "0.00 (3 seeds) (masks that train: 1.00 ± 0.00 (3 seeds))")
    assert "R5 reproduced" in text and "R3 check passed" in text
    assert plan_table(rows).is_plan


def layers() -> pd.DataFrame:
    """Two seeds of SNIP and random masks of a 2-layer MLP at densities 0.1 and 0.01, and
    one twin row that must not count."""
    rows = []
    for seed, variant, density in itertools.product((0, 1), ("random", "snip"), (0.1, 0.01)):
        for index, (name, dim_in, dim_out) in enumerate((("fc.0", 784, 100),
                                                         ("fc.1", 100, 10))):
            rows.append({"key": f"{seed}{variant}{density}", "model.name": "mlp",
                         "variant": variant, "prune.density": density, "seed": seed,
                         "shuffled": False, "layer_index": index, "layer": name,
                         "kind": "linear", "dim_in": dim_in, "dim_out": dim_out,
                         "density": density * (index + 1) + 0.01 * seed,
                         "imdb": math.nan if index else 1.0 + seed})
    twin = dict(rows[-1], shuffled=True, density=0.9, imdb=50.0)
    return pd.DataFrame([*rows, twin])


def test_layer_table_puts_each_layers_share_beside_its_metrics():
    table = tables.layer_table(layers(), {"mlp": 0.01})
    assert list(table.index) == [("MLP", "fc.0", "784 × 100", "98.7"),
                                 ("MLP", "fc.1", "100 × 10", "1.3")]
    assert list(table.columns) == [("random", "kept (%)"), ("random", "IMDB"),
                                   ("SNIP", "kept (%)"), ("SNIP", "IMDB")]
    first = table.loc[("MLP", "fc.0", "784 × 100", "98.7")]
    assert first[("SNIP", "kept (%)")] == pytest.approx(1.5)   # (1 % + 2 %) / 2 seeds
    assert first[("SNIP", "IMDB")] == pytest.approx(1.5)       # not the twin's 50
    assert math.isnan(table.loc[("MLP", "fc.1", "100 × 10", "1.3")][("random", "IMDB")])


def test_support_counts_the_masks_behind_each_correlation_verdict():
    support = tables.support_table(frame(), ["mlp"]).set_index("claim")
    # 3 densities x 3 seeds; random has no IMDB at 0.05: 6 + 6 + 5 masks per seed
    assert support.loc["R5 · MLP", ["correlations", "cells", "masks", "run", "fewest"]] \
        .tolist() == [9, 9, 51, 54, 5]
    # among the masks that train random is gone everywhere: 5 methods per correlation
    assert support.loc["R5-trained · MLP", ["masks", "fewest"]].tolist() == [45, 5]
    assert support.loc["C1 · MLP", "masks"] == 51  # the fewer of IMDB's and the twin's
    text = tables.few_masks_text(support.reset_index())
    assert text.startswith("Every correlation verdict rests on at least 67% of")
    few = tables.few_masks_text(support.reset_index().assign(masks=[10] + [54] * 5))
    assert "**R1 · MLP**: 10 of 54 masks in 9 of 9 correlations (fewest methods in one: 5)" \
        in few


def test_sizing_text_says_what_each_model_runs_and_costs():
    params = {"models": ["mlp"], "hidden": [64, 32], "widths": {}, "densities": {"mlp": [0.1]},
              "epochs": {"mlp": 2}, "train_subset": {"mlp": None},
              "iter_snip_rounds": {"mlp": 100}, "bf16": {"mlp": True}, "optimizer": {},
              "lr": {"mlp": 0.05}, "channels_last": {}}
    runs = pruned().assign(train_seconds=30.0, prune_seconds=1.5)
    dense = pd.DataFrame({"model.name": ["mlp"], "train_seconds": [10.0],
                          "prune_seconds": [0.0]})
    assert tables.sizing_text(params, runs, dense) == (
        "- **MLP** (hidden 64-32): 1 density, 2 epoch(s) on all training images, iterative "
        "SNIP with 100 rounds, SGD (momentum 0.9), lr 0.05, bf16 autocast; its 5 runs took 2 min 10 s of training and 6 s "
        "of pruning.")
