"""The chapter's figures: accuracy with and without the recipe, and each protocol's gain.

* :func:`plot_accuracy`: test accuracy against compression for the default protocol and
  'all', with the dense network as the reference line;
* :func:`plot_gains`: the gains over the default protocol against compression, one panel per
  mask, one line per protocol.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from ...book.plots import (
    COMPRESSION_LABEL,
    OKABE_ITO,
    accuracy_vs_compression,
    compression_ticks,
    density_axis_on_top,
    legend_below,
    mean_ci,
    method_label,
    method_order,
)
from .protocols import LABELS, PROTOCOLS

COLORS = {"ghost_neurons": OKABE_ITO[1], "ghost_skips": OKABE_ITO[2],
          "label_smoothing": OKABE_ITO[3], "fan_in": OKABE_ITO[7], "gradinit": OKABE_ITO[5],
          "all": OKABE_ITO[0], "default": "#8c8c8c"}
MARKERS = {"ghost_neurons": "o", "ghost_skips": "s", "label_smoothing": "^", "fan_in": "v",
           "gradinit": "D", "all": "*", "default": ""}
SYMLOG_ABOVE, SYMLOG_LINEAR = 10.0, 2.0
""":func:`plot_gains` switches to a symmetric-log gain axis, linear within ±2 points, when a
mean gain is beyond ±10 points."""


def plot_accuracy(runs: pd.DataFrame, dense: pd.DataFrame, *,
                  protocols: Sequence[str] = ("default", "all")):
    """Test accuracy (%) against compression, one panel per protocol of ``protocols`` that
    ``runs`` holds (mean over seeds, 95 % CI), the dense runs as the dashed reference line
    in every panel. Returns the figure."""
    shown = [p for p in protocols if p in set(runs["protocol"])]
    panels = runs[runs["protocol"].isin(shown)].assign(
        protocol=lambda f: f["protocol"].map(LABELS))
    reference = pd.concat([dense.assign(protocol=LABELS[p]) for p in shown])
    return accuracy_vs_compression(panels, reference, by="protocol")


def plot_gains(gain_frame: pd.DataFrame, *, protocols: Sequence[str] | None = None,
               title: str | None = None):
    """Gain over the default protocol (points) against compression rho = 1/density, one panel
    per mask ("prune.method"), one line per protocol that ran on that mask: mean over seeds
    with its 95 % CI
    (protocols slightly offset along x so the bars do not hide each other). The gain axis is
    symmetric-log when a mean gain exceeds :data:`SYMLOG_ABOVE`. Returns the figure."""
    protocols = [p for p in (protocols or PROTOCOLS) if p in set(gain_frame["protocol"])]
    methods = method_order(gain_frame["prune.method"])
    fig, axes = plt.subplots(1, len(methods), figsize=(4.6 * len(methods), 4.2),
                             squeeze=False, sharey=True)
    axes = axes[0]
    for ax, method in zip(axes, methods):
        part = gain_frame[gain_frame["prune.method"] == method]
        for protocol in protocols:
            rows = part[part["protocol"] == protocol]
            if rows.empty:  # a single trick that runs on other masks only
                continue
            stats = sorted((1.0 / d, *mean_ci(g["gain"])) for d, g in
                           rows.groupby("prune.density"))
            x, mean, half = map(np.array, zip(*stats))
            star = protocol == "all"
            ax.errorbar(x * (1 + 0.03 * (protocols.index(protocol) - len(protocols) / 2)),
                        mean, yerr=half, color=COLORS[protocol], marker=MARKERS[protocol],
                        markersize=10 if star else 5, lw=2.4 if star else 1.3, capsize=2,
                        label=LABELS[protocol], zorder=3 if star else 2)
        ax.axhline(0, color="black", lw=0.8)
        compression_ticks(ax, "x")
        ax.set_xlabel(COMPRESSION_LABEL)
        ax.set_title(f"{method_label(method)} mask")
        density_axis_on_top(ax, part["prune.density"], sparsity=True)
    label = "gain over default (accuracy points)"
    means = gain_frame.groupby(["prune.method", "protocol", "prune.density"])["gain"].mean()
    if means.abs().max() > SYMLOG_ABOVE:  # a diverged protocol would flatten the others
        for ax in axes:
            ax.set_yscale("symlog", linthresh=SYMLOG_LINEAR)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
        label += f"\n(linear within ±{SYMLOG_LINEAR:g}, logarithmic beyond)"
    axes[0].set_ylabel(label)
    legend = {}
    for ax in axes:  # every protocol once, whichever panel holds it
        for handle, text in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(text, handle)
    return legend_below(fig, list(legend.values()), list(legend), title=title)
