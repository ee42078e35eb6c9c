"""The chapter's tables and its lines of computed text, shaped from the frames of
:mod:`.sweep`, :mod:`.mask_graphs` and :mod:`.correlations` (plain DataFrames or Markdown
strings; the notebook only displays them).

Frames: ``pruned`` (one row per pruned run: ``model.name``, ``variant``, ``prune.density``,
``seed``, ``test_accuracy``), ``layers`` (:func:`.mask_graphs.graph_layers`) and ``frame``
(:func:`.correlations.predictors`, one row per mask).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from ...book import plots
from ...book.claims import ClaimTable, Estimate
from ...book.parameters import format_seconds
from . import correlations as corr
from .mask_graphs import weight_shares
from .verdicts import CORRELATION_METRICS, TRAINED, training_text


def _density_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Densities as columns, largest first, written ``0.2``."""
    table = table.sort_index(axis=1, ascending=False)
    return table.rename(columns="{:g}".format)


def accuracy_table(pruned: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy in %, mean over seeds: rows (model, variant), columns densities."""
    table = pruned.pivot_table(index=["model.name", "variant"], columns="prune.density",
                               values="test_accuracy").mul(100)
    return _density_columns(table)


def chance_failures(pruned: pd.DataFrame, models: Sequence[str],
                    at_chance: float = corr.AT_CHANCE) -> str:
    """Markdown: per model, how many pruned runs end at chance (accuracy ≤ ``at_chance``)
    and which method at which densities."""
    lines = []
    for model in models:
        part = pruned[pruned["model.name"] == model]
        failed = part[part["test_accuracy"] <= at_chance]
        where = "; ".join(
            f"{plots.method_label(variant)} at d = "
            + ", ".join(f"{d:g}" for d in sorted(rows["prune.density"].unique(), reverse=True))
            for variant, rows in failed.groupby("variant")) or "none"
        lines.append(f"- **{plots.model_label(model)}**: {len(failed)} of {len(part)} pruned "
                     f"runs end at chance level (test accuracy ≤ {100 * at_chance:g} %, "
                     f"10 classes): {where}.")
    return "**Masks that do not train.**\n\n" + "\n".join(lines)


def sizing_text(params: Mapping, pruned: pd.DataFrame, dense: pd.DataFrame) -> str:
    """Markdown: per model, what the parameters run (width, densities, epochs, training
    images, iterative-SNIP rounds, optimiser) and what its runs cost as recorded when they were
    computed (``train_seconds`` and ``prune_seconds``, summed over its dense and pruned
    runs, on whatever machine computed them)."""
    lines = []
    for model in params["models"]:
        runs = pd.concat([pruned[pruned["model.name"] == model],
                          dense[dense["model.name"] == model]])
        size = ("hidden " + "-".join(map(str, params["hidden"])) if model == "mlp"
                else f"width ×{params['widths'].get(model, 1.0):g}")
        images = params["train_subset"][model] or "all"
        count = len(params["densities"][model])
        lines.append(
            f"- **{plots.model_label(model)}** ({size}): {count} "
            f"densit{'y' if count == 1 else 'ies'}, {params['epochs'][model]} epoch(s) on "
            f"{images} training images, "
            f"iterative SNIP with {params['iter_snip_rounds'][model]} rounds, "
            f"{training_text(params, model)}; its "
            f"{len(runs)} runs took {format_seconds(runs['train_seconds'].sum())} of "
            f"training and {format_seconds(runs['prune_seconds'].sum())} of pruning.")
    return "\n".join(lines)


def scored_fraction(layers: pd.DataFrame) -> pd.DataFrame:
    """The fraction of layers whose graph is scored (both mean degrees ≥ 3), mean over seeds:
    rows (model, variant), columns densities. Masks only, not their twins."""
    masks = layers[~layers["shuffled"].astype(bool)]
    table = masks.assign(scored=masks["status"] == "ok").pivot_table(
        index=["model.name", "variant"], columns="prune.density", values="scored")
    return _density_columns(table)


def layer_table(layers: pd.DataFrame, densities: Mapping[str, float]) -> pd.DataFrame:
    """Every masked layer beside its metric, per model at the network density
    ``densities[model]``: rows (model, layer, graph: inputs × outputs, share of the model's
    prunable weights in %), columns (method, ``kept (%)`` | ``IMDB``): the layer's kept
    fraction and its IMDB, mean over seeds (NaN: not scored). Masks only, not their twins."""
    shares = weight_shares(layers).set_index(["model.name", "layer_index"])
    masks = layers[~layers["shuffled"].astype(bool)]
    wanted = masks["model.name"].map(densities)
    masks = masks[(masks["prune.density"] - wanted).abs() <= 1e-12]
    order = plots.method_order(masks["variant"])
    rows = []
    for (model, index), group in masks.groupby(["model.name", "layer_index"], sort=False):
        layer = shares.loc[(model, index)]
        row = {"model": plots.model_label(model), "layer": layer["layer"],
               "graph (inputs × outputs)": f"{layer['dim_in']} × {layer['dim_out']}",
               "share of the weights (%)": f"{100 * layer['share']:.1f}"}
        for variant in order:
            rows_of = group[group["variant"] == variant]
            label = plots.method_label(variant)
            row[(label, "kept (%)")] = 100 * rows_of["density"].mean()
            row[(label, "IMDB")] = rows_of["imdb"].mean()
        rows.append(row)
    table = pd.DataFrame(rows).set_index(["model", "layer", "graph (inputs × outputs)",
                                          "share of the weights (%)"])
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def correlation_table(frame: pd.DataFrame, columns: Mapping[str, str] = corr.PREDICTORS
                      ) -> pd.DataFrame:
    """Spearman ρ(accuracy, predictor) across methods, mean over seeds, written ``ρ (n/m)``
    with the methods that entered (mean over seeds) of those run; "not measured (n/m)" where
    fewer than :data:`.correlations.MIN_METHODS` entered. Rows (model, predictor, masks: all
    or that train), columns densities."""
    parts = []
    for masks, rows in (("all", frame), ("that train", corr.masks_that_train(frame))):
        rho = corr.rank_correlations(rows, columns)
        defined = rho.groupby(["model.name", "predictor"])["n"].transform("max") > 0
        rho = rho[defined]  # a metric a model cannot have (conv layers of an MLP)
        cells = rho.groupby(["model.name", "predictor", "prune.density"]).agg(
            rho=("rho", "mean"), n=("n", "mean"), methods=("methods", "max")).reset_index()
        cells["text"] = [
            (f"{r:+.2f}" if not math.isnan(r) else "not measured") + f" ({n:g}/{m})"
            for r, n, m in zip(cells["rho"], cells["n"], cells["methods"])]
        parts.append(cells.assign(masks=masks))
    cells = pd.concat(parts, ignore_index=True)
    cells["model"] = cells["model.name"].map(plots.model_label)
    cells["predictor"] = pd.Categorical(cells["predictor"].map(columns),
                                        categories=list(columns.values()), ordered=True)
    cells = cells.sort_values(["model.name", "predictor"], kind="stable")
    table = cells.pivot_table(index=["model", "predictor", "masks"], columns="prune.density",
                              values="text", aggfunc="first", sort=False, observed=True)
    return _density_columns(table).fillna("")


SUPPORT = {"R1": ("delta_r_mean",), "R5": ("imdb_mean",),
           "C1": ("imdb_mean", "imdb_density_only")}
"""Claims whose values are rank correlations -> the predictor columns each needs."""

FEW_MASKS = 2 / 3
"""A correlation verdict that fewer than this share of a model's masks enter is named in
:func:`few_masks_text`."""


def support_table(frame: pd.DataFrame, models: Sequence[str]) -> pd.DataFrame:
    """What each correlation verdict rests on: one row per claim of :data:`SUPPORT` (over all
    masks, and ``-trained``: among those that train) and model, with ``correlations`` and
    ``cells`` (the (density, seed) cells with a correlation, of all), ``masks`` and ``run``
    (the masks entering those correlations, of all masks of the model: for C1, the fewer of
    its two correlations) and ``fewest`` (the fewest methods in an entering correlation)."""
    columns = sorted({c for needed in SUPPORT.values() for c in needed})
    rows = []
    for suffix, masks in (("", frame), (TRAINED, corr.masks_that_train(frame))):
        rho = corr.rank_correlations(masks, columns)
        for claim, needed in SUPPORT.items():
            cells = rho[rho["predictor"].isin(needed)].groupby(list(corr.GROUP)).agg(
                defined=("rho", lambda r: bool(r.notna().all())), n=("n", "min")).reset_index()
            for model in models:
                mine = cells[cells["model.name"] == model]
                entered = mine[mine["defined"]]
                rows.append({"claim": f"{claim}{suffix} · {plots.model_label(model)}",
                             "correlations": len(entered), "cells": len(mine),
                             "masks": int(entered["n"].sum()),
                             "run": int((frame["model.name"] == model).sum()),
                             "fewest": int(entered["n"].min()) if len(entered) else 0})
    return pd.DataFrame(rows)


def few_masks_text(support: pd.DataFrame, share: float = FEW_MASKS) -> str:
    """Markdown: the correlation verdicts that fewer than ``share`` of the masks enter, with
    their counts (or that none does)."""
    few = support[support["masks"] < share * support["run"]]
    if few.empty:
        return (f"Every correlation verdict rests on at least {share:.0%} of its model's "
                "masks.")
    items = "; ".join(f"**{r.claim}**: {r.masks} of {r.run} masks in {r.correlations} of "
                      f"{r.cells} correlations (fewest methods in one: {r.fewest})"
                      for r in few.itertuples())
    return (f"These verdicts rest on fewer than {share:.0%} of the masks (the rest are at "
            f"chance, unscored, or in a correlation with too few methods): {items}.")


def authors_correlations(metrics: Mapping[str, str] = CORRELATION_METRICS) -> dict:
    """The authors' Spearman ρ(accuracy, metric) across methods per density, computed from
    their table: ``{"authors' <metric>, <network>": {density: rho}}`` for IMDB (R5) and Δr
    (R1)."""
    frame = corr.authors_frame()
    rho = corr.rank_correlations(frame, list(metrics.values()))
    labels = {column: corr.PREDICTORS[column] for column in metrics.values()}
    return {f"authors' {labels[p]}, {corr.AUTHORS_MODELS[m]}": dict(zip(g["prune.density"],
                                                                        g["rho"]))
            for (m, p), g in rho.groupby(["model.name", "predictor"], sort=False)}


def beside_authors(frame: pd.DataFrame) -> pd.DataFrame:
    """The correlations as the authors' table is computed (accuracy and metric averaged over
    seeds first, then one ρ across methods per density) for our models and, below, for the
    authors' networks (computed from their released table). Rows (source, model,
    predictor), columns ``d = <density>``."""
    parts = []
    for source, masks, labels in (("ours", corr.seed_means(frame), plots.model_label),
                                  ("authors", corr.authors_frame(), corr.AUTHORS_MODELS.get)):
        rho = corr.rank_correlations(masks)
        rho = rho.assign(source=source, model=rho["model.name"].map(labels),
                         predictor=rho["predictor"].map(corr.PREDICTORS))
        parts.append(rho.pivot_table(index=["source", "model", "predictor"],
                                     columns="prune.density", values="rho", sort=False,
                                     dropna=False))
    table = pd.concat(parts).sort_index(axis=1).dropna(how="all")
    table.columns = [f"d = {d:g}" for d in table.columns]
    return table


def partial_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per density, per seed): the partial Spearman ρ(accuracy, IMDB | IMDB of the twin),
    mean over seeds per model and density; and its median over densities per model and seed
    (``value``, ``entered``, ``densities``)."""
    partial = corr.rank_correlations(frame, ["imdb_mean"], given="imdb_density_only")
    table = _density_columns(partial.pivot_table(index="model.name", columns="prune.density",
                                                 values="rho", dropna=False))
    return table, corr.median_over_densities(partial)


