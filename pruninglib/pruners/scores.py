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
  one sample, BatchNorm in eval mode by default. Computed in float64 by default (the
  reference's float32 overflows to inf on ResNet-56/110); ``precision='float32'`` computes
  the same scores up to one common factor in float32 without overflow (see
  :func:`synflow_scorer`), about twice as fast on the CPU.

BatchNorm while scoring follows ``spec.bn_mode``: 'eval', 'train', or 'none' (the copy has no
BatchNorm at all: Hayou et al.'s SBP-SR scores a BN-free network, then trains the mask with BN).

Pruned weights are zero in the scorer's copy, so every gradient-based score sees the pruned
network, as the reference's multiplicative masks do.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..masks import Mask, apply_mask
from ..models.layers import Residual

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


def synflow_scorer(model: nn.Module, ctx: ScoringContext, spec, *,
                   precision: str | None = None) -> Scorer:
    """|theta * dR/dtheta|, R = sum of the output of the |state| network on an all-ones input.

    precision: 'float64' (the default, and what every stored result used) or 'float32'; None
    takes ``spec.synflow_precision`` if the spec has that field, else 'float64'.

    In float32 the scores come out multiplied by one common factor (a power of two), which
    leaves the ranking unchanged up to rounding: R is positively homogeneous in the signal at
    every *cut* of the network (the output of each stage of the top-level chain of
    ``nn.Sequential`` stages and residual blocks, which every input-output path crosses), so
    rescaling the signal at a cut by s multiplies R, and every score, by s. After each
    weighted stage the signal is rescaled by a power of two that brings its maximum to [1, 2)
    (exact in binary floating point), and the shifts further down (biases, BatchNorm running
    means and betas) by the product of the factors so far, so the network computed is exactly
    the scaled one. That keeps R of order one on ResNet-110, where the unscaled float32 R is
    inf. It needs every layer to be positively homogeneous (Linear, Conv, ReLU, pooling,
    eval-mode BatchNorm, residual blocks): a network with another layer (tanh, GELU, train-mode
    BatchNorm...) is scored in float64 whatever ``precision`` says (in float32, 1 - tanh**2 of
    a saturated unit loses most of its digits, which moves the ranking by more than rounding).
    A round whose float32 scores are not finite is scored again in float64.
    """
    if precision is None:
        precision = getattr(spec, "synflow_precision", "float64")
    if precision == "float64":
        return _synflow_float64(model, ctx, spec)
    if precision == "float32":
        return _synflow_float32(model, ctx, spec)
    raise ValueError(f"precision={precision!r} is not allowed: 'float64' or 'float32'")


def _synflow_float64(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """The float64 SynFlow scorer every stored result was computed with (unchanged)."""
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


_HOMOGENEOUS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ReLU, nn.LeakyReLU, nn.Identity,
                nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.AdaptiveAvgPool1d,
                nn.AdaptiveAvgPool2d, nn.Flatten, nn.ZeroPad2d, nn.ConstantPad1d,
                nn.ConstantPad2d, nn.Dropout, nn.Sequential, Residual)
"""Layers f with f(s x) = s f(x) for s > 0 (given shifts scaled by s), so R scales with the
signal at a cut. Residual: post(shortcut(x) + scale * branch(x)), homogeneous if its parts are.
BatchNorm is homogeneous in eval mode only (checked separately); Dropout is off while scoring."""


def _cuts(module: nn.Module) -> list[nn.Module]:
    """The stages of the top-level chain, input to output: children of nn.Sequential
    containers, recursively, not entering any other module (a residual block is one stage).
    Every input-output path goes through the output of each of them."""
    if isinstance(module, nn.Sequential):
        return [cut for child in module for cut in _cuts(child)]
    return [module]


def _homogeneous(model: nn.Module) -> bool:
    """Whether every layer of ``model`` is positively homogeneous (see :data:`_HOMOGENEOUS`)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if m.training:
                return False
        elif not isinstance(m, _HOMOGENEOUS):
            return False
    return True


def _shifts(module: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(tensor, its value) of every nonzero shift in ``module``: biases, BatchNorm running
    means and betas (what must scale with the signal for the layer to scale with it)."""
    out = []
    for m in module.modules():
        names = ["bias"]
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            names.append("running_mean")
        for name in names:
            t = getattr(m, name, None)
            if isinstance(t, torch.Tensor) and bool(t.ne(0).any()):
                out.append((t, t.detach().clone()))
    return out


class _SignalScaling:
    """Forward hooks that rescale the signal after each weighted stage of the chain to a
    maximum in [1, 2) by a power of two, and the shifts of later stages by the product of the
    factors so far (see :func:`synflow_scorer`)."""

    def __init__(self, model: nn.Module):
        self.scale = 1.0  # product of the factors applied so far, this forward pass
        stages = _cuts(model)
        self.handles = [stages[0].register_forward_pre_hook(self._reset)]
        for stage in stages:
            shifts = _shifts(stage)
            if shifts:
                self.handles.append(stage.register_forward_pre_hook(self._shifter(shifts)))
            if any(True for _ in stage.parameters()):
                self.handles.append(stage.register_forward_hook(self._rescale))

    def _reset(self, module, args):
        self.scale = 1.0

    def _shifter(self, shifts):
        def hook(module, args):
            with torch.no_grad():
                for tensor, value in shifts:
                    torch.mul(value, self.scale, out=tensor)
        return hook

    def _rescale(self, module, args, output):
        peak = float(output.detach().abs().max())
        if not (peak > 0 and math.isfinite(peak)):
            return output
        factor = 2.0 ** -math.floor(math.log2(peak))
        if factor == 1.0:
            return output
        self.scale *= factor
        return output * factor


def _synflow_float32(model: nn.Module, ctx: ScoringContext, spec) -> Scorer:
    """SynFlow scores in float32, a common power-of-two factor apart from the float64 ones
    (float64 for a network that is not positively homogeneous)."""
    work = _scoring_copy(model, spec.bn_mode).float()
    with torch.no_grad():
        for tensor in work.state_dict().values():
            tensor.abs_()
    if not _homogeneous(work):
        return _synflow_float64(model, ctx, spec)
    for p in work.parameters():
        p.requires_grad_(False)
    _SignalScaling(work)
    device = next(work.parameters()).device
    ones = torch.ones((1, *ctx.input_shape), dtype=torch.float32, device=device)
    dense: list[torch.Tensor] | None = None
    fallback: Scorer | None = None

    def score(alive: Mask) -> Scores:
        nonlocal dense, fallback
        params = _params(work, alive)
        if dense is None:
            dense = [p.detach().clone() for p in params]
            for p in params:
                p.requires_grad_(True)
        with torch.no_grad():
            for p, d, n in zip(params, dense, alive):
                torch.mul(d, alive[n], out=p)
        grads = torch.autograd.grad(work(ones).sum(), params)
        scores = {}
        with torch.no_grad():
            for n, g, p in zip(alive, grads, params):
                scores[n] = g.mul_(p).abs_()
        if all(bool(torch.isfinite(s.sum())) for s in scores.values()):
            return scores  # a finite sum of non-negative terms: every score is finite
        if fallback is None:
            fallback = _synflow_float64(model, ctx, spec)
        return fallback(alive)
    return score


SCORERS: dict[str, Callable[[nn.Module, ScoringContext, object], Scorer]] = {
    "random": random_scorer,
    "magnitude": magnitude_scorer,
    "snip": snip_scorer,
    "grasp": grasp_scorer,
    "synflow": synflow_scorer,
}
"""Score-based methods by name (the layer-ratio methods live in ``pruners.ratios``)."""
