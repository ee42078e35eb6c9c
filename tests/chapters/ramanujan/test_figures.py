"""The chapter's figures draw one panel per model, with labelled axes and a legend."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from pruninglib.chapters.ramanujan import correlations as corr
from pruninglib.chapters.ramanujan import figures

from .test_verdicts import frame


def two_models() -> pd.DataFrame:
    one = frame()
    return pd.concat([one, one.assign(**{"model.name": "conv4"})], ignore_index=True)


def test_metrics_and_correlations_against_compression():
    masks = two_models()
    fig = figures.metrics_vs_compression(masks, {"imdb_mean": "IMDB", "narc_mean": "NaRC"},
                                         models=["conv4", "mlp"])
    axes = fig.get_axes()
    assert len(axes) == 4 and axes[0].get_title() == "Conv-4" and fig.legends
    assert axes[-1].get_xlabel().startswith("compression ratio")
    plt.close(fig)
    rho = corr.rank_correlations(masks)
    fig = figures.correlations_vs_compression(rho, corr.PREDICTORS,
                                              authors={"authors' IMDB, X": {0.1: 0.5}})
    assert len(fig.get_axes()) == 2 and fig.get_axes()[0].get_ylim() == (-1.08, 1.08)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "IMDB" in labels and "authors' IMDB, X" in labels
    plt.close(fig)


def test_layer_metric_against_layer_density():
    layers = pd.DataFrame({"model.name": "mlp", "variant": ["snip", "snip", "random"],
                           "shuffled": [False, True, False], "density": [0.1, 0.1, 0.2],
                           "imdb": [1.0, 0.5, float("nan")]})
    fig = figures.layer_metric_vs_density(layers)
    ax = fig.get_axes()[0]
    assert ax.get_ylabel() == "IMDB of the layer" and len(ax.collections) == 2  # twin, SNIP
    plt.close(fig)
