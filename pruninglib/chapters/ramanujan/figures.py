"""Figures of the Ramanujan-graph chapter: network metrics against compression, rank
correlations with accuracy against compression (beside the authors' values), and per-layer
metrics against layer density for the masks and their layer-shuffled twins."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...book import plots
from ...book.claims import Estimate

PREDICTOR_STYLE = {
    "imdb_mean": {"color": "#0072B2", "marker": "o", "ls": "-"},
    "delta_r_mean": {"color": "#D55E00", "marker": "s", "ls": "-"},
    "narc_mean": {"color": "#009E73", "marker": "^", "ls": "-"},
    "imdb_density_only": {"color": "#000000", "marker": "x", "ls": "--"},
    "imdb_conv_mean": {"color": "#CC79A7", "marker": "D", "ls": ":"},
}
"""Line style of each predictor of :data:`.correlations.PREDICTORS`."""


def _panels(frame: pd.DataFrame, models: Sequence[str] | None) -> list[str]:
    """The models to draw, in the order given (default: as they first appear)."""
    present = set(frame["model.name"])
    return [m for m in models if m in present] if models is not None \
        else list(dict.fromkeys(frame["model.name"]))


def _legend_below(fig):
    """One legend hanging below the panels with every panel's labels, each once (Conv-4's
    convolutional IMDB is drawn in its panel only); see
    :func:`pruninglib.book.plots.legend_below`."""
    handles, labels = plots.panel_legend_entries(fig)
    return plots.legend_below(fig, handles, labels, ncol=4, offset=0.0, loc="upper center")


def metrics_vs_compression(frame: pd.DataFrame, metrics: Mapping[str, str], *,
                           models: Sequence[str] | None = None):
    """One row of panels per metric (``column -> axis label``), one column per model: the
    network metric of each variant's masks, mean over seeds, against compression 1/density
    (log axis). ``frame``: one row per run with ``model.name``, ``variant``,
    ``prune.density`` and the metric columns. The dotted line is 0 (the Ramanujan /
    "random" boundary of the metrics). ``models``: panel order (default: as in ``frame``)."""
    models = _panels(frame, models)
    fig, axes = plt.subplots(len(metrics), len(models), squeeze=False, sharex="col",
                             figsize=(5.2 * len(models), 2.9 * len(metrics)))
    for j, model in enumerate(models):
        part = frame[frame["model.name"] == model]
        for i, (column, label) in enumerate(metrics.items()):
            ax = axes[i, j]
            for variant in plots.method_order(part["variant"]):
                mean = part[part["variant"] == variant].groupby("prune.density")[column].mean()
                ax.plot(1 / mean.index.to_numpy(), mean.to_numpy(),
                        color=plots.method_color(variant),
                        marker=plots.METHOD_MARKERS.get(variant, "o"),
                        label=plots.method_label(variant))
            ax.axhline(0, color="black", lw=0.8, ls=":")
            plots.compression_ticks(ax, "x")
            ax.set_ylabel(label)
            if i == 0:
                ax.set_title(plots.model_label(model))
            if i == len(metrics) - 1:
                ax.set_xlabel(plots.COMPRESSION_LABEL)
    return _legend_below(fig)


def correlations_vs_compression(correlations: pd.DataFrame, labels: Mapping[str, str], *,
                                authors: Mapping[str, Mapping[float, float]] | None = None,
                                models: Sequence[str] | None = None):
    """One panel per model: Spearman rho(accuracy, predictor) across methods against
    compression, mean over seeds with its 95 % CI (Student t), one line per predictor of
    ``labels``. ``authors``: ``{label: {density: rho}}`` typed in from the paper's data, drawn
    as open grey markers in every panel. ``models``: panel order."""
    models = _panels(correlations, models)
    fig, axes = plt.subplots(1, len(models), squeeze=False, sharey=True,
                             figsize=(5.4 * len(models), 4.3))
    for ax, model in zip(axes[0], models):
        part = correlations[correlations["model.name"] == model]
        for column, label in labels.items():
            rows = part[part["predictor"] == column]
            stats = []
            for density, group in rows.groupby("prune.density"):
                est = Estimate.from_samples(group["rho"])
                if est.n:
                    stats.append((1 / density, est.mean,
                                  est.half_width if est.n > 1 else 0.0))
            if not stats:
                continue
            x, mean, half = map(np.array, zip(*sorted(stats)))
            style = PREDICTOR_STYLE.get(column, {"color": "#666666", "marker": "o", "ls": "-"})
            ax.errorbar(x, mean, yerr=half, capsize=3, label=label, **style)
        for k, (label, values) in enumerate((authors or {}).items()):
            x = [1 / d for d in values]
            ax.plot(x, list(values.values()), ls="none", marker="os"[k % 2], mfc="none",
                    color="#8c8c8c", ms=8, label=label)
        ax.axhline(0, color="black", lw=0.8, ls=":")
        plots.compression_ticks(ax, "x")
        ax.set_ylim(-1.08, 1.08)
        ax.set_xlabel(plots.COMPRESSION_LABEL)
        ax.set_title(plots.model_label(model))
    axes[0, 0].set_ylabel("Spearman ρ(accuracy, predictor)\nacross methods")
    return _legend_below(fig)


def layer_metric_vs_density(layers: pd.DataFrame, metric: str = "imdb", label: str = "IMDB",
                            *, models: Sequence[str] | None = None):
    """One panel per model: the per-layer ``metric`` of every scored layer against the layer's
    density (log axis), coloured by variant for the masks the methods found, grey crosses for
    their layer-shuffled twins (same layer densities, random wiring). ``layers``: a
    :func:`.mask_graphs.graph_layers` frame (both ``shuffled`` values).
    ``models``: panel order."""
    models = _panels(layers, models)
    fig, axes = plt.subplots(1, len(models), squeeze=False, figsize=(5.4 * len(models), 4.3))
    scored = layers[layers[metric].notna()]
    for ax, model in zip(axes[0], models):
        part = scored[scored["model.name"] == model]
        twins = part[part["shuffled"].astype(bool)]
        ax.scatter(twins["density"], twins[metric], marker="x", s=16, color="#c8c8c8",
                   label="layer-shuffled twin", zorder=1)
        found = part[~part["shuffled"].astype(bool)]
        for variant in plots.method_order(found["variant"]):
            rows = found[found["variant"] == variant]
            ax.scatter(rows["density"], rows[metric], s=18, alpha=0.8,
                       color=plots.method_color(variant),
                       marker=plots.METHOD_MARKERS.get(variant, "o"),
                       label=plots.method_label(variant), zorder=2)
        ax.axhline(0, color="black", lw=0.8, ls=":")
        plots.density_ticks(ax, "x")
        ax.set_xlabel("layer density (kept fraction of the layer, log scale)")
        ax.set_ylabel(f"{label} of the layer")
        ax.set_title(plots.model_label(model))
    return _legend_below(fig)
