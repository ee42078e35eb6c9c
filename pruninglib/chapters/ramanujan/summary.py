"""The Ramanujan-graph chapter (Hoang et al. 2023; Cunegatti et al.'s counter-claim): which mask
metrics rank the pruning methods as their accuracies do, per density.

Input: :func:`pruninglib.analysis.mask_graphs.graph_summary` of the runs' masks and of their
layer-shuffled twins (one row per run and ``shuffled`` value). :func:`predictors` joins them
into one row per run: the accuracy and every metric of :data:`PREDICTORS`, among them
``imdb_density_only``, the IMDB of the layer-shuffled mask, which carries the layer-wise
densities and nothing else. Then, per model, density and seed, across the methods:

* :func:`rank_correlations`: Spearman rho(accuracy, predictor) (or the partial one, given a
  control column), one row per group and predictor;
* :func:`median_over_densities`: one value per model, seed and predictor (the claims' metric);
* :func:`imdb_advantage`: rho(acc, IMDB) - rho(acc, IMDB of the shuffled mask), median over
  densities: what IMDB knows beyond the layer-wise densities;
* :func:`random_wiring_on_top`: the fraction of densities at which the mask with the largest
  whole-layer Delta_r is one with random wiring (random or ERK);
* :func:`ramanujan_gain`: the fraction of layers Ramanujan by IMDB minus by Delta_r, mean over
  methods, at one density;
* :func:`random_narc`: the NaRC of the random masks, median over densities.

Each of the last four returns one row per (model, seed) with a ``value`` column, ready for
:func:`pruninglib.claims.estimate`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...analysis.ranks import argmax_by, spearman_by

PREDICTORS = {
    "imdb_mean": "IMDB",
    "delta_r_mean": "whole-layer Δr",
    "narc_mean": "NaRC",
    "imdb_density_only": "IMDB of the shuffled twin (layer densities only)",
}
"""Predictor column -> label. The first three are the network means of the reference's
``irm``, ``rm`` and ``random_factor`` (see :mod:`pruninglib.analysis.graphs`)."""

RANDOM_WIRING = ("random", "erk")
"""Variants whose masks are drawn at random within each layer."""

GROUP = ("model.name", "prune.density", "seed")
"""One rank correlation per group: the methods of one model, density and seed."""

_PER_SEED = ["model.name", "seed"]


def predictors(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per run (not shuffled) of a ``graph_summary`` frame holding both the runs and
    their shuffled twins, with ``imdb_density_only``: the twin's ``imdb_mean``."""
    real = summary[~summary["shuffled"].astype(bool)].drop(columns="shuffled")
    twins = summary[summary["shuffled"].astype(bool)][["key", "imdb_mean"]]
    return real.merge(twins.rename(columns={"imdb_mean": "imdb_density_only"}), on="key",
                      how="left", validate="one_to_one")


def rank_correlations(frame: pd.DataFrame, columns: Sequence[str] | Mapping = PREDICTORS,
                      *, by: Sequence[str] = GROUP, given: str | None = None) -> pd.DataFrame:
    """Spearman rho(``test_accuracy``, column) across the rows of each ``by`` group, for every
    column: the ``by`` columns, ``predictor``, ``rho``, ``n`` (methods with both values).
    ``given``: a control column (partial Spearman, see :mod:`pruninglib.analysis.ranks`)."""
    frames = [spearman_by(frame, "test_accuracy", column, list(by), given=given)
              .assign(predictor=column) for column in columns]
    out = pd.concat(frames, ignore_index=True)
    return out[[*by, "predictor", "rho", "n"]]


def median_over_densities(correlations: pd.DataFrame) -> pd.DataFrame:
    """Median ``rho`` over densities (NaN ones skipped) per model, seed and predictor; the
    column is named ``value``."""
    return (correlations.groupby([*_PER_SEED, "predictor"], as_index=False)["rho"].median()
            .rename(columns={"rho": "value"}))


def imdb_advantage(correlations: pd.DataFrame, *, metric: str = "imdb_mean",
                   control: str = "imdb_density_only") -> pd.DataFrame:
    """Per model and seed: the median over densities of rho(acc, ``metric``) minus
    rho(acc, ``control``), from :func:`rank_correlations` (densities where either is NaN are
    skipped)."""
    wide = correlations.pivot_table(index=list(GROUP), columns="predictor", values="rho",
                                    dropna=False).reset_index()
    wide["value"] = wide[metric] - wide[control]
    return wide.groupby(_PER_SEED, as_index=False)["value"].median()


def random_wiring_on_top(frame: pd.DataFrame, *, metric: str = "delta_r_mean",
                         random: Sequence[str] = RANDOM_WIRING) -> pd.DataFrame:
    """Per model and seed: the fraction of densities at which the variant with the largest
    ``metric`` is one of ``random`` (densities where no variant has a value are left out)."""
    best = argmax_by(frame, metric, list(GROUP), "variant")
    best["value"] = best["variant"].isin(list(random)).astype(float)
    return best.groupby(_PER_SEED, as_index=False)["value"].mean()


def ramanujan_gain(frame: pd.DataFrame, density: float | Mapping[str, float]) -> pd.DataFrame:
    """Per model and seed, at ``density`` (one value, or one per model): the fraction of layers
    Ramanujan by IMDB minus the fraction Ramanujan by the whole-layer Delta_r (both > 0, an
    unscored layer counting as not Ramanujan, as the reference counts), mean over variants."""
    wanted = frame["model.name"].map(density) if isinstance(density, Mapping) else density
    rows = frame[(frame["prune.density"] - wanted).abs() <= 1e-12].copy()
    rows["value"] = rows["perc_ram_by_imdb"] - rows["perc_ram_by_delta_r"]
    return rows.groupby(_PER_SEED, as_index=False)["value"].mean()


def random_narc(frame: pd.DataFrame, *, variant: str = "random") -> pd.DataFrame:
    """Per model and seed: the median over densities of the ``variant`` masks' NaRC (network
    mean; the code's docstring reads NaRC <= 0 as "random")."""
    rows = frame[frame["variant"] == variant]
    return (rows.groupby(_PER_SEED, as_index=False)["narc_mean"].median()
            .rename(columns={"narc_mean": "value"}))


def seed_means(frame: pd.DataFrame, columns: Sequence[str] = PREDICTORS) -> pd.DataFrame:
    """Accuracy and ``columns`` averaged over seeds per model, variant and density (as the
    authors' summary table), with ``seed`` = -1 so that :func:`rank_correlations` applies."""
    means = frame.groupby(["model.name", "variant", "prune.density"], as_index=False)[
        ["test_accuracy", *columns]].mean()
    return means.assign(seed=-1)
