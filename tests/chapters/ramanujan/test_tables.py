"""The chapter's tables and computed text, on small frames."""
from __future__ import annotations

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


def test_weight_share_table():
    shares = pd.DataFrame({"model.name": "mlp", "layer_index": [0, 1], "layer": ["a", "b"],
                           "kind": "linear", "dim_in": [784, 100], "dim_out": [100, 10],
                           "share": [78400 / 79400, 1000 / 79400]})
    table = tables.weight_share_table(shares)
    assert table["graph (inputs × outputs)"].tolist() == ["784 × 100", "100 × 10"]
    assert table["share of the weights (%)"].tolist() == [98.7, 1.3]
