"""The code paths a sliced Transformer can be timed through, so that dense and pruned models
are compared like for like.

:class:`~pruninglib.models.transformer.Attention` runs all heads in one batched matmul while
they have equal widths, and loops over the heads in Python once slicing left them unequal. A
pruned model timed against the dense one therefore changes code path as well as size. Two
function-preserving rewrites put any model on a path of our choosing:

* :func:`per_head_path`: one empty head (zero query/key and zero value dimensions) appended
  to every block, so that the per-head loop runs whatever the widths (the dense model "sliced
  by zero lines"); the empty head adds nothing to the output;
* :func:`padded_heads`: every head padded with zero lines to the widest head of its block
  (query/key rows of W_Q and W_K, value rows of W_V and the matching columns of W_O), so
  that the heads are equal again and the batched matmul runs; zero query/key dimensions add
  nothing to the scores and zero value dimensions nothing to the output.

:data:`PATHS` names the three ways a model is timed: ``as_run`` (the model as sliced),
``per_head`` and ``padded``.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ...models.transformer import TransformerClassifier

PATHS = ("as_run", "per_head", "padded")


def batched(model: TransformerClassifier) -> bool:
    """Whether every attention block of ``model`` runs its heads in one batched matmul (all
    query/key widths equal and all value widths equal)."""
    return all(len(set(b.attn.qk_dims)) == 1 and len(set(b.attn.v_dims)) == 1
               for b in model.blocks)


def per_head_path(model: TransformerClassifier) -> TransformerClassifier:
    """A copy of ``model`` that computes the same function through the per-head loop: every
    block gets one more head of width 0 (no lines, no weights)."""
    new = copy.deepcopy(model)
    for block in new.blocks:
        block.attn.qk_dims.append(0)
        block.attn.v_dims.append(0)
    return new


def _padded_linear(linear: nn.Linear, dims: list[int], width: int, direction: str
                   ) -> nn.Linear:
    """``linear`` with its lines of head h (``dims[h]`` consecutive lines along
    ``direction``, 'out' = rows and bias, 'in' = columns) followed by zero lines up to
    ``width`` per head."""
    w = linear.weight.detach()
    heads = len(dims)
    if direction == "out":
        weight = w.new_zeros(heads * width, w.shape[1])
        bias = None if linear.bias is None else linear.bias.detach().new_zeros(heads * width)
    else:
        weight = w.new_zeros(w.shape[0], heads * width)
        bias = None if linear.bias is None else linear.bias.detach().clone()
    start = 0
    for h, d in enumerate(dims):
        rows = slice(h * width, h * width + d)
        if direction == "out":
            weight[rows] = w[start:start + d]
            if bias is not None:
                bias[rows] = linear.bias.detach()[start:start + d]
        else:
            weight[:, rows] = w[:, start:start + d]
        start += d
    out = nn.Linear(1, 1, bias=linear.bias is not None)
    out.in_features, out.out_features = weight.shape[1], weight.shape[0]
    out.weight = nn.Parameter(weight)
    if bias is not None:
        out.bias = nn.Parameter(bias)
    return out


@torch.no_grad()
def padded_heads(model: TransformerClassifier) -> TransformerClassifier:
    """A copy of ``model`` whose heads all have the width of the widest head of their block
    (at least 1), padded with zero lines: the same function, through the batched matmul."""
    new = copy.deepcopy(model)
    for block in new.blocks:
        attn = block.attn
        qk, v = max(1, max(attn.qk_dims)), max(1, max(attn.v_dims))
        attn.q = _padded_linear(attn.q, attn.qk_dims, qk, "out")
        attn.k = _padded_linear(attn.k, attn.qk_dims, qk, "out")
        attn.v = _padded_linear(attn.v, attn.v_dims, v, "out")
        attn.o = _padded_linear(attn.o, attn.v_dims, v, "in")
        attn.qk_dims[:] = [qk] * len(attn.qk_dims)
        attn.v_dims[:] = [v] * len(attn.v_dims)
    return new


def on_path(model: TransformerClassifier, path: str) -> TransformerClassifier:
    """``model`` rewritten for ``path`` (one of :data:`PATHS`; ``as_run`` returns it as it
    is)."""
    if path == "as_run":
        return model
    if path == "per_head":
        return per_head_path(model)
    if path == "padded":
        return padded_heads(model)
    raise ValueError(f"path={path!r} is not allowed: " + ", ".join(PATHS))
