"""The three initialisations the chapter compares, and the phase diagrams they sit on.

Every function takes the chapter's parameters ``params`` (``notebooks/profiles.yml``, section
``robust_pruning``; attributes ``eoc_point``, ``eoc_sigma_b``, ``ordered``, ``chaotic``,
``activations``, ``phase_activations``, ``phase_grid``, ``near_critical_chi``). An
initialisation is a pair
``(sigma_b, sigma_w)``: biases ~ N(0, sigma_b^2), weights ~ N(0, sigma_w^2 / fan-in).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ...analysis import eoc

PHASES = ("ordered", "eoc", "chaotic")
NEAR_CRITICAL = {"near_ordered": "below", "near_chaotic": "above"}  # chi < 1 / chi > 1
TRAIN_PHASES = ("ordered", "near_ordered", "eoc", "near_chaotic", "chaotic")
EOC_POINTS = ("ours", "reference")
SIGMA_B_RANGE = (0.0, 1.0)   # axes of the phase diagrams
SIGMA_W_RANGE = (0.5, 3.0)


def init_points(params, activation: str) -> dict[str, tuple[float, float]]:
    """``{phase: (sigma_b, sigma_w)}`` of the ordered, EOC and chaotic initialisations of
    ``activation``. The EOC point is ours (chi = 1 exactly at ``eoc_sigma_b``) or, with
    ``eoc_point = 'reference'``, the one hard-coded in the authors' code where it has one."""
    if params.eoc_point not in EOC_POINTS:
        raise ValueError(f"eoc_point={params.eoc_point!r} is not allowed: "
                         + ", ".join(EOC_POINTS))
    sigma_b = params.eoc_sigma_b[activation]
    if params.eoc_point == "reference" and activation in eoc.REFERENCE_EOC:
        sigma_b, sigma_w = eoc.REFERENCE_EOC[activation]
    else:
        sigma_w = eoc.eoc_sigma_w(activation, sigma_b)
    return {"ordered": (params.ordered["sigma_b"], math.sqrt(params.ordered["sigma_w2"])),
            "eoc": (sigma_b, sigma_w),
            "chaotic": (params.chaotic["sigma_b"], math.sqrt(params.chaotic["sigma_w2"]))}


def sigma_w_at_chi(activation: str, sigma_b: float, target: float) -> float:
    """The sigma_w at which chi(sigma_b, sigma_w) = ``target`` (chi grows with sigma_w),
    found between 0.1 and 10."""
    if not 0.0 < target < 10.0:
        raise ValueError(f"near_critical_chi={target!r} is not allowed: a chi in (0, 10)")
    return float(brentq(lambda w: eoc.chi(activation, sigma_b, w) - target, 0.1, 10.0,
                        xtol=1e-10))


def near_critical_points(params, activation: str) -> dict[str, tuple[float, float]]:
    """``{near_ordered: (sigma_b, sigma_w), near_chaotic: ...}``: at the EOC point's sigma_b,
    the sigma_w whose chi is the ``near_critical_chi`` value below 1 and the one above 1
    (e.g. 0.9 and 1.1); empty without that parameter. Close enough to the EOC that the dense
    deep net still trains, so pruning damage can be compared across phases."""
    targets = sorted(getattr(params, "near_critical_chi", None) or [])
    if targets and (len(targets) != 2 or not targets[0] < 1.0 < targets[1]):
        raise ValueError(f"near_critical_chi={targets!r} is not allowed: one chi below 1 "
                         "and one above, e.g. [0.9, 1.1]")
    if not targets:
        return {}
    sigma_b = init_points(params, activation)["eoc"][0]
    return {name: (sigma_b, sigma_w_at_chi(activation, sigma_b, chi))
            for name, chi in zip(NEAR_CRITICAL, targets)}


def trained_points(params, activation: str) -> dict[str, tuple[float, float]]:
    """The initialisations of the trained MLPs, in :data:`TRAIN_PHASES` order: the three of
    :func:`init_points` and the :func:`near_critical_points`."""
    points = {**init_points(params, activation), **near_critical_points(params, activation)}
    return {phase: points[phase] for phase in TRAIN_PHASES if phase in points}


def init_table(params) -> pd.DataFrame:
    """One row per (activation, init): sigma_b, sigma_w, q_star, chi, phase and depth_scale
    (layers) of :func:`pruninglib.analysis.eoc.summary`."""
    return pd.DataFrame([{"activation": a, "init": name, **eoc.summary(a, *point)}
                         for a in params.activations
                         for name, point in trained_points(params, a).items()])


def phase_diagram_data(params) -> tuple[dict, dict, pd.DataFrame]:
    """What :func:`.figures.phase_diagrams` draws, for every ``phase_activations`` entry:

    diagrams: activation -> chi over a ``phase_grid`` x ``phase_grid`` grid of
        (sigma_b in [0, 1], sigma_w in [0.5, 3]);
    curves: activation -> (sigma_bs, EOC sigma_w at each sigma_b);
    marks: one row per point drawn on top: activation, sigma_b, sigma_w and ``mark`` (one of
        ``our_eoc``, ``reference_eoc`` (the authors' code's EOC point), and the ``ordered`` /
        ``chaotic`` inits of the activations trained here).
    """
    sigma_bs = np.linspace(*SIGMA_B_RANGE, params.phase_grid)
    sigma_ws = np.linspace(*SIGMA_W_RANGE, params.phase_grid)
    diagrams = {a: eoc.phase_diagram(a, sigma_bs, sigma_ws) for a in params.phase_activations}
    curves = {a: (sigma_bs, eoc.eoc_curve(a, sigma_bs)) for a in params.phase_activations}
    marks = []
    for a in params.phase_activations:
        sigma_b = params.eoc_sigma_b.get(a, 0.2)
        marks.append(dict(activation=a, sigma_b=sigma_b, sigma_w=eoc.eoc_sigma_w(a, sigma_b),
                          mark="our_eoc"))
        if a in eoc.REFERENCE_EOC:
            marks.append(dict(activation=a, sigma_b=eoc.REFERENCE_EOC[a][0],
                              sigma_w=eoc.REFERENCE_EOC[a][1], mark="reference_eoc"))
        if a in params.activations:
            for phase in ("ordered", "chaotic"):
                sigma_b, sigma_w = init_points(params, a)[phase]
                marks.append(dict(activation=a, sigma_b=sigma_b, sigma_w=sigma_w, mark=phase))
    return diagrams, curves, pd.DataFrame(marks)
