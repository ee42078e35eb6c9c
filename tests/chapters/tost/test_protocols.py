"""Training protocols of the ToST chapter: spec changes, their table, the ghosts' schedule."""
from __future__ import annotations

import pytest

from pruninglib.chapters.tost.protocols import (
    COMPONENTS,
    OWN_COMPONENTS,
    TOST_RECIPE,
    changes_frame,
    ghost_schedule,
    ghost_schedule_text,
    protocol_changes,
)
from pruninglib.config import ConfigError, RunSpec, TrainSpec


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


def test_fan_in_is_not_part_of_tosts_recipe():
    assert set(TOST_RECIPE) | set(OWN_COMPONENTS) == set(COMPONENTS)
    assert not set(TOST_RECIPE) & set(OWN_COMPONENTS)


def test_changes_table_has_one_row_per_protocol():
    kw = {"epochs": 10, "num_classes": 10, "gradinit_steps": 7}
    table = changes_frame({p: protocol_changes(p, **kw)
                           for p in ("default", "label_smoothing", "ghost_skips")})
    assert list(table["protocol"]) == ["default", "label smoothing", "ghost skips"]
    assert list(table["spec changes"]) == ["none", "train.label_smoothing = 0.1111",
                                           "tost.ghost_skip_epochs = 2"]


def _ghosts(epochs: int) -> RunSpec:
    kw = {"epochs": epochs, "num_classes": 10}
    return RunSpec(train=TrainSpec(epochs=epochs)).replace(
        **protocol_changes("ghost_neurons", **kw), **protocol_changes("ghost_skips", **kw))


def test_at_five_epochs_alpha_falls_over_the_first_epoch():
    # the cpu profile: K = max(1, round(0.2 * 5)) = 1, alpha falls at every step of epoch 1
    schedule = ghost_schedule(_ghosts(5))
    assert list(schedule["epoch"]) == [1, 2, 3, 4, 5]
    assert list(schedule["alpha, first step"]) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert list(schedule["alpha, end"]) == [0.0] * 5
    assert list(schedule["activation"]) == ["silu", "relu", "relu", "relu", "relu"]
    assert ghost_schedule_text(schedule) == (
        "The ghost skips are on for the first epoch of 5: alpha falls linearly at every "
        "training step, from 1 at the first step to 0 at the end of epoch 1 (alpha = 1 − t/1 "
        "after t epochs of training, t counted in steps); from epoch 2 on they are removed.")


def test_over_longer_runs_alpha_falls_over_several_epochs():
    schedule = ghost_schedule(_ghosts(20))  # K = 4
    assert list(schedule["alpha, first step"][:6]) == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert list(schedule["alpha, end"][:5]) == [0.75, 0.5, 0.25, 0.0, 0.0]
    assert list(schedule["activation"][:5]) == ["silu"] * 4 + ["relu"]
    assert "on for the first 4 epochs of 20" in ghost_schedule_text(schedule)
    plain = ghost_schedule(RunSpec(train=TrainSpec(epochs=3)))
    assert list(plain["activation"]) == ["relu"] * 3
    assert ghost_schedule_text(plain) == "No ghost skips in these 3 epochs."
