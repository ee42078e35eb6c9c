"""One look for every figure of the book, and the figure helpers several chapters share.

Call :func:`use_style` once at the top of a notebook. Every pruning method has one colour,
one marker and one label (:data:`METHOD_COLORS`, :data:`METHOD_MARKERS`,
:data:`METHOD_LABELS`) used in all chapters; the colours are the Okabe-Ito colour-blind safe
palette, and the markers tell methods apart in grey print too. Accuracy is plotted in
percent; compression ratio rho = 1/density on a log axis (the SynFlow paper's convention),
with the density on a second axis.
"""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from .claims import Estimate

# Okabe & Ito (2008), "Color universal design": distinguishable with every common colour-vision
# deficiency. Order: black, orange, sky blue, bluish green, yellow, blue, vermilion,
# reddish purple; plus two greys for the methods that are baselines.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")

METHOD_ORDER = ("dense", "random", "magnitude", "snip", "iter_snip", "grasp", "synflow",
                "uniform", "erk", "smart_ratio", "imp")
METHOD_COLORS = {
    "dense": "#000000",
    "random": "#8c8c8c",
    "magnitude": "#0072B2",
    "snip": "#E69F00",
    "iter_snip": "#8A5A00",     # a dark SNIP orange: iterative SNIP (100 rounds)
    "grasp": "#009E73",
    "synflow": "#D55E00",
    "uniform": "#56B4E9",
    "erk": "#CC79A7",
    "smart_ratio": "#B8A200",   # a darker Okabe-Ito yellow, readable on white
    "imp": "#4d4d4d",
}
METHOD_MARKERS = {
    "dense": "", "random": "o", "magnitude": "s", "snip": "^", "grasp": "v", "synflow": "D",
    "iter_snip": "<", "uniform": "P", "erk": "X", "smart_ratio": "h", "imp": "*",
}
METHOD_LABELS = {
    "dense": "dense", "random": "random", "magnitude": "magnitude", "snip": "SNIP",
    "iter_snip": "iterative SNIP", "grasp": "GraSP", "synflow": "SynFlow", "uniform": "uniform",
    "erk": "ERK", "smart_ratio": "smart ratio", "imp": "IMP",
}
MODEL_LABELS = {
    "lenet_300_100": "LeNet-300-100", "mlp": "MLP", "conv2": "Conv-2", "conv4": "Conv-4",
    "conv6": "Conv-6", "vgg11": "VGG-11", "vgg16": "VGG-16", "vgg19": "VGG-19",
    "resnet20": "ResNet-20", "resnet32": "ResNet-32", "resnet56": "ResNet-56",
    "cnn1d": "1-D CNN",
}

ACCURACY_LABEL = "test accuracy (%)"
COMPRESSION_LABEL = "compression ratio ρ = 1/density (log scale)"
DENSITY_LABEL = "density (kept fraction of weights, log scale)"


