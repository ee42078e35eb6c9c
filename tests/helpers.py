"""Small builders shared by the tests."""
from __future__ import annotations

import torch

from pruninglib.config import DataSpec, ModelSpec, PruneSpec, RunSpec, TrainSpec
from pruninglib.models import build_model


def make_model(name="mlp", input_shape=(1, 8, 8), num_classes=4, seed=0, **fields):
    """Build a model after seeding torch (keyword arguments are ModelSpec fields)."""
    torch.manual_seed(seed)
    return build_model(ModelSpec(name, **fields), input_shape, num_classes)


# -- the small run the store, executor and experiment tests share ------------------------------
SMALL_RUN = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(16,)),
                    prune=PruneSpec("snip", density=0.2),
                    train=TrainSpec(epochs=2, batch_size=64))
TIMING = ["prune_seconds", "train_seconds"]  # wall-clock metrics: never compared


def numbers(result):
    """A Result's metrics, history and layers without the wall-clock times."""
    history = [{k: v for k, v in h.items() if k != "seconds"} for h in result.history]
    metrics = {k: v for k, v in result.metrics.items() if k not in TIMING}
    return metrics, history, result.layers


class Preempted(BaseException):
    """Stands for the job being killed right after a checkpoint was written."""


def preempt_after_checkpoint(monkeypatch, epoch: int | None = None) -> None:
    """Make the next checkpoint save (of ``epoch``, or any) raise :class:`Preempted` once it
    is written; ``monkeypatch.undo()`` restores the store."""
    from pruninglib.runs.store import ResultStore

    save = ResultStore.save_checkpoint

    def save_then_die(self, key, state, tensors):
        save(self, key, state, tensors)
        if epoch is None or state["epoch"] == epoch:
            raise Preempted
    monkeypatch.setattr(ResultStore, "save_checkpoint", save_then_die)
