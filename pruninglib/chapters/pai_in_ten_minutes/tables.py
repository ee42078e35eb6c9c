"""The tables of the tour, from its pruned-runs frame (:class:`~.sweep.Tour` ``runs``)."""
from __future__ import annotations

import pandas as pd

INDEX = ["model.name", "prune.method"]


def accuracy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (%) per (model, method), mean over seeds, one decimal; one column per
    density, highest first."""
    return (runs.pivot_table(index=INDEX, columns="prune.density", values="test_accuracy")
            .mul(100).round(1).sort_index(axis=1, ascending=False))


def collapsed_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Collapsed layers (no weight on any input-to-output path) per (model, method), mean
    over seeds; one column per density, highest first."""
    return (runs.pivot_table(index=INDEX, columns="prune.density", values="collapsed_layers")
            .sort_index(axis=1, ascending=False))


def seconds_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per run spent scoring (prune_seconds) and training (train_seconds),
    per (model, method), two decimals."""
    return runs.groupby(INDEX)[["prune_seconds", "train_seconds"]].median().round(2)
