"""Pruning at initialisation: scores, schedules, thresholds and post-pruning transforms.

:func:`prune` is the one entry point: it turns a :class:`~pruninglib.config.PruneSpec` into a
mask (``dict[name, bool tensor]``) over the model's prunable weights, with exactly
``round(density * N)`` weights kept. The model itself is not modified (apply the mask with
:func:`pruninglib.masks.apply_mask`).

Iterative pruning: round k of n prunes to the schedule's density d_k (exponential d**(k/n) by
default), re-scoring the network pruned so far; only surviving weights compete, so nothing is
revived (the reference's iterative SNIP can revive weights; ours cannot).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..masks import Mask, full_mask, shuffle_within_layers
from .ratios import LAYER_RATIOS, exact_counts
from .scores import SCORERS, ScoringContext
from .selection import AliveWeights, kept_count, schedule_densities, select_per_layer

__all__ = ["prune", "ScoringContext", "rescale_fan_in", "magnitude_round"]


def prune(model: nn.Module, spec, ctx: ScoringContext, *,
          synflow_precision: str | None = None) -> Mask:
    """Mask for ``model`` at ``spec.density`` by ``spec.method`` (a PruneSpec).

    ctx carries the pruning batch (SNIP, GraSP), the input shape (SynFlow) and the RNG
    (random scores, ratio methods, shuffling). Method 'imp' needs training and is run by
    :func:`pruninglib.experiments.run`, which calls :func:`magnitude_round` per round.
    synflow_precision: 'float64' or 'float32' SynFlow scores (see
    :func:`pruninglib.pruners.scores.synflow_scorer`); None takes ``spec.synflow_precision``
    where the spec has that field, else 'float64', the precision of every stored result.
    """
    alive = full_mask(model, spec.include_classifier)
    if spec.method == "dense":
        return alive
    sizes = [m.numel() for m in alive.values()]
    total_keep = kept_count(spec.density, sum(sizes))
    if spec.method in LAYER_RATIOS:
        densities = LAYER_RATIOS[spec.method]([tuple(m.shape) for m in alive.values()],
                                              spec.density)
        counts = exact_counts(densities, sizes, total_keep)
        scores = SCORERS["random"](model, ctx, spec)(alive)
        mask = select_per_layer(scores, alive, dict(zip(alive, counts)), spec.method)
    elif spec.method in SCORERS:
        if spec.method == "synflow":
            scorer = SCORERS["synflow"](model, ctx, spec, precision=synflow_precision)
        else:
            scorer = SCORERS[spec.method](model, ctx, spec)
        survivors = AliveWeights(alive)
        for d in schedule_densities(spec.density, spec.rounds, spec.schedule):
            scores = scorer(survivors.mask())
            if spec.invert:
                scores = {n: -s for n, s in scores.items()}
            _narrow(survivors, scores, d, spec.scope, spec.method)
        mask = survivors.mask()
    else:
        raise ValueError(f"prune.method={spec.method!r} cannot be run by pruners.prune: "
                         f"it needs training (use experiments.run)")
    if spec.shuffle:
        mask = shuffle_within_layers(mask, ctx.generator)
    return mask


def _narrow(survivors: AliveWeights, scores, density: float, scope: str, method: str) -> None:
    """Prune ``survivors`` to ``density`` of all prunable weights, globally or per layer."""
    sizes = {n: math.prod(shape) for n, shape in survivors.shapes.items()}
    total_keep = kept_count(density, sum(sizes.values()))
    if scope == "global":
        survivors.keep_global(scores, total_keep, method)
    else:
        counts = exact_counts([density] * len(sizes), list(sizes.values()), total_keep)
        survivors.keep_per_layer(scores, dict(zip(sizes, counts)), method)


def magnitude_round(model: nn.Module, alive: Mask, density: float, scope: str = "global"
                    ) -> Mask:
    """One round of magnitude pruning of the (trained) weights to ``density`` of all
    prunable weights, among the still-alive ones (open_lth's ``sparse_global``, exact count)."""
    named = dict(model.named_parameters())
    survivors = AliveWeights(alive)
    _narrow(survivors, {n: named[n].detach().abs() for n in alive}, density, scope, "magnitude")
    return survivors.mask()


@torch.no_grad()
def rescale_fan_in(model: nn.Module, mask: Mask, dense: dict[str, torch.Tensor]) -> None:
    """Hayou et al.'s rescaling trick, in the paper's intent: multiply each output unit's
    surviving incoming weights by rho_i = sqrt(sum_j W_ij**2 / sum_j mask_ij W_ij**2), computed
    on the dense initial weights ``dense``, so the unit's incoming squared norm (hence its
    pre-activation variance) is back at its dense value. Units with no surviving weight are
    left at zero.

    The reference code instead normalises per (out-channel, kernel position) to sigma_w**4 / fan_in
    (its sigma_w2**2 quirk) and only for VGG; see PEERS.md §1.8.
    """
    named = dict(model.named_parameters())
    for n, m in mask.items():
        w0 = dense[n].reshape(m.shape[0], -1).double()
        keep = m.reshape(m.shape[0], -1)
        full = (w0 ** 2).sum(1)
        kept = (w0 ** 2 * keep).sum(1)
        rho = torch.where(kept > 0, torch.sqrt(full / kept.clamp_min(math.ulp(0.0))),
                          torch.zeros_like(kept))
        shape = (-1,) + (1,) * (m.dim() - 1)
        named[n].mul_(rho.reshape(shape).to(named[n].dtype))
