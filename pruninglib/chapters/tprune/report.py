"""What the TPrune page hands on: the numbers its exercises quote (glued into the page by
myst-nb) and the tidy tables a reader can download."""
from __future__ import annotations

import pandas as pd

from ...book import claims
from .verdicts import fastest, path_frame

GLUED = ("tprune_path_cost_1", "tprune_path_cost_b", "tprune_final_removed",
         "tprune_final_drop", "tprune_final_speedup_b", "tprune_strongest",
         "tprune_strongest_removed", "tprune_strongest_drop", "tprune_p4b_half",
         "tprune_seeds")
"""Names of :func:`glued_numbers`, prefixed with the chapter (glue names are global)."""
TABLES = ("runs", "bssl", "paths")
"""Names of :func:`tables` (files ``data/tprune-<name>.csv``)."""


def glued_numbers(runs: pd.DataFrame, results: dict[str, claims.Estimate], *,
                  max_loss: float) -> dict[str, float]:
    """The numbers of :data:`GLUED`, means over seeds: the dense model's speed through the
    per-head loop relative to batched, at batch 1 and the typical batch (×); the P4 model's
    lines removed (%), accuracy drop (points) and like-for-like speed-up at the typical
    batch; the strongest Hoyer-Square strength (inner lines) with its lines removed (%) and
    drop (points); P4b's CI half-width and the number of seeds."""
    dense = runs[runs["method"] == "dense"]
    chosen = fastest(runs, max_loss)
    hoyer = runs[runs["method"] == "hoyer_square"]
    strongest = hoyer[hoyer["strength"] == hoyer["strength"].max()]
    paths = path_frame(runs, max_loss)
    looped = paths[(paths["model"] == "dense") & (paths["path"] == "per_head")]
    return {
        "tprune_path_cost_1": float(looped[looped["batch"] == "1"]["vs_batched_dense"].mean()),
        "tprune_path_cost_b": float(
            looped[looped["batch"] == "batch"]["vs_batched_dense"].mean()),
        "tprune_final_removed": float(chosen["lines_removed"].mean() * 100),
        "tprune_final_drop": float(chosen["accuracy_drop"].mean()),
        "tprune_final_speedup_b": float(chosen["speedup_padded_batch"].mean()),
        "tprune_strongest": float(hoyer["strength"].max()),
        "tprune_strongest_removed": float(strongest["lines_removed"].mean() * 100),
        "tprune_strongest_drop": float(strongest["accuracy_drop"].mean()),
        "tprune_p4b_half": float(results["P4b"].half_width),
        "tprune_seeds": float(dense["seed"].nunique()),
    }


def tables(runs: pd.DataFrame, bssl: pd.DataFrame, *, max_loss: float
           ) -> dict[str, pd.DataFrame]:
    """The frames the figures and verdicts are made from, by :data:`TABLES` name: every model
    of every seed (``runs``), stage 1's lines per block, matrix and direction (``bssl``) and
    the latencies of the dense, shape-probe and P4 models on each code path (``paths``)."""
    return {"runs": runs, "bssl": bssl, "paths": path_frame(runs, max_loss)}
