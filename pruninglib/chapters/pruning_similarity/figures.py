"""Figures of representation drift (the pruning-similarity chapter), in the book's style.

Inputs are the frames of :mod:`pruninglib.analysis.drift` with the identifying columns of
:func:`pruninglib.chapters.pruning_similarity.finetune.to_frame` (model.name, variant,
density, seed). The variants are the sparse networks of Blakeney et al. (2020), a uniform random
mask, and the dense control; the control (dense networks of other seeds against the reference) is drawn in
grey from its lowest to its highest value with its mean in black (a band, or a box per layer),
so "low similarity" can be read against it.
Similarity is unitless, in [0, 1]; accuracy in percent; compression on a log axis.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from ...book.plots import (
    ACCURACY_LABEL,
    COMPRESSION_LABEL,
    compression_ticks,
    mean_ci,
    model_label,
)

VARIANTS = ("magnitude", "reinit", "random", "uniform")
VARIANT_LABELS = {"dense": "dense, other seed (control)", "magnitude": "pruned + fine-tuned",
                  "reinit": "re-initialised, same mask",
                  "random": "random sparse, same layer sizes",
                  "uniform": "random sparse, uniform density"}
VARIANT_COLORS = {"dense": "#000000", "magnitude": "#0072B2", "reinit": "#CC79A7",
                  "random": "#8c8c8c", "uniform": "#E69F00"}
VARIANT_MARKERS = {"dense": "*", "magnitude": "s", "reinit": "^", "random": "o",
                   "uniform": "D"}
MEASURE_COLORS = {"svcca": "#0072B2", "pwcca": "#009E73", "cka": "#D55E00",
                  "cka_debiased": "#CC79A7"}
MEASURE_LABELS = {"svcca": "SVCCA", "pwcca": "PWCCA", "cka": "linear CKA",
                  "cka_debiased": "linear CKA (debiased)"}
POSITION_LABELS = {"first": "first layer", "middle": "middle layers (mean)",
                   "last": "last layer (logits)"}
SIMILARITY_LABEL = "similarity to the dense reference"


def _control_band(ax, values, orientation: str = "h") -> None:
    """Grey band from min to max of the control values, mean dashed."""
    values = np.asarray([v for v in values if np.isfinite(v)])
    if not len(values):
        return
    span = ax.axhspan if orientation == "h" else ax.axvspan
    line = ax.axhline if orientation == "h" else ax.axvline
    span(values.min(), values.max(), color="black", alpha=0.12, lw=0)
    line(values.mean(), color="black", ls="--", lw=1.2, label=VARIANT_LABELS["dense"])


def _control_by_layer(ax, control) -> None:
    """Per layer, a grey box from the lowest to the highest control value and a black dash
    at their mean."""
    for layer, values in control.groupby("layer_index")["similarity"]:
        ax.fill_between([layer - 0.3, layer + 0.3], values.min(), values.max(),
                        color="black", alpha=0.15, lw=0)
        ax.plot([layer - 0.3, layer + 0.3], [values.mean()] * 2, color="black", lw=1.6,
                label="dense control: mean, range")


def _legend(fig, axes, ncol: int | None = None, below: float = -0.06, order=None) -> None:
    """One legend under the figure with every label of every panel once (sorted by
    ``order(label)`` if given), in one row unless ``ncol`` says otherwise."""
    handles = {}
    for ax in np.ravel(axes):
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    labels = sorted(handles, key=order) if order is not None else list(handles)
    fig.legend([handles[k] for k in labels], labels, loc="lower center",
               ncol=ncol or len(labels), bbox_to_anchor=(0.5, below))


LAYER_LABEL = "layer, input → output (and its number of neurons or channels)"


def _layer_axis(ax, part) -> None:
    """Layers numbered from the input, with their width; similarity from 0 to 1 (CI bars
    of two or three seeds may reach beyond and are cut)."""
    index = sorted(part["layer_index"].unique())
    neurons = part.groupby("layer_index")["neurons"].first()
    ax.set_xticks(index)
    ax.set_xticklabels([f"{i + 1}\n{neurons[i]}" for i in index], fontsize=9)
    ax.set_ylim(-0.03, 1.03)


def similarity_by_layer(sim, *, measure: str = "svcca", variants: Sequence[str] = VARIANTS):
    """Similarity of every layer to the reference: one row of panels per model, one panel per
    variant, one line per density (darker = denser; mean over seeds with 95 % CI bars),
    and the dense-versus-dense control band per layer.

    sim: a drift frame (columns model.name, variant, density, seed, layer_index, neurons,
    measure, similarity) holding the control rows (variant 'dense').
    """
    sim = sim[sim["measure"] == measure]
    models = list(dict.fromkeys(sim["model.name"]))
    fig, axes = plt.subplots(len(models), len(variants), squeeze=False, sharey=True,
                             figsize=(3.6 * len(variants), 3.5 * len(models)))
    everywhere = sorted(sim.loc[sim["variant"] != "dense", "density"].unique(), reverse=True)
    shade = {d: plt.get_cmap("viridis")(0.9 * k / max(1, len(everywhere) - 1))
             for k, d in enumerate(everywhere)}  # one colour per density, in every panel
    for row, model in zip(axes, models):
        part = sim[sim["model.name"] == model]
        control = part[part["variant"] == "dense"]
        densities = [d for d in everywhere if np.isclose(part["density"], d).any()]
        for ax, variant in zip(row, variants):
            _control_by_layer(ax, control)
            rows = part[part["variant"] == variant]
            for density in densities:
                sel = rows[np.isclose(rows["density"], density)]
                if sel.empty:
                    continue
                stats = [(i, *mean_ci(g)) for i, g in sel.groupby("layer_index")["similarity"]]
                x, mean, half = map(np.array, zip(*stats))
                ax.errorbar(x, mean, yerr=half, color=shade[density], marker="o", ms=4,
                            capsize=2, lw=1.4, label=f"{100 * (1 - density):g} % sparse")
            _layer_axis(ax, part)
            ax.set_title(VARIANT_LABELS[variant], fontsize=11)
        row[0].set_ylabel(f"{model_label(model)}\n{MEASURE_LABELS[measure]} to the reference")
    fig.supxlabel(LAYER_LABEL, fontsize=11)
    fig.tight_layout()
    _legend(fig, axes, below=-0.09 / len(models),
            order=lambda label: float(label.split(" %")[0]) if "sparse" in label else -1)
    return fig


def measures_by_layer(sim, density: float, measures: Sequence[str],
                      variants: Sequence[str] = VARIANTS):
    """At one density, every measure (columns) for every model (rows): one line per variant
    (mean over seeds, 95 % CI bars) beside the dense-versus-dense control band per layer."""
    models = list(dict.fromkeys(sim["model.name"]))
    fig, axes = plt.subplots(len(models), len(measures), squeeze=False, sharey=True,
                             figsize=(3.6 * len(measures), 3.5 * len(models)))
    for row, model in zip(axes, models):
        for ax, measure in zip(row, measures):
            part = sim[(sim["model.name"] == model) & (sim["measure"] == measure)]
            control = part[part["variant"] == "dense"]
            _control_by_layer(ax, control)
            for variant in variants:
                sel = part[(part["variant"] == variant) & np.isclose(part["density"], density)]
                if sel.empty:
                    continue
                stats = [(i, *mean_ci(g)) for i, g in sel.groupby("layer_index")["similarity"]]
                x, mean, half = map(np.array, zip(*stats))
                ax.errorbar(x, mean, yerr=half, color=VARIANT_COLORS[variant],
                            marker=VARIANT_MARKERS[variant], ms=5, capsize=2,
                            label=VARIANT_LABELS[variant])
            _layer_axis(ax, part)
            ax.set_title(MEASURE_LABELS[measure], fontsize=11)
        row[0].set_ylabel(f"{model_label(model)}\nsimilarity to the reference")
    fig.supxlabel(LAYER_LABEL, fontsize=11)
    fig.suptitle(f"All layers at {100 * (1 - density):g} % sparsity")
    fig.tight_layout()
    _legend(fig, axes, below=-0.09 / len(models))
    return fig


def similarity_vs_compression(summary, *, position: str = "middle", measure: str = "svcca",
                              variants: Sequence[str] = VARIANTS):
    """Similarity at one layer position (a :func:`pruninglib.analysis.drift.position_means`
    column) against compression, one panel per model: one line per variant (mean over seeds,
    95 % CI bars), the dense-versus-dense control as a band."""
    summary = summary[summary["measure"] == measure]
    models = list(dict.fromkeys(summary["model.name"]))
    fig, axes = plt.subplots(1, len(models), squeeze=False, sharey=True,
                             figsize=(5.2 * len(models), 4.0))
    for ax, model in zip(axes[0], models):
        part = summary[summary["model.name"] == model]
        _control_band(ax, part.loc[part["variant"] == "dense", position])
        for k, variant in enumerate(variants):
            rows = part[part["variant"] == variant]
            if rows.empty:
                continue
            stats = sorted((1 / d, *mean_ci(g)) for d, g in rows.groupby("density")[position])
            x, mean, half = map(np.array, zip(*stats))
            shift = 1.04 ** (k - (len(variants) - 1) / 2)  # side by side at one compression
            ax.errorbar(x * shift, mean, yerr=half, color=VARIANT_COLORS[variant],
                        marker=VARIANT_MARKERS[variant], capsize=3,
                        label=VARIANT_LABELS[variant])
        compression_ticks(ax, "x")
        shown = sorted(1 / part.loc[part["variant"] != "dense", "density"].unique())
        ax.set_xticks(shown, [f"{rho:.3g}×" for rho in shown])
        ax.set_xlabel(COMPRESSION_LABEL)
        ax.set_title(model_label(model))
    axes[0][0].set_ylabel(f"{MEASURE_LABELS[measure]}, {POSITION_LABELS[position]}")
    fig.tight_layout()
    _legend(fig, axes, ncol=2, below=-0.14)
    return fig


def accuracy_vs_similarity(summary, *, position: str = "middle", measure: str = "svcca",
                           reference_accuracy=None, variants: Sequence[str] = VARIANTS):
    """Test accuracy against similarity at one layer position, one panel per model: one
    point per (variant, density), mean over seeds with 95 % CI bars both ways, labelled with
    its sparsity; control networks as black stars; the reference's accuracy dashed.

    summary: position means with a test_accuracy column (in [0, 1]).
    reference_accuracy: model name -> accuracy of the reference network, in [0, 1].
    """
    summary = summary[summary["measure"] == measure]
    models = list(dict.fromkeys(summary["model.name"]))
    fig, axes = plt.subplots(1, len(models), squeeze=False, figsize=(5.2 * len(models), 4.2))
    for ax, model in zip(axes[0], models):
        part = summary[summary["model.name"] == model]
        control = part[part["variant"] == "dense"]
        ax.scatter(control[position], 100 * control["test_accuracy"], marker="*", s=140,
                   color=VARIANT_COLORS["dense"], label=VARIANT_LABELS["dense"], zorder=4)
        for variant in variants:
            for density, g in part[part["variant"] == variant].groupby("density"):
                sx, hx = mean_ci(g[position])
                sy, hy = mean_ci(100 * g["test_accuracy"])
                ax.errorbar(sx, sy, xerr=hx, yerr=hy, color=VARIANT_COLORS[variant],
                            marker=VARIANT_MARKERS[variant], capsize=2,
                            label=VARIANT_LABELS[variant])
                ax.annotate(f"{100 * (1 - density):g}%", (sx, sy), textcoords="offset points",
                            xytext=(4, 3), fontsize=9, color=VARIANT_COLORS[variant])
        if reference_accuracy is not None and model in reference_accuracy:
            ax.axhline(100 * reference_accuracy[model], color="black", ls=":", lw=1,
                       label="dense reference")
        ax.margins(x=0.15, y=0.08)
        ax.set_xlabel(f"{MEASURE_LABELS[measure]}, {POSITION_LABELS[position]}")
        ax.set_title(model_label(model))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2f}"))
    axes[0][0].set_ylabel(ACCURACY_LABEL)
    fig.tight_layout()
    _legend(fig, axes, ncol=3, below=-0.14)
    return fig


def budgets(arms, measures: Sequence[str]):
    """B1b against the fine-tuning budget, one column of panels per model: on top the
    middle-layer similarity gap to the control (pruned minus control; below 0: as different
    as an independently trained network) per measure, below the accuracy the pruning cost;
    mean over references with 95 % CI bars against the epochs per pruning step (log axis),
    learning-rate rewinding as open markers.

    arms: :func:`pruninglib.chapters.pruning_similarity.study.arms_frame`'s columns
    (model.name, arm, epochs, rewound, reference, measure, middle_gap, drop in pp).
    """
    models = list(dict.fromkeys(arms["model.name"]))
    fig, axes = plt.subplots(2, len(models), squeeze=False, sharex=True,
                             figsize=(5.2 * len(models), 6.4))
    for column, model in enumerate(models):
        part = arms[arms["model.name"] == model]
        top, bottom = axes[0][column], axes[1][column]
        top.axhline(0, color="black", ls="--", lw=1, label="dense control (gap 0)")
        for k, measure in enumerate(measures):
            shift = 1.06 ** (k - (len(measures) - 1) / 2)
            for rewound, face in ((False, MEASURE_COLORS.get(measure, "C0")), (True, "white")):
                rows = part[(part["measure"] == measure) & (part["rewound"] == rewound)]
                if rows.empty:
                    continue
                stats = sorted((e, *mean_ci(g)) for e, g in rows.groupby("epochs")["middle_gap"])
                x, mean, half = map(np.array, zip(*stats))
                label = MEASURE_LABELS.get(measure, measure) + (", LR rewound" if rewound else "")
                top.errorbar(x * shift, mean, yerr=half, color=MEASURE_COLORS.get(measure, "C0"),
                             mfc=face, marker="o" if not rewound else "s", capsize=3,
                             ls="-" if not rewound else "none", label=label)
        accuracy = part.drop_duplicates(["arm", "reference"])
        for rewound, face in ((False, "black"), (True, "white")):
            rows = accuracy[accuracy["rewound"] == rewound]
            if rows.empty:
                continue
            stats = sorted((e, *mean_ci(g)) for e, g in rows.groupby("epochs")["drop"])
            x, mean, half = map(np.array, zip(*stats))
            bottom.errorbar(x, mean, yerr=half, color="black", mfc=face,
                            marker="o" if not rewound else "s", capsize=3,
                            ls="-" if not rewound else "none",
                            label="accuracy cost" + (", LR rewound" if rewound else ""))
        bottom.axhline(0, color="black", lw=0.8)
        top.set_title(model_label(model))
        bottom.set_xscale("log")
        bottom.minorticks_off()
        shown = sorted(part["epochs"].unique())
        bottom.set_xticks(shown, [f"{e:g}" for e in shown])
        bottom.set_xlabel("fine-tuning epochs per pruning step")
    axes[0][0].set_ylabel("middle-layer similarity,\npruned − control")
    axes[1][0].set_ylabel("reference − pruned\ntest accuracy (pp)")
    fig.tight_layout()
    _legend(fig, axes, ncol=4, below=-0.1)
    return fig
