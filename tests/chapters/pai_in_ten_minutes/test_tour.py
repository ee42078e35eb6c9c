"""The ten-minute tour's grid, tables, claims and verdict numbers, on small frames and the
authors' typed-in Fig. 6 data."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book import claims as book_claims
from pruninglib.chapters.pai_in_ten_minutes import claims, sweep, tables, verdicts
from pruninglib.config import DataSpec, ModelSpec, RunSpec, TrainSpec

FIRST, SECOND = "lenet_300_100", "conv4"
ACCURACY = {  # (method, density) -> test accuracy of seed 0; seed s adds s / 100
    ("random", 0.1): 0.80, ("magnitude", 0.1): 0.86, ("snip", 0.1): 0.84,
    ("synflow", 0.1): 0.85, ("random", 0.01): 0.40, ("magnitude", 0.01): 0.50,
    ("snip", 0.01): 0.60, ("synflow", 0.01): 0.70}


def _tour():
    """Three seeds, two models; seed 2 of magnitude at 0.1 is 0.90 (it stays the best other
    by mean: 0.8767 against SNIP's 0.85). Two layers per run: 'big' (1000 weights) and
    'small' (10)."""
    runs, layers = [], []
    for model in (FIRST, SECOND):
        for (method, density), acc in ACCURACY.items():
            for seed in range(3):
                value = acc + seed / 100
                if (method, density, seed) == ("magnitude", 0.1, 2):
                    value = 0.90
                if model == SECOND and method == "random" and density == 0.01:
                    value = 0.65 + seed / 100
                ident = {"model.name": model, "prune.method": method,
                         "prune.density": density, "seed": seed}
                runs.append({**ident, "test_accuracy": value, "collapsed_layers": seed % 2,
                             "prune_seconds": 0.1 * (seed + 1), "train_seconds": 1.0})
                big = density * (0.5 if method == "snip" else 1.0) * (1 + seed / 10)
                layers += [{**ident, "layer": "big", "numel": 1000, "density": big},
                           {**ident, "layer": "small", "numel": 10, "density": 0.5}]
    dense = pd.DataFrame({"model.name": [FIRST] * 3, "prune.method": "dense", "seed": [0, 1, 2],
                          "test_accuracy": 0.88})
    return sweep.Tour(dense, pd.DataFrame(runs), pd.DataFrame(layers))


def test_results_compare_synflow_with_the_best_other_by_mean_paired_by_seed():
    found = verdicts.results(_tour(), [FIRST, SECOND], [0.1, 0.01], setting="tiny")
    assert sorted(found) == ["S3", "S7a", "S7b", "S7c"]
    # S7a: the best other by mean is magnitude (0.86, 0.87, 0.90): SynFlow − it per seed
    # is −1, −1, −3 pp (a per-seed maximum would have picked the same here by chance)
    assert found["S7a"].mean == pytest.approx(-5 / 3) and found["S7a"].n == 3
    assert "vs magnitude, the best other by mean" in found["S7a"].setting
    assert found["S7a"].entered_text() == "entered: 4 of 4 methods, at least 2 needed"
    assert found["S7b"].mean == pytest.approx(30.0)   # 0.70 − 0.40
    assert found["S7c"].mean == pytest.approx(5.0)    # 0.70 − 0.65
    # S3: SNIP keeps half the global share in the big layer, seeds ×1, ×1.1, ×1.2
    assert found["S3"].mean == pytest.approx(0.55) and "largest layer: big" in found["S3"].setting
    assert verdicts.largest_layer(_tour().layers, FIRST) == "big"
    with pytest.raises(ValueError, match="model='vgg16' has no layer rows"):
        verdicts.largest_layer(_tour().layers, "vgg16")


def test_tables_are_means_and_medians_over_seeds():
    runs = _tour().runs
    accuracy = tables.accuracy_table(runs)
    assert list(accuracy.columns) == [0.1, 0.01]
    assert accuracy.loc[(FIRST, "synflow"), 0.01] == 71.0
    assert accuracy.loc[(FIRST, "magnitude"), 0.1] == pytest.approx(87.7)
    assert tables.collapsed_table(runs).loc[(FIRST, "random"), 0.1] == pytest.approx(1 / 3)
    seconds = tables.seconds_table(runs).loc[(FIRST, "snip")]
    assert seconds.tolist() == [0.2, 1.0]


def test_declared_claims_quote_fig6_at_the_tested_compression():
    rows = claims.declared([FIRST, SECOND], [0.1, 0.03, 0.01, 0.003], dataset="fashion_mnist",
                           train_subset=5000, epochs=3, seeds=3, widths={SECOND: 0.25})
    by_id = {c.id: c for c in rows}
    assert list(by_id) == ["S7a", "S7b", "S7c", "S3"]
    # ρ = 333 is tested; Fig. 6's nearest compression is 10^2.5 (VGG-16, CIFAR-10)
    assert by_id["S7b"].paper_number.value == "SynFlow 86.81 % vs random 49.05 %"
    assert "ρ = 10^2.5 ≈ 316 (ours: 333)" in by_id["S7b"].paper_number.setting
    assert "density 0.003 (ρ = 333.333)" in by_id["S7b"].metric
    assert "Conv-4" in by_id["S7c"].metric
    assert by_id["S7c"].scale.ours == "Conv-4×0.25 · fashion_mnist 5000 · 3 ep · 3 seeds"
    assert by_id["S7b"].scale.ours.startswith("LeNet-300-100 · ")
    # ρ = 10: SynFlow 93.26 against the best other by mean, magnitude 93.12
    assert by_id["S7a"].paper_number.value == \
        "SynFlow 93.26 % vs magnitude 93.12 % (the best other)"
    assert all(c.criterion.why and c.scale for c in rows)
    assert all(c.kind == "claim" for c in rows)


def test_calibrations_are_computed_from_the_typed_in_fig6_data():
    rows = {c.id: c for c in claims.declared([FIRST], [0.1, 0.003], dataset="fashion_mnist",
                                             train_subset=None, epochs=3, seeds=3)}
    assert rows["S7a"].calibration.format() == "pass: 12 of 12 panels at α = 1"
    assert rows["S7b"].calibration.format() == "pass: 12 of 12 panels at α = 2.5"
    assert rows["S3"].calibration.result == "n.a."  # Fig. 1 data are not typed in
    # the former S7a (within 1 pp of the unpruned network) fails on the authors' data
    former = claims.former_s7a(0.1)
    assert former.result == "fail" and former.detail == "5 of 12 panels at α = 1"
    # no Fig. 6 compression near ρ = 10^4: no number quoted, calibration n.a.
    assert claims.fig6_alpha(1e-4) is None and claims.fig6_number(1e-4, "random") is None
    assert claims.fig6_calibration(1e-4, claims.BEATS, "random").result == "n.a."
    with pytest.raises(ValueError, match="at least one of each"):
        claims.declared([], [0.1], dataset="x", train_subset=None, epochs=1, seeds=1)


def test_a_claim_row_gives_its_verdict_with_the_replicate_rule():
    s7a = claims.declared([FIRST], [0.1], dataset="x", train_subset=None, epochs=1,
                          seeds=2)[0]
    two = book_claims.Estimate.from_samples([-0.5, -0.4], unit="pp")
    three = book_claims.Estimate.from_samples([-0.5, -0.4, -0.6], unit="pp")
    assert s7a.verdict(two) == book_claims.PARTLY       # < 3 replicates: never reproduced
    assert s7a.verdict(three) == book_claims.REPRODUCED  # whole CI above −3 pp


def _design(**changes):
    values = dict(data=DataSpec("synthetic", train_subset=64, test_subset=32),
                  training=TrainSpec(epochs=1, batch_size=32), models=(FIRST,),
                  methods=("random", "synflow"), densities=(0.5,), seeds=2,
                  widths={FIRST: 0.1})
    return sweep.TourDesign(**{**values, **changes})


def test_the_tour_trains_dense_and_pruned_runs_with_the_same_specs(tmp_path):
    design = _design()
    tour = sweep.run_tour(design, results_dir=tmp_path, progress=False)
    assert len(tour.dense) == 2 and len(tour.runs) == 4
    assert sorted(tour.runs["prune.method"]) == ["random", "random", "synflow", "synflow"]
    dense_key = RunSpec(data=design.data, model=ModelSpec(FIRST, width=0.1),
                        train=design.training, seed=1).key()
    assert dense_key in set(tour.dense["key"])
    assert set(tour.layers["key"]) == set(tour.runs["key"])
    # the plan lists exactly the runs the tour trained, dense first
    keys = [t.key() for t in design.tasks()]
    assert keys == list(tour.dense["key"]) + list(tour.runs["key"])


def test_the_plan_at_smoke_and_paper_lists_unique_training_runs_of_the_notebook_grid():
    from pruninglib.book import parameters_for
    from pruninglib.chapters.pai_in_ten_minutes import plan

    for profile in ("smoke", "paper"):
        params = parameters_for("pai_in_ten_minutes", profile)
        tasks = plan(params)
        per_model = params["seeds"] * (1 + len(params["methods"]) * len(params["densities"]))
        assert len(tasks) == len({t.key() for t in tasks}) == per_model * len(params["models"])
        assert {t.kind for t in tasks} == {"run"}
    # the notebook's first grid: the first model's dense runs, seeds 0 .. seeds-1
    smoke = parameters_for("pai_in_ten_minutes", "smoke")
    design = sweep.TourDesign.from_parameters(smoke)
    base, dense, _ = design.grids()[0]
    assert base.model.name == smoke["models"][0] and dense == {"seed": list(range(
        smoke["seeds"]))}
    first = {RunSpec(data=design.data, model=base.model, train=design.training,
                     seed=s).key() for s in range(smoke["seeds"])}
    assert first <= {t.key() for t in plan(smoke)}


def test_the_report_glues_its_named_numbers_and_saves_its_named_tables():
    from pruninglib.chapters.pai_in_ten_minutes import report

    tour = _tour()
    found = verdicts.results(tour, [FIRST, SECOND], [0.1, 0.01])
    numbers = report.glued_numbers(tour, found, [0.1, 0.01])
    assert tuple(numbers) == report.GLUED
    assert numbers["pai_s7a_mean"] == pytest.approx(-5 / 3) and numbers["pai_seeds"] == 3
    assert numbers["pai_low_synflow"] == pytest.approx(71.0)   # 0.70, 0.71, 0.72
    assert numbers["pai_low_random"] == pytest.approx(41.0)
    assert numbers["pai_s3_ratio"] == pytest.approx(0.55)
    assert numbers["pai_low_density"] == 0.01 and numbers["pai_high_density"] == 0.1
    assert tuple(report.tables(tour)) == report.TABLES
