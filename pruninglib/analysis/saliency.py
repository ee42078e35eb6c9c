"""Synaptic saliency of the pruning objectives at initialisation, and how well it is conserved.

Tanaka et al. (2020) call S = theta * dR/dtheta a *synaptic saliency* for any scalar R of the
network. With homogeneous activations (ReLU) and no biases, rescaling a hidden unit's incoming
weights by a and its outgoing weights by 1/a leaves the network function unchanged, so for any
R that depends on the weights only through that function

* Thm 1: the saliency summed over a hidden unit's incoming weights equals the sum over its
  outgoing weights;
* Thm 2: summed over any set of weights that separates input from output (a whole layer of a
  plain network) it is the same number, so every layer of a plain network has the same total
  and the mean per weight is proportional to 1 / (layer size).

This module computes the saliency of the objectives of SNIP (R = cross-entropy on a batch;
SNIP's score is its absolute value), SynFlow (R = 1^T f(1; |theta|), positive) and GraSP
(theta * Hg: R involves the gradient itself, so the theorems do not apply to it), in float64,
and summarises how far the two laws are off: per unit (:func:`unit_flow_frame`,
:func:`conservation_error`) and per layer (:func:`layer_frame`, :func:`total_spread`,
:func:`size_slope`). BatchNorm in eval mode at initialisation is a linear map (conservation
still holds exactly); in train mode each unit's batch normalisation makes the loss invariant to
the scale of its incoming weights (their saliency sums to 0); skip connections split the flow,
so per-layer totals differ except across cuts (e.g. the first and the last layer).
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..config import PruneSpec
from ..masks import full_mask
from ..pruners.scores import ScoringContext, grasp_scorer, synflow_scorer
from .connectivity import synaptic_saliency, unit_flows

OBJECTIVES = ("snip", "synflow", "grasp")


def saliency(model: nn.Module, objective: str, *, input_shape: Sequence[int],
             x: torch.Tensor | None = None, y: torch.Tensor | None = None,
             bn_mode: str = "eval") -> dict[str, torch.Tensor]:
    """Float64 saliency of every prunable weight (name -> tensor shaped like the weight).

    objective: 'snip' (signed theta * dL/dtheta, cross-entropy on the batch x (B, *input_shape),
    y (B,)), 'synflow' (SynFlow's score), 'grasp' (GraSP's score theta * Hg, temperature 200).
    bn_mode: BatchNorm mode while scoring, 'eval' (running statistics) or 'train' (batch
    statistics). The model is not modified.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r} is not allowed: one of "
                         + ", ".join(OBJECTIVES))
    work = copy.deepcopy(model).double()
    work.train(bn_mode == "train")
    xd = None if x is None else x.double()
    if objective == "snip":
        if xd is None or y is None:
            raise ValueError("snip saliency needs a batch (x, y)")
        return synaptic_saliency(work, lambda m: F.cross_entropy(m(xd), y))
    ctx = ScoringContext(input_shape=tuple(input_shape), x=xd, y=y)
    scorer = {"synflow": synflow_scorer, "grasp": grasp_scorer}[objective]
    scores = scorer(work, ctx, PruneSpec(objective, density=0.5, bn_mode=bn_mode))(
        full_mask(work))
    return {n: s.double() for n, s in scores.items()}


def unit_flow_frame(scores: Mapping[str, torch.Tensor]) -> pd.DataFrame:
    """One row per hidden unit of a plain feed-forward net (see
    :func:`~pruninglib.analysis.connectivity.unit_flows`): layer (the layer feeding the
    unit), layer_index, unit, incoming, outgoing (saliency summed over its incoming and its
    outgoing weights)."""
    index = {name: i for i, name in enumerate(scores)}
    frames = [pd.DataFrame({"layer": flow["layer"], "layer_index": index[flow["layer"]],
                            "unit": np.arange(len(flow["incoming"])),
                            "incoming": flow["incoming"].cpu().numpy(),
                            "outgoing": flow["outgoing"].cpu().numpy()})
              for flow in unit_flows(scores)]
    return pd.concat(frames, ignore_index=True)


def conservation_error(scores: Mapping[str, torch.Tensor]) -> float:
    """Largest |incoming - outgoing| over the hidden units of a layer, relative to that
    layer's largest |incoming| or |outgoing|, maximised over the hidden layers (0 when Thm 1
    holds exactly; a plain feed-forward net only)."""
    flows = unit_flow_frame(scores)
    worst = 0.0
    for _, units in flows.groupby("layer_index"):
        scale = max(units["incoming"].abs().max(), units["outgoing"].abs().max())
        worst = max(worst, float((units["incoming"] - units["outgoing"]).abs().max() / scale))
    return worst


def layer_frame(scores: Mapping[str, torch.Tensor]) -> pd.DataFrame:
    """One row per prunable layer: layer, layer_index, numel, total (sum of the saliency),
    mean (total / numel) and mean_abs (mean |saliency|, the SNIP score's mean)."""
    return pd.DataFrame([{"layer": name, "layer_index": i, "numel": s.numel(),
                          "total": float(s.sum()), "mean": float(s.sum()) / s.numel(),
                          "mean_abs": float(s.abs().mean())}
                         for i, (name, s) in enumerate(scores.items())])


def total_spread(scores: Mapping[str, torch.Tensor],
                 layers: Sequence[str] | None = None) -> float:
    """(max - min) / max |.| of the per-layer totals over ``layers`` (default: all): 0 when
    Thm 2 holds for them (every layer of a plain net; for a residual net pass cuts only,
    e.g. the first and the last layer)."""
    totals = [float(scores[n].sum()) for n in (layers or list(scores))]
    return (max(totals) - min(totals)) / max(abs(t) for t in totals)


def size_slope(scores: Mapping[str, torch.Tensor]) -> float:
    """Least-squares slope of log10(mean |saliency| per weight) on log10(layer size) over
    the layers: -1 when every layer has the same total (Thm 2 with positive scores)."""
    frame = layer_frame(scores)
    return float(np.polyfit(np.log10(frame["numel"]), np.log10(frame["mean_abs"]), 1)[0])
