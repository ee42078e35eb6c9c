"""The chapter's figures: accuracy differences against density (the sanity checks, random
masks against the best PaI mask and against magnitude pruning after training), accuracy
against width, and the NTK's scale and error.

Every function takes the frames of :mod:`.parity` / :mod:`.after_training` /
:mod:`.ntk_study` and returns the matplotlib figure.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ...book import plots
from ...book.claims import Estimate
from .after_training import COMPARED, LABELS, MAGNITUDE, UNIFORM
from .claims import CHECK_TOLERANCE, RANDOM_TOLERANCE
from .parity import BEST_PAI, CHECKS, check_pairs

SYMLOG_TICKS = (-50, -20, -10, -5, -2, -1, 0, 1, 2, 10, 50)
"""Difference-axis ticks (pp) of :func:`plot_differences`."""


def _mean_ci_by(frame: pd.DataFrame, x: str, value: str):
    """(x values, means, CI half-widths) of ``value`` over the rows of each ``x``, sorted by
    x; the half-width is 0 where one row has no interval."""
    stats = []
    for key, group in frame.groupby(x):
        est = Estimate.from_samples(group[value])
        stats.append((key, est.mean, est.half_width if est.n > 1 else 0.0))
    return map(np.array, zip(*sorted(stats)))


# --------------------------------------------------------------------------- accuracy

def plot_differences(summary: pd.DataFrame, *, panels: Mapping[str, Sequence[str]],
                     colors: Mapping[str, str], labels: Mapping[str, str] | None = None,
                     ylabel: str, tolerance: float | None = None, linear: float = 2.0):
    """Mean difference (± 95 % CI) against density (log axis, high density on the left), one
    line per variant of a :func:`summarise` frame; ``panels`` maps a panel title to the
    variants it shows (panels stacked, one legend on the right); ``tolerance`` draws a dotted
    line at -tolerance. The difference axis is linear within ±``linear`` and logarithmic
    beyond (symlog), so a few large differences do not flatten the small ones. Returns the
    figure."""
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.0, max(4.2, 3.8 * len(panels))),
                             sharex=True, sharey=True, squeeze=False)
    labels = dict(labels or {})
    legend = {}
    for ax, (title, variants) in zip(axes[:, 0], panels.items()):
        for k, name in enumerate(variants):
            rows = summary[summary["variant"] == name].sort_values("prune.density")
            if rows.empty:
                continue
            # small horizontal offsets keep the error bars of the lines apart
            x = rows["prune.density"].to_numpy() * 1.04 ** (k - (len(variants) - 1) / 2)
            half = np.where(rows["n"] > 1, (rows["high"] - rows["low"]) / 2, 0.0)
            line = ax.errorbar(x, rows["mean"].to_numpy(), yerr=half, capsize=3,
                               color=colors.get(name, "#666666"),
                               marker=plots.METHOD_MARKERS.get(name.split()[0], "o"))
            legend.setdefault(labels.get(name, name), line)
        ax.axhline(0, color="black", lw=1)
        if tolerance is not None:
            legend.setdefault(f"−{tolerance:g} pp (criterion)",
                              ax.axhline(-tolerance, color="black", ls=":", lw=1))
        ax.set_title(title)
        ax.set_yscale("symlog", linthresh=linear)
        ax.yaxis.set_major_locator(FixedLocator(SYMLOG_TICKS))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_ylabel(f"{ylabel}\n(linear within ±{linear:g}, log beyond)")
    ax = axes[-1, 0]
    plots.density_ticks(ax, "x")
    ax.invert_xaxis()
    ax.set_xlabel("density (kept fraction of weights, log scale)")
    fig.legend(list(legend.values()), list(legend), loc="center left",
               bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_accuracy_vs_width(frame: pd.DataFrame, *, value: str = "test_accuracy"):
    """Accuracy (%, mean ± 95 % CI over seeds) against the width multiplier (log axis), one line
    per variant of a :func:`with_variants` frame with a ``model.width`` column."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in plots.method_order(frame["variant"]):
        rows = frame[frame["variant"] == name]
        x, mean, half = _mean_ci_by(rows.assign(percent=rows[value] * 100), "model.width",
                                    "percent")
        style = {"ls": "--"} if name == "dense" else {}
        ax.errorbar(x, mean, yerr=half, capsize=3, color=plots.method_color(name),
                    marker=plots.METHOD_MARKERS.get(name, "o") or "o",
                    label=plots.method_label(name), **style)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(frame["model.width"].unique()))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"×{v:g}"))
    ax.set_xlabel("width multiplier of every hidden layer (log scale)")
    ax.set_ylabel(plots.ACCURACY_LABEL)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def sanity_checks_figure(summary: pd.DataFrame, methods: Sequence[str],
                         tolerance: float = CHECK_TOLERANCE):
    """:func:`plot_differences` of a :func:`.parity.summarise` of
    :func:`.parity.sanity_checks`: one panel per check (shuffled − found, re-initialised −
    found), one line per method in its colour, the tolerance of claims F1 and F2 dotted."""
    pairs = check_pairs(methods)
    return plot_differences(
        summary, tolerance=tolerance, ylabel="accuracy difference (pp)",
        colors={v: plots.method_color(m) for v, m in pairs},
        labels={v: plots.method_label(m) for v, m in pairs},
        panels={f"{k} − found": [v for v, _ in pairs if v.endswith(k)] for k in CHECKS})


def random_against_best_figure(summary: pd.DataFrame, variants: Sequence[str],
                               tolerance: float = RANDOM_TOLERANCE):
    """:func:`plot_differences` of each random mask of ``variants`` − the best PaI mask
    (:func:`.parity.against_best`), one panel, the tolerance of claim B2 dotted."""
    return plot_differences(
        summary, tolerance=tolerance, ylabel="accuracy − best found (pp)",
        colors={v: plots.method_color(v) for v in variants},
        labels={v: plots.method_label(v) for v in variants},
        panels={f"random masks − {BEST_PAI} mask": list(variants)})


