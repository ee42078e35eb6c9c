"""The SynFlow chapter's estimates, from small hand-made frames of the four studies."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.synflow import collapse, verdicts

SEEDS = (0, 1, 2)


def _runs() -> pd.DataFrame:
    """LeNet-300-100 at alpha 1, 2.5 and 3.5, three seeds (10 % is chance: a collapsed net).
    At alpha 1 SNIP has the best mean (75) but random wins seed 1: the best of each seed would
    give SynFlow a mean lead of 0.33 pp, the best by mean gives 5 pp. SNIP collapses at 3.5,
    random at 3.5 in seeds 0 and 1 and at 2.5 in seed 2."""
    accuracy = {1: {"synflow": (80, 80, 80), "snip": (85, 70, 70), "random": (70, 84, 70)},
                2.5: {"synflow": (60, 62, 64), "snip": (61, 61, 61), "random": (40, 30, 10)},
                3.5: {"synflow": (30, 30, 30), "snip": (10, 10, 10), "random": (10, 10, 10)}}
    rows = []
    for alpha, by_method in accuracy.items():
        for method, values in by_method.items():
            for seed, acc in zip(SEEDS, values):
                rows.append({"model.name": "lenet_300_100", "prune.method": method,
                             "alpha": float(alpha), "seed": seed, "test_accuracy": acc / 100,
                             "collapsed": acc == 10, "collapsed_layers": int(acc == 10),
                             "plain": True,
                             "above_chance": acc / 100 - 0.1})
    return pd.DataFrame(rows)


def _conservation() -> pd.DataFrame:
    """The MLP (exact), and a VGG-11 and a ResNet-20 with biases and BatchNorm data
    statistics, where SNIP is off by 0.30-0.34 per unit (0.5 across cuts), SynFlow by 0.01."""
    rows = []
    for seed in SEEDS:
        for objective, error, slope in (("snip", 1e-15, -0.4), ("synflow", 0.0, -1.0),
                                        ("grasp", 0.8, 0.2)):
            rows.append({"network": "MLP", "model": "mlp", "batchnorm": False,
                         "bn_mode": "eval", "data_statistics": False,
                         "objective": objective, "seed": seed,
                         "unit_error": error * (seed + 1), "unit_mismatch": 0.0,
                         "cut_error": 0.0, "layer_spread": 0.0, "size_slope": slope})
        for model, objective, off in (("vgg11", "snip", 0.30 + 0.02 * seed),
                                      ("vgg11", "synflow", 0.01),
                                      ("resnet20", "snip", 0.5), ("resnet20", "synflow", 0.01)):
            residual = model == "resnet20"
            rows.append({"network": model, "model": model, "batchnorm": True,
                         "bn_mode": "eval", "data_statistics": True, "objective": objective,
                         "seed": seed, "unit_error": math.nan if residual else 2 * off,
                         "unit_mismatch": math.nan if residual else off,
                         "cut_error": off, "layer_spread": 0.9, "size_slope": -0.6})
    return pd.DataFrame(rows)


def _summary() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        for method, cr, first, smallest, largest in (
                ("random", 1.0, 1.5, True, False), ("magnitude", 1.5, 2.0, False, True),
                ("snip", 2.0, 2.5, False, True), ("grasp", 2.0, 2.5, None, None),
                ("synflow", 3.2, 3.2, None, None), ("synflow@1", 0.5, 1.0, False, True)):
            rows.append({"model.name": "mlp", "model.width": 1.0, "method": method,
                         "seed": seed, "alpha_max": 3.2, "alpha_cr": cr,
                         "alpha_collapse": first, "first_is_smallest": smallest,
                         "first_is_largest": largest})
    return pd.DataFrame(rows)


def _imp() -> pd.DataFrame:
    # 1 cycle collapses from alpha 2, 2 cycles from alpha 3 (seed 2: never on the grid)
    rows = []
    for seed in SEEDS:
        for cycles, first_bad in ((1, 2), (2, 3 if seed < 2 else 9)):
            for alpha in (1, 2, 3):
                rows.append({"prune.iterations": cycles, "seed": seed,
                             "prune.density": 10.0 ** -alpha,
                             "collapsed_layers": int(alpha >= first_bad)})
    return pd.DataFrame(rows)


def _params():
    return parameters_for("synflow", "smoke", seeds=3,
                          conservation_nets={"vgg11": 0.25, "resnet20": 0.5})


@pytest.fixture(scope="module")
def results():
    return verdicts.estimates(_params(), conservation=_conservation(), summary=_summary(),
                              runs=_runs(), imp=_imp())


def test_s7_takes_the_competitor_by_mean_then_pairs_by_seed(results):
    low = results["S7-low"]
    assert low.mean == pytest.approx(5.0) and low.n == 3
    assert "vs snip, the best other by mean" in low.setting
    assert (low.entered, low.total) == (3, 3)
    high = results["S7-lenet_300_100-2.5"]
    assert high.mean == pytest.approx(1.0)  # 62 - 61 on average: SNIP is the best other


def test_conservation_rows(results):
    # S2: log10 of the largest error per seed of SNIP and SynFlow on the MLP
    assert results["S2"].mean == pytest.approx(
        sum(math.log10(1e-15 * (s + 1)) for s in SEEDS) / 3)
    assert results["S3"].mean == pytest.approx(-1.0)
    assert results["S3-SNIP"].mean == pytest.approx(-0.4)
    assert results["S2-conv"].n == 0 and results["S2-res"].n == 0  # no such rows
    assert results["S2-approx"].mean == pytest.approx(0.32)  # SNIP, the worse, per seed
    assert results["S2-approx"].smallest == pytest.approx(0.30)
    assert results["S2-approx-res"].mean == pytest.approx(0.5)


def test_s1_cliff_is_the_smallest_margin_one_step_before_each_collapse(results):
    cliff = results["S1-cliff-lenet_300_100"]
    # seed 0: min(SNIP 61-10, random 40-10) = 30; seed 1: 20; seed 2: random collapses at
    # 2.5, one step before is alpha 1 (70 - 10 = 60), so SNIP's 51 is the smallest
    assert cliff.n == 3 and cliff.mean == pytest.approx((30 + 20 + 51) / 3)
    assert (cliff.entered, cliff.total) == (6, 6)
    points = collapse.cliff_points(_runs().assign(collapsed_layers=lambda f: f["collapsed"]))
    random = points[points["prune.method"] == "random"].set_index("seed")
    assert random.loc[2, "alpha_cr"] == 1.0 and random.loc[2, "alpha_collapse"] == 2.5
    synflow = points[points["prune.method"] == "synflow"]
    assert synflow["alpha_cr"].isna().all()  # never collapses on the grid: undefined


def test_collapse_rows(results):
    assert results["S1-mlp"].mean == pytest.approx(3.2 - 2.0)  # smallest gap: SNIP / GraSP
    assert results["S6-mlp"].mean == pytest.approx(0.0)
    assert results["S5-single"].mean == pytest.approx(2.7)
    order = results["S3-order"]
    assert order.mean == pytest.approx(1.0)  # random, magnitude, SNIP as predicted
    assert (order.entered, order.total, order.what) == (9, 12, "cases")  # GraSP undefined


def test_s1_acc_and_s4(results):
    assert results["S1-acc"].mean == pytest.approx(0.0)
    shift = results["S4"]
    # seeds 0, 1: 2.0 - 1.0; seed 2: no collapse on the grid, its largest alpha counts
    assert shift.n == 3 and shift.mean == pytest.approx((1 + 1 + 2) / 3)
    assert (shift.entered, shift.total, shift.what) == (3, 3, "seeds")


def test_s4_counts_seeds_whose_shift_is_undefined():
    imp = _imp()
    imp.loc[(imp["seed"] == 0) & (imp["prune.iterations"] == 1), "collapsed_layers"] = 1
    shift = verdicts.estimates(_params(), conservation=_conservation(), summary=_summary(),
                               runs=_runs(), imp=imp)["S4"]
    assert shift.n == 2 and (shift.entered, shift.total) == (2, 3)


def test_only_declared_measured_rows_get_an_estimate(results):
    assert "S5" not in results and "S1-vgg16" not in results
    assert set(results) == {"S2", "S2-conv", "S2-res", "S2-approx", "S2-approx-res", "S3",
                            "S3-SNIP", "S3-order", "S1-mlp", "S1-cliff-lenet_300_100",
                            "S1-acc", "S5-single", "S6-mlp", "S4", "S7-low",
                            "S7-lenet_300_100-2.5"}


def test_imp_critical_and_log_errors():
    table = verdicts.imp_critical(_imp())
    assert table.loc[0, 1] == pytest.approx(1.0) and table.loc[0, 2] == pytest.approx(2.0)
    assert table.loc[2, 2] == pytest.approx(3.0)
    assert verdicts.imp_shift(_imp(), 2, 2).empty
    errors = pd.DataFrame({"seed": [0, 0, 1], "e": [0.0, 1e-20, 1e-3]})
    assert verdicts.log_errors(errors, "e").to_dict() == {0: -16.0, 1: pytest.approx(-3.0)}


def test_summary_names_every_group(results):
    text = verdicts.summary_markdown(_params(), results)
    assert "SynFlow − best other 1.0 ± " in text and "(S5)" in text
    assert "is at least 33.7 ± " in text and "off by 0.320 ± " in text
    assert text.count("\n- ") == 5
