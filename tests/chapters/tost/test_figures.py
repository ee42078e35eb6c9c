"""The ToST chapter's figures: a panel per mask (gains) or per protocol (accuracy)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pruninglib.chapters.tost import experiment, figures


def test_gain_figure_has_a_panel_per_mask_and_a_line_per_protocol(runs_frame):
    fig = figures.plot_gains(experiment.gains(runs_frame))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["random mask", "SNIP mask"]
    assert panels[0].get_yscale() == "linear"
    assert len(panels[0].containers) == 3  # ghost skips, fan-in, all
    assert panels[0].get_ylabel() == "gain over default (accuracy points)"


def test_a_trick_run_on_one_mask_only_appears_in_its_panel_and_once_in_the_legend(runs_frame):
    subset = runs_frame[(runs_frame["protocol"] != "ghost_skips")
                        | (runs_frame["prune.method"] == "snip")]
    fig = figures.plot_gains(experiment.gains(subset))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [len(ax.containers) for ax in panels] == [2, 3]  # random: fan-in, all
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert sorted(texts) == ["all (ToST)", "fan-in rescaling", "ghost skips"]


def test_a_diverged_protocol_switches_the_gain_axis_to_symlog(runs_frame):
    worse = runs_frame.assign(test_accuracy=runs_frame["test_accuracy"].where(
        runs_frame["protocol"] != "fan_in", 0.1))
    panel = next(ax for ax in figures.plot_gains(experiment.gains(worse)).axes
                 if ax.get_title())
    assert panel.get_yscale() == "symlog"


def test_accuracy_figure_has_a_panel_per_shown_protocol(runs_frame):
    dense = runs_frame[runs_frame["protocol"] == "default"].head(3).assign(
        **{"prune.method": "dense", "test_accuracy": 0.9})
    fig = figures.plot_accuracy(runs_frame, dense)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["default", "all (ToST)"]
    assert fig.axes[0].get_ylabel() == "test accuracy (%)"
