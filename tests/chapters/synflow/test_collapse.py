"""Prune-only collapse sweeps: critical compression on a hand-built net, rho_max = N / L,
agreement with the training runs' masks, caching (a process pool, then loaded), the collapse
helpers, and the conservation law at initialisation."""
from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from helpers import make_model

from pruninglib.chapters.synflow import collapse, conservation
from pruninglib.config import (
    ConfigError,
    DataSpec,
    ModelSpec,
    PruneSpec,
    RunSpec,
    TrainSpec,
)
from pruninglib.pruners import ScoringContext, prune
from pruninglib.runs.experiments import run

SYNTHETIC = DataSpec("synthetic")
SMALL = ModelSpec("mlp", hidden=(16, 8), bias=False)


def _hand_built_net():
    """4 -> 3 -> 2, bias-free. Magnitudes, largest first: unit 0's four inputs (1.0), the
    output weights of units 1 and 2 (0.5), the inputs of units 1 and 2 (0.1), unit 0's two
    output weights (0.01). N = 18 weights in L = 2 layers, so rho_max = 9."""
    model = make_model("mlp", input_shape=(4,), num_classes=2, hidden=(3,), bias=False)
    with torch.no_grad():
        first, second = model.features[0].weight, model.classifier.weight
        first.fill_(0.1)
        first[0] = 1.0
        second.fill_(0.5)
        second[:, 0] = 0.01
    return model


def test_critical_compression_of_a_hand_built_net_is_known_by_hand():
    # Keeping k = 18 / rho weights by magnitude: k = 12 and 9 keep a path through unit 1;
    # k = 6 keeps unit 0's inputs (no output left) and two outputs of unit 1 (no input left):
    # both layers non-empty, no path (effective collapse); k <= 4 empties the second layer.
    model = _hand_built_net()
    rows = []
    for rho in (1.5, 2.0, 3.0, 4.5, 9.0):
        mask = prune(model, PruneSpec.from_compression("magnitude", rho),
                     ScoringContext(input_shape=(4,)))
        for index, layer in enumerate(collapse.layer_rows(model, mask, (4,))):
            rows.append({"model.name": "mlp", "model.width": 1.0, "method": "magnitude",
                         "seed": 0, "compression": rho, "layer_index": index,
                         "rho_max": 9.0, **layer})
    frame = pd.DataFrame(rows)
    assert list(frame.loc[frame["compression"] == 3.0, "kept"]) == [4, 2]
    assert list(frame.loc[frame["compression"] == 3.0, "effective_kept"]) == [0, 0]
    summary = collapse.collapse_summary(frame).iloc[0]
    assert summary["rho_cr"] == 3.0
    assert summary["rho_cr_effective"] == 2.0 and summary["rho_disconnected"] == 2.0
    assert summary["n_weights"] == 18 and summary["n_layers"] == 2
    assert summary["alpha_max"] == pytest.approx(math.log10(9))
    assert summary["rho_collapse"] == 4.5  # the first tested compression with an empty layer
    assert summary["first_collapsed"] == "2"  # layer numbers from 1 at the input
    assert summary["first_is_smallest"] and not summary["first_is_largest"]
    # a grid that starts beyond the first collapse: rho = 1 (no pruning) is the last safe point
    late = collapse.collapse_summary(frame[frame["compression"] >= 3.0]).iloc[0]
    assert late["rho_cr"] == 3.0 and late["rho_cr_effective"] == 1.0
    assert late["alpha_cr_effective"] == 0.0
    # no collapse on the grid: the first collapse is put at rho_max (none can come later)
    early = collapse.collapse_summary(frame[frame["compression"] <= 3.0]).iloc[0]
    assert early["rho_collapse"] == 9.0 and early["alpha_collapse"] == pytest.approx(
        math.log10(9))


def test_rho_max_is_weights_per_layer_and_ends_the_grid(tmp_path):
    frame = collapse.collapse_sweep(SMALL, ["random"], [0], data=SYNTHETIC, alpha_step=0.5,
                                    results_dir=tmp_path, progress=False)
    n = 64 * 16 + 16 * 8 + 8 * 4
    assert frame["rho_max"].unique().tolist() == [pytest.approx(n / 3)]
    rhos = sorted(frame["compression"].unique())
    assert rhos[:-1] == pytest.approx([10 ** (k / 2) for k in range(1, 6)])
    assert rhos[-1] == pytest.approx(n / 3)
    at_max = frame[frame["compression"] == rhos[-1]]
    assert at_max["kept"].sum() == 3  # one weight per layer is all that is left


