"""Random masks against the masks pruning-at-initialisation (PaI) methods find: the runs of the
sanity checks, their labels, and paired accuracy differences.

For each PaI method (SNIP, GraSP, SynFlow, magnitude) and density, :func:`parity_specs` lists
three masks, all trained from the same initial weights of a seed:

* **found**: the method's mask;
* **shuffled** (``PruneSpec(shuffle=True)``): each layer's kept positions re-drawn uniformly at
  random, the same count per layer (Frankle et al. 2021's layer-wise shuffle). This *is* a
  random mask with the method's own layer densities (the initial weights are the same), so one
  set of runs answers both "does shuffling hurt?" and "is a random mask with good layer-wise
  ratios as good?" (Su et al. 2020);
* **re-initialised** (``PruneSpec(reinit=True)``): the found mask, weights re-drawn from the
  initialisation distribution;

and random masks with data-free layer densities (``uniform``, ``erk``, ``smart_ratio``).
:func:`with_variants` labels the runs of a sweep frame ("snip", "snip shuffled",
"snip re-initialised", "erk", ...), :func:`best_of` adds the best PaI method per density as
a variant, :func:`paired_differences` gives per-seed differences between two variants and
:func:`summarise` their means and 95 % confidence intervals.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
import numpy as np
import pandas as pd

from ...book import plots
from ...book.claims import Estimate
from ...config import RunSpec
from ...runs.experiments import grid_specs
from ...pruners.ratios import LAYER_RATIOS

SYMLOG_TICKS = (-50, -20, -10, -5, -2, -1, 0, 1, 2, 10, 50)
"""Difference-axis ticks (pp) of :func:`plot_differences`."""

SHUFFLED = "shuffled"
REINIT = "re-initialised"


def parity_specs(base: RunSpec, methods: Sequence[str], ratios: Sequence[str],
                 densities: Sequence[float], seeds: Sequence[int]) -> list[RunSpec]:
    """Runs of the parity study on ``base`` (its data, model and training): every PaI method
    found, shuffled and re-initialised, and every layer-ratio random mask, at every density
    and seed (the dense baseline is not included)."""
    common = {"prune.density": list(densities), "seed": list(seeds)}
    specs = []
    for extra in ({}, {"prune.shuffle": [True]}, {"prune.reinit": [True]}):
        specs += grid_specs(base, {"prune.method": list(methods), **extra, **common})
    if ratios:
        specs += grid_specs(base, {"prune.method": list(ratios), **common})
    return specs


def variant_label(method: str, shuffle: bool = False, reinit: bool = False,
                  invert: bool = False) -> str:
    """``"snip"``, ``"snip shuffled"``, ``"snip re-initialised"``, ``"snip inverted"`` (and
    combinations, in that order)."""
    parts = [method] + [word for flag, word in ((invert, "inverted"), (shuffle, SHUFFLED),
                                                (reinit, REINIT)) if flag]
    return " ".join(parts)


def with_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a sweep frame (:func:`pruninglib.experiments.to_frame`) with a ``variant``
    column (:func:`variant_label` of each run's prune fields) and a ``kind`` column: "dense",
    "layer ratio" (uniform, erk, smart_ratio), "found", or the variant's words after the
    method ("shuffled", "re-initialised", ...)."""
    out = frame.copy()
    flags = [out.get(f"prune.{k}", pd.Series(False, index=out.index))
             for k in ("shuffle", "reinit", "invert")]
    out["variant"] = [variant_label(m, bool(s), bool(r), bool(i))
                      for m, s, r, i in zip(out["prune.method"], *flags)]
    out["kind"] = [("dense" if m == "dense" else "layer ratio" if m in LAYER_RATIOS
                    else v[len(m):].strip() or "found")
                   for m, v in zip(out["prune.method"], out["variant"])]
    return out


def best_of(frame: pd.DataFrame, variants: Sequence[str], label: str, *,
            value: str = "test_accuracy", by: Sequence[str] = ("prune.density",)
            ) -> pd.DataFrame:
    """Rows of the variant (among ``variants``) with the highest mean ``value`` over seeds in
    each group of ``by``, relabelled ``variant = label``, with the chosen variant in
    ``best_of``. Choosing by the mean (not per seed) keeps the seeds' noise out of the choice."""
    part = frame[frame["variant"].isin(list(variants))]
    rows = []
    for _, group in part.groupby(list(by)):
        best = group.groupby("variant")[value].mean().idxmax()
        rows.append(group[group["variant"] == best].assign(variant=label, best_of=best))
    return pd.concat(rows, ignore_index=True)


def paired_differences(frame: pd.DataFrame, variant: str, reference: str, *,
                       value: str = "test_accuracy", scale: float = 100.0,
                       by: Sequence[str] = ("prune.density",), pair_on: str = "seed"
                       ) -> pd.DataFrame:
    """scale * (value of ``variant`` - value of ``reference``) for each group of ``by`` and each
    seed present in both. Columns: ``by``..., ``pair_on``, variant, reference, difference."""
    keys = [*by, pair_on]

    def pick(name):
        return frame[frame["variant"] == name].groupby(keys)[value].mean()

    a, b = pick(variant).align(pick(reference), join="inner")
    out = ((a - b) * scale).rename("difference").reset_index()
    out.insert(len(keys), "reference", reference)
    out.insert(len(keys), "variant", variant)
    return out


def summarise(differences: pd.DataFrame, by: Sequence[str] = ("variant", "prune.density"),
              value: str = "difference") -> pd.DataFrame:
    """Mean, 95 % CI (Student t over seeds: low, high) and n per group of ``by``."""
    rows = []
    for key, group in differences.groupby(list(by)):
        est = Estimate.from_samples(group[value])
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "mean": est.mean, "low": est.low, "high": est.high, "n": est.n})
    return pd.DataFrame(rows)


def highest_failing_density(summary: pd.DataFrame, threshold: float) -> dict[str, float | None]:
    """Per variant of a :func:`summarise` frame over ``prune.density``: the highest density at
    which the mean difference falls below ``threshold`` (None where it never does)."""
    out = {}
    for name, group in summary.groupby("variant"):
        failing = group.loc[group["mean"] < threshold, "prune.density"]
        out[name] = float(failing.max()) if len(failing) else None
    return out


# --------------------------------------------------------------------------- figures

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
        stats = []
        for width, group in rows.groupby("model.width"):
            est = Estimate.from_samples(group[value] * 100)
            stats.append((width, est.mean, est.half_width if est.n > 1 else 0.0))
        x, mean, half = map(np.array, zip(*sorted(stats)))
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