def partial_text(per_seed: pd.DataFrame, models: Sequence[str]) -> str:
    """Markdown: the median partial ρ per model, mean ± 95 % CI over seeds."""
    parts = [f"{plots.model_label(m)} "
             + Estimate.from_samples(per_seed.loc[per_seed["model.name"] == m, "value"])
             .format(2) for m in models]
    return ("Median over densities of the partial ρ(accuracy, IMDB | twin's IMDB), mean ± "
            "95 % CI over seeds: " + "; ".join(parts) + ". A positive value means IMDB "
            "orders the methods partly by their wiring, beyond what the layer-wise densities "
            "fix; a value near 0, that it does not.")


def summary_text(results: Mapping[str, Estimate], table: ClaimTable,
                 models: Sequence[str]) -> str:
    """Markdown: per model, the median correlations of the verdicts (all masks and masks
    that train) and every verdict."""
    lines = []
    for model in models:
        label = plots.model_label(model)
        value = {claim: results[f"{claim} · {label}"].format(2) for claim in
                 ("R5", "R1", "C1", "R5" + TRAINED, "R1" + TRAINED, "C1" + TRAINED)}
        correlations = "; ".join(
            f"{name}: {value[claim]} (masks that train: {value[claim + TRAINED]})"
            for claim, name in (("R5", "IMDB"), ("R1", "whole-layer Δr"),
                                ("C1", "IMDB's advantage over its layer-shuffled twin")))
        verdicts = ", ".join(f"{claim_id.split(' · ')[0]} {verdict}"
                             for claim_id, verdict in table.verdicts.items()
                             if claim_id.endswith(f" · {label}"))
        lines.append(f"- **{label}**: median ρ(accuracy, ·) across methods: {correlations}. "
                     f"Verdicts: {verdicts}.")
    return "\n".join(lines)
