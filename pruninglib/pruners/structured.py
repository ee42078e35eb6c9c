"""Line-wise structured sparsity of a :class:`~pruninglib.transformer.TransformerClassifier`:
group penalties, line scores, physical slicing, FLOP counts and CPU latency.

Conventions. A torch ``nn.Linear`` weight W has shape (out, in). Its *output lines* are the
rows W[j, :] (with the bias b[j]); its *input lines* are the columns W[:, j]. In the papers'
``y = x W`` convention (TPrune, DeepHoyer) our output lines are their *columns* and our input
lines their *rows*.

A *unit* is an inner dimension that can be removed from a block without touching the
residual stream (width d_model is never sliced):

* ``blocks.i.qk``: a query/key dimension j of one head, the output line j of W_Q and of W_K;
* ``blocks.i.vo``: a value dimension j, the output line j of W_V and the input line j of W_O;
* ``blocks.i.ffn``: a hidden unit j, the output line j of fc1 and the input line j of fc2.

Each unit's *relative norm* is the smaller of its two lines' norms, each divided by the largest
line norm of its matrix; a unit under the threshold has (almost) no effect and is sliced away.
Removing a unit whose line in either matrix is exactly zero (bias included for output lines)
leaves the network's function unchanged: q_j = 0 adds nothing to q·k, and v_j = 0 or a zero
column of W_O / fc2 adds nothing to the output (ReLU(0) = 0).
"""
from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..models.transformer import MATRICES, TransformerClassifier, matrices

UNITS = ("qk", "vo", "ffn")
# the direction of each matrix along which its inner dimension runs
INNER = {"q": "out", "k": "out", "v": "out", "o": "in", "fc1": "out", "fc2": "in"}


# -- group norms and penalties ---------------------------------------------------------------
def line_norms(linear: nn.Linear, direction: str) -> torch.Tensor:
    """L2 norm of every line of ``linear``: 'out' -> (out,) norms of [W[j, :], b[j]],
    'in' -> (in,) norms of W[:, j]. Differentiable."""
    w = linear.weight
    if direction == "out":
        squares = w.pow(2).sum(1)
        if linear.bias is not None:
            squares = squares + linear.bias.pow(2)
        return squares.sqrt()
    if direction == "in":
        return w.pow(2).sum(0).sqrt()
    raise ValueError(f"direction={direction!r} is not allowed: 'out' or 'in'")


def group_lasso(norms: torch.Tensor) -> torch.Tensor:
    """Group lasso sum_g ||w_g||_2 of a vector of group norms."""
    return norms.sum()


def group_hoyer_square(norms: torch.Tensor) -> torch.Tensor:
    """Group Hoyer-Square (sum_g ||w_g||)^2 / sum_g ||w_g||^2 (DeepHoyer); in [1, #groups],
    scale invariant; 0 for an all-zero matrix."""
    denominator = norms.pow(2).sum()
    if denominator == 0:
        return denominator
    return norms.sum().pow(2) / denominator


PENALTIES = {"group_lasso": group_lasso, "hoyer_square": group_hoyer_square}


def penalty(model: TransformerClassifier, kind: str,
            directions: Mapping[str, tuple[str, ...]]) -> torch.Tensor:
    """Sum over all blocks of ``PENALTIES[kind]`` of the line norms of each matrix type in
    ``directions`` (e.g. ``{"q": ("out",), "o": ("in", "out")}``), one term per direction."""
    total = 0.0
    for name, linear in matrices(model).items():
        for direction in directions.get(name.rsplit(".", 1)[1], ()):
            total = total + PENALTIES[kind](line_norms(linear, direction))
    return total


BOTH = {m: ("out", "in") for m in MATRICES}             # BSSL: every line of every matrix
INNER_ONLY = {m: (d,) for m, d in INNER.items()}        # the lines that can be sliced


def relative_line_norms(model: TransformerClassifier) -> list[dict]:
    """One dict per (block, matrix, direction): block, matrix, direction and ``relative``,
    the line norms divided by the largest of that matrix and direction (a CPU tensor)."""
    rows = []
    for name, linear in matrices(model).items():
        block, matrix = int(name.split(".")[1]), name.rsplit(".", 1)[1]
        for direction in ("out", "in"):
            with torch.no_grad():
                norms = line_norms(linear, direction).cpu()
            rows.append({"block": block, "matrix": matrix, "direction": direction,
                         "relative": norms / norms.max().clamp_min(1e-30)})
    return rows


# -- units: score, select, slice -----------------------------------------------------------
def _unit_lines(block) -> dict[str, tuple[tuple[nn.Module, str, str], ...]]:
    """unit -> its two lines as (module owning the Linear, attribute name, direction)."""
    a, f = block.attn, block.ffn
    return {"qk": ((a, "q", "out"), (a, "k", "out")), "vo": ((a, "v", "out"), (a, "o", "in")),
            "ffn": ((f, "fc1", "out"), (f, "fc2", "in"))}


@torch.no_grad()
def unit_scores(model: TransformerClassifier) -> dict[str, torch.Tensor]:
    """``blocks.i.<unit>`` -> relative norm of each unit (the smaller of its two lines' norms,
    each relative to the largest line of its matrix), a CPU tensor in [0, 1]."""
    out = {}
    for i, block in enumerate(model.blocks):
        for unit, lines in _unit_lines(block).items():
            rel = [line_norms(getattr(owner, attr), d).cpu() for owner, attr, d in lines]
            rel = [r / r.max().clamp_min(1e-30) for r in rel]
            out[f"blocks.{i}.{unit}"] = torch.minimum(*rel)
    return out