def test_compression_grid_stops_below_rho_max():
    assert collapse.compression_grid(1000.0, 1.0) == pytest.approx([10.0, 100.0, 1000.0])
    assert collapse.compression_grid(50.0, 1.0) == pytest.approx([10.0, 50.0])
    with pytest.raises(ValueError):
        collapse.compression_grid(50.0, 0.0)


@pytest.mark.parametrize("method", ["random", "snip"])
def test_a_sweep_point_has_the_mask_of_the_training_run_with_that_seed(tmp_path, method):
    spec = RunSpec(data=SYNTHETIC, model=SMALL, prune=PruneSpec(method, density=0.1),
                   train=TrainSpec(epochs=0), seed=3)
    trained = run(spec, results_dir=tmp_path, progress=False)
    frame = collapse.collapse_sweep(SMALL, [method], [3], data=SYNTHETIC, compressions=[10.0],
                                    results_dir=tmp_path, progress=False)
    assert list(frame["kept"]) == [layer["kept"] for layer in trained.layers]
    assert list(frame["effective_density"]) == pytest.approx(
        [layer["effective_density"] for layer in trained.layers])


def test_sweep_points_run_on_a_process_pool_and_are_loaded_not_recomputed(tmp_path,
                                                                          monkeypatch):
    kwargs = {"data": SYNTHETIC, "compressions": [10.0, 100.0], "results_dir": tmp_path,
              "progress": False}
    first = collapse.collapse_sweep(SMALL, ["magnitude", "synflow@1"], [0, 1],
                                    executor="pool:2", **kwargs)
    assert len(list((tmp_path / "collapse").glob("*/*/result.json"))) == 8

    def fail(*args, **kw):
        raise AssertionError("a cached point was recomputed")

    monkeypatch.setattr(collapse, "compute_point", fail)
    again = collapse.collapse_sweep(SMALL, ["magnitude", "synflow@1"], [0, 1], **kwargs)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["rounds"]) == {1}


def test_method_labels_name_rounds():
    assert collapse.method_spec("snip@100").iterations == 100
    assert collapse.method_spec("snip@100").rounds == 100
    assert collapse.method_spec("synflow").rounds == 100
    for bad in ("snip@x", "imp", "nope"):
        with pytest.raises(ConfigError):
            collapse.method_spec(bad)


def test_fit_to_shape_repeats_channels_and_pads_centred():
    x = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28) + 1
    out = collapse.fit_to_shape(x, (3, 32, 32))
    assert out.shape == (2, 3, 32, 32)
    for c in range(3):
        assert torch.equal(out[:, c, 2:30, 2:30], x[:, 0])
    assert out[:, :, :2].abs().sum() == 0 and out[:, :, :, 30:].abs().sum() == 0
    with pytest.raises(ValueError):
        collapse.fit_to_shape(torch.zeros(1, 2, 8, 8), (3, 32, 32))


def test_decades_below_max_takes_the_worst_method_per_seed():
    summary = pd.DataFrame({"model.name": ["m"] * 4, "method": ["a", "b", "a", "b"],
                            "seed": [0, 0, 1, 1], "alpha_max": [5.0] * 4,
                            "alpha_cr": [2.0, 3.0, 5.0, 4.5],
                            "alpha_collapse": [2.5, 3.5, 5.0, 5.0]})
    gaps = collapse.decades_below_max(summary, ["a", "b"], model="m")
    assert gaps.to_dict() == {0: 2.0, 1: 0.0}
    first = collapse.decades_below_max(summary, ["b"], model="m", column="alpha_collapse")
    assert first.to_dict() == {0: 1.5, 1: 0.0}
    assert collapse.decades_below_max(summary, ["c"], model="m").empty


def test_critical_by_reads_collapse_of_trained_runs():
    runs = pd.DataFrame({"prune.iterations": [1, 1, 1, 3, 3, 3],
                         "prune.density": [0.1, 0.01, 0.001] * 2,
                         "collapsed_layers": [0, 1, 2, 0, 0, 1]})
    out = collapse.critical_by(runs, ["prune.iterations"]).set_index("prune.iterations")
    assert out.loc[1, "alpha_cr"] == pytest.approx(1.0)
    assert out.loc[3, "alpha_cr"] == pytest.approx(2.0)


def test_collapse_order_checks_the_papers_prediction_per_method():
    summary = pd.DataFrame({"method": ["random", "snip", "grasp", "synflow"],
                            "first_is_smallest": [True, False, None, None],
                            "first_is_largest": [False, True, None, None]})
    order = collapse.collapse_order(summary).set_index("method")["as_predicted"]
    assert order["random"] == 1.0 and order["snip"] == 1.0
    assert math.isnan(order["grasp"]) and "synflow" not in order


