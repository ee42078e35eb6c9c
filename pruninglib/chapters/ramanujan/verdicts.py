"""The numbers behind the chapter's verdicts, for our runs and for the authors' table alike.

:func:`claim_values` computes the metric of every claim (:data:`METRICS`) per model and seed
from a frame of masks (:func:`.correlations.predictors` of our runs, or
:func:`.correlations.authors_frame`), each as one row per (model, seed) with ``value``,
``entered`` and ``densities`` (how many densities had a defined value, of how many).
:func:`estimates` turns ours into the :class:`~pruninglib.book.claims.Estimate` of every claim
row (mean and 95 % CI over seeds, with what entered and the minimum below which the verdict is
*not measured*); :func:`authors_values` applies the same functions to the authors' released
numbers, from which :mod:`.claims` computes the paper's numbers and the calibration.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ...book import plots
from ...book.claims import Estimate
from . import correlations as corr
from . import measures

CORRELATION_METRICS = {"R1": "delta_r_mean", "R5": "imdb_mean"}
"""Claims whose metric is the median over densities of rho(accuracy, predictor)."""

TRAINED = "-trained"
"""Suffix of a claim recomputed among the masks that train (above chance)."""

METRICS = ("R1", "R1" + TRAINED, "R2", "R3", "R4", "R5", "R5" + TRAINED, "C1", "C1" + TRAINED)
"""Every claim's base id (without the model), in table order."""

MIN_DENSITY_SHARE = 0.5
"""A median over densities needs a defined value at at least this share of the (density,
seed) cells, else the row is *not measured*."""

DATASET_LABELS = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
                  "cifar100": "CIFAR-100", "mnist": "MNIST"}


def _correlation_rows(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    rho = corr.rank_correlations(frame)
    medians = corr.median_over_densities(rho)
    out = {claim: medians[medians["predictor"] == column].drop(columns="predictor")
           for claim, column in CORRELATION_METRICS.items()}
    if "imdb_density_only" in frame.columns:
        out["C1"] = corr.imdb_advantage(rho)
    return out


def claim_values(frame: pd.DataFrame, lowest: Mapping[str, float]) -> dict[str, pd.DataFrame]:
    """Per claim base id of :data:`METRICS`: one row per (model, seed) with ``value``,
    ``entered`` and ``densities``. ``lowest``: model -> its lowest density (R3's). C1 needs
    the twin column ``imdb_density_only`` (left out without it)."""
    out = _correlation_rows(frame)
    out.update({claim + TRAINED: values for claim, values in
                _correlation_rows(corr.masks_that_train(frame)).items()})
    out["R2"] = measures.median_per_seed(measures.random_wiring_margin(frame))
    out["R4"] = measures.median_per_seed(measures.narc_margin(frame))
    gain = measures.ramanujan_gain(frame, lowest)
    out["R3"] = gain.assign(entered=gain["value"].notna().astype(int), densities=1)
    return {claim: out[claim].reset_index(drop=True) for claim in METRICS if claim in out}


def authors_values(reference: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """:func:`claim_values` of the authors' table (one row per network, seed -1)."""
    frame = corr.authors_frame(reference)
    lowest = frame.groupby("model.name")["prune.density"].min().to_dict()
    return claim_values(frame, lowest)


def methods_entered(frame: pd.DataFrame, predictor: str) -> str:
    """``methods entering ρ at d = 0.2, 0.05: 6, 5 of 6`` (mean over seeds) for one model's
    masks and one predictor column."""
    rho = corr.rank_correlations(frame, [predictor])
    per_density = rho.groupby("prune.density").agg(n=("n", "mean"), methods=("methods", "max"))
    per_density = per_density.sort_index(ascending=False)
    if per_density.empty:
        return "no correlation"
    counts = ", ".join(f"{n:g}" for n in per_density["n"])
    densities = ", ".join(f"{d:g}" for d in per_density.index)
    return (f"methods entering ρ at d = {densities}: {counts} of "
            f"{int(per_density['methods'].max())}")


def optimizer_label(params: Mapping, model: str) -> str:
    """``Adam`` or ``SGD``: the optimiser ``params`` trains ``model`` with (SGD without an
    entry)."""
    return "Adam" if params["optimizer"].get(model, "sgd") == "adam" else "SGD"


def training_text(params: Mapping, model: str) -> str:
    """How ``model`` trains, e.g. ``Adam, lr 0.001, channels-last`` (for sizing notes and
    verdict settings)."""
    optimizer = optimizer_label(params, model)
    parts = [optimizer + (" (momentum 0.9)" if optimizer == "SGD" else ""),
             f"lr {params['lr'][model]:g}"]
    if params["bf16"].get(model, False):
        parts.append("bf16 autocast")
    if params["channels_last"].get(model, False):
        parts.append("channels-last")
    return ", ".join(parts)


def setting(params: Mapping, model: str) -> str:
    """Where a value was measured: model, data, training and densities of ``params``."""
    data = DATASET_LABELS.get(params["dataset"], params["dataset"])
    images = params["train_subset"][model] or "all"
    return (f"{plots.model_label(model)}, {data}, {images} training images, "
            f"{params['epochs'][model]} epoch(s) ({training_text(params, model)}), densities "
            + ", ".join(f"{d:g}" for d in params["densities"][model])
            + f", {params['seeds']} seed(s)")


def _estimate(values: pd.DataFrame, model: str, text: str, what: str) -> Estimate:
    rows = values[values["model.name"] == model]
    total = int(rows["densities"].sum())
    return Estimate.from_samples(rows["value"], setting=text, entered=int(rows["entered"].sum()),
                                 total=total, minimum=max(1, math.ceil(MIN_DENSITY_SHARE * total)),
                                 what=what)


def estimates(frame: pd.DataFrame, params: Mapping) -> dict[str, Estimate]:
    """Claim id (``"R1 · MLP"``) -> :class:`Estimate` over seeds of every claim of
    :data:`METRICS` and model of ``params["models"]``. ``frame``: our masks
    (:func:`.correlations.predictors`)."""
    lowest = {model: min(params["densities"][model]) for model in params["models"]}
    values = claim_values(frame, lowest)
    trained = corr.masks_that_train(frame)
    out = {}
    for model in params["models"]:
        ours = frame[frame["model.name"] == model]
        for claim, rows in values.items():
            text = setting(params, model)
            what = "(density, seed) cells with a value"
            base = claim.removesuffix(TRAINED)
            if base in CORRELATION_METRICS or base == "C1":
                masks = trained[trained["model.name"] == model] if claim.endswith(TRAINED) \
                    else ours
                text += "; " + methods_entered(masks, CORRELATION_METRICS.get(base, "imdb_mean"))
                what = f"(density, seed) correlations with ≥ {corr.MIN_METHODS} methods"
            out[f"{claim} · {plots.model_label(model)}"] = _estimate(rows, model, text, what)
    return out
