"""Ramanujan-graph metrics of masked layers (Hoang, Liu, Marculescu, Wang, ICLR 2023).

Every masked layer is read as a bipartite graph and scored with the quantities of the paper's
code (``VITA-Group/ramanujan-on-pai``, ``lib/graphs/scores.py``, commit ec1d583; see
``PEERS.md`` §1.13 and ``CLAIMS.md`` §5). The definitions below follow that code exactly,
including its quirks, which are named where they occur.

Graph of a layer
    A Linear mask (out, in) or a conv mask (c_out, c_in, kh[, kw]) is reshaped to
    (out, in * kh * kw) and transposed: the *biadjacency* ``B`` has one row per left node (an
    input, for convs an unrolled (channel, ky, kx) input position in C order) and one column per
    right node (an output unit or channel); ``B[i, j] = 1`` iff the weight from input ``i`` to
    output ``j`` is kept. Nodes of degree zero are removed before anything is computed; ``n_L``,
    ``n_R`` count the rest, ``|E|`` is the number of kept weights, ``d_L = |E| / n_L`` and
    ``d_R = |E| / n_R`` are the mean degrees.

    The reference builds its graphs from ``weight_orig * weight_mask != 0``, i.e. the mask
    (a kept weight that is exactly zero, probability 0 at init, would be dropped there, kept
    here). It stores ``|W|`` on the edges but never uses it: every score of the paper is
    computed on the unweighted 0/1 adjacency (``np.ones_like`` in ``ramanujan_score``). So are
    ours. Passing weights only *adds* the weighted spectrum ``t1_w``, ``t2_w`` and the weighted
    spectral gap ``t1_w - t2_w`` of Cunegatti et al. (``eliacunegatti/mge-snn``,
    ``ramanunjan_metric.py``, who extend the reference this way; their Delta_r stays
    unweighted too).

Eigenvalues
    The reference computes ``eigsh(A, k=3, which='LM')`` on the symmetric
    (n_L + n_R)^2 adjacency ``A = [[0, B], [B^T, 0]]``, takes absolute values sorted in
    decreasing order and sets ``t1`` = the first and ``t2`` (mu-hat) = the *third*. The
    spectrum of a bipartite adjacency is {+-sigma_i} (the singular values of ``B``) plus
    ``|n_L - n_R|`` zeros, so the three largest |eigenvalues| are sigma_1, sigma_1, sigma_2:
    the 3rd is the largest non-trivial eigenvalue ``sigma_2`` (skipping the trivial pair
    +-sigma_1), and ``t1 = sigma_1``. For a complete bipartite graph sigma_2 = 0, so t2 = 0.
    We compute sigma_1, sigma_2 directly (``method="svd"``, the default: LAPACK in float64 on
    the Gram matrix, about 2-4x faster; see :func:`top_eigenvalues`), or by the reference's
    route (``method="eigsh"``; float64 and a seeded start vector where the reference used
    float32 and ARPACK's random one). Tests check that the routes agree.

Scores of a graph (the reference computes them only if ``d_L >= 3`` and ``d_R >= 3``)
    * ``delta_r = (sqrt(d_L - 1) + sqrt(d_R - 1)) - t2`` (irregular Ramanujan gap, the paper's
      Delta_r; ``bound_r`` is the bracket, ``delta_r_norm = delta_r / bound_r``);
    * ``delta_s = 2 sqrt(t1 - 1) - t2`` (the spectral variant, bound from lambda_1; ``bound_s``,
      ``delta_s_norm`` likewise);
    * ``expansion_ratio = n_R / n_L``;
    * ``narc`` (the paper's NaRC, the code's ``random_bound``, whole layer only)::

          [(t2^2 / 4 + 1) sqrt(n_L n_R) - | 2|E| - (d_L / dim_out) n_L n_R |] / (dim_in dim_out)

      with ``dim_in``, ``dim_out`` the layer's sizes *before* zero-degree nodes are removed.
      ``CLAIMS.md`` writes ``|E|`` for the first term inside the bars; the code passes
      ``edge_index.size(1)``, and its graphs store every undirected edge in both directions
      (networkx ``to_directed``; its degree count relies on it), so that number is ``2|E|``.
      We follow the code, which the published numbers come from: with ``|E|`` the bars vanish
      whenever no output is cut off and NaRC could never be negative, yet the authors' table
      has negative values (e.g. ERK). By the code's docstring NaRC <= 0 means "random".
    * IMDB (``iterative_mean_spectral_gap``): for every left-degree value ``d > 0`` held by at
      least 3 left nodes, the *d-left-regular subgraph* (those left nodes, all right nodes,
      zero-degree ones then removed) is scored as above when it passes the degree condition;
      ``imdb`` is the mean of its ``delta_r`` (csv column ``irm``), ``imdb_norm`` the mean of
      ``delta_r / bound_r`` (``irm_norm``), ``imdb_s`` / ``imdb_s_norm`` the same for
      ``delta_s`` (``ism``, ``ism_norm``). IMDB does not depend on the whole layer passing the
      degree condition (the reference computes the two independently).

A layer with no kept weight has status ``"empty"``; one whose mean left or right degree is
below 3 has status ``"low_degree"`` (the reference's "collapsed", ``None`` scores). Neither
raises; their whole-layer scores are NaN. Per network, :func:`summarize` averages each column
over the layers where it is defined and counts the Ramanujan layers as the authors'
``summarize_findings.py`` does. :data:`REFERENCE_COLUMNS` maps our names to the csv's.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
import torch

MIN_MEAN_DEGREE = 3
"""Both mean degrees must reach this for a graph to be scored (reference: ``>= 3``)."""

MIN_NODES_PER_DEGREE = 3
"""A left-degree value gets an IMDB subgraph only if this many left nodes have it."""

STATUSES = ("ok", "low_degree", "empty")
"""Per-layer status: scored; mean degree below 3 (scores NaN); no kept weight (scores NaN)."""

METHODS = ("svd", "eigsh")

REFERENCE_COLUMNS = {
    "density": "sparsity", "t1": "t1m", "t2": "t2m",
    "delta_r": "rm", "bound_r": "rm_ub", "delta_r_norm": "rm_norm",
    "delta_s": "sm", "bound_s": "sm_ub", "delta_s_norm": "sm_norm",
    "expansion_ratio": "ep", "narc": "random_factor",
    "imdb": "irm", "imdb_norm": "irm_norm", "imdb_s": "ism", "imdb_s_norm": "ism_norm",
    "imdb_subgraphs": "num_sub_regulars", "imdb_expansion_max": "imax_ep",
    "imdb_expansion_mean": "i_mean_ep",
    "perc_ram_by_delta_r": "perc_ram_by_rm", "perc_ram_by_imdb": "perc_ram_by_irm",
}
"""Our column -> the reference csv's (``get_csv.py``; the summary appends ``_mean``). The
reference's "sparsity" column is a density (kept / total), as is ours; its ``num_sub_regulars``
column holds ``i_mean_ep`` by a bug (PEERS.md §1.13), ours the subgraph count."""

_DENSE_GRAM_MAX = 4096      # Gram matrices up to this side are formed densely (<= 128 MiB)
_SPARSE_GRAM_BELOW = 0.1    # below this density the Gram product is done in sparse arithmetic
_GRAM_REL_FLOOR = 1e-4      # sigma_2 / sigma_1 under this: recompute with a dense SVD

_SCORE_KEYS = ("t1", "t2", "bound_r", "delta_r", "delta_r_norm", "bound_s", "delta_s",
               "delta_s_norm", "expansion_ratio")
_IMDB_KEYS = ("imdb", "imdb_norm", "imdb_s", "imdb_s_norm", "imdb_subgraphs",
              "imdb_expansion_max", "imdb_expansion_mean")


# ---------------------------------------------------------------------------------------------
# Graphs


def _numpy(tensor) -> np.ndarray:
    if isinstance(tensor, torch.Tensor):
        return tensor.detach().cpu().numpy()
    return np.asarray(tensor)


def _unrolled(tensor) -> np.ndarray:
    """(out, in, *kernel) -> (in * prod(kernel), out): rows = left nodes, columns = right."""
    array = _numpy(tensor)
    if array.ndim < 2:
        raise ValueError(f"mask: a weight mask needs shape (out, in, ...), got {array.shape}")
    return array.reshape(array.shape[0], -1).T


def biadjacency(mask, weight=None) -> scipy.sparse.csr_array:
    """The layer's bipartite graph as a sparse (n_in, n_out) float64 matrix.

    ``mask``: bool (or 0/1) tensor or array shaped like the weight, (out, in) or
    (c_out, c_in, kh[, kw]). Rows are the left nodes (inputs; for convs the c_in * kh * kw
    unrolled positions, index ``(c * kh + y) * kw + x``), columns the right nodes (outputs),
    as the reference transposes. Entries are 1 where the mask keeps a weight, or ``|W|``
    there if ``weight`` (same shape) is given. Zero-degree nodes are *not* removed here.
    """
    kept = _unrolled(mask) != 0
    rows, cols = np.nonzero(kept)
    if weight is None:
        values = np.ones(rows.size)
    else:
        values = np.abs(_unrolled(weight).astype(np.float64))[rows, cols]
    return scipy.sparse.csr_array((values, (rows, cols)), shape=kept.shape)


def adjacency(B) -> scipy.sparse.csr_array:
    """Symmetric (n_L + n_R)^2 adjacency [[0, B], [B^T, 0]] of a biadjacency ``B``."""
    B = scipy.sparse.csr_array(B, dtype=np.float64)
    return scipy.sparse.csr_array(scipy.sparse.bmat([[None, B], [B.T, None]], format="csr"))


# ---------------------------------------------------------------------------------------------
# Spectra


def _gram(B, density: float) -> np.ndarray:
    """Dense Gram matrix of ``B`` over its smaller side."""
    if density < _SPARSE_GRAM_BELOW:
        S = scipy.sparse.csr_array(B, dtype=np.float64)
        G = S.T @ S if S.shape[1] <= S.shape[0] else S @ S.T
        return G.toarray()
    D = B.toarray() if scipy.sparse.issparse(B) else np.asarray(B, dtype=np.float64)
    return D.T @ D if D.shape[1] <= D.shape[0] else D @ D.T


def _top_singular_values(B) -> tuple[float, float]:
    n_l, n_r = B.shape
    small = min(n_l, n_r)
    if small == 0:
        return 0.0, 0.0
    nnz = B.nnz if scipy.sparse.issparse(B) else int(np.count_nonzero(B))
    if small > _DENSE_GRAM_MAX:  # too big for a dense Gram matrix: Lanczos on B^T B
        k = 2
        s = scipy.sparse.linalg.svds(scipy.sparse.csr_array(B, dtype=np.float64), k=k,
                                     return_singular_vectors=False, random_state=0)
        s = np.sort(s)[::-1]
        return float(s[0]), float(s[1])
    G = _gram(B, nnz / (n_l * n_r))
    if small == 1:
        return math.sqrt(max(float(G[0, 0]), 0.0)), 0.0
    w = scipy.linalg.eigvalsh(G, subset_by_index=[small - 2, small - 1])
    s1, s2 = (math.sqrt(max(float(v), 0.0)) for v in w[::-1])
    # The Gram route squares: sigma_2 carries an absolute error ~ eps * sigma_1^2 / sigma_2.
    # Near-zero sigma_2 (e.g. a complete bipartite graph) is recomputed without squaring.
    if s2 < _GRAM_REL_FLOOR * s1:
        D = B.toarray() if scipy.sparse.issparse(B) else np.asarray(B, dtype=np.float64)
        s = scipy.linalg.svdvals(D)
        s1, s2 = float(s[0]), float(s[1])
    return s1, s2


def _eigsh_reference(B) -> tuple[float, float]:
    A = adjacency(B)
    n = A.shape[0]
    if n <= 4:  # ARPACK needs k < n; such tiny graphs never pass the degree test anyway
        vals = np.linalg.eigvalsh(A.toarray())
    else:
        v0 = np.random.default_rng(0).standard_normal(n)  # not all-ones: that vector can
        # lie in the span of the +-sigma_1 eigenvectors (biregular graphs) and hide sigma_2
        vals = scipy.sparse.linalg.eigsh(A, k=3, which="LM", v0=v0,
                                         return_eigenvectors=False)
    vals = np.sort(np.abs(vals))[::-1]
    return float(vals[0]), float(vals[2]) if vals.size > 2 else 0.0


def top_eigenvalues(B, method: str = "svd") -> tuple[float, float]:
    """(t1, t2) of a bipartite graph with biadjacency ``B`` (n_L, n_R), as the reference
    defines them: the 1st and the *3rd* largest |eigenvalue| of the symmetric adjacency.

    Because the adjacency spectrum is {+-sigma_i} plus zeros, these are the largest and the
    second largest singular values of ``B`` (the 3rd |eigenvalue| skips the trivial -sigma_1).
    ``method="svd"``: sigma_1, sigma_2 from the Gram matrix of ``B``'s smaller side with
    LAPACK (``scipy.linalg.eigvalsh``), redone with a dense SVD when sigma_2 < 1e-4 sigma_1,
    ARPACK ``svds`` when the smaller side exceeds 4096. ``method="eigsh"``: the reference's
    ``eigsh(A, k=3, which='LM')`` on the (n_L + n_R)^2 adjacency (float64, seeded start).
    A graph with a single left or right node has t2 = 0 (only +-sigma_1 and zeros).
    """
    if method == "svd":
        return _top_singular_values(B)
    if method == "eigsh":
        return _eigsh_reference(B)
    raise ValueError(f"method: {method!r} is not one of {METHODS}")


# ---------------------------------------------------------------------------------------------
# Scores


def _nan_scores() -> dict:
    return {key: math.nan for key in _SCORE_KEYS}


def _score(kept: np.ndarray, method: str, weights: np.ndarray | None = None) -> dict:
    """Reference ``ramanujan_score`` on a bool (left, right) matrix with possible zero-degree
    nodes: degrees, status and (if ok) the spectral scores."""
    deg_l, deg_r = kept.sum(axis=1), kept.sum(axis=0)
    keep_l, keep_r = deg_l > 0, deg_r > 0
    n_l, n_r = int(keep_l.sum()), int(keep_r.sum())
    edges = int(deg_l.sum())
    out = {"n_left": n_l, "n_right": n_r, "edges": edges,
           "mean_degree_left": edges / n_l if n_l else math.nan,
           "mean_degree_right": edges / n_r if n_r else math.nan}
    if edges == 0:
        return {**out, "status": "empty", **_nan_scores()}
    d_l, d_r = out["mean_degree_left"], out["mean_degree_right"]
    if d_l < MIN_MEAN_DEGREE or d_r < MIN_MEAN_DEGREE:
        return {**out, "status": "low_degree", **_nan_scores()}
    sub = kept[keep_l][:, keep_r]
    B = scipy.sparse.csr_array(sub.astype(np.float64)) if edges < 0.1 * sub.size \
        else sub.astype(np.float64)
    t1, t2 = top_eigenvalues(B, method)
    bound_r = math.sqrt(d_l - 1) + math.sqrt(d_r - 1)
    bound_s = 2 * math.sqrt(t1 - 1)  # t1 >= sqrt(d_L d_R) >= 3 here
    out.update(status="ok", t1=t1, t2=t2, bound_r=bound_r, delta_r=bound_r - t2,
               delta_r_norm=(bound_r - t2) / bound_r, bound_s=bound_s, delta_s=bound_s - t2,
               delta_s_norm=(bound_s - t2) / bound_s, expansion_ratio=n_r / n_l)
    if weights is not None:
        t1_w, t2_w = top_eigenvalues(np.where(sub, weights[keep_l][:, keep_r], 0.0), method)
        out.update(t1_w=t1_w, t2_w=t2_w, spectral_gap_w=t1_w - t2_w)
    return out


def _imdb(kept: np.ndarray, method: str) -> dict:
    """Reference ``iterative_mean_spectral_gap`` over the d-left-regular subgraphs."""
    deg_l = kept.sum(axis=1)
    values, counts = np.unique(deg_l[deg_l > 0], return_counts=True)
    scores = []
    for d in values[counts >= MIN_NODES_PER_DEGREE]:
        s = _score(kept[deg_l == d], method)
        if s["status"] == "ok":
            scores.append(s)
    if not scores:
        return {key: (0 if key == "imdb_subgraphs" else math.nan) for key in _IMDB_KEYS}
    def mean(key: str) -> float:
        return float(np.mean([s[key] for s in scores]))

    ratios = [s["expansion_ratio"] for s in scores]
    return {"imdb": mean("delta_r"), "imdb_norm": mean("delta_r_norm"),
            "imdb_s": mean("delta_s"), "imdb_s_norm": mean("delta_s_norm"),
            "imdb_subgraphs": len(scores), "imdb_expansion_max": float(max(ratios)),
            "imdb_expansion_mean": float(np.mean(ratios))}


def layer_graph_metrics(mask, weight=None, *, method: str = "svd", imdb: bool = True) -> dict:
    """Ramanujan metrics of one masked layer (see the module docstring for every definition).

    ``mask``: bool tensor/array shaped like the weight, (out, in) or (c_out, c_in, kh[, kw]).
    ``weight``: optional weight of the same shape; adds the |W|-weighted ``t1_w``, ``t2_w``,
    ``spectral_gap_w`` (all other scores are unweighted, as in the reference).
    ``method``: ``"svd"`` (exact, default) or ``"eigsh"`` (the reference's route) for t1, t2.
    ``imdb``: also compute IMDB (the d-left-regular subgraphs).

    Returns a flat dict: ``dim_in``, ``dim_out`` (unrolled sizes), ``edges``, ``density``,
    ``n_left``, ``n_right`` (nodes of nonzero degree), ``mean_degree_left/right``, ``status``
    (one of :data:`STATUSES`), ``t1``, ``t2``, ``bound_r``, ``delta_r``, ``delta_r_norm``,
    ``bound_s``, ``delta_s``, ``delta_s_norm``, ``expansion_ratio``, ``narc``, ``is_ramanujan``
    (``delta_r > 0``, the reference's count), then ``imdb``, ``imdb_norm``, ``imdb_s``,
    ``imdb_s_norm``, ``imdb_subgraphs``, ``imdb_expansion_max``, ``imdb_expansion_mean`` and,
    with ``weight``, ``t1_w``, ``t2_w``, ``spectral_gap_w``. Undefined values are NaN; no
    degenerate layer raises.
    """
    if method not in METHODS:
        raise ValueError(f"method: {method!r} is not one of {METHODS}")
    kept = _unrolled(mask) != 0
    dim_in, dim_out = kept.shape
    weights = None
    if weight is not None:
        weights = np.abs(_unrolled(weight).astype(np.float64))
        if weights.shape != kept.shape:
            raise ValueError(f"weight: shape {tuple(_numpy(weight).shape)} does not match the "
                             f"mask's {tuple(_numpy(mask).shape)}")
    row = {"dim_in": dim_in, "dim_out": dim_out}
    row.update(_score(kept, method, weights))
    row["density"] = row["edges"] / (dim_in * dim_out) if dim_in * dim_out else math.nan
    if row["status"] == "ok":
        n_l, n_r, edges = row["n_left"], row["n_right"], row["edges"]
        spread = abs(2 * edges - (row["mean_degree_left"] / dim_out) * n_l * n_r)
        row["narc"] = ((row["t2"] ** 2 / 4 + 1) * math.sqrt(n_l * n_r) - spread) \
            / (dim_in * dim_out)
    else:
        row["narc"] = math.nan
    row["is_ramanujan"] = bool(row["delta_r"] > 0)
    if weight is not None:
        for key in ("t1_w", "t2_w", "spectral_gap_w"):
            row.setdefault(key, math.nan)
    if imdb:
        row.update(_imdb(kept, method))
    head = ("dim_in", "dim_out", "edges", "density", "n_left", "n_right", "mean_degree_left",
            "mean_degree_right", "status")
    return {key: row[key] for key in head + tuple(k for k in row if k not in head)}


def network_graph_metrics(mask: Mapping[str, torch.Tensor],
                          weights: Mapping[str, torch.Tensor] | None = None, *,
                          method: str = "svd", imdb: bool = True) -> pd.DataFrame:
    """One row per masked layer, input to output: ``layer`` (the parameter name), ``kind``
    (``"linear"`` for 2-D masks, ``"conv"`` otherwise), then :func:`layer_graph_metrics`'s
    fields. ``weights`` (optional, keyed like ``mask``) adds the weighted spectral columns.
    Every prunable layer is included (the classifier too, as in the reference)."""
    rows = []
    for name, m in mask.items():
        w = None if weights is None else weights[name]
        kind = "linear" if len(tuple(m.shape)) == 2 else "conv"
        rows.append({"layer": name, "kind": kind,
                     **layer_graph_metrics(m, w, method=method, imdb=imdb)})
    return pd.DataFrame(rows)


_SUMMARY_COLUMNS = ("density", "mean_degree_left", "mean_degree_right", "t1", "t2", "delta_r",
                    "delta_r_norm", "delta_s", "delta_s_norm", "expansion_ratio", "narc",
                    "imdb", "imdb_norm", "imdb_s", "imdb_s_norm", "imdb_subgraphs",
                    "t1_w", "t2_w", "spectral_gap_w")


def summarize(df: pd.DataFrame) -> dict:
    """Per-network summary of :func:`network_graph_metrics`' frame, as the reference's
    ``summarize_findings.py`` does for one mask.

    ``<column>_mean``: mean over the layers where the column is defined (NaN ones, i.e.
    empty / low-degree layers, are skipped; ``density_mean`` is the plain layer mean, the
    reference's ``sparsity_mean``). ``perc_ram_by_delta_r`` / ``perc_ram_by_imdb``: the
    fraction of *all* layers with ``delta_r > 0`` / ``imdb > 0`` (strictly, and undefined
    counting as not Ramanujan, as the reference counts). Also ``n_layers``, ``n_valid``
    (status ok), ``n_low_degree``, ``n_empty``, ``n_imdb_valid`` and the global ``density``
    (kept / total over all layers).
    """
    out: dict = {"n_layers": len(df)}
    status = df["status"] if len(df) else pd.Series(dtype=object)
    out["n_valid"] = int((status == "ok").sum())
    out["n_low_degree"] = int((status == "low_degree").sum())
    out["n_empty"] = int((status == "empty").sum())
    out["n_imdb_valid"] = int(df["imdb"].notna().sum()) if "imdb" in df else 0
    total = float((df["dim_in"] * df["dim_out"]).sum()) if len(df) else 0.0
    out["density"] = float(df["edges"].sum()) / total if total else math.nan
    for column in _SUMMARY_COLUMNS:
        if column in df:
            values = pd.to_numeric(df[column], errors="coerce")
            out[f"{column}_mean"] = float(values.mean()) if values.notna().any() else math.nan
    n = len(df)
    out["perc_ram_by_delta_r"] = float((df["delta_r"] > 0).sum() / n) if n else math.nan
    if "imdb" in df:
        out["perc_ram_by_imdb"] = float((df["imdb"] > 0).sum() / n) if n else math.nan
    return out
