"""The authors' numbers of the SynFlow chapter: summaries computed from the typed-in tables,
and the chapter's criteria calibrated on them (computed from the data, not asserted)."""
from __future__ import annotations

import math

import pytest

from pruninglib.book import claims
from pruninglib.book.calibration import S7_LOW_REVISED, S7_REVISED
from pruninglib.chapters.synflow import paper


def test_fig1_summary_reads_collapse_and_chance_from_the_typed_in_rows():
    summary = paper.fig1_summary()
    assert summary.loc["random", "first_collapse"] == 3.0
    assert summary.loc["random", "alpha_cr"] == 2.75
    assert summary.loc["random", "last_above_chance"] == 2.5
    assert summary.loc["snip", "alpha_cr"] == 3.5
    assert summary.loc["synflow", "first_collapse"] == 6.0
    assert paper.FIG1_ALPHA_MAX == pytest.approx(6.0230, abs=1e-4)
    assert summary.loc["synflow", "gap_collapse"] == pytest.approx(0.0230, abs=1e-4)
    assert summary.loc["grasp", "gap_cr"] == pytest.approx(2.5230, abs=1e-4)


def test_a_row_without_collapse_has_a_zero_gap_and_bad_rows_are_refused():
    accuracy = (50.0,) * 25
    table = {"never": (accuracy, "." * 25)}
    row = paper.fig1_summary(table).loc["never"]
    assert math.isnan(row["first_collapse"]) and row["gap_collapse"] == 0.0
    assert row["alpha_cr"] == 6.0 and row["last_above_chance"] == 6.0
    with pytest.raises(ValueError, match="25 of each"):
        paper.fig1_summary({"short": ((1.0,), ".")})


def test_fig1_cliff_every_baseline_is_at_chance_before_its_first_empty_layer():
    cliff = paper.fig1_cliff()
    assert cliff.to_dict() == {"random": 1.0, "magnitude": 1.0, "snip": 1.0, "grasp": 1.0}
    calibration = paper.calibrate_cliff(claims.above(10.0, "pp"))
    assert calibration.result == "n.a."
    assert "holds for 0 of 4 methods (random +0.0 pp" in calibration.detail
    # a row that stays above chance until its first empty layer passes
    rows = {"late": ((30.0,) * 12 + (1.0,) * 13, "." * 12 + "x" * 13)}
    assert paper.fig1_cliff(rows).to_dict() == {"late": 30.0}


def test_imp_files_reach_chance_at_4_0_with_four_and_five_cycles():
    first = paper.imp_first_chance()
    assert first.to_dict() == {1: 1.9, 2: 3.5, 3: 4.2, 4: 4.0, 5: 4.0}
    assert paper.imp_first_chance_text() == ("1.9 with 1 cycle, 3.5 with 2, 4.2 with 3, "
                                             "4.0 with 4, 4.0 with 5")


def test_fig6_quotes_synflow_against_the_best_other_by_mean():
    assert paper.fig6_versus("VGG-16", 2.0) == "90.08 % vs 89.80 % (magnitude)"
    assert paper.fig6_versus("VGG-11", 3.0) == "76.94 % vs 65.43 % (SNIP)"
    assert paper.fig6_versus("ResNet-18", 2.0) == "90.36 % vs 90.80 % (SNIP)"
    with pytest.raises(ValueError, match="network"):
        paper.fig6_versus("AlexNet", 2.0)


def test_s1_and_s6_calibrations_are_computed_from_fig1(monkeypatch):
    s1 = paper.calibrate_s1(claims.above(1.0))
    assert (s1.result, s1.holding, s1.units) == ("pass", 4, 4)
    assert "smallest gap 2.52 decades" in s1.detail
    assert paper.calibrate_s1(claims.above(3.0)).result == "fail"   # SNIP and GraSP: 2.52
    assert paper.calibrate_s6(claims.below(0.25)).result == "pass"  # 0.02 decades
    assert paper.calibrate_s6(claims.below(0.01)).result == "fail"
    # change the typed-in data: random now collapses at alpha = 6 only -> S1 fails on it
    rows = dict(paper.FIG1)
    rows["random"] = (rows["random"][0], "." * 24 + "x")
    monkeypatch.setattr(paper, "FIG1", rows)
    moved = paper.calibrate_s1(claims.above(1.0))
    assert (moved.result, moved.holding) == ("fail", 3)


def test_s4_calibration_uses_the_cycles_we_compare():
    one_three = paper.calibrate_s4(claims.above(0.0), 1, 3)
    assert one_three.result == "pass" and one_three.detail.startswith("+2.30 decades")
    assert paper.calibrate_s4(claims.above(2.5), 1, 3).result == "fail"
    assert paper.calibrate_s4(claims.above(0.0), 4, 5).result == "fail"  # 4.0 -> 4.0
    assert paper.calibrate_s4(claims.above(0.0), 1, 7).result == "n.a."


def test_s7_criteria_on_fig6_need_the_revised_tolerance_at_alpha_1_and_2():
    strict = paper.calibrate_s7(2.0, claims.above(0.0, "pp"))
    assert (strict.result, strict.holding, strict.units) == ("fail", 10, 12)
    assert paper.calibrate_s7(2.0, S7_REVISED).result == "pass"
    assert paper.calibrate_s7(3.0, claims.above(0.0, "pp")).result == "pass"
    assert paper.calibrate_s7(1.0, claims.above(-1.0, "pp")).result == "fail"
    assert paper.calibrate_s7(1.0, S7_LOW_REVISED).result == "pass"
