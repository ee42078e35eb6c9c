"""The chapter's figures draw from tidy frames: panels, axes, lines and legends."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from pruninglib.chapters.robust_pruning import figures

from .frames import res_runs, train_layers, train_runs


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def legend_texts(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_generic_panels_draw_from_tidy_frames():
    runs = train_runs()
    fig = figures.metric_vs_compression(runs, row="activation", col="prune.rescale",
                                        chance=0.1)
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    fig = figures.metric_vs_depth(res_runs().assign(panel="all"), depth="blocks", hue="net",
                                  col="panel", colors={"standard": "red", "Stable": "blue"},
                                  labels={"standard": "standard", "Stable": "Stable"})
    assert fig.axes[0].get_xscale() == "log"
    layers = pd.DataFrame([{"activation": "tanh", "method": "snip", "phase": phase,
                            "layer_index": i, "seed": 0,
                            "density": 0.0 if (phase == "ordered" and i < 2) else 0.3}
                           for phase in figures.PHASES for i in range(5)])
    fig = figures.layer_profiles(layers, row="activation", col="method", global_density=0.3)
    assert fig.axes[0].get_yscale() == "log"
    assert "layer pruned away (collapse)" in legend_texts(fig)


def test_phase_diagrams_style_the_marks_by_kind():
    grid = pd.DataFrame([{"sigma_b": b, "sigma_w": w, "chi": w / (1 + b)}
                         for b in (0.0, 0.5, 1.0) for w in (0.5, 1.0, 2.0)])
    marks = pd.DataFrame([{"activation": "tanh", "sigma_b": 0.2, "sigma_w": 1.3,
                           "mark": mark} for mark in figures.MARK_STYLES])
    fig = figures.phase_diagrams({"tanh": grid}, {"tanh": ([0, 1], [1, 2])}, marks)
    assert fig.axes[0].get_xlabel().startswith("bias")
    assert {"our EOC point", "authors' code's EOC point",
            "chaotic init used here"} <= set(legend_texts(fig))
    theory = pd.DataFrame([{"activation": "tanh", "phase": p, "layer": i, "c": 0.5, "q": 1.0}
                           for p in figures.PHASES for i in range(1, 4)])
    fig = figures.propagation(theory, theory.assign(pair=0))
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log"


def test_chapter_figures():
    fig = figures.pruned_layers(train_layers(), 0.1)
    assert [ax.get_title() for ax in fig.axes] == ["tanh, SNIP", "tanh, magnitude"]
    fig = figures.accuracy_by_init(train_runs(), ["magnitude", "snip"])
    assert len(fig.axes) == 2 and fig.axes[0].get_ylim() == (0, 100)
    fig = figures.rescaling_accuracy(train_runs(), ["magnitude", "snip"])
    styles = {line.get_marker(): line.get_linestyle() for line in fig.axes[0].get_lines()
              if line.get_marker() in ("o", "s")}
    assert styles == {"o": "-", "s": "--"}   # rescaled: squares, dashed
    fig = figures.residual_by_depth(res_runs(), [0.1])
    assert fig.axes[0].get_title() == "SNIP at 90 % sparsity"
    assert "Stable + SNIP (SBP-SR)" in legend_texts(fig)
    layers = pd.DataFrame([{"depth": 4, "net": net, "prune.method": "snip",
                            "prune.density": 0.1, "seed": 0, "layer_index": i,
                            "density": 0.1} for net in ("standard", "Stable") for i in range(3)])
    fig = figures.residual_layers(layers, depth=4, density=0.1, family="resmlp")
    assert fig.axes[0].get_title() == "resmlp, depth 4, SNIP, BN-free scores"
