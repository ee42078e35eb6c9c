"""What the SynFlow chapter hands its reader beyond the page: the numbers its exercises'
solutions quote (glued into the Markdown by myst-nb, :func:`glue_values`) and the tidy tables
its figures and verdicts are made from (written as CSV by
:func:`pruninglib.book.downloads.save_tables`, :func:`download_tables`)."""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ...book import claims
from . import paper
from .claims import settings
from .verdicts import imp_critical

PREFIX = "synflow_"
"""Glue names are unique in the whole book: every one starts with the chapter's name."""


def glue_values(P, results: Mapping[str, claims.Estimate], *, conservation: pd.DataFrame,
                summary: pd.DataFrame, imp: pd.DataFrame) -> dict[str, object]:
    """Name -> value of every number the exercises quote, names prefixed ``synflow_``.
    Estimates are glued as their printed form (mean ± CI, seeds); NaN where the profile
    does not measure it.

    conservation: :func:`.study.conservation_study`'s frame; summary:
    :func:`.collapse.collapse_summary` of the collapse study; imp: :func:`.study.imp_study`.
    """
    data = conservation[conservation["data_statistics"]] \
        if "data_statistics" in conservation else conservation.iloc[:0]
    plain = data[data["unit_mismatch"].notna()]
    mismatch = plain.groupby("objective")["unit_mismatch"].mean()
    critical = imp_critical(imp).mean()
    mlp = summary[summary["model.name"] == "mlp"]
    values = {
        "seeds": P.seeds,
        "epochs": P.epochs,
        "mlp": settings(P)["mlp"],
        "first_layer_as_predicted": _text(results, "S3-order"),
        "mlp_alpha_max": float(mlp["alpha_max"].iloc[0]) if len(mlp) else math.nan,
        "single_gap": _text(results, "S5-single"),
        "mismatch_snip": float(mismatch.get("snip", math.nan)),
        "mismatch_synflow": float(mismatch.get("synflow", math.nan)),
        "imp_fewest": min(P.imp_cycles),
        "imp_most": max(P.imp_cycles),
        "imp_alpha_cr_fewest": float(critical.get(min(P.imp_cycles), math.nan)),
        "imp_alpha_cr_most": float(critical.get(max(P.imp_cycles), math.nan)),
        "imp_shift": _text(results, "S4"),
        "imp_paper": paper.imp_first_chance_text(),
    }
    return {PREFIX + name: value for name, value in values.items()}


def _text(results: Mapping[str, claims.Estimate], claim_id: str) -> str:
    estimate = results.get(claim_id)
    return estimate.format(2) if estimate is not None and estimate.n else "not measured"


def download_tables(*, conservation: pd.DataFrame, pruned: pd.DataFrame,
                    summary: pd.DataFrame, runs: pd.DataFrame, dense: pd.DataFrame,
                    imp: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Table name -> tidy frame: the conservation measurements (one row per network, seed
    and objective), the prune-only sweep (one row per method, compression, seed and layer)
    and its critical compressions (per method and seed), the trained runs (one row per run:
    pruned, dense, IMP)."""
    return {"conservation": conservation, "collapse_layers": pruned,
            "critical_compressions": summary, "trained": runs, "dense": dense, "imp": imp}
