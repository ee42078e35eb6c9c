"""A small Transformer encoder classifier built from plain ``nn.Linear`` modules.

Every weight matrix has a stable name: ``blocks.{i}.attn.{q,k,v,o}`` and
``blocks.{i}.ffn.{fc1,fc2}``, so penalties and pruners address them by name
(:func:`matrices`). Inputs of shape (N, T, F) (or (N, 1, T, F), e.g. Fashion-MNIST images
read as T = 28 rows of F = 28 pixels) are embedded to width ``d_model``, given a learned
position embedding, passed through post-norm blocks and mean-pooled over tokens.

Attention heads may have *unequal* widths once lines are sliced away
(:mod:`pruninglib.structured`): head h keeps ``qk_dims[h]`` query/key dimensions and
``v_dims[h]`` value dimensions, and its scores keep the scale 1/sqrt(d_head) of the original
model, so removing a query/key dimension whose weights are zero leaves the function unchanged.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention with per-head widths.

    x: (N, T, d_model) -> (N, T, d_model). ``q``/``k``: d_model -> sum(qk_dims);
    ``v``: d_model -> sum(v_dims); ``o``: sum(v_dims) -> d_model. Head h uses the h-th
    consecutive slice of each. ``scale`` is fixed at construction (1/sqrt(d_model/heads)).
    """

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        d_head = d_model // heads
        self.qk_dims, self.v_dims = [d_head] * heads, [d_head] * heads
        self.scale = 1.0 / math.sqrt(d_head)
        self.q, self.k, self.v = (nn.Linear(d_model, d_model) for _ in range(3))
        self.o = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, _ = x.shape
        q, k, v = self.q(x), self.k(x), self.v(x)
        heads = len(self.qk_dims)
        if len(set(self.qk_dims)) == 1 and len(set(self.v_dims)) == 1:   # one batched matmul
            q, k = (z.view(n, t, heads, -1).transpose(1, 2) for z in (q, k))
            v = v.view(n, t, heads, -1).transpose(1, 2)
            a = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)
            out = (a @ v).transpose(1, 2).reshape(n, t, -1)
        else:
            parts = []
            for qh, kh, vh in zip(q.split(self.qk_dims, -1), k.split(self.qk_dims, -1),
                                  v.split(self.v_dims, -1)):
                if vh.shape[-1] == 0:
                    continue
                scores = (qh @ kh.transpose(-1, -2) * self.scale if qh.shape[-1]
                          else x.new_zeros(n, t, t))
                parts.append(torch.softmax(scores, dim=-1) @ vh)
            out = torch.cat(parts, -1) if parts else x.new_zeros(n, t, 0)
        return self.o(out)


class FeedForward(nn.Module):
    """fc1: d_model -> hidden, ReLU, fc2: hidden -> d_model."""

    def __init__(self, d_model: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d_model, hidden), nn.Linear(hidden, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


class Block(nn.Module):
    """Post-norm encoder block: x = LN(x + attn(x)); x = LN(x + ffn(x))."""

    def __init__(self, d_model: int, heads: int, hidden: int):
        super().__init__()
        self.attn, self.ffn = Attention(d_model, heads), FeedForward(d_model, hidden)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.ffn(x))


class TransformerClassifier(nn.Module):
    """Encoder classifier: (N, T, F) or (N, 1, T, F) -> logits (N, classes)."""

    def __init__(self, tokens: int, features: int, classes: int, d_model: int = 64,
                 layers: int = 2, heads: int = 4, hidden: int = 256):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model={d_model} is not allowed: a multiple of heads={heads}")
        self.embed = nn.Linear(features, d_model)
        self.position = nn.Parameter(torch.randn(tokens, d_model) * 0.02)
        self.blocks = nn.ModuleList(Block(d_model, heads, hidden) for _ in range(layers))
        self.classifier = nn.Linear(d_model, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.flatten(1, 2)
        h = self.embed(x) + self.position
        for block in self.blocks:
            h = block(h)
        return self.classifier(h.mean(1))


MATRICES = ("q", "k", "v", "o", "fc1", "fc2")


def matrices(model: TransformerClassifier) -> dict[str, nn.Linear]:
    """Name -> Linear of every attention and feed-forward matrix, e.g. ``blocks.0.attn.q``,
    ``blocks.1.ffn.fc2``, in block order then the order of :data:`MATRICES`."""
    out = {}
    for i, block in enumerate(model.blocks):
        for name in ("q", "k", "v", "o"):
            out[f"blocks.{i}.attn.{name}"] = getattr(block.attn, name)
        for name in ("fc1", "fc2"):
            out[f"blocks.{i}.ffn.{name}"] = getattr(block.ffn, name)
    return out
