"""How far the conservation law of synaptic saliency is off at initialisation (Tanaka et al.
2020, Thm 1 and 2), for several networks, objectives and seeds.

:func:`conservation_runs` scores each network at initialisation (the network and scoring batch
of the training run with that seed) and measures the law with the pure metrics of
:mod:`pruninglib.analysis.saliency`; :func:`conservation_table` and :func:`conservation_text`
summarise the frame for the chapter. Nothing here is cached: a point costs a few backward
passes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from torch import nn

from ...analysis import saliency
from ...runs.networks import initial_network
from .collapse import scoring_context

RESIDUAL_PREFIXES = ("resnet", "resmlp")
"""Model names of networks with skip connections: Thm 1 (per unit) does not apply to them,
Thm 2 (across cuts) does."""


def is_residual(model: str) -> bool:
    """Whether the model name ``model`` is a network with skip connections."""
    return model.startswith(RESIDUAL_PREFIXES)

TABLE_FORMAT = {"unit_error": "{:.1e}", "cut_error": "{:.1e}", "layer_spread": "{:.2f}",
                "size_slope": "{:.2f}"}
"""Display formats of :func:`conservation_table`'s columns."""


def conservation_runs(nets: Sequence[tuple], seeds: Sequence[int], dataset,
                      per_class: int) -> tuple[pd.DataFrame, dict]:
    """How far the conservation law is off at initialisation, for several networks.

    nets: (label, ModelSpec, input_shape, bn_mode, objectives) per network; objectives from
    :data:`pruninglib.analysis.saliency.OBJECTIVES`, computed with BatchNorm in ``bn_mode``.
    dataset: the :class:`pruninglib.data.Dataset` of the scoring batches (``per_class``
    images per class, seed by seed as :func:`.collapse.scoring_context` draws them).

    Returns a frame with one row per (network, seed, objective): network, model, batchnorm,
    bn_mode, objective, seed, unit_error (:func:`~pruninglib.analysis.saliency.
    conservation_error`, NaN for residual nets), cut_error (:func:`~pruninglib.analysis.
    saliency.total_spread` of the first and last layer), layer_spread (of all layers),
    size_slope; and the saliencies of the first network's first seed by objective.
    """
    rows, example = [], {}
    for label, spec, shape, bn_mode, objectives in nets:
        for seed in seeds:
            model = initial_network(spec, shape, dataset.num_classes, seed)
            ctx = scoring_context(dataset, per_class, seed, shape)
            for objective in objectives:
                s = saliency.saliency(model, objective, input_shape=shape, x=ctx.x, y=ctx.y,
                                      bn_mode=bn_mode)
                names = list(s)
                rows.append({
                    "network": label, "model": spec.name, "batchnorm": any(
                        isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()),
                    "bn_mode": bn_mode, "objective": objective, "seed": seed,
                    "unit_error": (math.nan if is_residual(spec.name)
                                   else saliency.conservation_error(s)),
                    "cut_error": saliency.total_spread(s, [names[0], names[-1]]),
                    "layer_spread": saliency.total_spread(s),
                    "size_slope": saliency.size_slope(s)})
                if label == nets[0][0] and seed == seeds[0]:
                    example[objective] = s
    return pd.DataFrame(rows), example


def conservation_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (network, objective) of a :func:`conservation_runs` frame, in order of appearance:
    the largest unit_error, cut_error and layer_spread over seeds and the mean size_slope
    (display with :data:`TABLE_FORMAT`)."""
    return (frame.groupby(["network", "objective"], sort=False)
            .agg(unit_error=("unit_error", "max"), cut_error=("cut_error", "max"),
                 layer_spread=("layer_spread", "max"), size_slope=("size_slope", "mean")))


def _worst(rows: pd.DataFrame, column: str) -> float:
    return rows[column].max() if len(rows) else math.nan


def conservation_text(frame: pd.DataFrame) -> str:
    """The findings of a :func:`conservation_runs` frame in words (markdown): the worst unit
    error of SNIP and SynFlow on the MLP against GraSP's; how far train-mode BatchNorm breaks
    the law; how well the residual nets' first and last layers agree."""
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
    res = frame[frame["model"].map(is_residual) & (frame["bn_mode"] == "eval")]
    if len(res):
        text += (f"In the residual net (BatchNorm in eval mode) the first and the last layer "
                 f"agree to {_worst(res, 'cut_error'):.1e}, but the layers' totals differ by "
                 f"up to {_worst(res, 'layer_spread'):.0%} of the largest: a residual layer "
                 f"lies on only some of the paths.")
    return text
