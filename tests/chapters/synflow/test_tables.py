"""The SynFlow chapter's tables and its study helpers, on small hand-made frames."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.synflow import conservation, study, tables


def _summary() -> pd.DataFrame:
    return pd.DataFrame({
        "model.name": ["mlp", "mlp", "vgg16", "vgg16"], "model.width": [1.0, 1.0, 0.25, 0.25],
        "method": ["snip", "snip", "snip", "random"], "seed": [0, 1, 0, 0],
        "n_weights": [1000, 1000, 5000, 5000], "n_layers": [4, 4, 10, 10],
        "rho_max": [250.0, 250.0, 500.0, 500.0], "alpha_max": [2.4, 2.4, 2.7, 2.7],
        "alpha_cr": [1.0, 2.0, 1.5, 1.0], "alpha_cr_effective": [0.5, 1.5, 1.5, 0.5],
        "alpha_disconnected": [1.0, 2.0, 1.5, 1.0],
        "first_collapsed": ["1, 2, 3, 4, 5, 6, 7", "", "3", "1"],
        "first_is_smallest": [False, None, False, True],
        "first_is_largest": [True, None, False, False]})


def test_network_sizes_and_critical_table_average_over_seeds():
    sizes = tables.network_sizes(_summary())
    assert list(sizes["model.name"]) == ["mlp", "vgg16"]
    assert list(sizes["n_weights"]) == [1000, 5000]
    table = tables.critical_table(_summary())
    assert table.loc[("mlp", "snip"), "α_cr"] == pytest.approx(1.5)
    assert table.loc[("mlp", "snip"), "α_cr effective"] == pytest.approx(1.0)
    assert table.loc[("mlp", "snip"), "first emptied"] == "1, 2, 3, 4,…"
    assert tables.shorten("1, 2", 12) == "1, 2"


def test_first_layer_table_leaves_methods_without_collapse_undefined():
    table = tables.first_layer_table(_summary(), ["mlp", "vgg16"])
    assert table.loc["snip", "mlp"] == 1.0  # seed 0 as predicted, seed 1 undefined
    assert table.loc["snip", "vgg16"] == 0.0 and table.loc["random", "vgg16"] == 1.0


def _pruned() -> pd.DataFrame:
    rows = []
    for method, kept in (("snip", (0.5, 0.01)), ("synflow", (0.2, 0.001))):
        for seed, factor in ((0, 1.0), (1, 2.0)):
            for alpha, density in zip((0.5, 1.0), kept):
                rows.append({"layer": "layer1.0.shortcut.0.weight", "method": method,
                             "seed": seed, "alpha": alpha, "density": density * factor})
    rows.append({"layer": "conv1.weight", "method": "snip", "seed": 0, "alpha": 1.0,
                 "density": 0.5})
    return pd.DataFrame(rows)


def test_shortcut_table_and_text():
    view = tables.shortcut_table(_pruned())
    assert view.loc[("layer1.0.shortcut.0.weight", "snip"), "α = 1"] == pytest.approx(0.015)
    text = tables.shortcut_text(_pruned())
    assert text.startswith("At ρ = 10^1 (global density 0.1)")
    assert "SNIP 1.0e-02–2.0e-02" in text and "SynFlow 1.0e-03–2.0e-03" in text
    plain = _pruned()[lambda f: ~f["layer"].str.contains("shortcut")]
    assert tables.shortcut_table(plain).empty
    assert tables.shortcut_text(plain) == "No residual network in `collapse_models`."


def test_accuracy_tables_and_run_columns():
    runs = pd.DataFrame({"model.name": ["lenet_300_100"] * 4, "model.width": 1.0,
                         "prune.method": ["snip", "snip", "synflow", "random"],
                         "prune.density": [0.01, 0.01, 0.01, 0.001], "seed": [0, 1, 0, 0],
                         "test_accuracy": [0.5, 0.7, 0.8, 0.1],
                         "collapsed_layers": [0, 1, 0, 2]})
    runs = study.with_run_columns(runs, 0.1)
    assert list(runs["alpha"]) == [2.0, 2.0, 2.0, 3.0]
    assert list(runs["collapsed"]) == [False, True, False, True]
    assert runs["plain"].all()
    assert runs["above_chance"].tolist() == pytest.approx([0.4, 0.6, 0.7, 0.0])
    acc = tables.accuracy_table(runs)
    assert acc.loc[("lenet_300_100", "snip"), 2.0] == 60.0
    assert tables.collapsed_counts(runs).loc[("lenet_300_100", "snip"), 2.0] == 1


def test_conservation_table_and_text():
    frame = pd.DataFrame({
        "network": ["MLP", "MLP", "R", "R", "V", "V"],
        "model": ["mlp", "mlp", "resnet20", "resnet20", "vgg11", "vgg11"],
        "batchnorm": [False, False, True, True, True, True],
        "bn_mode": ["eval", "eval", "eval", "train", "eval", "eval"],
        "data_statistics": [False, False, False, False, True, True],
        "objective": ["synflow", "grasp", "synflow", "synflow", "snip", "synflow"],
        "seed": [0] * 6, "unit_error": [1e-16, 0.5, math.nan, math.nan, 1.4, 0.01],
        "unit_mismatch": [0.0, 0.2, math.nan, math.nan, 0.33, 0.0],
        "cut_error": [0, 0.1, 1e-15, 0.3, 0.9, 0.008],
        "layer_spread": [0, 0.2, 0.4, 0.5, 0.9, 0.01],
        "size_slope": [-1.0, 0.1, -0.9, -0.8, -0.6, -1.0]})
    table = conservation.conservation_table(frame)
    assert list(table.index) == [("MLP", "synflow"), ("MLP", "grasp"), ("R", "synflow"),
                                 ("V", "snip"), ("V", "synflow")]
    assert table.loc[("V", "snip"), "unit_mismatch"] == pytest.approx(0.33)
    assert table.loc[("R", "synflow"), "cut_error"] == 0.3
    assert table.loc[("R", "synflow"), "size_slope"] == pytest.approx(-0.85)
    text = conservation.conservation_text(frame)
    assert "SNIP and SynFlow is 1.0e-16, GraSP's 0.50" in text
    assert "cut errors up to 0.30" in text and "agree to 1.0e-15" in text
    assert "differ by up to 40%" in text
    assert ("snip: a typical unit off by up to 0.330, cuts by up to 0.900; synflow: a typical "
            "unit off by up to 0.000, cuts by up to 0.008") in text


def test_study_builds_the_networks_and_labels_of_a_profile():
    P = parameters_for("synflow", "cpu")
    assert study.model_spec(P, "mlp").hidden == (512, 256, 256, 128, 64)
    assert study.model_spec(P, "mlp").bias is False
    assert study.input_shape(P, "mlp") == (1, 28, 28)
    assert study.input_shape(P, "vgg16") == (3, 32, 32)
    assert study.plain_models(P) == ["mlp", "lenet_300_100", "vgg16", "vgg11"]
    assert study.collapse_labels(P, "mlp")[-1] == "snip@100"
    assert "snip@100" not in study.collapse_labels(P, "vgg16")
    nets = study.conservation_nets(P)
    assert len(nets) == 1 + 2 * 4
    assert nets[2][0] == "VGG-11 ×0.25, BatchNorm, eval mode" and nets[3][3] == "train"
    realistic = nets[4]
    assert realistic.label == "VGG-11 ×0.25, biases, BatchNorm with data statistics"
    assert realistic.data_statistics and realistic.spec.bias and realistic.bn_mode == "eval"
    assert not any(net.data_statistics for net in nets[:4])
    assert study.chance(P) == pytest.approx(0.1)
    assert study.train_spec(parameters_for("synflow", "paper")).milestones == (0.375, 0.75)


def test_s7_cells_say_how_many_weights_a_layer_keeps():
    P = parameters_for("synflow", "cpu", alphas={"lenet_300_100": [1, 2, 2.25, 3],
                                                 "vgg11": [2, 3]})
    cells = tables.s7_cells(P).set_index(["network", "α"])
    # LeNet-300-100: 266,200 weights in 3 layers; VGG-11 x1/8 on one channel: 144,712 in 9
    assert cells.loc[("lenet_300_100", 3.0), "kept per layer"] == pytest.approx(266_200 / 3e3)
    assert cells.loc[("vgg11", 2.0), "kept per layer"] == pytest.approx(144_712 / 900)
    assert cells["S7 row"].tolist() == [True, False, True, False]
    assert ("lenet_300_100", 1.0) not in cells.index  # below the high-compression regime
    assert ("lenet_300_100", 2.25) not in cells.index  # not a point of Fig. 6


def test_cliff_table_averages_the_step_before_the_collapse():
    runs = pd.DataFrame({
        "model.name": "lenet_300_100", "prune.method": ["snip"] * 6,
        "seed": [0, 0, 0, 1, 1, 1], "alpha": [1.0, 2.0, 3.0] * 2,
        "above_chance": [0.7, 0.4, 0.0, 0.7, 0.0, 0.0], "collapsed_layers": [0, 0, 1, 0, 1, 1]})
    row = tables.cliff_table(runs, ["lenet_300_100"]).loc[("lenet_300_100", "snip")]
    assert row["seeds"] == 2 and row["α_cr"] == pytest.approx(1.5)
    assert row["above chance before (pp)"] == pytest.approx(55.0)
    assert row["above chance at collapse (pp)"] == pytest.approx(0.0)


def test_imp_table_gives_collapse_and_chance_per_number_of_cycles():
    rows = []
    for seed in (0, 1):
        for cycles, accuracy, collapsed in ((1, (0.8, 0.1, 0.1), (0, 0, 1)),
                                            (3, (0.8, 0.7, 0.5 if seed else 0.11), (0, 0, 0))):
            for alpha, acc, flag in zip((2.0, 3.0, 4.0), accuracy, collapsed):
                rows.append({"cycles": cycles, "seed": seed, "alpha": alpha,
                             "prune.density": 10 ** -alpha, "above_chance": acc - 0.1,
                             "collapsed_layers": flag})
    table = tables.imp_table(pd.DataFrame(rows))
    assert table.loc[1, "α_cr (effective)"] == 3.0 and table.loc[1, "first α at chance"] == 3.0
    assert table.loc[3, "α_cr (effective)"] == 4.0  # no collapse on the grid: its largest α
    assert table.loc[3, "first α at chance"] == 4.0  # seed 0 only (0.11 < 0.1 + 0.02)
    assert table["seeds at chance on the grid"].tolist() == [2, 1]
