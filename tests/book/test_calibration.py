"""Criteria calibrated on the authors' released numbers: the counts of issue 15 come out of the
typed-in data (recomputed here independently, and they move when the data move)."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from statistics import median

import pandas as pd
import pytest

from pruninglib.book import calibration, claims, reference

FIG6 = reference.SYNFLOW_FIG6


def _fig6_by_hand() -> dict:
    """(panel, alpha) -> {method label: mean}, read from the CSV with the csv module."""
    cells: dict = {}
    with open(FIG6, encoding="utf-8") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            cells.setdefault((row["panel"], float(row["alpha"])), {})[row["method"]] = \
                float(row["mean"])
    return cells


def _losing_panels(alpha: float, bar: float) -> set[str]:
    return {panel for (panel, a), means in _fig6_by_hand().items() if a == alpha
            and means["SynFlow"] - max(v for k, v in means.items() if k != "SynFlow") <= bar}


# -- the typed-in data --------------------------------------------------------------------
def test_reference_tables_are_tidy_and_name_their_source():
    fig6 = reference.synflow_fig6()
    assert fig6["panel"].nunique() == 12 and len(fig6) == 12 * 5 * 6
    assert set(fig6["method"]) == {"random", "magnitude", "snip", "grasp", "synflow"}
    assert sorted(fig6["alpha"].unique()) == [0.0, 1.0, 1.5, 2.0, 2.5, 3.0]
    # min and max are printed to 0.1, means to 0.01
    assert (fig6["low"] <= fig6["accuracy"] + 0.05).all()
    assert (fig6["accuracy"] <= fig6["high"] + 0.05).all()
    ram = reference.ramanujan_summary()
    assert len(ram) == 60 and set(ram["model"]) == {"resnet34", "vgg16"}
    assert sorted(ram["density"].unique()) == [0.01, 0.05, 0.1, 0.2, 0.4]
    assert ram["delta_r"].isna().sum() == 2  # GraSP on VGG-16: missing in the authors' file
    for path, name in ((FIG6, "synflow_fig6_table.txt"),
                       (reference.RAMANUJAN_SUMMARY, "ramanujan_summary_table.txt")):
        assert name in reference.source(path)
    readme = (Path(reference.__file__).parent / "README.md").read_text()
    assert "synflow_fig6.csv" in readme and "ramanujan_summary.csv" in readme


# -- SynFlow S7 on Fig. 6 -----------------------------------------------------------------
def test_s7_at_alpha_2_fails_in_2_of_12_panels_as_the_issue_says():
    result = calibration.synflow_s7(2.0)
    assert (result.result, result.holding, result.units) == ("fail", 10, 12)
    lead = calibration.fig6_lead(alpha=2.0)
    losing = set(lead[lead <= 0].index)
    assert losing == _losing_panels(2.0, 0.0) == {"cifar10_tiny_resnet18",
                                                  "cifar10_tiny_wide_resnet18"}
    assert calibration.synflow_s7(3.0).result == "pass"
    assert calibration.synflow_s7(3.0).detail == "12 of 12 panels"
    assert calibration.synflow_s7(2.0, calibration.S7_REVISED).result == "pass"


def test_s7_low_minus_1pp_bar_fails_in_4_of_12_panels():
    result = calibration.synflow_s7_low()
    assert (result.result, result.detail) == ("fail", "8 of 12 panels")
    lead = calibration.fig6_lead(alpha=1.0)
    assert set(lead[lead <= -1].index) == _losing_panels(1.0, -1.0)
    assert len(_losing_panels(1.0, -1.0)) == 4
    assert calibration.synflow_s7_low(calibration.S7_LOW_REVISED).result == "pass"


def test_s7_calibration_follows_the_data():
    fig6 = reference.synflow_fig6()
    boosted = fig6.copy()
    boosted.loc[boosted["method"] == "synflow", "accuracy"] += 1.0
    assert calibration.synflow_s7(2.0, frame=boosted).result == "pass"
    lowered = fig6.copy()
    lowered.loc[lowered["method"] == "synflow", "accuracy"] = 0.0
    assert calibration.synflow_s7(3.0, frame=lowered).detail.startswith("0 of 12")


def test_best_other_on_fig6_is_chosen_by_mean():
    # the same comparison through the generic helper, panel by panel, with seeds = one row
    fig6 = reference.synflow_fig6().assign(seed=0)
    panel = fig6[(fig6["panel"] == "cifar10_tiny_resnet18") & (fig6["alpha"] == 2.0)]
    result = claims.best_other(panel, "accuracy", "synflow")
    assert result.competitor == "snip"
    assert math.isclose(result.samples.iloc[0], 90.36 - 90.80)


# -- Ramanujan R1-R5 on the authors' summary table ----------------------------------------
def test_r2_random_wiring_on_top_holds_at_0_of_5_densities_for_resnet34():
    top = calibration.random_wiring_on_top()
    assert top.loc["resnet34"].sum() == 0 and top.loc["vgg16"].sum() == 5
    ram = reference.ramanujan_summary().dropna(subset=["delta_r"])
    by_hand = {(m, d): g.loc[g["delta_r"].idxmax(), "method"]
               for (m, d), g in ram.groupby(["model", "density"])}
    assert sum(v in ("random", "erk") for (m, _), v in by_hand.items() if m == "resnet34") == 0
    assert calibration.ramanujan_r2().result == "fail"
    revised = calibration.ramanujan_r2_revised()
    assert revised.result == "pass" and "ResNet-34 5 of 5" in revised.detail


def test_r4_random_masks_narc_is_positive_and_the_within_density_revision_passes():
    ram = reference.ramanujan_summary()
    rand = ram[ram["method"] == "random"]
    medians = {m: median(g["narc"]) for m, g in rand.groupby("model")}
    assert medians["resnet34"] == pytest.approx(0.004964) and medians["vgg16"] > 0
    r4 = calibration.ramanujan_r4()
    assert (r4.result, r4.holding, r4.units) == ("fail", 0, 2)
    per_density = calibration.random_narc() <= 0
    assert per_density.loc["resnet34"].sum() == 1 and per_density.loc["vgg16"].sum() == 2
    assert calibration.ramanujan_r4_revised().result == "pass"
    flipped = ram.copy()
    flipped.loc[flipped["method"] == "random", "narc"] *= -1
    assert calibration.ramanujan_r4(frame=flipped).result == "pass"


def test_r1_two_sided_r3_r5_on_the_authors_data():
    rho = calibration.median_rho()
    assert rho["resnet34"] == pytest.approx(-0.03, abs=0.01)
    assert rho["vgg16"] == pytest.approx(-0.09, abs=0.01)
    assert calibration.ramanujan_r1(claims.no_relationship(0.3)).result == "pass"
    # a strongly negative correlation no longer counts as "no relationship"
    assert calibration.ramanujan_r1(claims.no_relationship(0.01)).result == "fail"
    gain = calibration.imdb_gain()
    assert gain["resnet34"] == pytest.approx(0.16, abs=0.005)
    assert gain["vgg16"] == pytest.approx(0.23, abs=0.005)
    assert calibration.ramanujan_r3().result == "pass"
    assert calibration.ramanujan_r5().result == "pass"
    entered = calibration.spearman_by_density(metric="delta_r")
    assert set(entered.loc[entered["entered"] < entered["total"], "model"]) == {"vgg16"}


# -- the generic helper -------------------------------------------------------------------
def test_calibrate_counts_units_and_says_na_without_values():
    values = pd.Series([True, False, None, True], index=["a", "b", "c", "d"])
    result = calibration.calibrate(lambda f: f, values, unit="panels")
    assert (result.result, result.detail) == ("fail", "2 of 3 panels (1 undefined)")
    assert calibration.calibrate(lambda f: f, values, need=2).result == "pass"
    assert calibration.calibrate(lambda f: pd.Series([None, None]), None).result == "n.a."
    assert calibration.calibrate(lambda f: True, None).format() == "pass: 1 of 1 panels"
    assert set(calibration.summary()) >= {"S7 α=2", "R2", "R4", "R4 revised"}
