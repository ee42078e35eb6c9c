"""Pruning-at-initialization scores: higher score = more important = kept.

Each scorer is built once per pruning call from the model, a :class:`ScoringContext` and the
PruneSpec (for ``bn_mode`` and ``grasp_temperature``); it works on its own copy of the model
and is called with the current alive mask, once per pruning round. Semantics follow the SynFlow
reference code (``ganguli-lab/Synaptic-Flow``, see PEERS.md §1.3-1.7) unless noted:

* random: i.i.d. N(0, 1) scores (a global random threshold = uniform layer density in expectation).
* magnitude: |theta|.
* snip: |theta * dL/dtheta| (equal to the reference's |dL/dmask| at mask = 1), cross-entropy on
  a class-balanced batch.
* grasp: theta * (H g) with g = dL/dtheta of the loss at temperature T (stop-gradient) and H the
  Hessian; the reference removes the *largest* -theta * Hg, i.e. keeps the largest theta * Hg.
* synflow: |theta * dR/dtheta| with R = 1^T f(1; |theta|): every state tensor (weights, biases,
  BatchNorm affine *and* running statistics) replaced by its absolute value, all-ones input of
  one sample, BatchNorm in eval mode by default. Computed in float64 (the reference's float32
  overflows to inf on ResNet-56/110).

BatchNorm while scoring follows ``spec.bn_mode``: 'eval', 'train', or 'none' (the copy has no
BatchNorm at all: Hayou et al.'s SBP-SR scores a BN-free network, then trains the mask with BN).

Pruned weights are zero in the scorer's copy, so every gradient-based score sees the pruned
network, as the reference's multiplicative masks do.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..masks import Mask, apply_mask

Scores = dict[str, torch.Tensor]
Scorer = Callable[[Mask], Scores]


@dataclass
class ScoringContext:
    """What scorers may need besides the model.

    x, y: pruning batch (N, *input_shape) and labels (N,) for data-dependent scores.
    input_shape: one sample's shape, e.g. (1, 28, 28), for SynFlow's all-ones input.
    generator: seeded RNG for random scores.
    """

    input_shape: tuple[int, ...]
    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    generator: torch.Generator | None = None


def _params(model: nn.Module, names) -> list[nn.Parameter]:
    named = dict(model.named_parameters())
    return [named[n] for n in names]


def _require_batch(ctx: ScoringContext, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    if ctx.x is None or ctx.y is None:
        raise ValueError(f"{method} needs a pruning batch (x, y); none was given")
    return ctx.x, ctx.y


def _scoring_copy(model: nn.Module, bn_mode: str) -> nn.Module:
    """A copy to score on: BatchNorm in train or eval mode, or ('none') every BatchNorm layer
    replaced by the identity (a BN-free copy with the same weights and parameter names)."""
    work = copy.deepcopy(model)
    if bn_mode == "none":
        _drop_batchnorm(work)
    work.train(bn_mode == "train")
    return work


def _drop_batchnorm(module: nn.Module) -> None:
    """Replace every BatchNorm{1,2}d below ``module`` by nn.Identity, in place."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            _drop_batchnorm(child)


def random_scorer(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """N(0, 1) scores, drawn once (so iterating them changes nothing)."""
    fixed: Scores = {}

    def score(alive: Mask) -> Scores:
        if not fixed:
            fixed.update({n: torch.randn(a.shape, generator=ctx.generator,
                                         dtype=torch.float64).to(a.device)
                          for n, a in alive.items()})
        return fixed
    return score


def magnitude_scorer(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """|theta| of the initial weights."""
    def score(alive: Mask) -> Scores:
        return {n: p.detach().abs() for n, p in zip(alive, _params(model, alive))}
    return score


def snip_scorer(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """|theta * dL/dtheta| on the pruning batch, re-evaluated on the pruned net each round."""
    x, y = _require_batch(ctx, "snip")
    work = _scoring_copy(model, spec.bn_mode)

    def score(alive: Mask) -> Scores:
        apply_mask(work, alive)
        params = _params(work, alive)
        grads = torch.autograd.grad(F.cross_entropy(work(x), y), params)
        return {n: (g * p).detach().abs() for n, g, p in zip(alive, grads, params)}
    return score


def grasp_scorer(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """theta * Hg (keep the largest), loss at temperature T, g stop-gradient."""
    x, y = _require_batch(ctx, "grasp")
    work = _scoring_copy(model, spec.bn_mode)

    def score(alive: Mask) -> Scores:
        apply_mask(work, alive)
        params = _params(work, alive)
        g = torch.autograd.grad(F.cross_entropy(work(x) / spec.grasp_temperature, y), params)
        grads = torch.autograd.grad(F.cross_entropy(work(x) / spec.grasp_temperature, y), params,
                                    create_graph=True)
        z = sum((gi.detach() * gr).sum() for gi, gr in zip(g, grads))
        hg = torch.autograd.grad(z, params)
        return {n: (p * h).detach() for n, p, h in zip(alive, params, hg)}
    return score


def synflow_scorer(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """|theta * dR/dtheta|, R = sum of the output of the |state| network on an all-ones input."""
    work = _scoring_copy(model, spec.bn_mode).double()
    with torch.no_grad():
        for tensor in work.state_dict().values():
            tensor.abs_()
    device = next(work.parameters()).device
    ones = torch.ones((1, *ctx.input_shape), dtype=torch.float64, device=device)
    dense = None

    def score(alive: Mask) -> Scores:
        nonlocal dense
        params = _params(work, alive)
        if dense is None:
            dense = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, d, n in zip(params, dense, alive):
                p.copy_(d * alive[n])
        grads = torch.autograd.grad(work(ones).sum(), params)
        return {n: (g * p).detach().abs() for n, g, p in zip(alive, grads, params)}
    return score


SCORERS: dict[str, Callable[[nn.Module, ScoringContext, object], Scorer]] = {
    "random": random_scorer,
    "magnitude": magnitude_scorer,
    "snip": snip_scorer,
    "grasp": grasp_scorer,
    "synflow": synflow_scorer,
}
"""Score-based methods by name (the layer-ratio methods live in ``pruners.ratios``)."""
