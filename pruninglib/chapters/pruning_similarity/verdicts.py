"""The numbers the verdicts read: one value per independent replicate (reference network).

Replicate r is reference r with everything derived from it (:mod:`.study`): its pruned
networks (fine-tuning batch order of seed r), its from-scratch networks (seed r), and its
control (the dense networks of the other seeds compared with it). Every estimate is over the
references (n = ``references``, Student-t interval); paired differences are taken within a
replicate. The controls of two references share a dense pair (r, s), so the replicates are
independent networks but their controls are not fully independent.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...book.claims import Estimate, NoRows, samples
from ...book.plots import model_label
from .claims import b1b_id, claim_id
from .figures import MEASURE_LABELS
from .study import Arm, Study

OVER_REFERENCES = "over {n} independent references (each with its own pruning path)"


def _values(frame, column, where, minus=None, scale=1.0):
    """Per-replicate values (paired by seed = reference), or none where a variant, density or
    measure was left out."""
    try:
        return samples(frame, column, where=where, minus=minus, scale=scale)
    except NoRows:
        return []


def _estimate(values, study: Study, unit: str = "", note: str = "") -> Estimate:
    setting = OVER_REFERENCES.format(n=study.references) + (f"; {note}" if note else "")
    return Estimate.from_samples(values, unit=unit, setting=setting)


def pruned(study: Study, arm: Arm | None = None, density: float | None = None) -> dict:
    """The selection of the pruned networks of ``study`` (main recipe unless ``arm``) at
    ``density`` (default: the density of the claims)."""
    train = (arm or study.main).train
    return {"model.name": study.model, "variant": "magnitude",
            "density": study.claim_density if density is None else density,
            "finetune_epochs": train.epochs, "finetune_lr": train.lr}


def verdict_estimates(summary: pd.DataFrame, runs: pd.DataFrame,
                      grid: Mapping[str, Study]) -> dict[str, Estimate]:
    """Claim id -> our estimate for the main table (:func:`.claims.chapter_claims`), every
    model: accuracies in percentage points, similarities unitless (SVCCA), at the density of
    the claims and with the main fine-tuning recipe."""
    svcca = summary[summary["measure"] == "svcca"]
    out = {}
    for model, study in grid.items():
        at = pruned(study)
        dense = {"model.name": model, "variant": "dense"}
        out[claim_id("B1a", model)] = _estimate(
            _values(runs, "test_accuracy", dense, minus=at, scale=100), study, "pp")
        out[claim_id("B1c", model)] = _estimate(
            _values(svcca, "middle", pruned(study, density=max(study.densities)),
                    minus=pruned(study, density=min(study.densities))), study)
        for cid, variant in (("B2", "random"), ("B2u", "uniform"), ("B3", "reinit")):
            scratch = {"model.name": model, "variant": variant,
                       "density": study.claim_density}
            budget = study.scratch_budget(study.claim_density).epochs
            out[claim_id(cid, model)] = _estimate(
                _values(runs, "test_accuracy", at, minus=scratch, scale=100), study, "pp",
                note=f"{budget} epochs each")
        out[claim_id("A7", model)] = _estimate(
            _values(svcca, "ends_minus_middle_gap", at), study,
            note="minus the control's (ends − middle)")
    return out


def b1b_estimates(summary: pd.DataFrame, grid: Mapping[str, Study],
                  measures: Sequence[str]) -> dict[str, Estimate]:
    """Claim id -> B1b's estimate (middle-layer similarity gap to the control) for every
    model, fine-tuning arm and measure (:func:`.claims.b1b_claims`)."""
    out = {}
    for model, study in grid.items():
        for arm in study.arms:
            for measure in measures:
                rows = summary[summary["measure"] == measure]
                out[b1b_id(measure, arm.label, model)] = _estimate(
                    _values(rows, "middle_gap", pruned(study, arm)), study)
    return out


def b1b_frame(estimates: Mapping[str, Estimate], grid: Mapping[str, Study],
              measures: Sequence[str], criterion) -> pd.DataFrame:
    """B1b's estimates as a tidy frame: model, arm, epochs, rewound, measure, mean, low,
    high, n, verdict (by ``criterion``), one row per estimate, in claim order."""
    rows = []
    for model, study in grid.items():
        for arm in study.arms:
            for measure in measures:
                est = estimates[b1b_id(measure, arm.label, model)]
                rows.append({"model": model_label(model), "arm": arm.label,
                             "epochs": arm.train.epochs, "rewound": arm.rewound,
                             "measure": MEASURE_LABELS.get(measure, measure),
                             "mean": est.mean, "low": est.low, "high": est.high, "n": est.n,
                             "verdict": criterion.verdict(est)})
    return pd.DataFrame(rows)
