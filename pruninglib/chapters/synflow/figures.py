"""Figures of the layer-collapse chapter (Tanaka et al. 2020): conservation scatter, score
per layer against layer size, remaining-fraction heat maps, critical compressions, and
accuracy against compression with a min-max band over seeds.

Method labels may carry a round count (``"snip@100"``, see :mod:`.collapse`): they
take the base method's colour and marker from :mod:`pruninglib.book.plots`, drawn dashed.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.ticker import NullFormatter

from ...book import plots
from .collapse import collapse_fraction, heatmap_table
from .study import name_with_width


def variant_label(label: str) -> str:
    """'snip@100' -> 'SNIP, 100 rounds'; 'synflow' -> 'SynFlow'."""
    name, _, rounds = label.partition("@")
    text = plots.method_label(name)
    if rounds:
        text += f", {rounds} round" + ("s" if rounds != "1" else "")
    return text


def _style(label: str) -> dict:
    name, _, rounds = label.partition("@")
    return {"color": plots.method_color(name), "marker": plots.METHOD_MARKERS.get(name, "o"),
            "ls": "--" if rounds else "-"}


def _order(labels) -> list[str]:
    rank = {m: i for i, m in enumerate(plots.METHOD_ORDER)}
    return sorted(set(labels), key=lambda m: (rank.get(m.partition("@")[0], len(rank)), m))


def conservation_scatter(flows: Mapping[str, pd.DataFrame], *, title: str | None = None):
    """|incoming| against |outgoing| saliency per hidden unit, log-log, one panel per
    objective; open markers for units whose incoming and outgoing sums differ in sign.

    flows: objective name -> :func:`pruninglib.analysis.saliency.unit_flow_frame`. Points
    are coloured by hidden layer; the dashed line is y = x (Thm 1).
    """
    fig, axes = plt.subplots(1, len(flows), figsize=(3.4 * len(flows), 3.6), squeeze=False)
    for ax, (objective, frame) in zip(axes[0], flows.items()):
        cmap = plt.get_cmap("viridis", max(2, frame["layer_index"].nunique()))
        for k, (index, units) in enumerate(frame.groupby("layer_index")):
            same = (units["incoming"] >= 0) == (units["outgoing"] >= 0)
            for agree, face in ((True, cmap(k)), (False, "none")):
                part = units[same == agree]
                ax.scatter(part["incoming"].abs(), part["outgoing"].abs(), s=10, alpha=0.7,
                           edgecolors=cmap(k), facecolors=face, lw=0.8,
                           label=f"after layer {index + 1}" if agree else None)
        values = np.concatenate([frame["incoming"].abs(), frame["outgoing"].abs()])
        values = values[values > 0]
        low, high = values.min(), values.max()
        ax.plot([low, high], [low, high], color="black", ls="--", lw=1, label="y = x")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_formatter(NullFormatter())
        agree = ((frame["incoming"] >= 0) == (frame["outgoing"] >= 0)).mean()
        ax.set_title(f"{variant_label(objective)}\n(signs agree: {agree:.0%} of units)",
                     fontsize=11)
        ax.set_xlabel("|saliency in| (log)")
    axes[0][0].set_ylabel("|saliency out| (log)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    return plots.legend_below(fig, handles, labels, title=title, ncol=4, offset=0.16,
                              markerscale=2.5)


def score_per_layer(layers: Mapping[str, pd.DataFrame], *, title: str | None = None):
    """Left: each layer's total saliency divided by the mean total over layers (1 for every
    layer under Thm 2). Right: mean |saliency| per weight against layer size, log-log, with
    a slope -1 guide (mean proportional to 1 / size).

    layers: objective name -> :func:`pruninglib.analysis.saliency.layer_frame`.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    width = 0.8 / len(layers)
    for k, (objective, frame) in enumerate(layers.items()):
        style = _style(objective)
        x = frame["layer_index"].to_numpy() + 1
        left.bar(x + (k - (len(layers) - 1) / 2) * width,
                 frame["total"] / frame["total"].mean(), width=width, color=style["color"],
                 label=variant_label(objective))
        right.plot(frame["numel"], frame["mean_abs"], marker=style["marker"],
                   color=style["color"], label=variant_label(objective))
    left.axhline(1, color="black", lw=1, ls=":")
    left.set_xticks(np.arange(1, len(next(iter(layers.values()))) + 1))
    left.set_xlabel("prunable layer, input → output")
    left.set_ylabel("layer's total saliency ÷ mean over layers")
    first = next(iter(layers.values()))
    sizes = np.array([first["numel"].min(), first["numel"].max()], float)
    for objective, frame in layers.items():
        anchor = float(np.exp(np.mean(np.log(frame["mean_abs"] * frame["numel"]))))
        right.plot(sizes, anchor / sizes, color=_style(objective)["color"], lw=0.8, ls=":")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("layer size (weights, log scale)")
    right.set_ylabel("mean |saliency| per weight (log scale)")
    right.plot([], [], color="grey", lw=0.8, ls=":", label="∝ 1 / size (slope −1)")
    right.legend(loc="best", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def remaining_heatmaps(frame: pd.DataFrame, *, methods: Sequence[str] | None = None,
                       title: str | None = None, ncols: int = 4):
    """Fraction of each layer's weights still effective (on an input-output path), layer x
    compression, one panel per method label (mean over seeds, log colour scale).

    frame: a :func:`.collapse.collapse_sweep` frame of one model. A cross: the
    layer keeps no weight at all in some seed (layer collapse); a circle: it keeps weights
    but none on a path (white cells: nothing effective left in any seed). The last column is
    rho_max = N / L. The colour bar takes the first free panel slot. ``title`` defaults to
    "<network ×width>: fraction of each layer left on a path".
    """
    if title is None:
        title = (f"{name_with_width(frame['model.name'].iloc[0], frame['model.width'].iloc[0])}"
                 ": fraction of each layer left on a path")
    methods = _order(frame["method"]) if methods is None else list(methods)
    ncols = min(ncols, len(methods) + 1)
    nrows = math.ceil((len(methods) + 1) / ncols)
    layers = frame.drop_duplicates("layer_index").sort_values("layer_index")
    panel = 0.4 + 0.2 * len(layers)            # inches: a panel's height
    gap, top, bottom = 1.25, 0.8, 0.95          # inches: between rows, above, below
    height = nrows * panel + (nrows - 1) * gap + top + bottom
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharey=True,
                             figsize=(10, height))
    fig.subplots_adjust(left=0.12, right=0.99, wspace=0.12, hspace=gap / panel,
                        top=1 - top / height, bottom=bottom / height)
    positive = frame.loc[frame["effective_density"] > 0, "effective_density"]
    floor = math.floor(math.log10(positive.min())) if len(positive) else -6
    norm = Normalize(vmin=floor, vmax=0)
    direct = collapse_fraction(frame, "kept")
    effective = collapse_fraction(frame, "effective_kept")
    image = None
    for ax, method in zip(axes.flat, methods):
        table = heatmap_table(frame, method)
        with np.errstate(divide="ignore"):
            shown = np.ma.masked_invalid(np.log10(table.to_numpy()))
        image = ax.imshow(shown, aspect="auto", cmap="viridis", norm=norm,
                          interpolation="nearest")
        rhos = list(table.columns)
        cells = (direct[direct["method"] == method]
                 .merge(effective[effective["method"] == method],
                        on=["compression", "layer_index"], suffixes=("_direct", "_effective")))
        crosses = cells[cells["collapsed_fraction_direct"] > 0]
        circles = cells[(cells["collapsed_fraction_direct"] == 0)
                        & (cells["collapsed_fraction_effective"] > 0)]
        for part, marker in ((crosses, "x"), (circles, "o")):
            ax.scatter([rhos.index(r) for r in part["compression"]], part["layer_index"],
                       marker=marker, s=22, lw=1.1, color="black",
                       facecolors="none" if marker == "o" else "black")
        ax.set_xticks(range(len(rhos)))
        ax.set_xticklabels([f"{math.log10(r):g}" if k < len(rhos) - 1 else "max"
                            for k, r in enumerate(rhos)], fontsize=8, rotation=90)
        ax.set_title(variant_label(method), fontsize=10)
        ax.set_xlabel("α (ρ = 10^α)", fontsize=9)
        ax.grid(False)
    axes[0][0].set_yticks(range(len(layers)))
    names = [f"{i + 1} ({plots.short_count(n)})" for i, n in zip(layers["layer_index"],
                                                           layers["numel"])]
    for ax in axes[:, 0]:
        ax.set_yticklabels(names, fontsize=8)
        ax.set_ylabel("layer (weights)", fontsize=9)
    free = list(axes.flat[len(methods):])
    for ax in free:
        ax.axis("off")
    bar = fig.colorbar(image, ax=free[0], fraction=0.6, aspect=12, location="left")
    bar.set_label("log10 effective\nremaining fraction", fontsize=9)
    free[0].text(0.35, 0.5, "× no weight left in\n   some seed (collapse)\n○ weights left, "
                 "none\n   on a path\nwhite: nothing on a\n   path in any seed",
                 transform=free[0].transAxes, fontsize=9, va="center")
    if title:
        fig.suptitle(title, y=1 - 0.25 / height)
    return fig


