"""Which mask metrics rank the pruning methods as their accuracies do, per density.

Input: :func:`pruninglib.chapters.ramanujan.mask_graphs.graph_summary` of the runs' masks and
of their layer-shuffled twins (one row per run and ``shuffled`` value). :func:`predictors`
joins them into one row per run: the accuracy and every metric of :data:`PREDICTORS`, among
them ``imdb_density_only``, the IMDB of the layer-shuffled mask, which carries the layer-wise
densities and nothing else. The same columns hold the authors' released numbers
(:func:`authors_frame`, ``seed`` -1: their means over seeds), so every function below applies
to both. Then, per model, density and seed, across the methods:

* :func:`rank_correlations`: Spearman rho(accuracy, predictor) (or the partial one, given a
  control column), with ``n``, the methods that entered (both values defined); a correlation
  with fewer than :data:`MIN_METHODS` methods is not computed (NaN);
* :func:`median_over_densities`: one value per model, seed and predictor (the claims'
  metric), with how many densities entered;
* :func:`imdb_advantage`: rho(acc, IMDB) - rho(acc, IMDB of the shuffled mask), median over
  densities: what IMDB knows beyond the layer-wise densities;
* :func:`masks_that_train`: the rows above chance, to compute every correlation again among
  the masks that train (a mask at chance is the easiest to rank).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...analysis.ranks import spearman_by

PREDICTORS = {
    "imdb_mean": "IMDB",
    "delta_r_mean": "whole-layer Δr",
    "narc_mean": "NaRC",
    "imdb_density_only": "IMDB of the shuffled twin (layer densities only)",
    "imdb_conv_mean": "IMDB of the conv layers only",
}
"""Predictor column -> label. The first three are the network means of the reference's
``irm``, ``rm`` and ``random_factor`` (see :mod:`pruninglib.analysis.graphs`); the last is
undefined for a network without convolutions (its correlations enter no table)."""

GROUP = ("model.name", "prune.density", "seed")
"""One rank correlation per group: the methods of one model, density and seed."""

PER_SEED = ("model.name", "seed")
"""One value of a claim's metric per model and seed (the replicate)."""

MIN_METHODS = 4
"""Fewest methods a rank correlation across methods is computed from: with 3, Spearman's rho
takes only the values ±0.5 and ±1."""

AT_CHANCE = 0.11
"""Test accuracy (fraction) at or below which a mask counts as not training: chance is 0.10
with 10 classes (Fashion-MNIST, CIFAR-10), plus one point."""

AUTHORS_MODELS = {"resnet34": "ResNet-34", "vgg16": "VGG-16"}
"""The authors' networks (model names of :func:`authors_frame`) and their labels."""

_AUTHORS_COLUMNS = {"model": "model.name", "method": "variant", "density": "prune.density",
                    "accuracy": "test_accuracy", "imdb": "imdb_mean",
                    "delta_r": "delta_r_mean", "narc": "narc_mean",
                    "ramanujan_by_imdb": "perc_ram_by_imdb",
                    "ramanujan_by_delta_r": "perc_ram_by_delta_r"}


def predictors(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per run (not shuffled) of a ``graph_summary`` frame holding both the runs and
    their shuffled twins, with ``imdb_density_only``: the twin's ``imdb_mean``."""
    real = summary[~summary["shuffled"].astype(bool)].drop(columns="shuffled")
    twins = summary[summary["shuffled"].astype(bool)][["key", "imdb_mean"]]
    return real.merge(twins.rename(columns={"imdb_mean": "imdb_density_only"}), on="key",
                      how="left", validate="one_to_one")


def authors_frame(reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """The authors' summary table (:func:`pruninglib.book.reference.ramanujan_summary`) in
    this chapter's columns: ``model.name`` (resnet34, vgg16), ``variant``, ``prune.density``,
    ``seed`` (-1: their values are means over 3 seeds), ``test_accuracy`` (fraction),
    ``imdb_mean``, ``delta_r_mean``, ``narc_mean``, ``perc_ram_by_imdb``,
    ``perc_ram_by_delta_r``. No twin column: the authors have no shuffled masks."""
    if reference is None:
        from ...book.reference import ramanujan_summary

        reference = ramanujan_summary()
    frame = reference.rename(columns=_AUTHORS_COLUMNS)[list(_AUTHORS_COLUMNS.values())]
    return frame.assign(seed=-1)


def masks_that_train(frame: pd.DataFrame, at_chance: float = AT_CHANCE) -> pd.DataFrame:
    """The rows whose ``test_accuracy`` is above ``at_chance`` (:data:`AT_CHANCE`)."""
    return frame[frame["test_accuracy"] > at_chance]


def rank_correlations(frame: pd.DataFrame, columns: Sequence[str] | Mapping = PREDICTORS,
                      *, by: Sequence[str] = GROUP, given: str | None = None,
                      min_methods: int = MIN_METHODS) -> pd.DataFrame:
    """Spearman rho(``test_accuracy``, column) across the rows of each ``by`` group, for every
    column present in ``frame``: the ``by`` columns, ``predictor``, ``rho``, ``n`` (methods
    with both values) and ``methods`` (rows of the group). ``rho`` is NaN where fewer than
    ``min_methods`` methods entered. ``given``: a control column (partial Spearman, see
    :mod:`pruninglib.analysis.ranks`)."""
    frames = []
    for column in (c for c in columns if c in frame.columns):
        rho = spearman_by(frame, "test_accuracy", column, list(by), given=given)
        size = frame.groupby(list(by), sort=True).size().rename("methods").reset_index()
        rho = rho.merge(size, on=list(by), how="left").assign(predictor=column)
        rho.loc[rho["n"] < min_methods, "rho"] = float("nan")
        frames.append(rho)
    out = pd.concat(frames, ignore_index=True)
    return out[[*by, "predictor", "rho", "n", "methods"]]


def median_over_densities(correlations: pd.DataFrame) -> pd.DataFrame:
    """Per model, seed and predictor: ``value``, the median ``rho`` over the densities where
    it is defined; ``entered`` (those densities) and ``densities`` (all)."""
    grouped = correlations.groupby([*PER_SEED, "predictor"], as_index=False)
    return grouped.agg(value=("rho", "median"), entered=("rho", "count"),
                       densities=("rho", "size"))


def imdb_advantage(correlations: pd.DataFrame, *, metric: str = "imdb_mean",
                   control: str = "imdb_density_only") -> pd.DataFrame:
    """Per model and seed: ``value``, the median over densities of rho(acc, ``metric``) minus
    rho(acc, ``control``) from :func:`rank_correlations`, with ``entered`` (densities where
    both are defined) and ``densities``."""
    wide = (correlations.set_index([*GROUP, "predictor"])["rho"].unstack("predictor")
            .reset_index())
    wide["rho"] = wide[metric] - wide[control]
    return median_over_densities(wide.assign(predictor=f"{metric} - {control}")) \
        .drop(columns="predictor")


def seed_means(frame: pd.DataFrame, columns: Sequence[str] = PREDICTORS) -> pd.DataFrame:
    """Accuracy and ``columns`` averaged over seeds per model, variant and density (as the
    authors' summary table), with ``seed`` = -1 so that :func:`rank_correlations` applies."""
    present = [c for c in columns if c in frame.columns]
    means = frame.groupby(["model.name", "variant", "prune.density"], as_index=False)[
        ["test_accuracy", *present]].mean()
    return means.assign(seed=-1)
