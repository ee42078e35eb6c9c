"""How far the conservation law of synaptic saliency is off at initialisation (Tanaka et al.
2020, Thm 1 and 2), for several networks, objectives and seeds.

:func:`conservation_runs` scores each network (a :class:`Net`) at initialisation (the network
and scoring batch of the training run with that seed) and measures the law with the pure
metrics of :mod:`pruninglib.analysis.saliency`; :func:`conservation_table` and
:func:`conservation_text` summarise the frame for the chapter. Nothing here is cached: a
point costs a few backward passes.

At initialisation our networks have zero biases and BatchNorm with the identity's running
statistics, so the law is exact (a check of our code). :func:`with_data_statistics` makes a
network where it can fail, the kind the paper says it holds for only approximately: biases
drawn as PyTorch draws them by default and BatchNorm running statistics estimated from
training images; :func:`unit_mismatch` says how far a typical unit is off.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import pandas as pd
import torch
from torch import nn

from ...analysis import saliency
from ...config import ModelSpec
from ...data import class_balanced_batch
from ...runs.networks import initial_network
from ...seeds import generator
from .collapse import fit_to_shape, scoring_context

STATISTICS_PER_CLASS = 25
"""Training images per class whose batch statistics become the BatchNorm running statistics
of :func:`with_data_statistics` (250 images for 10 classes)."""

RESIDUAL_PREFIXES = ("resnet", "resmlp")
"""Model names of networks with skip connections: Thm 1 (per unit) does not apply to them,
Thm 2 (across cuts) does."""


def is_residual(model: str) -> bool:
    """Whether the model name ``model`` is a network with skip connections."""
    return model.startswith(RESIDUAL_PREFIXES)

TABLE_FORMAT = {"unit_error": "{:.1e}", "unit_mismatch": "{:.3f}", "cut_error": "{:.1e}",
                "layer_spread": "{:.2f}", "size_slope": "{:.2f}"}
"""Display formats of :func:`conservation_table`'s columns."""


class Net(NamedTuple):
    """One network of the conservation study.

    label: its name in the tables; spec, shape: the network and its input shape (C, H, W);
    bn_mode: BatchNorm's mode while scoring ('eval' or 'train'); objectives: from
    :data:`pruninglib.analysis.saliency.OBJECTIVES`; data_statistics: scored as
    :func:`with_data_statistics` makes it (else as initialised: zero biases, identity
    BatchNorm statistics).
    """

    label: str
    spec: ModelSpec
    shape: tuple
    bn_mode: str
    objectives: tuple
    data_statistics: bool = False


def with_data_statistics(model: nn.Module, images: torch.Tensor, seed: int) -> nn.Module:
    """``model`` (changed in place, and returned) as a network where the conservation law can
    fail: every bias drawn as PyTorch's default, U(−1/√fan_in, 1/√fan_in), from the stream
    (``seed``, "biases"), and every BatchNorm's running mean and variance set to the batch
    statistics of ``images`` (B, C, H, W) passed through in train mode. The model is left in
    eval mode; its weights are untouched."""
    draw = generator(seed, "biases")
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for module in model.modules():
            bias = getattr(module, "bias", None)
            if isinstance(module, (nn.Linear, nn.Conv2d)) and bias is not None:
                bound = 1 / math.sqrt(module.weight[0].numel())
                values = torch.rand(bias.shape, generator=draw, dtype=torch.float64)
                bias.copy_((2 * values - 1) * bound)
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: the statistics of this one batch
        model.train()
        model(images)
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    return model.eval()


def unit_mismatch(scores) -> float:
    """Median over the hidden units of a plain net of |in − out| / max(|in|, |out|), the
    saliency flowing into a unit against the saliency flowing out of it
    (:func:`~pruninglib.analysis.saliency.unit_flow_frame`): 0 where Thm 1 holds, 1 where one
    side is zero, up to 2 where the signs differ. Units with no flow at all are left out;
    NaN if no unit has any."""
    flows = saliency.unit_flow_frame(scores)
    size = flows[["incoming", "outgoing"]].abs().max(axis=1)
    live = size > 0
    if not live.any():
        return math.nan
    return float(((flows["incoming"] - flows["outgoing"]).abs()[live] / size[live]).median())


