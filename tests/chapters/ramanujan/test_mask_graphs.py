"""A run's mask without training (experiments.mask_of) and the graph metrics of runs' masks,
cached per run (kind ``graphs``)."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from pruninglib.analysis.graphs import network_graph_metrics, summarize
from pruninglib.chapters.ramanujan import mask_graphs
from pruninglib.chapters.ramanujan.mask_graphs import (
    ID_COLUMNS,
    graph_layers,
    graph_summary,
    graph_task,
    method_variant,
    weight_shares,
)
from pruninglib.config import DataSpec, ModelSpec, PruneSpec, RunSpec, TrainSpec
from pruninglib.runs import experiments
from pruninglib.runs.experiments import mask_of, run
from pruninglib.runs.store import ResultStore

BASE = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(32, 16)),
               prune=PruneSpec("snip", density=0.4), train=TrainSpec(epochs=1, batch_size=64))


def _equal(a, b) -> bool:
    return list(a) == list(b) and all(torch.equal(a[n], b[n]) for n in a)


def test_mask_of_is_the_runs_mask_stored_or_recomputed(tmp_path, monkeypatch):
    result = run(BASE, results_dir=tmp_path / "a", progress=False, save_weights=True)
    stored = ResultStore(tmp_path / "a").load_weights(result.key)
    names = [layer["name"] for layer in result.layers]
    from_store = mask_of(BASE, results_dir=tmp_path / "a")
    assert list(from_store) == names  # input to output, not safetensors' sorted order
    assert all(torch.equal(from_store[n], stored[f"mask/{n}"].bool()) for n in names)
    # nothing stored (or stored without weights): pruned again, the same mask
    assert _equal(mask_of(BASE, results_dir=tmp_path / "empty"), from_store)
    run(BASE, results_dir=tmp_path / "b", progress=False)
    assert _equal(mask_of(BASE, results_dir=tmp_path / "b"), from_store)
    assert not (ResultStore(tmp_path / "b").directory(result.key)
                / "weights.safetensors").exists()  # the run is left as it was
    other_seed = mask_of(BASE.replace(seed=1), results_dir=tmp_path / "a")
    assert not _equal(other_seed, from_store)
    # the recomputed mask is kept: the next call loads it, in the run's layer order
    monkeypatch.setattr(experiments, "_find_mask", lambda *a, **k: pytest.fail("recomputed"))
    again = mask_of(BASE, results_dir=tmp_path / "b")
    assert _equal(again, from_store) and list(again) == names


def test_method_variant_tells_iterative_snip_apart():
    assert method_variant(BASE) == "snip"
    assert method_variant(BASE.replace(**{"prune.iterations": 5})) == "iter_snip"
    assert method_variant(BASE.replace(**{"prune.method": "synflow"})) == "synflow"
    assert method_variant(BASE.replace(**{"prune.method": "erk"})) == "erk"


def test_graph_layers_and_summary_of_runs(tmp_path):
    specs = [BASE, BASE.replace(**{"prune.method": "random"})]
    results = [run(s, results_dir=tmp_path, progress=False) for s in specs]
    layers = graph_layers(results, results_dir=tmp_path)
    assert len(layers) == 2 * 3  # three prunable layers per run
    assert list(layers.columns[:len(ID_COLUMNS)]) == list(ID_COLUMNS)
    assert layers["layer_index"].tolist() == [0, 1, 2, 0, 1, 2]
    assert layers["variant"].tolist() == ["snip"] * 3 + ["random"] * 3
    mask = mask_of(BASE, results_dir=tmp_path)
    expected = network_graph_metrics(mask)
    first = layers[layers["key"] == results[0].key].reset_index(drop=True)
    pd.testing.assert_frame_equal(first[expected.columns], expected)

    both = graph_layers(results, results_dir=tmp_path, twins=True)
    pd.testing.assert_frame_equal(both[~both["shuffled"]].reset_index(drop=True), layers)
    shuffled = both[both["shuffled"]].reset_index(drop=True)
    assert not layers["shuffled"].any()
    assert shuffled["edges"].tolist() == layers["edges"].tolist()  # layer densities kept
    assert shuffled["n_left"].tolist() != layers["n_left"].tolist() \
        or shuffled["t2"].tolist() != layers["t2"].tolist()           # wiring redrawn
    again = graph_layers(results, results_dir=tmp_path, twins=True)
    pd.testing.assert_frame_equal(again, both)                         # seeded

    summary = graph_summary(both)
    assert len(summary) == 4 and summary["shuffled"].tolist() == [False, True, False, True]
    reference = summarize(expected)
    row = summary.iloc[0]
    for column in ("imdb_mean", "delta_r_mean", "narc_mean", "perc_ram_by_imdb", "n_valid"):
        assert row[column] == pytest.approx(reference[column], nan_ok=True)
    assert row["test_accuracy"] == results[0].metrics["test_accuracy"]
    assert summary["imdb_conv_mean"].isna().all()  # an MLP has no conv layer

    shares = weight_shares(both)
    assert shares["layer_index"].tolist() == [0, 1, 2]
    sizes = layers["dim_in"][:3] * layers["dim_out"][:3]
    assert shares["share"].tolist() == pytest.approx((sizes / sizes.sum()).tolist())


def test_summary_averages_the_conv_layers_imdb_apart():
    layers = pd.DataFrame({
        **{column: "k" if column == "key" else 0 for column in ID_COLUMNS},
        "shuffled": False, "layer": ["c1", "c2", "fc"], "kind": ["conv", "conv", "linear"],
        "dim_in": 9, "dim_out": 4, "edges": 12, "status": "ok", "delta_r": [0.1, 0.2, 0.3],
        "imdb": [1.0, float("nan"), 5.0]})
    row = graph_summary(layers).iloc[0]
    assert row["imdb_conv_mean"] == pytest.approx(1.0)  # the unscored conv layer is skipped
    assert row["imdb_mean"] == pytest.approx(3.0)       # all layers: (1 + 5) / 2


def test_graph_scores_are_cached_per_run_and_loaded_not_recomputed(tmp_path, monkeypatch):
    results = [run(BASE, results_dir=tmp_path, progress=False)]
    first = graph_layers(results, results_dir=tmp_path, twins=True)
    key = graph_task(BASE, twins=True).key()
    assert (tmp_path / "graphs" / key[:2] / key / "result.json").exists()
    assert graph_task(BASE).key() != key and graph_task(BASE, method="eigsh").key() != \
        graph_task(BASE).key()
    monkeypatch.setattr(mask_graphs, "network_graph_metrics",
                        lambda *a, **k: pytest.fail("recomputed"))
    again = graph_layers(results, results_dir=tmp_path, twins=True)
    pd.testing.assert_frame_equal(again, first)
    with pytest.raises(ValueError, match="method='lanczos' is not allowed: svd, eigsh"):
        graph_task(BASE, method="lanczos")
