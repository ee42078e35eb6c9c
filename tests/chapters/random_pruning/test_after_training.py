"""Magnitude pruning after training against networks trained from scratch: the masks each
variant starts from, the cached tasks (computed once, then loaded), the paired differences,
and bad input."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from pruninglib import seeds
from pruninglib.chapters.random_pruning import after_training
from pruninglib.config import ConfigError, DataSpec, ModelSpec, RunSpec, TrainSpec
from pruninglib.masks import shuffle_within_layers
from pruninglib.runs.networks import initial_network, seeded_network

PARENT = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(16,)),
                 train=TrainSpec(epochs=1, batch_size=64))
SHAPE, CLASSES = (1, 8, 8), 4


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def trained(results):
    return after_training.trained_network(PARENT, results_dir=results, device="cpu")


def _start(trained, variant, density=0.2):
    spec = after_training.task(PARENT, density, variant).spec
    return after_training.start(spec, trained, SHAPE, CLASSES, "cpu")


def test_finetune_keeps_the_largest_trained_weights_globally(trained):
    model, mask = _start(trained, "finetune")
    assert model is trained
    weights = dict(trained.named_parameters())
    kept = torch.cat([weights[n].detach().abs()[m] for n, m in mask.items()])
    pruned = torch.cat([weights[n].detach().abs()[~m] for n, m in mask.items()])
    total = sum(m.numel() for m in mask.values())
    assert len(kept) == round(0.2 * total)  # the exact count
    assert kept.min() >= pruned.max()  # one threshold over all layers


def test_random_keeps_each_layers_count_at_other_positions_on_the_initial_weights(trained):
    _, magnitude = _start(trained, "finetune")
    model, mask = _start(trained, "random")
    assert {n: int(m.sum()) for n, m in mask.items()} == \
           {n: int(m.sum()) for n, m in magnitude.items()}
    assert any((mask[n] != magnitude[n]).any() for n in mask)
    initial = initial_network(PARENT.model, SHAPE, CLASSES, PARENT.seed)
    for (name, p), (_, p0) in zip(model.named_parameters(), initial.named_parameters()):
        assert torch.equal(p, p0), name
    again = shuffle_within_layers(
        magnitude, seeds.generator(PARENT.seed, "after-training-random"))
    assert all(torch.equal(again[n], mask[n]) for n in mask)  # its own stream


def test_reinit_keeps_the_mask_on_the_reinit_streams_weights(trained):
    _, magnitude = _start(trained, "finetune")
    model, mask = _start(trained, "reinit")
    assert all(torch.equal(mask[n], magnitude[n]) for n in mask)
    fresh = seeded_network(PARENT.model, SHAPE, CLASSES,
                           seeds.derive_seed(PARENT.seed, "reinit"))
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), fresh.parameters()))
    # the same weights PruneSpec(reinit=True) trains from
    initial = initial_network(PARENT.model, SHAPE, CLASSES, PARENT.seed)
    assert not all(torch.equal(p, q) for p, q in zip(model.parameters(),
                                                      initial.parameters()))


def test_runs_are_computed_once_then_loaded(results, monkeypatch):
    frame = after_training.after_training_runs([PARENT], [0.5, 0.2], results_dir=results,
                                               device="cpu", progress=False)
    assert list(frame["variant"]) == list(after_training.LABELS.values()) * 2
    assert list(frame["prune.density"]) == [0.5] * 3 + [0.2] * 3
    assert frame["density"].round(2).tolist() == [0.5] * 3 + [0.2] * 3
    # the random variant keeps the magnitude mask's layer counts
    layers = [c for c in frame.columns if c.startswith("layer_")]
    assert len(layers) == 2
    by = frame.set_index(["prune.density", "variant"])[layers]
    for d in (0.5, 0.2):
        assert by.loc[(d, after_training.MAGNITUDE)].tolist() == \
               by.loc[(d, after_training.LABELS["random"])].tolist()

    def fail(*args, **kwargs):
        raise AssertionError("recomputed")
    monkeypatch.setattr(after_training, "train", fail)
    again = after_training.after_training_runs([PARENT], [0.5, 0.2], results_dir=results,
                                               device="cpu", progress=False)
    pd.testing.assert_frame_equal(frame, again)


def test_differences_pair_each_scratch_network_with_the_magnitude_one_by_seed():
    after = pd.DataFrame([
        {"variant": v, "prune.density": 0.1, "seed": s, "test_accuracy": a}
        for v, accs in ((after_training.MAGNITUDE, (0.90, 0.80)),
                        (after_training.LABELS["random"], (0.85, 0.78)),
                        (after_training.LABELS["reinit"], (0.88, 0.81))) for s, a in
        enumerate(accs)])
    runs = pd.DataFrame([{"variant": "uniform", "prune.density": d, "seed": s,
                          "test_accuracy": 0.7 + 0.01 * s} for d in (0.1, 0.01)
                         for s in (0, 1)])
    compared = after_training.with_uniform(runs, after)
    assert len(compared) == 8  # the uniform rows at 0.01 are left out
    gaps = after_training.against_magnitude(compared)
    by = gaps.set_index(["variant", "seed"])["difference"]
    assert by[("uniform", 0)] == pytest.approx(-20.0)
    assert by[("uniform", 1)] == pytest.approx(-9.0)
    assert by[(after_training.LABELS["random"], 1)] == pytest.approx(-2.0)
    assert by[(after_training.LABELS["reinit"], 1)] == pytest.approx(1.0)


@pytest.mark.parametrize("change, words", [
    ({"parent": PARENT.replace(**{"prune.method": "snip", "prune.density": 0.5})},
     "parent prune.method='snip' is not allowed"),
    ({"variant": "shuffle"}, "variant='shuffle' is not allowed: finetune, random, reinit"),
    ({"density": 1.0}, "density=1.0 is not allowed: a number in (0, 1)"),
])
def test_bad_input_is_one_line_naming_it(change, words):
    arguments = {"parent": PARENT, "density": 0.1, "variant": "finetune", **change}
    with pytest.raises(ConfigError) as error:
        after_training.task(**arguments)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_tasks_have_one_key_per_parent_density_and_variant():
    parents = [PARENT, PARENT.replace(seed=1)]
    tasks = after_training.tasks(parents, [0.5, 0.1])
    assert len({t.key() for t in tasks}) == len(tasks) == 2 * 2 * 3
    assert {t.kind for t in tasks} == {after_training.KIND}
    assert tasks[0].spec["parent"] == PARENT.to_dict()  # the chapter's dense run, as is
