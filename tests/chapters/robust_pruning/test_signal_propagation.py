"""Signal propagation through random nets: start point, frames, theory against measurement."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruninglib.chapters.robust_pruning import signal_propagation as sp

from .frames import params


def test_the_start_point_is_the_fixed_variance_and_a_correlation_the_bias_allows():
    q1, c1 = sp.start_point("tanh", 1.0, math.sqrt(0.5), 0.0)
    assert q1 == pytest.approx(1.2149, abs=1e-4)               # q* of the ordered init
    assert c1 == pytest.approx((2 * 1.0 - q1) / q1)            # raised: the bias correlates
    assert sp.start_point("tanh", 0.2, 2.0, 0.5)[1] == 0.5
    assert sp.start_point("relu", 0.2, 2.0, 0.5) == (1.0, 0.5)  # q* = inf: start at 1


def test_propagation_frames_start_where_asked_and_follow_the_theory():
    theory, measured = sp.propagation_frames(params())
    assert len(theory) == 3 * 3 and len(measured) == 3 * 3 * 2      # phases x layers (x pairs)
    first = theory[theory["layer"] == 1].set_index("phase")["c"]
    assert first["chaotic"] == pytest.approx(0.5)
    assert {"q", "c", "activation", "phase"} <= set(measured.columns)
    assert sp.largest_deviation(theory, measured) < 0.5  # width 20: finite-width noise
    again = sp.propagation_frames(params())[1]
    pd.testing.assert_frame_equal(measured, again)        # seeded: the same network


def test_largest_deviation_compares_the_mean_over_pairs_with_the_theory():
    keys = dict(activation="tanh", phase="eoc", layer=1)
    theory = pd.DataFrame([{**keys, "c": 0.5}])
    measured = pd.DataFrame([{**keys, "pair": 0, "c": 0.4}, {**keys, "pair": 1, "c": 0.8}])
    assert sp.largest_deviation(theory, measured) == pytest.approx(0.1)