def use_style() -> None:
    """The book's matplotlib/seaborn style: white grid, readable fonts, Okabe-Ito colours,
    figures sized for the book's text column and saved at a sharp resolution."""
    sns.set_theme(context="notebook", style="whitegrid", palette=list(OKABE_ITO[1:]),
                  font_scale=1.05)
    mpl.rcParams.update({
        "figure.figsize": (7.0, 4.2),
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 11,
        "legend.fontsize": 10,
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "lines.markersize": 6,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


def method_color(method: str) -> str:
    """The method's colour (a neutral grey for a method not in :data:`METHOD_COLORS`)."""
    return METHOD_COLORS.get(method, "#666666")


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def model_label(model: str) -> str:
    return MODEL_LABELS.get(model, model)


def method_order(methods) -> list[str]:
    """``methods`` sorted in the book's fixed order (unknown ones last, alphabetically)."""
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return sorted(set(methods), key=lambda m: (rank.get(m, len(rank)), m))


def panel_legend_entries(fig) -> tuple[list, list[str]]:
    """(handles, labels) of every distinct label drawn in any panel of ``fig``, first handle
    of each, in drawing order: a series drawn in one panel only is listed too."""
    entries: dict[str, object] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    return list(entries.values()), list(entries)


def legend_below(fig, handles, labels, *, title: str | None = None, ncol: int = 6,
                 offset: float = 0.1, loc: str = "lower center", **legend):
    """Finish a multi-panel figure: one legend centred below the panels (its ``loc`` corner at
    ``offset`` figure heights below the bottom; ``loc="upper center"`` hangs it from there,
    whatever its height), an optional suptitle, tight layout. Returns ``fig``."""
    fig.legend(handles, labels, loc=loc, ncol=min(len(labels), ncol),
               bbox_to_anchor=(0.5, -offset), **legend)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _log_ticks(ax, axis: str, label) -> None:
    """Log scale on ``axis`` ("x" or "y") with major ticks at powers of ten written by
    ``label(value)`` and no minor tick labels."""
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(LogLocator(base=10))
    target.set_major_formatter(FuncFormatter(lambda v, _: label(v)))
    target.set_minor_formatter(NullFormatter())


def compression_ticks(ax, axis: str = "x") -> None:
    """Log scale with ticks written as 1×, 10×, 100× on the compression axis."""
    _log_ticks(ax, axis, lambda v: f"{v:g}×")


def density_ticks(ax, axis: str = "y") -> None:
    """Log scale with ticks written as percentages (100 %, 10 %, 1 %, 0.1 %)."""
    _log_ticks(ax, axis, lambda v: f"{100 * v:g} %")


def mean_ci(values) -> tuple[float, float]:
    """Mean and 95 % CI half-width (Student t) of ``values``; half-width 0 for one value."""
    est = Estimate.from_samples(values)
    half = est.half_width if est.n > 1 else 0.0
    return est.mean, half


def accuracy_vs_compression(runs, dense=None, *, by: str = "model.name",
                            value: str = "test_accuracy", axes=None, title: str | None = None):
    """Accuracy (%) against compression ratio, one panel per value of ``by``.

    runs: a :func:`pruninglib.experiments.sweep` frame of pruned runs (columns
        "prune.method", "prune.density", "seed", ``by`` and ``value`` in [0, 1]).
    dense: the dense runs (same columns), drawn as a black dashed line at ρ = 1 across the
        panel with its 95 % CI band.
    Lines are the mean over seeds; error bars the 95 % CI (Student t). Returns the figure.
    """
    panels = list(dict.fromkeys(runs[by])) if by in runs.columns else [None]
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2),
                                 squeeze=False, sharey=True)
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    for ax, panel in zip(axes, panels):
        part = runs if panel is None else runs[runs[by] == panel]
        for method in method_order(part["prune.method"]):
            rows = part[part["prune.method"] == method]
            stats = [(1.0 / d, *mean_ci(g[value] * 100))
                     for d, g in rows.groupby("prune.density")]
            stats.sort()
            x, mean, half = map(np.array, zip(*stats))
            ax.errorbar(x, mean, yerr=half, color=method_color(method),
                        marker=METHOD_MARKERS.get(method, "o"), capsize=3,
                        label=method_label(method))
        if dense is not None:
            drows = dense if panel is None else dense[dense[by] == panel]
            if len(drows):
                mean, half = mean_ci(drows[value] * 100)
                ax.axhline(mean, color=method_color("dense"), ls="--", lw=1.2,
                           label="dense (unpruned)")
                if half > 0:
                    ax.axhspan(mean - half, mean + half, color=method_color("dense"),
                               alpha=0.08, lw=0)
        compression_ticks(ax, "x")
        ax.set_xlabel(COMPRESSION_LABEL)
        if panel is not None:
            ax.set_title(model_label(str(panel)))
        density_axis_on_top(ax, part["prune.density"])
    axes[0].set_ylabel(ACCURACY_LABEL)
    handles, labels = axes[0].get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] == "dense (unpruned)")
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    return legend_below(fig, handles, labels, title=title, offset=0.08)


