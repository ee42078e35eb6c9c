"""The tables of the SynFlow chapter, shaped from the studies' frames (:mod:`.study`).

Each function returns a pandas frame (or markdown text) with numbers; the ``*_FORMAT``
mappings are the display formats the chapter passes to ``DataFrame.style.format``.
"""
from __future__ import annotations

import pandas as pd

from .claims import HIGH_ALPHAS, s7_alphas
from .collapse import cliff_points, collapse_order, critical_by
from .figures import variant_label
from .study import kept_per_layer

SIZES_FORMAT = {"model.width": "{:g}", "n_weights": "{:,}", "rho_max": "{:,.0f}",
                "alpha_max": "{:.2f}"}
CRITICAL_FORMAT = {c: "{:.2f}" for c in ("α_max", "α_cr", "α_cr effective", "α disconnected")}
CELLS_FORMAT = {"α": "{:g}", "kept per layer": "{:,.0f}"}
IMP_FORMAT = {"α_cr (effective)": "{:.2f}", "first α at chance": "{:.2f}"}
CLIFF_FORMAT = {"α_cr": "{:.2f}", "above chance before (pp)": "{:.1f}",
                "above chance at collapse (pp)": "{:.1f}"}


def network_sizes(summary: pd.DataFrame) -> pd.DataFrame:
    """Per network of a :func:`.collapse.collapse_summary` frame (in order of appearance):
    model.name, model.width, n_weights N, n_layers L, rho_max = N / L and alpha_max."""
    return (summary.groupby(["model.name", "model.width"], sort=False)
            [["n_weights", "n_layers", "rho_max", "alpha_max"]].first().reset_index())


def shorten(text: str, width: int = 12) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= width else text[:width - 1] + "…"


def critical_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (network, method) of a :func:`.collapse.collapse_summary` frame: α_max and the
    mean over seeds of α_cr, α_cr effective and α disconnected; first emptied, the layers
    left without weights at the first collapse in the first seed (shortened)."""
    table = (summary.groupby(["model.name", "method"], sort=False)
             .agg(**{"α_max": ("alpha_max", "first"), "α_cr": ("alpha_cr", "mean"),
                     "α_cr effective": ("alpha_cr_effective", "mean"),
                     "α disconnected": ("alpha_disconnected", "mean"),
                     "first emptied": ("first_collapsed", "first")}))
    table["first emptied"] = table["first emptied"].map(shorten)
    return table


def first_layer_table(summary: pd.DataFrame, plain: list[str]) -> pd.DataFrame:
    """Methods × plain networks: the fraction of seeds in which the first layer emptied is
    the one Tanaka et al. predict (:func:`.collapse.collapse_order`; NaN where the method
    empties no layer on the grid)."""
    order = collapse_order(summary[summary["model.name"].isin(plain)])
    return order.groupby(["method", "model.name"])["as_predicted"].mean().unstack("model.name")


def shortcut_table(pruned: pd.DataFrame) -> pd.DataFrame:
    """Kept fraction (mean over seeds) of every 1×1 shortcut convolution of a collapse
    study frame: rows (layer, method), columns α; empty without residual networks."""
    cuts = pruned[pruned["layer"].str.contains("shortcut")]
    if cuts.empty:
        return pd.DataFrame()
    view = cuts.pivot_table(index=["layer", "method"], columns="alpha", values="density",
                            aggfunc="mean")
    return view.rename(columns=lambda a: f"α = {a:.3g}")


def shortcut_text(pruned: pd.DataFrame) -> str:
    """At the grid point nearest ρ = 10 (where Synaptic-Flow issue #7 reports it), the range
    over shortcut layers and seeds of each method's kept fraction, in words (markdown)."""
    cuts = pruned[pruned["layer"].str.contains("shortcut")]
    if cuts.empty:
        return "No residual network in `collapse_models`."
    near = cuts.loc[(cuts["alpha"] - 1).abs().idxmin(), "alpha"]
    kept = cuts[cuts["alpha"] == near].groupby("method")["density"].agg(["min", "max"])
    return (f"At ρ = 10^{near:.3g} (global density {10 ** -near:.2g}) the shortcut "
            "convolutions keep "
            + ", ".join(f"{variant_label(m)} {r['min']:.1e}–{r['max']:.1e}"
                        for m, r in kept.iterrows())
            + " of their weights. An empty shortcut is not a collapse of the network (the "
              "residual branch still connects input and output): this is why a ResNet's "
              "effective critical compression and its disconnection point differ.")


def accuracy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (%, mean over seeds, 1 decimal) per (network, method) and α."""
    return (runs.pivot_table(index=["model.name", "prune.method"], columns="alpha",
                             values="test_accuracy").mul(100).round(1))


def collapsed_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Number of runs (over seeds) left with a layer without effective weights, per
    (network, method) and α."""
    return runs.pivot_table(index=["model.name", "prune.method"], columns="alpha",
                            values="collapsed", aggfunc="sum")


def s7_cells(P) -> pd.DataFrame:
    """Per trained network and α of its grid among :data:`.claims.HIGH_ALPHAS` (Fig. 6's
    points of the high-compression regime): the weights it keeps per layer on average
    (:func:`.study.kept_per_layer`) and whether the cell has an S7 row (at least
    :data:`.claims.MIN_KEPT_PER_LAYER`)."""
    rows = [{"network": name, "α": float(a), "kept per layer": kept_per_layer(P, name, a),
             "S7 row": float(a) in s7_alphas(P, name)}
            for name in P.train_models for a in P.alphas.get(name, [])
            if any(abs(float(a) - h) < 1e-9 for h in HIGH_ALPHAS)]
    return pd.DataFrame(rows, columns=["network", "α", "kept per layer", "S7 row"])


def cliff_table(runs: pd.DataFrame, models) -> pd.DataFrame:
    """Per (network, method) of the trained ``models``: the seeds with a step before the
    collapse on the grid, the mean α_cr (last α before the first collapsed layer) and the
    mean accuracy above chance there and at the collapse (pp); from
    :func:`.collapse.cliff_points`."""
    points = cliff_points(runs[runs["model.name"].isin(list(models))])
    return (points.assign(before=points["before"] * 100, at=points["at"] * 100)
            .groupby(["model.name", "prune.method"], sort=False)
            .agg(**{"seeds": ("before", "count"), "α_cr": ("alpha_cr", "mean"),
                    "above chance before (pp)": ("before", "mean"),
                    "above chance at collapse (pp)": ("at", "mean")}))


def imp_table(imp: pd.DataFrame, chance_margin: float = 0.02) -> pd.DataFrame:
    """Per number of IMP cycles of :func:`.study.imp_study`'s frame, mean over seeds: α_cr
    (effective; the last α of the grid before a layer is left without effective weights,
    the largest α if none is) and the first α at chance (test accuracy less than
    ``chance_margin`` above chance: the authors' measure; NaN where no seed reaches it on
    the grid), with the number of seeds that reach it."""
    critical = critical_by(imp, ["cycles", "seed"]).set_index(["cycles", "seed"])["alpha_cr"]
    at_chance = (imp[imp["above_chance"] < chance_margin].groupby(["cycles", "seed"])["alpha"]
                 .min().reindex(critical.index))
    frame = pd.DataFrame({"α_cr (effective)": critical, "first α at chance": at_chance})
    out = frame.groupby(level="cycles").mean()
    out["seeds at chance on the grid"] = frame["first α at chance"].notna().groupby(
        level="cycles").sum()
    return out
