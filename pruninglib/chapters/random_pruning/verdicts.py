"""The chapter's measurements of its claims: one :class:`~pruninglib.book.claims.Estimate` per
row of :func:`.claims.declared`, from the frames the notebook computed.

Accuracy rows are paired by seed (same initial weights) and in percentage points; B2, B3a and
B3b compare networks trained from scratch with magnitude pruning of the trained network
(:mod:`.after_training`); B2-PaI compares uniform random masks with the best PaI method
chosen once by its mean (:func:`pruninglib.book.claims.best_other`). NTK rows are per-seed fits
(:mod:`.ntk_study`); cells whose mask removed a whole weight matrix do not enter the fits and
are counted ("entered: 58 of 60 cells").
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ...book import claims, plots
from . import after_training, ntk_study
from . import claims as chapter_claims
from .parity import REINIT, SHUFFLED


def accuracy_setting(params: Mapping) -> str:
    """Where the accuracy rows were measured: model, data, images, epochs, seeds."""
    return (f"{plots.model_label(params['model'])}, {params['dataset']}, "
            f"{params['train_subset'] or 'all'} training images, "
            f"{params['epochs']} epoch(s), {params['seeds']} seed(s)")


def ntk_setting(params: Mapping) -> str:
    """Where the NTK rows were measured: depth, widths, keep probabilities, inputs, seeds."""
    widths = params["ntk_widths"]
    qs = ", ".join(f"{q:g}" for q in params["ntk_keeps"])
    return (f"{params['ntk_depth']}-hidden-layer ReLU nets, widths {min(widths)}–{max(widths)},"
            f" q ∈ {{{qs}}}, {params['ntk_inputs']} {params['dataset']} inputs, "
            f"{params['ntk_seeds']} seed(s)")


def random_against_best(runs: pd.DataFrame, methods, density: float,
                        variant: str = "uniform") -> claims.Comparison:
    """``variant`` − the best of ``methods`` (chosen once by its mean over seeds, then paired
    by seed) at ``density``, pp; the comparison counts the methods that entered."""
    part = runs[runs["variant"].isin([variant, *methods])]
    return claims.best_other(part, "test_accuracy", variant, by="variant",
                             where={"prune.density": float(density)}, scale=100.0)


def fit_estimate(fits: pd.DataFrame, column: str, cells: pd.DataFrame,
                 setting: str) -> claims.Estimate:
    """Mean and 95 % CI over seeds of one fitted quantity, with the NTK cells that entered
    the fit (not collapsed) counted among all ``cells`` of its domain."""
    return claims.Estimate.from_samples(
        fits[column], setting=setting, entered=int((~cells["collapsed"]).sum()),
        total=len(cells), what="cells")


def estimates(params: Mapping, runs: pd.DataFrame, width_gaps: pd.DataFrame,
              ntk: pd.DataFrame, compared: pd.DataFrame) -> dict[str, claims.Estimate]:
    """Claim id -> our estimate, for the rows of :func:`.claims.declared` (``params``).

    runs: the :func:`.parity.parity_runs` pruned frame; width_gaps: :func:`.parity.width_gaps`
    (dense − mask, pp, per width and seed); ntk: the :func:`.ntk_study.ntk_sweep` frame;
    compared: :func:`.after_training.with_uniform` (magnitude pruning after training and the
    networks trained from scratch it is compared with).
    """
    rows = chapter_claims.declared(params)
    methods = list(params["methods"])
    moderate = {"prune.density": params["moderate_density"]}
    setting = accuracy_setting(params)
    acc = {"value": "test_accuracy", "scale": 100, "unit": "pp", "setting": setting}

    def versus(where, minus, frame=runs):
        return claims.estimate(frame, **acc, where=where, minus=minus)

    def against_magnitude(variant):
        return versus({"variant": variant, **moderate},
                      {"variant": after_training.MAGNITUDE, **moderate}, compared)

    su = [m for m in chapter_claims.SU_METHODS if m in methods]
    out = {
        "B2": against_magnitude(after_training.UNIFORM),
        "B2-PaI": random_against_best(runs, methods, params["moderate_density"]).estimate(
            unit="pp", setting=setting),
        "B3a": against_magnitude(after_training.LABELS["random"]),
        "B3b": against_magnitude(after_training.LABELS["reinit"]),
        **{i: versus({"variant": f"{m} {SHUFFLED}"}, {"variant": m})
           for i, m in zip(chapter_claims.ids(rows, "F1"), methods)},
        **{i: versus({"variant": f"{m} {REINIT}"}, {"variant": m})
           for i, m in zip(chapter_claims.ids(rows, "F2"), methods)},
        **{i: versus({"variant": "smart_ratio"}, {"variant": m})
           for i, m in zip(chapter_claims.ids(rows, "SU"), su)},
        "L1": width_gap_change(width_gaps, "erk", params["width_multipliers"], setting),
    }
    return {**out, **ntk_estimates(ntk, ntk_setting(params))}


def width_gap_change(width_gaps: pd.DataFrame, mask: str, multipliers,
                     setting: str = "") -> claims.Estimate:
    """Per seed, the dense − ``mask`` gap at the widest multiplier minus the gap at the
    narrowest (pp): negative when width brings the mask closer to dense."""
    lo, hi = float(min(multipliers)), float(max(multipliers))
    return claims.estimate(
        width_gaps[width_gaps["reference"] == mask], "difference", unit="pp",
        setting=f"{setting}; widths ×{lo:g} and ×{hi:g}" if setting else "",
        where={"model.width": hi}, minus={"model.width": lo})


def ntk_estimates(ntk: pd.DataFrame, setting: str = "") -> dict[str, claims.Estimate]:
    """N1, N2a, N2b and N3 from an :func:`.ntk_study.ntk_sweep` frame (every keep and width;
    N1 and N2b at its widest width, N2b over q < 1)."""
    widest = ntk[ntk["width"] == ntk["width"].max()]
    pruned = widest[widest["keep"] < 1]
    return {
        "N1": fit_estimate(ntk_study.scale_exponents(ntk), "exponent", widest, setting),
        "N2a": fit_estimate(ntk_study.width_exponents(ntk), "exponent", ntk, setting),
        "N2b": claims.Estimate.from_samples(
            pruned.groupby("seed")["scale_rescaled"].mean(), setting=setting,
            entered=int((~pruned["collapsed"]).sum()), total=len(pruned), what="cells"),
        "N3": fit_estimate(ntk_study.collapse_exponents(ntk), "ratio", ntk, setting),
    }

