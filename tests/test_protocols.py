"""Training protocols of the ToST chapter: spec changes, paired gains, the gain figure."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from pruninglib.config import ConfigError, RunSpec, TrainSpec
from pruninglib.chapters.tost.protocols import COMPONENTS, gains, plot_gains, protocol_changes


def test_each_protocol_changes_only_its_own_fields():
    kw = {"epochs": 10, "num_classes": 10, "gradinit_steps": 7}
    assert protocol_changes("default", **kw) == {}
    assert protocol_changes("ghost_neurons", **kw) == {
        "tost.ghost_activation": "silu", "tost.ghost_activation_epochs": 2}
    assert protocol_changes("ghost_skips", epochs=4, num_classes=10) == {
        "tost.ghost_skip_epochs": 1}  # at least one epoch
    assert protocol_changes("label_smoothing", **kw) == {
        "train.label_smoothing": pytest.approx(0.1 * 10 / 9)}
    assert protocol_changes("fan_in", **kw) == {"prune.rescale": "fan_in"}
    every = protocol_changes("all", **kw)
    assert "prune.rescale" not in every and every["tost.gradinit_steps"] == 7
    assert protocol_changes("all", recipe=COMPONENTS, **kw)["prune.rescale"] == "fan_in"
    spec = RunSpec(train=TrainSpec(epochs=10)).replace(**every)
    assert spec.tost.ghost_skip_epochs == 2 and spec.tost.ghost_activation == "silu"
    with pytest.raises(ConfigError, match=r"protocol='swish' is not allowed"):
        protocol_changes("swish", **kw)
    with pytest.raises(ConfigError, match=r"recipe=\['mixup'\] is not allowed"):
        protocol_changes("all", recipe=["mixup"], **kw)


def _frame():
    rows = []
    for seed, (default, better) in enumerate([(0.50, 0.53), (0.60, 0.62)]):
        for protocol, acc in (("default", default), ("all", better), ("fan_in", default - .1)):
            rows.append({"model.name": "resmlp", "prune.method": "random",
                         "prune.density": 0.01, "seed": seed, "protocol": protocol,
                         "test_accuracy": acc})
    return pd.DataFrame(rows)


def test_gains_are_paired_by_seed_in_points():
    g = gains(_frame()).sort_values(["protocol", "seed"])
    assert list(g["protocol"]) == ["all", "all", "fan_in", "fan_in"]
    assert list(g["gain"].round(9)) == [3.0, 2.0, -10.0, -10.0]


def test_gain_figure_has_a_panel_per_mask():
    frame = pd.concat([_frame(), _frame().assign(**{"prune.method": "snip"})])
    fig = plot_gains(gains(frame))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["random mask", "SNIP mask"]
    assert panels[0].get_yscale() == "linear"
    worse = frame.assign(test_accuracy=frame["test_accuracy"].where(
        frame["protocol"] != "fan_in", 0.1))
    assert next(ax for ax in plot_gains(gains(worse)).axes if ax.get_title()).get_yscale() \
        == "symlog"
