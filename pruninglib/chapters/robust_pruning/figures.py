"""Figures of signal propagation and of pruning by initialisation phase (Hayou et al. 2021).

The phase of an initialisation (ordered, Edge of Chaos, chaotic) has one colour in every
figure (:data:`PHASE_COLORS`, Okabe-Ito like :mod:`pruninglib.book.plots`); call
:func:`pruninglib.book.plots.use_style` first. Lines are means over seeds with 95 % Student-t
confidence intervals. The generic panels (:func:`layer_profiles`,
:func:`metric_vs_compression`, :func:`metric_vs_depth`) draw tidy frames; the chapter's
figures (:func:`pruned_layers`, :func:`accuracy_by_init`, :func:`rescaling_accuracy`,
:func:`residual_by_depth`, :func:`residual_layers`) choose what they show.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, NullFormatter

from ...book.plots import (
    COMPRESSION_LABEL,
    compression_ticks,
    density_ticks,
    mean_ci,
    method_color,
    method_label,
    panel_legend_entries,
)
from . import tables
from .inits import PHASES

PHASE_COLORS = {"ordered": "#0072B2", "near_ordered": "#56B4E9", "eoc": "#009E73",
                "near_chaotic": "#E69F00", "chaotic": "#D55E00"}
PHASE_MARKERS = {"ordered": "v", "near_ordered": "<", "eoc": "o", "near_chaotic": ">",
                 "chaotic": "^"}
PHASE_LABELS = {"ordered": "ordered", "near_ordered": "near-critical, χ < 1",
                "eoc": "Edge of Chaos", "near_chaotic": "near-critical, χ > 1",
                "chaotic": "chaotic"}
MARK_STYLES = {  # points on the phase diagrams: (label, marker, colour)
    "our_eoc": ("our EOC point", "*", PHASE_COLORS["eoc"]),
    "reference_eoc": ("authors' code's EOC point", "X", "black"),
    "ordered": ("ordered init used here", PHASE_MARKERS["ordered"], PHASE_COLORS["ordered"]),
    "chaotic": ("chaotic init used here", PHASE_MARKERS["chaotic"], PHASE_COLORS["chaotic"]),
}
CHANCE = 0.1  # test accuracy of a guess on the 10 classes


def phase_color(phase: str) -> str:
    return PHASE_COLORS.get(phase, "#666666")


def phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, str(phase))


def _grid(rows: Sequence, cols: Sequence, width: float = 4.6, height: float = 3.7,
          **kwargs):
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(width * len(cols),
                                                             height * len(rows)),
                             squeeze=False, **kwargs)
    return fig, axes


def _legend_below(fig, offset: float = 0.0, ncol: int = 5) -> None:
    """One legend under the figure with every distinct label of the panels."""
    handles, labels = panel_legend_entries(fig)
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), ncol),
               bbox_to_anchor=(0.5, offset))


def _title(row, col) -> str:
    return f"{row}, {col}"


def phase_diagrams(diagrams: Mapping[str, object], curves: Mapping[str, tuple],
                   points=None, chi_range: tuple[float, float] = (0.25, 4.0)):
    """chi over the (sigma_b, sigma_w) plane, one panel per activation.

    diagrams: activation -> :func:`pruninglib.analysis.eoc.phase_diagram` frame.
    curves: activation -> (sigma_bs, sigma_ws) of the EOC curve (NaN where there is none).
    points: optional frame with columns activation, sigma_b, sigma_w and mark (a key of
        :data:`MARK_STYLES`): points drawn on top (:func:`.inits.phase_diagram_data`).
    Colour: chi on a log scale clipped to ``chi_range`` (blue ordered, red chaotic).
    """
    names = list(diagrams)
    fig, axes = _grid([0], names, width=4.6, height=4.2, sharey=True)
    norm = LogNorm(*chi_range)
    mesh = None
    for ax, name in zip(axes[0], names):
        frame = diagrams[name]
        bs, ws = np.unique(frame["sigma_b"]), np.unique(frame["sigma_w"])
        chi = frame.pivot(index="sigma_w", columns="sigma_b", values="chi").to_numpy()
        mesh = ax.pcolormesh(bs, ws, np.clip(chi, *chi_range), norm=norm, cmap="RdBu_r",
                             shading="nearest", rasterized=True)
        sigma_bs, sigma_ws = curves[name]
        ax.plot(sigma_bs, sigma_ws, color="black", lw=2.2, label="Edge of Chaos (χ = 1)")
        if points is not None:
            for _, p in points[points["activation"] == name].iterrows():
                label, marker, color = MARK_STYLES[p["mark"]]
                big = marker == "*"  # drawn large and first: other marks may sit on it
                ax.scatter(p["sigma_b"], p["sigma_w"], marker=marker, s=260 if big else 70,
                           color=color, edgecolor="white", linewidth=1.0,
                           zorder=4 if big else 5, label=label)
        ax.set_title(name)
        ax.set_xlabel("bias standard deviation σ_b")
        box = dict(boxstyle="round,pad=0.2", facecolor="white", alpha=0.8, lw=0)
        ax.text(0.04, 0.95, "chaotic (χ > 1)", transform=ax.transAxes, va="top",
                color="#7a1d0f", fontweight="bold", bbox=box)
        ax.text(0.96, 0.05, "ordered (χ < 1)", transform=ax.transAxes, ha="right",
                color="#0b3d6b", fontweight="bold", bbox=box)
    axes[0, 0].set_ylabel("weight scale σ_w")
    bar = fig.colorbar(mesh, ax=axes[0].tolist(), shrink=0.9, pad=0.02)
    bar.set_label("χ = σ_w² E[φ'(√q* z)²] (log scale)")
    ticks = [t for t in (0.25, 0.5, 1, 2, 4) if chi_range[0] <= t <= chi_range[1]]
    bar.set_ticks(ticks)
    bar.set_ticklabels([f"{t:g}" for t in ticks])
    bar.ax.yaxis.set_minor_formatter(NullFormatter())
    _legend_below(fig, offset=-0.03, ncol=3)
    return fig


def propagation(theory, measured, *, quantities: Sequence[str] = ("c", "q"),
                labels: Mapping[str, str] | None = None):
    """Correlation (and variance) of input pairs against depth: mean-field theory (lines)
    and measured on random networks (markers: mean over pairs, band: 5-95 % of pairs).

    theory: frame with columns activation, phase, layer, and each of ``quantities``.
    measured: frame with the same columns, one row per (pair, layer).
    One column of panels per activation, one row per quantity; 'q' is drawn on a log axis.
    """
    labels = {"c": "correlation $c^l$ of two inputs", "q": "variance $q^l$ (log scale)",
              **(labels or {})}
    activations = list(dict.fromkeys(theory["activation"]))
    fig, axes = _grid(quantities, activations, width=4.8, height=3.4, sharex=True)
    for col, name in enumerate(activations):
        for row, quantity in enumerate(quantities):
            ax = axes[row, col]
            for phase in PHASES:
                part = theory[(theory["activation"] == name) & (theory["phase"] == phase)]
                if part.empty:
                    continue
                color = phase_color(phase)
                ax.plot(part["layer"], part[quantity], color=color,
                        label=f"{phase_label(phase)}: theory")
                got = measured[(measured["activation"] == name)
                               & (measured["phase"] == phase)].groupby("layer")[quantity]
                mean, low, high = got.mean(), got.quantile(0.05), got.quantile(0.95)
                ax.scatter(mean.index, mean, color=color, marker=PHASE_MARKERS[phase], s=14,
                           label=f"{phase_label(phase)}: measured")
                ax.fill_between(mean.index, low, high, color=color, alpha=0.15, lw=0)
            if quantity == "q":
                ax.set_yscale("log")
            ax.set_ylabel(labels[quantity])
            if row == 0:
                ax.set_title(name)
            if row == len(quantities) - 1:
                ax.set_xlabel("layer $l$")
    fig.tight_layout()
    _legend_below(fig, ncol=3)
    return fig


def layer_profiles(layers, *, row: str, col: str, hue: str = "phase", floor: float | None = None,
                   global_density: float | None = None, title=_title,
                   colors: Mapping | None = None, labels: Mapping | None = None):
    """Density of every prunable layer (log scale) against its index, one line per ``hue``
    value (mean over seeds), panels by ``row`` x ``col`` values.

    layers: :func:`pruninglib.experiments.layers_frame` rows with extra columns ``row``,
        ``col``, ``hue`` (e.g. activation, method, phase). A layer with no weight left in
        every seed (collapsed) is drawn at ``floor`` with a cross.
    global_density: drawn as a dotted line. title: (row value, col value) -> panel title.
    colors / labels: keyed by the ``hue`` values (default: the phases).
    """
    colors = colors or PHASE_COLORS
    labels = labels or PHASE_LABELS
    rows, cols = list(dict.fromkeys(layers[row])), list(dict.fromkeys(layers[col]))
    fig, axes = _grid(rows, cols, width=4.8, height=3.3, sharex=True, sharey=True)
    positive = layers.loc[layers["density"] > 0, "density"]
    if floor is None:
        floor = 10 ** math.floor(math.log10(positive.min() / 3)) if len(positive) else 1e-4
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ax = axes[i, j]
            part = layers[(layers[row] == r) & (layers[col] == c)]
            for key in [k for k in colors if k in set(part[hue])]:
                mean = part[part[hue] == key].groupby("layer_index")["density"].mean()
                x = mean.index.to_numpy() + 1
                shown = np.where(mean > 0, mean, floor)
                color = colors[key]
                ax.plot(x, shown, color=color, lw=1.4, label=labels.get(key, str(key)))
                dead = mean.to_numpy() <= 0
                if dead.any():
                    ax.scatter(x[dead], shown[dead], marker="x", s=36, color=color, zorder=5,
                               label="layer pruned away (collapse)")
            if global_density is not None:
                ax.axhline(global_density, color="black", ls=":", lw=1,
                           label=f"global density {global_density:g}")
            density_ticks(ax, "y")
            ax.set_ylim(floor * 0.6, 1.6)
            ax.set_title(title(r, c))
            if i == len(rows) - 1:
                ax.set_xlabel("prunable layer, input → output")
            if j == 0:
                ax.set_ylabel("layer density (log scale)")
    fig.tight_layout()
    _legend_below(fig)
    return fig


def metric_vs_compression(runs, *, row: str, col: str, hue: str = "phase",
                          value: str = "test_accuracy", ylabel: str = "test accuracy (%)",
                          scale: float = 100.0, chance: float | None = None,
                          colors: Mapping | None = None, markers: Mapping | None = None,
                          labels: Mapping | None = None, title=_title,
                          ylim: tuple[float, float] | None = None):
    """``value`` x ``scale`` (mean and 95 % CI over seeds) against compression 1/density on a
    log axis, one line per ``hue`` value, panels by ``row`` x ``col``; the unpruned network
    is the point at compression 1 (density 1). ``chance`` draws a grey dashed line;
    ``colors`` / ``markers`` / ``labels`` are keyed by the ``hue`` values (default: phases);
    ``title(row value, col value)`` names a panel; ``ylim`` fixes the value axis."""
    colors = colors or PHASE_COLORS
    markers = markers or PHASE_MARKERS
    labels = labels or PHASE_LABELS
    rows, cols = list(dict.fromkeys(runs[row])), list(dict.fromkeys(runs[col]))
    fig, axes = _grid(rows, cols, width=4.6, height=3.4, sharex=True, sharey=True)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ax = axes[i, j]
            part = runs[(runs[row] == r) & (runs[col] == c)]
            for key in [k for k in colors if k in set(part[hue])]:
                stats = sorted((1 / d, *mean_ci(g[value] * scale))
                               for d, g in part[part[hue] == key].groupby("prune.density"))
                x, mean, half = map(np.array, zip(*stats))
                ax.errorbar(x, mean, yerr=half, color=colors[key], marker=markers.get(key, "o"),
                            capsize=3, label=labels.get(key, str(key)))
            if chance is not None:
                ax.axhline(chance * scale, color="#8c8c8c", ls="--", lw=1, label="chance")
            compression_ticks(ax, "x")
            if ylim is not None:
                ax.set_ylim(*ylim)
            ax.set_title(title(r, c))
            if i == len(rows) - 1:
                ax.set_xlabel(COMPRESSION_LABEL)
            if j == 0:
                ax.set_ylabel(ylabel)
    fig.tight_layout()
    _legend_below(fig)
    return fig


def metric_vs_depth(runs, *, depth: str, hue: str, col: str, colors: Mapping, labels: Mapping,
                    value: str = "test_accuracy", scale: float = 100.0,
                    ylabel: str = "test accuracy (%)", xlabel: str = "depth",
                    chance: float | None = None, col_label=str,
                    ylim: tuple[float, float] | None = None):
    """``value`` x ``scale`` (mean and 95 % CI over seeds) against ``depth`` (log2 axis),
    one line per ``hue`` value (``colors``/``labels`` keyed by it), one panel per ``col``;
    ``ylim`` fixes the value axis."""
    cols = list(dict.fromkeys(runs[col]))
    fig, axes = _grid([0], cols, width=4.2, height=3.5, sharey=True)
    for ax, c in zip(axes[0], cols):
        part = runs[runs[col] == c]
        for key in [k for k in colors if k in set(part[hue])]:
            stats = sorted((d, *mean_ci(g[value] * scale))
                           for d, g in part[part[hue] == key].groupby(depth))
            x, mean, half = map(np.array, zip(*stats))
            ax.errorbar(x, mean, yerr=half, color=colors[key], marker="o", capsize=3,
                        label=labels[key])
        if chance is not None:
            ax.axhline(chance * scale, color="#8c8c8c", ls="--", lw=1, label="chance")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(sorted(set(part[depth])))
        ax.set_xlabel(xlabel)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_title(col_label(c))
    axes[0, 0].set_ylabel(ylabel)
    fig.tight_layout()
    _legend_below(fig)
    return fig


# -- the chapter's figures ------------------------------------------------------------------
def _criterion_title(activation, method) -> str:
    return f"{activation}, {method_label(method)}"


def pruned_layers(train_layers, density: float):
    """Density of every layer the SNIP / magnitude criteria keep at ``density`` in the
    trained MLPs (no rescaling), one line per phase; panels by activation x criterion."""
    return layer_profiles(tables.plain_profiles(train_layers, density), row="activation",
                          col="prune.method", global_density=density, title=_criterion_title)


def accuracy_by_init(train_runs, methods: Sequence[str]):
    """Test accuracy (%) of the MLPs without rescaling against compression, one line per
    phase (the dense net at compression 1); panels by activation x criterion."""
    runs = tables.with_dense_points(train_runs, methods)
    return metric_vs_compression(runs[runs["prune.rescale"] == "none"], row="activation",
                                 col="prune.method", chance=CHANCE, title=_criterion_title,
                                 ylim=(0, 100))


def rescaling_accuracy(train_runs, methods: Sequence[str]):
    """Test accuracy (%) of the EOC MLPs with (dashed, squares) and without rescaling,
    against compression, one line per criterion; one panel per activation."""
    keys = [(m, r) for m in methods for r in ("none", "fan_in")]
    colors = {f"{m} / {r}": method_color(m) for m, r in keys}
    markers = {f"{m} / {r}": ("o" if r == "none" else "s") for m, r in keys}
    labels = {f"{m} / {r}": f"{method_label(m)}{' + rescaling' if r == 'fan_in' else ''}"
              for m, r in keys}
    fig = metric_vs_compression(tables.eoc_variants(train_runs, methods).assign(panel="EOC"),
                                row="activation", col="panel", hue="variant", chance=CHANCE,
                                colors=colors, markers=markers, labels=labels,
                                title=lambda a, _: f"{a}, Edge of Chaos init", ylim=(0, 100))
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_marker() == "s":
                line.set_linestyle("--")
    return fig


RESIDUAL_COLORS = {"standard dense": "#8c8c8c", "Stable dense": "#000000",
                   "standard snip": method_color("snip"), "Stable snip": PHASE_COLORS["eoc"]}
RESIDUAL_LABELS = {"standard dense": "standard, dense", "Stable dense": "Stable, dense",
                   "standard snip": "standard + SNIP", "Stable snip": "Stable + SNIP (SBP-SR)"}


def residual_by_depth(res_runs, densities: Sequence[float]):
    """Test accuracy (%) of standard and Stable residual nets, dense and SNIP-pruned,
    against the number of residual blocks; one panel per density."""
    return metric_vs_depth(
        tables.residual_panels(res_runs, densities), depth="blocks", hue="variant",
        col="panel", colors=RESIDUAL_COLORS, labels=RESIDUAL_LABELS,
        xlabel="residual blocks L (log scale)", chance=CHANCE,
        col_label=lambda d: f"SNIP at {tables.sparsity(d)}", ylim=(0, 100))


def residual_layers(res_layers, *, depth: int, density: float, family: str):
    """Density of every layer SNIP keeps (BN-free scores) in the standard and the Stable
    residual net of ``depth`` at ``density``."""
    rows = tables.select(res_layers, {"depth": depth, "prune.method": "snip",
                                      "prune.density": float(density)})
    return layer_profiles(
        rows.assign(panel=f"{family}, depth {depth}", criterion="SNIP, BN-free scores"),
        row="panel", col="criterion", hue="net", global_density=density,
        colors={"standard": method_color("snip"), "Stable": PHASE_COLORS["eoc"]},
        labels={"standard": "standard", "Stable": "Stable (1/√L)"})


WIDTH_COLORS = {"dense": "#8c8c8c", "SNIP": method_color("snip"),
                "SNIP + rescaling": PHASE_COLORS["eoc"]}


def chi_against_width(summary):
    """Measured chi (mean and 95 % CI over seeds) against the width of the EOC MLP, per
    variant (left), and the % of units left without any input (right);
    ``summary``: :func:`.tables.chi_by_width`."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.2, 3.7))
    for variant, color in WIDTH_COLORS.items():
        part = summary[summary["variant"] == variant]
        if part.empty:
            continue
        left.errorbar(part["width"], part["chi"], yerr=part["chi_half"], color=color,
                      marker="o", capsize=3, label=variant)
        if variant != "dense":
            right.plot(part["width"], part["inputless_pct"], color=color, marker="o",
                       label=variant)
    left.axhline(1.0, color="black", ls=":", lw=1, label="EOC (χ = 1)")
    left.axhspan(0.9, 1.1, color="#009E73", alpha=0.08)
    for ax, ylabel in ((left, "measured χ"), (right, "units without input (%)")):
        ax.set_xscale("log")
        ax.set_xlabel("width (units per hidden layer)")
        ax.set_ylabel(ylabel)
    left.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
