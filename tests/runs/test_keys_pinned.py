"""Run keys are the names of stored results: a results folder built before any refactoring
must still be found. These keys were computed on the code before the library was reorganised
into core / runs / book / chapters (commit 5c3eee6)."""
import pytest

from pruninglib.config import DataSpec, ModelSpec, PruneSpec, RunSpec, ToSTSpec, TrainSpec
from pruninglib.runs.experiments import run_task

PINNED = [
    (RunSpec(), "3703599bfae8bb84"),
    (RunSpec(data=DataSpec("fashion_mnist", train_subset=3000), model=ModelSpec("lenet_300_100"),
             prune=PruneSpec("synflow", density=0.01), train=TrainSpec(epochs=3), seed=2),
     "9840111b7ce948aa"),
    (RunSpec(model=ModelSpec("vgg11", width=0.25), prune=PruneSpec("snip", density=0.1), seed=1),
     "fda1a6ae8f67f182"),
    (RunSpec(model=ModelSpec("mlp", hidden=(100,) * 20, activation="tanh", sigma_w=1.0,
                             sigma_b=0.0),
             prune=PruneSpec("random", density=0.5, rescale="fan_in")), "431b4418d35e89b2"),
    (RunSpec(data=DataSpec("mnist1d"), model=ModelSpec("cnn1d"), prune=PruneSpec("erk", density=0.05)),
     "3f705e301db26cb5"),
    (RunSpec(data=DataSpec("mnist1d"), model=ModelSpec("resnet20", width=0.25),
             prune=PruneSpec("snip", density=0.1),
             tost=ToSTSpec(ghost_skip_epochs=1, gradinit_steps=5), seed=3), "e42b4f6da0dc215e"),
]


@pytest.mark.parametrize("spec, key", PINNED)
def test_a_run_keeps_its_key(spec, key):
    assert spec.key() == key
    assert run_task(spec).key() == key  # the cached-computation path files it there
