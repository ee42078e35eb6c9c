"""The numbers the chapter's exercises quote (:func:`glue_values`, glued into the page with
myst-nb) and the tidy tables it offers for download (:func:`download_tables`).

Glued names start with ``ramanujan_``; a model-dependent name ends with ``_first`` or
``_last``: the first and the last model of the parameters' ``models`` (the MLP and Conv-4 at
the smoke and cpu profiles), so that the page builds whatever models a profile runs.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ...book import plots
from ...book.claims import Estimate
from ...book.estimates import t_quantile_975
from . import correlations as corr
from .mask_graphs import ID_COLUMNS
from .sweep import Runs
from .verdicts import TRAINED, claim_values

LAYER_COLUMNS = ("layer_index", "layer", "kind", "dim_in", "dim_out", "density", "edges",
                 "n_left", "n_right", "mean_degree_left", "mean_degree_right", "status",
                 "t1", "t2", "delta_r", "imdb", "narc")
"""Per-layer columns written to the ``layers`` download (besides the run's identifiers)."""


def half_width_with(estimate: Estimate, seeds: int) -> float:
    """The 95 % half-width ``estimate`` would have with ``seeds`` replicates of the same
    spread (Student t); inf without a spread (fewer than 2 replicates)."""
    if estimate.n < 2 or seeds < 2:
        return math.inf
    spread = estimate.half_width * math.sqrt(estimate.n) / t_quantile_975(estimate.n - 1)
    return t_quantile_975(seeds - 1) * spread / math.sqrt(seeds)


def _top_density_rho(frame: pd.DataFrame, model: str, column: str) -> tuple[float, float]:
    """(highest density of ``model``, mean over seeds of rho(accuracy, ``column``) there)."""
    mine = frame[frame["model.name"] == model]
    top = float(mine["prune.density"].max())
    rho = corr.rank_correlations(mine[mine["prune.density"] == top], [column])
    return top, float(rho["rho"].mean())


def glue_values(params: Mapping, results: Mapping[str, Estimate], frame: pd.DataFrame,
                pruned: pd.DataFrame) -> dict[str, float | int]:
    """Name -> number for the exercises: per position (first, last model) the R1 / R5
    estimates over all masks and among those that train, R5's half-width now and with two
    more seeds, the runs at chance, the highest density and rho(accuracy, Δr) there; the
    seeds; the authors' rho(accuracy, Δr) at their highest density. ``results``: the verdict
    estimates (:func:`.verdicts.estimates`); ``frame``: one row per mask
    (:func:`.correlations.predictors`); ``pruned``: one row per pruned run."""
    seeds = int(params["seeds"])
    out: dict[str, float | int] = {"ramanujan_seeds": seeds,
                                   "ramanujan_more_seeds": seeds + 2}
    positions = {"first": params["models"][0], "last": params["models"][-1]}
    for position, model in positions.items():
        label = plots.model_label(model)
        for claim in ("R1", "R5"):
            for suffix in ("", TRAINED):
                estimate = results[f"{claim}{suffix} · {label}"]
                name = f"ramanujan_{claim.lower()}{suffix.replace('-', '_')}_{position}"
                out[name] = estimate.mean
        r5 = results[f"R5 · {label}"]
        out[f"ramanujan_r5_half_{position}"] = r5.half_width
        out[f"ramanujan_r5_half_more_{position}"] = half_width_with(r5, seeds + 2)
        runs = pruned[pruned["model.name"] == model]
        out[f"ramanujan_runs_{position}"] = len(runs)
        out[f"ramanujan_chance_{position}"] = int((runs["test_accuracy"]
                                                   <= corr.AT_CHANCE).sum())
        top, rho = _top_density_rho(frame, model, "delta_r_mean")
        out[f"ramanujan_top_density_{position}"] = top
        out[f"ramanujan_dr_top_{position}"] = rho
    authors = corr.authors_frame()
    for model, name in (("resnet34", "resnet"), ("vgg16", "vgg")):
        top, rho = _top_density_rho(authors, model, "delta_r_mean")
        out["ramanujan_authors_top_density"] = top
        out[f"ramanujan_authors_dr_top_{name}"] = rho
    return out


def download_tables(runs: Runs, layers: pd.DataFrame, frame: pd.DataFrame,
                    lowest: Mapping[str, float]) -> dict[str, pd.DataFrame]:
    """The tidy frames behind the page's figures and verdicts, by download name:

    * ``runs``: one row per run (dense ones with variant ``dense`` and density 1): model,
      variant, density, seed, test accuracy (fraction), key;
    * ``masks``: one row per mask, accuracy and network metrics (:func:`.correlations.predictors`);
    * ``layers``: one row per masked layer of every mask and twin (``shuffled``), with the
      run's identifiers and :data:`LAYER_COLUMNS`;
    * ``correlations``: Spearman rho(accuracy, predictor) per model, density and seed, with
      the methods that entered, over all masks and among those that train (``masks``);
    * ``claim_values``: every claim's value per model and seed, with the densities that
      entered (``lowest``: model -> its lowest density, R3's).
    """
    ids = ["model.name", "variant", "prune.density", "seed", "test_accuracy", "key"]
    dense = runs.dense.assign(variant="dense", **{"prune.density": 1.0})
    run_rows = pd.concat([dense[ids], runs.pruned[ids]], ignore_index=True)
    layer_rows = layers[[c for c in (*ID_COLUMNS, "shuffled", *LAYER_COLUMNS)
                         if c in layers.columns]]
    rho = pd.concat([corr.rank_correlations(frame).assign(masks="all"),
                     corr.rank_correlations(corr.masks_that_train(frame))
                     .assign(masks="that train")], ignore_index=True)
    values = pd.concat([v.assign(claim=claim) for claim, v in
                        claim_values(frame, lowest).items()], ignore_index=True)
    return {"runs": run_rows, "masks": frame.reset_index(drop=True),
            "layers": layer_rows.reset_index(drop=True), "correlations": rho,
            "claim_values": values[["claim", *(c for c in values.columns if c != "claim")]]}