def keep_above(scores: Mapping[str, torch.Tensor], threshold: float) -> dict[str, torch.Tensor]:
    """Keep the units whose relative norm is at least ``threshold``."""
    return {name: s >= threshold for name, s in scores.items()}


def keep_largest(scores: Mapping[str, torch.Tensor], fraction: float) -> dict[str, torch.Tensor]:
    """Magnitude line pruning: remove round(fraction * n) lowest-scoring units of each unit
    group (ties to the lower index), keep the rest."""
    keep = {}
    for name, s in scores.items():
        drop = round(fraction * len(s))
        mask = torch.ones(len(s), dtype=torch.bool)
        mask[torch.argsort(s, stable=True)[:drop]] = False
        keep[name] = mask
    return keep


def _slice_linear(linear: nn.Linear, keep: torch.Tensor, direction: str) -> nn.Linear:
    idx = keep.nonzero().flatten().to(linear.weight.device)
    w = linear.weight.detach()
    w = w[idx] if direction == "out" else w[:, idx]
    out = nn.Linear(1, 1, bias=linear.bias is not None)   # (initialising 0 lines warns)
    out.in_features, out.out_features = w.shape[1], w.shape[0]
    out.weight = nn.Parameter(w.clone())
    if linear.bias is not None:
        b = linear.bias.detach()
        out.bias = nn.Parameter((b[idx] if direction == "out" else b).clone())
    return out


def slice_units(model: TransformerClassifier, keep: Mapping[str, torch.Tensor],
                ) -> TransformerClassifier:
    """A copy of ``model`` with the units where ``keep`` is False physically removed: W_Q and
    W_K lose those rows, W_V rows and W_O columns, fc1 rows and fc2 columns; the heads'
    widths (``qk_dims``, ``v_dims``) follow. Units missing from ``keep`` are kept."""
    new = copy.deepcopy(model)
    for i, block in enumerate(new.blocks):
        for unit, lines in _unit_lines(block).items():
            mask = keep.get(f"blocks.{i}.{unit}")
            if mask is None:
                continue
            mask = mask.cpu().bool()
            for owner, attr, direction in lines:
                setattr(owner, attr, _slice_linear(getattr(owner, attr), mask, direction))
            if unit in ("qk", "vo"):
                dims = block.attn.qk_dims if unit == "qk" else block.attn.v_dims
                dims[:] = [int(m.sum()) for m in mask.split(dims)]
    return new


def count_parameters(model: nn.Module) -> int:
    """Number of scalars in all parameters."""
    return sum(p.numel() for p in model.parameters())


# -- cost ----------------------------------------------------------------------------------
def linear_flops(tokens: int, fan_in: int, fan_out: int) -> int:
    """FLOPs of a token-wise linear map: 2 * tokens * fan_in * fan_out (multiply + add)."""
    return 2 * tokens * fan_in * fan_out


def flops(model: TransformerClassifier, tokens: int) -> int:
    """FLOPs of one sample's forward pass: every matrix product (embedding, Q/K/V/O, the
    per-head scores Q K^T and the mixing A V, fc1, fc2, classifier), counted as 2 per
    multiply-accumulate. Biases, softmax, LayerNorm and ReLU are not counted."""
    total = linear_flops(tokens, model.embed.in_features, model.embed.out_features)
    for block in model.blocks:
        for linear in (block.attn.q, block.attn.k, block.attn.v, block.attn.o,
                       block.ffn.fc1, block.ffn.fc2):
            total += linear_flops(tokens, linear.in_features, linear.out_features)
        total += 2 * tokens * tokens * (sum(block.attn.qk_dims) + sum(block.attn.v_dims))
    return total + linear_flops(1, model.classifier.in_features, model.classifier.out_features)


@torch.inference_mode()
def latency(models: Sequence[nn.Module], x: torch.Tensor, *, threads: int = 1,
            warmup: int = 5, repeats: int = 30) -> list[dict]:
    """Forward-pass wall time of each model on the batch ``x``, eval mode, with
    ``torch.set_num_threads(threads)`` for the measurement (restored after): ``warmup`` calls
    each, not timed, then ``repeats`` rounds that time one call of every model in turn, so a
    slow spell of a shared machine hits all models alike. One dict per model: median, q1, q3
    (seconds) and all times."""
    before = torch.get_num_threads()
    modes = [m.training for m in models]
    for m in models:
        m.eval()
    torch.set_num_threads(threads)
    times = [[] for _ in models]
    try:
        for m in models:
            for _ in range(warmup):
                m(x)
        for _ in range(repeats):
            for m, out in zip(models, times):
                start = time.perf_counter()
                m(x)
                out.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)
        for m, mode in zip(models, modes):
            m.train(mode)
    results = []
    for t in times:
        q1, _, q3 = statistics.quantiles(t, n=4) if len(t) > 1 else (t[0],) * 3
        results.append({"median": statistics.median(t), "q1": q1, "q3": q3, "times": t})
    return results
