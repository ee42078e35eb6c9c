"""What the chapter hands to its reader beyond the page: the numbers its exercises' solutions
quote (glued into the Markdown by myst-nb, :func:`glue_values`) and the tidy tables its
figures and verdicts are made from (written as CSV by
:func:`pruninglib.book.downloads.save_tables`, :func:`download_tables`)."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ...book import claims
from . import tables

PREFIX = "robust_pruning_"


def glue_values(params, results: Mapping[str, claims.Estimate], chis: pd.DataFrame,
                widths: pd.DataFrame) -> dict[str, object]:
    """Name -> value of every number the exercises quote, names prefixed ``robust_pruning_``
    (unique in the book). Estimates are glued as their printed form (mean ± CI, seeds);
    chi is dimensionless, fractions are in %. ``widths``: :func:`.rescaling.width_study`."""
    low = float(min(params.train_densities))
    first = params.activations[0]
    inputless = tables.inputless_units(chis, low)
    by_width = tables.chi_by_width(widths)
    rescaled = by_width[by_width["variant"] == "SNIP + rescaling"].set_index("width")
    widest = int(rescaled.index.max())
    values = {
        "seeds": params.seeds,
        "width": params.width,
        "depth": params.train_depth,
        "sparsity": 100 * (1 - low),
        "chi_pruned": results["H4a"].mean,
        "chi_rescaled": float(tables.select(chis, {
            "activation": first, "prune.method": "snip", "prune.density": low,
            "prune.rescale": "fan_in"})["chi"].mean()),
        "widest": widest,
        "chi_rescaled_widest": results["H4b"].mean,
        "inputless_widest": float(rescaled.loc[widest, "inputless_pct"]),
        "inputless": 100 * float(inputless.get((first, "snip"), float("nan"))),
        "rescaling_gain": results["H4c"].format(1),
        "ordered_minus_eoc": results["H3a"].format(1),
    }
    return {PREFIX + name: value for name, value in values.items()}


def download_tables(*, prune_runs: pd.DataFrame, prune_layers: pd.DataFrame,
                    train_runs: pd.DataFrame,
                    train_layers: pd.DataFrame, chis: pd.DataFrame, widths: pd.DataFrame,
                    res_runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Table name -> tidy frame (one row per run, per layer of a run, or per measured net):
    the frames the chapter's figures and verdicts are computed from."""
    return {"pruned_at_init": prune_runs, "pruned_at_init_layers": prune_layers,
            "trained_mlps": train_runs,
            "trained_mlp_layers": train_layers, "chi": chis, "chi_by_width": widths,
            "residual": res_runs}
