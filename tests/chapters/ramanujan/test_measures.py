"""R2–R4's within-density comparisons, by hand and on the authors' table (where the book's
calibration module computes the same quantities independently)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruninglib.book import calibration
from pruninglib.chapters.ramanujan import correlations as corr
from pruninglib.chapters.ramanujan import measures


def masks(density: float, seed: int, **columns) -> pd.DataFrame:
    """One row per variant (random, erk, snip, iter_snip, grasp, synflow) of one cell."""
    variants = ["random", "erk", "snip", "iter_snip", "grasp", "synflow"]
    return pd.DataFrame({"model.name": "m", "variant": variants, "prune.density": density,
                         "seed": seed, **columns})


def test_random_wiring_margin_and_narc_margin_per_cell():
    frame = pd.concat([
        masks(0.1, 0, delta_r_mean=[1.0, 3.0, -4.0, -1.0, 0.0, 2.0],
              narc_mean=[0.01, -0.2, 0.3, -0.1, 0.05, -0.5]),
        masks(0.01, 0, delta_r_mean=[math.nan, math.nan, -4.0, -1.0, 0.0, 2.0],
              narc_mean=[math.nan] + [0.1] * 5)], ignore_index=True)
    margin = measures.random_wiring_margin(frame).set_index("prune.density")
    # max(1, 3) - median(-4, -1, 0, 2) = 3 - (-0.5) = 3.5; no random-wired value at 0.01
    assert margin.loc[0.1, "value"] == pytest.approx(3.5)
    assert math.isnan(margin.loc[0.01, "value"])
    narc = measures.narc_margin(frame).set_index("prune.density")
    # median |0.3|, |-0.1|, |0.05|, |-0.5| = 0.2; minus |0.01| -> 0.19
    assert narc.loc[0.1, "value"] == pytest.approx(0.19)
    assert math.isnan(narc.loc[0.01, "value"])
    per_seed = measures.median_per_seed(margin.reset_index())
    assert per_seed[["value", "entered", "densities"]].values.tolist() == [[3.5, 1, 2]]


def test_ramanujan_gain_at_one_density_per_model():
    frame = pd.concat([masks(0.1, 0, perc_ram_by_imdb=[0.5] * 6, perc_ram_by_delta_r=[0.2] * 6),
                       masks(0.2, 0, perc_ram_by_imdb=[1.0] * 6,
                             perc_ram_by_delta_r=[1.0] * 6)], ignore_index=True)
    assert measures.ramanujan_gain(frame, 0.1)["value"].tolist() == pytest.approx([0.3])
    assert measures.ramanujan_gain(frame, {"m": 0.2})["value"].tolist() == pytest.approx([0.0])


def test_on_the_authors_table_the_margins_agree_with_the_calibration_module():
    ours = corr.authors_frame()
    for mine, theirs in ((measures.random_wiring_margin(ours), calibration.random_wiring_margin()),
                         (measures.narc_margin(ours), calibration.narc_margin())):
        mine = mine.set_index(["model.name", "prune.density"])["value"]
        assert len(mine) == len(theirs) == 10
        for (model, density), value in theirs.items():
            assert mine[(model, density)] == pytest.approx(value)
    # the authors' random-wired mask out-scores the typical found mask at every density
    assert (measures.random_wiring_margin(ours)["value"] > 0).all()