AFTER_TRAINING_COLORS = {UNIFORM: plots.method_color("uniform"),
                         LABELS["random"]: plots.method_color("random"),
                         LABELS["reinit"]: plots.method_color("magnitude")}


def after_training_figure(summary: pd.DataFrame, tolerance: float = RANDOM_TOLERANCE):
    """:func:`plot_differences` of each network trained from scratch (:data:`COMPARED`) −
    magnitude pruning after training (a :func:`.parity.summarise` of
    :func:`.after_training.against_magnitude`), one panel, the tolerance of B2 and B3
    dotted."""
    return plot_differences(
        summary, tolerance=tolerance, ylabel=f"accuracy − {MAGNITUDE} (pp)",
        colors=AFTER_TRAINING_COLORS,
        labels={UNIFORM: "uniform random", LABELS["random"]: LABELS["random"],
                LABELS["reinit"]: f"{LABELS['reinit']} (magnitude mask)"},
        panels={f"trained from scratch − {MAGNITUDE} (fine-tuned)": list(COMPARED)})


def width_figure(widths: pd.DataFrame, model: str, density: float):
    """:func:`plot_accuracy_vs_width` of a :func:`.parity.width_runs` frame, titled with the
    model and the density."""
    fig = plot_accuracy_vs_width(widths)
    fig.axes[0].set_title(f"{plots.model_label(model)}, density {density:g}")
    return fig


# --------------------------------------------------------------------------- the NTK

def _keep_colors(keeps) -> dict[float, str]:
    palette = ("#000000", "#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#56B4E9")
    return {q: palette[i % len(palette)] for i, q in enumerate(sorted(keeps, reverse=True))}


def _width_axis(ax) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))


def plot_scales(frame: pd.DataFrame, depth: int):
    """Top: the fitted scale of the unrescaled pruned NTK against q at the widest width (one
    dot per seed, log-log), with the lines q**(depth+1) (every weight matrix masked) and
    q**depth. Bottom: fitted / predicted scale (prod of the realised layer densities) against
    width, per q (mean ± 95 % CI over seeds). Returns the figure."""
    fig, (left, right) = plt.subplots(2, 1, figsize=(7.0, 8.4))
    widest = frame[frame["width"] == frame["width"].max()]
    colors = _keep_colors(frame["keep"].unique())
    left.scatter(widest["keep"], widest["scale"], color="#333333", s=18, zorder=3,
                 label=f"fitted, width {int(widest['width'].iloc[0])} (one dot per seed)")
    q = np.geomspace(frame["keep"].min(), 1.0, 50)
    left.plot(q, q ** (depth + 1), color="#D55E00",
              label=f"$q^{{{depth + 1}}}$: all {depth + 1} weight matrices masked")
    left.plot(q, q ** depth, color="#0072B2", ls="--", label=f"$q^{{{depth}}}$")
    left.set(xscale="log", yscale="log", xlabel="keep probability q (log scale)",
             ylabel="fitted scale $a$: $\\Theta_\\mathrm{pruned} \\approx a\\,\\Theta_\\infty$"
                    "\n(log scale)",
             title="Scale of the unrescaled pruned NTK")
    left.legend(fontsize=9)
    for keep in sorted(frame["keep"].unique(), reverse=True):
        x, mean, half = _mean_ci_by(frame[frame["keep"] == keep], "width", "scale_ratio")
        right.errorbar(x, mean, yerr=half, capsize=3, marker="o", color=colors[keep],
                       label=f"q = {keep:g}")
    right.axhline(1.0, color="black", lw=1)
    _width_axis(right)
    right.set(xlabel="hidden width n (log scale)", ylabel="fitted ÷ predicted scale",
              title="Fitted scale ÷ product of layer densities")
    right.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_errors(frame: pd.DataFrame, value: str = "relerr_rescaled"):
    """Relative Frobenius error of the rescaled pruned NTK to the dense limit (mean ± 95 % CI
    over seeds, log-log) per q, against the width (top) and against width * q (bottom), with
    a reference slope -1/2. Returns the figure."""
    fig, axes = plt.subplots(2, 1, figsize=(7.0, 8.4), sharey=True)
    colors = _keep_colors(frame["keep"].unique())
    for ax, x_col, xlabel in ((axes[0], "width", "hidden width n (log scale)"),
                              (axes[1], "width_x_keep",
                               "width × q (expected kept fan-in, log scale)")):
        for keep in sorted(frame["keep"].unique(), reverse=True):
            x, mean, half = _mean_ci_by(frame[frame["keep"] == keep], x_col, value)
            ax.errorbar(x, mean, yerr=half, capsize=3, marker="o", color=colors[keep],
                        label=f"q = {keep:g}" + (" (dense)" if keep == 1 else ""))
        lo, hi = frame[x_col].min(), frame[x_col].max()
        ref = np.geomspace(lo, hi, 20)
        anchor = frame.loc[frame["keep"] == frame["keep"].max(), value].mean()
        ax.plot(ref, anchor * (ref / np.sqrt(lo * hi)) ** -0.5, color="#999999", ls=":",
                label="slope −1/2")
        _width_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
    for ax in axes:
        ax.set_ylabel("$\\Vert\\Theta_\\mathrm{rescaled} - \\Theta_\\infty\\Vert_F \\,/\\, "
                      "\\Vert\\Theta_\\infty\\Vert_F$\n(log scale)")
    axes[0].set_title("Error against width")
    axes[1].set_title("Error against width × q")
    axes[0].legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
