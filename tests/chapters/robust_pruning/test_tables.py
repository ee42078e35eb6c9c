"""The chapter's tables, on hand-made frames whose numbers are known."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruninglib.chapters.robust_pruning import tables

from .frames import chis, prune_runs, res_runs, train_layers, train_runs


def test_select_matches_floats_closely_and_others_exactly():
    frame = pd.DataFrame({"d": [0.1, 0.1 + 1e-12, 0.3], "m": ["a", "b", "a"]})
    assert list(tables.select(frame, {"d": 0.1}).index) == [0, 1]
    assert list(tables.select(frame, {"d": 0.1, "m": "a"}).index) == [0]
    assert tables.mean_accuracy(train_runs(), {"phase": "eoc", "prune.method": "dense"}) \
        == pytest.approx(91.0)
    assert tables.sparsity(0.1) == "90 % sparsity"


def test_collapsed_layers_are_means_over_seeds_by_density():
    table = tables.collapsed_layers(prune_runs())
    assert table.loc[("tanh", "snip", "ordered", 3), 0.3] == 4.3   # (4 + 4 + 5) / 3
    assert table.loc[("tanh", "snip", "chaotic", 3), 0.3] == 0.3


def test_layer_spread_gives_the_input_layer_and_the_hidden_extremes():
    spread = tables.layer_spread(train_layers(), 0.1, depth=4)
    assert list(spread.columns) == ["input layer", "least dense hidden layer",
                                    "densest hidden layer"]
    assert spread.loc[("tanh", "ordered")].tolist() == pytest.approx([0.0, 0.2, 0.4])
    assert spread.loc[("tanh", "eoc")].tolist() == pytest.approx([0.1, 0.2, 0.4])


def test_dense_rows_become_the_compression_one_point_of_every_method():
    runs = train_runs()
    both = tables.with_dense_points(runs, ["magnitude", "snip"])
    dense = (runs["prune.method"] == "dense").sum()
    controls = (runs["prune.method"] == "random").sum()   # not a line of the figure
    assert len(both) == len(runs) - dense - controls + 2 * dense
    assert set(both["prune.method"]) == {"magnitude", "snip"}


def test_highest_trainable_sparsity_per_init_and_criterion():
    table = tables.highest_trainable(tables.with_dense_points(train_runs(), ["snip",
                                                                             "magnitude"]), 0.5)
    assert table[("tanh", "eoc", "snip", "none")] == pytest.approx(90.0)
    assert table[("tanh", "eoc", "magnitude", "none")] == pytest.approx(50.0)
    assert table[("tanh", "ordered", "snip", "none")] == pytest.approx(0.0)  # dense only
    strict = tables.trainable_table(train_runs(), ["snip"], 0.85)
    assert math.isnan(strict.loc[("tanh", "ordered", "none"), "snip"])  # dense at 80 %
    assert strict.loc[("tanh", "eoc", "fan_in"), "snip"] == pytest.approx(90.0)


def test_chi_table_and_units_without_inputs():
    table = tables.chi_table(chis())
    assert table.loc[("tanh", "snip", "none"), 0.1] == pytest.approx(0.81)
    assert table.loc[("tanh", "snip", "fan_in"), 0.1] == pytest.approx(1.0)
    empty = tables.inputless_units(chis(), 0.1)
    assert empty.to_dict() == pytest.approx({("tanh", "magnitude"): 0.4, ("tanh", "snip"): 0.2})


def test_eoc_variants_repeat_the_dense_net_in_every_variant():
    variants = tables.eoc_variants(train_runs(), ["magnitude", "snip"])
    assert set(variants["variant"]) == {"snip / none", "snip / fan_in", "magnitude / none",
                                        "magnitude / fan_in"}
    assert len(variants) == 8 * 3 + 4 * 3
    dense = variants[variants["prune.method"] == "dense"]
    assert dense.groupby("variant").size().tolist() == [3, 3, 3, 3]


def test_residual_panels_and_accuracy_table():
    panels = tables.residual_panels(res_runs(), [0.1])
    assert len(panels) == 4 * 3 + 4 * 3 and set(panels["panel"]) == {0.1}
    assert "Stable snip" in set(panels["variant"]) and "synflow" not in \
        set(panels["prune.method"])
    table = tables.residual_accuracy(res_runs(), 4)
    assert table.loc[("Stable", "snip"), 0.1] == 56.0
    assert table.loc[("standard", "synflow"), 0.1] == 43.3


def test_empty_layers_separate_the_input_layer_from_the_layers_after_it():
    from .frames import EMPTY_AT_6, prune_layers

    runs = tables.empty_layers(prune_layers()).set_index("key")
    assert (runs["input_density"] == 0.0).all()
    assert [runs.loc[f"d6s{s}", "empty_beyond_input"] for s in range(3)] == list(EMPTY_AT_6)
    assert (runs.loc[[f"d3s{s}" for s in range(3)], "empty_beyond_input"] == 0).all()
    table = tables.fan_in_or_depth(prune_layers(), "tanh")
    assert table.loc[6, ("empty_beyond_input", 0.3)] == pytest.approx(1.0)
    assert table.loc[3, ("input_kept_pct", 0.3)] == 0.0
