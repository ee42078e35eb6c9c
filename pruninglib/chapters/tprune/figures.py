"""Figures of the TPrune chapter, in the book's style (:mod:`pruninglib.book.plots`)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from ...book.plots import method_color
from ...models.transformer import MATRICES

MATRIX_LABELS = {"q": "W_Q", "k": "W_K", "v": "W_V", "o": "W_O", "fc1": "W_FFN1",
                 "fc2": "W_FFN2"}
STAGE2_LABELS = {"group_lasso": "group lasso (inner lines)",
                 "hoyer_square": "Hoyer-Square (inner lines)",
                 "hoyer_guided": "Hoyer-Square guided by BSSL",
                 "hoyer_both": "Hoyer-Square (every row and column)",
                 "magnitude": "line magnitude (no penalty)"}
STAGE2_COLORS = {"group_lasso": "#E69F00", "hoyer_square": "#D55E00",
                 "hoyer_guided": "#009E73", "hoyer_both": "#56B4E9",
                 "magnitude": method_color("magnitude")}
STAGE2_MARKERS = {"group_lasso": "s", "hoyer_square": "o", "hoyer_guided": "^",
                  "hoyer_both": "v", "magnitude": "D"}


def bssl_directions(bssl):
    """Stage 1: fraction of lines under the threshold (%; bars: mean over seeds, dots: each
    seed) of every matrix, output lines (paper: columns) next to input lines (paper: rows), one panel per
    block."""
    blocks = sorted(bssl["block"].unique())
    fig, axes = plt.subplots(1, len(blocks), figsize=(3.6 * len(blocks) + 0.6, 3.8),
                             sharey=True, squeeze=False)
    x = np.arange(len(MATRICES))
    for ax, block in zip(axes[0], blocks):
        for offset, direction, colour, label in (
                (-0.2, "out", "#0072B2", "output lines (paper: columns)"),
                (0.2, "in", "#CC79A7", "input lines (paper: rows)")):
            values = [bssl[(bssl["block"] == block) & (bssl["matrix"] == m)
                           & (bssl["direction"] == direction)]["sparse"] * 100
                      for m in MATRICES]
            ax.bar(x + offset, [v.mean() for v in values], 0.4, color=colour, label=label)
            for i, v in enumerate(values):
                ax.scatter(np.full(len(v), x[i] + offset), v, color="black", s=8, zorder=3,
                           label="one seed" if (i, direction) == (0, "in") else None)
        ax.set_xticks(x, [MATRIX_LABELS[m] for m in MATRICES], rotation=45, ha="right")
        ax.set_title(f"block {block}")
        ax.set_ylim(0, 105)
    axes[0][0].set_ylabel("lines under the threshold (%)")
    fig.tight_layout()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 0.0))
    return fig


def tradeoff(runs):
    """Stage 2, two panels: test accuracy (%) against lines removed (%) per method (one point
    per strength and seed, dense as a dashed line), and measured CPU speed-up against the
    reduction of the operations executed, dense and pruned models both through the batched
    path (pruned heads padded to equal widths), at the typical batch (filled) and at batch 1
    (crosses), log-log with the y = x line."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    dense = runs[runs["method"] == "dense"]["accuracy"] * 100
    left.axhline(dense.mean(), color="black", ls="--", lw=1.2, label="dense")
    for method, label in STAGE2_LABELS.items():
        rows = runs[runs["method"] == method]
        if rows.empty:
            continue
        colour, marker = STAGE2_COLORS[method], STAGE2_MARKERS[method]
        left.scatter(rows["lines_removed"] * 100, rows["accuracy"] * 100, color=colour,
                     marker=marker, label=label, s=30, alpha=0.8)
        right.scatter(rows["flop_reduction_padded"], rows["speedup_padded_batch"],
                      color=colour, marker=marker, label=label, s=30, alpha=0.8)
        right.scatter(rows["flop_reduction_padded"], rows["speedup_padded_1"], color=colour,
                      marker="x", s=30, alpha=0.8)
    left.set(xlabel="inner lines removed (%)", ylabel="test accuracy (%)",
             title="accuracy against lines removed")
    left.legend(loc="lower left", fontsize=8)
    top = max(2.0, float(runs["flop_reduction_padded"].max()) * 1.1)
    right.plot([1, top], [1, top], color="grey", lw=1, ls=":", label="speed-up = FLOP reduction")
    right.scatter([], [], color="grey", marker="x", label="× : batch 1; filled : typical batch")
    right.set(xscale="log", yscale="log",
              xlabel="operations executed, dense ÷ pruned (padded; log scale)",
              ylabel="CPU speed-up, dense ÷ pruned (both batched; log)",
              title="measured speed-up, like for like")
    right.axhline(1, color="black", lw=0.8)
    ticks = FixedLocator([0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16])
    for axis in (right.xaxis, right.yaxis):
        axis.set_major_locator(ticks)
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
