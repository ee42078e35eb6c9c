"""The tables of the SynFlow chapter, shaped from the studies' frames (:mod:`.study`).

Each function returns a pandas frame (or markdown text) with numbers; the ``*_FORMAT``
mappings are the display formats the chapter passes to ``DataFrame.style.format``.
"""
from __future__ import annotations

import pandas as pd

from .collapse import collapse_order
from .figures import variant_label

SIZES_FORMAT = {"model.width": "{:g}", "n_weights": "{:,}", "rho_max": "{:,.0f}",
                "alpha_max": "{:.2f}"}
CRITICAL_FORMAT = {c: "{:.2f}" for c in ("α_max", "α_cr", "α_cr effective", "α disconnected")}


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