def test_conservation_runs_report_exact_conservation_on_a_bias_free_mlp():
    from pruninglib.data import load_data

    nets = [("MLP", SMALL, (1, 8, 8), "eval", ("snip", "synflow")),
            ("ResNet", ModelSpec("resnet20", width=0.25, bias=False), (1, 8, 8), "eval",
             ("synflow",))]
    frame, example = conservation.conservation_runs(nets, [0, 1], load_data(SYNTHETIC), 2)
    assert len(frame) == 2 * 2 + 2 and set(example) == {"snip", "synflow"}
    mlp = frame[frame["network"] == "MLP"]
    assert (mlp["unit_error"] < 1e-12).all() and (mlp["layer_spread"] < 1e-12).all()
    resnet = frame[frame["network"] == "ResNet"]
    assert resnet["unit_error"].isna().all() and (resnet["cut_error"] < 1e-12).all()
    assert resnet["batchnorm"].all() and not mlp["batchnorm"].any()


def test_data_statistics_make_biases_and_batchnorm_shifts_that_break_the_law():
    from pruninglib.data import load_data
    from pruninglib.runs.networks import initial_network

    data = load_data(SYNTHETIC)
    spec = ModelSpec("vgg11", width=0.125, bias=True, batchnorm=True)
    model = initial_network(spec, (1, 8, 8), data.num_classes, 0)
    assert all(float(m.bias.detach().abs().max()) == 0 for m in model.modules()
               if isinstance(m, torch.nn.Conv2d))  # zero biases at initialisation
    weights = [p.detach().clone() for n, p in model.named_parameters() if "weight" in n]
    conservation.with_data_statistics(model, data.train_x[:40], seed=0)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    bound = 1 / math.sqrt(conv.weight[0].numel())
    assert 0 < float(conv.bias.detach().abs().max()) <= bound
    norm = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert float(norm.running_mean.abs().max()) > 0 and norm.momentum == 0.1
    assert not model.training
    assert all(torch.equal(a, p) for a, p in zip(
        weights, [p for n, p in model.named_parameters() if "weight" in n]))
    again = conservation.with_data_statistics(
        initial_network(spec, (1, 8, 8), data.num_classes, 0), data.train_x[:40], seed=0)
    assert torch.equal(next(m for m in again.modules()
                            if isinstance(m, torch.nn.Conv2d)).bias, conv.bias)

def test_unit_mismatch_is_the_median_relative_difference_of_live_units():
    # hidden units: in (1, 2, 0, 4) out (1, 1, 0, -4): mismatches 0, 0.5, dead, 2
    scores = {"a": torch.tensor([[1.0], [2.0], [0.0], [4.0]]),
              "b": torch.tensor([[1.0, 1.0, 0.0, -4.0]])}
    assert conservation.unit_mismatch(scores) == pytest.approx(0.5)
    dead = {"a": torch.zeros(2, 1), "b": torch.zeros(1, 2)}
    assert math.isnan(conservation.unit_mismatch(dead))

def test_conservation_runs_measure_a_network_with_data_statistics():
    from pruninglib.data import load_data

    nets = [conservation.Net("exact", ModelSpec("vgg11", width=0.125, bias=False),
                             (1, 8, 8), "eval", ("snip", "synflow")),
            conservation.Net("data", ModelSpec("vgg11", width=0.125, bias=True),
                             (1, 8, 8), "eval", ("snip", "synflow"), True)]
    frame, _ = conservation.conservation_runs(nets, [0], load_data(SYNTHETIC), 2)
    exact, data = frame[~frame["data_statistics"]], frame[frame["data_statistics"]]
    assert (exact["unit_mismatch"] < 1e-9).all()
    assert data.set_index("objective").loc["snip", "unit_mismatch"] > 1e-3


def test_collapse_keys_leave_out_fields_added_later():
    # prune.synflow_precision at its default is not part of a prune-only point's key, so the
    # points stored before it existed are still found
    from pruninglib.config import DataSpec, ModelSpec, PruneSpec
    from pruninglib.chapters.synflow.collapse import point_task

    task = point_task(ModelSpec("lenet_300_100"), PruneSpec("synflow", density=0.1),
                      DataSpec("synthetic"), (1, 8, 8), 4, seed=0)
    assert "synflow_precision" not in task.spec_json
    fast = point_task(ModelSpec("lenet_300_100"),
                      PruneSpec("synflow", density=0.1, synflow_precision="float32"),
                      DataSpec("synthetic"), (1, 8, 8), 4, seed=0)
    assert '"synflow_precision":"float32"' in fast.spec_json and fast.key() != task.key()
