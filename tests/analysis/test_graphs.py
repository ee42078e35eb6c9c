"""Ramanujan-graph metrics (Hoang et al. 2023) on graphs whose spectra are known."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from pruninglib.analysis import graphs
from pruninglib.analysis.graphs import (adjacency, biadjacency, layer_graph_metrics,
                                        network_graph_metrics, summarize, top_eigenvalues)


def regular_bipartite(n: int, d: int, seed: int) -> np.ndarray:
    """(n, n) bool biadjacency of a d-regular bipartite graph: the union of d uniformly random
    perfect matchings, each redrawn until it repeats no edge (the permutation model
    conditioned on a simple graph)."""
    rng = np.random.default_rng(seed)
    kept = np.zeros((n, n), dtype=bool)
    rows = np.arange(n)
    for _ in range(d):
        while True:
            perm = rng.permutation(n)
            if not kept[rows, perm].any():
                break
        kept[rows, perm] = True
    return kept


def as_mask(biadj: np.ndarray) -> torch.Tensor:
    """A Linear mask (out, in) whose graph has the given (left = in, right = out) biadjacency."""
    return torch.from_numpy(np.ascontiguousarray(biadj.T))


@pytest.mark.parametrize("method", ["svd", "eigsh"])
def test_complete_bipartite_graph(method):
    m, n = 5, 7  # K_{m,n}: m inputs of degree n, n outputs of degree m
    r = layer_graph_metrics(torch.ones(n, m, dtype=torch.bool), method=method)
    assert r["status"] == "ok" and (r["n_left"], r["n_right"], r["edges"]) == (m, n, m * n)
    assert (r["mean_degree_left"], r["mean_degree_right"]) == (n, m)
    # Singular values of the all-ones m x n matrix: sqrt(mn) once, then zeros. The adjacency
    # spectrum is {+-sqrt(mn), 0, ...}; its 3rd largest |eigenvalue| -- the reference's t2 --
    # is therefore 0.
    assert r["t1"] == pytest.approx(math.sqrt(m * n), abs=1e-12)
    assert abs(r["t2"]) < 1e-12
    bound_r = math.sqrt(n - 1) + math.sqrt(m - 1)
    assert r["delta_r"] == pytest.approx(bound_r, abs=1e-12)
    assert r["delta_r_norm"] == pytest.approx(1.0, abs=1e-12)
    assert r["delta_s"] == pytest.approx(2 * math.sqrt(math.sqrt(m * n) - 1), abs=1e-12)
    assert r["expansion_ratio"] == pytest.approx(n / m)
    # NaRC with the reference's directed edge count 2|E|: (sqrt(mn) - |2mn - mn|) / mn.
    assert r["narc"] == pytest.approx(1 / math.sqrt(m * n) - 1, abs=1e-12)
    assert r["is_ramanujan"]
    # One left degree (n), held by m >= 3 nodes: the d-left-regular subgraph is the graph.
    assert r["imdb_subgraphs"] == 1
    assert r["imdb"] == pytest.approx(r["delta_r"], abs=1e-12)
    assert r["imdb_norm"] == pytest.approx(1.0, abs=1e-12)


def test_random_regular_bipartite_graph_is_near_ramanujan():
    n, d = 300, 5
    kept = regular_bipartite(n, d, seed=0)
    assert (kept.sum(0) == d).all() and (kept.sum(1) == d).all()
    r = layer_graph_metrics(as_mask(kept))
    # d-regular: the top singular value is exactly d (all-ones singular vectors).
    assert r["t1"] == pytest.approx(d, abs=1e-9)
    # Friedman / Bordenave: random d-regular (bipartite) graphs have second eigenvalue
    # 2 sqrt(d-1) + o(1) w.h.p.; Alon-Boppana gives >= 2 sqrt(d-1) - o(1). At n = 300 the
    # overshoot is a finite-size edge fluctuation: over 40 seeds each of (200,4), (300,5),
    # (400,6) it never exceeded 0.015, so 0.1 leaves a wide margin, as does 0.3 below.
    ramanujan = 2 * math.sqrt(d - 1)
    assert ramanujan - 0.3 < r["t2"] <= ramanujan + 0.1
    # With d_L = d_R = t1 = d both bounds are 2 sqrt(d-1): Delta_r = Delta_s.
    assert r["bound_r"] == pytest.approx(ramanujan) and r["bound_s"] == pytest.approx(ramanujan)
    assert r["delta_r"] == pytest.approx(r["delta_s"], abs=1e-9)
    assert r["narc"] == pytest.approx((r["t2"] ** 2 / 4 + 1 - d) / n, abs=1e-12)
    assert r["imdb_subgraphs"] == 1 and r["imdb"] == pytest.approx(r["delta_r"], abs=1e-12)


def test_svd_route_agrees_with_eigsh_on_the_adjacency(monkeypatch):
    gen = torch.Generator().manual_seed(1)
    for shape, density in (((40, 300), 0.15), ((32, 16, 3, 3), 0.2), ((20, 60), 0.5)):
        mask = torch.rand(shape, generator=gen) < density
        B = biadjacency(mask)
        t_svd = top_eigenvalues(B, "svd")
        t_eigsh = top_eigenvalues(B, "eigsh")
        sigma = scipy.linalg.svdvals(B.toarray())[:2]
        # The reference's definition read off the full adjacency spectrum: 1st and 3rd |eig|.
        full = np.sort(np.abs(np.linalg.eigvalsh(adjacency(B).toarray())))[::-1]
        for t in (t_svd, t_eigsh, tuple(sigma)):
            assert t == pytest.approx((full[0], full[2]), rel=1e-9, abs=1e-9)
        svd_row = layer_graph_metrics(mask, method="svd")
        eigsh_row = layer_graph_metrics(mask, method="eigsh")
        assert svd_row["status"] == "ok" and svd_row["imdb_subgraphs"] > 1
        for key in ("delta_r", "delta_s", "narc", "imdb", "imdb_s"):
            assert svd_row[key] == pytest.approx(eigsh_row[key], rel=1e-8, abs=1e-9)
    # Layers too wide for a dense Gram matrix go through ARPACK's svds: same values.
    monkeypatch.setattr(graphs, "_DENSE_GRAM_MAX", 10)
    assert top_eigenvalues(B, "svd") == pytest.approx(t_svd, rel=1e-9)


def test_conv_masks_are_unrolled_as_inputs_by_outputs():
    c_out, c_in, kh, kw = 4, 3, 2, 5
    mask = torch.rand(c_out, c_in, kh, kw, generator=torch.Generator().manual_seed(0)) < 0.5
    B = biadjacency(mask).toarray()
    assert B.shape == (c_in * kh * kw, c_out)
    for o, c, y, x in [(0, 0, 0, 0), (3, 2, 1, 4), (1, 2, 0, 3), (2, 1, 1, 0)]:
        assert B[(c * kh + y) * kw + x, o] == float(mask[o, c, y, x])
    linear = torch.rand(6, 9, generator=torch.Generator().manual_seed(0)) < 0.5
    assert np.array_equal(biadjacency(linear).toarray(), linear.numpy().T.astype(float))
    weight = torch.randn(c_out, c_in, kh, kw)
    Bw = biadjacency(mask, weight).toarray()
    assert np.allclose(Bw, B * np.abs(weight.reshape(c_out, -1).numpy().T))
    r = layer_graph_metrics(mask)
    assert (r["dim_in"], r["dim_out"]) == (c_in * kh * kw, c_out)


def test_zero_degree_nodes_are_removed_before_degrees():
    full = torch.ones(8, 6, dtype=torch.bool)
    full[5:] = False      # outputs 5..7 receive nothing
    full[:, 4:] = False   # inputs 4, 5 send nothing
    r = layer_graph_metrics(full)
    assert (r["n_left"], r["n_right"], r["dim_in"], r["dim_out"]) == (4, 5, 6, 8)
    assert (r["mean_degree_left"], r["mean_degree_right"]) == (5, 4)
    # NaRC keeps dim_in, dim_out of the whole layer: [(0 + 1) sqrt(20) - |40 - 5/8 * 20|] / 48.
    assert r["narc"] == pytest.approx((math.sqrt(20) - abs(40 - 5 / 8 * 20)) / 48)


def test_degenerate_layers_are_reported_not_raised():
    empty = layer_graph_metrics(torch.zeros(5, 4, dtype=torch.bool))
    assert empty["status"] == "empty" and empty["edges"] == 0 and empty["imdb_subgraphs"] == 0
    sparse = layer_graph_metrics(torch.eye(6, dtype=torch.bool) | torch.eye(6).roll(1, 1).bool())
    assert sparse["status"] == "low_degree" and sparse["mean_degree_left"] == 2
    for r in (empty, sparse):
        for key in ("t1", "t2", "delta_r", "delta_s", "narc", "imdb"):
            assert math.isnan(r[key])
        assert not r["is_ramanujan"]
    # A single-output layer: right degree 10 but left degree 1.
    assert layer_graph_metrics(torch.ones(1, 10, dtype=torch.bool))["status"] == "low_degree"


def test_imdb_averages_the_d_left_regular_subgraphs():
    rng = np.random.default_rng(3)
    n_right = 10
    kept = np.zeros((30, n_right), dtype=bool)
    degrees = [4] * 12 + [7] * 16 + [9] * 2  # degree 9 has 2 nodes: no subgraph (needs 3)
    for i, d in enumerate(degrees):
        kept[i, rng.choice(n_right, d, replace=False)] = True
    r = layer_graph_metrics(as_mask(kept))
    parts = [layer_graph_metrics(as_mask(kept[np.array(degrees) == d])) for d in (4, 7)]
    assert [p["status"] for p in parts] == ["ok", "ok"]
    assert r["imdb_subgraphs"] == 2
    assert r["imdb"] == pytest.approx(np.mean([p["delta_r"] for p in parts]), abs=1e-12)
    assert r["imdb_norm"] == pytest.approx(np.mean([p["delta_r_norm"] for p in parts]))
    assert r["imdb_s"] == pytest.approx(np.mean([p["delta_s"] for p in parts]))
    assert r["imdb_expansion_max"] == max(p["expansion_ratio"] for p in parts)
    # A left-regular graph is its own single d-left-regular subgraph.
    left_regular = kept[np.array(degrees) == 7]
    one = layer_graph_metrics(as_mask(left_regular))
    assert one["imdb_subgraphs"] == 1 and one["imdb"] == pytest.approx(one["delta_r"])


def test_weights_add_the_weighted_spectrum_only():
    m, n, c = 4, 6, 0.5
    mask = torch.ones(n, m, dtype=torch.bool)
    r = layer_graph_metrics(mask, torch.full((n, m), -c))
    plain = layer_graph_metrics(mask)
    assert r["t1_w"] == pytest.approx(c * math.sqrt(m * n))
    assert r["spectral_gap_w"] == pytest.approx(c * math.sqrt(m * n))
    for key in ("t1", "t2", "delta_r", "narc", "imdb"):
        assert r[key] == pytest.approx(plain[key])
    with pytest.raises(ValueError, match="weight"):
        layer_graph_metrics(mask, torch.ones(n, m + 1))
    with pytest.raises(ValueError, match="method"):
        layer_graph_metrics(mask, method="lanczos")


def test_network_frame_and_summary():
    gen = torch.Generator().manual_seed(0)
    mask = {"features.0.weight": torch.rand(16, 3, 3, 3, generator=gen) < 0.5,
            "features.3.weight": torch.zeros(16, 16, 3, 3, dtype=torch.bool),
            "hidden.weight": torch.eye(20, dtype=torch.bool),
            "classifier.weight": torch.ones(10, 20, dtype=torch.bool)}
    weights = {name: torch.randn(m.shape, generator=gen) for name, m in mask.items()}
    df = network_graph_metrics(mask, weights)
    assert list(df["layer"]) == list(mask)
    assert list(df["kind"]) == ["conv", "conv", "linear", "linear"]
    assert list(df["status"]) == ["ok", "empty", "low_degree", "ok"]
    s = summarize(df)
    assert (s["n_layers"], s["n_valid"], s["n_empty"], s["n_low_degree"]) == (4, 2, 1, 1)
    ok = df[df["status"] == "ok"]
    assert s["delta_r_mean"] == pytest.approx(ok["delta_r"].mean())
    assert s["narc_mean"] == pytest.approx(ok["narc"].mean())
    assert s["imdb_mean"] == pytest.approx(df["imdb"].dropna().mean())
    assert s["spectral_gap_w_mean"] == pytest.approx(ok["spectral_gap_w"].mean())
    # Ramanujan fractions count over all layers, undefined ones as not Ramanujan.
    assert s["perc_ram_by_delta_r"] == pytest.approx((ok["delta_r"] > 0).sum() / 4)
    assert s["perc_ram_by_imdb"] == pytest.approx((df["imdb"] > 0).sum() / 4)
    kept = sum(int(m.sum()) for m in mask.values())
    assert s["density"] == pytest.approx(kept / sum(m.numel() for m in mask.values()))
