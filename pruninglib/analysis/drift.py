"""Representation drift: layer-by-layer similarity of networks to one reference network.

Which output is "a layer's representation": for each prunable layer (Linear/Conv, input to
output) the output of the first activation module after it (after BatchNorm, before pooling),
or the layer's own output when no activation follows (the classifier's logits). Layers are
named by their prunable weights, as in :func:`pruninglib.experiments.layers_frame`.

Measures (see :mod:`pruninglib.analysis.similarity`): ``svcca`` (99 % of the singular-value
mass kept, the google/svcca tutorial's convention; mean canonical correlation), ``pwcca``,
``cka`` (linear, biased) and ``cka_debiased``. A layer whose every neuron is constant over the
inputs (cut off by pruning) has no defined similarity: NaN, never an error.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import pandas as pd
import torch
from torch import nn

from ..masks import PRUNABLE_TYPES
from ..models.layers import ACTIVATION_LAYERS
from .similarity import capture_activations, linear_cka, pwcca, svcca

__all__ = ["MEASURES", "POSITIONS", "drift_frame", "layer_similarity", "minus_control",
           "position_means", "representation_layers", "with_positions"]

MEASURES: dict[str, Callable[[torch.Tensor, torch.Tensor], float]] = {
    "svcca": lambda x, y: svcca(x, y).similarity,
    "pwcca": lambda x, y: pwcca(x, y).similarity,
    "cka": lambda x, y: linear_cka(x, y),
    "cka_debiased": lambda x, y: linear_cka(x, y, debiased=True),
}
"""Measure name -> similarity of two (neurons, datapoints) activation matrices."""

_ACTIVATIONS = tuple(kind for kind in ACTIVATION_LAYERS.values() if kind is not nn.Identity)


def representation_layers(model: nn.Module) -> dict[str, str]:
    """Prunable weight name (``features.0.weight``) -> name of the module whose output is
    that layer's representation, input to output (see the module docstring). Layers with no
    activation between them share the next one: in a residual block the branch's last conv
    and the shortcut conv both map to the block's output activation."""
    out: dict[str, str] = {}
    pending: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, PRUNABLE_TYPES):
            pending.append(name)
        elif isinstance(module, _ACTIVATIONS) and pending:
            out.update({f"{layer}.weight": name for layer in pending})
            pending = []
    out.update({f"{layer}.weight": layer for layer in pending})
    return out


def _constant(acts: torch.Tensor) -> bool:
    """Every neuron (row) takes one value over all datapoints (columns)."""
    return bool((acts == acts[:, :1]).all())


def layer_similarity(x: torch.Tensor, y: torch.Tensor,
                     measures: Sequence[str] = ("svcca", "pwcca", "cka")) -> dict[str, float]:
    """Measure name -> similarity of x (n1, datapoints) and y (n2, datapoints); NaN for
    every measure when either side is constant (no neuron varies over the inputs)."""
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"measures: {unknown[0]!r} is not allowed: one of "
                         + ", ".join(MEASURES))
    if _constant(x) or _constant(y):
        return {m: float("nan") for m in measures}
    return {m: MEASURES[m](x, y) for m in measures}


def drift_frame(reference: nn.Module, models: Iterable[tuple[Mapping, nn.Module]],
                x: torch.Tensor, *, measures: Sequence[str] = ("svcca", "pwcca", "cka"),
                conv: Literal["average", "positions"] = "average",
                batch_size: int = 500) -> pd.DataFrame:
    """Similarity of every representation layer of each model to the same layer of
    ``reference``, on inputs x (N, ...).

    models: (identifying columns, network) pairs, same architecture as ``reference``; an
        iterable, so networks can be loaded one at a time (only the reference's activations
        and one model's are held: sum of neurons x N floats each).
    conv: how conv maps become (channels, datapoints), see
        :func:`pruninglib.analysis.similarity.capture_activations`.
    Returns one row per (model, representation, measure): the identifying columns,
    layer_index (0 = input side), layer (the prunable weight(s) feeding it, joined by '+'),
    module (the captured module), neurons, measure, similarity.
    """
    feeding: dict[str, list[str]] = {}
    for layer, module in representation_layers(reference).items():
        feeding.setdefault(module, []).append(layer)
    modules = list(feeding)
    ref = capture_activations(reference, x, modules, conv=conv, batch_size=batch_size)
    rows = []
    for ident, model in models:
        acts = capture_activations(model, x, modules, conv=conv, batch_size=batch_size)
        for index, module in enumerate(modules):
            values = layer_similarity(ref[module], acts[module], measures)
            for measure, value in values.items():
                rows.append({**ident, "layer_index": index, "layer": "+".join(feeding[module]),
                             "module": module, "neurons": acts[module].shape[0],
                             "measure": measure, "similarity": value})
    return pd.DataFrame(rows)


def with_positions(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a column ``position``: 'first' for layer_index 0, 'last' for the
    highest layer_index of its model, 'middle' otherwise (Ansuini et al. 2020 compare these).
    Needs columns layer_index and model.name (or one model only)."""
    by = frame["model.name"] if "model.name" in frame.columns else pd.Series(0, frame.index)
    last = frame.groupby(by)["layer_index"].transform("max")
    position = pd.Series("middle", index=frame.index)
    position[frame["layer_index"] == last] = "last"
    position[frame["layer_index"] == 0] = "first"
    return frame.assign(position=position)


POSITIONS = ("first", "middle", "last")


def position_means(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Mean similarity over the layers at each position, per run and measure.

    frame: a :func:`drift_frame` (with model.name). keys: the columns identifying a run
    (e.g. model.name, variant, density, seed). Returns one row per (run, measure): keys,
    measure, first, middle, last (a NaN layer makes its position's mean NaN, never skipped).
    """
    framed = with_positions(frame)
    means = (framed.groupby([*keys, "measure", "position"], sort=False)["similarity"]
             .apply(lambda s: s.mean(skipna=False)).unstack("position"))
    return means.reindex(columns=[p for p in POSITIONS if p in means.columns]).reset_index()


def minus_control(summary: pd.DataFrame, control: pd.DataFrame, *,
                  on: Sequence[str] = ("model.name", "measure"),
                  columns: Sequence[str] = POSITIONS) -> pd.DataFrame:
    """``summary`` with ``<column>_control``, the mean of ``control``'s column over its rows
    with the same ``on`` values (e.g. the dense-versus-dense pairs of that model and measure),
    and ``<column>_gap`` = column - that mean (negative: less similar to the reference than
    an independently trained network is)."""
    columns = [c for c in columns if c in summary.columns]
    means = control.groupby(list(on))[columns].mean().add_suffix("_control")
    out = summary.join(means, on=list(on))
    for column in columns:
        out[f"{column}_gap"] = out[column] - out[f"{column}_control"]
    return out