def layer_densities(layers, *, density: float | None = None, by: str = "model.name",
                    axes=None, title: str | None = None):
    """Density of every prunable layer (log scale) per method, one panel per ``by`` value.

    layers: a :func:`pruninglib.experiments.layers_frame` frame (columns "layer", "numel",
        "density", "prune.method", "prune.density", "seed", ``by``).
    density: which global density to show (default: the lowest in the frame). The dotted
        line marks it; a layer below the axis' floor has been pruned away entirely
        (layer collapse), shown as a marker at the floor with a ✗.
    Mean over seeds. Layers are numbered from the input, with their number of weights.
    """
    if density is None:
        density = float(layers["prune.density"].min())
    part = layers[np.isclose(layers["prune.density"], density)]
    panels = list(dict.fromkeys(part[by])) if by in part.columns else [None]
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4),
                                 squeeze=False)
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    positive = part.loc[part["density"] > 0, "density"]
    floor = 10 ** math.floor(math.log10(min(positive.min(), density) / 3)) \
        if len(positive) else density / 100
    for ax, panel in zip(axes, panels):
        rows = part if panel is None else part[part[by] == panel]
        names = list(dict.fromkeys(rows["layer"]))
        sizes = rows.groupby("layer")["numel"].first()
        x = np.arange(len(names))
        methods = method_order(rows["prune.method"])
        for k, method in enumerate(methods):
            m = rows[rows["prune.method"] == method]
            mean = m.groupby("layer")["density"].mean().reindex(names).to_numpy()
            offset = (k - (len(methods) - 1) / 2) * 0.12
            shown = np.where(mean > 0, mean, floor)
            ax.plot(x + offset, shown, color=method_color(method),
                    marker=METHOD_MARKERS.get(method, "o"), lw=1.2, label=method_label(method))
            collapsed = mean <= 0
            if collapsed.any():
                ax.scatter(x[collapsed] + offset, shown[collapsed], marker="x", s=80,
                           color=method_color(method), zorder=5)
        ax.axhline(density, color="black", ls=":", lw=1, label=f"global density {density:g}")
        density_ticks(ax, "y")
        ax.set_ylim(floor * 0.7, 1.5)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{k + 1}\n{short_count(sizes[n])}" for k, n in enumerate(names)],
                           fontsize=9)
        ax.set_xlabel("prunable layer, input → output (number of weights)")
        ax.set_ylabel("layer density (kept fraction, log scale)")
        if panel is not None:
            ax.set_title(model_label(str(panel)))
    handles, labels = axes[0].get_legend_handles_labels()
    return legend_below(fig, handles, labels, title=title)


def density_axis_on_top(ax, densities, *, sparsity: bool = False):
    """On a compression-ratio x axis (1/density), a top axis in density, or in sparsity
    (1 - density), written in % and ticked at ``densities`` (the plotted ones) only: a log
    axis's own minor labels would print densities such as 6 × 10⁻² under a "%" heading.
    Returns the secondary axis."""
    top = ax.secondary_xaxis("top", functions=(reciprocal, reciprocal))
    top.set_xticks(sorted({float(d) for d in densities}))
    top.xaxis.set_minor_locator(NullLocator())
    top.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{100 * (1 - v if sparsity else v):.3g} %"))
    top.set_xlabel("sparsity" if sparsity else "density (kept weights)")
    return top


def reciprocal(x):
    """1/x for the density <-> compression axes (matplotlib also probes x = 0)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x > 0, 1.0 / np.maximum(x, 1e-300), np.inf)


def short_count(n) -> str:
    n = int(n)
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} M"
    if n >= 1_000:
        return f"{n / 1e3:.0f} k" if n >= 10_000 else f"{n / 1e3:.1f} k"
    return str(n)


def palette(methods: Sequence[str]) -> dict[str, str]:
    """``{method: colour}`` for seaborn's ``palette=`` argument."""
    return {m: method_color(m) for m in methods}