def critical_compressions(summary: pd.DataFrame, *, title: str | None = None,
                           ncols: int = 2):
    """Critical compression per method, one panel per model: filled dots the direct one
    (a layer keeps no weight), open dots the effective one (a layer keeps no weight on an
    input-output path), one dot per seed; the dashed line is rho_max = N / L.

    summary: :func:`.collapse.collapse_summary`. A method that never collapses on the
    grid sits at the largest tested compression (rho_max); one that collapses at the first
    grid point at 0 (rho = 1).
    """
    models = list(dict.fromkeys(zip(summary["model.name"], summary["model.width"])))
    ncols = min(ncols, len(models))
    nrows = math.ceil(len(models) / ncols)
    methods = _order(summary["method"])
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharey=True,
                             figsize=(9 if ncols > 1 else 5.5,
                                      nrows * (1.0 + 0.4 * len(methods))))
    for ax, (name, width) in zip(axes.flat, models):
        part = summary[(summary["model.name"] == name) & (summary["model.width"] == width)]
        alpha_max = float(part["alpha_max"].iloc[0])
        for y, method in enumerate(methods):
            rows = part[part["method"] == method]
            if rows.empty:
                continue
            jitter = np.linspace(-0.12, 0.12, len(rows)) if len(rows) > 1 else np.zeros(1)
            style = _style(method)
            ax.scatter(rows["alpha_cr"], y - 0.15 + jitter, color=style["color"],
                       marker=style["marker"], s=30, zorder=3)
            ax.scatter(rows["alpha_cr_effective"], y + 0.15 + jitter,
                       facecolors="none", edgecolors=style["color"], marker=style["marker"],
                       s=30, zorder=3)
        ax.axvline(alpha_max, color="black", ls="--", lw=1)
        ax.text(alpha_max, -0.6, "ρ_max", fontsize=9, ha="center", va="bottom")
        ax.set_title(f"{plots.model_label(name)}" + (f" ×{width:g}" if width != 1 else ""),
                     fontsize=11)
        ax.set_xlabel("critical α (ρ = 10^α)")
        ax.set_xlim(-0.2, alpha_max + 0.4)
    for ax in axes.flat[len(models):]:
        ax.axis("off")
    axes[0][0].set_yticks(range(len(methods)))
    axes[0][0].set_yticklabels([variant_label(m) for m in methods])
    axes[0][0].set_ylim(len(methods) - 0.4, -0.8)
    handles = [plt.Line2D([], [], marker="o", color="grey", ls="", label="direct: a layer "
                          "keeps no weight"),
               plt.Line2D([], [], marker="o", color="grey", ls="", markerfacecolor="none",
                          label="effective: no weight on a path")]
    fig.legend(handles=handles, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.06))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def accuracy_band(runs: pd.DataFrame, dense: pd.DataFrame | None = None, *,
                  chance: float | None = None, by: str = "model.name",
                  label: str = "prune.method", title: str | None = None):
    """Test accuracy (%) against compression, one panel per ``by`` value: the line is the mean
    over seeds, the band its min-max range (the paper's Fig. 6 style); dense runs at rho = 1
    join every method's line; the dotted line is chance.

    runs: :func:`pruninglib.runs.experiments.sweep` frame (prune.density, seed, test_accuracy,
    ``by`` and ``label`` columns; ``label`` names the line, e.g. prune.method or the number
    of IMP cycles).
    """
    panels = list(dict.fromkeys(runs[by]))
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(10, 4.4 * ncols + 1), 3.9 * nrows),
                             squeeze=False, sharey=True)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels):
        part = runs[runs[by] == panel]
        base = None
        if dense is not None and len(dense[dense[by] == panel]):
            base = dense.loc[dense[by] == panel, "test_accuracy"] * 100
            ax.axhline(base.mean(), color="black", lw=1, ls="--", label="dense (unpruned)")
        lines = list(dict.fromkeys(part[label])) if label != "prune.method" \
            else plots.method_order(part[label])
        for k, line in enumerate(lines):
            rows = part[part[label] == line]
            stats = (rows.assign(acc=rows["test_accuracy"] * 100,
                                 rho=1 / rows["prune.density"])
                     .groupby("rho")["acc"].agg(["mean", "min", "max"]).sort_index())
            if base is not None:
                start = pd.DataFrame({"mean": [base.mean()], "min": [base.min()],
                                      "max": [base.max()]}, index=[1.0])
                stats = pd.concat([start, stats])
            if label == "prune.method":
                style, name = _style(line), variant_label(line)
            else:
                style = {"color": plt.get_cmap("viridis")(k / max(1, len(lines) - 1)),
                         "marker": "o", "ls": "-"}
                name = f"{label.split('.')[-1]} = {line}"
            ax.plot(stats.index, stats["mean"], label=name, **style)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=style["color"],
                            alpha=0.15, lw=0)
        if chance is not None:
            ax.axhline(100 * chance, color="grey", ls=":", lw=1.2, label="chance")
        plots.compression_ticks(ax, "x")
        ax.set_xlabel(plots.COMPRESSION_LABEL)
        ax.set_title(plots.model_label(str(panel)))
    for ax in axes[:, 0]:
        ax.set_ylabel(plots.ACCURACY_LABEL)
    handles, labels = axes[0][0].get_legend_handles_labels()
    return plots.legend_below(fig, handles, labels, title=title, ncol=4, offset=0.16 / nrows)
