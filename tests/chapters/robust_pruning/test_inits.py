"""The three initialisations and the phase diagrams' data."""
from __future__ import annotations

import math

import pytest

from pruninglib.analysis import eoc
from pruninglib.chapters.robust_pruning import inits

from .frames import params


def test_init_points_put_ours_on_the_eoc_and_the_others_where_the_parameters_say():
    points = inits.init_points(params(), "tanh")
    assert list(points) == list(inits.PHASES)
    assert eoc.chi("tanh", *points["eoc"]) == pytest.approx(1.0, abs=1e-9)
    assert points["ordered"] == (1.0, pytest.approx(math.sqrt(0.5)))
    assert points["chaotic"] == (0.2, pytest.approx(2.0))
    assert inits.init_points(params(eoc_point="reference"), "tanh")["eoc"] == (0.2, 1.2981)
    # the reference has no ReLU point: ours (He initialization) is used
    assert inits.init_points(params(eoc_point="reference"), "relu")["eoc"] == \
        (0.0, pytest.approx(math.sqrt(2.0)))
    with pytest.raises(ValueError, match="eoc_point='theirs' is not allowed: ours, reference"):
        inits.init_points(params(eoc_point="theirs"), "tanh")


def test_init_table_has_one_row_per_activation_and_phase():
    table = inits.init_table(params(activations=["tanh", "relu"]))
    assert len(table) == 6
    phases = table.set_index(["activation", "init"])["phase"]
    assert phases[("tanh", "ordered")] == "ordered" and phases[("tanh", "chaotic")] == "chaotic"
    assert phases[("relu", "eoc")] == "eoc"


def test_phase_diagram_data_marks_ours_the_reference_and_the_inits_used():
    diagrams, curves, marks = inits.phase_diagram_data(params(phase_activations=["tanh",
                                                                                 "elu"]))
    assert set(diagrams) == {"tanh", "elu"} and len(diagrams["tanh"]) == 3 * 3
    sigma_bs, sigma_ws = curves["tanh"]
    assert list(sigma_bs) == [0.0, 0.5, 1.0]
    assert eoc.chi("tanh", 0.5, sigma_ws[1]) == pytest.approx(1.0, abs=1e-6)
    by_activation = marks.groupby("activation")["mark"].apply(list).to_dict()
    assert by_activation["tanh"] == ["our_eoc", "reference_eoc", "ordered", "chaotic"]
    assert by_activation["elu"] == ["our_eoc", "reference_eoc"]   # elu is not trained here


def test_near_critical_inits_sit_at_the_asked_chi_beside_the_eoc_point():
    p = params(near_critical_chi=[1.1, 0.9], activations=["tanh", "relu"])
    for activation in p.activations:
        points = inits.trained_points(p, activation)
        assert list(points) == ["ordered", "near_ordered", "eoc", "near_chaotic", "chaotic"]
        for phase, target in (("near_ordered", 0.9), ("near_chaotic", 1.1)):
            sigma_b, sigma_w = points[phase]
            assert sigma_b == points["eoc"][0]
            assert eoc.chi(activation, sigma_b, sigma_w) == pytest.approx(target, abs=1e-6)
    assert inits.trained_points(params(), "tanh").keys() == {"ordered", "eoc", "chaotic"}
    with pytest.raises(ValueError, match="near_critical_chi"):
        inits.near_critical_points(params(near_critical_chi=[0.9, 0.95]), "tanh")
