"""What the tour's page hands on: the numbers its exercises quote (glued into the page by
myst-nb) and the tidy tables a reader can download."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...book import claims
from .sweep import Tour

GLUED = ("pai_s7a_mean", "pai_s7a_half", "pai_seeds", "pai_low_density",
         "pai_low_synflow", "pai_low_random", "pai_s3_ratio", "pai_high_density")
"""Names of :func:`glued_numbers`, prefixed with the chapter (glue names are global)."""
TABLES = ("runs", "dense", "layers")
"""Names of :func:`tables` (files ``data/pai_in_ten_minutes-<name>.csv``)."""


def glued_numbers(tour: Tour, results: dict[str, claims.Estimate],
                  densities: Sequence[float]) -> dict[str, float]:
    """The numbers of :data:`GLUED`: S7a's mean and CI half-width (pp), the number of seeds,
    the lowest density with the first model's SynFlow and random test accuracy there (%,
    means over seeds), S3's ratio (SNIP's largest-layer density ÷ global density) and the
    highest density."""
    low = min(densities)
    first = tour.runs["model.name"].iloc[0]
    at_low = tour.runs[(tour.runs["model.name"] == first)
                       & ((tour.runs["prune.density"] - low).abs() < 1e-12)]
    by_method = at_low.groupby("prune.method")["test_accuracy"].mean() * 100
    return {
        "pai_s7a_mean": float(results["S7a"].mean),
        "pai_s7a_half": float(results["S7a"].half_width),
        "pai_seeds": float(tour.runs["seed"].nunique()),
        "pai_low_density": float(low),
        "pai_low_synflow": float(by_method.get("synflow", float("nan"))),
        "pai_low_random": float(by_method.get("random", float("nan"))),
        "pai_s3_ratio": float(results["S3"].mean),
        "pai_high_density": float(max(densities)),
    }


def tables(tour: Tour) -> dict[str, pd.DataFrame]:
    """The frames the figures and verdicts are made from, by :data:`TABLES` name: the pruned
    runs, the dense runs and the per-layer densities of every pruned run."""
    return {"runs": tour.runs, "dense": tour.dense, "layers": tour.layers}
