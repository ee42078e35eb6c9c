"""Rank correlations across methods, checked against hand computations and closed forms."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from pruninglib.analysis.ranks import argmax_by, partial_spearman, spearman, spearman_by


def test_spearman_matches_the_closed_form_without_ties():
    x = [0.91, 0.85, 0.88, 0.10, 0.87, 0.90]
    y = [3.0, 1.0, 2.5, -0.5, 4.0, 2.0]
    # ranks x: 6 2 4 1 3 5, ranks y: 5 2 4 1 6 3 -> sum d^2 = 1+0+0+0+9+4 = 14
    assert spearman(x, y) == pytest.approx(1 - 6 * 14 / (6 * 35))
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)


def test_spearman_drops_nan_pairs_and_refuses_degenerate_input():
    assert spearman([1, 2, 3, np.nan], [1, 3, 2, 5]) == pytest.approx(0.5)
    assert math.isnan(spearman([1, 2], [2, 1]))             # fewer than 3 pairs
    assert math.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4]))  # constant: no ranking
    # ties get their average rank, as scipy does
    assert spearman([1, 1, 2, 3], [1, 2, 3, 4]) == pytest.approx(
        spearmanr([1, 1, 2, 3], [1, 2, 3, 4]).statistic)


def test_partial_spearman_equals_the_correlation_of_rank_residuals():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(12)
    x = z + 0.5 * rng.standard_normal(12)
    y = z + 0.5 * rng.standard_normal(12)

    def residual(a, b):  # least-squares residual of a on [1, b]
        design = np.column_stack([np.ones_like(b), b])
        return a - design @ np.linalg.lstsq(design, a, rcond=None)[0]

    rx, ry, rz = (pd.Series(v).rank().to_numpy() for v in (x, y, z))
    expected = np.corrcoef(residual(rx, rz), residual(ry, rz))[0, 1]
    assert partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-12)
    # x and y only related through z: controlling for z removes most of the correlation
    assert abs(partial_spearman(x, y, z)) < abs(spearman(x, y))


def test_partial_spearman_by_hand_and_degenerate_cases():
    x, y, z = [1, 2, 3, 4], [1, 3, 2, 4], [1, 2, 4, 3]
    # sum d^2 = 2, 2, 6 -> r_xy = r_xz = 0.8, r_yz = 0.4:
    # (0.8 - 0.8 * 0.4) / sqrt((1 - 0.64)(1 - 0.16)) = 0.48 / sqrt(0.3024)
    assert partial_spearman(x, y, z) == pytest.approx(0.48 / math.sqrt(0.3024))
    assert math.isnan(partial_spearman(x, y, x))          # z ranks exactly like x
    assert math.isnan(partial_spearman(x[:3], y[:3], z[:3]))  # too few points


def test_spearman_by_groups_and_counts():
    frame = pd.DataFrame({
        "density": [0.1] * 4 + [0.2] * 4,
        "acc": [1, 2, 3, 4, 4, 3, 2, 1],
        "metric": [10, 20, 30, 40, 1, 2, np.nan, 4],
        "control": [1, 2, 4, 3, 1, 2, 3, 4],
    })
    table = spearman_by(frame, "acc", "metric", "density")
    assert list(table.columns) == ["density", "rho", "n"]
    assert table["rho"].tolist() == pytest.approx([1.0, -1.0])
    assert table["n"].tolist() == [4, 3]
    partial = spearman_by(frame, "acc", "metric", ["density"], given="control")
    assert partial.loc[0, "rho"] == pytest.approx(1.0)   # metric ranks like acc exactly
    assert math.isnan(partial.loc[1, "rho"])             # 3 complete triples: too few


def test_argmax_by_names_the_best_label_per_group():
    frame = pd.DataFrame({"d": [1, 1, 1, 2, 2, 3], "method": list("abcabc"),
                          "v": [0.5, 2.0, np.nan, np.nan, -1.0, np.nan]})
    best = argmax_by(frame, "v", "d", "method")
    assert best[["d", "method"]].values.tolist() == [[1, "b"], [2, "b"]]
