"""The SynFlow chapter's claims as data: kinds, reasons, scales and calibrations, filled in
from the parameters of a profile."""
from __future__ import annotations

import pytest

from pruninglib.book import claims
from pruninglib.book.calibration import S7_LOW_REVISED, S7_REVISED
from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.synflow import claims as synflow_claims


@pytest.fixture(scope="module")
def cpu_rows():
    return {row.id: row for row in synflow_claims.declared(parameters_for("synflow", "cpu"))}


def test_rows_follow_the_profile():
    smoke = [r.id for r in synflow_claims.declared(parameters_for("synflow", "smoke"))]
    assert smoke == ["S2", "S2-conv", "S2-res", "S2-approx", "S2-approx-res", "S3", "S3-SNIP",
                     "S3-order", "S1-mlp", "S1-cliff-lenet_300_100", "S1-acc", "S5",
                     "S5-single", "S6-mlp", "S4", "S7-low", "S7-lenet_300_100-2.5"]
    cpu = [r.id for r in synflow_claims.declared(parameters_for("synflow", "cpu"))]
    assert {"S1-vgg16", "S6-vgg16", "S1-cliff-lenet_300_100", "S7-lenet_300_100-2",
            "S7-lenet_300_100-2.5", "S7-vgg11-2"} <= set(cpu)
    # no S7 cell keeps fewer than 100 weights per layer: LeNet at 3 keeps 89, VGG-11 x1/8 16
    assert not {"S7-lenet_300_100-3", "S7-vgg11-3", "S1-cliff-vgg11"} & set(cpu)


def test_s7_cells_keep_at_least_100_weights_per_layer():
    P = parameters_for("synflow", "cpu", alphas={"lenet_300_100": [2, 2.5, 3],
                                                 "vgg11": [2, 3]})
    assert synflow_claims.s7_alphas(P, "lenet_300_100") == [2.0, 2.5]
    assert synflow_claims.s7_alphas(P, "vgg11") == [2.0]
    wide = parameters_for("synflow", "cpu", alphas={"vgg11": [2, 3]},
                          train_widths={"vgg11": 1.0})
    assert synflow_claims.s7_alphas(wide, "vgg11") == [2.0, 3.0]  # x1: 1,025 per layer at 3
    assert synflow_claims.cliff_models(P) == ["lenet_300_100"]


def test_identities_are_checks_and_the_theorem_is_not_measured(cpu_rows):
    kinds = {i: r.kind for i, r in cpu_rows.items()}
    assert [i for i, k in kinds.items() if k == "check"] == ["S2", "S2-conv", "S2-res", "S3",
                                                            "S1-acc"]
    assert kinds["S2-approx"] == kinds["S2-approx-res"] == kinds["S1-cliff-lenet_300_100"] \
        == "claim"
    assert [i for i, k in kinds.items() if k == "not_measured"] == ["S5"]
    assert all(cpu_rows[i].reason for i in ("S2", "S3", "S1-acc", "S5"))
    assert "If a method" in cpu_rows["S5"].statement and "only if" not in \
        cpu_rows["S5"].statement


def test_every_row_has_a_scale_and_every_criterion_a_reason(cpu_rows):
    for row in cpu_rows.values():
        assert row.scale is not None and row.scale.paper and row.scale.ours, row.id
        if row.criterion is not None:
            assert row.criterion.why, row.id
        texts = [row.id, row.statement, row.metric, row.scale.paper, row.scale.ours]
        if row.paper_number:
            texts += [row.paper_number.value, row.paper_number.setting]
        assert not any("{" in t or "}" in t for t in texts), row.id


def test_settings_are_written_into_the_rows(cpu_rows):
    assert cpu_rows["S2"].scale.ours.startswith("MLP 784–512–256–256–128–64–10")
    assert cpu_rows["S2-conv"].metric.startswith("the same log10 error, VGG-11 ×0.25")
    assert cpu_rows["S1-vgg16"].scale.ours == ("VGG-16 ×0.25 · 3×32×32 · pruning only, "
                                               "α step 0.5 · 3 seeds")
    assert cpu_rows["S7-vgg11-2"].scale.ours == ("VGG-11 ×0.125 · Fashion-MNIST 3k · 10 ep · "
                                                 "3 seeds")
    assert "biases (PyTorch's default draw)" in cpu_rows["S2-approx"].metric
    assert "250 training images" in cpu_rows["S2-approx"].metric
    cliff = cpu_rows["S1-cliff-lenet_300_100"]
    assert cliff.scale.ours.endswith("α grid 1, 1.5, 2, 2.25, 2.5, 2.75, 3, 3.25")
    assert cliff.paper_number.value.startswith("random 1.0 %, magnitude 1.0 %")
    assert cpu_rows["S6-mlp"].criterion.threshold == 0.5  # one grid step
    assert "with 3 cycles − with 1" in cpu_rows["S4"].metric


def test_s4_quotes_4_0_for_four_and_five_cycles(cpu_rows):
    assert "4.2 with 3, 4.0 with 4, 4.0 with 5" in cpu_rows["S4"].paper_number.value


def test_s7_criteria_are_the_calibrated_ones(cpu_rows):
    assert cpu_rows["S7-low"].criterion == S7_LOW_REVISED
    assert cpu_rows["S7-vgg11-2"].criterion == S7_REVISED
    assert cpu_rows["S7-lenet_300_100-2.5"].criterion == synflow_claims.S7_HIGH
    assert cpu_rows["S7-lenet_300_100-2.5"].paper_number.value == "86.81 % vs 84.65 % (SNIP)"
    for i in ("S7-low", "S7-lenet_300_100-2", "S7-lenet_300_100-2.5", "S1-mlp", "S6-vgg16",
              "S4"):
        assert cpu_rows[i].calibration.result == claims.PASS, i
    for i in ("S3-SNIP", "S2-approx", "S2-approx-res", "S1-cliff-lenet_300_100"):
        assert cpu_rows[i].calibration.result == claims.NOT_APPLICABLE, i


def test_a_trained_network_without_a_fig6_analogue_has_no_paper_number():
    P = parameters_for("synflow", "smoke", train_models=["conv4"],
                       alphas={"conv4": [2, 3]})
    row = next(r for r in synflow_claims.declared(P) if r.id == "S7-conv4-3")
    assert row.paper_number is None and row.scale.paper == "the paper's Fig. 6 networks"
