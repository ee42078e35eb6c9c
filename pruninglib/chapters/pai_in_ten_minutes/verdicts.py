"""The estimate of every claim of the tour (:mod:`.claims`) from its frames (:class:`~.sweep.Tour`).

Accuracy differences are in percentage points, paired by seed (one seed gives the dense and
pruned runs the same initial weights); S7a's competitor is the best other method by its mean
over seeds (:func:`pruninglib.book.claims.best_other`).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...book import claims
from .sweep import Tour


def largest_layer(layers: pd.DataFrame, model: str) -> str:
    """The name of ``model``'s prunable layer with the most weights."""
    rows = layers[layers["model.name"] == model]
    if rows.empty:
        raise ValueError(f"model={model!r} has no layer rows: "
                         + ", ".join(sorted(layers["model.name"].unique())))
    return str(rows.loc[rows["numel"].idxmax(), "layer"])


def relative_densities(layers: pd.DataFrame) -> pd.DataFrame:
    """``layers`` with ``relative``: each layer's density ÷ the run's global density."""
    return layers.assign(relative=layers["density"] / layers["prune.density"])


def results(tour: Tour, models: Sequence[str], densities: Sequence[float], *,
            setting: str = "") -> dict[str, claims.Estimate]:
    """Claim id -> estimate: S7a (SynFlow − the best other method at the highest density,
    first model), S7b, S7c, ... (SynFlow − random at the lowest density, one per model) and
    S3 (SNIP's largest-layer density ÷ global density at the lowest density, first model)."""
    high, low = max(densities), min(densities)
    first = models[0]
    accuracy = dict(scale=100, unit="pp", setting=setting)
    versus = claims.best_other(tour.runs, "test_accuracy", "synflow", by="prune.method",
                               where={"model.name": first, "prune.density": high}, scale=100)
    found = {"S7a": versus.estimate(unit="pp", setting=setting)}
    for letter, model in zip("bcdefg", models):
        pruned = {"model.name": model, "prune.density": low}
        found[f"S7{letter}"] = claims.estimate(
            tour.runs, "test_accuracy", **accuracy,
            where={**pruned, "prune.method": "synflow"},
            minus={**pruned, "prune.method": "random"})
    largest = largest_layer(tour.layers, first)
    found["S3"] = claims.estimate(
        relative_densities(tour.layers[tour.layers["model.name"] == first]), "relative",
        unit="×", setting=f"{setting}; largest layer: {largest}",
        where={"prune.method": "snip", "prune.density": low, "layer": largest})
    return found
