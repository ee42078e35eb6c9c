"""The chapter's grids of runs, and running one into tagged frames."""
from __future__ import annotations

import pytest

from pruninglib.chapters.robust_pruning import sweeps

from .frames import params


def tags(planned) -> list[dict]:
    return [t for _, t in planned]


def test_prune_grid_runs_magnitude_on_the_eoc_only_and_trains_nothing():
    planned = sweeps.prune_grid(params())
    # 2 depths (3 and the train depth 4) x 3 seeds: SNIP in 3 phases, magnitude on the EOC
    assert len(planned) == 2 * 3 * (3 + 1)
    assert {spec.train.epochs for spec, _ in planned} == {0}
    magnitude = [t["phase"] for s, t in planned if s.prune.method == "magnitude"]
    assert set(magnitude) == {"eoc"}
    assert {len(s.model.hidden) for s, _ in planned} == {3, 4}
    assert {(t["activation"], t["phase"]) for t in tags(planned)} == {
        ("tanh", "ordered"), ("tanh", "eoc"), ("tanh", "chaotic")}


def test_train_grid_has_dense_pruned_and_rescaled_eoc_nets():
    planned = sweeps.train_grid(params())
    dense = [s for s, _ in planned if s.prune.method == "dense"]
    rescaled = [(s, t) for s, t in planned if s.prune.rescale == "fan_in"]
    assert len(dense) == 3 * 3
    assert len(rescaled) == 2 * 2 * 3 and {t["phase"] for _, t in rescaled} == {"eoc"}
    assert len(planned) == 9 + (1 + 2 + 1) * 2 * 3 + 12 + 3   # + random at 0.1 on the EOC
    random = [(s, t) for s, t in planned if s.prune.method == "random"]
    assert {(s.prune.density, t["phase"]) for s, t in random} == {(0.1, "eoc")}
    assert {s.train.epochs for s, _ in planned} == {1}
    eoc_model = next(s.model for s, t in planned if t["phase"] == "eoc")
    assert eoc_model.hidden == (6,) * 4 and eoc_model.sigma_b == 0.2


def test_train_grid_adds_the_near_critical_inits_with_snip_and_their_dense_nets():
    planned = sweeps.train_grid(params(near_critical_chi=[0.9, 1.1]))
    near = [(s, t) for s, t in planned if t["phase"].startswith("near_")]
    # per near-critical init: dense + SNIP at the lowest density, 3 seeds, no rescaling
    assert len(near) == 2 * (1 + 1) * 3
    assert {s.prune.density for s, _ in near} == {1.0, 0.1}
    assert {s.prune.method for s, _ in near} == {"dense", "snip"}
    assert {s.prune.rescale for s, _ in near} == {"none"}
    assert len(planned) == len(sweeps.train_grid(params())) + len(near)


def test_residual_grid_scores_without_batchnorm_and_adds_other_criteria_at_the_largest_depth():
    planned = sweeps.residual_grid(params())
    assert len(planned) == 2 * 2 * (3 + 3) + 3
    pruned = [s for s, _ in planned if s.prune.method != "dense"]
    assert {s.prune.bn_mode for s in pruned} == {"none"}
    synflow = [t for s, t in planned if s.prune.method == "synflow"]
    assert {(t["depth"], t["net"]) for t in synflow} == {(4, "standard")}
    stable = next(s.model for s, t in planned if t["net"] == "Stable")
    assert stable.name == "resmlp" and stable.stable and stable.hidden == (8, 8)
    resnet = sweeps.residual_model(params(residual_family="resnet", residual_width=0.5), 20,
                                   True)
    assert resnet.name == "resnet20" and resnet.width == 0.5
    assert sweeps.residual_blocks(params(residual_family="resnet"), 32) == 15
    with pytest.raises(ValueError, match="residual_family='vit' is not allowed"):
        sweeps.residual_model(params(residual_family="vit"), 2, False)


def test_run_planned_gives_tagged_run_and_layer_frames(tmp_path):
    planned = [p for p in sweeps.prune_grid(params(seeds=1)) if p[1]["phase"] != "chaotic"]
    runs, layers = sweeps.run_planned(planned, results_dir=tmp_path, device="cpu")
    assert len(runs) == len(planned) == 6
    assert list(runs["phase"]) == [t["phase"] for _, t in planned]
    assert list(runs["depth"]) == [len(s.model.hidden) for s, _ in planned]
    assert list(runs["key"]) == [s.key() for s, _ in planned]
    # every prunable layer of every run, with its run's tags: depth + 1 layers
    assert len(layers) == sum(d + 1 for d in runs["depth"])
    assert set(layers.groupby("key")["phase"].nunique()) == {1}
    kept = layers.groupby("key")["kept"].sum() / layers.groupby("key")["numel"].sum()
    assert kept.round(2).tolist() == [0.3] * 6


def test_run_planned_in_ensembles_equals_the_runs_trained_alone(tmp_path):
    planned = [p for p in sweeps.train_grid(params(seeds=1)) if p[1]["phase"] == "eoc"]
    alone, _ = sweeps.run_planned(planned, results_dir=tmp_path / "alone", device="cpu")
    together, _ = sweeps.run_planned(planned, results_dir=tmp_path / "together", device="cpu",
                                     ensemble=True)
    assert list(together["key"]) == list(alone["key"])
    for column in ("test_accuracy", "test_loss", "train_loss"):
        assert together[column].tolist() == pytest.approx(alone[column].tolist(), abs=1e-4)
    from pruninglib.runs.experiments import run

    sizes = {run(s, results_dir=tmp_path / "together", progress=False).env.get("ensemble_size")
             for s, _ in planned}  # stored: loaded, not trained again
    assert max(size or 1 for size in sizes) > 1  # trained together, not alone
