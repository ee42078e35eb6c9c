"""Signal propagation through random MLPs in each phase: mean-field theory against measurement.

Two inputs start with correlation ``c1`` at the fixed variance q* (where it is finite, else
q^1 = 1) and go through one random MLP of ``propagation['width']`` units and
``propagation['depth']`` layers per (activation, phase); the recursion of
:func:`pruninglib.analysis.eoc.mean_field_propagation` is the theory. Nothing is trained.
"""
from __future__ import annotations

import math

import pandas as pd
import torch

from ...analysis import eoc
from ...config import ModelSpec
from ...runs.networks import seeded_network
from .inits import init_points

INPUT_DIM, CLASSES = 100, 10   # the random networks' input size and outputs
NETWORK_SEED, PAIRS_SEED = 0, 1


def start_point(activation: str, sigma_b: float, sigma_w: float, c1: float
                ) -> tuple[float, float]:
    """(q1, c1) the propagation starts from: q1 = q* where sigma_b^2 < q* < inf, else 1;
    c1 raised to the lowest correlation a bias allows, (2 sigma_b^2 - q1) / q1 (a bias
    correlates every pair: opposite inputs share it)."""
    q_fixed = eoc.q_star(activation, sigma_b, sigma_w)
    q1 = q_fixed if sigma_b ** 2 < q_fixed < math.inf else 1.0
    return q1, max(c1, (2 * sigma_b ** 2 - q1) / q1)


def propagation_frames(params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(theory, measured) for every activation in ``params.activations`` and every phase.

    theory: columns layer (1-based), q (= q1), q2, c, activation, phase; one row per layer.
    measured: the same plus ``pair``; one row per (input pair, layer), measured on one random
        network (torch seed 0; pairs drawn from generator seed 1).
    """
    prop = params.propagation
    theory_rows, measured_rows = [], []
    for activation in params.activations:
        for phase, (sigma_b, sigma_w) in init_points(params, activation).items():
            q1, c1 = start_point(activation, sigma_b, sigma_w, prop["c1"])
            net = seeded_network(
                ModelSpec("mlp", hidden=(prop["width"],) * prop["depth"],
                          activation=activation, sigma_w=sigma_w, sigma_b=sigma_b),
                (INPUT_DIM,), CLASSES, NETWORK_SEED)
            x1, x2 = eoc.input_pair(prop["pairs"], INPUT_DIM, q1, c1, sigma_b, sigma_w,
                                    torch.Generator().manual_seed(PAIRS_SEED))
            tag = dict(activation=activation, phase=phase)
            theory_rows.append(eoc.mean_field_propagation(
                activation, sigma_b, sigma_w, q1, q1, c1, prop["depth"]).frame().assign(**tag))
            measured_rows.append(eoc.propagate_correlations(net, x1, x2).frame().assign(**tag))
    theory = pd.concat(theory_rows).rename(columns={"q1": "q"})
    measured = pd.concat(measured_rows).rename(columns={"q1": "q"})
    return theory, measured


def largest_deviation(theory: pd.DataFrame, measured: pd.DataFrame,
                      value: str = "c") -> float:
    """Largest |mean over pairs of the measured ``value`` - theory| over (activation, phase,
    layer)."""
    keys = ["activation", "phase", "layer"]
    return float((measured.groupby(keys)[value].mean()
                  - theory.set_index(keys)[value]).abs().max())
