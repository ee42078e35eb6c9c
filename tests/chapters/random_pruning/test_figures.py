"""The chapter's figures draw from small frames: panels, lines, labels and legends."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from pruninglib.chapters.random_pruning import after_training, figures, parity


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _summary(variants, densities=(0.1, 0.01)) -> pd.DataFrame:
    return pd.DataFrame([{"variant": v, "prune.density": d, "mean": -1.0 * i, "low": -2.0 * i,
                          "high": 0.0, "n": 3} for i, v in enumerate(variants)
                         for d in densities])


def test_sanity_checks_figure_has_one_panel_per_check_and_the_tolerance():
    variants = [v for v, _ in parity.check_pairs(["snip", "synflow"])]
    fig = figures.sanity_checks_figure(_summary(variants), ["snip", "synflow"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["shuffled − found", "re-initialised − found"]
    assert all("pp" in ax.get_ylabel() for ax in fig.axes)
    assert fig.axes[-1].get_xlabel().startswith("density")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["SNIP", "SynFlow", "−1 pp (criterion)"]


def test_random_against_best_figure_draws_each_random_mask():
    fig = figures.random_against_best_figure(_summary(["uniform", "erk"]), ["uniform", "erk"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["uniform", "ERK",
                                                                  "−2 pp (criterion)"]


def test_after_training_figure_draws_each_scratch_network_against_magnitude():
    fig = figures.after_training_figure(_summary(list(after_training.COMPARED)))
    (ax,) = fig.axes
    assert ax.get_title() == "trained from scratch − magnitude after training (fine-tuned)"
    assert "magnitude after training (pp)" in ax.get_ylabel()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["uniform random", "random, its layer counts",
                      "its mask re-initialised (magnitude mask)", "−2 pp (criterion)"]
    colors = {line.get_color() for line in ax.lines if line.get_linestyle() == "-"}
    assert len(colors & set(figures.AFTER_TRAINING_COLORS.values())) == 3


def test_width_figure_and_ntk_figures():
    widths = parity.with_variants(pd.DataFrame({
        "prune.method": ["dense", "erk"] * 4, "model.width": [0.5] * 4 + [1.0] * 4,
        "seed": [0, 0, 1, 1] * 2, "test_accuracy": [0.9, 0.8, 0.91, 0.82, 0.92, 0.88,
                                                     0.93, 0.9]}))
    fig = figures.width_figure(widths, "lenet_300_100", 0.05)
    ax = fig.axes[0]
    assert ax.get_title() == "LeNet-300-100, density 0.05"
    assert ax.get_ylabel() == "test accuracy (%)" and "width" in ax.get_xlabel()
    ntk = pd.DataFrame([{"width": w, "keep": q, "seed": s, "scale": q ** 4 * (1 + 0.01 * s),
                         "scale_ratio": 1.0 + 0.01 * s, "relerr_rescaled": (w * q) ** -0.5,
                         "width_x_keep": w * q}
                        for w in (64, 256) for q in (1.0, 0.5) for s in (0, 1)])
    scales = figures.plot_scales(ntk, depth=3)
    assert "q^{4}" in scales.axes[0].get_legend_handles_labels()[1][1]
    errors = figures.plot_errors(ntk)
    assert [ax.get_title() for ax in errors.axes] == ["Error against width",
                                                     "Error against width × q"]
