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
from . import correlations as corr
from .verdicts import CORRELATION_METRICS, TRAINED


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


def scored_fraction(layers: pd.DataFrame) -> pd.DataFrame:
    """The fraction of layers whose graph is scored (both mean degrees ≥ 3), mean over seeds:
    rows (model, variant), columns densities. Masks only, not their twins."""
    masks = layers[~layers["shuffled"].astype(bool)]
    table = masks.assign(scored=masks["status"] == "ok").pivot_table(
        index=["model.name", "variant"], columns="prune.density", values="scored")
    return _density_columns(table)


def weight_share_table(shares: pd.DataFrame) -> pd.DataFrame:
    """:func:`.mask_graphs.weight_shares` for display: model, layer, graph sides
    (left × right nodes) and the share of the prunable weights in %."""
    return pd.DataFrame({
        "model": shares["model.name"].map(plots.model_label), "layer": shares["layer"],
        "graph (inputs × outputs)": [f"{a} × {b}" for a, b in
                                     zip(shares["dim_in"], shares["dim_out"])],
        "share of the weights (%)": (100 * shares["share"]).round(1)})


def correlation_table(frame: pd.DataFrame, columns: Mapping[str, str] = corr.PREDICTORS
                      ) -> pd.DataFrame:
    """Spearman ρ(accuracy, predictor) across methods, mean over seeds, written ``ρ (n/m)``
    with the methods that entered (mean over seeds) of those run; "not measured (n/m)" where
    fewer than :data:`.correlations.MIN_METHODS` entered. Rows (model, predictor, masks: all
    or that train), columns densities."""
    parts = []
    for masks, rows in (("all", frame), ("that train", corr.masks_that_train(frame))):
        rho = corr.rank_correlations(rows, columns)
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
    table = pd.concat(parts).sort_index(axis=1)
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
