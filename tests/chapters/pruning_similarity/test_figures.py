"""The chapter's figures: panels, axes, legends on a toy drift frame."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from pruninglib.book import plots
from pruninglib.chapters.pruning_similarity import figures, study

from .frames import toy_drift, toy_study
from .test_study import GRID


def test_drift_figures_have_their_panels_axes_and_legends():
    plots.use_style()
    sim, summary = toy_drift()
    fig = figures.similarity_by_layer(sim)
    assert len(fig.axes) == 8 and fig.axes[0].get_ylim() == pytest.approx((-0.03, 1.03))
    assert [ax.get_title() for ax in fig.axes[:4]] == [
        "pruned + fine-tuned", "re-initialised, same mask", "random sparse, same layer sizes",
        "random sparse, uniform density"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "dense control: mean, range", "50 % sparse", "90 % sparse"]
    fig2 = figures.similarity_vs_compression(summary)
    ax = fig2.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == plots.COMPRESSION_LABEL
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2×", "10×"]
    fig3 = figures.accuracy_vs_similarity(summary, reference_accuracy={"vgg11": 0.9})
    assert fig3.axes[0].get_ylabel() == plots.ACCURACY_LABEL
    fig4 = figures.measures_by_layer(sim, 0.1, ["svcca"])
    assert len(fig4.axes) == 2 and "90 % sparsity" in fig4._suptitle.get_text()
    for f in (fig, fig2, fig3, fig4):
        plt.close(f)


def test_the_budget_figure_has_a_gap_and_a_cost_panel_per_model():
    plots.use_style()
    sim, runs = toy_study()
    arms = study.arms_frame(study.summarise(sim, runs, GRID), runs, GRID)
    fig = figures.budgets(arms, ["svcca", "cka"])
    top, bottom = fig.axes[0], fig.axes[1]
    assert top.get_title() == "LeNet-300-100" and bottom.get_xscale() == "log"
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["1", "5"]
    assert bottom.get_xlabel() == "fine-tuning epochs per pruning step"
    assert "pruned − control" in top.get_ylabel() and "(pp)" in bottom.get_ylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "dense control (gap 0)", "SVCCA", "linear CKA", "accuracy cost"]
    plt.close(fig)
