"""Training protocols for a fixed mask, compared as in Jaiswal et al. 2022 (ToST).

A *protocol* is a set of spec changes applied to a pruned run; the mask does not depend on it
(masks are found on the plain network with the run's own seed), so the runs of one seed under
two protocols share their mask and initial weights and can be compared pairwise.

* :func:`protocol_changes`: the dotted spec changes (``RunSpec.replace``) of 'default', of one
  component ('ghost_neurons', 'ghost_skips', 'label_smoothing', 'fan_in', 'gradinit') or of
  'all' (the components of ToST's recipe together);
* :func:`gains`: per seed, each protocol's accuracy minus the default's, in points;
* :func:`plot_gains`: the gains against compression, one panel per mask.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from ...config import ConfigError
from ...book.plots import (
    COMPRESSION_LABEL,
    OKABE_ITO,
    mean_ci,
    reciprocal,
    compression_ticks,
    legend_below,
    method_label,
    method_order,
)
from ...tricks import label_smoothing_for

COMPONENTS = ("ghost_neurons", "ghost_skips", "label_smoothing", "fan_in", "gradinit")
"""The tricks one at a time: ToST's four (GradInit is its layer-wise rescaled init, LRsI) and
the simple fan-in rescaling of the sparse init."""

TOST_RECIPE = ("ghost_neurons", "ghost_skips", "label_smoothing", "gradinit")
"""The components of protocol 'all' by default: ToST's recipe."""

PROTOCOLS = ("default", *COMPONENTS, "all")

LABELS = {"default": "default", "ghost_neurons": "ghost neurons", "ghost_skips": "ghost skips",
          "label_smoothing": "label smoothing", "fan_in": "fan-in rescaling",
          "gradinit": "GradInit scales", "all": "all (ToST)"}
COLORS = {"ghost_neurons": OKABE_ITO[1], "ghost_skips": OKABE_ITO[2],
          "label_smoothing": OKABE_ITO[3], "fan_in": OKABE_ITO[7], "gradinit": OKABE_ITO[5],
          "all": OKABE_ITO[0], "default": "#8c8c8c"}
MARKERS = {"ghost_neurons": "o", "ghost_skips": "s", "label_smoothing": "^", "fan_in": "v",
           "gradinit": "D", "all": "*", "default": ""}


def protocol_changes(protocol: str, *, epochs: int, num_classes: int,
                     ghost_activation: str = "silu", ghost_fraction: float = 0.2,
                     label_smoothing: float = 0.1, gradinit_steps: int = 50,
                     recipe: Sequence[str] = TOST_RECIPE) -> dict:
    """Dotted spec changes of ``protocol`` (one of :data:`PROTOCOLS`) for a run of ``epochs``.

    ghost_fraction: the ghosts (smooth activation, ghost skips) are on for the first
        max(1, round(ghost_fraction * epochs)) epochs (the RunSpec refuses it if no epoch
        is left without them).
    label_smoothing: ToST's smoothing alpha (1 - alpha on the true class, alpha / (C - 1) on
        the others), converted with :func:`pruninglib.tost.label_smoothing_for`.
    recipe: the components of 'all'.
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"protocol={protocol!r} is not allowed: one of "
                          + ", ".join(PROTOCOLS))
    ghost_epochs = max(1, round(ghost_fraction * epochs))
    each = {
        "ghost_neurons": {"tost.ghost_activation": ghost_activation,
                          "tost.ghost_activation_epochs": ghost_epochs},
        "ghost_skips": {"tost.ghost_skip_epochs": ghost_epochs},
        "label_smoothing": {"train.label_smoothing": label_smoothing_for(label_smoothing,
                                                                         num_classes)},
        "fan_in": {"prune.rescale": "fan_in"},
        "gradinit": {"tost.gradinit_steps": gradinit_steps},
    }
    if protocol == "default":
        return {}
    if protocol == "all":
        unknown = sorted(set(recipe) - set(COMPONENTS))
        if unknown:
            raise ConfigError(f"recipe={list(recipe)!r} is not allowed: components among "
                              + ", ".join(COMPONENTS))
        return {k: v for component in recipe for k, v in each[component].items()}
    return each[protocol]


_KEYS = ("model.name", "prune.method", "prune.density", "seed")
SYMLOG_ABOVE, SYMLOG_LINEAR = 10.0, 2.0
""":func:`plot_gains` switches to a symmetric-log gain axis, linear within ±2 points, when a
mean gain is beyond ±10 points."""


def gains(runs: pd.DataFrame, *, baseline: str = "default", value: str = "test_accuracy",
          keys: Sequence[str] = _KEYS) -> pd.DataFrame:
    """Per run of every protocol but ``baseline``: ``gain`` = 100 * (value - the baseline's
    value for the same ``keys``), in points; columns ``keys``, "protocol", "gain".

    runs: a sweep frame with a "protocol" column. Runs without a baseline partner are dropped.
    """
    keys = list(keys)
    base = runs[runs["protocol"] == baseline].set_index(keys)[value].rename("baseline")
    rest = runs[runs["protocol"] != baseline].join(base, on=keys, how="inner")
    rest = rest.assign(gain=100 * (rest[value] - rest["baseline"]))
    return rest[[*keys, "protocol", "gain"]].reset_index(drop=True)


def plot_gains(gain_frame: pd.DataFrame, *, protocols: Sequence[str] | None = None,
               title: str | None = None):
    """Gain over the default protocol (points) against compression rho = 1/density, one panel
    per mask ("prune.method"), one line per protocol: mean over seeds with its 95 % CI
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
        top = ax.secondary_xaxis("top", functions=(reciprocal, reciprocal))
        top.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * (1 - v):g} %"))
        top.set_xlabel("sparsity")
    label = "gain over default (accuracy points)"
    means = gain_frame.groupby(["prune.method", "protocol", "prune.density"])["gain"].mean()
    if means.abs().max() > SYMLOG_ABOVE:  # a diverged protocol would flatten the others
        for ax in axes:
            ax.set_yscale("symlog", linthresh=SYMLOG_LINEAR)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
        label += f"\n(linear within ±{SYMLOG_LINEAR:g}, logarithmic beyond)"
    axes[0].set_ylabel(label)
    handles, labels = axes[0].get_legend_handles_labels()
    return legend_below(fig, handles, labels, title=title)