def conservation_runs(nets: Sequence[Net], seeds: Sequence[int], dataset,
                      per_class: int) -> tuple[pd.DataFrame, dict]:
    """How far the conservation law is off at initialisation, for several networks.

    nets: :class:`Net` per network (a plain tuple in its field order will do).
    dataset: the :class:`pruninglib.data.Dataset` of the scoring batches (``per_class``
    images per class, seed by seed as :func:`.collapse.scoring_context` draws them) and of
    the BatchNorm statistics of a ``data_statistics`` net (:data:`STATISTICS_PER_CLASS`
    images per class, from the stream (seed, "bn-statistics")).

    Returns a frame with one row per (network, seed, objective): network, model, batchnorm,
    bn_mode, data_statistics, objective, seed, unit_error (:func:`~pruninglib.analysis.
    saliency.conservation_error`, NaN for residual nets), unit_mismatch
    (:func:`unit_mismatch`, NaN for residual nets), cut_error
    (:func:`~pruninglib.analysis.saliency.total_spread` of the first and last layer),
    layer_spread (of all layers), size_slope; and the saliencies of the first network's
    first seed by objective.
    """
    rows, example = [], {}
    nets = [Net(*net) for net in nets]
    for net in nets:
        for seed in seeds:
            model = initial_network(net.spec, net.shape, dataset.num_classes, seed)
            if net.data_statistics:
                images, _ = class_balanced_batch(dataset.train_x, dataset.train_y,
                                                 STATISTICS_PER_CLASS,
                                                 generator(seed, "bn-statistics"))
                with_data_statistics(model, fit_to_shape(images, net.shape), seed)
            ctx = scoring_context(dataset, per_class, seed, net.shape)
            residual = is_residual(net.spec.name)
            for objective in net.objectives:
                s = saliency.saliency(model, objective, input_shape=net.shape, x=ctx.x,
                                      y=ctx.y, bn_mode=net.bn_mode)
                names = list(s)
                rows.append({
                    "network": net.label, "model": net.spec.name, "batchnorm": any(
                        isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()),
                    "bn_mode": net.bn_mode, "data_statistics": net.data_statistics,
                    "objective": objective, "seed": seed,
                    "unit_error": math.nan if residual else saliency.conservation_error(s),
                    "unit_mismatch": math.nan if residual else unit_mismatch(s),
                    "cut_error": saliency.total_spread(s, [names[0], names[-1]]),
                    "layer_spread": saliency.total_spread(s),
                    "size_slope": saliency.size_slope(s)})
                if net.label == nets[0].label and seed == seeds[0]:
                    example[objective] = s
    return pd.DataFrame(rows), example


def conservation_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (network, objective) of a :func:`conservation_runs` frame, in order of appearance:
    the largest unit_error, unit_mismatch, cut_error and layer_spread over seeds and the mean
    size_slope (display with :data:`TABLE_FORMAT`)."""
    return (frame.groupby(["network", "objective"], sort=False)
            .agg(unit_error=("unit_error", "max"), unit_mismatch=("unit_mismatch", "max"),
                 cut_error=("cut_error", "max"), layer_spread=("layer_spread", "max"),
                 size_slope=("size_slope", "mean")))


def _worst(rows: pd.DataFrame, column: str) -> float:
    return rows[column].max() if len(rows) else math.nan


def conservation_text(frame: pd.DataFrame) -> str:
    """The findings of a :func:`conservation_runs` frame in words (markdown): the worst unit
    error of SNIP and SynFlow on the MLP against GraSP's; how far train-mode BatchNorm breaks
    the law; how well the residual nets' first and last layers agree; how far each objective
    is off on the networks with biases and BatchNorm data statistics (a typical unit's
    mismatch, the worst cut)."""
    realistic = (frame["data_statistics"] if "data_statistics" in frame
                 else pd.Series(False, frame.index))
    exact = frame[(frame["model"] == "mlp") & frame["objective"].isin(["snip", "synflow"])]
    text = (f"On the MLP the law holds to rounding: the worst unit error of SNIP and SynFlow "
            f"is {_worst(exact, 'unit_error'):.1e}, GraSP's "
            f"{_worst(frame[frame['objective'] == 'grasp'], 'unit_error'):.2f}. ")
    train_bn = frame[frame["bn_mode"] == "train"]
    if len(train_bn):
        text += (f"BatchNorm in train mode breaks it (unit errors up to "
                 f"{_worst(train_bn, 'unit_error'):.2f}, cut errors up to "
                 f"{_worst(train_bn, 'cut_error'):.2f}): the loss no longer depends on the "
                 f"scale of a normalised unit's inputs. ")
    res = frame[frame["model"].map(is_residual) & (frame["bn_mode"] == "eval") & ~realistic]
    if len(res):
        text += (f"In the residual net (BatchNorm in eval mode) the first and the last layer "
                 f"agree to {_worst(res, 'cut_error'):.1e}, but the layers' totals differ by "
                 f"up to {_worst(res, 'layer_spread'):.0%} of the largest: a residual layer "
                 f"lies on only some of the paths. ")
    data = frame[realistic]
    if len(data):
        plain = data[~data["model"].map(is_residual)]
        parts = [f"{objective}: a typical unit off by up to "
                 f"{_worst(plain[plain['objective'] == objective], 'unit_mismatch'):.3f}, "
                 f"cuts by up to {_worst(rows, 'cut_error'):.3f}"
                 for objective, rows in data.groupby("objective", sort=False)]
        text += ("With biases and BatchNorm statistics from data the law is no longer an "
                 "identity (largest over networks and seeds; " + "; ".join(parts) + "): "
                 "a bias, or BatchNorm's shift by its running mean, adds a term that no "
                 "rescaling of the weights can follow.")
    return text.strip()
